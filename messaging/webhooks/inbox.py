"""The receiver's inbox on SQLite: each server process appends what it receives to a file of
its own, and moves it from there into ``WebhookEvent`` a set at a time; the drain applies
the events from the table as before.

Why a file per process: on the one database file, an append paid for more than its row.
Each of the server processes' commits emptied the others' page cache (SQLite reads every
page again after another connection wrote), the event's random unique key dirtied a random
index leaf per commit, and the appends queued for the one write lock with each other and
with the long writers (a launch, the drain, an import). Measured under the benchmark's
gunicorn (15k signed DLRs, alternated three times): 2,245 answers/s and 613 µs of CPU per
answer into the table, 3,971/s and 392 µs into a file per process, the bare handler 5,581/s
and 298 µs. Moved a set at a time, the unique key costs 20-25 µs a row (100k rows, 1,000 a
statement), a tenth of what each append paid.

An inbox row holds what the ``WebhookEvent`` INSERT would (``append.append_event``'s
parameters, the dedupe key included), committed before the receiver answers 200 (WAL,
``synchronous=NORMAL``, as the database). The table's checks (the unique key, the webhook's
foreign key) apply when a set is moved: ``INSERT … SELECT`` from the attached file, ``ON
CONFLICT (dedupe_key) DO NOTHING``, one statement; then the set is forgotten in the inbox.
A move stopped in between moves the same rows again: the unique key keeps them out, so a
retry or a second move is stored once and applied once.

Who moves: the owning process, on a thread of its own every ``BICS_WEBHOOK_INBOX_FLUSH_SECONDS``
(the events reach the table, and the admin, within that much) and once more when it ends
normally; and the drain, which moves every file before it applies (``ingest``): the files
of processes that were killed, and whatever a flush has not moved yet. Both take the long
writers' turns (``core.batches.turns``).

Files: ``<pid>-<random>.sqlite3`` in the inbox directory (beside the database file), with a
``.lock`` file its owner holds (``flock``, shared) for its life, so the kernel lets go of it
when the owner ends, however it ends. The drain removes a file that is empty and whose owner
is gone (an exclusive lock on it succeeds). A random part in the name: a later process with
the same pid never opens a file the drain may be removing.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import glob
import logging
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from urllib.parse import quote

from django.conf import settings

from core.batches.turns import turn_path

try:
    import fcntl
except ImportError:  # not POSIX: no inbox, the event table directly
    fcntl = None

log = logging.getLogger(__name__)
COLUMNS = ("webhook_id", "received_at", "event_type", "method", "payload", "raw", "dedupe_key")
CREATE = ("CREATE TABLE IF NOT EXISTS inbox (id INTEGER PRIMARY KEY, webhook_id INTEGER, received_at TEXT NOT NULL, "
          "event_type TEXT NOT NULL, method TEXT NOT NULL, payload TEXT NOT NULL, raw TEXT NOT NULL, "
          "dedupe_key TEXT NOT NULL)")
INSERT = f"INSERT INTO inbox ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"  # noqa: S608
BUSY_TIMEOUT_S = 5.0  # an append and a move's DELETE meet for a statement at most
MOVE_ROWS = 2000  # rows per move statement: tens of milliseconds of the database's write lock


def inbox_directory(conn) -> str | None:
    """Where ``conn``'s database keeps its inbox files; None: appends go to the event table
    (another database, an in-memory one without ``BICS_WEBHOOK_INBOX_DIR``, no ``flock``, or
    ``BICS_WEBHOOK_INBOX`` off)."""
    if conn.vendor != "sqlite" or fcntl is None or not getattr(settings, "BICS_WEBHOOK_INBOX", True):
        return None
    chosen = getattr(settings, "BICS_WEBHOOK_INBOX_DIR", "")
    if chosen:
        return str(chosen)
    if conn.is_in_memory_db():
        return None
    return f"{conn.settings_dict['NAME']}-inbox"


def _connect(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def existing(path: str) -> str:
    """The URI of the inbox file at ``path`` that opens it only if it exists: a file another
    drain has just removed is never made again."""
    return f"file:{quote(path)}?mode=rw"


# --------------------------------------------------------------------------- the owner's side
class _Own:
    """This process's inbox file, its connection, its owner's lock and its flusher."""

    def __init__(self, directory: str, conn):
        os.makedirs(directory, mode=0o700, exist_ok=True)
        self.pid, self.directory = os.getpid(), directory
        stem = os.path.join(directory, f"{self.pid}-{secrets.token_hex(6)}")
        self.path = stem + ".sqlite3"
        self.lock_fd = os.open(stem + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.lock_fd, fcntl.LOCK_SH)  # held before the file exists: never seen ownerless
        try:
            self.db = _connect(self.path)
            self.db.execute(CREATE)
        except Exception:
            os.close(self.lock_fd)
            raise
        every = float(getattr(settings, "BICS_WEBHOOK_INBOX_FLUSH_SECONDS", 1.0))
        self.flusher = _Flusher(self.path, Mover.for_connection(conn), every) if every > 0 else None
        if self.flusher is not None:
            atexit.register(self._ending)

    def _ending(self) -> None:
        """A process that ends normally (a server's worker told to stop) moves what its inbox
        holds first: the drain then finds nothing left to move."""
        if self.pid == os.getpid() and self.flusher is not None:
            self.flusher.stop(wait=True, last_move=True)

    def close(self, *, wait: bool = False) -> None:
        """``wait``: until the flusher's move in progress has ended (not in a request)."""
        if self.flusher is not None:
            atexit.unregister(self._ending)
            self.flusher.stop(wait=wait)
        self.db.close()
        os.close(self.lock_fd)  # the drain may now move the rest and remove the file


class _Flusher:
    """Moves the owner's inbox into the table every ``every`` seconds, on a thread of its own
    (started with the first append). A failed move is logged and tried again next time: the
    rows stay in the inbox, and the drain moves them too."""

    def __init__(self, path: str, mover: Mover, every: float):
        self.path, self.mover, self.every = path, mover, every
        self.last_move = False
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="webhook-inbox-flush", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping.wait(self.every):
            self._move()
        if self.last_move:
            self._move()
        self.mover.close()

    def _move(self) -> None:
        try:
            self.mover.move(self.path)
        except Exception as exc:  # noqa: BLE001 - kept in the inbox; the drain moves it as well
            log.warning("webhook inbox not moved (%s); kept for the next move", type(exc).__name__)

    def stop(self, *, wait: bool, last_move: bool = False) -> None:
        """``last_move``: one more move before the thread ends."""
        self.last_move = last_move
        self.stopping.set()
        if wait:
            self.thread.join(timeout=30)


_own: _Own | None = None
_own_lock = threading.Lock()
_inherited: list[_Own] = []  # a parent's, after a fork: left open (closing them is the parent's)


def append(directory: str, row: tuple, conn) -> None:
    """Store one event's row (``COLUMNS``) in this process's inbox file, committed. ``conn``:
    the Django connection of the database the events are moved into."""
    global _own  # noqa: PLW0603 - one inbox per process, under _own_lock
    with _own_lock:
        if _own is None or _own.pid != os.getpid() or _own.directory != directory:
            if _own is not None:
                if _own.pid == os.getpid():
                    _own.close()
                else:
                    _inherited.append(_own)
            _own = None
            _own = _Own(directory, conn)
        try:
            _own.db.execute(INSERT, row)
        except sqlite3.Error:
            _own.close()
            _own = None  # opened anew (a new file) by the next append
            raise


def forget_own() -> None:
    """Close this process's inbox and stop its flusher (tests; a process that ends lets go
    of it anyway)."""
    global _own  # noqa: PLW0603
    with _own_lock:
        if _own is not None and _own.pid == os.getpid():
            _own.close(wait=True)
        _own = None


# --------------------------------------------------------------------------- moving
class Mover:
    """Moves inbox files into the event table, on a connection of its own to the database
    (opened as Django opens its own, so with its pragmas and foreign keys), taking the long
    writers' turns around each statement."""

    def __init__(self, connect, turn_path: str | None):
        self.connect, self.turn_path = connect, turn_path
        self.db: sqlite3.Connection | None = None
        self.turn_fd: int | None = None

    @classmethod
    def for_connection(cls, conn) -> Mover:
        def connect():
            db = conn.get_new_connection(conn.get_connection_params())
            db.isolation_level = None  # autocommit: each statement its own transaction
            return db

        return cls(connect, turn_path(conn))

    def move(self, path: str) -> int:
        """Every row of the inbox file at ``path``, ``MOVE_ROWS`` a statement; how many rows
        were taken (retries and rows moved before included)."""
        if self.db is None:
            self.db = self.connect()
        db, taken = self.db, 0
        db.execute("ATTACH DATABASE ? AS box", (existing(path),))
        try:
            db.execute(CREATE.replace("EXISTS inbox", "EXISTS box.inbox"))  # an owner between its connection and table
            while True:
                last, count = db.execute("SELECT MAX(id), COUNT(*) FROM (SELECT id FROM box.inbox ORDER BY id LIMIT ?)",
                                         (MOVE_ROWS,)).fetchone()
                if last is None:
                    return taken
                with self._turn():
                    db.execute(_move_sql(), (last,))
                db.execute("DELETE FROM box.inbox WHERE id <= ?", (last,))
                taken += count
        except sqlite3.Error:
            self.close()  # a new connection next time
            raise
        finally:
            if self.db is not None:
                self.db.execute("DETACH DATABASE box")

    @contextlib.contextmanager
    def _turn(self) -> Iterator[None]:
        """The long writers' turn (``core.batches.turns``), exclusive, around a statement."""
        if self.turn_path is None:
            yield
            return
        if self.turn_fd is None:
            self.turn_fd = os.open(self.turn_path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.turn_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self.turn_fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None
        if self.turn_fd is not None:
            os.close(self.turn_fd)
            self.turn_fd = None


@functools.cache
def _move_sql() -> str:
    """The event table's INSERT from the attached inbox (a webhook deleted since: none)."""
    from messaging.webhooks.models import Webhook, WebhookEvent

    table, hooks = WebhookEvent._meta.db_table, Webhook._meta.db_table
    return (f"INSERT INTO main.{table} (webhook_id, received_at, event_type, method, payload, raw, dedupe_key, "  # noqa: S608
            f"state, attempts, error, result, processed_at) SELECT CASE WHEN webhook_id IN (SELECT id FROM main.{hooks}) "
            f"THEN webhook_id END, received_at, event_type, method, payload, raw, dedupe_key, "
            f"'{WebhookEvent.State.RECEIVED}', 0, '', '{{}}', NULL FROM box.inbox WHERE id <= ? ORDER BY id "
            "ON CONFLICT (dedupe_key) DO NOTHING")


# --------------------------------------------------------------------------- the drain's side
def inbox_files(directory: str) -> list[str]:
    return sorted(glob.glob(os.path.join(glob.escape(directory), "*.sqlite3")))


def move_all(conn) -> int:
    """The drain: every inbox file of ``conn``'s database moved into the table, and those
    empty whose owner has ended removed. How many rows were taken."""
    directory = inbox_directory(conn)
    if directory is None:
        return 0
    mover, taken = Mover.for_connection(conn), 0
    try:
        for path in inbox_files(directory):
            try:
                taken += mover.move(path)
            except sqlite3.OperationalError:
                if os.path.exists(path):
                    raise
                continue  # removed by another drain meanwhile
            if _remove_if_abandoned(path):
                log.info("webhook inbox %s moved and removed (its process has ended)", path)
    finally:
        mover.close()
    return taken


def _remove_if_abandoned(path: str) -> bool:
    """Remove the file when it is empty and no process owns it; True when removed."""
    stem = path.removesuffix(".sqlite3")
    try:
        fd = os.open(stem + ".lock", os.O_RDWR)
    except FileNotFoundError:
        fd = None  # removed by another drain, or never made: nobody writes here
    try:
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False  # its owner is alive
        if not _is_empty(path):
            return False  # written by the owner just before it ended
        for suffix in (".sqlite3", ".sqlite3-wal", ".sqlite3-shm", ".lock"):
            try:
                os.unlink(stem + suffix)
            except FileNotFoundError:
                pass
        return True
    finally:
        if fd is not None:
            os.close(fd)


def _is_empty(path: str) -> bool:
    try:
        db = sqlite3.connect(existing(path), uri=True, timeout=BUSY_TIMEOUT_S)
    except sqlite3.OperationalError:
        return True  # removed meanwhile
    try:
        return db.execute("SELECT 1 FROM inbox LIMIT 1").fetchone() is None
    except sqlite3.OperationalError:
        return True  # no table: the owner ended before making it
    finally:
        db.close()


def held_keys(conn) -> set[str]:
    """The dedupe keys the inbox files of ``conn``'s database hold (some may be in the table
    already: a move stopped before it forgot them)."""
    directory, keys = inbox_directory(conn), set()
    for path in inbox_files(directory) if directory else ():
        db = sqlite3.connect(existing(path), uri=True, timeout=BUSY_TIMEOUT_S)
        try:
            keys.update(key for (key,) in db.execute("SELECT dedupe_key FROM inbox"))
        finally:
            db.close()
    return keys


def pending(directory: str | None) -> bool:
    """Whether any inbox file in ``directory`` holds an event."""
    return directory is not None and not all(_is_empty(path) for path in inbox_files(directory))
