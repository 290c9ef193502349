"""Runs every benchmark in `bench.BENCHMARKS`, each in its own subprocess on its own fresh
database, merges the figures into `bench/results/latest.json` and prints a Markdown table,
then the goals (``bench/goals.py``), each met or not.

`python -m bench` runs them all; `python -m bench import_contacts dispatch` the ones named.
A benchmark that fails is reported (``error``, the tail of its output) and the others still
run; the exit status is then 1.
"""

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib import import_module
from pathlib import Path

from bench import BENCHMARKS, FRESH_DB_ENV, QUICK, goals
from bench.db import fresh_database

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
COLUMNS = ("per_s", "baseline_per_s", "ratio", "receive_per_s", "baseline_receive_per_s", "receive_ratio",
           "process_per_s", "p99_ms", "max_write_tx_ms", "webhook_p99_ms", "changelist_p99_ms", "errors", "lost",
           "applied_twice", "peak_rss_mb", "http_requests", "queries", "ms", "passed")


def markdown(results: dict) -> str:
    present = [c for c in COLUMNS if any(c in r for r in results.values() if isinstance(r, dict))]
    lines = ["| benchmark | " + " | ".join(present) + " |", "|---" * (len(present) + 1) + "|"]
    for name, figures in results.items():
        cells = []
        for column in present:
            value = figures.get(column, "")
            cells.append(f"{value:,.2f}" if isinstance(value, float) else f"{value:,}" if isinstance(value, int)
                         and not isinstance(value, bool) else str(value))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_one(module: str) -> dict:
    """``module`` in a subprocess on a database of its own; its figures, or an ``error``."""
    label = module.rsplit(".", 1)[-1]
    with tempfile.TemporaryDirectory(prefix="bench-out-") as tmp, fresh_database(label) as url:
        out = Path(tmp) / "figures.json"
        env = {**os.environ, FRESH_DB_ENV: url}
        proc = subprocess.run([sys.executable, "-m", "bench", "--one", module, str(out)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
        sys.stderr.write(proc.stdout[-4000:])
        if proc.returncode == 0 and out.exists():
            return json.loads(out.read_text())
        return {label: {"error": f"exit {proc.returncode}", "tail": proc.stdout[-1500:]}}


def main(names: list[str]) -> int:
    if names[:1] == ["--one"]:  # the child: one module, figures to a file
        module, out = names[1], Path(names[2])
        out.write_text(json.dumps(import_module(module).run()))
        return 0
    results = {}
    for name in BENCHMARKS:
        if names and name.rsplit(".", 1)[-1] not in names:
            continue
        started = time.monotonic()
        results.update(run_one(name))
        print(f"{name}: done in {time.monotonic() - started:.1f}s", file=sys.stderr)
    RESULTS.mkdir(exist_ok=True)
    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "database": "postgresql" if os.environ.get("BENCH_DATABASE_URL") else "sqlite",
        "quick": QUICK,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **results,
        "goals": goals.check(results),
    }
    (RESULTS / os.environ.get("BENCH_RESULTS_FILE", "latest.json")).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print()
    print(markdown(results))
    print()
    print(goals.markdown(report["goals"], quick=QUICK))
    return 1 if any(isinstance(r, dict) and "error" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
