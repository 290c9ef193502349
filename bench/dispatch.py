"""Campaign dispatch benchmark: the product's engine end to end against the sandbox over HTTP.

Two campaigns, each through the real services (``write_messages`` resolves the audience and
bulk-writes Message/SendBatch rows, streaming; ``campaign_run`` claims, sends, records):

* ``dispatch_1m``: N recipients, one text, batches of 1000 numbers in ``to`` arrays;
* ``dispatch_100k``: M recipients, one request each, ``CAMPAIGN_CONCURRENCY`` in flight.

Figures: recipients/s (resolve + write + send + record), HTTP requests made (counted by the
sandbox), peak RSS of this process. In the same run, the bare baseline: the same rows
bulk-inserted into a plain SQLite table with ``executemany`` and the same requests POSTed by a
plain loop with the same concurrency (requests.Session, thread pool). ``ratio`` is
product/baseline recipients per second.

    python -m bench dispatch
    BENCH_DISPATCH_IDENTICAL=100000 BENCH_DISPATCH_PERSONALISED=10000 python -m bench.dispatch
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import requests

IDENTICAL = int(os.environ.get("BENCH_DISPATCH_IDENTICAL", "1000000"))
PERSONALISED = int(os.environ.get("BENCH_DISPATCH_PERSONALISED", "100000"))
CONCURRENCY = int(os.environ.get("BENCH_DISPATCH_CONCURRENCY", "16"))
TOKEN = "bench-dispatch-token"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sandbox:
    """The sandbox in its own process (asyncio transport), DLRs far in the future."""

    def __init__(self):
        self.port = _free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bics.sandbox", "--port", str(self.port), "--transport", "asyncio",
             "--dlr-delay", "86400", "--get-limit", "100000000"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                requests.get(self.inspect + "config", timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("sandbox did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v2/"

    @property
    def inspect(self) -> str:
        return f"http://127.0.0.1:{self.port}/_sandbox/"

    def reset(self) -> None:
        requests.post(self.inspect + "reset", timeout=60).raise_for_status()

    def sends(self) -> int:
        counts = requests.get(self.inspect + "requests", timeout=60).json()["counts"]
        return sum(v for k, v in counts.items() if k.endswith("messages.send"))

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def _contacts(n: int, tag_name: str) -> None:
    """n contacts tagged ``tag_name``, inserted in bulk (setup, not measured)."""
    from django.db import connection, transaction

    from contacts.models import Contact, Tag

    tag = Tag.objects.create(name=tag_name)
    start = Contact.objects.count()
    now = "2026-01-01 00:00:00"
    with transaction.atomic(), connection.cursor() as cur:
        table, through = Contact._meta.db_table, Contact.tags.through._meta.db_table
        for chunk in range(0, n, 50_000):  # chunks: the setup must not inflate the measured RSS
            rows = [(f"+3247{start + i:07d}", f"+3247{start + i:07d}", "BE", f"Ann{i}", now, now, "never", "", "",
                     "", "", "", "", "{}") for i in range(chunk, min(n, chunk + 50_000))]
            cur.executemany(
                f"INSERT INTO {table} (phone, identity, country, first_name, created_at, updated_at, sync_state, "  # noqa: S608
                "sync_error, email, last_name, company, postal_code, gender, attributes) "
                "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)", rows)
        cur.execute(f"INSERT INTO {through} (contact_id, tag_id) SELECT id, %s FROM {table} WHERE id > %s",  # noqa: S608
                    [tag.pk, start])


def _campaign(name: str, content: str, tag_name: str):
    from contacts.models import Tag
    from messaging.campaigns.models import Campaign
    from messaging.catalogue.models import Sender, Template, TemplateApproval

    sender, _ = Sender.objects.get_or_create(name="BENCH", country_code="BE", service="ENT", defaults={"status": 1})
    template = Template.objects.create(channel="sms", name=name, content=content, sender=sender, template_type="SI",
                                       approval_state="approved", provider_status="1", bics_id=f"b-{name}")
    Template.objects.filter(pk=template.pk).update(approved_hash=template.content_hash, sync_state="synced")
    TemplateApproval.objects.create(template=template, version=1, decision="approved", content=content,
                                    sender_name=sender.name, template_type="SI")
    campaign = Campaign.objects.create(name=name, channel="sms", template=template, sender=sender, batch_size=1000)
    campaign.tags.add(Tag.objects.get(name=tag_name))
    return campaign


def _self_rss():
    """Peak RSS of this process only (the sandbox is a child process: not counted)."""
    from bench.import_contacts import RssSampler

    class SelfRss(RssSampler):
        @staticmethod
        def _tree(pid: int) -> list[int]:
            return [pid]

    return SelfRss()


def product(sandbox: Sandbox, n: int, *, personalised: bool) -> dict:
    from django.conf import settings
    from django.utils import timezone

    from messaging.campaigns.models import Campaign, Message
    from messaging.campaigns.services import dispatch
    from messaging.campaigns.services.campaigns import campaign_transition, write_messages

    tag = f"bench-{'p' if personalised else 'i'}"
    _contacts(n, tag)
    content = ("Hello {{first_name}}, your order is ready for pickup at our Brussels shop." if personalised
               else "Your order is ready for pickup at our Brussels shop until Saturday.")
    campaign = _campaign(tag, content, tag)
    settings.CAMPAIGN_CONCURRENCY = CONCURRENCY
    sandbox.reset()
    sampler = _self_rss()
    sampler.start()
    started = time.perf_counter()
    # campaign_launch without the preview's counts and cost estimate (measured separately)
    campaign_transition(campaign=campaign, to=Campaign.State.SENDING, from_states=[Campaign.State.DRAFT],
                        launched_at=timezone.now(), next_batch_at=timezone.now(),
                        template_approval=campaign.template.last_approval)
    written = write_messages(campaign=campaign)
    wrote = time.perf_counter()
    dispatch.campaign_run(campaign.pk, poll_every=10 ** 9)
    elapsed = time.perf_counter() - started
    peak = round(sampler.stop(), 1)
    queued = Message.objects.filter(campaign=campaign, status="queued").count()
    return {"recipients": written, "seconds": round(elapsed, 2), "write_s": round(wrote - started, 2),
            "per_s": round(written / elapsed, 1), "http_requests": sandbox.sends(), "peak_rss_mb": peak,
            "left_queued": queued}


def baseline(sandbox: Sandbox, n: int, *, personalised: bool) -> dict:
    """The same rows bulk-inserted by executemany, the same requests POSTed by a plain loop."""
    sandbox.reset()
    path = os.path.join(tempfile.mkdtemp(prefix="bench-dispatch-"), "baseline.sqlite3")
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE message (id INTEGER PRIMARY KEY, number TEXT, custom TEXT UNIQUE, text TEXT, "
               "status TEXT, bics_id TEXT)")
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=CONCURRENCY, pool_maxsize=CONCURRENCY)
    session.mount("http://", adapter)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    url = sandbox.url + "sms/send"
    started = time.perf_counter()
    numbers = (f"3247{i:07d}" for i in range(n))
    rows = [(num, f"x{i}", f"Hello Ann{i}, your order is ready." if personalised else "", "queued")
            for i, num in enumerate(numbers)]
    db.executemany("INSERT INTO message (number, custom, text, status) VALUES (?,?,?,?)", rows)
    db.execute("CREATE INDEX message_number ON message (number)")
    db.commit()
    if personalised:
        bodies = [{"sender": "BENCH", "to": [r[0]], "message": r[2], "service": "ENT", "custom": r[1], "type": "N"}
                  for r in rows]
    else:
        bodies = [{"sender": "BENCH", "to": [r[0] for r in rows[i:i + 1000]], "service": "ENT", "type": "N",
                   "message": "Your order is ready for pickup.", "custom": f"b{i}"} for i in range(0, n, 1000)]

    def post(body):
        return session.post(url, json=body, headers=headers, timeout=60).json()

    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        answers = list(pool.map(post, bodies))
    updates = [(item["id"], "submitted", str(item["mobile"]).lstrip("+"))
               for answer in answers for item in answer.get("data", [])]
    db.executemany("UPDATE message SET bics_id=?, status=? WHERE number=?", updates)
    db.commit()
    elapsed = time.perf_counter() - started
    db.close()
    shutil.rmtree(os.path.dirname(path), ignore_errors=True)
    return {"per_s": round(n / elapsed, 1), "seconds": round(elapsed, 2), "http_requests": sandbox.sends()}


def run() -> dict:
    from bench import setup_django

    setup_django()
    from django.conf import settings

    sandbox = Sandbox()
    settings.BICS_API_BASE_URL = sandbox.url
    settings.BICS_API_TOKEN = TOKEN
    settings.BICS_RATE_LIMIT_REDIS_URL = ""
    settings.BICS_READ_TIMEOUT = 60
    results = {}
    try:
        runs = [(key, n, personalised) for key, n, personalised in
                (("dispatch_1m", IDENTICAL, False), ("dispatch_100k", PERSONALISED, True)) if n > 0]
        # the product runs first, so the baseline's lists never inflate the product's peak RSS
        for key, n, personalised in runs:
            results[key] = product(sandbox, n, personalised=personalised)
        for key, n, personalised in runs:
            base = baseline(sandbox, n, personalised=personalised)
            figures = results[key]
            figures["baseline_per_s"] = base["per_s"]
            figures["baseline_http_requests"] = base["http_requests"]
            figures["ratio"] = round(figures["per_s"] / base["per_s"], 3) if base["per_s"] else None
            print(f"{key}: {json.dumps(figures)}", file=sys.stderr)
    finally:
        sandbox.stop()
    return results


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
