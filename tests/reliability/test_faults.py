"""Campaigns under faults, over real HTTP against the sandbox's fault injection.

Every test ends with the same three counts: each recipient has exactly one accepted message at
the sandbox (counted by ``custom`` and by number), none is missing, the campaign says "sent".
The default run sends RECIPIENTS (2,000) per test; RELIABILITY_RECIPIENTS=100000 for the full
size (``make bench``)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter

import pytest
from django.db import connection

from messaging.campaigns.models import Campaign, Message, SendBatch
from messaging.campaigns.services import dispatch
from messaging.campaigns.services.campaigns import campaign_launch

from .conftest import RECIPIENTS, exactly_once

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]
RUN_TIMEOUT = max(240, RECIPIENTS // 40)  # seconds; 2,500 at 100k (make bench)

IDENTICAL = "Our shop opens on Monday at nine."
FAULTS = [
    {"kind": "rate_limit", "rate": 0.05, "routes": ["sms.*"]},
    {"kind": "error", "rate": 0.03, "status": 500, "routes": ["sms.messages.*"]},
    {"kind": "timeout", "rate": 0.01, "seconds": 1.5, "routes": ["sms.messages.*"]},
    {"kind": "drop", "rate": 0.01, "after": True, "routes": ["sms.messages.*"]},
]


def assert_exactly_once(box, campaign: Campaign, phones: list[str]) -> None:
    campaign.refresh_from_db()
    customs = set(SendBatch.objects.filter(campaign=campaign).values_list("custom", flat=True))
    dup, missing, foreign = exactly_once(box, customs)
    numbers = Counter(item["number"].lstrip("+") for item in box.sent()["items"])
    twice = {n: k for n, k in numbers.items() if k != 1}
    absent = {p[1:] for p in phones} - set(numbers)
    assert not dup, f"{len(dup)} (custom, number) pairs accepted more than once: {dup[:5]}"
    assert not twice, f"{len(twice)} numbers accepted more than once: {list(twice.items())[:5]}"
    assert not absent, f"{len(absent)} recipients never reached the sandbox: {sorted(absent)[:5]}"
    assert not foreign, f"customs the sandbox has that no batch carries: {sorted(foreign)[:5]}"
    assert not missing - {c for c in customs if not SendBatch.objects.filter(custom=c, size__gt=0).exists()}
    assert campaign.state == Campaign.State.SENT, (campaign.state, campaign.state_reason)
    assert not Message.objects.filter(campaign=campaign, status__in=["queued", "unknown"]).exists()


def faults_were_met(campaign: Campaign) -> int:
    """Batches that needed a second attempt or a reconciliation: the faults really happened."""
    from django.db.models import Q

    return SendBatch.objects.filter(campaign=campaign).filter(Q(attempts__gt=1) | ~Q(error="")).count()


def faulty(sandbox, settings, faults=FAULTS):
    settings.BICS_READ_TIMEOUT = 1.0  # the 1.5 s timeouts after acceptance become "outcome unknown"
    settings.BICS_RETRIES = 2
    sandbox.configure(faults=faults)


@pytest.mark.django_db(transaction=True)
def test_batched_campaign_under_429_5xx_timeouts_and_drops_is_sent_exactly_once(sandbox, settings, audience,
                                                                                 make_campaign, make_template):
    phones = audience(RECIPIENTS)
    campaign = make_campaign(template=make_template(IDENTICAL), batch_size=25)
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    faulty(sandbox, settings)
    dispatch.campaign_run(campaign.pk, timeout=RUN_TIMEOUT, poll_every=30)
    sandbox.configure(faults=[])
    assert_exactly_once(sandbox, campaign, phones)
    assert faults_were_met(campaign) >= 3


@pytest.mark.django_db(transaction=True)
def test_personalised_campaign_under_faults_is_sent_exactly_once(sandbox, settings, audience, make_campaign):
    phones = audience(max(RECIPIENTS // 4, 50))
    campaign = make_campaign()  # "Hello {{first_name}}…": one request per recipient
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    faulty(sandbox, settings)
    dispatch.campaign_run(campaign.pk, timeout=RUN_TIMEOUT, poll_every=30)
    sandbox.configure(faults=[])
    assert_exactly_once(sandbox, campaign, phones)
    assert faults_were_met(campaign) >= 3


@pytest.mark.django_db(transaction=True)
def test_database_briefly_locked_during_a_send_loses_nothing(sandbox, settings, audience, make_campaign,
                                                              make_template):
    """Another process holds the write lock for 2 s in the middle of the send (SQLite: an
    EXCLUSIVE transaction; PostgreSQL: LOCK TABLE on the batches)."""
    phones = audience(RECIPIENTS // 2)
    campaign = make_campaign(template=make_template(IDENTICAL), batch_size=20, batch_interval=0)
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    sandbox.configure(faults=[{"kind": "latency", "seconds": 0.3, "routes": ["sms.messages.send"]}])
    stop = threading.Event()
    locked_mid_send = []

    def lock_for_a_while():
        while not stop.is_set() and not SendBatch.objects.filter(campaign=campaign, state="sent").exists():
            time.sleep(0.02)
        locked_mid_send.append(SendBatch.objects.filter(campaign=campaign, state="pending").exists())
        if connection.vendor == "sqlite":
            other = sqlite3.connect(connection.settings_dict["NAME"], timeout=30)
            other.execute("BEGIN EXCLUSIVE")
            time.sleep(2)
            other.rollback()
            other.close()
        else:
            from django.db import connections

            with connections["default"].cursor() as cur:
                cur.execute("BEGIN")
                cur.execute(f"LOCK TABLE {SendBatch._meta.db_table} IN ACCESS EXCLUSIVE MODE")
                time.sleep(2)
                cur.execute("ROLLBACK")
        connection.close()

    locker = threading.Thread(target=lock_for_a_while, daemon=True)
    locker.start()
    try:
        dispatch.campaign_run(campaign.pk, timeout=RUN_TIMEOUT, poll_every=30)
    finally:
        stop.set()
        locker.join(10)
    # a step that met the lock may have stopped early; the beat's next tick finishes the work
    for _ in range(20):
        campaign.refresh_from_db()
        if campaign.state == Campaign.State.SENT:
            break
        dispatch.campaign_run(campaign.pk, timeout=30, poll_every=30)
    sandbox.configure(faults=[])
    assert locked_mid_send == [True], "the lock came after the send"
    assert_exactly_once(sandbox, campaign, phones)


class Crash(Exception):
    """The process died here."""


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("where", ["between two chunks", "inside a chunk"])
def test_launch_written_while_sending_and_resumed_after_a_crash_is_sent_exactly_once(  # noqa: PLR0913
        sandbox, settings, audience, make_campaign, make_template, monkeypatch, where):
    """``campaign_run`` writes the launch's chunks between its sends; the process dies after
    some batches went out (their answers in flight are never recorded), and another run
    resumes the preparation at the campaign's cursor and finishes the send under faults."""
    from messaging.campaigns.services import writer

    phones = audience(max(RECIPIENTS // 2, 400))
    settings.CAMPAIGN_LAUNCH_CHUNK = 60
    settings.CAMPAIGN_CLAIM_TIMEOUT = 2  # the dead run's claims are swept soon
    settings.CAMPAIGN_RECONCILE_GRACE = 0
    campaign = make_campaign(template=make_template(IDENTICAL), batch_size=20)
    campaign_launch(campaign=campaign, now=True, enqueue=False, prepare=False)  # the run writes it
    faulty(sandbox, settings)
    target, name = (writer._Writer, "_chunk_end") if where.startswith("between") else (writer, "_chunk_written")
    original, calls = getattr(target, name), []

    def dies_on_the_fourth(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:  # noqa: PLR2004 - three chunks committed, sending under way
            raise Crash(where)
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, dies_on_the_fourth)
    with pytest.raises(Crash):
        dispatch.campaign_run(campaign.pk, timeout=RUN_TIMEOUT, poll_every=30)
    monkeypatch.undo()
    campaign.refresh_from_db()
    assert campaign.preparing and campaign.prepared_count == 180 == Message.objects.filter(campaign=campaign).count()
    assert SendBatch.objects.filter(campaign=campaign).exclude(state="pending").exists(), "nothing was sent yet"
    for _ in range(10):  # the beat's next ticks: the preparation resumed, the dead run's claims reconciled
        dispatch.campaign_run(campaign.pk, timeout=RUN_TIMEOUT, poll_every=30)
        campaign.refresh_from_db()
        if campaign.state == Campaign.State.SENT:
            break
    sandbox.configure(faults=[])
    assert not campaign.preparing and campaign.audience_size == len(phones) == campaign.audience_total
    assert_exactly_once(sandbox, campaign, phones)
