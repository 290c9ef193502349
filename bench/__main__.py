"""Runs every benchmark in `bench.BENCHMARKS`, prints a Markdown table and writes
`bench/results/latest.json`.

`python -m bench` runs them all; `python -m bench import_contacts` runs the ones named.
"""

import json
import platform
import sys
import time
from importlib import import_module
from pathlib import Path

from bench import BENCHMARKS

RESULTS = Path(__file__).resolve().parent / "results"
COLUMNS = ("per_s", "baseline_per_s", "ratio", "receive_per_s", "process_per_s", "peak_rss_mb", "http_requests", "p99_ms", "queries", "ms")


def markdown(results: dict) -> str:
    present = [c for c in COLUMNS if any(c in r for r in results.values())]
    lines = ["| benchmark | " + " | ".join(present) + " |", "|---" * (len(present) + 1) + "|"]
    for name, figures in results.items():
        cells = []
        for column in present:
            value = figures.get(column, "")
            cells.append(f"{value:,.2f}" if isinstance(value, float) else f"{value:,}" if isinstance(value, int) else str(value))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(names: list[str]) -> int:
    results = {}
    for name in BENCHMARKS:
        if names and name.rsplit(".", 1)[-1] not in names:
            continue
        started = time.monotonic()
        results.update(import_module(name).run())
        print(f"{name}: done in {time.monotonic() - started:.1f}s", file=sys.stderr)
    RESULTS.mkdir(exist_ok=True)
    report = {
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **results,
    }
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print()
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
