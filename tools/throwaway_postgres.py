"""A throwaway PostgreSQL cluster on a free port, for the tests' PostgreSQL reruns
(``tests/concurrency.run_on_postgresql``) and ``make bench-pg``: Debian's postgresql,
``initdb`` as the ``postgres`` user (machines run as root), fsync off, removed afterwards."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def pg_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


class PostgresMissing(RuntimeError):
    def __init__(self):
        super().__init__("PostgreSQL is not installed: run scripts/ensure_packages.sh postgresql")


@contextmanager
def throwaway_cluster(prefix: str) -> Iterator[int]:
    """Start a cluster, yield its port (user ``postgres``, no password, host 127.0.0.1), stop
    and remove it on the way out. Raises ``PostgresMissing`` when the binaries are absent."""
    initdb, postgres = pg_binary("initdb"), pg_binary("postgres")
    if not initdb or not postgres:
        raise PostgresMissing()
    run_as = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
    workdir = tempfile.mkdtemp(prefix=f"{prefix}-pg-")
    if run_as:
        shutil.chown(workdir, "postgres")
    data, port = f"{workdir}/data", free_port()
    subprocess.run([*run_as, initdb, "-D", data, "-A", "trust", "-U", "postgres"], check=True, capture_output=True)
    server = subprocess.Popen([*run_as, postgres, "-D", data, "-p", str(port), "-k", workdir, "-h", "127.0.0.1",
                               "-c", "fsync=off", "-c", "max_connections=200"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, 30)
        yield port
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(workdir, ignore_errors=True)
