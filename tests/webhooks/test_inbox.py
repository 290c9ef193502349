"""The receiver's inbox on SQLite (``messaging.webhooks.inbox``): a callback is committed to
this process's inbox file before the 200; a move (the drain's, or the owner's flush) takes
it into the event table, then forgets it there; the drain applies it. Nothing is lost when
nothing moves or a move stops half-way, nothing is stored or applied twice, and an inbox
whose process has ended is moved and removed. (The tests store in the table: each test here
turns the inbox on, in a temporary directory; the flush, off in tests, runs at the end.)"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import subprocess
import sys
import time

import pytest
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper

from messaging.campaigns.models import DeliveryReport, Message
from messaging.webhooks import inbox, ingest, services
from messaging.webhooks.append import append_event
from messaging.webhooks.models import Webhook, WebhookEvent
from messaging.webhooks.parsing import parse_body

from .conftest import dlr, post

pytestmark = [pytest.mark.django_db(transaction=True),  # autocommit, as under a real server
              pytest.mark.skipif(connection.vendor != "sqlite" or inbox.fcntl is None, reason="SQLite's inbox, flock")]


@pytest.fixture
def box_dir(tmp_path, settings, monkeypatch):
    """The inbox directory; no drain nudged by the receiver (the tests drain themselves)."""
    directory = tmp_path / "inbox"
    settings.BICS_WEBHOOK_INBOX, settings.BICS_WEBHOOK_INBOX_DIR = True, str(directory)
    monkeypatch.setattr(services, "kick", lambda: None)
    inbox.forget_own()
    yield directory
    inbox.forget_own()


def inbox_rows(directory) -> list[tuple]:
    rows = []
    for path in inbox.inbox_files(str(directory)):
        with sqlite3.connect(path) as other:  # as another process reads it
            rows += other.execute("SELECT webhook_id, event_type, dedupe_key FROM inbox ORDER BY id").fetchall()
    return rows


@pytest.fixture
def message(db):
    return Message.objects.create(channel="sms", number="+32470000001", status="submitted", bics_message_id="m-1")


def reports(message) -> list[bool]:
    return list(DeliveryReport.objects.filter(message=message).values_list("applied", flat=True))


def test_a_callback_is_committed_to_the_inbox_before_200_and_applied_by_the_drain(hook, message, box_dir):
    assert post(dlr("m-1"))[0] == 200
    [(webhook_id, event_type, key)] = inbox_rows(box_dir)
    assert (webhook_id, event_type, len(key)) == (hook.pk, "sms:message:status", 64)
    assert WebhookEvent.objects.count() == 0 and ingest.pending_exists()  # nothing moved yet: kept, and known

    assert ingest.apply_pending_events() == 1
    event = WebhookEvent.objects.get()
    assert (event.webhook, event.state, event.payload["id"], event.raw) == (hook, "processed", "m-1", dlr("m-1"))
    assert event.dedupe_key == key
    message.refresh_from_db()
    assert message.status == "delivered" and reports(message) == [True]
    assert inbox_rows(box_dir) == [] and not ingest.pending_exists()
    assert len(inbox.inbox_files(str(box_dir))) == 1  # this process owns it still: kept


def test_a_retry_in_the_inbox_and_a_retry_after_the_move_are_each_stored_and_applied_once(hook, message, box_dir):
    assert post(dlr("m-1"))[0] == 200
    assert post(dlr("m-1"))[0] == 200
    assert len(inbox_rows(box_dir)) == 2
    assert ingest.apply_pending_events() == 1
    assert post(dlr("m-1"))[0] == 200
    assert ingest.apply_pending_events() == 0
    assert WebhookEvent.objects.count() == 1 and reports(message) == [True]
    assert inbox_rows(box_dir) == []


def test_a_move_stopped_after_its_insert_moves_the_rows_again_and_stores_them_once(hook, message, box_dir,
                                                                                     monkeypatch):
    assert post(dlr("m-1"))[0] == 200
    turn = inbox.Mover._turn

    @contextlib.contextmanager
    def stopped(self):
        with turn(self):
            yield
        raise RuntimeError("worker killed")  # after the INSERT, before the inbox forgets the rows

    monkeypatch.setattr(inbox.Mover, "_turn", stopped)
    with pytest.raises(RuntimeError):
        ingest.apply_pending_events()
    assert WebhookEvent.objects.get().state == "received" and len(inbox_rows(box_dir)) == 1

    monkeypatch.setattr(inbox.Mover, "_turn", turn)
    assert ingest.apply_pending_events() == 1
    assert WebhookEvent.objects.get().state == "processed" and reports(message) == [True]
    assert inbox_rows(box_dir) == []


def test_a_move_that_fails_leaves_the_rows_in_the_inbox(hook, message, box_dir, monkeypatch):
    assert post(dlr("m-1"))[0] == 200
    move_sql = inbox._move_sql
    monkeypatch.setattr(inbox, "_move_sql", lambda: "INSERT INTO no_such_table SELECT * FROM box.inbox WHERE id <= ?")
    with pytest.raises(sqlite3.OperationalError):
        ingest.apply_pending_events()
    assert WebhookEvent.objects.count() == 0 and len(inbox_rows(box_dir)) == 1

    monkeypatch.setattr(inbox, "_move_sql", move_sql)
    assert ingest.apply_pending_events() == 1
    assert reports(message) == [True] and inbox_rows(box_dir) == []


def test_an_inbox_whose_process_has_ended_is_moved_and_removed(hook, message, box_dir):
    assert post(dlr("m-0"))[0] == 200  # this process's inbox
    mine = inbox.inbox_files(str(box_dir))
    event = parse_body(json.dumps(dlr("m-1")).encode())
    row = (hook.pk, "2026-01-02 10:00:00", event.event_type, "POST", json.dumps(event.payload),
           json.dumps(dlr("m-1")), event.dedupe_key)
    child = os.fork()
    if child == 0:  # another server process: appends, then ends
        try:
            inbox.append(str(box_dir), row, connection)
        finally:
            os._exit(0)
    assert os.waitpid(child, 0)[1] == 0
    theirs = sorted(set(inbox.inbox_files(str(box_dir))) - set(mine))
    assert len(theirs) == 1

    assert ingest.apply_pending_events() == 2
    message.refresh_from_db()
    assert message.status == "delivered" and reports(message) == [True]
    assert inbox.inbox_files(str(box_dir)) == mine  # theirs removed, mine kept (its process lives)
    stem = os.path.basename(theirs[0].removesuffix(".sqlite3"))
    assert [name for name in os.listdir(box_dir) if name.startswith(stem)] == []


def test_an_inbox_that_cannot_be_written_leaves_the_event_to_the_table(hook, message, tmp_path, settings,
                                                                        monkeypatch, caplog):
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    settings.BICS_WEBHOOK_INBOX, settings.BICS_WEBHOOK_INBOX_DIR = True, str(not_a_directory / "inbox")
    monkeypatch.setattr(services, "kick", lambda: None)
    inbox.forget_own()
    with caplog.at_level(logging.WARNING, logger="messaging.webhooks"):
        assert post(dlr("m-1"))[0] == 200
    assert WebhookEvent.objects.get().state == "received"  # stored before the 200 all the same
    assert "webhook inbox append failed (NotADirectoryError)" in caplog.text


def test_an_event_whose_webhook_was_deleted_before_the_move_is_kept_without_it(hook, message, box_dir):
    assert post(dlr("m-1"))[0] == 200
    hook.delete()
    assert ingest.apply_pending_events() == 1
    event = WebhookEvent.objects.get()
    assert (event.webhook_id, event.state) == (None, "processed") and reports(message) == [True]


def test_the_drain_moves_the_inbox_even_when_its_time_is_up(hook, box_dir):
    for i in range(3):
        assert post(dlr(f"m-{i}"))[0] == 200
    assert ingest.drain(budget_seconds=0) == (0, True)  # moved, not applied: queued again
    assert WebhookEvent.objects.filter(state="received").count() == 3 and inbox_rows(box_dir) == []
    assert ingest.drain(budget_seconds=20) == (3, False)


def test_the_owner_moves_its_inbox_into_the_database_file_on_its_own(tmp_path, settings):
    settings.BICS_WEBHOOK_INBOX, settings.BICS_WEBHOOK_INBOX_FLUSH_SECONDS = True, 0.05
    inbox.forget_own()
    conn = DatabaseWrapper({**connection.settings_dict, "NAME": str(tmp_path / "db.sqlite3")}, alias="filedb")
    with conn.schema_editor(atomic=False) as editor:
        editor.create_model(Webhook)
        editor.create_model(WebhookEvent)
    events = {m: parse_body(json.dumps(dlr(m)).encode()) for m in ("m-1", "m-2")}
    directory = tmp_path / "db.sqlite3-inbox"  # beside the database file
    try:
        for message_id in ("m-1", "m-2", "m-1"):
            assert append_event(webhook_id=None, event=events[message_id], conn=conn)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (len(table_keys(conn)) < 2 or inbox_rows(directory)):
            time.sleep(0.02)
        assert sorted(table_keys(conn)) == sorted(event.dedupe_key for event in events.values())
        assert inbox_rows(directory) == []
    finally:
        inbox.forget_own()
        conn.close()


def table_keys(conn) -> list[str]:
    with sqlite3.connect(conn.settings_dict["NAME"]) as other:
        return [key for (key,) in other.execute(f"SELECT dedupe_key FROM {WebhookEvent._meta.db_table}")]  # noqa: S608


ENDING = """
import json, sys
import django
django.setup()
from django.conf import settings
from django.db import connection
settings.BICS_WEBHOOK_INBOX, settings.BICS_WEBHOOK_INBOX_FLUSH_SECONDS = True, 3600
from messaging.webhooks.append import append_event
from messaging.webhooks.parsing import parse_body
assert append_event(webhook_id=None, event=parse_body(sys.argv[1].encode()), conn=connection)
"""


def test_a_process_that_ends_normally_moves_its_inbox_first(tmp_path):
    conn = DatabaseWrapper({**connection.settings_dict, "NAME": str(tmp_path / "db.sqlite3")}, alias="filedb")
    with conn.schema_editor(atomic=False) as editor:
        editor.create_model(Webhook)
        editor.create_model(WebhookEvent)
    body = json.dumps(dlr("m-1"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test",
           "TEST_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    done = subprocess.run([sys.executable, "-c", ENDING, body], env=env, cwd=settings_root(), capture_output=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    try:  # the flush was an hour away: the row was moved on the way out
        assert table_keys(conn) == [parse_body(body.encode()).dedupe_key]
        assert inbox_rows(tmp_path / "db.sqlite3-inbox") == []
    finally:
        conn.close()


def settings_root() -> str:
    from django.conf import settings

    return str(settings.BASE_DIR)
