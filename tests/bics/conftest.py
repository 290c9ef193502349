"""Fixtures for tests/bics (shared by the client and the sandbox tests: add, don't rewrite)."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest


@dataclass
class Reply:
    """One scripted answer of the fake BICS server."""

    status: int = 200
    body: Any = None  # dict/list -> JSON; str/bytes -> as is; None -> the default envelope
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (read timeouts)
    drop: bool = False  # close the connection without answering


@dataclass
class Seen:
    method: str
    path: str  # without the /api/v2/ prefix
    query: dict
    headers: dict
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


class FakeBics:
    """A tiny scripted HTTP server on 127.0.0.1 (loopback only, free port)."""

    prefix = "/api/v2/"

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.replies: deque[Reply] = deque()
        self.routes: dict[tuple[str, str], Any] = {}  # (method, path) -> Reply | callable
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                path = parts.path
                if path.startswith(fake.prefix):
                    path = path[len(fake.prefix):]
                seen = Seen(self.command, path, dict(parse_qsl(parts.query, keep_blank_values=True)),
                            {k.lower(): v for k, v in self.headers.items()}, body)
                with fake._lock:  # noqa: SLF001
                    fake.requests.append(seen)
                    reply = fake._next(seen)  # noqa: SLF001
                if callable(reply):
                    reply = reply(seen)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.drop:
                    self.close_connection = True
                    try:
                        self.connection.shutdown(2)
                    except OSError:
                        pass
                    return
                payload = reply.body
                if payload is None:
                    payload = {"code": reply.status, "data": {}, "message": "OK", "status": "OK"}
                if isinstance(payload, dict | list):
                    raw = json.dumps(payload).encode()
                    ctype = "application/json"
                else:
                    raw = payload.encode() if isinstance(payload, str) else payload
                    ctype = "text/plain"
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(raw)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(raw)
                except OSError:  # the client gave up (timeout)
                    pass

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}{self.prefix}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                        daemon=True)

    def _next(self, seen: Seen):
        if self.replies:
            return self.replies.popleft()
        handler = self.routes.get((seen.method, seen.path))
        if handler is not None:
            return handler
        return Reply()

    def queue(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def start(self) -> FakeBics:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_bics():
    """A scripted fake BICS HTTP server on a free loopback port (client tests)."""
    server = FakeBics().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def no_sleep():
    """A recording replacement for time.sleep (pass as BicsClient(sleep=...))."""
    calls: list[float] = []

    def sleep(seconds: float) -> None:
        calls.append(seconds)

    sleep.calls = calls
    return sleep


# ---------------------------------------------------------------------- sandbox (bics/sandbox)
SANDBOX_TOKEN = "sandbox-test-token-0001"


@pytest.fixture(scope="session")
def sandbox():
    """The BICS sandbox (bics/sandbox) on a free loopback port for the whole session."""
    from bics.sandbox import SandboxServer

    server = SandboxServer(port=0, seed=42)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sandbox_reset(sandbox):
    """The session sandbox with every account forgotten and the start configuration back."""
    sandbox.reset()
    yield sandbox
    sandbox.reset()


class SandboxApi:
    """requests against the sandbox by *route name* (paths from bics.routes), plus its
    ``/_sandbox/`` inspection endpoints. Not the product client: the sandbox is tested alone."""

    def __init__(self, server, token: str = SANDBOX_TOKEN) -> None:
        import requests

        from bics.routes import ROUTES

        self.server = server
        self.routes = ROUTES
        self.token = token
        self.http = requests.Session()

    def path(self, name: str, **params) -> str:
        return self.server.url + self.routes[name].path.format(**params)

    def call(self, name: str, *, json=None, params=None, files=None, data=None, token=None,
             headers=None, method=None, path_params=None, **more_params):
        path_params = {**(path_params or {}), **more_params}
        hdrs = {"Accept": "application/json"}
        tok = self.token if token is None else token
        if tok:
            hdrs["Authorization"] = f"Bearer {tok}"
        hdrs.update(headers or {})
        return self.http.request(method or self.routes[name].method, self.path(name, **path_params),
                                 json=json, params=params, files=files, data=data, headers=hdrs,
                                 timeout=10)

    def inspect(self, what: str = "", method: str = "GET", **body):
        url = self.server.inspect_url + what
        resp = self.http.request(method, url, json=body if method == "POST" else None,
                                 params=None if method == "POST" else body, timeout=15)
        resp.raise_for_status()
        return resp.json()

    def tick(self, seconds: float):
        return self.inspect("tick", "POST", seconds=seconds)

    def configure(self, **changes):
        return self.inspect("config", "POST", **changes)


@pytest.fixture
def sbapi(sandbox_reset):
    api = SandboxApi(sandbox_reset)
    yield api
    api.http.close()
