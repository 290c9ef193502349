"""Delivery-report ingest as a stream: the receiver stores each event (one INSERT; on SQLite
into its process's inbox file, ``inbox``) and answers; a drain applies the stored events in
sets, after moving into the table what the inboxes still hold.

``apply_pending_events`` takes the events still ``received``, oldest first, a set at a time
(``BICS_WEBHOOK_APPLY_SET`` at first, then as many as keep a set's transaction short). Each set is one transaction: the processors' writes and the marking of the events
(processed, ignored or failed) commit together, so a worker killed in between leaves the
whole set ``received`` and it is applied once, later. Event types with a set processor
(``registry.register_set``: the message statuses) are applied hundreds per statement; the
others one by one, each in a savepoint so one bad event fails alone.

The drain runs from a task that re-queues itself while work remains, nudged by the receiver
(at most every ``BICS_WEBHOOK_KICK_SECONDS`` per process) and by the beat.
"""

from __future__ import annotations

import json
import logging
import time
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.batches.turns import writer_turns
from core.sql_rows import execute, keys_clause, rows_cte
from messaging.webhooks import inbox
from messaging.webhooks.models import WebhookEvent
from messaging.webhooks.registry import processor_for, set_processor_for

log = logging.getLogger(__name__)
E = WebhookEvent.State
RECEIVED, PROCESSED, IGNORED, FAILED = (str(state) for state in (E.RECEIVED, E.PROCESSED, E.IGNORED, E.FAILED))


MARK_ROWS = 1000  # events per marking statement (4 parameters each: under every database's limit)
# Sets start at ``BICS_WEBHOOK_APPLY_SET`` and double while a set's transaction takes under half
# of ``SET_TARGET_S`` (each set's own costs, its commit above all, shared by more events), up to
# ``SET_MAX``; one over it halves the next. The receiver waits for the write lock at most one
# set (``writer_turns``): it answers within BICS's time however long the drain runs.
SET_TARGET_S = 0.1
SET_MAX = 4000
SET_MIN = 50


def set_size() -> int:
    return int(getattr(settings, "BICS_WEBHOOK_APPLY_SET", 500))


def apply_pending_events(limit: int | None = None) -> int:
    """Apply stored, unprocessed events in sets; returns how many were taken (at most
    ``limit``; every pending one when None). Polling applies its reports through the same
    set function (``dlr_sets.dlr_apply_set``)."""
    return _apply_sets(limit=limit)[0]


def _apply_sets(*, limit: int | None = None, deadline: float | None = None) -> tuple[int, bool]:
    """Sets until none is left, ``limit`` events are taken or ``deadline`` (monotonic) is
    past: (taken, whether the last set found nothing)."""
    total, size = 0, set_size()
    inbox.move_all(connection)  # what the receivers' inboxes hold and their flushes have not moved yet
    with writer_turns():  # the receiver's appends get in between two sets
        while (limit is None or total < limit) and (deadline is None or time.monotonic() < deadline):
            started = time.monotonic()
            taken = apply_event_set(size if limit is None else min(size, limit - total))
            if not taken:
                return total, True
            total += taken
            size = next_set_size(size, taken, time.monotonic() - started)
    return total, False


def next_set_size(size: int, taken: int, seconds: float) -> int:
    if seconds > SET_TARGET_S:
        return max(SET_MIN, size // 2)
    if taken >= size and seconds < SET_TARGET_S / 2:
        return min(SET_MAX, size * 2)
    return size


def apply_event_set(size: int) -> int:
    """One set of up to ``size`` received events, in one transaction; returns how many."""
    with transaction.atomic():
        events = _take(size)
        if not events:
            return 0
        outcomes: dict[int, tuple[str, dict | str, str]] = {}
        by_type: dict[str, list[Stored]] = {}
        for event in events:
            by_type.setdefault(event.event_type, []).append(event)
        for event_type, group in by_type.items():
            outcomes.update(_apply_group(event_type, group))
        _mark(outcomes)
    return len(events)


def _take(size: int) -> list[Stored]:
    """The oldest received events (one query, no model instances); on PostgreSQL locked,
    skipping rows another drain holds, so two drains take different sets. The payloads are
    decoded in one ``json.loads`` of the set, and each keeps its stored text (``Stored.text``)."""
    table = WebhookEvent._meta.db_table
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, event_type, payload FROM {table} WHERE state = %s "  # noqa: S608 - our table
                       f"ORDER BY received_at, id LIMIT %s{lock}", [RECEIVED, size])
        rows = cursor.fetchall()
    texts = [payload if isinstance(payload, str) else None for _pk, _type, payload in rows]
    if None in texts:  # a driver that decodes JSON itself, or bytes
        payloads = [payload if isinstance(payload, dict) else json.loads(payload) for _pk, _type, payload in rows]
    else:
        payloads = json.loads("[" + ",".join(texts) + "]") if texts else []
    return [Stored(pk, event_type, payload, text)
            for (pk, event_type, _raw), payload, text in zip(rows, payloads, texts, strict=True)]


class Stored(NamedTuple):
    """What a set processor reads of a stored event (no model instance per event): ``text``
    is the payload as stored (JSON; None when the driver gave it decoded), for a processor
    that keeps the payload as it came without encoding it again."""

    pk: int
    event_type: str
    payload: dict
    text: str | None = None


def _apply_group(event_type: str, group: list[Stored]) -> dict[int, tuple[str, dict | str, str]]:
    processor = set_processor_for(event_type)
    if processor is not None:
        try:
            with transaction.atomic():
                results = processor(group)
            return {event.pk: (PROCESSED, result or {}, "") for event, result in zip(group, results, strict=True)}
        except Exception:  # noqa: BLE001 - one by one below, so only the bad event fails
            log.warning("webhook set of %d %s failed; applying one by one", len(group), event_type, exc_info=True)
    if processor_for(event_type) is None:
        return {event.pk: (IGNORED, {"reason": f"no processing for {event_type}"}, "") for event in group}
    return {event.pk: _apply_one(event) for event in WebhookEvent.objects.filter(pk__in=[e.pk for e in group])}


def _apply_one(event: WebhookEvent) -> tuple[str, dict, str]:
    processor = processor_for(event.event_type)
    try:
        with transaction.atomic():
            return E.PROCESSED, processor(event) or {}, ""
    except Exception as exc:  # noqa: BLE001 - recorded on the event for "Process again"
        # The error names the exception and its message; payload values stay in the row.
        log.warning("webhook event %s failed: %s", event.pk, type(exc).__name__)
        return E.FAILED, {}, f"{type(exc).__name__}: {exc}"[:2000]


MARK_COLUMNS = (("id", "bigint"), ("state", "text"), ("result", "jsonb"), ("error", "text"))


def _mark(outcomes: dict[int, tuple[str, dict | str, str]]) -> None:
    """Mark the set in the transaction of its effects: one ``UPDATE … FROM`` the set's rows
    per ``MARK_ROWS`` events, each event only while still received. A result is a dict or
    its JSON text (a set processor's, ``registry``)."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    table = WebhookEvent._meta.db_table
    rows = [(pk, state, result if type(result) is str else json.dumps(result), error)
            for pk, (state, result, error) in outcomes.items()]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), MARK_ROWS):
            chunk = rows[start:start + MARK_ROWS]
            cte, params = rows_cte("v", MARK_COLUMNS, chunk)
            keys, key_params = keys_clause(f"{table}.id", [pk for pk, *_rest in chunk])
            execute(cursor, f"{cte} UPDATE {table} SET state = v.state, result = v.result, error = v.error, "  # noqa: S608
                    f"attempts = {table}.attempts + 1, processed_at = %s "
                    f"FROM v WHERE {table}.id = v.id AND {table}.state = %s{keys}", [*params, now, RECEIVED, *key_params])


# --------------------------------------------------------------------------- the drain
def pending_exists() -> bool:
    return WebhookEvent.objects.filter(state=E.RECEIVED).exists() or inbox.pending(inbox.inbox_directory(connection))


def drain(*, budget_seconds: float = 20.0) -> tuple[int, bool]:
    """Apply sets until none is left or the time budget is spent: (applied, more left)."""
    applied, exhausted = _apply_sets(deadline=time.monotonic() + budget_seconds)
    return applied, not exhausted and pending_exists()
