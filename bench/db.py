"""A fresh database per benchmark module, and plain DB-API connections for the baselines.

SQLite (the default): a new file in a temporary directory, removed afterwards. PostgreSQL
(``BENCH_DATABASE_URL=postgres://user@host:port/any``): a new database created on that
server for the benchmark and dropped afterwards (``WITH (FORCE)``: a crashed benchmark's
leftover connections do not keep it alive).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit


def _server_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL", "")


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://", "pgsql://"))


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _pg_admin(url: str):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres",
                           password=parts.password or None, dbname="postgres", autocommit=True)


@contextlib.contextmanager
def fresh_database(label: str) -> Iterator[str]:
    """Yields the DATABASE_URL of a new, empty database; removes it on exit."""
    server = _server_url()
    if not server:
        workdir = tempfile.mkdtemp(prefix=f"bench-{label}-")
        try:
            yield f"sqlite:///{workdir}/bench.sqlite3"
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return
    if not is_postgres(server):
        raise ValueError("BENCH_DATABASE_URL must be a postgres:// URL")
    name = "bench_" + re.sub(r"\W", "_", label.lower())[:30] + f"_{os.getpid()}_{os.urandom(3).hex()}"
    with _pg_admin(server) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_db(server, name)
    finally:
        with _pg_admin(server) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def raw_connect(url: str):
    """A plain DB-API connection (autocommit) to ``url``: what a bare baseline would use.
    SQLite gets the product's pragmas (WAL, synchronous=NORMAL, 30 s busy timeout)."""
    if is_postgres(url):
        import psycopg

        parts = urlsplit(url)
        return psycopg.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres",
                               password=parts.password or None, dbname=parts.path.lstrip("/"), autocommit=True)
    path = urlsplit(url).path
    path = path[1:] if path.startswith("//") else path  # sqlite:////abs/path and sqlite:///abs/path
    db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def placeholder(db) -> str:
    """The parameter marker of ``db``'s driver."""
    return "?" if isinstance(db, sqlite3.Connection) else "%s"
