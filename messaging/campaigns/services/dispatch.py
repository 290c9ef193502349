"""The campaign policy over the engine.

``campaign_step`` is the dispatcher of one campaign: it respects pause/cancel (checked before
each batch), the batch interval, the bounded number of batches in flight and smart delivery
(sample first, wait for its DLRs, cancel on a DLT rejection, else go on). Celery tasks and
the in-process runner (``campaign_run``, used by ``send_campaign --wait``) both drive it.
"""

from __future__ import annotations

import enum
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from core.batches import OPEN_STATES, Claim, Pipeline, Senders
from core.batches.turns import writer_turns
from messaging.campaigns import dlr_codes
from messaging.campaigns import selectors as sel
from messaging.campaigns.models import FINAL_STATUSES, Campaign, Message, SendBatch
from messaging.campaigns.services.engine import (
    KIND,
    batches_reconcile,
    batches_sweep,
    claim_next,
    concurrency,
)

B = SendBatch.State
log = logging.getLogger(__name__)


class StepReason(enum.Enum):
    """Why a step claimed what it claimed, or waits."""

    INACTIVE = "the campaign is not sampling or sending"
    NOT_YET = "not yet (the next batch's time has not come)"
    SAMPLE = "sending the sample"
    SAMPLE_IN_FLIGHT = "the sample is in flight"
    SAMPLE_WAIT = "waiting for the sample's DLRs"
    CANCELLED = "cancelled by smart delivery"
    SENT = "sent"
    SETTLING = "waiting for batches in flight or unknown"
    PREVIOUS_IN_FLIGHT = "previous batch in flight"
    WAVE = "a wave of the batch interval"
    IN_FLIGHT_LIMIT = "in-flight limit"
    BATCHES = "batches"

    @property
    def timed(self) -> bool:
        """The campaign goes on at a time of its own (the caller schedules it), not when a
        batch in flight comes back."""
        return self in (StepReason.NOT_YET, StepReason.WAVE)


@dataclass
class Step:
    claims: list[Claim] = field(default_factory=list)
    wait: float | None = None  # seconds until something may happen; None = finished
    reason: StepReason = StepReason.BATCHES


class SampleAction(enum.Enum):
    GO = "go"
    WAIT = "wait"
    CANCEL = "cancel"


@dataclass(frozen=True)
class SampleVerdict:
    action: SampleAction
    status: str = ""  # the DLT rejection status (or code) that cancels


def _sample_verdict(campaign: Campaign, now: datetime) -> SampleVerdict:
    """Cancel on a DLT rejection in the sample; go once every sample message is final or the
    smart wait has passed; wait otherwise."""
    sample = Message.objects.filter(campaign=campaign, is_sample=True)
    dlt = sample.filter(Q(bics_status__in=dlr_codes.DLT_REJECTION_STATUSES)
                        | Q(error_code__in=dlr_codes.DLT_REJECTION_CODES)).first()
    if dlt is not None:
        return SampleVerdict(SampleAction.CANCEL, dlt.bics_status or dlt.error_code)
    if not sample.exclude(status__in=FINAL_STATUSES).exists():
        return SampleVerdict(SampleAction.GO)
    started = campaign.sample_sent_at or now
    if now >= started + timedelta(minutes=campaign.smart_wait_minutes):
        return SampleVerdict(SampleAction.GO)
    return SampleVerdict(SampleAction.WAIT)


def _sampling_step(campaign: Campaign, now: datetime, limit: int) -> Step | None:
    """Smart delivery: send the sample, wait for its DLRs, cancel on a DLT rejection; None
    once the campaign moved on to sending to everyone else."""
    from messaging.campaigns.services.campaigns import campaign_cancel, campaign_transition, notify_owner

    campaign_id = campaign.pk
    batches = SendBatch.objects.filter(campaign_id=campaign_id, is_sample=True)
    if batches.filter(state=B.PENDING).exists():
        claims = claim_next(campaign_id=campaign_id, sample=True, limit=limit)
        return Step(claims=claims, wait=1.0, reason=StepReason.SAMPLE)
    if batches.filter(state__in=OPEN_STATES).exists():
        return Step(wait=1.0, reason=StepReason.SAMPLE_IN_FLIGHT)
    if campaign.sample_sent_at is None:
        Campaign.objects.filter(pk=campaign_id, sample_sent_at__isnull=True).update(sample_sent_at=now)
        campaign.sample_sent_at = now
    verdict = _sample_verdict(campaign, now)
    if verdict.action is SampleAction.CANCEL:
        status = verdict.status
        reason = (f"Smart delivery: a sample message came back with the DLT rejection status {status} "
                  f"({dlr_codes.describe(status)}); nobody else was messaged.")
        campaign_cancel(campaign=campaign, reason=reason, force=True)
        notify_owner(campaign=campaign, subject=f"Campaign cancelled by smart delivery: {campaign.name}",
                     body=reason)
        return Step(wait=None, reason=StepReason.CANCELLED)
    if verdict.action is SampleAction.WAIT:
        return Step(wait=5.0, reason=StepReason.SAMPLE_WAIT)
    campaign_transition(campaign=campaign, to=Campaign.State.SENDING, from_states=[Campaign.State.SAMPLING],
                        note="sample clean: sending to everyone else", next_batch_at=now)
    return None


def campaign_step(campaign_id: int, *, now: datetime | None = None, in_flight_limit: int | None = None) -> Step:
    """Decide what one campaign does now and claim the batches to send (the caller sends them)."""
    from messaging.campaigns.services.campaigns import campaign_finish_if_done

    now = now or timezone.now()
    campaign = Campaign.objects.get(pk=campaign_id)
    limit = in_flight_limit or concurrency()
    if campaign.state not in Campaign.ACTIVE_STATES:
        return Step(wait=None, reason=StepReason.INACTIVE)
    if campaign.next_batch_at and now < campaign.next_batch_at:
        return Step(wait=(campaign.next_batch_at - now).total_seconds(), reason=StepReason.NOT_YET)
    if campaign.state == Campaign.State.SAMPLING:
        step = _sampling_step(campaign, now, limit)
        if step is not None:
            return step
    in_flight = SendBatch.objects.filter(campaign_id=campaign_id, state=B.CLAIMED).count()
    if not SendBatch.objects.filter(campaign_id=campaign_id, state=B.PENDING, is_sample=False).exists():
        if campaign_finish_if_done(campaign_id):
            return Step(wait=None, reason=StepReason.SENT)
        return Step(wait=2.0, reason=StepReason.SETTLING)
    interval = campaign.batch_interval or 0
    if interval:
        if in_flight:
            return Step(wait=1.0, reason=StepReason.PREVIOUS_IN_FLIGHT)
        # one wave: one identical batch, or batch_size personalised batches of one
        first = SendBatch.objects.filter(campaign_id=campaign_id, state=B.PENDING, is_sample=False).order_by(
            "number").values_list("size", flat=True).first() or 1
        wave = 1 if first > 1 else max(1, campaign.batch_size or 1)
        claims = claim_next(campaign_id=campaign_id, sample=False, limit=wave)
        Campaign.objects.filter(pk=campaign_id).update(next_batch_at=now + timedelta(seconds=interval))
        return Step(claims=claims, wait=float(interval), reason=StepReason.WAVE)
    free = max(limit - in_flight, 0)
    if not free:
        return Step(wait=0.5, reason=StepReason.IN_FLIGHT_LIMIT)
    claims = claim_next(campaign_id=campaign_id, sample=False, limit=free)
    return Step(claims=claims, wait=0.0, reason=StepReason.BATCHES)


def campaigns_due(*, now: datetime | None = None) -> list[int]:
    """Scheduled campaigns whose time has come (beat launches them)."""
    now = now or timezone.now()
    return list(Campaign.objects.filter(state=Campaign.State.SCHEDULED, scheduled_at__lte=now)
                .values_list("pk", flat=True))


def campaign_error_record(campaign_id: int, action: str, exc: BaseException) -> None:
    """An unexpected error of one campaign: logged with its id and kept on it (the admin and
    the campaign page show ``last_error``), so the tick can go on with the others."""
    log.exception("campaign %s: %s failed", campaign_id, action)
    text = f"{action}: {type(exc).__name__}: {exc}"[:2000]
    try:
        Campaign.objects.filter(pk=campaign_id).update(last_error=text, last_error_at=timezone.now())
    except Exception:  # noqa: BLE001 - the database itself may be what failed
        log.exception("campaign %s: the error could not be recorded", campaign_id)


def _launch_due(campaign_id: int) -> bool:
    from messaging.campaigns.services.campaigns import CampaignError, campaign_launch, campaign_transition

    campaign = Campaign.objects.get(pk=campaign_id)
    try:
        campaign_launch(campaign=campaign, now=True, enqueue=False)
    except CampaignError as exc:  # refused for a reason staff can act on: the campaign fails
        campaign_transition(campaign=campaign, to=Campaign.State.FAILED, from_states=[Campaign.State.SCHEDULED],
                            note=f"launch refused: {exc}", state_reason=str(exc))
        return False
    Campaign.objects.filter(pk=campaign_id).exclude(last_error="").update(last_error="", last_error_at=None)
    return True


def campaigns_tick(*, advance, now: datetime | None = None) -> dict:
    """Beat, every minute: launch due scheduled campaigns, sweep stale claims, reconcile
    unknown batches, and ``advance`` every active campaign. Each campaign is isolated: any
    error of one is logged and recorded on it, and every other campaign's work still runs."""
    counts = {"launched": 0, "errors": 0}
    for campaign_id in campaigns_due(now=now):
        try:
            counts["launched"] += int(_launch_due(campaign_id))
        except Exception as exc:  # noqa: BLE001 - isolated per campaign, recorded on it
            counts["errors"] += 1
            campaign_error_record(campaign_id, "launch", exc)
    for name, job in (("swept", batches_sweep), ("reconciled", batches_reconcile)):
        try:
            counts[name] = job()
        except Exception:  # noqa: BLE001 - the advance below must still run
            counts["errors"] += 1
            log.exception("campaigns tick: %s failed", name)
    active = list(Campaign.objects.filter(state__in=Campaign.ACTIVE_STATES).values_list("pk", flat=True))
    for campaign_id in active:
        try:
            advance(campaign_id)
        except Exception as exc:  # noqa: BLE001 - isolated per campaign, recorded on it
            counts["errors"] += 1
            campaign_error_record(campaign_id, "advance", exc)
    counts["active"] = len(active)
    return counts


def campaign_run(campaign_id: int, *, timeout: float | None = None, poll_every: float = 2.0,
                 sleep=time.sleep, out=None) -> dict[str, int]:
    """Drive a launched campaign to its end in this process (``send_campaign --wait``): writes
    what is left of its audience (chunks, when no request is in flight), sends batches
    (``CAMPAIGN_CONCURRENCY`` requests in flight, the next claimed and the answers recorded
    while they fly), sweeps, reconciles and polls the DLRs smart delivery waits for. Returns
    the message counts by status."""
    runner = _Runner(campaign_id, poll_every=poll_every, sleep=sleep)
    with Senders(KIND, concurrency()) as senders, writer_turns():  # the receiver's appends
        runner.run(Pipeline(KIND, senders), timeout, out)  # get in between two of its transactions
    return sel.status_counts(Campaign.objects.get(pk=campaign_id))


class _Runner:
    UPKEEP_EVERY = 1.0  # seconds between two sweeps/reconciliations while sending
    LINGER = 0.02  # a blocking collect waits this much more for further answers (fewer transactions)

    def __init__(self, campaign_id: int, *, poll_every: float, sleep):
        from messaging.campaigns.services.writer import Preparation

        self.campaign_id, self.poll_every, self.sleep = campaign_id, poll_every, sleep
        self.preparation = Preparation(campaign_id)
        self.upkeep_at = self.polled_at = 0.0

    def window(self) -> int:
        """Batches claimed ahead of the pool: of one recipient, 32 per thread (they are quick,
        and each claim, read and record costs a statement whatever its size: measured, 8 per
        thread spent a third more of the interpreter per message than 32); of many, two per
        thread (one in flight, one waiting)."""
        personal = not SendBatch.objects.filter(campaign_id=self.campaign_id, size__gt=1).exists()
        return concurrency() * (32 if personal else 2)

    def prepare_chunk(self) -> bool:
        from messaging.campaigns.services.writer import PreparationRaced

        try:
            return self.preparation.step()
        except PreparationRaced:  # another process (the prepare task) writes it
            self.preparation.done = True
            return False

    def run(self, pipe: Pipeline, timeout: float | None, out) -> None:
        from messaging.campaigns.services.dlr import dlr_poll

        deadline = time.monotonic() + timeout if timeout else None
        window = self.window()
        while True:
            if time.monotonic() - self.upkeep_at >= self.UPKEEP_EVERY or not pipe.in_flight:
                batches_sweep()
                batches_reconcile(campaign_id=self.campaign_id)
                self.upkeep_at = time.monotonic()
            pipe.collect(timeout=0)
            step = None
            if pipe.in_flight <= window // 2:
                if not self.preparation.done and not pipe.in_flight:
                    window = self.window()  # the first chunks tell which kind of batches
                step = campaign_step(self.campaign_id, in_flight_limit=window)
                if step.claims:
                    pipe.submit(step.claims)
                    continue
            if pipe.in_flight:
                pipe.collect(timeout=1.0, linger=self.LINGER)
                continue
            # nothing in flight: the next chunk now (written while requests fly, on one
            # interpreter shared with their threads, a chunk held the lock ten times longer)
            if self.prepare_chunk():
                continue
            pipe.finish()
            if step is None or step.wait is None:
                break
            if time.monotonic() - self.polled_at >= self.poll_every:
                dlr_poll(campaign_id=self.campaign_id)
                self.polled_at = time.monotonic()
            if deadline and time.monotonic() > deadline:
                if out:
                    out(f"gave up waiting after {timeout}s ({step.reason.value})")
                break
            self.sleep(min(max(step.wait, 0.05), 1.0))
