"""Does the back-office keep answering during a big campaign? ``launch_probe_1m``.

A campaign of N identical-text recipients (``bench.dispatch``'s setup) is launched and sent
to the end in this process, as in ``dispatch_1m``, while the product also runs under
gunicorn (the webhook benchmark's configuration) on the same database. A probe in its own
process (no shared interpreter lock with the launch) starts before the launch and stops when
the send ends; every 100 ms it

* POSTs one signed DLR (distinct id, ``Authorization: Bearer`` + ``Signature``) to the
  receiver: an error is anything but 200 within 3 s (BICS's limit before it counts a
  failure);
* loads the campaign changelist as a logged-in superuser: an error is anything but 200
  within 10 s.

Figures: ``webhook_p99_ms``, ``changelist_p99_ms`` (answer times, errors included at
their time-out), ``errors``, the sample counts, and the launch's own ``per_s``,
``seconds``, ``max_write_tx_ms``.

    python -m bench launch_probe
    BENCH_PROBE_RECIPIENTS=100000 python -m bench.launch_probe
"""

from __future__ import annotations

import json
import multiprocessing
import sys
import time

from bench import size

RECIPIENTS = size("BENCH_PROBE_RECIPIENTS", 1_000_000, 20_000)
EVERY = 0.1  # seconds between two probes of one kind
WEBHOOK_TIMEOUT, CHANGELIST_TIMEOUT = 3.0, 10.0


def _p99(samples: list[float]) -> float:
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1)


def _loop(stop, send, timeout: float) -> tuple[list[float], int, list[str]]:
    """``send(i)`` every EVERY seconds (never two at once) until ``stop`` is set."""
    times, errors, reasons = [], 0, []
    i = 0
    next_at = time.monotonic()
    while not stop.is_set():
        started = time.perf_counter()
        try:
            status = send(i)
            ok = status == 200
            reason = f"HTTP {status}"
        except Exception as exc:  # noqa: BLE001 - a time-out or a refused connection is a probe error
            ok, reason = False, type(exc).__name__
        elapsed = time.perf_counter() - started
        times.append(min(elapsed, timeout) * 1000)
        if not ok:
            errors += 1
            if len(reasons) < 5:
                reasons.append(reason)
        i += 1
        next_at += EVERY
        stop.wait(max(0.0, next_at - time.monotonic()))
    return times, errors, reasons


def probe(base_url: str, hook_path: str, changelist: str, cookie: tuple[str, str], stop, results) -> None:
    """The probe process: two loops (webhook, changelist) in two threads."""
    import threading

    import requests

    from bench.webhook_ingest import SECRET, signed_events

    out = {}

    def webhooks():
        session = requests.Session()
        events = signed_events(10**7, prefix="probe")

        def send(_i):
            signature, body = next(events)
            return session.post(base_url + hook_path, data=body, timeout=WEBHOOK_TIMEOUT, headers={
                "Content-Type": "application/json", "Authorization": f"Bearer {SECRET}",
                "Signature": signature}).status_code

        out["webhook"] = _loop(stop, send, WEBHOOK_TIMEOUT)

    def pages():
        session = requests.Session()
        session.cookies.set(*cookie)

        def send(_i):
            resp = session.get(base_url + changelist, timeout=CHANGELIST_TIMEOUT, allow_redirects=False)
            return resp.status_code

        out["changelist"] = _loop(stop, send, CHANGELIST_TIMEOUT)

    threads = [threading.Thread(target=webhooks), threading.Thread(target=pages)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results.put(out)


def _superuser_cookie() -> tuple[str, str]:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    user = get_user_model().objects.create_superuser(username="bench-probe", password="bench-pass-123")
    client = Client()
    client.force_login(user)
    return settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value


def run() -> dict:
    from bench import setup_django

    setup_django()
    from django.conf import settings

    from bench import dispatch
    from bench.models import CAMPAIGN_CHANGELIST, WEBHOOK_RECEIVER
    from bench.servers import Sandbox
    from bench.txtrace import install
    from bench.webhook_ingest import SLUG, create_webhook, product_server

    install()
    tag = dispatch.contacts(RECIPIENTS, "bench-probe")
    campaign = dispatch._campaign("probe", dispatch.IDENTICAL_TEXT, tag)
    create_webhook()
    cookie = _superuser_cookie()
    sandbox = Sandbox()
    settings.BICS_API_BASE_URL, settings.BICS_API_TOKEN = sandbox.url, dispatch.TOKEN
    settings.BICS_RATE_LIMIT_REDIS_URL, settings.BICS_READ_TIMEOUT = "", 60
    settings.CAMPAIGN_CONCURRENCY = dispatch.CONCURRENCY
    server = product_server()
    ctx = multiprocessing.get_context("spawn")
    stop, results = ctx.Event(), ctx.Queue()
    prober = ctx.Process(target=probe, args=(server.url.rstrip("/"), WEBHOOK_RECEIVER.format(key=SLUG),
                                             CAMPAIGN_CHANGELIST, cookie, stop, results))
    try:
        prober.start()
        time.sleep(1.0)  # the probe's first samples see the quiet back-office
        launch = dispatch.product(sandbox, campaign)
        stop.set()
        out = results.get(timeout=60)
        prober.join(30)
    finally:
        stop.set()
        server.stop()
        sandbox.stop()
    (hook_times, hook_errors, hook_reasons), (page_times, page_errors, page_reasons) = out["webhook"], out["changelist"]
    figures = {
        "recipients": launch["recipients"], "per_s": launch["per_s"], "seconds": launch["seconds"],
        "write_s": launch["write_s"], "max_write_tx_ms": launch["max_write_tx_ms"],
        "max_write_tx_sql": launch["max_write_tx_sql"],
        "http_requests": launch["http_requests"],
        "webhook_p99_ms": _p99(hook_times), "changelist_p99_ms": _p99(page_times),
        "webhook_max_ms": round(max(hook_times, default=0.0), 1), "changelist_max_ms": round(max(page_times, default=0.0), 1),
        "webhook_probes": len(hook_times), "changelist_probes": len(page_times),
        "errors": hook_errors + page_errors, "error_reasons": hook_reasons + page_reasons,
    }
    print(f"launch_probe_1m: {json.dumps(figures)}", file=sys.stderr)
    return {"launch_probe_1m": figures}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
