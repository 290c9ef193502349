"""Where uploads live: Django's ``default_storage``, chosen by one setting, ``MEDIA_STORAGE``.

- ``db`` (the default): the bytes in the database, in chunks (``DatabaseStorage``). Every web
  server and worker already reaches the database, so several machines work without a shared
  disk or another service; uploads here are lists of numbers (megabytes, not gigabytes).
- ``s3://bucket/prefix``: an S3-compatible bucket through django-storages (endpoint from
  ``AWS_S3_ENDPOINT_URL``, credentials from the usual ``AWS_*`` variables).
- ``file``: the local ``MEDIA_ROOT``; one machine only, or a shared mount.

Readers never ask for a path: ``local_copy`` streams a stored file into a temporary file for
code that needs one (the tabular reader), whatever the storage.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from django.core.files import File
from django.core.files.storage import Storage
from django.utils.deconstruct import deconstructible

__all__ = ["CHUNK_BYTES", "DatabaseStorage", "local_copy", "storage_backend"]

CHUNK_BYTES = 1 << 20  # one row per MiB: small transactions, bounded memory


def storage_backend(url: str, *, endpoint_url: str = "") -> dict:
    """The ``STORAGES["default"]`` entry for ``MEDIA_STORAGE`` (called by the settings)."""
    url = (url or "db").strip()
    if url == "db":
        return {"BACKEND": "core.uploads.DatabaseStorage"}
    if url == "file":
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    parts = urlsplit(url)
    if parts.scheme == "s3" and parts.netloc:
        return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
            "bucket_name": parts.netloc, "location": parts.path.strip("/"), "endpoint_url": endpoint_url or None,
            "file_overwrite": False, "default_acl": None, "querystring_auth": True}}
    raise ValueError(f"MEDIA_STORAGE must be 'db', 'file' or 's3://bucket/prefix', not {url!r}")


@contextmanager
def local_copy(field_file, suffix: str = "") -> Iterator[str]:
    """A path to a temporary copy of a stored file, streamed in chunks; removed afterwards."""
    suffix = suffix or os.path.splitext(field_file.name or "")[1][:10]
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        field_file.open("rb")
        try:
            for chunk in field_file.chunks(CHUNK_BYTES):
                tmp.write(chunk)
        finally:
            field_file.close()
        tmp.flush()
        yield tmp.name


class _ChunkReader(io.RawIOBase):
    """Reads a stored file chunk by chunk (one query per chunk, the last one kept)."""

    def __init__(self, stored) -> None:
        self.stored, self.pos = stored, 0
        self._cached: tuple[int, bytes] | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.stored.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def _chunk(self, seq: int) -> bytes:
        from core.models import StoredFileChunk

        if self._cached is None or self._cached[0] != seq:
            data = StoredFileChunk.objects.filter(file_id=self.stored.pk, seq=seq).values_list("data", flat=True)
            self._cached = (seq, bytes(data.first() or b""))
        return self._cached[1]

    def readinto(self, buffer) -> int:
        if self.pos >= self.stored.size:
            return 0
        seq, offset = divmod(self.pos, self.stored.chunk_size)
        data = self._chunk(seq)[offset:offset + len(buffer)]
        buffer[:len(data)] = data
        self.pos += len(data)
        return len(data)


class _StoredFileHandle(File):
    """A stored file opened for reading; ``open()`` after ``close()`` reads it again (as
    ``FieldFile.open`` expects of every storage's files)."""

    def __init__(self, stored, name: str) -> None:
        self.stored = stored
        super().__init__(self._reader(), name=name)

    def _reader(self):
        return io.BufferedReader(_ChunkReader(self.stored), buffer_size=64 * 1024)

    def open(self, mode=None, *args, **kwargs):
        if self.closed:
            self.file = self._reader()
        else:
            self.seek(0)
        return self

    @property
    def size(self) -> int:
        return self.stored.size


@deconstructible
class DatabaseStorage(Storage):
    """Django storage in two tables (``core.StoredFile``, ``core.StoredFileChunk``)."""

    def _stored(self, name: str):
        from core.models import StoredFile

        return StoredFile.objects.filter(name=name, complete=True).first()

    def _open(self, name: str, mode: str = "rb") -> File:
        if "w" in mode or "a" in mode or "+" in mode:
            raise ValueError("Stored files are written through save(), never opened for writing.")
        stored = self._stored(name)
        if stored is None:
            raise FileNotFoundError(name)
        return _StoredFileHandle(stored, name)

    def _save(self, name: str, content) -> str:
        """Chunk by chunk, one short transaction each (SQLite has one writer); readers see the
        file only once it is complete."""
        from core.models import StoredFile, StoredFileChunk

        stored = StoredFile.objects.create(name=name, chunk_size=CHUNK_BYTES)
        if hasattr(content, "seek"):
            content.seek(0)
        pending, seq, size = b"", 0, 0
        for piece in content.chunks(CHUNK_BYTES):
            pending += piece.encode() if isinstance(piece, str) else piece  # ContentFile("text")
            while len(pending) >= CHUNK_BYTES:
                StoredFileChunk.objects.create(file=stored, seq=seq, data=pending[:CHUNK_BYTES])
                pending, seq, size = pending[CHUNK_BYTES:], seq + 1, size + CHUNK_BYTES
        if pending:
            StoredFileChunk.objects.create(file=stored, seq=seq, data=pending)
            size += len(pending)
        StoredFile.objects.filter(pk=stored.pk).update(size=size, complete=True)
        return name

    def delete(self, name: str) -> None:
        from core.models import StoredFile

        StoredFile.objects.filter(name=name).delete()

    def exists(self, name: str) -> bool:
        from core.models import StoredFile

        return StoredFile.objects.filter(name=name).exists()

    def size(self, name: str) -> int:
        stored = self._stored(name)
        if stored is None:
            raise FileNotFoundError(name)
        return stored.size

    def url(self, name: str) -> str:
        return ""  # not served to browsers: uploads are read by the workers

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        from core.models import StoredFile

        prefix = path.rstrip("/") + "/" if path else ""
        names = StoredFile.objects.filter(name__startswith=prefix).values_list("name", flat=True)
        rest = [n[len(prefix):] for n in names]
        return sorted({r.split("/", 1)[0] for r in rest if "/" in r}), sorted(r for r in rest if "/" not in r)

    def get_created_time(self, name: str):
        stored = self._stored(name)
        if stored is None:
            raise FileNotFoundError(name)
        return stored.created_at

    get_modified_time = get_created_time
