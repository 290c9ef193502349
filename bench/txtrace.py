"""Write transactions of this process, timed: ``max_write_tx_ms`` of the dispatch benchmarks.

Installed on every database connection Django opens (any thread) through the
``connection_created`` signal. A transaction is timed from its first statement (SQLite: once
Django's ``BEGIN IMMEDIATE`` under atomic has taken the write lock, so waiting for another
process's writer is not counted; PostgreSQL: the statement that makes it begin one) to the
driver's commit or rollback; it counts as a *write* transaction when it took SQLite's write
lock (``BEGIN IMMEDIATE``) or ran a write statement. A write outside any transaction
(autocommit) is its own transaction, timed by its ``execute``. Times are wall clock, so they
include what the process did in Python between statements while the transaction stayed open:
exactly how long other writers were kept waiting. The longest one is named by its first
write statement (``max_write_tx_sql``).
"""

from __future__ import annotations

import re
import threading
import time

_WRITE = re.compile(r"^\s*(BEGIN\s+IMMEDIATE|BEGIN\s+EXCLUSIVE|INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b|"
                    r"\bFOR\s+UPDATE\b", re.IGNORECASE)


_BEGIN = re.compile(r"^\s*BEGIN\b", re.IGNORECASE)


class Tracker:
    def __init__(self):
        self.lock = threading.Lock()
        self.active = False
        self.spans: list[float] = []  # write transactions, ms
        self.longest: tuple[float, str] = (0.0, "")  # and the first write statement of the longest
        self.commit_ms = 0.0  # the longest commit alone (SQLite: with the automatic checkpoint it may run)
        self.timeline: list[tuple[float, float, str]] = []  # (wall start, end, statement): long ones, kept across start()

    def record(self, ms: float, sql: str = "") -> None:
        if self.active:
            label = " ".join(sql[:600].split())[:120]  # (a statement may be a VALUES list of 100 kB)
            with self.lock:
                self.spans.append(ms)
                if ms > self.longest[0]:
                    self.longest = (ms, label)
                if ms >= TIMELINE_MS:
                    end = time.time()
                    self.timeline.append((end - ms / 1000, end, label))

    def start(self) -> None:
        with self.lock:
            self.spans, self.active, self.longest = [], True, (0.0, "")

    def stop(self) -> dict:
        with self.lock:
            self.active = False
            spans = sorted(self.spans)
        if not spans:
            return {"max_write_tx_ms": 0.0, "write_tx": 0}
        return {"max_write_tx_ms": round(spans[-1], 1), "p99_write_tx_ms": round(spans[int(len(spans) * 0.99)], 1),
                "write_tx": len(spans), "max_write_tx_sql": self.longest[1]}


TIMELINE_MS = 0.0  # write transactions at least this long are kept with their wall-clock span
TRACKER = Tracker()


class _ConnectionTrace:
    """Per Django connection (one per thread): the open transaction's start and whether it wrote."""

    def __init__(self, wrapper, tracker: Tracker):
        self.wrapper, self.tracker = wrapper, tracker
        self.started: float | None = None
        self.wrote = False
        self.first_write = self.first_sql = ""  # what the transaction did first (to name the longest)
        commit, rollback = wrapper._commit, wrapper._rollback

        def _commit():
            started = time.perf_counter()
            try:
                return commit()
            finally:
                if tracker.active:
                    tracker.commit_ms = max(tracker.commit_ms, (time.perf_counter() - started) * 1000)
                self.close()

        def _rollback():
            try:
                return rollback()
            finally:
                self.close()

        wrapper._commit, wrapper._rollback = _commit, _rollback
        wrapper.execute_wrappers.append(self)

    def close(self) -> None:
        if self.started is not None and self.wrote:
            label = self.first_write or f"(reads only under the write lock) {self.first_sql}"
            self.tracker.record((time.perf_counter() - self.started) * 1000, label)
        self.started, self.wrote, self.first_write, self.first_sql = None, False, "", ""

    def __call__(self, execute, sql, params, many, context):
        now = time.perf_counter()
        writes = bool(_WRITE.search(sql or "", 0, 4096))  # FOR UPDATE ends a short SELECT
        if _BEGIN.match(sql or ""):  # SQLite under atomic: Django's explicit BEGIN [IMMEDIATE]
            self.close()
            try:
                return execute(sql, params, many, context)
            finally:  # timed once the lock is ours: waiting for another writer is not holding it
                self.started, self.wrote = time.perf_counter(), writes
        in_tx = self.started is not None or not self.wrapper.get_autocommit() or self.wrapper.in_atomic_block
        if not in_tx:  # autocommit: each statement is its own transaction
            try:
                return execute(sql, params, many, context)
            finally:
                if writes:
                    self.tracker.record((time.perf_counter() - now) * 1000, sql)
        if self.started is None:
            self.started = now
        if writes and not self.first_write:
            self.first_write = sql
        self.first_sql = self.first_sql or sql or ""
        self.wrote = self.wrote or writes
        return execute(sql, params, many, context)


def install(tracker: Tracker = TRACKER) -> Tracker:
    """Trace every connection of this process from now on (and the ones already open)."""
    from django.db import connections
    from django.db.backends.signals import connection_created

    def created(sender, connection, **kwargs):
        if not getattr(connection, "_bench_tx_trace", None):
            connection._bench_tx_trace = _ConnectionTrace(connection, tracker)

    connection_created.connect(created, weak=False)
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None:
            created(None, conn)
    return tracker
