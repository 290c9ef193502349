"""`contacts_import`: a file of contacts into the database, streaming and in bulk.

A file that cannot be read as a whole is refused by `core.tabular.open_table` before anything is
written. Then, for a CSV, the main process cuts the file into blocks of whole records and a
process pool (one worker per core, for files over PARALLEL_MIN_BYTES) decodes, parses and
validates them (`rowparse.parse_block`) while the main process writes the blocks already
parsed, in file order; XLSX rows are read by the main process and parsed in chunks the same
way. Each block is written in one transaction: contacts upserted by number (`INSERT ... ON
CONFLICT (phone) DO UPDATE`, SQLite and PostgreSQL alike), tags linked, rejected rows
stored, progress updated (at most every PROGRESS_EVERY_S). Memory stays bounded: a few
blocks in flight, and a bounded SQLite page cache.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import islice

from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from contacts.models import IMPORT_STATES, Contact, ContactImport, ContactImportRejection, ImportState, Tag
from contacts.services.rowparse import column_spec, parse_block, parse_rows
from core.models import SyncState
from core.tabular import Table, TableRefused, open_table
from core.uploads import local_copy

logger = logging.getLogger(__name__)

__all__ = ["ImportBusy", "ImportRefused", "ImportResult", "contacts_import", "contacts_import_file"]

ImportRefused = TableRefused  # the import's refusal: the file cannot be read as a whole


class ImportBusy(Exception):
    """The import is done, or running in a live worker: this run does nothing."""


# A running import is taken over only when its worker is surely gone (the task's hard limit).
STALE_AFTER = timedelta(hours=4, minutes=5)

CHUNK_ROWS = 5000  # XLSX rows per chunk
BLOCK_BYTES = 1 << 20  # CSV bytes per block (whole records)
PARALLEL_MIN_BYTES = 8 * 1024 * 1024  # below ~140k rows, starting the workers costs more than it saves
PROGRESS_EVERY_S = 0.5
_IN_CHUNK = 500  # values per IN (...) list
SQLITE_CACHE_KB = 32 * 1024  # page cache of the importing connection (bounded memory)
SQLITE_WAL_CHECKPOINT_PAGES = 10_000  # fewer, larger checkpoints while importing


@dataclass
class ImportResult:
    rows_read: int = 0
    imported: int = 0
    updated: int = 0
    duplicates: int = 0  # rows repeating a number seen earlier in the file (later values win)
    rejected: int = 0
    rejections: list = field(default_factory=list)  # (line, reason), capped
    description: str = ""


def contacts_import_file(
    *,
    path: str,
    default_country: str = "",
    tag: str = "",
    user=None,
    original_name: str = "",
    workers: int | None = None,
) -> tuple[ContactImport, ImportResult]:
    """Checks the file first (raises ImportRefused, writing nothing), then imports it."""
    source = open_table(path)
    contact_import = ContactImport.objects.create(
        original_name=original_name or os.path.basename(path),
        created_by=user,
        default_country=default_country.upper(),
        tag=tag,
        bytes_total=source.size,
    )
    result = contacts_import(contact_import=contact_import, path=path, source=source, workers=workers)
    return contact_import, result


def contacts_import(
    *,
    contact_import: ContactImport,
    path: str | None = None,
    source: Table | None = None,
    workers: int | None = None,
    chunk_rows: int = CHUNK_ROWS,
    block_bytes: int = BLOCK_BYTES,
    keep_rejections: int = 10_000,
) -> ImportResult:
    """Runs one import to the end; the import row carries state, counters and rejections.

    Safe to run again on a failed or interrupted import: contacts are upserted by number.
    """
    if source is None and path is None:  # the upload, from the storage every worker reaches
        with local_copy(contact_import.file) as copy:
            return contacts_import(contact_import=contact_import, path=copy, workers=workers, chunk_rows=chunk_rows,
                                   block_bytes=block_bytes, keep_rejections=keep_rejections)
    source = _start(contact_import, source, path)
    writer = _Writer(contact_import, tag=contact_import.tag, keep_rejections=keep_rejections)
    writer.result.description = source.description
    if workers is None:
        workers = (os.cpu_count() or 1) if source.size >= PARALLEL_MIN_BYTES else 0
    tasks = _tasks(source, _spec(source, contact_import), chunk_rows=chunk_rows, block_bytes=block_bytes)
    try:
        pool = _start_pool(workers) if workers > 0 else None
        if pool is None:
            for function, args, position in tasks:
                writer.write(function(*args), _position(position, source))
        else:
            with pool:
                _write_in_parallel(pool, tasks, writer, source, ahead=workers * 2)
    except Exception as exc:
        logger.exception("contact import %s failed", contact_import.pk)
        try:
            writer.flush_progress(force=True)
        except Exception:  # the database may be what failed; the state below matters more
            logger.warning("could not save the progress of contact import %s", contact_import.pk)
        _finish(contact_import, state=ImportState.FAILED, error=f"Import stopped: {exc}")
        raise
    finally:
        writer.restore()
    result = writer.finish(source.size)
    _finish(contact_import, state=ImportState.DONE)
    return result


def _start(contact_import: ContactImport, source: Table | None, path: str) -> Table:
    """Claims the import (queued or failed, or running in a worker long gone), clears a previous
    run's rejections and opens its file. Raises ImportBusy when it may not run now."""
    now = timezone.now()
    live = Q(state=ImportState.RUNNING, started_at__gte=now - STALE_AFTER)
    if not IMPORT_STATES.move(ContactImport.objects, contact_import.pk, ImportState.RUNNING, when=~live,
                              started_at=now, finished_at=None, error=""):
        raise ImportBusy(f"{contact_import} is done or running elsewhere.")
    ContactImportRejection.objects.filter(contact_import=contact_import).delete()
    try:
        source = source or open_table(path)
    except TableRefused as exc:
        _finish(contact_import, state=ImportState.FAILED, error=str(exc))
        raise
    ContactImport.objects.filter(pk=contact_import.pk).update(bytes_total=source.size)
    return source


def _spec(source: Table, contact_import: ContactImport) -> dict:
    spec = column_spec(source.header)
    spec.update(delimiter=source.delimiter, default_country=contact_import.default_country or None)
    return spec


def _tasks(source: Table, spec: dict, *, chunk_rows: int, block_bytes: int):
    """(parse function, its arguments, file position after it) per chunk of the file."""
    if source.kind == "csv":  # the main process only cuts byte blocks and writes; workers parse
        for block, line, position in source.blocks(block_bytes):
            yield parse_block, (block, line, spec), position
    else:
        for rows in _chunks(source.rows(), chunk_rows):
            yield parse_rows, (rows, spec), None


def _write_in_parallel(pool, tasks, writer: _Writer, source: Table, *, ahead: int) -> None:
    """Parses in the pool, at most `ahead` chunks in flight, and writes in file order."""
    pending: deque = deque()
    for function, args, position in tasks:
        pending.append((pool.submit(function, *args), position))
        if len(pending) > ahead:
            future, position = pending.popleft()
            writer.write(future.result(), _position(position, source))
    while pending:
        future, position = pending.popleft()
        writer.write(future.result(), _position(position, source))


def _finish(contact_import: ContactImport, *, state: str, error: str = "") -> None:
    if not IMPORT_STATES.move(ContactImport.objects, contact_import.pk, state, only_from=[ImportState.RUNNING],
                              error=error, finished_at=timezone.now()):
        logger.warning("contact import %s: no longer running here, not marked %s", contact_import.pk, state)
    contact_import.refresh_from_db()


def _position(position, source: Table) -> int:
    return source.position if position is None else position


def _chunks(rows, size):
    rows = iter(rows)
    while chunk := list(islice(rows, size)):
        yield chunk


def _slices(items: list) -> list[list]:
    return [items[start : start + _IN_CHUNK] for start in range(0, len(items), _IN_CHUNK)]


def _marks(part: list) -> str:
    return ", ".join(["%s"] * len(part))


def _start_pool(workers: int):
    # "spawn" is safe with threads around (web server, Celery); it re-imports __main__,
    # which must then be a real file (not stdin or -c), else "fork" is the only choice.
    main_file = getattr(sys.modules.get("__main__"), "__file__", None) or ""
    method = "spawn" if os.path.isfile(main_file) else "fork"
    try:
        return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method))
    except (OSError, AssertionError, ValueError):  # e.g. inside a daemonic process
        logger.warning("no process pool for the contact import; parsing in-process")
        return None


class _Writer:
    """Writes parsed chunks, one transaction each, and keeps the import's counters."""

    def __init__(self, contact_import: ContactImport, *, tag: str, keep_rejections: int):
        self.contact_import = contact_import
        self.result = ImportResult()
        self.valid = 0
        self.imported = 0
        self.counted_to = 0  # contact ids below this are counted in `imported`
        self.duplicates = 0
        self.first_new_id = (Contact.objects.aggregate(top=Max("id"))["top"] or 0) + 1  # of this run
        self.keep_rejections = keep_rejections
        self.position = 0
        self.last_progress = 0.0
        self.tag_ids: dict[str, int] = {}
        self.global_tag = tag.strip()
        self.vendor = connection.vendor
        self.contact_table = Contact._meta.db_table
        self.through = Contact.tags.through._meta.db_table
        self.upsert_sql = self._upsert_sql()
        self.any_synced = False  # read again for every chunk (see _synced_yet)
        if self.vendor == "sqlite":
            # A bigger page cache keeps the phone index in memory during a large import.
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KB}")
                cursor.execute(f"PRAGMA wal_autocheckpoint = {SQLITE_WAL_CHECKPOINT_PAGES}")

    # --- SQL ---------------------------------------------------------------------------
    def _upsert_sql(self) -> str:
        q = connection.ops.quote_name
        table = q(self.contact_table)
        columns = [
            "phone", "country", "identity", "email", "first_name", "last_name", "company",
            "postal_code", "birth_date", "gender", "attributes", "source_import_id",
            "created_at", "updated_at", "sync_state", "sync_error",
        ]  # fmt: skip
        # The parsed record binds the first 11 columns; the rest are the same for every row.
        placeholders = ", ".join(
            ["%s"] * 11
            + [str(int(self.contact_import.pk)), "CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP",
               f"'{SyncState.NEVER}'", "''"]
        )  # fmt: skip
        texts = ["identity", "email", "first_name", "last_name", "company", "postal_code", "gender"]
        sets, changed = [], []
        for name in texts:
            col, new = f"{table}.{q(name)}", f"EXCLUDED.{q(name)}"
            given = f"{new} <> ''"
            if name == "identity":  # derived from the number when the file has none: keep ours
                given += f" AND {new} <> EXCLUDED.{q('phone')}"
            sets.append(f"{q(name)} = CASE WHEN {given} THEN {new} ELSE {col} END")
            changed.append(f"({given} AND {new} <> {col})")
        bd, new_bd = f"{table}.{q('birth_date')}", f"EXCLUDED.{q('birth_date')}"
        sets.append(f"{q('birth_date')} = COALESCE({new_bd}, {bd})")
        changed.append(f"({new_bd} IS NOT NULL AND ({bd} IS NULL OR {new_bd} <> {bd}))")
        attrs, new_attrs = f"{table}.{q('attributes')}", f"EXCLUDED.{q('attributes')}"
        if self.vendor == "postgresql":
            merged, current = f"({attrs} || {new_attrs})", attrs
        else:
            merged, current = f"json_patch({attrs}, {new_attrs})", f"json({attrs})"
        sets.append(f"{q('attributes')} = {merged}")
        changed.append(f"{merged} <> {current}")
        sets.append(f"{q('country')} = EXCLUDED.{q('country')}")
        sets.append(f"{q('updated_at')} = EXCLUDED.{q('updated_at')}")
        # Edited here after a sync: it needs a push again. Never synced stays "never".
        state = f"{table}.{q('sync_state')}"
        sets.append(
            f"{q('sync_state')} = CASE WHEN {state} = '{SyncState.NEVER}' "
            f"THEN '{SyncState.NEVER}' ELSE '{SyncState.DIRTY}' END"
        )
        return (
            f"INSERT INTO {table} ({', '.join(q(c) for c in columns)}) VALUES ({placeholders}) "
            f"ON CONFLICT ({q('phone')}) DO UPDATE SET {', '.join(sets)} "
            f"WHERE {' OR '.join(changed)}"
        )

    # --- writing ----------------------------------------------------------------------
    def write(self, parsed, position: int) -> None:
        (records, tags), rejections, valid, rows_in_chunk = parsed
        self.result.rows_read += rows_in_chunk
        self.result.rejected += len(rejections)
        self.valid += valid
        self.position = position
        import_id = self.contact_import.pk
        with transaction.atomic():
            with connection.cursor() as cursor:
                # a repeated number is a duplicate, not an update: within the chunk (merged by
                # the parser) or of a contact an earlier chunk of this file created
                self.duplicates += valid - len(records) + self._created_earlier(cursor, [r[0] for r in records])
                if records:
                    cursor.executemany(self.upsert_sql, records)
                self._link_tags(cursor, [r[0] for r in records], tags)
            if rejections:
                ContactImportRejection.objects.bulk_create(
                    [
                        ContactImportRejection(
                            contact_import_id=import_id, line=line, reason=reason, raw=raw[:2000]
                        )
                        for line, reason, raw in rejections
                    ],
                    batch_size=1000,
                )
            self.flush_progress()
        room = self.keep_rejections - len(self.result.rejections)
        if room > 0:
            self.result.rejections.extend((line, reason) for line, reason, _ in rejections[:room])

    def _tag_id(self, cursor, names: set[str]) -> None:
        missing = [n for n in names if n not in self.tag_ids]
        if not missing:
            return
        now = timezone.now()
        Tag.objects.bulk_create(
            [Tag(name=n, created_at=now, updated_at=now) for n in missing], ignore_conflicts=True
        )
        for tag_id, name in Tag.objects.filter(name__in=missing).values_list("id", "name"):
            self.tag_ids[name] = tag_id

    def _link_tags(self, cursor, phones: list[str], tags: dict[str, tuple]) -> None:
        if self.global_tag:
            extra = (self.global_tag,)
            wanted_by_phone = {phone: tags.get(phone, ()) + extra for phone in phones}
        else:
            wanted_by_phone = tags
        if not wanted_by_phone:
            return
        self._tag_id(cursor, {t for names in wanted_by_phone.values() for t in names})
        if self._synced_yet():
            self._link_by_id(cursor, wanted_by_phone)
        else:
            self._link_by_number(cursor, wanted_by_phone)

    def _synced_yet(self) -> bool:
        """Has any contact been synced? Asked again in every chunk's transaction until it is:
        a sync may start while a long import runs, and from then on new tag links must mark
        the synced contacts dirty."""
        if not self.any_synced:
            self.any_synced = Contact.objects.filter(
                sync_state__in=[SyncState.SYNCED, SyncState.FAILED, SyncState.DIRTY]
            ).exists()
        return self.any_synced

    def _link_by_number(self, cursor, wanted_by_phone: dict[str, tuple]) -> None:
        """Nothing was ever synced: no contact can turn dirty, so link by number in SQL, one
        statement per tag and slice of numbers."""
        q = connection.ops.quote_name
        phones_by_tag: dict[int, list[str]] = {}
        for phone, names in wanted_by_phone.items():
            for name in names:
                phones_by_tag.setdefault(self.tag_ids[name], []).append(phone)
        for tag_id, tag_phones in phones_by_tag.items():
            for part in _slices(tag_phones):
                cursor.execute(
                    f"INSERT INTO {q(self.through)} ({q('contact_id')}, {q('tag_id')}) "
                    f"SELECT {q('id')}, {int(tag_id)} FROM {q(self.contact_table)} "
                    f"WHERE {q('phone')} IN ({_marks(part)}) ON CONFLICT DO NOTHING",
                    part,
                )

    def _link_by_id(self, cursor, wanted_by_phone: dict[str, tuple]) -> None:
        """Only synced contacts need to know which links are new (they become dirty); the
        others are linked with ON CONFLICT DO NOTHING, without reading first."""
        q = connection.ops.quote_name
        ids, synced = self._contact_ids(cursor, list(wanted_by_phone))
        wanted = [(ids[phone], self.tag_ids[t]) for phone, names in wanted_by_phone.items() for t in names]
        new_for_synced: set[int] = set()
        if synced:
            existing = self._existing_links(cursor, sorted(synced))
            wanted = [pair for pair in wanted if pair not in existing]
            new_for_synced = {c for c, _ in wanted if c in synced}
        if not wanted:
            return
        cursor.executemany(
            f"INSERT INTO {q(self.through)} ({q('contact_id')}, {q('tag_id')}) VALUES (%s, %s) "
            f"ON CONFLICT DO NOTHING",
            wanted,
        )
        for part in _slices(sorted(new_for_synced)):
            cursor.execute(
                f"UPDATE {q(self.contact_table)} SET {q('sync_state')} = %s WHERE {q('id')} IN ({_marks(part)})",
                [SyncState.DIRTY.value, *part],
            )

    def _contact_ids(self, cursor, phones: list[str]) -> tuple[dict[str, int], set[int]]:
        """({phone: contact id}, ids of the synced or failed ones) for `phones`."""
        q = connection.ops.quote_name
        ids: dict[str, int] = {}
        synced: set[int] = set()
        for part in _slices(phones):
            cursor.execute(
                f"SELECT {q('id')}, {q('phone')}, {q('sync_state')} FROM {q(self.contact_table)} "
                f"WHERE {q('phone')} IN ({_marks(part)})",
                part,
            )
            for pk, phone, state in cursor.fetchall():
                ids[phone] = pk
                if state in (SyncState.SYNCED, SyncState.FAILED):
                    synced.add(pk)
        return ids, synced

    def _created_earlier(self, cursor, phones: list[str]) -> int:
        q = connection.ops.quote_name
        found = 0
        for part in _slices(phones):
            cursor.execute(
                # Unary '+' keeps the planner on the phone index: the import's own index (or
                # the id range) would scan every contact this import created, once per chunk.
                f"SELECT COUNT(*) FROM {q(self.contact_table)} WHERE +{q('source_import_id')} = %s "
                f"AND +{q('id')} >= %s AND {q('phone')} IN ({_marks(part)})",
                [self.contact_import.pk, self.first_new_id, *part],
            )
            found += cursor.fetchone()[0]
        return found

    def _existing_links(self, cursor, contact_ids: list[int]) -> set[tuple[int, int]]:
        q = connection.ops.quote_name
        existing: set[tuple[int, int]] = set()
        for part in _slices(contact_ids):
            cursor.execute(
                f"SELECT {q('contact_id')}, {q('tag_id')} FROM {q(self.through)} "
                f"WHERE {q('contact_id')} IN ({_marks(part)})",
                part,
            )
            existing.update(cursor.fetchall())
        return existing

    def _counts(self) -> tuple[int, int]:
        """Contacts created by this import so far, counted incrementally by id (cheap at 1M)."""
        top = Contact.objects.aggregate(top=Max("id"))["top"] or 0
        if top > self.counted_to:
            self.imported += Contact.objects.filter(
                source_import_id=self.contact_import.pk, id__gt=self.counted_to, id__lte=top
            ).count()
            self.counted_to = top
        return self.imported, max(0, self.valid - self.imported - self.duplicates)

    def flush_progress(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_progress < PROGRESS_EVERY_S:
            return
        self.last_progress = now
        imported, updated = self._counts()
        ContactImport.objects.filter(pk=self.contact_import.pk).update(
            bytes_read=self.position,
            rows_read=self.result.rows_read,
            rows_imported=imported,
            rows_updated=updated,
            rows_duplicate=self.duplicates,
            rows_rejected=self.result.rejected,
        )

    def restore(self) -> None:
        """The connection outlives the import (web, worker): back to SQLite's defaults."""
        if self.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size = -2000")
                cursor.execute("PRAGMA wal_autocheckpoint = 1000")

    def finish(self, size: int) -> ImportResult:
        self.position = size
        self.flush_progress(force=True)
        self.result.imported, self.result.updated = self._counts()
        self.result.duplicates = self.duplicates
        return self.result
