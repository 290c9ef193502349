"""Retention and erasure: personal data kept only as long as the settings say, counts kept.

* ``retention_purge`` (beat, daily): message texts and numbers older than
  ``RETENTION_MESSAGE_DAYS``, DLR payloads older than ``RETENTION_DLR_PAYLOAD_DAYS``, webhook
  event payloads older than ``RETENTION_WEBHOOK_PAYLOAD_DAYS``, rejected import rows older than
  ``RETENTION_IMPORT_ROWS_DAYS``, and what remains of deleted contacts (messages, calls whose
  contact is gone) after ``RETENTION_DELETED_CONTACT_DAYS``. Rows stay; their personal fields
  are blanked or cut down, so campaign and delivery counts never change.
* ``contact_erase`` (erasure on request, admin action "Erase personal data"): the contact's
  personal data removed everywhere now, then the contact deleted.

A stored number is cut down, not masked (``cut_number``): it keeps its first four characters
(``+324…``), enough for per-country figures, and loses the rest for good. That differs on
purpose from the display mask of ``core.masking`` ('+32••••••456'), which hides a number
that is still stored whole and keeps the last digits so staff can recognise it.
Opt-outs (``Unsubscriber``, ``VoiceUnsubscriber``) are kept on purpose: erasing them would let
the next import message the person again (GDPR art. 17(3)/21: the objection is honoured).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Q, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone

from contacts.models import ContactImportRejection
from messaging.campaigns.models import DeliveryReport, Message, SmartLinkVisit
from messaging.webhooks.models import InboundMessage, WebhookEvent
from verify.models import OtpRequest
from voice.models import BulkCallRecipient, Call

log = logging.getLogger(__name__)
CUT = "…"  # marks a number cut down by retention or erasure
ERASED = "[erased]"


def _days(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def cut_number(field_name: str):
    """SQL expression: the first four characters of ``field_name`` followed by ``CUT``."""
    return Concat(Substr(field_name, 1, 4), Value(CUT), output_field=CharField())


@dataclass
class PurgeResult:
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, n: int) -> None:
        if n:
            self.counts[key] = self.counts.get(key, 0) + n

    def __str__(self) -> str:
        return ", ".join(f"{k}: {v}" for k, v in sorted(self.counts.items())) or "nothing to purge"


def _not_cut(prefix: str = "") -> Q:
    return ~Q(**{f"{prefix}number__endswith": CUT}) & ~Q(**{f"{prefix}number": ""})


def _purge_messages(before: datetime, result: PurgeResult, *, extra: Q | None = None, key="messages") -> None:
    qs = Message.objects.filter(created_at__lt=before).filter(_not_cut())
    if extra is not None:
        qs = qs.filter(extra)
    result.add(key, qs.update(number=cut_number("number"), text="", variables={}))


def _purge_reports(before: datetime, result: PurgeResult, *, extra: Q | None = None, key="delivery_reports") -> None:
    qs = DeliveryReport.objects.filter(received_at__lt=before).exclude(raw={}, mobile__endswith=CUT)
    if extra is not None:
        qs = qs.filter(extra)
    result.add(key, qs.update(raw={}, mobile=cut_number("mobile")))


def _purge_webhook_events(before: datetime, result: PurgeResult, *, chunk: int = 5000) -> None:
    """Events are stored in order of arrival and ``received_at`` has no index of its own (each
    callback's INSERT would write it): the last old event is found by pk, then the old ones are
    blanked in pk ranges, each its own short UPDATE, so the receiver's inserts are never held long."""
    last = _last_pk_before(WebhookEvent, "received_at", before)
    first = WebhookEvent.objects.order_by("pk").values_list("pk", flat=True).first()
    if last is None or first is None:
        return
    for start in range(first, last + 1, chunk):
        old = WebhookEvent.objects.filter(pk__gte=start, pk__lte=min(start + chunk - 1, last), received_at__lt=before)
        result.add("webhook_events", old.exclude(payload={}, raw={}).update(payload={}, raw={}))


def _last_pk_before(model, time_field: str, before: datetime) -> int | None:
    """The greatest pk whose ``time_field`` is before ``before``, for rows whose time grows with
    their pk: a binary search on the primary key (a few dozen indexed lookups, no scan)."""
    pks = model.objects.order_by("pk").values_list("pk", flat=True)
    lo, hi = pks.first(), pks.last()
    if lo is None or getattr(model.objects.only(time_field).get(pk=lo), time_field) >= before:
        return None
    while lo < hi:  # invariant: the row at ``lo`` is old; no row above ``hi`` is
        mid = (lo + hi + 1) // 2
        row = pks.filter(pk__gte=mid).values_list("pk", time_field).first()
        if row is not None and row[0] <= hi and row[1] < before:
            lo = row[0]
        else:
            hi = mid - 1
    return lo


def retention_purge(*, now: datetime | None = None) -> PurgeResult:
    """Blank or cut down personal data past each retention period (idempotent, counts kept)."""
    now = now or timezone.now()
    result = PurgeResult()
    _purge_messages(now - timedelta(days=_days("RETENTION_MESSAGE_DAYS", 365)), result)
    _purge_reports(now - timedelta(days=_days("RETENTION_DLR_PAYLOAD_DAYS", 90)), result)
    payloads_before = now - timedelta(days=_days("RETENTION_WEBHOOK_PAYLOAD_DAYS", 30))
    _purge_webhook_events(payloads_before, result)
    # The smart-link visitor's number is kept as long as webhook payloads.
    visits = SmartLinkVisit.objects.filter(created_at__lt=payloads_before).exclude(mobile="")
    result.add("smart_link_visits", visits.exclude(mobile__endswith=CUT).update(mobile=cut_number("mobile")))
    rows_before = now - timedelta(days=_days("RETENTION_IMPORT_ROWS_DAYS", 30))
    rows = ContactImportRejection.objects.filter(contact_import__created_at__lt=rows_before).exclude(raw="")
    result.add("import_rows", rows.update(raw=""))
    # Deleted contacts: their messages and calls lost the link (SET_NULL) but kept the number.
    gone = now - timedelta(days=_days("RETENTION_DELETED_CONTACT_DAYS", 30))
    _purge_messages(gone, result, extra=Q(contact__isnull=True, campaign__isnull=False), key="deleted_contacts")
    calls = Call.objects.filter(created_at__lt=gone, contact__isnull=True).exclude(to__endswith=CUT).exclude(to="")
    result.add("deleted_contacts", calls.update(to=cut_number("to")))
    log.info("retention purge: %s", result)
    return result


@dataclass
class ErasureResult:
    contact_id: int
    counts: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        done = ", ".join(f"{k}: {v}" for k, v in sorted(self.counts.items()) if v)
        return f"contact {self.contact_id} erased ({done or 'no other records'})"


@transaction.atomic
def contact_erase(*, contact) -> ErasureResult:
    """Erasure on request: the contact's personal data removed everywhere, then the contact.

    Message and call rows stay (campaign counts, costs and delivery rates do not change) with
    the number cut down and the text blanked; DLR payloads, import rows, OTP requests, webhook
    events and inbound messages that carry the number are blanked."""
    phone = contact.phone
    digits = phone.lstrip("+")
    result = ErasureResult(contact_id=contact.pk)
    c = result.counts
    messages = Message.objects.filter(Q(contact=contact) | Q(number=phone))
    message_ids = list(messages.values_list("pk", flat=True))
    c["messages"] = Message.objects.filter(pk__in=message_ids).update(number=cut_number("number"), text="", variables={})
    c["delivery_reports"] = DeliveryReport.objects.filter(
        Q(message_id__in=message_ids) | Q(mobile__in=[phone, digits])).update(raw={}, mobile=cut_number("mobile"))
    c["calls"] = Call.objects.filter(Q(contact=contact) | Q(to=phone)).update(to=cut_number("to"))
    c["calls"] += Call.objects.filter(from_number=phone).update(from_number=cut_number("from_number"))
    c["bulk_call_recipients"] = BulkCallRecipient.objects.filter(Q(contact=contact) | Q(to=phone)).update(
        to=cut_number("to"), variables={})
    c["otp_requests"] = OtpRequest.objects.filter(number=phone).update(
        number=cut_number("number"), number_masked_at=timezone.now())
    c["import_rows"] = ContactImportRejection.objects.filter(Q(raw__contains=phone) | Q(raw__contains=digits)).update(
        raw=ERASED)
    events = WebhookEvent.objects.values_list("pk", "payload", "raw").iterator(chunk_size=2000)
    ids = [pk for pk, payload, raw in events if digits in str(payload) or digits in str(raw)]
    c["webhook_events"] = WebhookEvent.objects.filter(pk__in=ids).update(payload={}, raw={})
    mine = Q(from_number__in=[phone, digits]) | Q(contact=contact)
    c["inbound_messages"] = InboundMessage.objects.filter(mine).update(text=ERASED, from_number=cut_number("from_number"))
    c["smart_link_visits"] = SmartLinkVisit.objects.filter(mobile__in=[phone, digits]).update(mobile=cut_number("mobile"))
    contact.delete()  # identifiers and tag links go with it (CASCADE)
    log.info("erasure: %s", result)
    return result
