"""Webhooks under load and faults: EVENTS genuine DLR callbacks (10k in ``make bench`` via
RELIABILITY_WEBHOOK_EVENTS; 1,000 in the default run) posted with 10 % duplicates (BICS
retries), 5 % out of order (an older status arriving after the final one) and 1 % forged
(wrong secret / only a signature keyed by the public webhook id): each genuine event is stored and processed once, every forged
one is refused and leaves no trace, and no message moves backwards."""

from __future__ import annotations

import json
import os
import random

import pytest
from django.db import connection

from bics.webhooks import sign
from messaging.campaigns.models import DeliveryReport, Message
from messaging.webhooks.models import Webhook, WebhookEvent

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
EVENTS = int(os.environ.get("RELIABILITY_WEBHOOK_EVENTS", "1000"))
SECRET = "reliability-webhook-secret-0123"
BICS_ID = "991"


def body(message_id: str, status: str, number: str, **extra) -> bytes:
    payload = {"id": message_id, "mobile": number, "status": status, "cid": "", "custom": "",
               "submit_time": "2026-01-02 09:59:00", "deliv_time": "2026-01-02 10:00:00", **extra}
    return json.dumps({"event": "sms:message:status", "payload": payload}).encode()


@pytest.mark.parametrize("store", ["table", pytest.param("inbox", marks=pytest.mark.django_db(transaction=True))])
def test_genuine_events_processed_once_forged_refused_none_backwards(client, settings, tmp_path, store, monkeypatch,
                                                                       django_capture_on_commit_callbacks):
    """``store``: into the event table at once (inside the test's transaction, as on
    PostgreSQL), or, as a server on SQLite does, into the process's inbox, moved by the drain."""
    from messaging.webhooks import inbox
    from messaging.webhooks.base import forget_webhooks
    from messaging.webhooks.ingest import apply_pending_events

    settings.BICS_WEBHOOK_CACHE_SECONDS = 0
    if store == "inbox":
        if connection.vendor != "sqlite":
            pytest.skip("the inbox is SQLite's")
        settings.BICS_WEBHOOK_INBOX, settings.BICS_WEBHOOK_INBOX_DIR = True, str(tmp_path / "inbox")
        inbox.forget_own()
        # in autocommit each post nudges the drain: a broker an earlier test stopped would hold
        # each post for its connection retries; the drain runs below instead
        monkeypatch.setattr("messaging.webhooks.services.kick", lambda: None)
    forget_webhooks()
    Webhook.objects.create(name="Back-office", uri="http://127.0.0.1:8000/webhooks/bics/relhook/", secret=SECRET,
                           bics_id=BICS_ID, slug="relhook")
    rng = random.Random(11)
    Message.objects.bulk_create([Message(channel="sms", number=f"+3249{i:07d}", custom_id=f"rel-{i}",
                                         status="submitted", bics_message_id=f"rm-{i}") for i in range(EVENTS)])
    genuine = [body(f"rm-{i}", "DELIVRD" if i % 10 else "UNDELIV", f"3249{i:07d}") for i in range(EVENTS)]
    posts = [("genuine", b) for b in genuine]
    late = rng.sample(range(EVENTS), EVENTS * 5 // 100)  # an older status after the final one
    posts += [("late", body(f"rm-{i}", "ACCEPTD", f"3249{i:07d}", deliv_time=None)) for i in late]
    posts += [("duplicate", genuine[i]) for i in rng.sample(range(EVENTS), EVENTS * 10 // 100)]
    forged = [body(f"rm-{i}", "EXPIRED", f"3249{i:07d}") for i in rng.sample(range(EVENTS), EVENTS // 100)]
    posts += [("forged", b) for b in forged]
    # finals first so the late ones really arrive late; the rest in random order
    head = [p for p in posts if p[0] == "genuine"]
    tail = [p for p in posts if p[0] != "genuine"]
    rng.shuffle(head)
    rng.shuffle(tail)
    refused = 0
    with django_capture_on_commit_callbacks(execute=True):
        for n, (kind, raw) in enumerate(head + tail):
            headers = {"HTTP_AUTHORIZATION": f"Bearer {SECRET}", "HTTP_SIGNATURE": sign(raw, BICS_ID)}
            if kind == "forged":
                headers = ({"HTTP_AUTHORIZATION": "Bearer not-the-secret", "HTTP_SIGNATURE": sign(raw, BICS_ID)}
                           if n % 2 else {"HTTP_SIGNATURE": sign(raw, BICS_ID)})  # the public id proves nothing
            response = client.generic("POST", "/webhooks/bics/relhook/", raw, content_type="application/json",
                                      **headers)
            if kind == "forged":
                assert response.status_code in (401, 403), response.status_code
                refused += 1
            else:
                assert response.status_code == 200, (kind, response.status_code, response.content[:200])
    assert refused == len(forged)
    apply_pending_events()  # what a drain nudged meanwhile has not applied (the broker's state is the tests')
    if store == "inbox":
        assert inbox.held_keys(connection) == set()
        inbox.forget_own()
    genuine_events = EVENTS + len(late)  # duplicates are the same event again
    assert WebhookEvent.objects.count() == genuine_events
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {"processed"}
    assert DeliveryReport.objects.filter(source="webhook").count() == genuine_events
    assert DeliveryReport.objects.filter(status="EXPIRED").count() == 0  # nothing of a forged event
    assert Message.objects.filter(status="delivered").count() == EVENTS - EVENTS // 10
    assert Message.objects.exclude(status__in=["delivered", "failed", "rejected", "undelivered"]).count() == 0, \
        list(Message.objects.values_list("status", flat=True).distinct())
    assert DeliveryReport.objects.filter(status="ACCEPTD", applied=True).count() == 0
    forget_webhooks()
