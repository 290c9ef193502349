"""Taking turns at SQLite's one write lock with the other processes' short writers.

SQLite lets one writer at a time; one that finds the lock taken polls it from SQLite's busy
handler, sleeping 1, 2, 5 … up to 100 ms between tries. A launch or a send in one process
writes transaction after transaction with well under a millisecond between two of them, so a
poller from another process (the webhook receiver, whose caller gives it 3 s) finds the lock
free only by chance: measured during a launch, a receiver's single INSERT waited through a
dozen of the launch's transactions, over a second.

The receiver's appends hold an advisory file lock beside the database file
(``<database>-append.lock``, ``flock``) shared, each for its statement; a waiter sleeps in the
kernel and wakes when the holder lets go. ``writer_turns`` makes this connection take the same
file lock, exclusive, around each of its write transactions (``BEGIN`` to commit or rollback; a write in autocommit around its
statement) and pause a moment after letting go: a receiver waiting meanwhile then writes
between two of its transactions, after at most one of them. Its automatic WAL checkpoint,
which SQLite runs inside the commit that fills the log (measured: commits of 100-450 ms, the
turn still held), is off meanwhile: a PASSIVE checkpoint follows each turn instead, on a
thread of its own with its own connection (``_Checkpointer``), so that neither the turn nor
(but once in several turns) this connection's next transaction waits for it; readers and
writers go on beside a PASSIVE checkpoint. Inline, after the turn, the checkpoints were a
tenth of the webhook drain's time, most of it waiting for the disk's flushes, more on a busy
machine; their copying is about the same work however often they run (every 16 turns instead
of each: a quarter less), so they still follow every turn. A no-op on another database or on
an in-memory one (no file to lock beside), and where ``flock`` does not exist.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator

try:
    import fcntl
except ImportError:  # not POSIX
    fcntl = None

log = logging.getLogger(__name__)
_WRITE = re.compile(r"^\s*(BEGIN|INSERT|UPDATE|DELETE|REPLACE|WITH)\b", re.IGNORECASE)
_BEGIN = re.compile(r"^\s*BEGIN\b", re.IGNORECASE)
YIELD_S = 0.002  # after a turn: time for a woken waiter to be scheduled and take the file lock


def turn_path(connection) -> str | None:
    """The file the SQLite writers of ``connection``'s database take turns on (None: none)."""
    if connection.vendor != "sqlite" or fcntl is None or connection.is_in_memory_db():
        return None
    return f"{connection.settings_dict['NAME']}-append.lock"  # messaging.webhooks.append takes it too


class _Turns:
    """The execute wrapper of one connection: the file lock held from a write transaction's
    ``BEGIN`` (Django's ``BEGIN IMMEDIATE`` takes the write lock there) to its end."""

    def __init__(self, connection, path: str):
        self.connection = connection
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self.held = False
        self.checkpointer = None if connection.is_in_memory_db() else _Checkpointer(connection.settings_dict["NAME"])

    def take(self) -> None:
        if not self.held:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            self.held = True

    def give(self) -> None:
        if self.held:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            self.held = False
            checkpointer = self.checkpointer
            if checkpointer is not None:
                checkpointer.nudge()
            time.sleep(YIELD_S)
            if checkpointer is not None and checkpointer.frames > checkpointer.RESTART_FRAMES:
                checkpointer.wait()  # the next transaction then writes the log from its start

    def close(self) -> None:
        self.give()
        os.close(self.fd)
        if self.checkpointer is not None:
            self.checkpointer.stop()

    def __call__(self, execute, sql, params, many, context):
        if not _WRITE.match(sql or ""):
            return execute(sql, params, many, context)
        conn = self.connection
        if self.held or (not _BEGIN.match(sql) and (conn.in_atomic_block or not conn.get_autocommit())):
            return execute(sql, params, many, context)  # inside a transaction: its turn is taken
        self.take()
        try:
            result = execute(sql, params, many, context)
        except BaseException:
            self.give()
            raise
        if not _BEGIN.match(sql):  # autocommit: the statement was the transaction
            self.give()
        return result


class _Checkpointer:
    """Copies the log's new pages into the database file after each turn (``nudge``), on a
    thread and a connection of its own: the connection's automatic checkpoint, off while
    taking turns, ran inside the commit. PASSIVE takes no lock a writer waits for.

    SQLite writes the log from its start again only when a write transaction begins with
    every page of it copied; with the checkpoint still running beside the next transaction,
    that never happens and the log grows (measured: 64 MB after draining 100,000 webhook
    events, 3 MB with the checkpoint inline), and every page read searches a longer log
    index. So once the log has passed ``RESTART_FRAMES``, the next turn waits for the
    checkpoint it asked for (``wait``) and the log starts again. The thread starts with the
    first turn; ``stop`` returns after a last checkpoint, so the log is as short on leaving
    as it was before. A thread that could not go on (no connection) is waited for no more."""

    RESTART_FRAMES = 4096  # pages (16 MB of 4 kB pages): one block of SQLite's log index

    def __init__(self, database):
        self.database = str(database)
        self.changed = threading.Condition()
        self.asked = self.done = 0  # checkpoints asked for; of those, how many one has covered
        self.frames = 0  # the log's length at the last checkpoint
        self.stopping = False
        self.running = True
        self.thread: threading.Thread | None = None

    def nudge(self) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
            self.thread.start()
        with self.changed:
            self.asked += 1
            self.changed.notify_all()

    def wait(self) -> None:
        """Until a checkpoint begun after the last ``nudge`` has ended."""
        with self.changed:
            self.changed.wait_for(lambda: self.done >= self.asked or not self.running)

    def _run(self) -> None:
        try:
            db = sqlite3.connect(self.database, uri=True, isolation_level=None)
        except sqlite3.Error as exc:  # the connection's own checkpoint comes back on leaving
            log.warning("no WAL checkpoints while taking turns: %s", exc)
            self._end()
            return
        try:
            while True:
                with self.changed:
                    self.changed.wait_for(lambda: self.asked > self.done or self.stopping)
                    asked = self.asked
                frames = self.frames
                try:
                    _busy, frames, _copied = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error:  # another checkpoint is running, say: the next one copies
                    pass
                with self.changed:
                    self.done, self.frames = asked, frames
                    self.changed.notify_all()
                    if self.stopping and self.done >= self.asked:
                        return
        finally:
            db.close()
            self._end()

    def _end(self) -> None:
        with self.changed:
            self.running = False
            self.changed.notify_all()

    def stop(self) -> None:
        if self.thread is not None:
            with self.changed:
                self.stopping = True
                self.asked += 1  # a last checkpoint, after the last turn
                self.changed.notify_all()
            self.thread.join()


def _autocheckpoint(connection, pages: int) -> int:
    """Set the connection's automatic checkpoint (pages; 0: off); returns the former value."""
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        (former,) = cursor.fetchone()
        cursor.execute(f"PRAGMA wal_autocheckpoint = {int(pages)}")
    return former


@contextlib.contextmanager
def writer_turns(connection=None, *, path: str | None = None) -> Iterator[None]:
    """While inside, ``connection`` (the default one) takes turns with the receiver's appends
    (``path``: another lock file, for tests)."""
    from django.db import DEFAULT_DB_ALIAS, connections

    connection = connection or connections[DEFAULT_DB_ALIAS]  # the wrapper itself, not the proxy
    path = path or turn_path(connection)
    if path is None or connection.vendor != "sqlite" or fcntl is None or getattr(connection, "_writer_turns", None) is not None:
        yield  # nothing to take turns on, or already taking them (an outer call)
        return
    turns = _Turns(connection, path)
    commit, rollback = connection._commit, connection._rollback

    def _commit():
        try:
            return commit()
        finally:
            turns.give()

    def _rollback():
        try:
            return rollback()
        finally:
            turns.give()

    connection._commit, connection._rollback = _commit, _rollback
    connection.execute_wrappers.append(turns)
    connection._writer_turns = turns
    automatic = _autocheckpoint(connection, 0)
    try:
        yield
    finally:
        _autocheckpoint(connection, automatic)
        connection.execute_wrappers.remove(turns)
        if connection._commit is _commit:  # (unless another wrapper came on top meanwhile)
            connection._commit, connection._rollback = commit, rollback
        connection._writer_turns = None
        turns.close()
