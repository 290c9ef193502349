"""Appending a received event: one INSERT, committed before the receiver answers 200.

On a SQLite file, outside a transaction (a server's receiver), the event goes to the
process's own inbox file (``inbox``: why), and a move takes it into the event table a set
at a time. Elsewhere, and when the inbox cannot be written, into the table at once:

``INSERT … ON CONFLICT (dedupe_key) DO NOTHING``: a BICS retry of a stored event adds no row
and raises nothing (so a caller's transaction stays usable on PostgreSQL).

Into the table on a SQLite file, a server's appends are written in groups on one connection per process:
each queues its row, and the thread whose turn it is (``_turn``) writes every row its process
queued meanwhile as one autocommitted multi-row INSERT (``_shared_connection``: why one
connection). One statement, so SQLite's write lock is held only inside it, while the thread
has let go of Python's GIL; the two server processes' groups meet in SQLite's busy handler
for about a statement. Holding an exclusive lock between the processes around a transaction
of single-row INSERTs was measured slower: the holder waited for the GIL between its
statements with every other writer waiting for it (40k signed DLRs under the benchmark's
gunicorn, alternated three times: 0.30-0.55 of the bare handler's rate, 0.37-0.57 now).

The long writers (a launch writing its chunks, the drain applying events, a contact import)
take turns on an advisory file lock beside the database file (``core.batches.turns``,
exclusive): each append holds it shared, on its thread's own descriptor, from before it
queues until its row is written, so it waits in the kernel while one of them holds its turn,
gets in between two of their transactions, and never polls SQLite's lock against them with
the busy handler's growing sleeps. Taken before the turn, not by the writer inside it: every
call that lets go of the GIL inside the turn is a wait for it with the process's other
appends queued behind. (Appends without a pause between them would keep a long writer
waiting; the receiver's caller has a 3 s limit, a launch none.) An in-memory database
(tests) has no file: the thread lock only.

Without Django's cursor (its wrapper, placeholder rewriting and instrumentation cost about a
tenth of the receiver's CPU per answer, which is what its throughput is): the driver's
connection, under Django's error wrapping. Inside a transaction (tests, the admin) the INSERT
goes through a Django cursor, as any query; on PostgreSQL through the driver in autocommit.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from datetime import UTC, datetime

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from core.batches.turns import turn_path
from messaging.webhooks import inbox
from messaging.webhooks.models import WebhookEvent

try:
    import fcntl
except ImportError:  # not POSIX: the thread lock only
    fcntl = None

_turn = threading.Lock()
_waiting: list = []  # this process's appends waiting to be written (_Pending), under _waiting_lock
_waiting_lock = threading.Lock()
_lock_files = threading.local()  # .file: this thread's _LockFile
_shared: tuple[int, str, object] | None = None  # (pid, database, sqlite3 connection) of this process's appends
_sql: dict[tuple, str] = {}  # (vendor, driver) and ("group", rows)
log = logging.getLogger("messaging.webhooks")
RECEIVED = str(WebhookEvent.State.RECEIVED)
DEDUPE_KEY = 6  # the position of dedupe_key in an append's parameters


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
    """Store one normalised ``BicsEvent`` (no model instance); True when a row was added
    (or the event was put in the inbox: a retry is left out when it is moved), False for an
    event already stored. Returns once the row is committed (or is part of the caller's
    transaction). ``raw_json``: the body the event was decoded from, stored as the
    event's ``raw`` instead of encoding ``event.raw`` again; ``conn``: the default database's
    connection when the caller has it."""
    conn = conn or connections[DEFAULT_DB_ALIAS]
    params = (webhook_id, received_at(conn), event.event_type[:40], event.method[:6], json.dumps(event.payload),
              raw_json if raw_json is not None else json.dumps(event.raw), event.dedupe_key, RECEIVED)
    if conn.vendor != "sqlite":
        return _insert(conn, params)
    directory = None if conn.in_atomic_block else inbox.inbox_directory(conn)
    if directory is not None:
        try:
            inbox.append(directory, params[:DEDUPE_KEY + 1], conn)
            return True  # a retry is recognised when it is moved (the unique key)
        except (OSError, sqlite3.Error) as exc:  # the event table then, as without an inbox
            log.warning("webhook inbox append failed (%s); stored in the event table", type(exc).__name__)
    path = turn_path(conn)  # the lock file of the long writers (core.batches.turns)
    if path is not None and not conn.in_atomic_block:
        return _append_grouped(conn, params, path)
    if path is not None:  # the caller's transaction holds SQLite's write lock already: nothing to wait for
        return _insert(conn, params)
    with _turn:  # an in-memory database (tests): its shared cache refuses a second writer at once
        return _insert(conn, params)


class _Pending:
    """One append waiting for its turn, or for another thread's turn to write it."""

    __slots__ = ("database", "error", "params", "stored", "written")

    def __init__(self, database: str, params: tuple):
        self.database, self.params = database, params
        self.stored, self.error, self.written = False, None, False


def _append_grouped(conn, params: tuple, path: str) -> bool:
    """A server's append on the database file: queued, then written by whichever thread of
    the process has the turn, with every append queued meanwhile, in one statement. A thread
    whose row another wrote returns at once. A failed group fails each of its appends (their
    requests then go to the view, which stores each alone)."""
    mine = _Pending(conn.settings_dict["NAME"], params)
    fd = _lock_file(path)
    fcntl.flock(fd, fcntl.LOCK_SH)  # not during a long writer's turn (exclusive), and none begins until written
    try:
        with _waiting_lock:
            _waiting.append(mine)
        with _turn:
            if not mine.written:
                with _waiting_lock:
                    group = [p for p in _waiting if p.database == mine.database]
                    _waiting[:] = [p for p in _waiting if p.database != mine.database]
                _write_group(conn, group)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
    if mine.error is not None:
        raise mine.error
    return mine.stored


def _write_group(conn, group: list[_Pending]) -> None:
    raw = _shared_connection(conn)
    try:
        with conn.wrap_database_errors:  # Django's exception types for the callers
            stored = _insert_group(raw, [p.params for p in group])
    except Exception as exc:  # noqa: BLE001 - handed to each caller
        _forget_shared_connection()
        for pending in group:
            pending.error, pending.written = exc, True
        return
    for pending, added in zip(group, stored, strict=True):
        pending.stored, pending.written = added, True


def _insert_group(raw, rows: list[tuple]) -> list[bool]:
    """One multi-row INSERT; whether each row was added. When some were already stored
    (retries), the group's keys are read back: the rows this statement added are the
    ``rowcount`` newest of them (ids only grow; a row stored before has a smaller id)."""
    cursor = raw.execute(_group_sql(len(rows)), [value for row in rows for value in row])
    added = cursor.rowcount
    if added in (0, len(rows)):
        return [added > 0] * len(rows)
    keys = list({row[DEDUPE_KEY]: None for row in rows})
    found = dict(raw.execute(
        f"SELECT dedupe_key, id FROM {WebhookEvent._meta.db_table} "  # noqa: S608 - our table
        f"WHERE dedupe_key IN ({', '.join('?' * len(keys))})", keys).fetchall())
    ours = set(sorted(found, key=found.__getitem__)[-added:])
    stored = []
    for row in rows:  # a key twice in the group: its first row was the one added
        stored.append(row[DEDUPE_KEY] in ours)
        ours.discard(row[DEDUPE_KEY])
    return stored


def _group_sql(rows: int) -> str:
    """The driver's INSERT of ``rows`` rows at once (cached by size: at most a group per thread)."""
    if ("group", rows) not in _sql:
        one = append_sql("sqlite", driver=True)
        head, _, tail = one.partition("VALUES ")
        row, _, conflict = tail.partition(" ON CONFLICT")
        _sql["group", rows] = f"{head}VALUES {', '.join([row] * rows)} ON CONFLICT{conflict}"
    return _sql["group", rows]


class _LockFile:
    """A descriptor of the lock file for one thread of one process. ``flock``'s locks belong
    to an open file: a shared lock taken on another thread's descriptor (or, after a fork, on
    the parent's) would be given back by that one's unlock."""

    def __init__(self, path: str):
        self.pid, self.path = os.getpid(), path
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def __del__(self):
        os.close(self.fd)  # this process's copy only: another holder's lock stays


def _lock_file(path: str) -> int:
    """This thread's descriptor of ``path`` (opened again after a fork or for another file)."""
    held = getattr(_lock_files, "file", None)
    if held is None or held.pid != os.getpid() or held.path != path:
        held = _lock_files.file = _LockFile(path)  # the one replaced is closed as it goes
    return held.fd


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
