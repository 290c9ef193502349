"""Webhook ingest benchmark: N signed DLR webhooks over HTTP to the receiver under gunicorn
(the production server), then their processing, against a bare baseline.

* receive: ``BENCH_WEBHOOK_SENDERS`` (50) concurrent senders POST the ``{"event", "payload"}``
  DLR envelope with ``Authorization: Bearer`` and ``Signature``; gunicorn (gthread) runs the
  real receiver (lookup, constant-time checks, parse, store, enqueue to an in-memory broker
  so no worker consumes). ``receive_per_s`` and the answer time ``p99_ms``.
* process: the stored events applied one by one by ``webhook_event_process`` (what the
  Celery task calls): the engine's status function + a DeliveryReport each, in one
  transaction per event. ``process_per_s``.
* ``per_s``: N / (receive time + process time), end to end.
* baseline: the same N status updates and report inserts by a plain ``sqlite3`` loop on a
  bare table (conditional UPDATE + INSERT, one commit per event, as each webhook is its own
  durable unit), no HTTP. ``ratio`` = per_s / baseline_per_s.

    python -m bench webhook_ingest
    BENCH_WEBHOOK_EVENTS=5000 python -m bench.webhook_ingest
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

EVENTS = int(os.environ.get("BENCH_WEBHOOK_EVENTS", "100000"))
SENDERS = int(os.environ.get("BENCH_WEBHOOK_SENDERS", "50"))
WORKERS = int(os.environ.get("BENCH_WEBHOOK_GUNICORN_WORKERS", str(min(8, (os.cpu_count() or 2)))))
THREADS = int(os.environ.get("BENCH_WEBHOOK_GUNICORN_THREADS", "4"))
SECRET = "bench-webhook-secret-0123456789"
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _payload(i: int) -> dict:
    return {"event": "sms:message:status", "payload": {
        "id": f"bm-{i}", "mobile": f"3247{i:07d}", "status": "DELIVRD", "credits": "1.0000", "units": 1,
        "deliv_time": "2026-01-02 10:00:00", "submit_time": "2026-01-02 09:59:00", "cid": f"bc-{i}",
        "custom": f"bc-{i}"}}


def _setup(n: int):
    from bench import setup_django

    setup_django()
    from messaging.campaigns.models import Message
    from messaging.webhooks.models import Webhook

    for start in range(0, n, 5000):
        Message.objects.bulk_create([
            Message(channel="sms", number=f"+3247{i:07d}", custom_id=f"bc-{i}", status="submitted",
                    bics_message_id=f"bm-{i}") for i in range(start, min(n, start + 5000))], batch_size=5000)
    return Webhook.objects.create(name="bench", uri="http://127.0.0.1/webhooks/bics/bench/", slug="bench",
                                  secret=SECRET, bics_id="4242", token="t")


class Gunicorn:
    def __init__(self):
        self.port = _free_port()
        db_url = os.environ["DATABASE_URL"]
        if db_url.startswith("sqlite") and "conn_max_age" not in db_url:  # keep connections (a deployment choice)
            db_url += ("&" if "?" in db_url else "?") + "conn_max_age=60"
        env = {**os.environ, "DATABASE_URL": db_url, "CELERY_BROKER_URL": "memory://", "DJANGO_DEBUG": "0",
               "ALLOWED_HOSTS": "127.0.0.1,localhost", "SECURE_SSL_REDIRECT": "0", "LOG_LEVEL": "ERROR"}
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{self.port}",
             "-w", str(WORKERS), "--worker-class", "gthread", "--threads", str(THREADS), "--backlog", "2048",
             "--log-level", "error"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def _receive(port: int, n: int) -> tuple[float, list[float], int]:
    from bics.webhooks import sign

    url = f"http://127.0.0.1:{port}/webhooks/bics/bench/"
    local = threading.local()
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def send(i: int) -> None:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        body = json.dumps(_payload(i), separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {SECRET}",
                   "Signature": sign(body, "4242")}
        started = time.perf_counter()
        resp = session.post(url, data=body, headers=headers, timeout=30)
        elapsed = time.perf_counter() - started
        with lock:
            latencies.append(elapsed)
            if resp.status_code != 200:
                errors[0] += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(SENDERS) as pool:
        list(pool.map(send, range(n), chunksize=64))
    return time.perf_counter() - started, latencies, errors[0]


def _process() -> tuple[float, int]:
    from messaging.webhooks.models import WebhookEvent
    from messaging.webhooks.services import webhook_event_process

    ids = list(WebhookEvent.objects.filter(state="received").order_by("pk").values_list("pk", flat=True))
    started = time.perf_counter()
    for event_id in ids:
        webhook_event_process(event_id=event_id)
    return time.perf_counter() - started, len(ids)


def _baseline(n: int) -> float:
    path = os.path.join(tempfile.mkdtemp(prefix="bench-webhook-base-"), "base.sqlite3")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE message (id INTEGER PRIMARY KEY, bics_id TEXT UNIQUE, status TEXT, delivered_at TEXT)")
    db.execute("CREATE TABLE report (id INTEGER PRIMARY KEY, message_id INT, status TEXT, raw TEXT)")
    db.execute("BEGIN")
    db.executemany("INSERT INTO message (bics_id, status) VALUES (?, 'submitted')", ((f"bm-{i}",) for i in range(n)))
    db.execute("COMMIT")
    started = time.perf_counter()
    for i in range(n):
        item = _payload(i)["payload"]
        db.execute("BEGIN")
        row = db.execute("SELECT id FROM message WHERE bics_id = ?", (item["id"],)).fetchone()
        db.execute("UPDATE message SET status = 'delivered', delivered_at = ? WHERE id = ? AND status IN "
                   "('queued', 'unknown', 'submitted')", (item["deliv_time"], row[0]))
        db.execute("INSERT INTO report (message_id, status, raw) VALUES (?, ?, ?)",
                   (row[0], item["status"], json.dumps(item)))
        db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return n / elapsed


def run() -> dict:
    n = EVENTS
    hook = _setup(n)
    server = Gunicorn()
    try:
        receive_s, latencies, errors = _receive(server.port, n)
    finally:
        server.stop()
    from messaging.campaigns.models import Message
    from messaging.webhooks.models import WebhookEvent

    stored = WebhookEvent.objects.filter(webhook=hook).count()
    process_s, processed = _process()
    delivered = Message.objects.filter(status="delivered").count()
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0.0
    per_s = n / (receive_s + process_s)
    baseline = _baseline(n)
    key = f"webhook_ingest_{n // 1000}k" if n % 1000 == 0 else f"webhook_ingest_{n}"
    return {key: {
        "events": n, "senders": SENDERS, "gunicorn": f"{WORKERS}x{THREADS} gthread",
        "per_s": round(per_s, 1), "receive_per_s": round(n / receive_s, 1),
        "process_per_s": round(processed / process_s, 1) if process_s else 0.0,
        "p99_ms": round(p99, 1), "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1) if latencies else 0.0,
        "baseline_per_s": round(baseline, 1), "ratio": round(per_s / baseline, 3),
        "http_requests": n, "errors": errors, "stored": stored, "delivered": delivered,
    }}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
