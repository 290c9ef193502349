"""Webhook ingest benchmark: N distinct signed DLR callbacks through the product's receiver
and through a bare handler, same server, same load generator; then their processing.

* receive: ``wrk`` (``bench/wrk.py``, 50 connections) POSTs N ``{"event", "payload"}`` DLR
  envelopes, each a different message, each with ``Authorization: Bearer <secret>`` and its
  own ``Signature`` (HMAC-SHA256 of the body keyed by the webhook's BICS id), each once, to
  gunicorn (``bench/servers.py``: the one configuration) serving the product.
  ``receive_per_s`` (answered 200 per second), ``p99_ms`` (wrk's latency distribution),
  ``cpu_us_per_answer`` (the workers' CPU time per answer: steadier on a shared machine).
* baseline: the same N requests, same wrk, same gunicorn configuration, serving
  ``bench/webhook_baseline.py``: Bearer + HMAC checked, raw body inserted.
  ``baseline_receive_per_s``, ``receive_ratio`` = product / baseline. Both are sent in
  ``BENCH_WEBHOOK_ROUNDS`` parts (4), alternating product and baseline in ABBA order
  (``receive_both``): on this shared machine the speed drifts by ±20 % over minutes, and one
  baseline run after one product run measured the drift as much as the receiver.
* process: with the server stopped (no worker ran meanwhile), the stored events drained by
  the product's processing function (``bench.models.webhook_events_drain``): ``process_per_s``.
* correctness: ``lost`` = answered 200 but the message not delivered after processing;
  ``applied_twice`` = messages with more than one delivery report (each event is distinct).

    python -m bench webhook_ingest
    BENCH_WEBHOOK_EVENTS=5000 python -m bench.webhook_ingest
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator

from bench import size
from bench.servers import Gunicorn
from bench.wrk import CONNECTIONS

EVENTS = size("BENCH_WEBHOOK_EVENTS", 100_000, 5_000)
ROUNDS = size("BENCH_WEBHOOK_ROUNDS", 4, 2)  # product and bare handler alternate (see receive_both)
SECRET = "bench-webhook-secret-0123456789"
BICS_ID = "4242"  # the webhook's BICS id: the HMAC key of the Signature header
SLUG = "bench"


def payload(i: int, prefix: str = "bm") -> dict:
    return {"event": "sms:message:status", "payload": {
        "id": f"{prefix}-{i}", "mobile": f"3247{i:07d}", "status": "DELIVRD", "credits": "1.0000", "units": 1,
        "deliv_time": "2026-01-02 10:00:00", "submit_time": "2026-01-02 09:59:00", "cid": f"{prefix}c-{i}",
        "custom": f"{prefix}c-{i}"}}


def signed_events(n: int, prefix: str = "bm", start: int = 0) -> Iterator[tuple[str, bytes]]:
    """(Signature, body) of n distinct DLR events."""
    from bench.models import sign

    for i in range(start, start + n):
        body = json.dumps(payload(i, prefix), separators=(",", ":")).encode()
        yield sign(body, BICS_ID), body


def create_webhook():
    from bench.models import models

    return models().Webhook.objects.create(name="bench", uri="http://127.0.0.1/webhooks/bics/bench/", slug=SLUG,
                                           secret=SECRET, bics_id=BICS_ID, token="t")


def _messages(n: int) -> None:
    from bench.models import models

    Message = models().Message
    for start in range(0, n, 5000):
        Message.objects.bulk_create([
            Message(channel="sms", number=f"+3247{i:07d}", custom_id=f"bmc-{i}", status="submitted",
                    bics_message_id=f"bm-{i}") for i in range(start, min(n, start + 5000))], batch_size=5000)


def product_server() -> Gunicorn:
    """The product under gunicorn (``bench/server_settings.py``); an in-memory broker: no
    worker processes what is received."""
    from bench.models import WSGI_APP

    return Gunicorn(WSGI_APP, env={"CELERY_BROKER_URL": "memory://", "DJANGO_SETTINGS_MODULE": "bench.server_settings"},
                    probe_path="/healthz")


def receiver_url(server: Gunicorn) -> str:
    from bench.models import WEBHOOK_RECEIVER

    return server.url.rstrip("/") + WEBHOOK_RECEIVER.format(key=SLUG)


def cpu_per_answer(server: Gunicorn, post) -> dict:
    """``post()``'s figures, with ``cpu_us``: the workers' CPU time per answer."""
    before = server.worker_cpu_seconds()
    figures = post()
    after = server.worker_cpu_seconds()
    figures["cpu_us"] = (round((after - before) / figures["answered"] * 1e6) if None not in (before, after)
                         and figures["answered"] else None)
    return figures


def receive_product(n: int, start: int = 0) -> dict:
    from bench.wrk import post_events

    server = product_server()
    try:
        return cpu_per_answer(server, lambda: post_events(receiver_url(server), signed_events(n, start=start), SECRET))
    finally:
        server.stop()


def receive_baseline(n: int, start: int = 0) -> dict:
    from bench.db import raw_connect
    from bench.webhook_baseline import TABLE, create_table
    from bench.wrk import post_events

    url = os.environ["DATABASE_URL"]
    db = raw_connect(url)
    create_table(db)
    server = Gunicorn("bench.webhook_baseline:application", env={
        "BENCH_BASELINE_DATABASE_URL": url, "BENCH_BASELINE_SECRET": SECRET, "BENCH_BASELINE_SIGNING_KEY": BICS_ID})
    try:
        figures = cpu_per_answer(server, lambda: post_events(
            server.url + "webhook/", signed_events(n, prefix="base", start=start), SECRET))
    finally:
        server.stop()
    figures["stored"] = db.execute(f"SELECT COUNT(*) FROM {TABLE}").fetchone()[0]  # noqa: S608
    db.close()
    return figures


def receive_both(n: int, rounds: int) -> tuple[dict, dict]:
    """The product's and the bare handler's figures over ``n`` events each, sent in ``rounds``
    parts in the order product, bare, bare, product, product, bare … (ABBA): a machine that
    slows down or speeds up during the run weighs on both alike."""
    sizes = [n // rounds + (1 if k < n % rounds else 0) for k in range(rounds)]
    product, bare = [], []
    for k, part in enumerate(sizes):
        start = sum(sizes[:k])
        order = [(receive_product, product), (receive_baseline, bare)]
        for receive, into in order if k % 2 == 0 else reversed(order):
            into.append(receive(part, start))
    return combined(product), combined(bare)


def combined(parts: list[dict]) -> dict:
    """One figure set from a benchmark's rounds: counts and times summed, rates from the sums,
    the CPU per answer weighted by answers, latency percentiles the worst round's."""
    total = {key: sum(part[key] for part in parts) for key in (
        "answered", "ok", "seconds", "connect_errors", "read_errors", "write_errors")}
    total["per_s"] = round(total["ok"] / total["seconds"], 1) if total["seconds"] else 0.0
    cpu = [(part["cpu_us"], part["answered"]) for part in parts]
    total["cpu_us"] = (round(sum(us * answered for us, answered in cpu) / total["answered"])
                       if total["answered"] and None not in (us for us, _ in cpu) else None)
    for key in ("p50_ms", "p99_ms", "max_ms"):
        total[key] = max(part[key] for part in parts)
    total["complete"] = all(part["complete"] for part in parts)
    total["rounds_per_s"] = [part["per_s"] for part in parts]
    if "stored" in parts[-1]:
        total["stored"] = parts[-1]["stored"]  # the table's count after the last round
    return total


def outcome(prefix: str = "bm") -> dict:
    """Messages delivered, and messages with more than one delivery report."""
    from django.db.models import Count

    from bench.models import models

    m = models()
    ours = m.Message.objects.filter(bics_message_id__startswith=f"{prefix}-")
    twice = (m.DeliveryReport.objects.filter(message__in=ours).values("message")
             .annotate(n=Count("pk")).filter(n__gt=1).count())
    return {"delivered": ours.filter(status="delivered").count(), "applied_twice": twice}


def run() -> dict:
    from bench import setup_django

    setup_django()
    from bench.models import webhook_events_drain, webhook_events_stored

    n = EVENTS
    _messages(n)
    create_webhook()
    received, base = receive_both(n, ROUNDS)
    stored = webhook_events_stored()
    started = time.perf_counter()
    processed = webhook_events_drain()
    process_s = time.perf_counter() - started
    result = outcome()
    figures = {
        "events": n, "connections": CONNECTIONS, "gunicorn": Gunicorn.config,
        "receive_per_s": received["per_s"], "baseline_receive_per_s": base["per_s"],
        "receive_ratio": round(received["per_s"] / base["per_s"], 3) if base["per_s"] else None,
        "p99_ms": received["p99_ms"], "p50_ms": received["p50_ms"], "baseline_p99_ms": base["p99_ms"],
        "cpu_us_per_answer": received["cpu_us"], "baseline_cpu_us_per_answer": base["cpu_us"],
        "rounds": ROUNDS, "rounds_receive_per_s": received["rounds_per_s"],
        "rounds_baseline_receive_per_s": base["rounds_per_s"],
        "process_per_s": round(processed / process_s, 1) if process_s else 0.0,
        "per_s": round(n / (received["seconds"] + process_s), 1),
        "accepted": received["ok"], "errors": received["answered"] - received["ok"],
        "unanswered": n - received["answered"], "stored": stored,
        "lost": max(0, received["ok"] - result["delivered"]), "applied_twice": result["applied_twice"],
        "baseline_stored": base["stored"], "baseline_errors": base["answered"] - base["ok"],
        "wrk_socket_errors": sum(received[k] for k in ("connect_errors", "read_errors", "write_errors")),
        "complete": received["complete"] and base["complete"],
    }
    print(f"webhook_ingest_100k: {json.dumps(figures)}", file=sys.stderr)
    return {"webhook_ingest_100k": figures}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
