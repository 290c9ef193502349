"""Bulk calls: the audience, the launch, cancel, progress and per-recipient statuses.

A launch resolves the audience once (valid numbers, no duplicates, no voice unsubscribers),
writes the recipients and their batches, and queues one task per batch. Sending, the
sweeper and reconciliation are the batch engine's (``voice.services.bulk_batches``, a kind
of ``core.batches``).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from core.phones import PhoneError, normalise_phone
from core.tabular import TableRefused, header_key, number_column, open_upload
from voice.models import (
    BULK_CALL_STATES,
    BulkCall,
    BulkCallBatch,
    BulkCallRecipient,
    RequestState,
    VoiceUnsubscriber,
)
from voice.services.bulk_batches import enqueue as enqueue_batches
from voice.services.bulk_batches import matches
from voice.services.calls import apply_call_data, call_status_lookup
from voice.services.pricing import Estimate, bulk_estimate, estimate_counts, region_of

log = logging.getLogger(__name__)

AUDIO_COLUMNS = ("audio", "audio_url")


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
    """The uploaded list's rows; the columns other than the number and audio are IVR
    variables, under their header's own spelling."""
    if not bulk.upload:
        raise BulkCallError("Upload a list of numbers.")
    try:
        with bulk.upload.open("rb") as upload, open_upload(upload) as table:
            header = [cell.strip() for cell in table.header]
            number_at = number_column(header)
            keys = [header_key(cell) for cell in header]
            audio_at = next((keys.index(c) for c in AUDIO_COLUMNS if c in keys), None)
            rows = []
            for _line, cells in table.rows():
                values = dict(enumerate(cell.strip() for cell in cells))
                variables = {name: values.get(i, "") for i, name in enumerate(header)
                             if name and i not in (number_at, audio_at)}
                rows.append(Target(to=values.get(number_at, ""),
                                   audio_url=values.get(audio_at, "") if audio_at is not None else "",
                                   variables={**bulk.variables, **variables}))
    except TableRefused as exc:
        raise BulkCallError(str(exc)) from None
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
        try:
            number = normalise_phone(target.to)[0]
        except PhoneError:
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


@dataclass
class AudienceSummary:
    reachable: int = 0
    excluded: int = 0
    estimate: Estimate = field(default_factory=Estimate)


def bulk_audience_summary(bulk: BulkCall) -> AudienceSummary:
    """Who a draft bulk call would reach and what it would cost, counted in the database for
    segments and tags (one grouped query, no rows loaded); uploaded lists are read."""
    from contacts.models import Contact

    if bulk.audience_kind == BulkCall.AudienceKind.UPLOAD:
        audience = bulk_audience(bulk)
        numbers = [t.to for t in audience.targets]
        return AudienceSummary(len(numbers), len(audience.excluded), bulk_estimate(numbers=numbers))
    contacts = Contact.objects.filter(pk__in=_contacts(bulk).values("pk"))
    opted = Exists(VoiceUnsubscriber.objects.filter(number=OuterRef("phone")))
    excluded = contacts.filter(opted).count()
    by_country = Counter(dict(contacts.exclude(opted).order_by().values_list("country").annotate(n=Count("pk"))))
    if by_country.get(""):  # contacts saved without their region: derive it from the number
        del by_country[""]
        by_country.update(region_of(phone) for phone in contacts.exclude(opted).filter(country="")
                          .values_list("phone", flat=True).iterator(chunk_size=2000))
    return AudienceSummary(sum(by_country.values()), excluded, estimate_counts(by_country))


def bulk_check(bulk: BulkCall) -> None:
    if not bulk.bridge:
        raise BulkCallError("A bridge number is required.")
    mode = bulk.mode
    if mode == BulkCall.Mode.SAME_AUDIO and not (bulk.audio_url or bulk.sound_file_id):
        raise BulkCallError("The same-audio mode needs an audio URL or a sound file.")
    if mode == BulkCall.Mode.FLOW_VARIABLES and not bulk.flow_id:
        raise BulkCallError("The flow-with-variables mode needs an IVR flow id.")
    if mode == BulkCall.Mode.FLOW_VARIABLES and bulk.flow_id and not str(bulk.flow_id).isdigit():
        raise BulkCallError("The IVR flow id is a number for bulk calls.")


# ----------------------------------------------------------------------------- launch
def bulk_call_launch(bulk: BulkCall, *, enqueue: bool = True) -> BulkCall:
    """Resolve the audience once, write recipients and batches, and queue the batches.

    Only a draft launches (a conditional update, so two clicks launch once).
    """
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
        if not BULK_CALL_STATES.move(BulkCall.objects, bulk.pk, BulkCall.State.SENDING, launched_at=timezone.now()):
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
            transaction.on_commit(lambda: enqueue_batches(ids))
    return bulk


def bulk_call_cancel(bulk: BulkCall) -> int:
    """Stop a bulk call: pending batches are not sent (claimed ones finish)."""
    with transaction.atomic():
        count = BulkCallBatch.objects.filter(bulk_call=bulk, state=BulkCallBatch.State.PENDING).update(
            state=BulkCallBatch.State.CANCELLED, error="Cancelled.")
        BULK_CALL_STATES.move(BulkCall.objects, bulk.pk, BulkCall.State.CANCELLED, finished_at=timezone.now())
    return count


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
                     if not recipient.batch or matches(i, recipient.batch)]
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
