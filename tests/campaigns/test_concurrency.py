"""Claims under real concurrency: threads with their own database connections race for the
batches of one campaign; every batch is claimed exactly once. On PostgreSQL this exercises
SELECT … FOR UPDATE SKIP LOCKED; ``test_engine_on_postgresql`` reruns the engine tests there."""

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from django.db import connection, connections

from messaging.campaigns.models import Campaign, SendBatch
from messaging.campaigns.services.engine import batch_claim, claim_next
from tests.conftest import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]


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


def make_batches(make_campaign, n):
    campaign = make_campaign()
    Campaign.objects.filter(pk=campaign.pk).update(state="sending")
    SendBatch.objects.bulk_create([SendBatch(campaign=campaign, number=i + 1, custom=f"race-{i}") for i in range(n)])
    return campaign


@pytest.mark.django_db(transaction=True)
def test_workers_racing_for_batches_claim_each_once(make_campaign):
    campaign = make_batches(make_campaign, 40)

    def worker():
        mine = []
        while claims := claim_next(campaign_id=campaign.pk, sample=False, limit=3):
            mine.extend(batch_id for batch_id, _token in claims)
        return mine

    claimed = race(worker)
    assert sorted(claimed) == sorted(SendBatch.objects.values_list("pk", flat=True))
    assert set(SendBatch.objects.values_list("attempts", flat=True)) == {1}


@pytest.mark.django_db(transaction=True)
def test_workers_racing_for_one_batch_only_one_wins(make_campaign):
    batch = make_batches(make_campaign, 1).batches.get()
    tokens = race(lambda: [t for t in [batch_claim(batch.pk)] if t])
    assert len(tokens) == 1


@pytest.mark.postgres
@pytest.mark.slow
def test_engine_on_postgresql():
    """Start a throwaway PostgreSQL cluster (as the postgres user) and run the engine tests on it."""
    if os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"):
        assert connection.vendor == "postgresql"
        return
    initdb = shutil.which("initdb")
    if not initdb:
        pytest.skip("PostgreSQL is not installed")
    run_as = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
    workdir = tempfile.mkdtemp(prefix="campaigns-pg-")
    if run_as:
        shutil.chown(workdir, "postgres")
    data, port = f"{workdir}/data", free_port()
    subprocess.run([*run_as, initdb, "-D", data, "-A", "trust", "-U", "postgres"], check=True, capture_output=True)
    server = subprocess.Popen([*run_as, shutil.which("postgres"), "-D", data, "-p", str(port), "-k", workdir,
                               "-h", "127.0.0.1", "-c", "fsync=off"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, 30)
        env = {**os.environ, "TEST_DATABASE_URL": f"postgres://postgres@127.0.0.1:{port}/campaigns"}
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                 "tests/campaigns/test_concurrency.py", "tests/campaigns/test_engine_sandbox.py",
                                 "tests/campaigns/test_lifecycle.py"],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(workdir, ignore_errors=True)
