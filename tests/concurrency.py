"""Real concurrency for the tests: threads racing with their own database connections, and
a throwaway PostgreSQL cluster (started as the ``postgres`` user: machines run as root) on
which a second pytest run repeats a list of test modules."""

from __future__ import annotations

import glob
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

ROOT = Path(__file__).resolve().parents[1]


def race(worker, threads: int = 6) -> list:
    """Run ``worker`` in ``threads`` threads released together; their results, concatenated."""
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


def pg_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def on_postgresql() -> bool:
    """True inside the second run (the caller then checks the vendor and returns)."""
    if os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"):
        assert connection.vendor == "postgresql"
        return True
    return False


def run_on_postgresql(test_paths: list[str], *, name: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """Start a cluster on a free port, run ``test_paths`` there, stop it; fail with the
    run's output when it fails."""
    initdb, postgres = pg_binary("initdb"), pg_binary("postgres")
    if not initdb or not postgres:
        pytest.fail("PostgreSQL is not installed: run scripts/ensure_packages.sh postgresql")
    run_as = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
    workdir = tempfile.mkdtemp(prefix=f"{name}-pg-")
    if run_as:
        shutil.chown(workdir, "postgres")
    data, port = f"{workdir}/data", free_port()
    subprocess.run([*run_as, initdb, "-D", data, "-A", "trust", "-U", "postgres"], check=True, capture_output=True)
    server = subprocess.Popen([*run_as, postgres, "-D", data, "-p", str(port), "-k", workdir, "-h", "127.0.0.1",
                               "-c", "fsync=off", "-c", "max_connections=200"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, 30)
        env = {**os.environ, "TEST_DATABASE_URL": f"postgres://postgres@127.0.0.1:{port}/{name}"}
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *test_paths],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
        return result
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(workdir, ignore_errors=True)
