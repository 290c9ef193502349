"""Admin changelist of Message over 1M rows: queries per page load and time.

A fresh database gets BENCH_CHANGELIST_ROWS (default 1,000,000) messages over 20 campaigns
(raw executemany: setup is not what is measured), then a superuser loads
the message changelist (``bench.models.MESSAGE_CHANGELIST``) through Django's test client: the default page, a status filter, an
exact search by number, and page 500. Each is loaded once to warm up, then 5 times; ``ms`` is
the median wall time of the whole request (query + render), ``queries`` the number of SQL
queries of one load (CaptureQueriesContext). Baseline: the same page would count all 1M rows
on every load without ``show_full_result_count = False`` — ``count_ms`` is that one
``SELECT COUNT(*)``, measured, for reference.

    python -m bench changelist          # via bench/__main__.py
    python -m bench.changelist          # on its own, prints JSON
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from bench import size

ROWS = size("BENCH_CHANGELIST_ROWS", 1_000_000, 20_000)
CAMPAIGNS = 20
STATUSES = ("delivered", "delivered", "delivered", "failed", "submitted", "rejected", "expired")


def populate(rows: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.models import models, table

    m = models()
    Channel, Template, Campaign = m.Channel, m.Template, m.Campaign

    owner = get_user_model().objects.create_superuser(username="bench", password="bench-pass-123")
    template = Template.objects.create(name="bench", channel=Channel.SMS, content="Our shop opens on Monday.",
                                       author=owner)
    campaigns = [Campaign.objects.create(name=f"Bench {i}", template=template, owner=owner, channel="sms").pk
                 for i in range(CAMPAIGNS)]
    now = timezone.now()
    iso = now.isoformat() if connection.vendor == "sqlite" else now
    columns = ("campaign_id", "channel", "number", "custom_id", "text", "variables", "is_sample", "status",
               "bics_status", "bics_message_id", "group_id", "parts", "error_code", "error_description",
               "created_at", "submitted_at", "status_at")
    sql = (f"INSERT INTO {table(m.Message)} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})")
    chunk = 20000
    with connection.cursor() as cursor:
        for start in range(0, rows, chunk):
            values = []
            for i in range(start, min(start + chunk, rows)):
                status = STATUSES[i % len(STATUSES)]
                values.append((campaigns[i % CAMPAIGNS], "sms", f"+3247{i:07d}", f"m{i:08d}", "", "{}", False, status,
                               "DELIVRD" if status == "delivered" else "", f"g:{i}", "g", 1, "", "", iso, iso, iso))
            with transaction.atomic():
                cursor.executemany(sql, values)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def measure(client, url: str, loads: int = 5) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url, secure=True)  # warm-up (production settings redirect to HTTPS)
    assert response.status_code == 200, (url, response.status_code)
    times, queries = [], 0
    for _ in range(loads):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url, secure=True)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
        queries = len(ctx.captured_queries)
    return {"queries": queries, "ms": round(statistics.median(times), 1)}


def run() -> dict:
    from bench import setup_django

    setup_django()
    from django.conf import settings
    from django.test import override_settings

    # the test client's host; plain static storage (no collectstatic manifest needed)
    with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"], STORAGES={
            **settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}):
        return _run()


def _run() -> dict:
    from django.db import connection
    from django.test import Client

    started = time.monotonic()
    populate(ROWS)
    setup_s = time.monotonic() - started
    client = Client()
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="bench"))
    from bench.models import MESSAGE_CHANGELIST, models, table

    base = MESSAGE_CHANGELIST
    figures = measure(client, base)
    filtered = measure(client, base + "?status__exact=failed")
    search = measure(client, base + "?q=%2B32470123456")
    deep = measure(client, base + f"?p={min(500, max(ROWS // 100 - 1, 1))}")
    with connection.cursor() as cursor:
        t = time.perf_counter()
        cursor.execute(f"SELECT COUNT(*) FROM {table(models().Message)}")  # noqa: S608
        total = cursor.fetchone()[0]
        count_ms = (time.perf_counter() - t) * 1000
    result = {**figures, "rows": total, "filtered_queries": filtered["queries"], "filtered_ms": filtered["ms"],
              "search_queries": search["queries"], "search_ms": search["ms"], "page_500_ms": deep["ms"],
              "count_ms": round(count_ms, 1), "setup_s": round(setup_s, 1), "database": connection.vendor}
    print(f"changelist_1m: {json.dumps(result)}", file=sys.stderr)
    return {"changelist_1m": result}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
