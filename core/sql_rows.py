"""A set of rows as a named table inside one statement (``WITH v (a, b) AS (…)``), for the
set-based writers: ``UPDATE … FROM v``, ``INSERT … SELECT … FROM v``.

SQLite gets a ``VALUES`` list (binding is cheap there; callers keep a set's rows under its
32,766 parameters). PostgreSQL gets ``unnest`` of one array per column: a short statement
whatever the number of rows. psycopg, binding on the client as Django has it do, splits a
statement at its placeholders in Python and caches only short statements, so a ``VALUES``
list of thousands of placeholders cost more there than running it.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection


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
