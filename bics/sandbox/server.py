"""HTTP transports for the sandbox core and the public API: ``SandboxServer`` and ``main``.

Two transports share ``SandboxApp``: ``threaded`` (http.server.ThreadingHTTPServer, one
daemon thread per connection, HTTP/1.1 keep-alive; the default) and ``asyncio`` (a minimal
HTTP/1.1 server on asyncio streams; faster, see bics/sandbox/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import socket
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bics.sandbox.app import PREFIX, Response, SandboxApp
from bics.sandbox.config import FaultRule, SandboxConfig, parse_ratios

log = logging.getLogger("bics.sandbox")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "OK"


# ---------------------------------------------------------------------- threaded transport
class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bics-sandbox"
    sys_version = ""
    timeout = 60  # idle keep-alive connections end after a minute
    disable_nagle_algorithm = True  # no 40 ms Nagle/delayed-ACK stalls on keep-alive
    app: SandboxApp  # set on the subclass made per server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by default
        log.debug("%s " + format, self.address_string(), *args)

    def _handle(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.send_error(400, "Bad Content-Length")
            return
        body = self.rfile.read(length) if length > 0 else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        resp = self.app.handle(self.command, self.path, headers, body, headers.get("host") or "127.0.0.1")
        if resp.delay_before:
            time.sleep(resp.delay_before)
        if resp.delay_after:
            time.sleep(resp.delay_after)
        if resp.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        try:
            self.send_response(resp.status)  # the reason phrase from http.HTTPStatus
            for key, value in resp.headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(resp.body)))
            self._headers_buffer.append(b"\r\n" + resp.body)  # one write: headers + body
            self.flush_headers()
        except OSError:  # the client gave up (timeout fault)
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle  # noqa: N815


class ThreadedHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True


# ---------------------------------------------------------------------- asyncio transport
class AsyncioHTTPServer:
    """A minimal HTTP/1.1 server (keep-alive, Content-Length bodies) on asyncio streams."""

    def __init__(self, app: SandboxApp, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        ready = threading.Event()

        async def boot() -> None:
            self._server = await asyncio.start_server(self._conn, host, port, backlog=1024, limit=2**22)
            self.port = self._server.sockets[0].getsockname()[1]

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(boot())
            ready.set()
            self.loop.run_forever()

        self._thread = threading.Thread(target=run, name="sandbox-asyncio", daemon=True)
        self._ready = ready

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10)

    def stop(self) -> None:
        async def close() -> None:
            if self._server:
                self._server.close()
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:  # open keep-alive connections
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        fut = asyncio.run_coroutine_threadsafe(close(), self.loop)
        try:
            fut.result(5)
        except Exception:  # noqa: BLE001
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)

    async def _conn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                try:
                    method, target, version = lines[0].split(" ", 2)
                except ValueError:
                    return
                headers = {}
                for line in lines[1:]:
                    if line:
                        k, _, v = line.partition(":")
                        headers[k.strip().lower()] = v.strip()
                try:
                    length = int(headers.get("content-length") or 0)
                except ValueError:
                    writer.write(
                        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                    await writer.drain()
                    return
                body = await reader.readexactly(length) if length > 0 else b""
                resp: Response = self.app.handle(
                    method, target, headers, body, headers.get("host") or self.host
                )
                if resp.delay_before:
                    await asyncio.sleep(resp.delay_before)
                if resp.delay_after:
                    await asyncio.sleep(resp.delay_after)
                if resp.drop:
                    writer.transport.abort()
                    return
                close = headers.get("connection", "").lower() == "close" or version == "HTTP/1.0"
                out = [
                    f"HTTP/1.1 {resp.status} {_phrase(resp.status)}",
                    *(f"{k}: {v}" for k, v in resp.headers),
                    f"Content-Length: {len(resp.body)}",
                    "Connection: close" if close else "Connection: keep-alive",
                    "",
                    "",
                ]
                writer.write("\r\n".join(out).encode("latin-1") + resp.body)
                await writer.drain()
                if close:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        except Exception:  # noqa: BLE001 - one bad connection must not disturb the others
            log.exception("sandbox connection failed")
            return
        finally:
            try:
                writer.close()
            except Exception:  # noqa: BLE001
                pass


# ---------------------------------------------------------------------- public API
class SandboxServer:
    """``SandboxServer(port=0, **config).start()``; ``.url`` ends in ``/api/v2/``;
    ``.stop()``. Also a context manager. ``transport`` is "threaded" or "asyncio"."""

    def __init__(
        self, port: int = 0, host: str = "127.0.0.1", *, transport: str = "threaded", **config: Any
    ) -> None:
        if transport not in ("threaded", "asyncio"):
            raise ValueError("transport must be 'threaded' or 'asyncio'")
        self.host = host
        self.port = port
        self.transport = transport
        cfg = SandboxConfig()
        if config:
            cfg.update(config)
        self.app = SandboxApp(cfg)
        self._httpd: ThreadedHTTPServer | None = None
        self._aio: AsyncioHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def config(self) -> SandboxConfig:
        return self.app.config

    @property
    def root(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return self.root + PREFIX

    @property
    def inspect_url(self) -> str:
        return self.root + "/_sandbox/"

    def start(self) -> SandboxServer:
        self.app.start()
        if self.transport == "asyncio":
            self._aio = AsyncioHTTPServer(self.app, self.host, self.port)
            self._aio.start()
            self.port = self._aio.port
            return self
        handler = type("SandboxHandler", (_Handler,), {"app": self.app})
        self._httpd = ThreadedHTTPServer((self.host, self.port), handler)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.1,), name="sandbox-http", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._aio is not None:
            self._aio.stop()
            self._aio = None
        self.app.stop()

    def reset(self) -> None:
        self.app.reset()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


# ---------------------------------------------------------------------- command line
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bics.sandbox", description="A fake BICS CPaaS API server (loopback only)."
    )
    p.add_argument("--port", type=int, default=8099)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--transport", choices=("threaded", "asyncio"), default="threaded")
    p.add_argument(
        "--token",
        action="append",
        default=[],
        dest="tokens",
        help="accepted token (repeatable); default: any non-empty token",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--time-zone", default="UTC", help="zone of BICS timestamps (BICS_TIME_ZONE; default UTC)")
    p.add_argument("--approval-delay", type=float, default=2.0)
    p.add_argument("--dlr-delay", type=float, default=1.0)
    p.add_argument("--dlr-ratios", default="delivered=0.9,failed=0.08,dlt=0.02")
    p.add_argument("--dlr-rule", action="append", default=[], metavar="NUMBER_OR_CID=STATUS")
    p.add_argument("--webhook-key", choices=("id", "secret"), default="id")
    p.add_argument("--webhook-format", choices=("envelope", "flat"), default="envelope")
    p.add_argument("--webhook-sign", choices=("events", "all", "none"), default="events",
                   help="Signature header on callbacks: event deliveries only (default), "
                        "every callback including the handshake, or none")
    p.add_argument("--webhook-allow-external", action="store_true")
    p.add_argument("--get-limit", type=int, default=1000)
    p.add_argument("--routes", default="", help="JSON route overrides (as BICS_ROUTES)")
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    p.add_argument("--error-rate", type=float, default=0.0, help="share of 503 answers")
    p.add_argument("--rate-limit-rate", type=float, default=0.0, help="share of 429 answers")
    p.add_argument(
        "--timeout-rate",
        type=float,
        default=0.0,
        help="share processed, then answered after --timeout-seconds",
    )
    p.add_argument("--timeout-seconds", type=float, default=10.0)
    p.add_argument(
        "--drop-rate",
        type=float,
        default=0.0,
        help="share processed, then the connection closed without an answer",
    )
    p.add_argument("--fault-routes", default="", help="comma-separated route name patterns")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def config_from_args(args: argparse.Namespace) -> dict[str, Any]:
    routes = tuple(r for r in args.fault_routes.split(",") if r.strip())
    faults = []
    for kind, rate, extra in (
        ("latency", 1.0 if args.latency else 0.0, {"seconds": args.latency}),
        ("error", args.error_rate, {}),
        ("rate_limit", args.rate_limit_rate, {}),
        ("timeout", args.timeout_rate, {"seconds": args.timeout_seconds}),
        ("drop", args.drop_rate, {}),
    ):
        if rate > 0:
            faults.append(FaultRule(kind, rate=rate, routes=routes, **extra))
    rules = {}
    for item in args.dlr_rule:
        key, _, status = item.partition("=")
        rules[key.strip()] = status.strip()
    return {
        "tokens": tuple(args.tokens),
        "seed": args.seed,
        "time_zone": args.time_zone,
        "approval_delay": args.approval_delay,
        "dlr_delay": args.dlr_delay,
        "dlr_ratios": parse_ratios(args.dlr_ratios),
        "dlr_rules": rules,
        "webhook_key": args.webhook_key,
        "webhook_format": args.webhook_format,
        "webhook_sign": args.webhook_sign,
        "webhook_allow_external": args.webhook_allow_external,
        "get_limit": args.get_limit,
        "faults": faults,
        "route_overrides": json.loads(args.routes) if args.routes else {},
    }


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    server = SandboxServer(args.port, args.host, transport=args.transport, **config_from_args(args))
    server.start()
    print(
        f"BICS sandbox on {server.url} (inspection: {server.inspect_url}); Ctrl-C stops.",
        file=sys.stderr,
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
