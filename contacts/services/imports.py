"""`contacts_import`: a file of contacts into the database, streaming and in bulk.

A file that cannot be read as a whole is refused by `core.tabular.open_table` before anything is
written. Then, for a CSV, the main process cuts the file into blocks of whole records and a
process pool (one worker per core, for files over PARALLEL_MIN_BYTES) decodes, parses and
validates them (`rowparse.parse_block`) while the main process writes the blocks already
parsed, in file order; XLSX rows are read by the main process and parsed in chunks the same
way. `import_writer.ImportWriter` writes them in short transactions: contacts upserted by
number, tags linked, rejected rows stored, progress updated; on SQLite they take turns with the
webhook receiver (`core.batches.turns.writer_turns`), which answers BICS meanwhile. Memory
stays bounded: a few blocks in flight, and a bounded SQLite page cache.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from itertools import islice

from django.db.models import Q
from django.utils import timezone

from contacts.models import IMPORT_STATES, ContactImport, ContactImportRejection, ImportState
from contacts.services.import_writer import ImportResult, ImportWriter
from contacts.services.rowparse import column_spec, parse_block, parse_rows
from core.batches.turns import writer_turns
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
    writer = ImportWriter(contact_import, tag=contact_import.tag, keep_rejections=keep_rejections)
    writer.result.description = source.description
    if workers is None:
        workers = (os.cpu_count() or 1) if source.size >= PARALLEL_MIN_BYTES else 0
    tasks = _tasks(source, _spec(source, contact_import), chunk_rows=chunk_rows, block_bytes=block_bytes)
    try:
        pool = _start_pool(workers) if workers > 0 else None
        # Its transactions take turns with the webhook receiver's appends, and its WAL
        # checkpoints run on a thread of their own beside the next transactions (`writer_turns`).
        with writer_turns():
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


def _write_in_parallel(pool, tasks, writer: ImportWriter, source: Table, *, ahead: int) -> None:
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
