"""A real ``celery worker`` subprocess on a real Redis broker and the test's file database:
the worker is killed with SIGKILL mid-batch and restarted; Redis is restarted without
persistence during a send (every queued task lost). The database sweeper and the beat's tick
recover; each recipient still has exactly one accepted message at the sandbox."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from messaging.campaigns.models import Campaign, SendBatch
from messaging.campaigns.services.campaigns import campaign_launch
from tests.conftest import SANDBOX_TOKEN, free_port, wait_for_port

from .conftest import RECIPIENTS
from .test_faults import FAULTS, IDENTICAL, assert_exactly_once

pytestmark = [pytest.mark.sandbox, pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


class Redis:
    """A redis-server of the test's own (no persistence) that can be restarted on its port."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def redis_server():
    if not shutil.which("redis-server"):
        pytest.fail("redis-server is not installed: run scripts/ensure_packages.sh redis-server")
    server = Redis()
    server.start()
    yield server
    server.stop()


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(s['NAME']).resolve()}"
    return f"postgres://{s['USER']}:{s.get('PASSWORD') or ''}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


class Worker:
    def __init__(self, broker: str, sandbox_url: str, log: Path):
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": database_url(),
                    "CELERY_BROKER_URL": broker, "BICS_RATE_LIMIT_REDIS_URL": broker,
                    "BICS_API_BASE_URL": sandbox_url, "BICS_API_TOKEN": SANDBOX_TOKEN, "BICS_RETRIES": "2",
                    "BICS_READ_TIMEOUT": "1", "CAMPAIGN_CLAIM_TIMEOUT": "3", "CAMPAIGN_RECONCILE_GRACE": "0",
                    "CAMPAIGN_CONCURRENCY": "4", "DJANGO_DEBUG": "1", "CACHE_URL": "locmemcache://",
                    "LOG_FORMAT": "text", "LOG_LEVEL": "WARNING", "EMAIL_URL": "consolemail://"}
        self.log = log
        self.proc = None

    def start(self):
        out = open(self.log, "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "threads",
                                      "-c", "4", "-Q", "default,sends", "--without-heartbeat", "--without-gossip",
                                      "--without-mingle", "-l", "WARNING"],
                                     cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


def send_task(broker: str, name: str, *args):
    from celery import Celery

    saved = os.environ.pop("CELERY_BROKER_URL", None)  # the test settings' memory:// would win
    app = Celery("reliability-client", broker=broker)
    app.conf.broker_url = broker
    app.conf.task_routes = {"messaging.tasks.send_batch": {"queue": "sends"}}
    try:
        app.send_task(name, args=list(args), queue="sends" if name.endswith("send_batch") else "default")
    finally:
        app.close()
        if saved is not None:
            os.environ["CELERY_BROKER_URL"] = saved


def drive(broker_url, campaign, deadline, *, on_progress=None, sandbox=None):
    """The beat's part: a tick every 2 s until the campaign is sent (or the deadline)."""
    last_tick = 0.0
    while time.monotonic() < deadline:
        campaign.refresh_from_db()
        if campaign.state == Campaign.State.SENT:
            return
        if on_progress:
            on_progress()
        if time.monotonic() - last_tick > 2:
            try:
                send_task(broker_url(), "messaging.tasks.campaigns_tick")
            except Exception:  # noqa: BLE001 - Redis may be restarting; the next tick goes
                pass
            last_tick = time.monotonic()
        time.sleep(0.2)


def launch(make_campaign, make_template, audience, sandbox, n):
    phones = audience(n)
    campaign = make_campaign(template=make_template(IDENTICAL), batch_size=20)
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    sandbox.configure(faults=[{"kind": "latency", "seconds": 0.15, "rate": 1.0, "routes": ["sms.messages.send"]},
                              *FAULTS])
    return phones, campaign


def test_worker_killed_with_sigkill_mid_batch_and_restarted(sandbox, redis_server, audience, make_campaign,
                                                              make_template, tmp_path):
    phones, campaign = launch(make_campaign, make_template, audience, sandbox, RECIPIENTS // 2)
    worker = Worker(redis_server.url, sandbox.server.url, tmp_path / "worker.log")
    worker.start()
    killed = []

    def kill_mid_batch():
        if killed:
            return
        sent = SendBatch.objects.filter(campaign=campaign, state="sent").count()
        claimed = SendBatch.objects.filter(campaign=campaign, state="claimed").count()
        if sent >= 3 and claimed:
            worker.kill()
            killed.append((sent, claimed))
            worker.start()

    try:
        send_task(redis_server.url, "messaging.tasks.campaign_advance", campaign.pk)
        drive(lambda: redis_server.url, campaign, time.monotonic() + 240, on_progress=kill_mid_batch)
    finally:
        worker.kill()
        sandbox.configure(faults=[])
    assert killed, "the worker finished before it could be killed"
    assert_exactly_once(sandbox, campaign, phones)


def test_redis_restarted_without_persistence_during_a_send(sandbox, redis_server, audience, make_campaign,
                                                             make_template, tmp_path):
    phones, campaign = launch(make_campaign, make_template, audience, sandbox, RECIPIENTS // 2)
    worker = Worker(redis_server.url, sandbox.server.url, tmp_path / "worker.log")
    worker.start()
    restarted = []

    def restart_redis():
        if restarted:
            return
        if SendBatch.objects.filter(campaign=campaign, state="sent").count() >= 3:
            redis_server.stop()  # queued tasks, unacked deliveries and countdowns are gone
            time.sleep(1)
            redis_server.start()
            restarted.append(True)

    try:
        send_task(redis_server.url, "messaging.tasks.campaign_advance", campaign.pk)
        drive(lambda: redis_server.url, campaign, time.monotonic() + 240, on_progress=restart_redis)
    finally:
        worker.kill()
        sandbox.configure(faults=[])
    assert restarted, "the send finished before Redis could be restarted"
    assert_exactly_once(sandbox, campaign, phones)
