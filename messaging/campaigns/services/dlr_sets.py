"""Delivery reports applied in sets: hundreds of reports in a handful of statements.

``dlr_apply_set`` is the apply path of the webhook drain; it follows the rules of
``dlr.dlr_record`` (which the poll and the reconciliation use, one report at a time) and
moves statuses by the same ``dlr.ALLOWED_FROM``. For a set of reports of one channel it

* finds their messages with three set queries: BICS's message id, our ``custom_id``, then
  the batch's ``custom`` with the number (an identical-text batch needs no per-recipient id);
* fills BICS's message id and group id where still blank (one prepared statement);
* moves statuses with one ``UPDATE … FROM (VALUES …)`` per round whose ``WHERE`` lists, per
  new status, the statuses it may replace (``dlr.ALLOWED_FROM``), so a status never moves
  backwards; a message with several reports in one set
  takes them in arrival order, one round each, as if they came one by one;
* stores every report (``applied`` says whether it moved the status).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import connection
from django.utils import timezone

from core.bics_time import parse_bics_time
from core.phones import e164_from_bics
from messaging.campaigns import dlr_codes
from messaging.campaigns.models import DeliveryReport, Message, MessageStatus, SendBatch
from messaging.campaigns.services.dlr import ALLOWED_FROM, _as_dict

S = MessageStatus
FINAL_ERRORS = (S.FAILED, S.REJECTED, S.EXPIRED)


@dataclass
class Dlr:
    data: dict
    bics_id: str
    cid: str
    mobile: str
    status_text: str
    code: str
    new: str | None
    message_id: int | None = None
    applied: bool = False
    by_id: bool = False  # matched by BICS's id: the message has it already

    @property
    def at(self) -> datetime:
        data = self.data
        raw = data.get("submit_time") if self.new == S.SUBMITTED else data.get("deliv_time")
        return parse_time(raw or data.get("updated_at")) or timezone.now()

    @property
    def raw(self) -> dict:
        return {k: v for k, v in self.data.items() if not str(k).startswith("_")}

    @property
    def bics_status(self) -> str:
        return (self.status_text or dlr_codes.STATUS_BY_CODE.get(self.code, ""))[:32]

    @property
    def price(self) -> Decimal | None:
        if self.data.get("credits") in (None, ""):
            return None
        try:
            return Decimal(str(self.data["credits"]))
        except (InvalidOperation, ValueError):
            return None

    @property
    def parts(self) -> int | None:
        units = self.data.get("units")
        return int(units) if str(units or "").isdigit() and int(units) > 0 else None


def parse_time(value) -> datetime | None:
    try:
        return parse_bics_time(value) if value else None
    except (TypeError, ValueError):
        return None


@functools.cache
def _code_of_status() -> dict[str, str]:
    """Statuses that only one code has, and that code."""
    codes: dict[str, list[str]] = {}
    for code, status in dlr_codes.STATUS_BY_CODE.items():
        codes.setdefault(status, []).append(code)
    return {status: found[0] for status, found in codes.items() if len(found) == 1}


def parse_dlr(channel: str, item) -> Dlr:
    """One raw report (a dict as BICS sends it, or a ``bics`` Dlr/ChannelDlr)."""
    data = _as_dict(item)
    if isinstance(data.get("payload"), Mapping) and "status" not in data:  # {event, payload}
        data = dict(data["payload"])
    status_text = str(data.get("status") or "")
    code = data.get("code")
    code = str(code).zfill(3) if code not in (None, "") else ""
    if not code:  # the documented DLR item has a status and no code: a status of one code names it
        code = _code_of_status().get(status_text.upper(), "")
    return Dlr(data=data, bics_id=str(data.get("id") or data.get("message_id") or ""),
               cid=str(data.get("custom") or ""),  # ours; a DLR's ``cid`` need not equal it
               mobile=e164_from_bics(data.get("mobile") or data.get("to") or ""), status_text=status_text, code=code,
               new=dlr_codes.message_status_for(status_text, code, channel=channel))


def dlr_apply_set(*, channel: str, items: list, source: str) -> list[tuple[int | None, bool]]:
    """Apply and store a set of reports of one channel (the reports with one prepared INSERT,
    no model instances); returns (message id, applied) per item, in order."""
    dlrs = _apply(channel, items)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    jsonb = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    sql = (f"INSERT INTO {DeliveryReport._meta.db_table} (message_id, channel, source, bics_message_id, cid, "  # noqa: S608
           f"mobile, status, code, applied, raw, received_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, {jsonb}, %s)")
    rows = [(d.message_id, channel, source, d.bics_id[:100], d.cid[:64], d.mobile[:20],
             d.status_text[:32] or d.new or "", d.code[:8], d.applied, json.dumps(d.raw), now) for d in dlrs]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    return [(d.message_id, d.applied) for d in dlrs]


def _apply(channel: str, items: list) -> list[Dlr]:
    dlrs = [parse_dlr(channel, item) for item in items]
    match_messages(channel, [d for d in dlrs if d.message_id is None])
    _fill_ids(dlrs)
    _apply_statuses(dlrs)
    return dlrs


def match_messages(channel: str, dlrs: list[Dlr]) -> None:
    """Set ``message_id`` by BICS's id, then ``custom_id``, then batch ``custom`` + number."""
    qs = Message.objects.filter(channel=channel) if channel else Message.objects.all()
    ids = {d.bics_id for d in dlrs if d.bics_id}
    if ids:
        found = dict(qs.exclude(bics_message_id="").filter(bics_message_id__in=ids).order_by("-pk")
                     .values_list("bics_message_id", "pk"))
        for d in dlrs:
            d.message_id = found.get(d.bics_id)
            d.by_id = d.message_id is not None
    left = [d for d in dlrs if d.message_id is None and d.cid]
    if left:
        found = dict(qs.filter(custom_id__in={d.cid for d in left}).values_list("custom_id", "pk"))
        for d in left:
            d.message_id = found.get(d.cid)
    left = [d for d in left if d.message_id is None and d.mobile]
    if left:
        batches = dict(SendBatch.objects.filter(custom__in={d.cid for d in left}).values_list("custom", "pk"))
        rows = qs.filter(batch_id__in=set(batches.values()), number__in={d.mobile for d in left}).order_by("-pk")
        found = {(b, n): pk for b, n, pk in rows.values_list("batch_id", "number", "pk")}
        for d in left:
            d.message_id = found.get((batches.get(d.cid), d.mobile))


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


def _update(group: list[Dlr]) -> set[int]:
    """One UPDATE for the round; returns the ids of the messages that moved."""
    pg = connection.vendor == "postgresql"
    types = ("bigint", "text", "text", "timestamptz", "text", "text", "numeric", "integer")
    row = "(" + ", ".join(f"CAST(%s AS {t})" if pg else "%s" for t in types) + ")"
    adapt_time, adapt_decimal = connection.ops.adapt_datetimefield_value, connection.ops.adapt_decimalfield_value
    params: list = []
    for d in group:
        error = d.new in FINAL_ERRORS
        params += [d.message_id, d.new, d.bics_status, adapt_time(d.at), d.code[:8] if error else "",
                   dlr_codes.describe(d.bics_status, d.code)[:255] if error else "",
                   adapt_decimal(d.price, 12, 6) if d.price is not None else None, d.parts]
    table = Message._meta.db_table
    # the statuses each new one may replace (``dlr.ALLOWED_FROM``): never backwards
    allowed = " ".join(f"WHEN '{new}' THEN {table}.status IN ({', '.join(repr(str(o)) for o in old)})"
                       for new, old in ALLOWED_FROM.items() if old)
    final = ", ".join(f"'{s}'" for s in FINAL_ERRORS)
    sql = (
        f"WITH v (mid, st, bst, at_, code, descr, price, parts) AS (VALUES {', '.join([row] * len(group))}) "
        f"UPDATE {table} SET status = v.st, status_at = %s, "  # noqa: S608 - our table and constants
        f"bics_status = CASE WHEN v.bst <> '' THEN v.bst ELSE {table}.bics_status END, "
        f"submitted_at = CASE WHEN v.st = 'submitted' THEN v.at_ ELSE {table}.submitted_at END, "
        f"delivered_at = CASE WHEN v.st IN ('delivered', 'read') THEN v.at_ ELSE {table}.delivered_at END, "
        f"error_code = CASE WHEN v.st IN ({final}) THEN v.code ELSE {table}.error_code END, "
        f"error_description = CASE WHEN v.st IN ({final}) THEN v.descr ELSE {table}.error_description END, "
        f"price = COALESCE(v.price, {table}.price), parts = COALESCE(v.parts, {table}.parts) "
        f"FROM v WHERE {table}.id = v.mid AND (CASE v.st {allowed} ELSE FALSE END) "
        f"RETURNING {table}.id")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, adapt_time(timezone.now())])
        return {pk for (pk,) in cursor.fetchall()}
