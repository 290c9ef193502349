"""Runs the whole product on one machine, in the foreground, for `make run`.

Starts Redis (unless one already answers), the BICS sandbox (when no BICS_API_TOKEN is set),
a Celery worker, Celery beat and the web server; prefixes each line of their output with the
process name. Ctrl-C (or any process exiting) stops them all.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
COLORS = ["\033[36m", "\033[33m", "\033[35m", "\033[32m", "\033[34m", "\033[31m"]
RESET = "\033[0m"


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((host, port)) == 0


def django_settings():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings

    return settings


def plan(settings) -> list[tuple[str, list[str]]]:
    python = str(VENV_BIN / "python")
    celery = str(VENV_BIN / "celery")
    procs = []
    broker = urlparse(settings.CELERY_BROKER_URL)
    host, port = broker.hostname or "127.0.0.1", broker.port or 6379
    if broker.scheme == "redis" and host in ("127.0.0.1", "localhost") and not port_open(host, port):
        procs.append(
            ("redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        )
    if settings.BICS_USE_SANDBOX:
        procs.append(("sandbox", [python, "manage.py", "bics_sandbox", "--port", str(settings.BICS_SANDBOX_PORT)]))
    else:
        print(f"Using BICS at {settings.BICS_API_BASE_URL} (BICS_API_TOKEN is set): no sandbox.")
    procs.append(
        ("worker", [celery, "-A", "config", "worker", "-Q", "default,sends,webhooks,sync", "-c", "2", "-l", "INFO"])
    )
    procs.append(("beat", [celery, "-A", "config", "beat", "-l", "INFO", "--pidfile="]))
    web_port = os.environ.get("PORT", "8000")
    procs.append(("web", [python, "manage.py", "runserver", f"127.0.0.1:{web_port}", "--noreload"]))
    return procs


def pump(name: str, color: str, stream, width: int):
    for line in iter(stream.readline, b""):
        sys.stdout.write(f"{color}{name:<{width}} |{RESET} {line.decode(errors='replace')}")
        sys.stdout.flush()


def main() -> int:
    settings = django_settings()
    procs = plan(settings)
    width = max(len(name) for name, _ in procs)
    running: list[tuple[str, subprocess.Popen]] = []
    for index, (name, cmd) in enumerate(procs):
        proc = subprocess.Popen(
            cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )
        running.append((name, proc))
        threading.Thread(
            target=pump, args=(name, COLORS[index % len(COLORS)], proc.stdout, width), daemon=True
        ).start()
        if name == "redis":  # the worker and beat need it up
            for _ in range(50):
                if port_open("127.0.0.1", int(cmd[2])):
                    break
                time.sleep(0.1)
    print(f"Web server: http://127.0.0.1:{os.environ.get('PORT', '8000')}/admin/  (Ctrl-C stops everything)")
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, proc in running:
            if proc.poll() is not None:
                print(f"{name} exited with status {proc.returncode}; stopping the others.")
                exit_code = proc.returncode or 1
                stopping = True
                break
        time.sleep(0.3)
    for _, proc in reversed(running):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.time() + 10
    for _, proc in running:
        try:
            proc.wait(max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
