"""``core.sql_rows``: a set of rows as a table inside one statement, run by ``execute``."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from core import sql_rows
from core.sql_rows import execute, in_clause, rows_cte
from tests.concurrency import on_postgresql, run_on_postgresql

pytestmark = pytest.mark.django_db

COLUMNS = (("name", "text"),)


def insert_groups(names: list[str]) -> None:
    cte, params = rows_cte("v", COLUMNS, [(name,) for name in names])
    with connection.cursor() as cursor:
        execute(cursor, f"{cte} INSERT INTO auth_group (name) SELECT name FROM v", params)


def test_a_set_of_rows_is_written_by_one_statement_that_the_execute_wrappers_see():
    seen: list[str] = []

    def wrapper(run, sql, params, many, context):
        seen.append(sql)
        return run(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        insert_groups(["rows-a", "rows-b", "rows-%"])
    assert sorted(Group.objects.filter(name__startswith="rows-").values_list("name", flat=True)) == [
        "rows-%", "rows-a", "rows-b"]
    assert len(seen) == 1 and "INSERT INTO auth_group" in seen[0]
    if connection.vendor == "sqlite":  # converted for the driver before the wrappers see it
        assert "%s" not in seen[0] and seen[0].count("?") == 3


def test_the_conversion_is_made_once_per_distinct_statement():
    if connection.vendor != "sqlite":
        return
    insert_groups(["once-a", "once-b"])
    hits = sql_rows._qmark.cache_info().hits
    insert_groups(["once-c", "once-d"])
    assert sql_rows._qmark.cache_info().hits == hits + 1
    assert sql_rows._qmark("SELECT '%%', %s") == "SELECT '%', ?"  # what Django's cursor makes of it


def test_results_and_errors_are_djangos():
    Group.objects.create(name="rows-taken")
    where, params = in_clause("name", ["rows-taken", "rows-free"])
    with connection.cursor() as cursor:
        execute(cursor, f"SELECT name FROM auth_group WHERE {where}", params)  # noqa: S608 - constants
        assert cursor.fetchall() == [("rows-taken",)]
    with pytest.raises(IntegrityError):  # Django's exception, not the driver's
        insert_groups(["rows-taken"])


def test_logged_queries_are_logged_as_any_other():
    with CaptureQueriesContext(connection) as queries:
        insert_groups(["logged-a"])
    assert len(queries) == 1 and "INSERT INTO auth_group" in queries[0]["sql"]
    assert Group.objects.filter(name="logged-a").exists()


@pytest.mark.postgres
@pytest.mark.slow
def test_sql_rows_on_postgresql():
    if on_postgresql():
        return
    run_on_postgresql(["tests/core/test_sql_rows.py"], name="sql_rows")
