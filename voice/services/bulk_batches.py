"""Bulk call batches as a kind of the batch engine (``core.batches``).

One batch is one Create Bulk Outgoing Calls request (Voice › Create Bulk Outgoing Calls). The
engine owns claim, send, sweep and reconcile; this module says how a batch becomes a
request, what BICS's answer changes on the recipients, and how an ``unknown`` batch is looked
up: Call Status per recipient, by number and the day of the claim (BICS documents no custom
id for bulk payload items). Each batch is sent by a Celery task of its own
(``send_bulk_batch``); the sweeper (``bulk_sweep``, every minute) queues lost ones again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Max
from django.db.models.functions import Coalesce
from django.utils import timezone

from core import batches as engine
from core.batches import BatchKind, BatchState, Claim, Lookup, Outcome, Skip, SkipAction
from core.bics import get_client
from core.bics_time import format_bics_date
from voice.models import BULK_CALL_STATES, BulkCall, BulkCallBatch, BulkCallRecipient, RequestState
from voice.services.calls import apply_call_data, call_status_lookup

log = logging.getLogger(__name__)


def claim_timeout() -> timedelta:
    """Well above the task's hard time limit: an older claim belongs to a dead worker."""
    return timedelta(seconds=getattr(settings, "VOICE_BATCH_CLAIM_TIMEOUT", 600))


@dataclass(frozen=True)
class BulkRequest:
    bulk_call_id: int
    body: dict


def batch_body(batch: BulkCallBatch) -> dict:
    """The request body of one batch (numbers in E.164; the client writes digits)."""
    bulk = batch.bulk_call
    body: dict = {"bridge": bulk.bridge}
    if bulk.name:
        body["name"] = bulk.name
    if bulk.webhook_id:
        body["webhook_id"] = bulk.webhook_id
    if bulk.mode == BulkCall.Mode.SAME_AUDIO:
        body["audio"] = bulk.audio_url or bulk.sound_file.url
    elif bulk.flow_id:
        body["flow_id"] = int(bulk.flow_id) if str(bulk.flow_id).isdigit() else bulk.flow_id
    payload = []
    for recipient in batch.recipients.order_by("pk"):
        item: dict = {"to": recipient.to}
        if bulk.mode == BulkCall.Mode.AUDIO_PER_RECIPIENT:
            item["audio"] = recipient.audio_url
        if bulk.mode == BulkCall.Mode.FLOW_VARIABLES and recipient.variables:
            item["variables"] = recipient.variables
        payload.append(item)
    body["payload"] = payload
    return body


def matches(item: dict, batch: BulkCallBatch) -> bool:
    """A Call Status item belongs to this bulk call unless it names another group/campaign."""
    group = item.get("group_id")
    if group and batch.group_id and str(group) != batch.group_id:
        return False
    name = item.get("name")
    return not (name and batch.bulk_call.name and name != batch.bulk_call.name)


def bulk_finish_if_done(bulk_call_id: int) -> None:
    """A sending bulk call with no open batch is sent (or failed, when no batch went out)."""
    if BulkCallBatch.objects.filter(bulk_call_id=bulk_call_id, state__in=engine.OPEN_STATES).exists():
        return
    any_sent = BulkCallBatch.objects.filter(bulk_call_id=bulk_call_id, state=BatchState.SENT).exists()
    BULK_CALL_STATES.move(BulkCall.objects, bulk_call_id, BulkCall.State.SENT if any_sent else BulkCall.State.FAILED,
                          finished_at=timezone.now())


def enqueue(batch_ids) -> None:
    from voice.tasks import send_bulk_batch

    batch_ids = list(batch_ids)
    BulkCallBatch.objects.filter(pk__in=batch_ids).update(enqueued_at=timezone.now())
    for batch_id in batch_ids:
        send_bulk_batch.delay(batch_id)


class BulkCallKind(BatchKind[BulkRequest]):
    model = BulkCallBatch

    def claim_timeout(self) -> timedelta:
        return claim_timeout()

    def reconcile_grace(self) -> timedelta:
        return timedelta(seconds=getattr(settings, "VOICE_RECONCILE_AFTER", 120))

    def prepare(self, claims: list[Claim]) -> list[BulkRequest | Skip]:
        batches = BulkCallBatch.objects.select_related("bulk_call", "bulk_call__sound_file").in_bulk(
            [c.batch_id for c in claims])
        out: list[BulkRequest | Skip] = []
        for current in claims:
            batch = batches[current.batch_id]
            if batch.bulk_call.state != BulkCall.State.SENDING:
                out.append(Skip(SkipAction.FAIL, "The bulk call is not sending."))
                continue
            body = batch_body(batch)
            out.append(BulkRequest(batch.bulk_call_id, body) if body["payload"] else Skip(SkipAction.DONE))
        return out

    def send(self, request: BulkRequest):
        return get_client().call("voice.bulk_calls.create", json=request.body)

    def on_sent(self, claim: Claim, request: BulkRequest, result) -> dict:
        raw = result.raw or {}
        total = raw.get("total")
        total = int(total) if str(total).isdigit() else len(request.body["payload"])
        group_id = str(raw.get("group_id") or "")[:64]
        BulkCallRecipient.objects.filter(batch_id=claim.batch_id, state=RequestState.DRAFT).update(
            state=RequestState.QUEUED)
        BulkCall.objects.filter(pk=request.bulk_call_id).update(total=Coalesce(F("total"), 0) + total)
        if group_id:
            BulkCall.objects.filter(pk=request.bulk_call_id, group_id="").update(group_id=group_id)
        return {"group_id": group_id, "total": total, "api_message": (result.message or "")[:255],
                "raw_response": raw}

    def on_failed(self, batch_ids: list[int], outcome: Outcome, error: str) -> None:
        if outcome is Outcome.FAILED:  # an unknown batch's recipients wait for the reconciliation
            BulkCallRecipient.objects.filter(batch_id__in=batch_ids).update(state=RequestState.FAILED)

    def lookup(self, batch: BulkCallBatch) -> Lookup:
        claimed = batch.claimed_at or timezone.now()
        days = sorted({format_bics_date(claimed), format_bics_date(claimed + claim_timeout())})  # around midnight
        lookup = Lookup()
        for recipient in batch.recipients.order_by("pk"):
            items = [i for day in days for i in call_status_lookup(mobile=recipient.to, date=day)
                     if matches(i, batch)]
            if items:
                lookup.found[recipient.pk] = items[0]
            else:
                lookup.missing.append(recipient.pk)
        return lookup

    def on_reconciled(self, batch: BulkCallBatch, lookup: Lookup) -> int | None:
        for recipient in BulkCallRecipient.objects.filter(pk__in=list(lookup.found)):
            apply_call_data(recipient, lookup.found[recipient.pk])
            recipient.state = RequestState.QUEUED
            recipient.save(update_fields=["state", "status", "call_id", "duration", "updated_at"])
        if not lookup.found:
            return None
        BulkCallBatch.objects.filter(pk=batch.pk).update(total=len(lookup.found))
        if not lookup.missing:
            return None
        number = (BulkCallBatch.objects.filter(bulk_call=batch.bulk_call_id).aggregate(m=Max("number"))["m"] or 0) + 1
        extra = BulkCallBatch.objects.create(bulk_call_id=batch.bulk_call_id, number=number)
        BulkCallRecipient.objects.filter(pk__in=lookup.missing).update(batch=extra)
        return extra.pk

    def finish_if_done(self, batch_ids: list[int]) -> None:
        bulk_ids = set(BulkCallBatch.objects.filter(pk__in=batch_ids).values_list("bulk_call_id", flat=True))
        for bulk_id in sorted(bulk_ids):
            bulk_finish_if_done(bulk_id)

    def enqueue(self, batch_ids: list[int]) -> None:
        enqueue(batch_ids)

    def lost(self, cutoff: datetime):
        return BulkCallBatch.objects.filter(bulk_call__state=BulkCall.State.SENDING,
                                            bulk_call__launched_at__lt=cutoff)


KIND = BulkCallKind()


def batch_claim(batch_id: int) -> Claim | None:
    return engine.claim(KIND, batch_id)


def batch_claim_next(*, bulk_call_id: int | None = None) -> Claim | None:
    """The next pending batch of a sending bulk call (of one, or of any)."""
    scope = BulkCallBatch.objects.filter(bulk_call__state=BulkCall.State.SENDING)
    if bulk_call_id:
        scope = scope.filter(bulk_call_id=bulk_call_id)
    claims = engine.claim_next(KIND, scope.order_by("pk"), limit=1)
    return claims[0] if claims else None


def batch_send(batch_id: int, *, token=None) -> BatchState | None:
    """Claim (unless ``token`` says we hold it) and send one batch: its new state, or None
    when another worker has it."""
    return engine.send(KIND, batch_id, token=token)


def bulk_sweep(*, now: datetime | None = None) -> dict:
    """The database sweeper (every minute): dead claims -> unknown -> reconciled by Call
    Status; lost pending batches queued again; unknown single calls reconciled."""
    now = now or timezone.now()
    swept = engine.sweep(KIND, now=now)
    reconciled = engine.reconcile_all(KIND, now=now)
    calls = _reconcile_calls(now - claim_timeout())
    for bulk_id in BulkCall.objects.filter(state=BulkCall.State.SENDING).values_list("pk", flat=True):
        bulk_finish_if_done(bulk_id)
    return {"stale": swept["stale"], "requeued": swept["requeued"], "calls": calls,
            "reconciled": sum(n for state, n in reconciled.items() if state != BatchState.UNKNOWN)}


def _reconcile_calls(cutoff: datetime) -> int:
    from voice.models import Call
    from voice.services.calls import call_reconcile

    done = 0
    for call in Call.objects.filter(state=RequestState.UNKNOWN, sent_at__lt=cutoff):
        try:
            call_reconcile(call)
            done += 1
        except Exception as exc:  # one bad call must not stop the sweep
            log.warning("voice call %s: reconcile failed: %s", call.pk, exc)
    return done
