"""Appending a received event: one INSERT, committed before the receiver answers 200.

``INSERT … ON CONFLICT (dedupe_key) DO NOTHING``: a BICS retry of a stored event adds no row
and raises nothing (so a caller's transaction stays usable on PostgreSQL).

SQLite has one writer per database, and a writer that finds it taken sleeps in SQLite's busy
handler (1, 2, 5 … up to 100 ms) however short the other's transaction: with two server
processes appending, those sleeps, not the inserts, set the throughput and the tail of the
answer times. So the appends of the server's threads take turns on a lock, and those of its
processes on an advisory file lock beside the database file (``flock``: the next in line
wakes when the lock is released). Other writers (the drain, the admin) still meet the busy
handler, as before. An in-memory database (tests) has no file: the thread lock only.
(A group commit, the thread whose turn it is writing the rows the others queued meanwhile,
was measured: the threads rarely queue under the GIL, groups averaged 1.1 rows; left out.)
"""

from __future__ import annotations

import json
import os
import threading

from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from core.batches.turns import turn_path
from messaging.webhooks.models import WebhookEvent

try:
    import fcntl
except ImportError:  # not POSIX: the thread lock only
    fcntl = None

_turn = threading.Lock()
_file: tuple[int, str, int] | None = None  # (pid, database, descriptor) of this process's lock file
_sql: dict[str, str] = {}
RECEIVED = str(WebhookEvent.State.RECEIVED)


def append_sql(vendor: str) -> str:
    if vendor not in _sql:
        json_value = "%s::jsonb" if vendor == "postgresql" else "%s"
        _sql[vendor] = (
            f"INSERT INTO {WebhookEvent._meta.db_table} (webhook_id, received_at, event_type, method, "  # noqa: S608
            f"payload, raw, dedupe_key, state, attempts, error, result, processed_at) VALUES (%s, %s, %s, %s, "
            f"{json_value}, {json_value}, %s, %s, 0, '', {json_value}, NULL) ON CONFLICT (dedupe_key) DO NOTHING")
    return _sql[vendor]


def append_event(*, webhook_id: int | None, event) -> bool:
    """Store one normalised ``BicsEvent`` (no model instance); True when a row was added,
    False for an event already stored. Returns once the row is committed (or is part of the
    caller's transaction)."""
    conn = connections[DEFAULT_DB_ALIAS]
    params = (webhook_id, conn.ops.adapt_datetimefield_value(timezone.now()), event.event_type[:40],
              event.method[:6], json.dumps(event.payload), json.dumps(event.raw), event.dedupe_key, RECEIVED, "{}")
    if conn.vendor != "sqlite":
        return _insert(conn, params)
    with _turn:
        fd = _lock_file(conn)
        if fd is None:
            return _insert(conn, params)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            return _insert(conn, params)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)


def _lock_file(conn) -> int | None:
    """This process's descriptor of ``<database>-append.lock`` (opened after a fork: a
    descriptor inherited from the parent would share its lock), None without a file."""
    global _file  # noqa: PLW0603 - one descriptor per process, under _turn
    path, pid = turn_path(conn), os.getpid()  # the file a launch takes turns on too (core.batches.turns)
    if _file is not None and _file[0] == pid and _file[1] == path:
        return _file[2]
    if path is None:
        return None
    if _file is not None and _file[0] == pid:  # another database (tests)
        os.close(_file[2])
    _file = (pid, path, os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    return _file[2]


def _insert(conn, params: tuple) -> bool:
    with conn.cursor() as cursor:
        cursor.execute(append_sql(conn.vendor), params)
        return cursor.rowcount == 1
