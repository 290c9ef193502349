"""Runs the whole product on one machine, in the foreground, for `make run`.

Starts Redis (unless one already answers), the BICS sandbox (when no BICS_API_TOKEN is set),
a Celery worker, Celery beat and the web server. Every line they print goes to var/log/run.log;
the terminal shows warnings and errors only (VERBOSE=1 shows everything). On start it runs every
periodic job once (beat's first run of an hourly job is an hour away: balance and prices would be
missing), then prints a short summary: the address, the local admin, where the logs go.
Ctrl-C (or any process exiting) stops them all.
"""

import io
import os
import re
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
LOG_DIR = ROOT / "var" / "log"
COLORS = ["\033[36m", "\033[33m", "\033[35m", "\033[32m", "\033[34m", "\033[31m"]
RESET = "\033[0m"
# Python logging (JSON or text) and Celery's own format both name the level in capitals.
LOUD = re.compile(r"WARNING|ERROR|CRITICAL|Traceback|exited")
# Known, harmless warnings of a development machine.
NOISE = re.compile(r"Memory overcommit must be enabled|This is a development server")
VERBOSE = os.environ.get("VERBOSE", "") not in ("", "0")


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((host, port)) == 0


def wait_for_port(port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if port_open("127.0.0.1", port):
            return True
        time.sleep(0.1)
    return False


def django_settings():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    level = os.environ.get("LOG_LEVEL")
    os.environ["LOG_LEVEL"] = "WARNING"  # this process's own start-up logs are noise here
    django.setup()
    if level is None:
        del os.environ["LOG_LEVEL"]
    else:
        os.environ["LOG_LEVEL"] = level
    from django.conf import settings

    return settings


def child_env(settings) -> dict:
    """The processes' environment: e-mails written to files, not printed whole in the terminal."""
    env = dict(os.environ)
    if settings.EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend":
        env["EMAIL_URL"] = f"filemail://{LOG_DIR / 'mail'}"
    return env


def plan(settings, web_port: str) -> list[tuple[str, list[str]]]:
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
    procs.append(
        ("worker", [celery, "-A", "config", "worker", "-Q", "default,sends,webhooks,sync", "-c", "2", "-l", "INFO"])
    )
    procs.append(("beat", [celery, "-A", "config", "beat", "-l", "INFO", "--pidfile="]))
    procs.append(("web", [python, "manage.py", "runserver", f"127.0.0.1:{web_port}", "--noreload"]))
    return procs


def pump(name: str, color: str, stream, width: int, log):
    for raw in iter(stream.readline, b""):
        line = raw.decode(errors="replace")
        log.write(f"{name:<{width}} | {line}")
        log.flush()
        if VERBOSE or (LOUD.search(line) and not NOISE.search(line)):
            sys.stdout.write(f"{color}{name:<{width}} |{RESET} {line}")
            sys.stdout.flush()


def local_admin() -> str:
    """The local admin's password when this run created it, else ''."""
    from django.core.management import call_command

    out = io.StringIO()
    call_command("ensure_local_admin", stdout=out)
    found = re.search(r"password:\s*(\S+)", out.getvalue())
    return found.group(1) if found else ""


def run_periodic_jobs_once() -> int:
    """Queue every periodic job now (the worker runs them as soon as it is up)."""
    from config.celery import app
    from config.schedule import PERIODIC_TASKS

    for task, _every, kwargs in PERIODIC_TASKS.values():
        app.send_task(task, kwargs=kwargs)
    return len(PERIODIC_TASKS)


def bics_state(seconds: float) -> str:
    """Balance and prices once the first pull landed (waits for it a little)."""
    from django.db import close_old_connections

    from messaging.catalogue.models import AccountBalance, Price

    deadline = time.monotonic() + seconds
    while True:
        close_old_connections()
        balance = AccountBalance.objects.order_by("-fetched_at").first()
        if balance is not None or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if balance is None:
        return "balance and prices not pulled yet (see var/log/run.log)"
    return f"balance {balance.balance:.2f} {balance.currency}, {Price.objects.count()} prices"


def summary(settings, web_port: str, password: str, bics: str) -> str:
    url = f"http://127.0.0.1:{web_port}/"
    if settings.BICS_USE_SANDBOX:
        where = f"local sandbox on port {settings.BICS_SANDBOX_PORT}"
    else:
        where = settings.BICS_API_BASE_URL
    who = (f"admin / {password}   (shown once: keep it)" if password else
           "admin (password set on the first run; forgot it? .venv/bin/python manage.py changepassword admin)")
    mail = "var/log/mail/" if settings.EMAIL_BACKEND.endswith("console.EmailBackend") else "sent by EMAIL_URL"
    bar = "=" * 72
    return "\n".join([
        bar,
        "BICS back-office is running. Ctrl-C stops everything.",
        f"  Open:    {url}  (dashboard; administration at {url}admin/)",
        f"  Sign in: {who}",
        f"  BICS:    {where}: {bics}",
        f"  Logs:    var/log/run.log (every process), var/log/setup.log (migrations, demo data); e-mails: {mail}",
        "  This terminal shows warnings and errors only (VERBOSE=1 make run shows everything).",
        bar,
    ])


def start(procs, env, log) -> list[tuple[str, subprocess.Popen]]:
    width = max(len(name) for name, _ in procs)
    running = []
    for index, (name, cmd) in enumerate(procs):
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )
        running.append((name, proc))
        threading.Thread(
            target=pump, args=(name, COLORS[index % len(COLORS)], proc.stdout, width, log), daemon=True
        ).start()
        if name == "redis":  # the worker and beat need it up
            wait_for_port(int(cmd[2]), 5)
    return running


def supervise(running) -> int:
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
                print(f"{name} exited with status {proc.returncode}; stopping the others (see var/log/run.log).")
                exit_code = proc.returncode or 1
                stopping = True
                break
        time.sleep(0.3)
    stop_all(running)
    return exit_code


def stop_all(running) -> None:
    for _, proc in reversed(running):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.time() + 10
    for _, proc in running:
        try:
            proc.wait(max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def main() -> int:
    settings = django_settings()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    web_port = os.environ.get("PORT", "8000")
    password = local_admin()
    procs = plan(settings, web_port)
    print(f"Starting {', '.join(name for name, _ in procs)}...")
    with open(LOG_DIR / "run.log", "a", encoding="utf-8") as log:
        running = start(procs, child_env(settings), log)
        try:
            if settings.BICS_USE_SANDBOX:
                wait_for_port(settings.BICS_SANDBOX_PORT, 15)
            run_periodic_jobs_once()
            wait_for_port(int(web_port), 15)
            print(summary(settings, web_port, password, bics_state(30)), flush=True)
        except KeyboardInterrupt:
            stop_all(running)
            return 130
        return supervise(running)


if __name__ == "__main__":
    sys.exit(main())
