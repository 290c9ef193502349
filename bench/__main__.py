"""Runs every benchmark in `bench.BENCHMARKS` and prints the figures as JSON."""

import json
import sys
from importlib import import_module

from bench import BENCHMARKS


def main(names: list[str]) -> int:
    results = {}
    for name in BENCHMARKS:
        if names and name.rsplit(".", 1)[-1] not in names:
            continue
        module = import_module(name)
        results.update(module.run())
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
