"""Planner statistics on PostgreSQL, refreshed before big set-based work.

PostgreSQL plans a query from each table's statistics, which ``ANALYZE`` (or autovacuum, some
time after enough rows changed) gathers. A table filled in bulk and queried at once is planned
as nearly empty: a launch right after 1M contacts came in planned its audience query's
opt-out anti-join as a loop over every opt-out for each contact (5M rows compared for a chunk
of 5,000 contacts: 1.1-2.5 s per chunk transaction instead of milliseconds).
"""

from __future__ import annotations

from django.db import connection

STALE_SHARE = 0.1  # changed rows since the last analysis, as a share of the live rows
STALE_MIN_ROWS = 1000
GROWN_MIN_PAGES = 8  # a table this many pages larger than when last analysed, and twice as large


def stale_tables(tables: list[str]) -> list[str]:
    """Those of ``tables`` never analysed, changed by more than ``STALE_SHARE`` of their rows
    since, or grown to twice their size then (PostgreSQL only; [] elsewhere).

    The change counters are those another connection has reported: a backend reports its
    counts when it goes idle, at most once a second and else up to ten seconds later, so rows
    written a moment ago may not show there yet. Filled in that moment, a table planned as
    the few rows it once had made a launch's audience query a triple loop (1,500 contacts
    just added: over a minute). The table's size on disk, against ``relpages`` of its last
    analysis, is exact at once."""
    if connection.vendor != "postgresql" or not tables:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid "
            "WHERE c.relname = ANY(%s) AND (COALESCE(s.last_analyze, s.last_autoanalyze) IS NULL "
            " OR s.n_mod_since_analyze > GREATEST(%s, %s * s.n_live_tup) "
            " OR pg_relation_size(c.oid) / current_setting('block_size')::int > GREATEST(2 * c.relpages, "
            "    c.relpages + %s)) ORDER BY c.relname",
            [tables, STALE_MIN_ROWS, STALE_SHARE, GROWN_MIN_PAGES])
        return [name for (name,) in cursor.fetchall()]


def statistics_refresh(*models) -> list[str]:
    """``ANALYZE`` the tables of ``models`` (and of their many-to-many tables) whose statistics
    are stale, each in a short statement of its own, outside any transaction of the caller's
    work; returns the tables analysed. A no-op on SQLite, which plans without them."""
    tables = []
    for model in models:
        tables.append(model._meta.db_table)
        tables += [field.remote_field.through._meta.db_table for field in model._meta.local_many_to_many]
    stale = stale_tables(tables)
    with connection.cursor() as cursor:
        for table in stale:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    return stale
