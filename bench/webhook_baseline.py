"""The bare webhook receiver of the baseline: a WSGI handler (no Django) that checks the
Bearer secret and the HMAC ``Signature`` in constant time and inserts the raw body, one
autocommitted INSERT, into ``bench_raw_event`` of the benchmark's database. Served by the
same gunicorn configuration as the product (``bench.servers.Gunicorn``).

Configured by the environment: BENCH_BASELINE_DATABASE_URL, BENCH_BASELINE_SECRET (the
Bearer), BENCH_BASELINE_SIGNING_KEY (the HMAC key).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading

from bench.db import placeholder, raw_connect

TABLE = "bench_raw_event"
_local = threading.local()
SECRET = os.environ.get("BENCH_BASELINE_SECRET", "").encode()
KEY = os.environ.get("BENCH_BASELINE_SIGNING_KEY", "").encode()
DATABASE_URL = os.environ.get("BENCH_BASELINE_DATABASE_URL", "")


def create_table(db) -> None:
    key = "INTEGER PRIMARY KEY" if placeholder(db) == "?" else "BIGSERIAL PRIMARY KEY"
    db.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (id {key}, body TEXT NOT NULL)")


def _db():
    db = getattr(_local, "db", None)
    if db is None:
        db = _local.db = raw_connect(DATABASE_URL)
        _local.sql = f"INSERT INTO {TABLE} (body) VALUES ({placeholder(db)})"  # noqa: S608
    return db


def _answer(start_response, status: str, body: bytes):
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def application(environ, start_response):
    if environ.get("REQUEST_METHOD") != "POST":
        return _answer(start_response, "200 OK", b"{}")  # the start-up probe
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length)
    bearer = environ.get("HTTP_AUTHORIZATION", "").partition(" ")[2].strip().encode()
    signature = environ.get("HTTP_SIGNATURE", "").strip().lower().encode()
    expected = hmac.new(KEY, body, hashlib.sha256).hexdigest().encode()
    if not (hmac.compare_digest(bearer, SECRET) and hmac.compare_digest(signature, expected)):
        return _answer(start_response, "403 Forbidden", b'{"error":"unauthorised"}')
    db = _db()
    db.execute(_local.sql, (body.decode(),))
    return _answer(start_response, "200 OK", b'{"status":"OK"}')
