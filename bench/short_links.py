"""Tracked short-link redirect benchmark: N distinct ``/s/<code>`` visits, 1,000 connections
at once, through the product under gunicorn (``bench/servers.py``'s one configuration), sent
by wrk with the webhook benchmarks' script in its GET mode (``bench/webhook.lua``).

* ``p99_ms``: the 99th percentile of the time each visit spent inside the server (lookup,
  click appended to Redis, 302), written down by ``bench/timed_wsgi.py``; ``client_p99_ms`` is wrk's,
  which adds the queue of 1,000 connections waiting for gunicorn's threads.
* ``per_s``: visits answered 302 per second (first request to last answer).
* ``errors``: visits not answered 302 (another status, or no answer). wrk's socket error
  counts are under ``wrk``: its ``read_errors`` include idle keep-alive connections that
  gunicorn closed while they waited for nothing more to send.
* ``clicks_lost``: visits answered 302 without their click stored, once the clicks waiting
  in Redis (a private ``redis-server`` for the run) are drained by the product's
  ``link_clicks_drain`` (``drain_s``: how long that took, ``drain_per_s``).

    python -m bench short_links
    BENCH_SHORT_LINK_VISITS=5000 python -m bench.short_links
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from bench import size
from bench.servers import Gunicorn
from tools.throwaway_postgres import free_port

VISITS = size("BENCH_SHORT_LINK_VISITS", 20_000, 3_000)
CONNECTIONS = size("BENCH_SHORT_LINK_CONNECTIONS", 1000, 1000)


def make_links(n: int) -> list[str]:
    from django.utils import timezone

    from bench.models import models
    from messaging.campaigns.models import ShortLink

    m = models()
    sender = m.Sender.objects.create(name="BENCH", country_code="BE", service="ENT", status=1)
    template = m.Template.objects.create(name="bench_links", channel="sms", sender=sender, template_type="P",
                                         content="Spring sale: {{link:https://shop.example/spring}}")
    campaign = m.Campaign.objects.create(name="bench links", channel="sms", template=template, sender=sender)
    expires = timezone.now() + timedelta(days=30)
    codes = [secrets.token_urlsafe(8) for _ in range(n)]
    ShortLink.objects.bulk_create([ShortLink(code=code, campaign=campaign, custom_id=f"bl-{i:08d}",
                                             url="https://shop.example/spring", expires_at=expires)
                                   for i, code in enumerate(codes)], batch_size=5000)
    return codes


def visit(url: str, codes: list[str], threads: int = 2) -> dict:
    from bench.wrk import SCRIPT, _drive

    if not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed: scripts/ensure_packages.sh wrk")
    workdir = Path(tempfile.mkdtemp(prefix="bench-links-"))
    try:
        files = [open(workdir / f"{i + 1}.req", "w", encoding="ascii") for i in range(threads)]  # noqa: SIM115
        for i, code in enumerate(codes):
            files[i % threads].write(code + "\n")
        for fh in files:
            fh.close()
        parts = urlsplit(url)
        proc = subprocess.Popen(
            ["wrk", "-t", str(threads), "-c", str(CONNECTIONS), "-d", "3600s", "--timeout", "30s",
             "-s", str(SCRIPT), f"{parts.scheme}://{parts.netloc}/", "--", str(workdir), "/s/", "-", "GET", "302"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return _drive(proc, threads, deadline=max(120.0, len(codes) / 50))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def private_redis():
    """A redis-server of its own for the run (no persistence), as a URL."""
    binary = shutil.which("redis-server")
    if not binary:
        raise RuntimeError("redis-server is not installed: scripts/ensure_packages.sh redis-server")
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import redis

        client = redis.Redis(port=port)
        deadline = time.monotonic() + 15
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


def server_times(directory: Path) -> list[float]:
    return sorted(float(line) for path in directory.glob("*.ms") for line in path.read_text().split())


def percentile(values: list[float], p: float) -> float | None:
    return round(values[min(len(values) - 1, int(len(values) * p / 100))], 2) if values else None


def run() -> dict:
    from bench import setup_django

    setup_django()
    with private_redis() as redis_url:
        return measure(redis_url)


def measure(redis_url: str) -> dict:
    from django.conf import settings

    from messaging.campaigns.models import LinkClick
    from messaging.campaigns.services.short_links import link_clicks_drain

    settings.SHORT_LINK_CLICKS_REDIS_URL = redis_url  # this process drains what the server appended
    codes = make_links(VISITS)
    timing = Path(tempfile.mkdtemp(prefix="bench-timing-"))
    server = Gunicorn("bench.timed_wsgi:application", probe_path="/healthz", env={
        "CELERY_BROKER_URL": "memory://", "DJANGO_SETTINGS_MODULE": "bench.server_settings",
        "SHORT_LINK_CLICKS_REDIS_URL": redis_url, "BENCH_TIMING_DIR": str(timing)})
    try:
        for path in timing.glob("*.ms"):  # the start-up probes are not visits (workers append: truncate)
            path.write_text("")
        result = visit(server.url, codes)
    finally:
        server.stop()
    times = server_times(timing)
    shutil.rmtree(timing, ignore_errors=True)
    started = time.perf_counter()
    drained = link_clicks_drain()
    drain_s = time.perf_counter() - started
    clicks = LinkClick.objects.count()
    figures = {
        "visits": VISITS, "connections": CONNECTIONS, "gunicorn": Gunicorn.config,
        "p99_ms": percentile(times, 99), "p50_ms": percentile(times, 50), "max_ms": percentile(times, 100),
        "client_p99_ms": result["p99_ms"], "per_s": result["per_s"],
        "errors": VISITS - result["ok"],
        "wrk": {k: result[k] for k in ("answered", "ok", "connect_errors", "read_errors", "write_errors",
                                        "timeouts", "status_errors")},
        "clicks_recorded": clicks, "clicks_lost": max(0, result["ok"] - clicks), "complete": result["complete"],
        "drain_s": round(drain_s, 3), "drain_per_s": round(drained / drain_s) if drain_s else None,
    }
    print(f"short_link_redirect: {json.dumps(figures)}", file=sys.stderr)
    return {"short_link_redirect": figures}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
