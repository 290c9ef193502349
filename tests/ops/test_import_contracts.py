"""The import contracts of `.importlinter` (what `make lint` checks after ruff) hold."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
# The contracts name the three messaging apps; before that split lands, lint-imports must
# fail (missing layers), and the strict xfail turns an unexpected pass into a failure.
SPLIT = (ROOT / "messaging" / "campaigns").is_dir()


def _lint_imports(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )


@pytest.mark.xfail(not SPLIT, reason="contracts name messaging.campaigns/catalogue/webhooks", strict=True)
def test_every_import_contract_is_kept():
    run = _lint_imports()
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


@pytest.mark.parametrize("contract", ["kernel-never-imports-ops", "bics-is-plain-python", "nothing-imports-bench"])
def test_contracts_that_do_not_depend_on_the_split_are_kept(contract):
    run = _lint_imports("--contract", contract)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "1 kept, 0 broken" in run.stdout
