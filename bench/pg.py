"""``make bench-pg``: every benchmark on a throwaway PostgreSQL cluster, the one the tests
start (``tests/concurrency.py``, ``run_on_postgresql``: Debian's postgresql, ``initdb`` as the
``postgres`` user, a free port, fsync off), removed afterwards. Each benchmark gets its own
database on it (``bench.db.fresh_database``). Figures go to
``bench/results/latest-postgresql.json``.

    python -m bench.pg [names...]          # e.g. BENCH_QUICK=1 python -m bench.pg dispatch
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.concurrency import pg_binary
from tests.conftest import free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent


def main(names: list[str]) -> int:
    initdb, postgres = pg_binary("initdb"), pg_binary("postgres")
    if not initdb or not postgres:
        print("PostgreSQL is not installed: scripts/ensure_packages.sh postgresql", file=sys.stderr)
        return 2
    run_as = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
    workdir = tempfile.mkdtemp(prefix="bench-pg-")
    if run_as:
        shutil.chown(workdir, "postgres")
    data, port = f"{workdir}/data", free_port()
    subprocess.run([*run_as, initdb, "-D", data, "-A", "trust", "-U", "postgres"], check=True, capture_output=True)
    server = subprocess.Popen([*run_as, postgres, "-D", data, "-p", str(port), "-k", workdir, "-h", "127.0.0.1",
                               "-c", "fsync=off", "-c", "max_connections=200"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, 30)
        env = {**os.environ, "BENCH_DATABASE_URL": f"postgres://postgres@127.0.0.1:{port}/postgres",
               "BENCH_RESULTS_FILE": os.environ.get("BENCH_RESULTS_FILE", "latest-postgresql.json")}
        return subprocess.run([sys.executable, "-m", "bench", *names], cwd=ROOT, env=env, check=False).returncode
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
