"""Claims under real concurrency: several threads (own database connections) race for the
batches of one bulk call; every batch is claimed exactly once. On PostgreSQL this exercises
SELECT … FOR UPDATE SKIP LOCKED; ``test_claims_on_postgresql`` reruns this module there."""

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from django.db import connection, connections

from tests.conftest import free_port, wait_for_port
from voice.models import BulkCall, BulkCallBatch, BulkCallRecipient
from voice.services.bulk import batch_claim, batch_claim_next

ROOT = Path(__file__).resolve().parents[2]


def make_bulk(batches: int) -> BulkCall:
    bulk = BulkCall.objects.create(name="race", bridge="+3225551000", flow_id="1", state=BulkCall.State.SENDING)
    rows = BulkCallBatch.objects.bulk_create([BulkCallBatch(bulk_call=bulk, number=n + 1) for n in range(batches)])
    BulkCallRecipient.objects.bulk_create([BulkCallRecipient(bulk_call=bulk, batch=b, to=f"+324700{n:05d}")
                                           for n, b in enumerate(rows)])
    return bulk


def race(worker, threads: int = 6):
    results, errors = [], []
    barrier = threading.Barrier(threads)

    def run():
        try:
            barrier.wait()
            results.extend(worker())
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    pool = [threading.Thread(target=run) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(60)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_workers_racing_for_batches_claim_each_once():
    bulk = make_bulk(30)

    def worker():
        mine = []
        while (claimed := batch_claim_next(bulk_call_id=bulk.pk)) is not None:
            mine.append(claimed[0])
        return mine

    claimed = race(worker)
    assert sorted(claimed) == sorted(bulk.batches.values_list("pk", flat=True))
    assert set(BulkCallBatch.objects.values_list("claims", flat=True)) == {1}


@pytest.mark.django_db(transaction=True)
def test_workers_racing_for_one_batch_only_one_wins():
    batch = make_bulk(1).batches.get()
    tokens = race(lambda: [t for t in [batch_claim(batch.pk)] if t])
    assert len(tokens) == 1


@pytest.mark.postgres
@pytest.mark.slow
def test_claims_on_postgresql():
    """Start a throwaway PostgreSQL cluster (as the postgres user) and run this module on it."""
    if os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"):
        assert connection.vendor == "postgresql"
        return
    initdb = shutil.which("initdb")
    if not initdb:
        pytest.skip("PostgreSQL is not installed")
    run_as = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
    workdir = tempfile.mkdtemp(prefix="voice-pg-")
    if run_as:
        shutil.chown(workdir, "postgres")
    data, port = f"{workdir}/data", free_port()
    subprocess.run([*run_as, initdb, "-D", data, "-A", "trust", "-U", "postgres"], check=True,
                   capture_output=True)
    server = subprocess.Popen([*run_as, shutil.which("postgres"), "-D", data, "-p", str(port), "-k", workdir,
                               "-h", "127.0.0.1", "-c", "fsync=off"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, 30)
        env = {**os.environ, "TEST_DATABASE_URL": f"postgres://postgres@127.0.0.1:{port}/voice"}
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                 "tests/voice/test_concurrency.py", "tests/voice/test_bulk.py"],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(workdir, ignore_errors=True)
