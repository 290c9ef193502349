"""The HTTP load generator of the webhook benchmarks: ``wrk`` (Debian package) with
``bench/webhook.lua``, each event distinct and signed, each sent once.

``post_events(url, events, bearer)`` writes the requests into one file per wrk thread, runs
wrk with BENCH_WEBHOOK_CONNECTIONS (50) connections until every thread has had all its
answers (wrk then gets SIGINT: its ``-d`` is only a ceiling), and returns the figures: the
events answered per second (first request to last answer), latency percentiles from wrk's
own distribution, and the answer counts.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from bench import size

CONNECTIONS = size("BENCH_WEBHOOK_CONNECTIONS", 50, 50)
WRK_THREADS = size("BENCH_WRK_THREADS", 2, 2)
SCRIPT = Path(__file__).resolve().parent / "webhook.lua"


def write_requests(directory: Path, events: Iterable[tuple[str, bytes]], threads: int) -> int:
    """``events``: (signature, body) pairs; body is one line of JSON. Returns how many."""
    files = [open(directory / f"{i + 1}.req", "w", encoding="utf-8") for i in range(threads)]  # noqa: SIM115
    count = 0
    try:
        for count, (signature, body) in enumerate(events, start=1):
            files[count % threads].write(f"{signature} {body.decode()}\n")
    finally:
        for fh in files:
            fh.close()
    return count


def post_events(url: str, events: Iterable[tuple[str, bytes]], bearer: str) -> dict:
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed: scripts/ensure_packages.sh wrk")
    workdir = Path(tempfile.mkdtemp(prefix="bench-wrk-"))
    try:
        n = write_requests(workdir, events, WRK_THREADS)
        threads = min(WRK_THREADS, n)
        parts = urlsplit(url)
        base = f"{parts.scheme}://{parts.netloc}/"
        proc = subprocess.Popen(
            ["wrk", "-t", str(threads), "-c", str(max(CONNECTIONS, threads)), "-d", "3600s", "--timeout", "30s",
             "-s", str(SCRIPT), base, "--", str(workdir), parts.path, bearer],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return _drive(proc, threads, deadline=max(120.0, n / 50))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _drive(proc: subprocess.Popen, threads: int, deadline: float) -> dict:
    """Read wrk's lines: START (first request) and DONE (a thread had all its answers)."""
    marks: dict[str, list[float]] = {"START": [], "DONE": []}
    lines: list[str] = []
    all_done = threading.Event()

    def reader():
        for line in proc.stdout:
            lines.append(line)
            word = line.split(" ", 1)[0]
            if word in marks:
                marks[word].append(time.perf_counter())
                if len(marks["DONE"]) >= threads:
                    all_done.set()
        all_done.set()

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    finished = all_done.wait(deadline)
    ended = time.perf_counter()
    proc.send_signal(signal.SIGINT)  # wrk prints its summary and runs the done hook
    proc.wait(60)
    thread.join(10)
    report = next((json.loads(line[6:]) for line in lines if line.startswith("BENCH ")), None)
    if report is None:
        raise RuntimeError("wrk gave no report: " + "".join(lines)[-2000:] + proc.stderr.read()[-2000:])
    begin = marks["START"][0] if marks["START"] else ended
    end = max(marks["DONE"]) if finished and marks["DONE"] else ended
    report["seconds"] = round(end - begin, 3)
    report["per_s"] = round(report["ok"] / report["seconds"], 1) if report["seconds"] else 0.0
    report["complete"] = finished
    return report
