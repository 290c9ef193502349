"""The fault tests again, on PostgreSQL: a throwaway cluster started as the ``postgres`` user
(Debian's postgresql; machines run as root) on a free port, and a second pytest run with
TEST_DATABASE_URL pointing at it. Part of the default ``make test`` (marker ``postgres``)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.db import connection

from tests.conftest import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
FAULT_TESTS = ["tests/reliability/test_faults.py", "tests/reliability/test_worker_faults.py",
               "tests/reliability/test_webhook_faults.py"]


def pg_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


@contextlib.contextmanager
def postgres_cluster():
    """A throwaway cluster (trust auth, user ``postgres``) on a free port; yields its URL
    without a database name. Stopped on exit."""
    initdb, postgres = pg_binary("initdb"), pg_binary("postgres")
    if not initdb or not postgres:
        pytest.fail("PostgreSQL is not installed: run scripts/ensure_packages.sh postgresql")
    run_as = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
    workdir = tempfile.mkdtemp(prefix="reliability-pg-")
    if run_as:
        shutil.chown(workdir, "postgres")
    data, port = f"{workdir}/data", free_port()
    subprocess.run([*run_as, initdb, "-D", data, "-A", "trust", "-U", "postgres"], check=True, capture_output=True)
    server = subprocess.Popen([*run_as, postgres, "-D", data, "-p", str(port), "-k", workdir, "-h", "127.0.0.1",
                               "-c", "fsync=off", "-c", "max_connections=200"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, 30)
        yield f"postgres://postgres@127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(workdir, ignore_errors=True)


def pytest_on_postgresql(database: str, *args: str) -> subprocess.CompletedProcess | None:
    """Run pytest on ``args`` in a second process against a throwaway cluster; None when this
    process already runs on PostgreSQL (that second process itself)."""
    if os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"):
        assert connection.vendor == "postgresql"
        return None
    with postgres_cluster() as url:
        env = {**os.environ, "TEST_DATABASE_URL": f"{url}/{database}"}
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return result


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db
def test_fault_tests_on_postgresql():
    pytest_on_postgresql("reliability", *FAULT_TESTS)
