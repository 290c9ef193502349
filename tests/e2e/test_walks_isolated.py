"""The two whole-day browser walks (every page under axe as each role; the acceptance walk on a
fresh database) in a pytest process of their own, on a database of their own."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WALKS = ["tests/e2e/test_axe_every_page.py", "tests/e2e/test_staff_flow.py"]

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_the_browser_walks_pass_on_a_database_of_their_own(tmp_path):
    if os.environ.get("E2E_WALK_CHILD"):
        pytest.skip("this is the child run")
    env = {**os.environ, "E2E_WALK_CHILD": "1", "TEST_SQLITE_NAME": str(tmp_path / "walks.sqlite3")}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *WALKS],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "3 passed" in result.stdout, result.stdout[-2000:]
