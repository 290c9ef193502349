"""Bulk calls: audience, launch, batches sent exactly once, sweeper and reconciliation.

Life of a batch (one Create Bulk Outgoing Calls request, 3306-3383)::

    pending --claim--> claimed --BICS answered--> sent
                          |  \\--BICS refused--> failed
                          |   \\--answer lost (timeout, 5xx after sending)--> unknown
                          \\--worker vanished (claimed_at too old: sweeper)--> unknown
    unknown --reconcile (Call Status by number and day)--> sent | pending (only the
    recipients BICS does not know go out again, in a new batch when some were found)

A claim is one conditional UPDATE (``state=pending`` -> ``claimed`` with a fresh token); on
PostgreSQL the next batch is picked with ``SELECT … FOR UPDATE SKIP LOCKED``. So a batch is
sent by one worker only, and a batch that may have left is never re-sent before Call Status
said its recipients are unknown to BICS. The broker's redelivery is not the recovery path:
the sweeper (``bulk_sweep``, every minute) is. The claim timeout is well above the task's
hard time limit, so a claimed batch older than it belongs to a dead worker.

The shape follows the SMS campaign engine's ``SendBatch`` so both can later share it.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from voice.models import BulkCall, BulkCallBatch, BulkCallRecipient, RequestState, VoiceUnsubscriber
from voice.services._common import client, e164, to_bics_date
from voice.services.calls import apply_call_data, call_status_lookup

log = logging.getLogger(__name__)

NUMBER_COLUMNS = ("number", "to", "phone", "mobile", "receiver")
AUDIO_COLUMNS = ("audio", "audio_url")
_VALID = re.compile(r"^\+[1-9]\d{6,14}$")


def claim_timeout() -> timedelta:
    return timedelta(seconds=getattr(settings, "VOICE_BATCH_CLAIM_TIMEOUT", 600))


class BulkCallError(ValueError):
    pass


# ----------------------------------------------------------------------------- audience
@dataclass
class Target:
    to: str
    contact_id: int | None = None
    audio_url: str = ""
    variables: dict = field(default_factory=dict)


@dataclass
class Audience:
    targets: list[Target]
    excluded: list[str]  # voice unsubscribers
    invalid: list[str]
    duplicates: int = 0


def _render(template: dict, contact) -> dict:
    """Variables for one contact: '{first_name}' etc. from contact fields and attributes."""
    values = {"first_name": contact.first_name, "last_name": contact.last_name,
              "email": contact.email, "company": contact.company, "phone": contact.phone,
              **{str(k): v for k, v in (contact.attributes or {}).items()}}

    def fill(text):
        if not isinstance(text, str):
            return text
        return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), "")), text)

    return {key: fill(value) for key, value in template.items()}


def _contacts(bulk: BulkCall):
    from contacts.models import Contact

    if bulk.audience_kind == BulkCall.AudienceKind.SEGMENT:
        if not bulk.segment_id:
            raise BulkCallError("Choose a segment.")
        from contacts.selectors import segment_contacts

        return segment_contacts(bulk.segment)
    tag_ids = list(bulk.tags.values_list("pk", flat=True))
    if not tag_ids:
        raise BulkCallError("Choose at least one tag.")
    return Contact.objects.filter(tags__in=tag_ids).distinct()


def _upload_rows(bulk: BulkCall) -> list[Target]:
    if not bulk.upload:
        raise BulkCallError("Upload a list of numbers.")
    bulk.upload.open("rb")
    try:
        text = bulk.upload.read().decode("utf-8-sig")
    finally:
        bulk.upload.close()
    reader = csv.DictReader(io.StringIO(text))
    header = {h.strip().lower(): h for h in (reader.fieldnames or [])}
    number_col = next((header[c] for c in NUMBER_COLUMNS if c in header), None)
    if number_col is None:
        raise BulkCallError("The list needs a 'number' column.")
    audio_col = next((header[c] for c in AUDIO_COLUMNS if c in header), None)
    rows = []
    for row in reader:
        variables = {k.strip(): (v or "").strip() for k, v in row.items()
                     if k and k not in (number_col, audio_col)}
        rows.append(Target(to=(row.get(number_col) or "").strip(),
                           audio_url=(row.get(audio_col) or "").strip() if audio_col else "",
                           variables={**bulk.variables, **variables} if variables else dict(bulk.variables)))
    return rows


def voice_opted_out(numbers) -> set[str]:
    """Numbers with any voice (Engage) opt-out. Conservative: every type excludes the number,
    as a voice call has no sender or product to scope it by."""
    numbers = list(numbers)
    found: set[str] = set()
    for start in range(0, len(numbers), 900):
        found.update(VoiceUnsubscriber.objects.filter(number__in=numbers[start:start + 900])
                     .values_list("number", flat=True))
    return found


def bulk_audience(bulk: BulkCall) -> Audience:
    """The recipients, resolved once: valid numbers, no duplicates, no voice unsubscribers."""
    if bulk.audience_kind == BulkCall.AudienceKind.UPLOAD:
        raw = _upload_rows(bulk)
    else:
        raw = [Target(to=c.phone, contact_id=c.pk, variables=_render(bulk.variables or {}, c))
               for c in _contacts(bulk).only("pk", "phone", "first_name", "last_name", "email",
                                             "company", "attributes").iterator(chunk_size=2000)]
    seen: set[str] = set()
    valid, invalid, duplicates = [], [], 0
    for target in raw:
        number = e164(target.to)
        if not _VALID.match(number):
            invalid.append(target.to)
            continue
        if number in seen:
            duplicates += 1
            continue
        seen.add(number)
        target.to = number
        valid.append(target)
    opted_out = voice_opted_out(seen)
    targets = [t for t in valid if t.to not in opted_out]
    return Audience(targets, sorted(opted_out), invalid, duplicates)


def bulk_check(bulk: BulkCall) -> None:
    if not bulk.bridge:
        raise BulkCallError("A bridge number is required.")
    mode = bulk.mode
    if mode == BulkCall.Mode.SAME_AUDIO and not (bulk.audio_url or bulk.sound_file_id):
        raise BulkCallError("The same-audio mode needs an audio URL or a sound file.")
    if mode == BulkCall.Mode.FLOW_VARIABLES and not bulk.flow_id:
        raise BulkCallError("The flow-with-variables mode needs an IVR flow id.")
    if mode == BulkCall.Mode.FLOW_VARIABLES and bulk.flow_id and not str(bulk.flow_id).isdigit():
        raise BulkCallError("The IVR flow id is a number for bulk calls (3336).")


# ----------------------------------------------------------------------------- launch
def bulk_call_launch(bulk: BulkCall, *, enqueue: bool = True) -> BulkCall:
    """Resolve the audience once, write recipients and batches, and queue the batches.

    Only a draft launches (a conditional update, so two clicks launch once).
    """
    from voice.services.pricing import bulk_estimate

    bulk_check(bulk)
    audience = bulk_audience(bulk)
    if bulk.mode == BulkCall.Mode.AUDIO_PER_RECIPIENT:
        missing = [t.to for t in audience.targets if not t.audio_url]
        if missing:
            raise BulkCallError(f"{len(missing)} recipient(s) have no audio URL (e.g. {missing[0]}).")
    if not audience.targets:
        raise BulkCallError("Nobody to call: the audience is empty after exclusions.")
    size = max(1, bulk.batch_size or 100)
    with transaction.atomic():
        if not BulkCall.objects.filter(pk=bulk.pk, state=BulkCall.State.DRAFT).update(
                state=BulkCall.State.SENDING, launched_at=timezone.now()):
            raise BulkCallError("This bulk call was already launched.")
        batches = BulkCallBatch.objects.bulk_create(
            [BulkCallBatch(bulk_call=bulk, number=n + 1)
             for n in range((len(audience.targets) + size - 1) // size)])
        recipients = []
        for index, target in enumerate(audience.targets):
            recipients.append(BulkCallRecipient(
                bulk_call=bulk, batch=batches[index // size], to=target.to,
                contact_id=target.contact_id, audio_url=target.audio_url,
                variables=target.variables))
        BulkCallRecipient.objects.bulk_create(recipients, batch_size=1000)
        bulk.refresh_from_db()
        bulk.recipients_count = len(recipients)
        bulk.excluded_count = len(audience.excluded)
        bulk.estimated_cost = bulk_estimate(numbers=[t.to for t in audience.targets]).total
        bulk.save(update_fields=["recipients_count", "excluded_count", "estimated_cost", "updated_at"])
        if enqueue:
            ids = [b.pk for b in batches]
            transaction.on_commit(lambda: _enqueue(ids))
    return bulk


def _enqueue(batch_ids) -> None:
    from voice.tasks import send_bulk_batch

    batch_ids = list(batch_ids)
    BulkCallBatch.objects.filter(pk__in=batch_ids).update(enqueued_at=timezone.now())
    for batch_id in batch_ids:
        send_bulk_batch.delay(batch_id)


def bulk_call_cancel(bulk: BulkCall) -> int:
    """Stop a bulk call: pending batches are not sent (claimed ones finish)."""
    with transaction.atomic():
        count = BulkCallBatch.objects.filter(bulk_call=bulk, state=BulkCallBatch.State.PENDING).update(
            state=BulkCallBatch.State.FAILED, error="Cancelled.")
        BulkCall.objects.filter(pk=bulk.pk, state__in=[BulkCall.State.DRAFT, BulkCall.State.SENDING]).update(
            state=BulkCall.State.CANCELLED, finished_at=timezone.now())
    return count


# ----------------------------------------------------------------------------- claims
def batch_claim(batch_id: int) -> uuid.UUID | None:
    """Claim a pending batch for this worker; None when someone else has (or had) it."""
    token = uuid.uuid4()
    claimed = BulkCallBatch.objects.filter(pk=batch_id, state=BulkCallBatch.State.PENDING).update(
        state=BulkCallBatch.State.CLAIMED, claim_token=token, claimed_at=timezone.now(),
        claims=F("claims") + 1)
    return token if claimed else None


def batch_claim_next(*, bulk_call_id: int | None = None) -> tuple[int, uuid.UUID] | None:
    """Claim the next pending batch (of one bulk call or any). PostgreSQL: SKIP LOCKED."""
    qs = BulkCallBatch.objects.filter(state=BulkCallBatch.State.PENDING,
                                      bulk_call__state=BulkCall.State.SENDING)
    if bulk_call_id:
        qs = qs.filter(bulk_call_id=bulk_call_id)
    if connection.vendor == "postgresql":
        with transaction.atomic():
            batch = qs.select_for_update(skip_locked=True, of=("self",)).order_by("pk").first()
            if batch is None:
                return None
            token = batch_claim(batch.pk)
            return (batch.pk, token) if token else None
    for batch_id in qs.order_by("pk").values_list("pk", flat=True)[:20]:
        token = batch_claim(batch_id)
        if token:
            return batch_id, token
    return None


def _batch_body(batch: BulkCallBatch) -> dict:
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


def _owned(batch_id: int, token) -> BulkCallBatch:
    return BulkCallBatch.objects.filter(pk=batch_id, claim_token=token, state=BulkCallBatch.State.CLAIMED)


def batch_send(batch_id: int, *, token: uuid.UUID | None = None) -> str:
    """Claim (unless ``token`` says we hold it) and send one batch. Returns its new state."""
    from bics.errors import (
        BicsError,
        BicsOutcomeUnknown,
        BicsRateLimited,
        BicsServerError,
        BicsTransportError,
    )

    token = token or batch_claim(batch_id)
    if token is None:
        return "not-claimed"
    batch = BulkCallBatch.objects.select_related("bulk_call", "bulk_call__sound_file").get(pk=batch_id)
    if batch.bulk_call.state != BulkCall.State.SENDING:
        _owned(batch_id, token).update(state=BulkCallBatch.State.FAILED, error="The bulk call is not sending.")
        return BulkCallBatch.State.FAILED
    body = _batch_body(batch)
    if not body["payload"]:
        _owned(batch_id, token).update(state=BulkCallBatch.State.SENT, sent_at=timezone.now(), total=0)
        bulk_finish_if_done(batch.bulk_call_id)
        return BulkCallBatch.State.SENT
    try:
        resp = client().call("voice.bulk_calls.create", json=body)
    except BicsOutcomeUnknown as exc:
        _owned(batch_id, token).update(state=BulkCallBatch.State.UNKNOWN, error=str(exc)[:2000])
        return BulkCallBatch.State.UNKNOWN
    except (BicsRateLimited, BicsTransportError) as exc:
        # Not sent (the client raises these only when the request did not leave or was
        # refused before processing): give the batch back.
        _owned(batch_id, token).update(state=BulkCallBatch.State.PENDING, claim_token=None, error=str(exc)[:2000])
        return BulkCallBatch.State.PENDING
    except BicsServerError as exc:
        if exc.http_status == 503:  # noqa: PLR2004 - unavailable: not processed
            _owned(batch_id, token).update(state=BulkCallBatch.State.PENDING, claim_token=None, error=str(exc)[:2000])
            return BulkCallBatch.State.PENDING
        _owned(batch_id, token).update(state=BulkCallBatch.State.UNKNOWN, error=str(exc)[:2000])
        return BulkCallBatch.State.UNKNOWN
    except BicsError as exc:
        with transaction.atomic():
            if _owned(batch_id, token).update(state=BulkCallBatch.State.FAILED, error=str(exc)[:2000]):
                batch.recipients.update(state=RequestState.FAILED)
        bulk_finish_if_done(batch.bulk_call_id)
        return BulkCallBatch.State.FAILED
    raw = resp.raw or {}
    total = raw.get("total")
    total = int(total) if str(total).isdigit() else len(body["payload"])
    group_id = str(raw.get("group_id") or "")
    with transaction.atomic():
        if not _owned(batch_id, token).update(
                state=BulkCallBatch.State.SENT, sent_at=timezone.now(), group_id=group_id, total=total,
                api_message=(resp.message or "")[:255], raw_response=raw, error=""):
            # The sweeper took the batch over meanwhile; record what BICS said anyway.
            BulkCallBatch.objects.filter(pk=batch_id).update(
                state=BulkCallBatch.State.SENT, group_id=group_id, total=total, raw_response=raw)
        batch.recipients.filter(state=RequestState.DRAFT).update(state=RequestState.QUEUED)
        BulkCall.objects.filter(pk=batch.bulk_call_id).update(total=Coalesce(F("total"), 0) + total)
        if group_id:
            BulkCall.objects.filter(pk=batch.bulk_call_id, group_id="").update(group_id=group_id)
    bulk_finish_if_done(batch.bulk_call_id)
    return BulkCallBatch.State.SENT


OPEN_BATCH_STATES = (BulkCallBatch.State.PENDING, BulkCallBatch.State.CLAIMED, BulkCallBatch.State.UNKNOWN)


def bulk_finish_if_done(bulk_call_id: int) -> None:
    if BulkCallBatch.objects.filter(bulk_call_id=bulk_call_id, state__in=OPEN_BATCH_STATES).exists():
        return
    any_sent = BulkCallBatch.objects.filter(bulk_call_id=bulk_call_id, state=BulkCallBatch.State.SENT).exists()
    BulkCall.objects.filter(pk=bulk_call_id, state=BulkCall.State.SENDING).update(
        state=BulkCall.State.SENT if any_sent else BulkCall.State.FAILED, finished_at=timezone.now())


# ----------------------------------------------------------------------------- recovery
def _matches(item: dict, batch: BulkCallBatch) -> bool:
    """A Call Status item belongs to this bulk call unless it names another group/campaign."""
    group = item.get("group_id")
    if group and batch.group_id and str(group) != batch.group_id:
        return False
    name = item.get("name")
    return not (name and batch.bulk_call.name and name != batch.bulk_call.name)


def batch_reconcile(batch_id: int) -> str:
    """An ``unknown`` batch: ask Call Status per recipient (number + day of the claim).

    Recipients BICS knows are queued (never re-sent); the others are sent again: the batch
    goes back to pending when BICS knows none of them, else they move to a new batch.
    """
    from bics.errors import BicsError

    batch = BulkCallBatch.objects.select_related("bulk_call").get(pk=batch_id)
    if batch.state != BulkCallBatch.State.UNKNOWN:
        return batch.state
    claimed = batch.claimed_at or timezone.now()
    days = sorted({to_bics_date(claimed), to_bics_date(claimed + claim_timeout())})  # around midnight
    found, missing = [], []
    try:
        for recipient in batch.recipients.order_by("pk"):
            items = [i for day in days for i in call_status_lookup(mobile=recipient.to, date=day)
                     if _matches(i, batch)]
            (found if items else missing).append((recipient, items[0] if items else None))
    except BicsError as exc:
        log.warning("voice batch %s: reconcile postponed: %s", batch_id, exc)
        return batch.state
    with transaction.atomic():
        locked = BulkCallBatch.objects.select_for_update().get(pk=batch_id)
        if locked.state != BulkCallBatch.State.UNKNOWN:
            return locked.state
        for recipient, item in found:
            apply_call_data(recipient, item)
            recipient.state = RequestState.QUEUED
            recipient.save(update_fields=["state", "status", "call_id", "duration", "updated_at"])
        if not found:
            locked.state, locked.claim_token, locked.error = BulkCallBatch.State.PENDING, None, "Re-queued: unknown to BICS."
            locked.save(update_fields=["state", "claim_token", "error"])
            transaction.on_commit(lambda: _enqueue([batch_id]))
            return BulkCallBatch.State.PENDING
        locked.state, locked.total = BulkCallBatch.State.SENT, len(found)
        locked.error = f"Reconciled: {len(found)} found at BICS, {len(missing)} re-queued."
        locked.sent_at = locked.sent_at or timezone.now()
        locked.save(update_fields=["state", "total", "error", "sent_at"])
        if missing:
            number = (BulkCallBatch.objects.filter(bulk_call=locked.bulk_call_id)
                      .aggregate(m=Max("number"))["m"] or 0) + 1
            extra = BulkCallBatch.objects.create(bulk_call_id=locked.bulk_call_id, number=number)
            BulkCallRecipient.objects.filter(pk__in=[r.pk for r, _ in missing]).update(batch=extra)
            transaction.on_commit(lambda: _enqueue([extra.pk]))
    bulk_finish_if_done(batch.bulk_call_id)
    return BulkCallBatch.State.SENT


def bulk_sweep(*, now=None) -> dict:
    """The database sweeper (every minute): dead claims -> unknown -> reconciled; lost
    pending batches re-queued; unknown single calls reconciled."""
    from voice.models import Call
    from voice.services.calls import call_reconcile

    now = now or timezone.now()
    cutoff = now - claim_timeout()
    stale = BulkCallBatch.objects.filter(state=BulkCallBatch.State.CLAIMED, claimed_at__lt=cutoff).update(
        state=BulkCallBatch.State.UNKNOWN, error="The worker holding this batch vanished.")
    reconciled = {}
    # Give BICS time to list what it accepted before concluding it has not (a call missing from
    # Call Status only because it is too fresh would otherwise be placed twice).
    settled = now - timedelta(seconds=getattr(settings, "VOICE_RECONCILE_AFTER", 120))
    for batch_id in BulkCallBatch.objects.filter(state=BulkCallBatch.State.UNKNOWN,
                                                 claimed_at__lt=settled).values_list("pk", flat=True):
        reconciled[batch_id] = batch_reconcile(batch_id)
    # Pending batches whose task was lost (broker restart...): queued again, at most once per
    # claim timeout, so a long queue is not flooded with copies (a copy would be a no-op).
    lost = list(BulkCallBatch.objects.filter(
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=cutoff),
        state=BulkCallBatch.State.PENDING, bulk_call__state=BulkCall.State.SENDING,
        bulk_call__launched_at__lt=cutoff).values_list("pk", flat=True))
    if lost:
        _enqueue(lost)
    calls = 0
    for call in Call.objects.filter(state=RequestState.UNKNOWN, sent_at__lt=cutoff):
        try:
            call_reconcile(call)
            calls += 1
        except Exception as exc:  # noqa: BLE001 - one bad call must not stop the sweep
            log.warning("voice call %s: reconcile failed: %s", call.pk, exc)
    for bulk_id in BulkCall.objects.filter(state=BulkCall.State.SENDING).values_list("pk", flat=True):
        bulk_finish_if_done(bulk_id)
    return {"stale": stale, "reconciled": len(reconciled), "requeued": len(lost), "calls": calls}


# ----------------------------------------------------------------------------- progress
def bulk_progress(bulk: BulkCall) -> dict:
    from django.db.models import Count

    by_state = dict(bulk.recipients.values_list("state").annotate(n=Count("pk")).values_list("state", "n"))
    by_status = dict(bulk.recipients.exclude(status="").values_list("status").annotate(n=Count("pk"))
                     .values_list("status", "n"))
    batches = dict(bulk.batches.values_list("state").annotate(n=Count("pk")).values_list("state", "n"))
    return {"recipients": bulk.recipients_count, "by_state": by_state, "by_status": by_status,
            "batches": batches}


def bulk_refresh_statuses(bulk: BulkCall, *, limit: int = 500) -> int:
    """Ask Call Status about recipients without a final status (by call id, else by number and
    the day their batch went out). Webhooks (voice:message:out) usually get there first."""
    updated = 0
    pending = (bulk.recipients.filter(state=RequestState.QUEUED, status="")
               .select_related("batch").order_by("pk")[:limit])
    for recipient in pending:
        if recipient.call_id:
            items = call_status_lookup(id=recipient.call_id)
        else:
            day = (recipient.batch.sent_at or recipient.batch.claimed_at) if recipient.batch else None
            items = [i for i in call_status_lookup(mobile=recipient.to, date=day or timezone.now())
                     if not recipient.batch or _matches(i, recipient.batch)]
        if items and apply_call_data(recipient, items[0]):
            recipient.save(update_fields=["status", "call_id", "duration", "updated_at"])
            updated += 1
    return updated


def bulk_refresh_recent(*, hours: int = 24) -> int:
    """Statuses for the bulk calls of the last ``hours`` (the beat job; webhooks are faster)."""
    from bics.errors import BicsError

    since = timezone.now() - timedelta(hours=hours)
    updated = 0
    for bulk in BulkCall.objects.filter(launched_at__gte=since).exclude(state=BulkCall.State.DRAFT):
        try:
            updated += bulk_refresh_statuses(bulk)
        except BicsError as exc:
            log.warning("voice bulk %s: status refresh failed: %s", bulk.pk, exc)
    return updated
