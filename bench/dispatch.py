"""Campaign dispatch benchmark: the product's launch and engine end to end against the
sandbox over HTTP, and a bare baseline doing the same work on the same database.

Two campaigns, each launched as staff launch it (``bench.models.campaign_launch``: checks,
audience, Message/SendBatch rows) and sent to the end in this process
(``bench.models.campaign_send``: claims, sends, records):

* ``dispatch_1m``: N recipients, one text, batches of 1000 numbers in ``to`` arrays;
* ``dispatch_100k``: M recipients, one request each, ``CAMPAIGN_CONCURRENCY`` in flight.

Each audience is a tag of N contacts plus 1 % more contacts of the tag who opted out
(``Unsubscriber`` ``all``): the audience is N after exclusions.

Figures: recipients/s (launch + send + record), ``write_s`` (the launch), HTTP requests
(counted by the sandbox), peak RSS of this process, ``max_write_tx_ms``: the longest write
transaction of this process during launch and send (``bench/txtrace.py``; ``launch_…`` for
the launch alone). Baseline, same run, same database: the audience resolved from the same
contacts table minus the opt-outs with one ``INSERT … SELECT`` into a plain table, the same
requests POSTed by a plain thread pool with the same concurrency, ids recorded by
``executemany``. ``ratio`` = product / baseline recipients per second.

    python -m bench dispatch
    BENCH_DISPATCH_IDENTICAL=100000 BENCH_DISPATCH_PERSONALISED=10000 python -m bench.dispatch
"""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from bench import size
from bench.servers import Sandbox

IDENTICAL = size("BENCH_DISPATCH_IDENTICAL", 1_000_000, 20_000)
PERSONALISED = size("BENCH_DISPATCH_PERSONALISED", 100_000, 2_000)
CONCURRENCY = size("BENCH_DISPATCH_CONCURRENCY", 16, 16)
TOKEN = "bench-dispatch-token"
IDENTICAL_TEXT = "Your order is ready for pickup at our Brussels shop until Saturday."
PERSONAL_TEXT = "Hello {{first_name}}, your order is ready for pickup at our Brussels shop."


def contacts(n: int, tag_name: str, opted_out: int = -1) -> int:
    """n contacts tagged ``tag_name`` plus ``opted_out`` (default 1 %) more who opted out of
    everything; inserted in bulk (setup, not measured). Returns the tag's id."""
    from django.db import connection, transaction

    from bench.models import models

    m = models()
    opted_out = n // 100 if opted_out < 0 else opted_out
    tag = m.Tag.objects.create(name=tag_name)
    start = m.Contact.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    now = "2026-01-01 00:00:00"
    total = n + opted_out
    table, through = m.Contact._meta.db_table, m.Contact.tags.through._meta.db_table
    with transaction.atomic(), connection.cursor() as cur:
        for chunk in range(0, total, 50_000):  # chunks: the setup must not inflate the measured RSS
            rows = [(f"+3247{start + i:07d}", f"+3247{start + i:07d}", "BE", f"Ann{i}", now, now, "never", "", "",
                     "", "", "", "", "{}") for i in range(chunk, min(total, chunk + 50_000))]
            cur.executemany(
                f"INSERT INTO {table} (phone, identity, country, first_name, created_at, updated_at, sync_state, "  # noqa: S608
                "sync_error, email, last_name, company, postal_code, gender, attributes) "
                "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)", rows)
        cur.execute(f"INSERT INTO {through} (contact_id, tag_id) SELECT id, %s FROM {table} WHERE id > %s",  # noqa: S608
                    [tag.pk, start])
    m.Unsubscriber.objects.bulk_create(
        [m.Unsubscriber(channel="sms", number=f"+3247{start + i:07d}", type="all") for i in range(n, total)],
        batch_size=5000)
    return tag.pk


def _campaign(name: str, content: str, tag_id: int):
    from bench.models import models

    m = models()
    sender, _ = m.Sender.objects.get_or_create(name="BENCH", country_code="BE", service="ENT", defaults={"status": 1})
    template = m.Template.objects.create(channel="sms", name=name, content=content, sender=sender, template_type="SI",
                                         approval_state="approved", provider_status="1", bics_id=f"b-{name}",
                                         sync_state="synced")
    m.TemplateApproval.objects.create(template=template, version=1, decision="approved", content=content,
                                      sender_name=sender.name, template_type="SI")
    campaign = m.Campaign.objects.create(name=name, channel="sms", template=template, sender=sender, batch_size=1000)
    campaign.tags.add(tag_id)
    return campaign


def _self_rss():
    """Peak RSS of this process only (the sandbox is a child process: not counted)."""
    from bench.import_contacts import RssSampler

    class SelfRss(RssSampler):
        @staticmethod
        def _tree(pid: int) -> list[int]:
            return [pid]

    return SelfRss()


def product(sandbox: Sandbox, campaign) -> dict:
    from bench.models import campaign_launch, campaign_send, models
    from bench.txtrace import TRACKER

    sandbox.reset()
    sampler = _self_rss()
    sampler.start()
    TRACKER.start()
    started = time.perf_counter()
    written = campaign_launch(campaign)
    launched = time.perf_counter()
    launch_tx = TRACKER.stop()
    TRACKER.start()
    campaign_send(campaign.pk)
    elapsed = time.perf_counter() - started
    send_tx = TRACKER.stop()
    peak = round(sampler.stop(), 1)
    queued = models().Message.objects.filter(campaign=campaign, status="queued").count()
    return {"recipients": written, "seconds": round(elapsed, 2), "write_s": round(launched - started, 2),
            "per_s": round(written / elapsed, 1), "http_requests": sandbox.sends(), "peak_rss_mb": peak,
            "max_write_tx_ms": max(launch_tx["max_write_tx_ms"], send_tx["max_write_tx_ms"]),
            "launch_max_write_tx_ms": launch_tx["max_write_tx_ms"],
            "max_write_tx_sql": max(launch_tx, send_tx, key=lambda t: t["max_write_tx_ms"]).get("max_write_tx_sql", ""),
            "write_tx": launch_tx["write_tx"] + send_tx["write_tx"], "left_queued": queued}


BASELINE_TABLE = "bench_message"


def _audience_sql(db, tag_id: int, personalised: bool) -> tuple[str, tuple]:
    """The audience from the product's contacts tables, minus opt-outs, in one statement."""
    from bench.db import placeholder
    from bench.models import models, table

    m = models()
    contact, through, unsub = table(m.Contact), m.Contact.tags.through._meta.db_table, table(m.Unsubscriber)
    mark = placeholder(db)
    text = "'Hello ' || c.first_name || ', your order is ready for pickup at our Brussels shop.'" if personalised \
        else "''"
    sql = (f"INSERT INTO {BASELINE_TABLE} (contact_id, number, custom, text, status) "  # noqa: S608
           f"SELECT c.id, substr(c.phone, 2), 'x' || c.id, {text}, 'queued' FROM {contact} c "
           f"JOIN {through} ct ON ct.contact_id = c.id WHERE ct.tag_id = {mark} AND NOT EXISTS "
           f"(SELECT 1 FROM {unsub} u WHERE u.channel = 'sms' AND u.number = c.phone) ORDER BY c.id")
    return sql, (tag_id,)


def _poster(url: str, headers: dict, transport: str):
    """``post(body) -> answer`` of a plain pool of ``CONCURRENCY`` keep-alive connections:
    a ``requests`` session, or (``urllib3``) the pools the product's BICS client uses."""
    if transport == "urllib3":
        import urllib3

        pool = urllib3.PoolManager(maxsize=CONCURRENCY)
        headers = {**headers, "Content-Type": "application/json"}

        def post(body):
            return json.loads(pool.request("POST", url, body=json.dumps(body).encode(), headers=headers,
                                           timeout=60, retries=False).data)

        return post
    session = requests.Session()
    session.trust_env = False  # no proxy lookup in the environment per request: the product's client reads it once
    session.mount("http://", requests.adapters.HTTPAdapter(pool_connections=CONCURRENCY, pool_maxsize=CONCURRENCY))

    def post(body):
        return session.post(url, json=body, headers=headers, timeout=60).json()

    return post


def baseline(sandbox: Sandbox, tag_id: int, *, personalised: bool, transport: str = "requests") -> dict:
    """Audience by INSERT … SELECT, the same requests POSTed by a plain pool (``transport``),
    ids recorded."""
    from bench.db import placeholder, raw_connect

    sandbox.reset()
    db = raw_connect(os.environ["DATABASE_URL"])
    mark = placeholder(db)
    key = "INTEGER PRIMARY KEY" if mark == "?" else "BIGSERIAL PRIMARY KEY"
    db.execute(f"DROP TABLE IF EXISTS {BASELINE_TABLE}")
    db.execute(f"CREATE TABLE {BASELINE_TABLE} (id {key}, contact_id BIGINT, number TEXT, custom TEXT UNIQUE, "
               "text TEXT, status TEXT, bics_id TEXT)")
    post = _poster(sandbox.url + "sms/send", {"Authorization": f"Bearer {TOKEN}"}, transport)
    started = time.perf_counter()
    sql, params = _audience_sql(db, tag_id, personalised)
    db.execute("BEGIN")
    db.execute(sql, params)
    db.execute(f"CREATE INDEX {BASELINE_TABLE}_number ON {BASELINE_TABLE} (number)")
    db.execute("COMMIT")
    rows = db.execute(f"SELECT number, custom, text FROM {BASELINE_TABLE} ORDER BY id").fetchall()  # noqa: S608
    if personalised:
        bodies = [{"sender": "BENCH", "to": [r[0]], "message": r[2], "service": "ENT", "custom": r[1], "type": "N"}
                  for r in rows]
    else:
        bodies = [{"sender": "BENCH", "to": [r[0] for r in rows[i:i + 1000]], "service": "ENT", "type": "N",
                   "message": IDENTICAL_TEXT, "custom": f"b{i}"} for i in range(0, len(rows), 1000)]

    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        answers = list(pool.map(post, bodies))
    updates = [(item["id"], "submitted", str(item["mobile"]).lstrip("+"))
               for answer in answers for item in answer.get("data", [])]
    db.execute("BEGIN")
    db.cursor().executemany(f"UPDATE {BASELINE_TABLE} SET bics_id={mark}, status={mark} WHERE number={mark}",  # noqa: S608
                            updates)
    db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return {"recipients": len(rows), "per_s": round(len(rows) / elapsed, 1), "seconds": round(elapsed, 2),
            "http_requests": sandbox.sends()}


def run() -> dict:
    from bench import setup_django

    setup_django()
    from django.conf import settings

    from bench.txtrace import install

    install()
    sandbox = Sandbox()
    settings.BICS_API_BASE_URL = sandbox.url
    settings.BICS_API_TOKEN = TOKEN
    settings.BICS_RATE_LIMIT_REDIS_URL = ""
    settings.BICS_READ_TIMEOUT = 60
    settings.CAMPAIGN_CONCURRENCY = CONCURRENCY
    results = {}
    try:
        runs = [(key, n, personalised) for key, n, personalised in
                (("dispatch_1m", IDENTICAL, False), ("dispatch_100k", PERSONALISED, True)) if n > 0]
        tags = {key: contacts(n, f"bench-{key}") for key, n, _p in runs}
        # the product runs first, so the baseline's lists never inflate the product's peak RSS
        for key, _n, personalised in runs:
            campaign = _campaign(key, PERSONAL_TEXT if personalised else IDENTICAL_TEXT, tags[key])
            results[key] = product(sandbox, campaign)
        for key, _n, personalised in runs:
            base = baseline(sandbox, tags[key], personalised=personalised)
            figures = results[key]
            figures.update(baseline_per_s=base["per_s"], baseline_http_requests=base["http_requests"],
                           baseline_recipients=base["recipients"],
                           ratio=round(figures["per_s"] / base["per_s"], 3) if base["per_s"] else None)
            if personalised:  # one request per recipient: the HTTP stack weighs; the same loop on urllib3 too
                same = baseline(sandbox, tags[key], personalised=True, transport="urllib3")
                figures.update(baseline_urllib3_per_s=same["per_s"],
                               ratio_urllib3=round(figures["per_s"] / same["per_s"], 3) if same["per_s"] else None)
            print(f"{key}: {json.dumps(figures)}", file=sys.stderr)
    finally:
        sandbox.stop()
    return results


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
