"""Delivery reports applied in sets: hundreds of reports in a handful of statements.

``dlr_apply_set`` is the apply path of the webhook drain and of the DLR poll; it follows
the rules of ``dlr.dlr_record`` (the reconciliation's, one report at a time): reports read
by the same ``dlr_rules.parse_dlr``, statuses moved by the same ``dlr_rules.ALLOWED_FROM``.
For a set of reports of one channel it

* finds their messages with three set queries: BICS's message id, our ``custom_id``, then
  the batch's ``custom`` with the number (an identical-text batch needs no per-recipient id);
* fills BICS's message id and group id where still blank (one prepared statement);
* moves statuses with one ``UPDATE … FROM (VALUES …)`` per round whose ``WHERE`` lists, per
  new status, the statuses it may replace (``ALLOWED_FROM``), so a status never moves
  backwards; a message with several reports in one set
  takes them in arrival order, one round each, as if they came one by one;
* stores every report (``applied`` says whether it moved the status).
"""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from core.sql_rows import execute, in_clause, keys_clause, rows_cte
from messaging.campaigns import dlr_codes
from messaging.campaigns.models import DeliveryReport, Message, SendBatch
from messaging.campaigns.models import MessageStatus as S
from messaging.campaigns.services.dlr_rules import ALLOWED_FROM, FINAL_ERRORS, Dlr, parse_dlr

ROWS = 1000  # rows per statement (SQLite's VALUES lists: 11 parameters a row at most, under its 32,766)
REPORT_COLUMNS = (("message_id", "bigint"), ("channel", "text"), ("source", "text"), ("bics_message_id", "text"),
                  ("cid", "text"), ("mobile", "text"), ("status", "text"), ("code", "text"), ("applied", "boolean"),
                  ("raw", "jsonb"), ("received_at", "timestamptz"))


def dlr_apply_set(*, channel: str, items: list, source: str, message_ids: list[int | None] | None = None,
                  texts: list[str | None] | None = None) -> list[tuple[int | None, bool]]:
    """Apply and store a set of reports of one channel (the reports with one INSERT per
    ``ROWS``, no model instances); returns (message id, applied) per item, in order.
    ``message_ids``: the message of each item when the caller knows it (a WhatsApp/Viber
    report pulled for one message); the others are matched. ``texts``: each item's JSON as
    the caller holds it (a stored webhook payload), kept as the report's raw when it is the
    whole item."""
    dlrs = _apply(channel, items, message_ids)
    texts = texts if texts is not None else [None] * len(dlrs)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = [(d.message_id, channel, source, d.bics_id[:100], d.cid[:64], d.mobile[:20], d.status_text[:32] or d.new
             or "", d.code[:8], d.applied, d.raw_json(text), now) for d, text in zip(dlrs, texts, strict=True)]
    names = ", ".join(column for column, _type in REPORT_COLUMNS)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), ROWS):
            cte, params = rows_cte("v", REPORT_COLUMNS, rows[start:start + ROWS])
            execute(cursor, f"{cte} INSERT INTO {DeliveryReport._meta.db_table} ({names}) "  # noqa: S608 - our table
                    f"SELECT {names} FROM v", params)
    return [(d.message_id, d.applied) for d in dlrs]


def _apply(channel: str, items: list, message_ids: list[int | None] | None) -> list[Dlr]:
    dlrs = [parse_dlr(channel, item) for item in items]
    if message_ids is not None:
        for d, message_id in zip(dlrs, message_ids, strict=True):
            d.message_id = message_id
    match_messages(channel, [d for d in dlrs if d.message_id is None])
    _fill_ids(dlrs)
    _apply_statuses(dlrs)
    return dlrs


def match_messages(channel: str, dlrs: list[Dlr]) -> None:
    """Set ``message_id`` by BICS's id, then ``custom_id``, then batch ``custom`` + number
    (plain SQL: compiling the ORM's ``IN`` lists cost as much as running them)."""
    table, on_channel = Message._meta.db_table, (" AND channel = %s", [channel]) if channel else ("", [])
    ids = list({d.bics_id for d in dlrs if d.bics_id})
    if ids:  # the oldest message with that id, as the poll's ``dlr_record`` finds it
        # ``NOT (… = '')`` is the partial index's own condition: without it neither SQLite nor
        # PostgreSQL (past 100 values) proves the index usable and each set scans every message.
        where, params = in_clause("bics_message_id", ids)
        found = dict(_rows(f"SELECT bics_message_id, id FROM {table} WHERE {where}"  # noqa: S608 - our table
                           f" AND NOT (bics_message_id = ''){on_channel[0]} ORDER BY id DESC",
                           [*params, *on_channel[1]]))
        for d in dlrs:
            d.message_id = found.get(d.bics_id)
            d.by_id = d.message_id is not None
    left = [d for d in dlrs if d.message_id is None and d.cid]
    if left:
        where, params = in_clause("custom_id", list({d.cid for d in left}))
        found = dict(_rows(f"SELECT custom_id, id FROM {table} WHERE {where}{on_channel[0]}",  # noqa: S608
                           [*params, *on_channel[1]]))
        for d in left:
            d.message_id = found.get(d.cid)
    left = [d for d in left if d.message_id is None and d.mobile]
    if left:
        where, params = in_clause("custom", list({d.cid for d in left}))
        batches = dict(_rows(f"SELECT custom, id FROM {SendBatch._meta.db_table} WHERE {where}", params))  # noqa: S608
        by_batch, batch_params = in_clause("batch_id", list(set(batches.values())))
        by_number, number_params = in_clause("number", list({d.mobile for d in left}))
        rows = _rows(f"SELECT batch_id, number, id FROM {table} WHERE {by_batch} AND {by_number}"  # noqa: S608
                     f"{on_channel[0]} ORDER BY id DESC", [*batch_params, *number_params, *on_channel[1]]) \
            if batches else []
        found = {(b, n): pk for b, n, pk in rows}
        for d in left:
            d.message_id = found.get((batches.get(d.cid), d.mobile))


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        execute(cursor, sql, params)  # ``IN`` lists of hundreds of placeholders
        return cursor.fetchall()


def _fill_ids(dlrs: list[Dlr]) -> None:
    """BICS's ids are recorded where still blank, whether or not the status moves."""
    table = Message._meta.db_table
    ids = [(d.bics_id[:100], d.message_id) for d in dlrs if d.message_id and d.bics_id and not d.by_id]
    groups = [(str(d.data["group_id"])[:64], d.message_id) for d in dlrs if d.message_id and d.data.get("group_id")]
    with connection.cursor() as cursor:
        if ids:
            cursor.executemany(f"UPDATE {table} SET bics_message_id = %s "  # noqa: S608 - our table
                               "WHERE id = %s AND bics_message_id = ''", ids)
        if groups:
            cursor.executemany(f"UPDATE {table} SET group_id = %s WHERE id = %s AND group_id = ''",  # noqa: S608
                               groups)


def _apply_statuses(dlrs: list[Dlr]) -> None:
    rounds: list[list[Dlr]] = []
    seen: dict[int, int] = {}
    for d in dlrs:
        if d.message_id is None or not ALLOWED_FROM.get(d.new):
            continue
        index = seen.get(d.message_id, 0)
        seen[d.message_id] = index + 1
        if index == len(rounds):
            rounds.append([])
        rounds[index].append(d)
    for group in rounds:
        moved = _update(group)
        for d in group:
            d.applied = d.message_id in moved
        late = [(d.at, d.message_id) for d in group if d.new == S.SUBMITTED and not d.applied]
        if late:  # a late send answer after a DLR: keep when it was submitted
            with connection.cursor() as cursor:
                cursor.executemany(f"UPDATE {Message._meta.db_table} SET submitted_at = %s "  # noqa: S608
                                   "WHERE id = %s AND submitted_at IS NULL",
                                   [(connection.ops.adapt_datetimefield_value(at), pk) for at, pk in late])


UPDATE_COLUMNS = (("mid", "bigint"), ("st", "text"), ("bst", "text"), ("at_", "timestamptz"), ("code", "text"),
                  ("descr", "text"), ("price", "numeric"), ("parts", "integer"))


def _update(group: list[Dlr]) -> set[int]:
    """One UPDATE per ``ROWS`` reports of the round; returns the ids of the messages that moved."""
    adapt_time, adapt_decimal = connection.ops.adapt_datetimefield_value, connection.ops.adapt_decimalfield_value
    rows = []
    # reports of a set share their times (seconds) and prices: each adapted once
    times: dict[str | None, str] = {}
    prices: dict[str, object] = {}
    for d in group:
        error, key, credits = d.new in FINAL_ERRORS, str(d.at_raw), str(d.data.get("credits"))
        when = times.get(key)
        if when is None:
            when = times[key] = adapt_time(d.at)
        if credits not in prices:
            price = d.price
            prices[credits] = adapt_decimal(price, 12, 6) if price is not None else None
        rows.append((d.message_id, d.new, d.bics_status, when, d.code[:8] if error else "",
                     dlr_codes.describe(d.bics_status, d.code)[:255] if error else "", prices[credits], d.parts))
    table = Message._meta.db_table
    # the statuses each new one may replace (``dlr.ALLOWED_FROM``): never backwards
    allowed = " ".join(f"WHEN '{new}' THEN {table}.status IN ({', '.join(repr(str(o)) for o in old)})"
                       for new, old in ALLOWED_FROM.items() if old)
    final = ", ".join(f"'{s}'" for s in FINAL_ERRORS)
    sql = (
        f"UPDATE {table} SET status = v.st, status_at = %s, "  # noqa: S608 - our table and constants
        f"bics_status = CASE WHEN v.bst <> '' THEN v.bst ELSE {table}.bics_status END, "
        f"submitted_at = CASE WHEN v.st = 'submitted' THEN v.at_ ELSE {table}.submitted_at END, "
        f"delivered_at = CASE WHEN v.st IN ('delivered', 'read') THEN v.at_ ELSE {table}.delivered_at END, "
        f"error_code = CASE WHEN v.st IN ({final}) THEN v.code ELSE {table}.error_code END, "
        f"error_description = CASE WHEN v.st IN ({final}) THEN v.descr ELSE {table}.error_description END, "
        f"price = COALESCE(v.price, {table}.price), parts = COALESCE(v.parts, {table}.parts) "
        f"FROM v WHERE {table}.id = v.mid AND (CASE v.st {allowed} ELSE FALSE END)")
    moved: set[int] = set()
    now = adapt_time(timezone.now())
    with connection.cursor() as cursor:
        for start in range(0, len(rows), ROWS):
            chunk = rows[start:start + ROWS]
            cte, params = rows_cte("v", UPDATE_COLUMNS, chunk)
            keys, key_params = keys_clause(f"{table}.id", [row[0] for row in chunk])
            execute(cursor, f"{cte} {sql}{keys} RETURNING {table}.id", [*params, now, *key_params])
            moved.update(pk for (pk,) in cursor.fetchall())
    return moved
