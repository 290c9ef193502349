"""``core.fields.RowidAutoField``: no AUTOINCREMENT on SQLite, a BigAutoField elsewhere."""

from __future__ import annotations

import pytest
from django.db import connection, models

from core.fields import RowidAutoField
from messaging.webhooks.models import WebhookEvent


def test_the_column_is_a_rowid_without_autoincrement_on_sqlite_and_a_bigautofield_elsewhere():
    field = RowidAutoField(primary_key=True)
    field.set_attributes_from_name("id")
    assert field.db_type(connection) == models.BigAutoField().db_type(connection)
    if connection.vendor == "sqlite":
        assert field.db_type_suffix(connection) is None
        assert models.BigAutoField().db_type_suffix(connection) == "AUTOINCREMENT"  # what it leaves out
    else:
        assert field.db_type_suffix(connection) == models.BigAutoField().db_type_suffix(connection)


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's table definition")
def test_webhook_events_get_growing_ids_without_a_sqlite_sequence_row():
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", [WebhookEvent._meta.db_table])
        (definition,) = cursor.fetchone()
        assert '"id" integer NOT NULL PRIMARY KEY' in definition and "AUTOINCREMENT" not in definition
    made = [WebhookEvent.objects.create(received_at="2026-01-01T00:00:00Z", event_type="t", dedupe_key=f"k{i}").pk
            for i in range(3)]
    assert made == sorted(made) and len(set(made)) == 3
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM sqlite_sequence WHERE name = %s", [WebhookEvent._meta.db_table])
        assert cursor.fetchone() == (0,)
