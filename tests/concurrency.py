"""Real concurrency for the tests: threads racing with their own database connections, and
a throwaway PostgreSQL cluster (started as the ``postgres`` user: machines run as root) on
which a second pytest run repeats a list of test modules."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

import pytest
from django.db import connection, connections

from tools.throwaway_postgres import PostgresMissing, pg_binary, throwaway_cluster

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
    deadline = time.monotonic() + 60
    for t in pool:
        t.join(max(0.0, deadline - time.monotonic()))
    stuck = [t for t in pool if t.is_alive()]
    assert not stuck, "threads still running after 60 s:\n" + "".join(
        "".join(traceback.format_stack(sys._current_frames()[t.ident])) for t in stuck)
    assert not errors, errors
    return results


def on_postgresql() -> bool:
    """True inside the second run (the caller then checks the vendor and returns)."""
    if os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"):
        assert connection.vendor == "postgresql"
        return True
    return False


def run_on_postgresql(test_paths: list[str], *, name: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """Start a cluster on a free port, run ``test_paths`` there, stop it; fail with the
    run's output when it fails."""
    if not pg_binary("initdb") or not pg_binary("postgres"):
        pytest.fail(str(PostgresMissing()))
    with throwaway_cluster(name) as port:
        env = {**os.environ, "TEST_DATABASE_URL": f"postgres://postgres@127.0.0.1:{port}/{name}"}
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *test_paths],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return result


def lock_file_free(path: str) -> bool:
    """Whether another holder of ``path``'s ``flock`` (another open file, as another process
    has) could take it exclusive right now."""
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # (and its lock with it)
    return True
