"""The product's WSGI application with each request's time inside the server written down:
one line of milliseconds per request, appended to ``$BENCH_TIMING_DIR/<pid>.ms`` (an
unbuffered write per request: nothing is lost when gunicorn stops its workers). The queueing
in front of gunicorn's threads is not in it: that is what wrk's own latency adds."""

from __future__ import annotations

import os
import time

from config.wsgi import application as product

_files: dict[int, int] = {}


def _record(ms: float) -> None:
    pid = os.getpid()
    fd = _files.get(pid)
    if fd is None:
        path = os.path.join(os.environ["BENCH_TIMING_DIR"], f"{pid}.ms")
        fd = _files[pid] = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.write(fd, f"{ms:.3f}\n".encode())


def application(environ, start_response):
    started = time.perf_counter()
    response = product(environ, start_response)
    body = list(response)  # a redirect's body is tiny: render it inside the measurement
    if hasattr(response, "close"):
        response.close()
    _record((time.perf_counter() - started) * 1000)
    return body
