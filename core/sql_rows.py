"""A set of rows as a named table inside one statement (``WITH v (a, b) AS (…)``), for the
set-based writers: ``UPDATE … FROM v``, ``INSERT … SELECT … FROM v``.

SQLite gets a ``VALUES`` list (binding is cheap there; callers keep a set's rows under its
32,766 parameters). PostgreSQL gets ``unnest`` of one array per column: a short statement
whatever the number of rows. psycopg, binding on the client as Django has it do, splits a
statement at its placeholders in Python and caches only short statements, so a ``VALUES``
list of thousands of placeholders cost more there than running it.

``execute`` runs such a statement. On SQLite, Django's cursor rewrites every ``%s`` into
``?`` with a regular expression over the whole text at each call: over a ``VALUES`` list of
thousands of placeholders, a twelfth of the webhook drain's time. ``execute`` converts each
distinct statement once and hands it to the driver's cursor, through the connection's
execute wrappers and error wrapping as Django's cursor does.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Sequence

from django.db import connection
from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX


def rows_cte(name: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence]) -> tuple[str, list]:
    """``(sql, params)`` of ``WITH name (column, …) AS (…)`` holding ``rows`` (each a
    sequence in the order of ``columns``). ``columns``: (name, PostgreSQL type) pairs."""
    if not rows:
        raise ValueError("no rows")
    names = ", ".join(column for column, _type in columns)
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"CAST(%s AS {pg_type}[])" for _column, pg_type in columns)
        return f"WITH {name} ({names}) AS (SELECT * FROM unnest({arrays}))", [list(c) for c in zip(*rows, strict=True)]
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    return f"WITH {name} ({names}) AS (VALUES {', '.join([row] * len(rows))})", [v for r in rows for v in r]


def keys_clause(column: str, keys: list) -> tuple[str, list]:
    """``(sql, params)`` of `` AND column = ANY(keys)`` on PostgreSQL, nothing elsewhere: with
    it, an ``UPDATE … FROM`` the rows of ``rows_cte`` reads the table's rows by their key
    instead of hashing the whole table (the plan PostgreSQL takes for a few hundred rows of
    ``unnest`` against a table of some thousands). SQLite reads each row by its key already."""
    if connection.vendor != "postgresql":
        return "", []
    return f" AND {column} = ANY(%s)", [list(keys)]


def in_clause(column: str, values: Sequence) -> tuple[str, list]:
    """``(sql, params)`` of ``column IN (…)``: on PostgreSQL ``column = ANY(%s)`` with one
    array (a short statement, for the reason of ``rows_cte``)."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(values)]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


@functools.lru_cache(maxsize=32)
def _qmark(sql: str) -> str:
    """Django's conversion of a statement for SQLite (``%s`` to ``?``, ``%%`` to ``%``)."""
    return FORMAT_QMARK_REGEX.sub("?", sql).replace("%%", "%")


def execute(cursor, sql: str, params: Sequence) -> None:
    """``cursor.execute(sql, params)`` (a Django cursor, ``%s`` placeholders); on SQLite
    with the statement converted once per distinct text (see the module's docstring). The
    connection's execute wrappers (``core.batches.turns``, tracing) see it as any statement;
    when queries are logged (DEBUG, ``assertNumQueries``) Django's cursor runs it, and logs it."""
    db = cursor.db
    if db.vendor != "sqlite" or db.queries_logged:
        cursor.execute(sql, params)
        return
    driver = cursor.cursor  # the driver's cursor under Django's wrapper

    def run(sql, params, many, context):
        db.validate_no_broken_transaction()
        with db.wrap_database_errors:
            sqlite3.Cursor.execute(driver, sql, params)

    for wrapper in reversed(db.execute_wrappers):
        run = functools.partial(wrapper, run)
    run(_qmark(sql), params, False, {"connection": db, "cursor": cursor})
