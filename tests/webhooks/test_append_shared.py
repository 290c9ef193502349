"""``append.append_event`` on a database file into the event table, as without an inbox
(``BICS_WEBHOOK_INBOX`` off, or an inbox that cannot be written: ``test_inbox.py``): the appends of a process are written in groups, one statement each, on one shared
connection (opened as Django opens its own, reopened after a fork or an error), holding the
long writers' lock file shared (``core.batches.turns`` holds it exclusive for a turn)."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time

import pytest
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper
from django.db.utils import IntegrityError, OperationalError

from core.batches.turns import turn_path
from messaging.webhooks import append
from messaging.webhooks.models import Webhook, WebhookEvent
from messaging.webhooks.parsing import parse_body
from tests.concurrency import lock_file_free, race

from .conftest import dlr

try:
    import fcntl
except ImportError:  # not POSIX
    fcntl = None

pytestmark = [pytest.mark.django_db, pytest.mark.skipif(connection.vendor != "sqlite" or fcntl is None,
                                                        reason="SQLite's shared append connection, flock")]


@pytest.fixture
def file_db(tmp_path, monkeypatch, settings):
    """A Django connection to a database file holding the webhook tables; no shared
    connection left over from another test; no inbox."""
    settings.BICS_WEBHOOK_INBOX = False
    monkeypatch.setattr(append, "_shared", None)
    monkeypatch.setattr(append, "_lock_files", threading.local())
    conn = DatabaseWrapper({**connection.settings_dict, "NAME": str(tmp_path / "db.sqlite3")}, alias="filedb")
    with conn.schema_editor(atomic=False) as editor:
        editor.create_model(Webhook)
        editor.create_model(WebhookEvent)
    yield conn
    if append._shared is not None:
        append._shared[2].close()
    conn.close()


def event(message_id: str):
    return parse_body(json.dumps(dlr(message_id)).encode())


def stored(conn) -> list[tuple]:
    with sqlite3.connect(conn.settings_dict["NAME"]) as other:  # as another process reads it
        return other.execute(f"SELECT payload, raw, state FROM {WebhookEvent._meta.db_table} ORDER BY id").fetchall()  # noqa: S608


def test_appends_from_many_threads_are_each_stored_once_on_one_shared_connection(file_db):
    events = [event(f"m-{i}") for i in range(60)]

    def worker():
        return [append.append_event(webhook_id=None, event=e, conn=file_db) for e in events]

    results = race(worker, threads=6)
    assert results.count(True) == 60 and results.count(False) == 300  # every retry answered, stored once
    rows = stored(file_db)
    assert len(rows) == 60 and {json.loads(p)["id"] for p, _, _ in rows} == {f"m-{i}" for i in range(60)}
    assert {state for _, _, state in rows} == {"received"}
    assert append._shared is not None and append._shared[2] is not file_db.connection


def test_the_raw_body_is_stored_as_received(file_db):
    body = b'{"event": "sms:message:status",  "payload": {"id": "m-1", "status": "DELIVRD"}}'
    assert append.append_event(webhook_id=None, event=parse_body(body), raw_json=body.decode(), conn=file_db)
    [(payload, raw, _)] = stored(file_db)
    assert raw == body.decode() and json.loads(payload) == {"id": "m-1", "status": "DELIVRD"}


def test_a_failed_append_raises_djangos_error_and_the_next_opens_a_new_connection(file_db):
    assert append.append_event(webhook_id=None, event=event("m-1"), conn=file_db)
    first = append._shared[2]
    with sqlite3.connect(file_db.settings_dict["NAME"]) as other:
        other.execute(f"ALTER TABLE {WebhookEvent._meta.db_table} RENAME TO moved")  # noqa: S608
    with pytest.raises(OperationalError):
        append.append_event(webhook_id=None, event=event("m-2"), conn=file_db)
    assert append._shared is None
    with sqlite3.connect(file_db.settings_dict["NAME"]) as other:
        other.execute(f"ALTER TABLE moved RENAME TO {WebhookEvent._meta.db_table}")  # noqa: S608
    assert append.append_event(webhook_id=None, event=event("m-2"), conn=file_db)
    assert append._shared[2] is not first and len(stored(file_db)) == 2


def test_a_forked_process_opens_its_own_connection_and_lock_file(file_db, monkeypatch):
    assert append.append_event(webhook_id=None, event=event("m-1"), conn=file_db)
    parents, parent_fd = append._shared[2], append._lock_files.file.fd
    monkeypatch.setattr(append.os, "getpid", lambda: -1)  # as seen from a child after fork
    assert append.append_event(webhook_id=None, event=event("m-2"), conn=file_db)
    assert append._shared[2] is not parents and append._lock_files.file.fd != parent_fd
    os.fstat(parent_fd)  # the parent's descriptor is left to it
    parents.execute("SELECT 1")  # the parent's connection was left alone, not closed
    assert len(stored(file_db)) == 2


def _queued_behind_the_turn(file_db, events, monkeypatch) -> tuple[list, list[int]]:
    """Append ``events`` from one thread each while the test holds the turn; release it when
    all are queued. Returns their results and the sizes of the groups written."""
    import threading
    import time

    sizes: list[int] = []
    write_group = append._write_group
    monkeypatch.setattr(append, "_write_group", lambda conn, group: (sizes.append(len(group)),
                                                                    write_group(conn, group)))
    results: list = []

    def one(e):
        try:
            results.append(append.append_event(webhook_id=e[0], event=e[1], conn=file_db))
        except Exception as exc:  # noqa: BLE001 - the caller's error, checked below
            results.append(exc)

    with append._turn:
        threads = [threading.Thread(target=one, args=(e,)) for e in events]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while len(append._waiting) < len(events) and time.monotonic() < deadline:
            time.sleep(0.005)
        assert len(append._waiting) == len(events)
    for t in threads:
        t.join(10)
    return results, sizes


def test_appends_queued_meanwhile_are_written_in_one_statement(file_db, monkeypatch):
    statements = []
    monkeypatch.setattr(append, "_group_sql", lambda rows, group_sql=append._group_sql: (
        statements.append(rows), group_sql(rows))[1])
    events = [(None, event(f"m-{i}")) for i in range(3)]
    results, sizes = _queued_behind_the_turn(file_db, events, monkeypatch)
    assert sizes == [3] and statements == [3] and results == [True, True, True]
    assert len(stored(file_db)) == 3 and append._waiting == []


def test_a_group_with_retries_tells_each_append_whether_it_added_the_row(file_db, monkeypatch):
    assert append.append_event(webhook_id=None, event=event("m-old"), conn=file_db)
    events = [(None, event("m-1")), (None, event("m-old")), (None, event("m-2")), (None, event("m-1"))]
    results, sizes = _queued_behind_the_turn(file_db, events, monkeypatch)
    assert sizes == [4] and sorted(results) == [False, False, True, True]  # threads finish in any order
    rows = stored(file_db)
    assert [json.loads(p)["id"] for p, _, _ in rows] == ["m-old", "m-1", "m-2"]


def test_the_rows_added_are_told_apart_from_the_retries_by_their_keys(file_db):
    stored_before = event("m-old")
    assert append.append_event(webhook_id=None, event=stored_before, conn=file_db)
    rows = [(None, "2026-01-01 00:00:00", "t", "POST", "{}", "{}", key, "received")
            for key in ("k-1", stored_before.dedupe_key, "k-2", "k-1", "k-3")]
    assert append._insert_group(append._shared_connection(file_db), rows) == [True, False, True, False, True]
    assert len(stored(file_db)) == 4


def _in_thread(target) -> tuple[threading.Thread, list]:
    out: list = []
    thread = threading.Thread(target=lambda: out.append(target()))
    thread.start()
    return thread, out


def test_an_append_waits_while_a_long_writer_holds_its_turn_then_is_stored(file_db):
    writer = os.open(turn_path(file_db), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(writer, fcntl.LOCK_EX)  # a launch's turn
    try:
        thread, out = _in_thread(lambda: append.append_event(webhook_id=None, event=event("m-1"), conn=file_db))
        deadline = time.monotonic() + 10
        while " -> FLOCK" not in _proc_locks() and time.monotonic() < deadline:
            time.sleep(0.005)
        assert " -> FLOCK" in _proc_locks()  # the append waits on the file lock, in the kernel
        assert out == [] and stored(file_db) == []
    finally:
        fcntl.flock(writer, fcntl.LOCK_UN)
        os.close(writer)
    thread.join(10)
    assert out == [True] and len(stored(file_db)) == 1


def _proc_locks() -> str:
    with open("/proc/locks") as locks:
        return locks.read()


def test_each_thread_holds_the_lock_file_shared_on_a_descriptor_of_its_own(file_db):
    assert append.append_event(webhook_id=None, event=event("m-1"), conn=file_db)
    thread, out = _in_thread(lambda: (append.append_event(webhook_id=None, event=event("m-2"), conn=file_db),
                                      append._lock_files.file.fd))
    thread.join(10)
    assert out[0][0] is True and out[0][1] != append._lock_files.file.fd
    assert lock_file_free(turn_path(file_db))  # both given back


def test_a_long_writer_cannot_take_its_turn_while_a_group_is_written(file_db, monkeypatch):
    inside, go_on = threading.Event(), threading.Event()
    write_group = append._write_group

    def paused(conn, group):
        inside.set()
        assert go_on.wait(10)
        return write_group(conn, group)

    monkeypatch.setattr(append, "_write_group", paused)
    thread, out = _in_thread(lambda: append.append_event(webhook_id=None, event=event("m-1"), conn=file_db))
    assert inside.wait(10)
    assert not lock_file_free(turn_path(file_db))
    go_on.set()
    thread.join(10)
    assert out == [True] and lock_file_free(turn_path(file_db))


def test_a_failed_group_stores_nothing_and_fails_each_append(file_db, monkeypatch):
    events = [(None, event("m-1")), (4242, event("m-2")), (None, event("m-3"))]  # no webhook 4242
    results, sizes = _queued_behind_the_turn(file_db, events, monkeypatch)
    assert sizes == [3] and len(results) == 3
    assert all(isinstance(r, IntegrityError) for r in results), results
    assert stored(file_db) == [] and append._shared is None
    assert append.append_event(webhook_id=None, event=event("m-1"), conn=file_db)  # the next one is stored
