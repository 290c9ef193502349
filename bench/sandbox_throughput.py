"""Sandbox throughput: single-recipient Send Message requests (~300-byte bodies) per second.

The sandbox runs in its own process (``python -m bics.sandbox``), the load generator here is
an asyncio client with N keep-alive connections (one request in flight per connection).
Transports compared: ``threaded`` (ThreadingHTTPServer) and ``asyncio`` (raw HTTP on asyncio
streams), plus the core alone (``SandboxApp.handle`` in-process, no HTTP) as the ceiling.

    .venv/bin/python bench/sandbox_throughput.py [--seconds 5] [--connections 16 64]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bics.routes import ROUTES  # noqa: E402
from tools.throwaway_postgres import free_port  # noqa: E402

TOKEN = "bench-token"


def body(n: int) -> bytes:
    text = (
        f"Your order {n:06d} has shipped and will arrive tomorrow between 9:00 and 12:00. "
        f"Track it at https://example.com/track/{n:06d} or reply STOP to 1234567890 to opt out of "
        "these messages."
    )
    raw = json.dumps(
        {
            "sender": "ACME",
            "to": ["32470123456"],
            "message": text,
            "service": "ENT",
            "type": "N",
            "custom": f"bench-{n:08d}",
        },
        separators=(",", ":"),
    ).encode()
    return raw


def request_bytes(path: str, n: int) -> bytes:
    payload = body(n)
    head = (
        f"POST /api/v2/{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
        f"Accept: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


async def _worker(port: int, path: str, stop_at: float, counts: list, start_n: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    n = start_n
    try:
        while time.perf_counter() < stop_at:
            writer.write(request_bytes(path, n))
            n += 1
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            counts[0 if head[9:12] == b"200" else 1] += 1
    finally:
        writer.close()


async def load(port: int, seconds: float, connections: int) -> dict:
    path = ROUTES["sms.messages.send"].path
    counts = [0, 0]
    start = time.perf_counter()
    stop_at = start + seconds
    await asyncio.gather(*(_worker(port, path, stop_at, counts, i * 10_000_000) for i in range(connections)))
    elapsed = time.perf_counter() - start
    return {
        "ok": counts[0],
        "errors": counts[1],
        "seconds": round(elapsed, 2),
        "per_second": round(counts[0] / elapsed),
    }


def run_transport(transport: str, seconds: float, connections: int) -> dict:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "bics.sandbox",
            "--port",
            str(port),
            "--transport",
            transport,
            "--dlr-delay",
            "3600",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        asyncio.run(load(port, 0.5, connections))  # warm-up
        return asyncio.run(load(port, seconds, connections))
    finally:
        proc.terminate()
        proc.wait(10)


def run_core(seconds: float) -> dict:
    from bics.sandbox.app import SandboxApp
    from bics.sandbox.config import SandboxConfig

    app = SandboxApp(SandboxConfig(dlr_delay=3600))
    target = "/api/v2/" + ROUTES["sms.messages.send"].path
    headers = {"authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        resp = app.handle("POST", target, headers, body(n))
        assert resp.status == 200, resp.body
        n += 1
    elapsed = time.perf_counter() - start
    return {"ok": n, "seconds": round(elapsed, 2), "per_second": round(n / elapsed)}


def run(seconds: float | None = None, connections: tuple[int, ...] = (16, 64)) -> dict:
    from bench import QUICK

    seconds = seconds or float(os.environ.get("BENCH_SANDBOX_SECONDS") or (1.0 if QUICK else 5.0))
    results: dict = {
        "body_bytes": len(body(0)),
        "cpus": os.cpu_count(),
        "core_in_process": run_core(min(seconds, 3.0)),
    }
    for transport in ("threaded", "asyncio"):
        for conns in connections:
            results[f"{transport}_c{conns}"] = run_transport(transport, seconds, conns)
    return {"sandbox_throughput": results}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--connections", type=int, nargs="+", default=[16, 64])
    args = p.parse_args(argv)
    print(json.dumps(run(args.seconds, tuple(args.connections)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
