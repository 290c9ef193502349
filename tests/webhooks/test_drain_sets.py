"""The drain's set-based apply at scale: each set finds its messages through the indexes
(no scan of every message per set), and stays exact when sets get large."""

from __future__ import annotations

import pytest
from django.db import connection

from messaging.campaigns.models import Message
from messaging.campaigns.services import dlr_sets
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
    by_id = [(sql, params) for sql, params in queries if "bics_message_id IN" in sql]
    assert len(by_id) == 1
    assert "message_bics_id" in plan_of(*by_id[0])


@pytest.mark.postgres
@pytest.mark.slow
def test_the_drain_sets_on_postgresql():
    if on_postgresql():
        return
    run_on_postgresql(["tests/webhooks/test_drain_sets.py"], name="drain_sets")
