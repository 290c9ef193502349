"""The fault tests at full size: a 100k-recipient campaign under 5 % 429, 3 % 5xx, 1 % timeouts
after acceptance and 1 % dropped connections must still reach every recipient exactly once.

Runs ``tests/reliability/test_faults.py`` (batched and personalised cases) with
RELIABILITY_RECIPIENTS=100000 (BENCH_FAULT_RECIPIENTS to change) in a pytest subprocess (on
PostgreSQL with BENCH_DATABASE_URL: pytest-django's test database on that server); the
default ``make test`` runs the same tests with 2,000. Figures: ``recipients``, ``seconds``,
``per_s`` (recipients/s through faults, both tests), ``passed``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench import FRESH_DB_ENV, size
from bench.db import is_postgres

ROOT = Path(__file__).resolve().parent.parent
RECIPIENTS = size("BENCH_FAULT_RECIPIENTS", 100_000, 2_000)


def run() -> dict:
    env = {**os.environ, "RELIABILITY_RECIPIENTS": str(RECIPIENTS)}
    env.pop("DATABASE_URL", None)
    if is_postgres(os.environ.get(FRESH_DB_ENV, "")):  # bench-pg: the tests' own database on that server
        env["TEST_DATABASE_URL"] = os.environ[FRESH_DB_ENV]
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:logging", "-o", "timeout=7200", "--tb=short",
                             "tests/reliability/test_faults.py"],
                            cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    # batched: RECIPIENTS; personalised: RECIPIENTS // 4; locked DB: RECIPIENTS // 2
    total = RECIPIENTS + RECIPIENTS // 4 + RECIPIENTS // 2
    figures = {"recipients": RECIPIENTS, "seconds": round(elapsed, 1), "per_s": round(total / elapsed, 1),
               "passed": result.returncode == 0}
    if result.returncode:
        figures["tail"] = (result.stdout + result.stderr)[-1500:]
    print(f"faults_100k: {json.dumps(figures)[:400]}", file=sys.stderr)
    return {"faults_100k": figures}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
