"""The contact import's writer: parsed chunks into the database, in short transactions.

Each chunk (see `contacts.services.imports`) is written in transactions of at most TX_ROWS
contacts and TX_ROWS rejections: SQLite has one write lock, and every other writer (web
requests, the webhook receiver, Celery workers) waits while an import transaction holds it.
A transaction is a handful of statements whatever its size: the contacts upserted by number
(`INSERT ... ON CONFLICT (phone) DO UPDATE`: on SQLite multi-row statements of STATEMENT_ROWS,
a sixth faster than executemany, measured; one statement over column arrays on PostgreSQL),
the chunk's numbers passed as one list parameter (a JSON array read by `json_each` on SQLite,
an array on PostgreSQL) to count duplicates and to link tags, the rejections in one statement
likewise. Fewer, larger transactions also write less: each rewrites every page of the phone
index it touches, and at 1M contacts a transaction of 4,000 random numbers touches thousands.
Progress is saved with the last transaction of a chunk, at most every PROGRESS_EVERY_S.
"""

from __future__ import annotations

import json
import time
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from contacts.models import Contact, ContactImport, ContactImportRejection, Tag
from core import sql_rows
from core.models import SyncState

__all__ = ["ImportResult", "ImportWriter"]

TX_ROWS = 4000  # contacts (and rejections) per write transaction: ~60 ms of work on SQLite
STATEMENT_ROWS = 2000  # contacts per upsert statement on SQLite: 22,000 parameters (its limit: 32,766)
PROGRESS_EVERY_S = 0.5
SQLITE_CACHE_KB = 32 * 1024  # page cache of the importing connection (bounded memory)


@dataclass
class ImportResult:
    rows_read: int = 0
    imported: int = 0
    updated: int = 0
    duplicates: int = 0  # rows repeating a number seen earlier in the file (later values win)
    rejected: int = 0
    rejections: list = field(default_factory=list)  # (line, reason), capped
    description: str = ""


class ImportWriter:
    """Writes parsed chunks and keeps the import's counters."""

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
        q = connection.ops.quote_name
        self.contact_table = q(Contact._meta.db_table)
        self.through = q(Contact.tags.through._meta.db_table)
        self.upsert_sql = self._upsert_sql() if self.vendor == "postgresql" else None
        self.upsert_sql_by_rows: dict[int, str] = {}  # SQLite: the statement for so many records
        rejection_columns = f"({q('contact_import_id')}, {q('line')}, {q('reason')}, {q('raw')})"
        if self.vendor == "postgresql":  # as the upsert: arrays, one statement
            self.reject_sql = (
                f"INSERT INTO {q(ContactImportRejection._meta.db_table)} {rejection_columns} "
                f"SELECT {int(contact_import.pk)}, * FROM unnest(%s::integer[], %s::text[], %s::text[])"
            )
        else:
            self.reject_sql = (
                f"INSERT INTO {q(ContactImportRejection._meta.db_table)} {rejection_columns} "
                "VALUES (%s, %s, %s, %s)"
            )
        self.any_synced = False  # read again for every transaction (see _synced_yet)
        if self.vendor == "sqlite":
            # A bigger page cache keeps the phone index in memory during a large import. (Its
            # WAL checkpoints run beside it: `core.batches.turns.writer_turns`.)
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KB}")

    # --- SQL ---------------------------------------------------------------------------
    def _upsert_sql(self, rows: int = 0) -> str:
        q = connection.ops.quote_name
        table = self.contact_table
        columns = [
            "phone", "country", "identity", "email", "first_name", "last_name", "company",
            "postal_code", "birth_date", "gender", "attributes", "source_import_id",
            "created_at", "updated_at", "sync_state", "sync_error",
        ]  # fmt: skip
        # The parsed record binds the first 11 columns; the rest are the same for every row.
        constants = [str(int(self.contact_import.pk)), "CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP",
                     f"'{SyncState.NEVER}'", "''"]  # fmt: skip
        if self.vendor == "postgresql":
            # One statement per transaction: the records as 11 arrays (one per column) read
            # back as rows by unnest; executemany would be a round trip per row.
            names = [f"c{i}" for i in range(11)]
            values = [*names[:8], f"{names[8]}::date", names[9], f"{names[10]}::jsonb"]
            rows = (
                f"SELECT {', '.join(values + constants)} FROM unnest({', '.join(['%s::text[]'] * 11)}) "
                f"AS v({', '.join(names)})"
            )
        else:  # a multi-row VALUES list of `rows` records (bound by `_write_contacts`)
            row = f"({', '.join(['%s'] * 11 + constants)})"
            rows = f"VALUES {', '.join([row] * rows)}"
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
            f"INSERT INTO {table} ({', '.join(q(c) for c in columns)}) {rows} "
            f"ON CONFLICT ({q('phone')}) DO UPDATE SET {', '.join(sets)} "
            f"WHERE {' OR '.join(changed)}"
        )

    def _among(self, column: str) -> str:
        """`column` is one of a list given as one parameter (see `_list`): one statement and
        one parameter however long the list, looked up through the column's index."""
        if self.vendor == "postgresql":
            return f"{connection.ops.quote_name(column)} = ANY(%s)"
        return f"{connection.ops.quote_name(column)} IN (SELECT value FROM json_each(%s))"

    def _list(self, values: list):
        if self.vendor == "postgresql":
            return values
        if values and isinstance(values[0], str) and values[0].startswith("+"):
            return '["' + '","'.join(values) + '"]'  # numbers in E.164: nothing to escape
        return json.dumps(values)

    # --- writing ----------------------------------------------------------------------
    def write(self, parsed, position: int) -> None:
        """Writes one parsed chunk, TX_ROWS contacts and rejections per transaction."""
        (records, tags), rejections, valid, rows_in_chunk = parsed
        duplicates = valid - len(records)  # repeated within the chunk (merged by the parser)
        size = max(len(records), len(rejections), 1)
        for start in range(0, size, TX_ROWS):
            part, refused = records[start : start + TX_ROWS], rejections[start : start + TX_ROWS]
            with transaction.atomic():
                with connection.cursor() as cursor:
                    if part:
                        duplicates += self._write_contacts(cursor, part, tags)
                    if refused:
                        self._reject(cursor, refused)
                if start + TX_ROWS >= size:  # the chunk's last transaction: counters and progress
                    self.result.rows_read += rows_in_chunk
                    self.result.rejected += len(rejections)
                    self.valid += valid
                    self.duplicates += duplicates
                    self.position = position
                    self.flush_progress()
        room = self.keep_rejections - len(self.result.rejections)
        if room > 0:
            self.result.rejections.extend((line, reason) for line, reason, _ in rejections[:room])

    def _reject(self, cursor, refused: list) -> None:
        if self.vendor == "postgresql":
            lines, reasons, raws = zip(*refused, strict=True)
            cursor.execute(self.reject_sql, [list(lines), list(reasons), [raw[:2000] for raw in raws]])
        else:
            import_id = self.contact_import.pk
            cursor.executemany(self.reject_sql, [(import_id, line, reason, raw[:2000]) for line, reason, raw in refused])

    def _tagged(self, phones: list[str], phones_by_tag: dict[str, list[str]]) -> dict[str, list[str]]:
        """{tag: numbers of `phones` to link}. `phones` is a run of the chunk's sorted numbers
        and each tag's numbers are sorted: a tag's share is the slice within their range."""
        low, high = phones[0], phones[-1]
        wanted = {}
        for name, tagged in phones_by_tag.items():
            start, end = bisect_left(tagged, low), bisect_right(tagged, high)
            if start < end:
                wanted[name] = tagged[start:end]
        if self.global_tag:
            wanted[self.global_tag] = phones
        return wanted

    def _write_contacts(self, cursor, records: list, tags: dict[str, list[str]]) -> int:
        """Upserts `records` and links their tags; returns how many repeat a number that an
        earlier chunk of this file created (a duplicate, not an update)."""
        phones = [r[0] for r in records]
        # Unary '+' keeps the planner on the phone index: the import's own index (or the id
        # range) would scan every contact this import created, once per transaction.
        cursor.execute(
            f"SELECT COUNT(*) FROM {self.contact_table} WHERE +{connection.ops.quote_name('source_import_id')} = %s "
            f"AND +{connection.ops.quote_name('id')} >= %s AND {self._among('phone')}",
            [self.contact_import.pk, self.first_new_id, self._list(phones)],
        )
        earlier = cursor.fetchone()[0]
        if self.vendor == "postgresql":
            cursor.execute(self.upsert_sql, [list(column) for column in zip(*records, strict=True)])
        else:  # multi-row statements (measured: a sixth faster than executemany)
            for start in range(0, len(records), STATEMENT_ROWS):
                part = records[start : start + STATEMENT_ROWS]
                sql = self.upsert_sql_by_rows.get(len(part))
                if sql is None:
                    sql = self.upsert_sql_by_rows[len(part)] = self._upsert_sql(len(part))
                sql_rows.execute(cursor, sql, [value for record in part for value in record])
        wanted = self._tagged(phones, tags)
        if wanted:
            self._tag_id(set(wanted))
            if self._synced_yet():
                self._link_by_id(cursor, wanted)
            else:
                self._link_by_number(cursor, wanted)
        return earlier

    def _tag_id(self, names: set[str]) -> None:
        missing = [n for n in names if n not in self.tag_ids]
        if not missing:
            return
        now = timezone.now()
        Tag.objects.bulk_create(
            [Tag(name=n, created_at=now, updated_at=now) for n in missing], ignore_conflicts=True
        )
        for tag_id, name in Tag.objects.filter(name__in=missing).values_list("id", "name"):
            self.tag_ids[name] = tag_id

    def _synced_yet(self) -> bool:
        """Has any contact been synced? Asked again in every transaction until it is: a sync
        may start while a long import runs, and from then on new tag links must mark the
        synced contacts dirty."""
        if not self.any_synced:
            self.any_synced = Contact.objects.filter(
                sync_state__in=[SyncState.SYNCED, SyncState.FAILED, SyncState.DIRTY]
            ).exists()
        return self.any_synced

    def _link_by_number(self, cursor, wanted: dict[str, list[str]]) -> None:
        """Nothing was ever synced: no contact can turn dirty, so link by number in SQL, one
        statement per tag."""
        q = connection.ops.quote_name
        for name, tag_phones in wanted.items():
            cursor.execute(
                f"INSERT INTO {self.through} ({q('contact_id')}, {q('tag_id')}) "
                f"SELECT {q('id')}, {int(self.tag_ids[name])} FROM {self.contact_table} "
                f"WHERE {self._among('phone')} ON CONFLICT DO NOTHING",
                [self._list(tag_phones)],
            )

    def _link_by_id(self, cursor, wanted_by_tag: dict[str, list[str]]) -> None:
        """Only synced contacts need to know which links are new (they become dirty); the
        others are linked with ON CONFLICT DO NOTHING, without reading first."""
        q = connection.ops.quote_name
        ids, synced = self._contact_ids(cursor, sorted(set().union(*wanted_by_tag.values())))
        wanted = [(ids[phone], self.tag_ids[name]) for name, phones in wanted_by_tag.items() for phone in phones]
        new_for_synced: list[int] = []
        if synced:
            cursor.execute(
                f"SELECT {q('contact_id')}, {q('tag_id')} FROM {self.through} WHERE {self._among('contact_id')}",
                [self._list(sorted(synced))],
            )
            existing = set(cursor.fetchall())
            wanted = [pair for pair in wanted if pair not in existing]
            new_for_synced = sorted({c for c, _ in wanted if c in synced})
        if not wanted:
            return
        columns = f"{self.through} ({q('contact_id')}, {q('tag_id')})"
        if self.vendor == "postgresql":
            contact_ids, tag_ids = zip(*wanted, strict=True)
            cursor.execute(
                f"INSERT INTO {columns} SELECT * FROM unnest(%s::bigint[], %s::bigint[]) ON CONFLICT DO NOTHING",
                [list(contact_ids), list(tag_ids)],
            )
        else:
            cursor.executemany(f"INSERT INTO {columns} VALUES (%s, %s) ON CONFLICT DO NOTHING", wanted)
        if new_for_synced:
            cursor.execute(
                f"UPDATE {self.contact_table} SET {q('sync_state')} = %s WHERE {self._among('id')}",
                [SyncState.DIRTY.value, self._list(new_for_synced)],
            )

    def _contact_ids(self, cursor, phones: list[str]) -> tuple[dict[str, int], set[int]]:
        """({phone: contact id}, ids of the synced or failed ones) for `phones`."""
        q = connection.ops.quote_name
        cursor.execute(
            f"SELECT {q('id')}, {q('phone')}, {q('sync_state')} FROM {self.contact_table} "
            f"WHERE {self._among('phone')}",
            [self._list(phones)],
        )
        ids: dict[str, int] = {}
        synced: set[int] = set()
        for pk, phone, state in cursor.fetchall():
            ids[phone] = pk
            if state in (SyncState.SYNCED, SyncState.FAILED):
                synced.add(pk)
        return ids, synced

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

    def finish(self, size: int) -> ImportResult:
        self.position = size
        self.flush_progress(force=True)
        self.result.imported, self.result.updated = self._counts()
        self.result.duplicates = self.duplicates
        return self.result
