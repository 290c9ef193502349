"""``core.planner``: stale planner statistics refreshed on PostgreSQL before set-based work;
nothing to do on SQLite."""

from __future__ import annotations

import pytest
from django.db import connection

from contacts.models import Contact
from core.planner import stale_tables, statistics_refresh
from tests.concurrency import on_postgresql, run_on_postgresql

pytestmark = pytest.mark.django_db(transaction=True)

CONTACTS, TAGS = Contact._meta.db_table, Contact.tags.through._meta.db_table


def test_sqlite_has_nothing_to_refresh():
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL: see below")
    Contact.objects.bulk_create([Contact(phone=f"+3247{i:07d}") for i in range(50)])
    assert stale_tables([CONTACTS]) == [] and statistics_refresh(Contact) == []


def _analysed(table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(last_analyze, last_autoanalyze) IS NOT NULL FROM pg_stat_user_tables "
                       "WHERE relname = %s", [table])
        return cursor.fetchone()[0]


def test_tables_never_analysed_are_analysed_once_then_left_alone():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's statistics")
    Contact.objects.bulk_create([Contact(phone=f"+3247{i:07d}") for i in range(50)])
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    assert CONTACTS in stale_tables([CONTACTS, TAGS]) and not _analysed(CONTACTS)
    refreshed = statistics_refresh(Contact)
    assert CONTACTS in refreshed and set(refreshed) <= {CONTACTS, TAGS}
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    assert _analysed(CONTACTS) and CONTACTS not in stale_tables([CONTACTS])
    assert statistics_refresh(Contact) == []  # fresh: nothing analysed again


def test_a_table_grown_to_twice_its_analysed_size_is_stale_before_its_counters_show_it(monkeypatch):
    """Rows another connection wrote a moment ago may not be in the change counters yet; the
    table's size on disk shows them."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's statistics")
    from core import planner

    Contact.objects.bulk_create([Contact(phone=f"+3247{i:07d}") for i in range(10)])
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {CONTACTS}")
    monkeypatch.setattr(planner, "STALE_MIN_ROWS", 10**9)  # the counters alone never call it stale now
    assert CONTACTS not in stale_tables([CONTACTS])
    Contact.objects.bulk_create([Contact(phone=f"+3248{i:07d}") for i in range(3000)])
    assert CONTACTS in stale_tables([CONTACTS])
    assert CONTACTS in statistics_refresh(Contact)
    assert CONTACTS not in stale_tables([CONTACTS])


@pytest.mark.postgres
def test_planner_on_postgresql():
    if on_postgresql():
        pytest.skip("already on PostgreSQL")
    run_on_postgresql(["tests/core/test_planner.py"], name="planner")
