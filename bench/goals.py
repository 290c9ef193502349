"""The goals the figures are held to (the scale and the beyond-the-peers issues), checked and
printed by ``python -m bench`` after its table, and written into the results file.

Each goal is (key, figure, comparison, target). The goals are for the full sizes; a quick
run (``BENCH_QUICK=1``) is checked all the same and says so. ``http_requests`` of the
identical-text campaign is one request per 1,000 recipients (1,000 at the full size).
"""

from __future__ import annotations

import operator

GOALS: list[tuple[str, str, str, float]] = [
    ("dispatch_1m", "per_s", ">=", 20_000),
    ("dispatch_1m", "ratio", ">=", 0.5),
    ("dispatch_1m", "http_requests", "==", -1),  # -1: recipients / 1,000
    ("dispatch_1m", "peak_rss_mb", "<=", 200),
    ("dispatch_1m", "max_write_tx_ms", "<=", 250),
    ("dispatch_100k", "ratio", ">=", 0.7),
    ("launch_probe_1m", "webhook_p99_ms", "<=", 300),
    ("launch_probe_1m", "changelist_p99_ms", "<=", 1_000),
    ("launch_probe_1m", "errors", "==", 0),
    ("webhook_ingest_100k", "receive_ratio", ">=", 0.5),
    ("webhook_ingest_100k", "process_per_s", ">=", 20_000),
    ("webhook_ingest_100k", "p99_ms", "<=", 300),
    ("webhook_ingest_100k", "lost", "==", 0),
    ("webhook_ingest_100k", "applied_twice", "==", 0),
    ("import_1m", "per_s", ">=", 50_000),
    ("short_link_redirect", "p99_ms", "<=", 20),
    ("short_link_redirect", "errors", "==", 0),
    ("faults_100k", "passed", "==", True),
]
COMPARE = {">=": operator.ge, "<=": operator.le, "==": operator.eq}


def check(results: dict) -> list[dict]:
    """One row per goal of a benchmark that ran: its figure, the target and whether it is met."""
    rows = []
    for key, figure, comparison, target in GOALS:
        figures = results.get(key)
        if not isinstance(figures, dict):
            continue
        if target == -1:
            target = round((figures.get("recipients") or 0) / 1000)
        value = figures.get(figure)
        met = value is not None and "error" not in figures and COMPARE[comparison](value, target)
        rows.append({"key": key, "figure": figure, "goal": f"{comparison} {target}", "value": value, "met": met})
    return rows


def markdown(rows: list[dict], *, quick: bool) -> str:
    met = sum(row["met"] for row in rows)
    title = f"Goals: {met} of {len(rows)} met" + (" (quick sizes: the goals are for the full sizes)" if quick else "")
    lines = [title, "", "| key | figure | goal | value | met |", "|---|---|---|---|---|"]
    lines += [f"| {r['key']} | {r['figure']} | {r['goal']} | {r['value']} | {'yes' if r['met'] else '**no**'} |"
              for r in rows]
    return "\n".join(lines)
