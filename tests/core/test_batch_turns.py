"""``core.batches.turns``: a launch's write transactions take turns with the receiver's appends."""

from __future__ import annotations

import struct
import threading
import time
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction

from core.batches.turns import _Checkpointer, turn_path, writer_turns
from tests.concurrency import lock_file_free

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def lock_path(tmp_path):
    return str(tmp_path / "db.sqlite3-append.lock")


def test_a_write_transaction_holds_the_turn_until_it_commits(lock_path):
    with writer_turns(path=lock_path):
        with transaction.atomic():
            Group.objects.create(name="turn-a")
            assert not lock_file_free(lock_path)
            Group.objects.create(name="turn-b")
            assert not lock_file_free(lock_path)
        assert lock_file_free(lock_path)
    assert Group.objects.filter(name__startswith="turn-").count() == 2


def test_a_rolled_back_transaction_gives_the_turn_back(lock_path):
    with writer_turns(path=lock_path):
        with pytest.raises(RuntimeError), transaction.atomic():
            Group.objects.create(name="turn-rolled-back")
            assert not lock_file_free(lock_path)
            raise RuntimeError("rolled back")
        assert lock_file_free(lock_path)
    assert not Group.objects.filter(name="turn-rolled-back").exists()


def test_a_write_in_autocommit_holds_the_turn_for_its_statement_only(lock_path):
    seen = []

    def inner(execute, sql, params, many, context):  # runs inside the turn's wrapper
        seen.append((sql.split()[0].upper(), lock_file_free(lock_path)))
        return execute(sql, params, many, context)

    with writer_turns(path=lock_path), connection.execute_wrapper(inner):
        Group.objects.create(name="turn-auto")
        list(Group.objects.filter(name="turn-auto"))
        assert lock_file_free(lock_path)
    assert ("INSERT", False) in seen
    assert ("SELECT", True) in seen


def _autocheckpoint() -> int:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        return cursor.fetchone()[0]


def test_leaving_restores_the_connection(lock_path):
    commit, wrappers, automatic = connection._commit, list(connection.execute_wrappers), _autocheckpoint()
    assert automatic > 0
    with writer_turns(path=lock_path):
        assert connection._commit != commit
        assert _autocheckpoint() == 0  # checkpoints after the turns instead
        with writer_turns(path=lock_path):  # nested: the outer one's turns go on
            with transaction.atomic():
                Group.objects.create(name="turn-nested")
                assert not lock_file_free(lock_path)
            assert lock_file_free(lock_path)
    assert connection._commit == commit
    assert connection.execute_wrappers == wrappers
    assert _autocheckpoint() == automatic
    with transaction.atomic():
        Group.objects.create(name="turn-after")
        assert lock_file_free(lock_path)  # not taking turns any more


def test_the_turns_are_taken_on_the_file_beside_the_database():
    if connection.is_in_memory_db():
        assert turn_path(connection) is None
    else:
        assert turn_path(connection) == f"{connection.settings_dict['NAME']}-append.lock"
    other = SimpleNamespace(vendor="postgresql", is_in_memory_db=lambda: False, settings_dict={"NAME": "x"})
    assert turn_path(other) is None  # row locks there: nothing to take turns on
    with writer_turns(other), transaction.atomic():  # and so a no-op
        Group.objects.create(name="turn-other")
    assert Group.objects.filter(name="turn-other").exists()


def _frames_not_checkpointed() -> int:
    """Frames of the WAL not yet copied into the database file: the wal-index's ``mxFrame``
    (its header, offset 16) less ``nBackfill`` (its checkpoint information, offset 96), in
    the machine's byte order (https://www.sqlite.org/walformat.html, the wal-index format)."""
    with open(f"{connection.settings_dict['NAME']}-shm", "rb") as shm:
        head = shm.read(100)
    return struct.unpack_from("=I", head, 16)[0] - struct.unpack_from("=I", head, 96)[0]


def _checkpoint_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "wal-checkpoint"]


def test_the_log_is_checkpointed_after_each_turn_on_a_thread_of_its_own(lock_path):
    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        return
    connection.ensure_connection()
    assert not _checkpoint_threads()
    with writer_turns(path=lock_path):
        with transaction.atomic():
            Group.objects.bulk_create([Group(name=f"turn-log-{i}") for i in range(200)])
        deadline = time.monotonic() + 10
        while _frames_not_checkpointed() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _frames_not_checkpointed() == 0  # copied while this connection could go on
        assert [t.is_alive() for t in _checkpoint_threads()] == [True]
        with transaction.atomic():
            Group.objects.filter(name__startswith="turn-log-1").delete()
    assert _frames_not_checkpointed() == 0  # the last turn's pages too, before leaving
    assert not _checkpoint_threads()
    assert Group.objects.filter(name__startswith="turn-log-").count() == 89


def test_a_long_log_makes_the_next_turn_wait_for_its_checkpoint(lock_path, monkeypatch):
    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        return
    monkeypatch.setattr(_Checkpointer, "RESTART_FRAMES", -1)  # every log is long: each turn waits
    with writer_turns(path=lock_path):
        for round_ in range(3):
            with transaction.atomic():
                Group.objects.bulk_create([Group(name=f"turn-wait-{round_}-{i}") for i in range(100)])
            assert _frames_not_checkpointed() == 0  # copied before the commit returned: no polling
    assert Group.objects.filter(name__startswith="turn-wait-").count() == 300


def test_a_checkpoint_thread_without_a_connection_is_not_waited_for(tmp_path):
    checkpointer = _Checkpointer(tmp_path / "missing" / "db.sqlite3")  # a folder that does not exist
    checkpointer.nudge()
    checkpointer.wait()  # returns: the thread has ended
    checkpointer.stop()
    assert not checkpointer.running and not checkpointer.thread.is_alive()
