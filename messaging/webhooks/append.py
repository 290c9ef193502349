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

A server's appends on the file (autocommit) are written in groups: each queues its row, and
the thread whose turn it is writes every row queued meanwhile in one transaction, on one
connection the process keeps for its appends (``_shared_connection``: why, there). Sampled
under load, three of a process's four threads were waiting for the turn: their rows now share
one commit and one turn on the file lock instead of each waiting for its own.

Without Django's cursor (its wrapper, placeholder rewriting and instrumentation cost about a
tenth of the receiver's CPU per answer, which is what its throughput is): the driver's
connection, under Django's error wrapping. Inside a transaction (tests, the admin) the INSERT
goes through a Django cursor, as any query; on PostgreSQL through the driver in autocommit.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from core.batches.turns import turn_path
from messaging.webhooks.models import WebhookEvent

try:
    import fcntl
except ImportError:  # not POSIX: the thread lock only
    fcntl = None

_turn = threading.Lock()
_waiting: list = []  # this process's appends waiting to be written (_Pending), under _waiting_lock
_waiting_lock = threading.Lock()
_file: tuple[int, str, int | None] | None = None  # (pid, database name, descriptor of its lock file or None)
_shared: tuple[int, str, object] | None = None  # (pid, database, sqlite3 connection) of this process's appends
_sql: dict[tuple[str, bool], str] = {}
RECEIVED = str(WebhookEvent.State.RECEIVED)


def append_sql(vendor: str, *, driver: bool = False) -> str:
    """The INSERT, with Django's placeholders or (``driver``) those of the vendor's driver."""
    if (vendor, driver) not in _sql:
        mark = "?" if driver and vendor == "sqlite" else "%s"
        json_value = f"{mark}::jsonb" if vendor == "postgresql" else mark
        _sql[vendor, driver] = (
            f"INSERT INTO {WebhookEvent._meta.db_table} (webhook_id, received_at, event_type, method, "  # noqa: S608
            f"payload, raw, dedupe_key, state, attempts, error, result, processed_at) VALUES ({mark}, {mark}, "
            f"{mark}, {mark}, {json_value}, {json_value}, {mark}, {mark}, 0, '', '{{}}', NULL) "
            "ON CONFLICT (dedupe_key) DO NOTHING")
    return _sql[vendor, driver]


def received_at(conn) -> object:
    """Now, as the connection stores a DateTimeField (SQLite: naive UTC text)."""
    now = datetime.now(UTC)
    if conn.vendor == "sqlite" and settings.USE_TZ and not conn.settings_dict.get("TIME_ZONE"):
        return str(now.replace(tzinfo=None))  # what adapt_datetimefield_value makes of it, in a tenth of the time
    return conn.ops.adapt_datetimefield_value(now)


def append_event(*, webhook_id: int | None, event, raw_json: str | None = None, conn=None) -> bool:
    """Store one normalised ``BicsEvent`` (no model instance); True when a row was added,
    False for an event already stored. Returns once the row is committed (or is part of the
    caller's transaction). ``raw_json``: the body the event was decoded from, stored as the
    event's ``raw`` instead of encoding ``event.raw`` again; ``conn``: the default database's
    connection when the caller has it."""
    conn = conn or connections[DEFAULT_DB_ALIAS]
    params = (webhook_id, received_at(conn), event.event_type[:40], event.method[:6], json.dumps(event.payload),
              raw_json if raw_json is not None else json.dumps(event.raw), event.dedupe_key, RECEIVED)
    if conn.vendor != "sqlite":
        return _insert(conn, params)
    if not conn.in_atomic_block and turn_path(conn) is not None:
        return _append_grouped(conn, params)
    with _turn:
        fd = _lock_file(conn)
        if fd is None:
            return _insert(conn, params)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            return _insert(conn, params)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)


class _Pending:
    """One append waiting for its turn, or for another thread's turn to write it."""

    __slots__ = ("database", "error", "params", "stored", "written")

    def __init__(self, database: str, params: tuple):
        self.database, self.params = database, params
        self.stored, self.error, self.written = False, None, False


def _append_grouped(conn, params: tuple) -> bool:
    """A server's append on the database file: queued, then written by whichever thread of
    the process has the turn, with every append queued meanwhile, in one transaction (one
    commit, one turn on the file lock for the group). A thread whose row another wrote
    returns at once. A failed group fails each of its appends (their requests then go to
    the view, which stores each alone)."""
    mine = _Pending(conn.settings_dict["NAME"], params)
    with _waiting_lock:
        _waiting.append(mine)
    with _turn:
        if not mine.written:
            with _waiting_lock:
                group = [p for p in _waiting if p.database == mine.database]
                _waiting[:] = [p for p in _waiting if p.database != mine.database]
            fd = _lock_file(conn)
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                _write_group(conn, group)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
    if mine.error is not None:
        raise mine.error
    return mine.stored


def _write_group(conn, group: list[_Pending]) -> None:
    raw, sql = _shared_connection(conn), append_sql("sqlite", driver=True)
    try:
        with conn.wrap_database_errors:  # Django's exception types for the callers
            if len(group) == 1:
                stored = [raw.execute(sql, group[0].params).rowcount == 1]
            else:
                raw.execute("BEGIN IMMEDIATE")
                try:
                    stored = [raw.execute(sql, p.params).rowcount == 1 for p in group]
                    raw.execute("COMMIT")
                except BaseException:
                    if raw.in_transaction:
                        raw.execute("ROLLBACK")
                    raise
    except Exception as exc:  # noqa: BLE001 - handed to each caller
        _forget_shared_connection()
        for pending in group:
            pending.error, pending.written = exc, True
        return
    for pending, added in zip(group, stored, strict=True):
        pending.stored, pending.written = added, True


def _lock_file(conn) -> int | None:
    """This process's descriptor of ``<database>-append.lock`` (opened after a fork: a
    descriptor inherited from the parent would share its lock), None without a file."""
    global _file  # noqa: PLW0603 - one descriptor per process, under _turn
    pid, name = os.getpid(), conn.settings_dict["NAME"]
    if _file is not None and _file[0] == pid and _file[1] == name:
        return _file[2]
    path = turn_path(conn)  # the file a launch takes turns on too (core.batches.turns)
    if _file is not None and _file[0] == pid and _file[2] is not None:  # another database (tests)
        os.close(_file[2])
    _file = (pid, name, os.open(path, os.O_RDWR | os.O_CREAT, 0o600) if path else None)
    return _file[2]


def _shared_connection(conn):
    """This process's own connection to the database file, for the appends (under
    ``_turn``). SQLite empties a connection's page cache whenever another connection wrote
    since its last transaction: with one connection per server thread, almost every append
    read the table's and the indexes' pages again. The appends of a process take turns
    anyway, so they share one connection, opened as Django opens its own (same parameters
    and pragmas), reopened after a fork or an error."""
    global _shared  # noqa: PLW0603 - one connection per process, under _turn
    pid, name = os.getpid(), conn.settings_dict["NAME"]
    if _shared is None or _shared[0] != pid or _shared[1] != name:
        if _shared is not None and _shared[0] == pid:
            _shared[2].close()
        raw = conn.get_new_connection(conn.get_connection_params())
        raw.isolation_level = None  # autocommit: BEGIN and COMMIT are ours
        _shared = (pid, name, raw)
    return _shared[2]


def _forget_shared_connection() -> None:
    global _shared  # noqa: PLW0603 - under _turn
    if _shared is not None:
        _shared[2].close()
        _shared = None


def _insert(conn, params: tuple) -> bool:
    if conn.in_atomic_block:
        with conn.cursor() as cursor:
            cursor.execute(append_sql(conn.vendor), params)
            return cursor.rowcount == 1
    conn.ensure_connection()
    with conn.wrap_database_errors:  # Django's exception types, and a failed connection is marked so
        return conn.connection.execute(append_sql(conn.vendor, driver=True), params).rowcount == 1
