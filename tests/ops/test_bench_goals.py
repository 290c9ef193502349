"""``bench/goals.py``: the goals ``make bench`` prints after its figures."""

from __future__ import annotations

from bench import goals


def test_each_goal_of_a_benchmark_that_ran_is_checked_against_its_figure():
    results = {"dispatch_1m": {"per_s": 23_657.0, "ratio": 0.49, "http_requests": 1000, "recipients": 1_000_000,
                               "peak_rss_mb": 126.0, "max_write_tx_ms": 121.0},
               "faults_100k": {"passed": True}}
    rows = {(r["key"], r["figure"]): r for r in goals.check(results)}
    assert {key for key, _ in rows} == {"dispatch_1m", "faults_100k"}  # the others did not run
    assert rows["dispatch_1m", "per_s"]["met"] and not rows["dispatch_1m", "ratio"]["met"]
    assert rows["dispatch_1m", "http_requests"]["goal"] == "== 1000" and rows["dispatch_1m", "http_requests"]["met"]
    assert rows["faults_100k", "passed"]["met"]
    text = goals.markdown(list(rows.values()), quick=False)
    assert text.startswith("Goals: 5 of 6 met") and "| dispatch_1m | ratio | >= 0.5 | 0.49 | **no** |" in text


def test_a_failed_benchmark_or_a_missing_figure_meets_no_goal():
    rows = goals.check({"import_1m": {"error": "exit 1", "per_s": 60_000},
                        "webhook_ingest_100k": {"receive_ratio": 0.6}})
    assert [r["met"] for r in rows if r["key"] == "import_1m"] == [False]
    assert {r["figure"]: r["met"] for r in rows if r["key"] == "webhook_ingest_100k"} == {
        "receive_ratio": True, "process_per_s": False, "p99_ms": False, "lost": False, "applied_twice": False}
    assert "quick sizes" in goals.markdown(rows, quick=True)
