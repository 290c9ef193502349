"""The drain's set-based apply at scale: each set finds its messages through the indexes
(no scan of every message per set), and stays exact when sets get large."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from core.phones import e164_from_bics
from messaging.campaigns.models import DeliveryReport, Message
from messaging.campaigns.services import dlr_sets
from messaging.campaigns.services.dlr_rules import mobile_of
from messaging.webhooks import ingest
from messaging.webhooks.append import append_event
from messaging.webhooks.models import WebhookEvent
from messaging.webhooks.parsing import parse_body
from tests.concurrency import on_postgresql, run_on_postgresql

pytestmark = pytest.mark.django_db


def plan_of(sql: str, params: list) -> str:
    """The query plan as text; on PostgreSQL with sequential scans priced out, so a plan
    that still scans means the index cannot serve the query (a small table would scan anyway)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return " ".join(str(cell) for row in cursor.fetchall() for cell in row)


def test_reports_find_their_messages_by_the_partial_index_of_bics_ids(monkeypatch):
    # over 100 ids: PostgreSQL proves a partial index's condition from an IN list only up to 100
    Message.objects.bulk_create([Message(channel="sms", number=f"+3247{i:07d}", custom_id=f"p-{i}",
                                         status="submitted", bics_message_id=f"m-{i}") for i in range(150)])
    queries: list[tuple[str, list]] = []
    rows = dlr_sets._rows
    monkeypatch.setattr(dlr_sets, "_rows", lambda sql, params: queries.append((sql, params)) or rows(sql, params))
    results = dlr_sets.dlr_apply_set(channel="sms", items=[{"id": f"m-{i}", "status": "DELIVRD"} for i in range(150)],
                                     source="webhook")
    assert all(applied for _message, applied in results)
    by_id = [(sql, params) for sql, params in queries if sql.startswith("SELECT bics_message_id")]
    assert len(by_id) == 1
    assert "message_bics_id" in plan_of(*by_id[0])


def store(*payloads: dict) -> None:
    """Events stored as the receiver stores them (the worker is down)."""
    for payload in payloads:
        append_event(webhook_id=None, event=parse_body(json.dumps({"event": "sms:message:status",
                                                                    "payload": payload}).encode()))


def messages(n: int) -> list[Message]:
    return Message.objects.bulk_create([Message(channel="sms", number=f"+3247{i:07d}", custom_id=f"c-{i}",
                                                status="submitted", bics_message_id=f"m-{i}") for i in range(n)])


def test_sets_grow_while_their_transaction_is_short_and_shrink_when_one_is_long(settings, monkeypatch):
    settings.BICS_WEBHOOK_APPLY_SET = 50
    messages(400)
    store(*({"id": f"m-{i}", "status": "DELIVRD", "mobile": f"3247{i:07d}"} for i in range(400)))
    sizes: list[int] = []
    apply_set = ingest.apply_event_set
    monkeypatch.setattr(ingest, "apply_event_set", lambda size: sizes.append(size) or apply_set(size))
    monkeypatch.setattr(ingest, "SET_TARGET_S", 3600.0)
    assert ingest.apply_pending_events() == 400
    assert sizes == [50, 100, 200, 400, 400]  # the fourth takes the 50 left, the fifth finds none
    assert ingest.next_set_size(400, 400, ingest.SET_TARGET_S * 2) == 200
    assert ingest.next_set_size(ingest.SET_MIN, 10, ingest.SET_TARGET_S * 2) == ingest.SET_MIN
    assert ingest.next_set_size(ingest.SET_MAX, ingest.SET_MAX, 0.0) == ingest.SET_MAX
    assert ingest.next_set_size(400, 120, 0.0) == 400  # a set that was not full: no more were waiting
    assert Message.objects.filter(status="delivered").count() == 400 == DeliveryReport.objects.count()


def test_statements_split_past_their_row_limits_and_every_event_is_marked_once(monkeypatch):
    monkeypatch.setattr(dlr_sets, "ROWS", 3)
    monkeypatch.setattr(ingest, "MARK_ROWS", 4)
    found = messages(10)
    store(*({"id": f"m-{i}", "status": "DELIVRD", "mobile": f"3247{i:07d}", "credits": "0.5"} for i in range(10)))
    assert ingest.apply_pending_events() == 10
    assert set(WebhookEvent.objects.values_list("state", "attempts")) == {("processed", 1)}
    results = {event.result["message"]: event.result["applied"] for event in WebhookEvent.objects.all()}
    assert results == {m.pk: True for m in found}
    assert Message.objects.filter(status="delivered", price=0.5).count() == 10 == DeliveryReport.objects.count()
    assert ingest.apply_pending_events() == 0


def test_a_report_keeps_the_payload_as_stored_without_private_keys():
    messages(5)
    plain = {"id": "m-0", "status": "DELIVRD", "mobile": "32470000000", "units": 2}
    private = {"id": "m-1", "status": "DELIVRD", "mobile": "32470000001", "_seen": 1}
    nested = {"payload": {"id": "m-2", "status": "DELIVRD", "mobile": "32470000002"}, "note": "outer"}
    quoted = {"id": "m-3", "status": "DELIVRD", "mobile": "32470000003", "note": 'a "_b'}  # "_ in a value
    escaped = {"id": "m-4", "status": "DELIVRD", "mobile": "32470000004", "name": "Zoë", "_seen": 1}  # \u00eb
    store(plain, private, nested, quoted, escaped)
    assert ingest.apply_pending_events() == 5
    raw = {r.bics_message_id: r.raw for r in DeliveryReport.objects.all()}
    assert raw == {"m-0": plain, "m-1": {"id": "m-1", "status": "DELIVRD", "mobile": "32470000001"},
                   "m-2": nested["payload"], "m-3": quoted,
                   "m-4": {"id": "m-4", "status": "DELIVRD", "mobile": "32470000004", "name": "Zoë"}}
    assert Message.objects.get(bics_message_id="m-0").parts == 2


def test_each_event_records_its_message_and_whether_it_moved():
    found = messages(2)
    store({"id": "m-0", "status": "DELIVRD"}, {"id": "m-0", "status": "ACCEPTD"}, {"id": "nowhere", "status": "DELIVRD"})
    assert ingest.apply_pending_events() == 3
    results = [event.result for event in WebhookEvent.objects.order_by("pk")]
    assert results == [{"message": found[0].pk, "applied": True}, {"message": found[0].pk, "applied": False},
                       {"message": None, "applied": False}]  # the shape of ``message_status``'s, one at a time


@pytest.mark.parametrize("value", ["32470000001", "0032470000001", "+32 470 00 00 01", "00", "", None, 32470000001,
                                   "٣٢٤٧", "+", "0", "32-470-000001"])
def test_the_short_path_for_numbers_gives_what_e164_from_bics_gives(value):
    assert mobile_of(value) == e164_from_bics(value)


@pytest.mark.postgres
@pytest.mark.slow
def test_the_drain_sets_on_postgresql():
    if on_postgresql():
        return
    run_on_postgresql(["tests/webhooks/test_drain_sets.py"], name="drain_sets")
