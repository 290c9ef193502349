"""``make bench-pg``: every benchmark on a throwaway PostgreSQL cluster, the one the tests
start (``tools/throwaway_postgres.py``: Debian's postgresql, ``initdb`` as the
``postgres`` user, a free port, fsync off), removed afterwards. Each benchmark gets its own
database on it (``bench.db.fresh_database``). Figures go to
``bench/results/latest-postgresql.json``.

    python -m bench.pg [names...]          # e.g. BENCH_QUICK=1 python -m bench.pg dispatch
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tools.throwaway_postgres import PostgresMissing, throwaway_cluster

ROOT = Path(__file__).resolve().parent.parent


def main(names: list[str]) -> int:
    try:
        with throwaway_cluster("bench") as port:
            env = {**os.environ, "BENCH_DATABASE_URL": f"postgres://postgres@127.0.0.1:{port}/postgres",
                   "BENCH_RESULTS_FILE": os.environ.get("BENCH_RESULTS_FILE", "latest-postgresql.json")}
            return subprocess.run([sys.executable, "-m", "bench", *names], cwd=ROOT, env=env, check=False).returncode
    except PostgresMissing as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
