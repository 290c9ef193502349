"""Processes the benchmarks start: the BICS sandbox and gunicorn (product or baseline app).

``Gunicorn`` is THE server configuration of the HTTP benchmarks: the product's receiver and
the bare baseline handler are served by the same command line (workers × threads, gthread).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from bench import size
from tools.throwaway_postgres import free_port

ROOT = Path(__file__).resolve().parent.parent
WORKERS = size("BENCH_GUNICORN_WORKERS", min(8, os.cpu_count() or 2), min(8, os.cpu_count() or 2))
THREADS = size("BENCH_GUNICORN_THREADS", 4, 4)


def _wait(url: str, seconds: float, what: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not start")


class Gunicorn:
    """gunicorn serving ``app`` (a WSGI path) with the benchmark's one configuration."""

    config = f"{WORKERS}x{THREADS} gthread"

    def __init__(self, app: str, env: dict | None = None, probe_path: str = "/"):
        self.port = free_port()
        env = {**os.environ, "DJANGO_DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1,localhost", "SECURE_SSL_REDIRECT": "0",
               "LOG_LEVEL": "ERROR", **(env or {})}
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), app, "-b", f"127.0.0.1:{self.port}", "-w", str(WORKERS),
             "--worker-class", "gthread", "--threads", str(THREADS), "--backlog", "2048", "--log-level", "error"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait(self.url + probe_path.lstrip("/"), 60, f"gunicorn {app}", self.proc)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def worker_cpu_seconds(self) -> float | None:
        """CPU time (user + system) the worker processes used so far; None where Linux's
        /proc does not say. Steadier than requests/s on a shared machine."""
        ticks = 0
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
            for pid in children:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            return None
        return ticks / os.sysconf("SC_CLK_TCK") if children else None

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


class Sandbox:
    """The BICS sandbox in its own process (asyncio transport), DLRs far in the future."""

    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bics.sandbox", "--port", str(self.port), "--transport", "asyncio",
             "--dlr-delay", "86400", "--get-limit", "100000000"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait(self.inspect + "config", 15, "sandbox", self.proc)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v2/"

    @property
    def inspect(self) -> str:
        return f"http://127.0.0.1:{self.port}/_sandbox/"

    def reset(self) -> None:
        requests.post(self.inspect + "reset", timeout=60).raise_for_status()

    def sends(self) -> int:
        counts = requests.get(self.inspect + "requests", timeout=60).json()["counts"]
        return sum(v for k, v in counts.items() if k.endswith("messages.send"))

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
