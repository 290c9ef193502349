"""The fault tests again, on PostgreSQL: a throwaway cluster started as the ``postgres`` user
(Debian's postgresql; machines run as root) on a free port, and a second pytest run with
TEST_DATABASE_URL pointing at it. Part of the default ``make test`` (marker ``postgres``)."""

from __future__ import annotations

import pytest

from tests.concurrency import on_postgresql, run_on_postgresql

FAULT_TESTS = ["tests/reliability/test_faults.py", "tests/reliability/test_worker_faults.py",
               "tests/reliability/test_webhook_faults.py"]


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db
def test_fault_tests_on_postgresql():
    if on_postgresql():
        return
    run_on_postgresql(FAULT_TESTS, name="reliability")
