"""Retention and erasure: personal data kept only as long as the settings say, counts kept.

* ``retention_purge`` (beat, daily): message texts and numbers older than
  ``RETENTION_MESSAGE_DAYS``, DLR payloads older than ``RETENTION_DLR_PAYLOAD_DAYS``, webhook
  event payloads older than ``RETENTION_WEBHOOK_PAYLOAD_DAYS``, rejected import rows older than
  ``RETENTION_IMPORT_ROWS_DAYS``, and what remains of deleted contacts (messages, calls whose
  contact is gone) after ``RETENTION_DELETED_CONTACT_DAYS``. Rows stay; their personal fields
  are blanked or masked, so campaign and delivery counts never change.
* ``contact_erase`` (erasure on request, admin action "Erase personal data"): the contact's
  personal data removed everywhere now, then the contact deleted.

A masked number keeps its first four characters (``+324…``), enough for per-country figures.
Opt-outs (``Unsubscriber``, ``VoiceUnsubscriber``) are kept on purpose: erasing them would let
the next import message the person again (GDPR art. 17(3)/21: the objection is honoured).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Q, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone

log = logging.getLogger(__name__)
MASK = "…"
ERASED = "[erased]"


def _days(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def masked(field_name: str):
    """SQL expression: the first four characters of ``field_name`` followed by the mask."""
    return Concat(Substr(field_name, 1, 4), Value(MASK), output_field=CharField())


def mask_number(number: str) -> str:
    return (number or "")[:4] + MASK if number else ""


def _model(label: str):
    try:
        return apps.get_model(label)
    except LookupError:  # an app part that has not landed (e.g. webhooks) is skipped
        return None


def _fields(model) -> set[str]:
    return {f.name for f in model._meta.get_fields()}


@dataclass
class PurgeResult:
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, n: int) -> None:
        if n:
            self.counts[key] = self.counts.get(key, 0) + n

    def __str__(self) -> str:
        return ", ".join(f"{k}: {v}" for k, v in sorted(self.counts.items())) or "nothing to purge"


def _not_masked(prefix: str = "") -> Q:
    return ~Q(**{f"{prefix}number__endswith": MASK}) & ~Q(**{f"{prefix}number": ""})


def _purge_messages(before: datetime, result: PurgeResult, *, extra: Q | None = None, key="messages") -> None:
    from messaging.campaigns.models import Message

    qs = Message.objects.filter(created_at__lt=before).filter(_not_masked())
    if extra is not None:
        qs = qs.filter(extra)
    result.add(key, qs.update(number=masked("number"), text="", variables={}))


def _purge_reports(before: datetime, result: PurgeResult, *, extra: Q | None = None, key="delivery_reports") -> None:
    from messaging.campaigns.models import DeliveryReport

    qs = DeliveryReport.objects.filter(received_at__lt=before).exclude(raw={}, mobile__endswith=MASK)
    if extra is not None:
        qs = qs.filter(extra)
    result.add(key, qs.update(raw={}, mobile=masked("mobile")))


def _purge_webhook_events(before: datetime, result: PurgeResult) -> None:
    model = _model("webhooks.WebhookEvent")
    if model is None:
        return
    names = _fields(model)
    stamp = next((n for n in ("received_at", "created_at") if n in names), None)
    payloads = {n: {} for n in ("payload", "raw", "body", "headers") if n in names}
    if not stamp or not payloads:
        return
    qs = model.objects.filter(**{f"{stamp}__lt": before})
    first = next(iter(payloads))
    qs = qs.exclude(**{first: {}}) if model._meta.get_field(first).get_internal_type() == "JSONField" else qs
    values = {n: ({} if model._meta.get_field(n).get_internal_type() == "JSONField" else "") for n in payloads}
    result.add("webhook_events", qs.update(**values))


def retention_purge(*, now: datetime | None = None) -> PurgeResult:
    """Blank or mask personal data past each retention period (idempotent, counts kept)."""
    now = now or timezone.now()
    result = PurgeResult()
    _purge_messages(now - timedelta(days=_days("RETENTION_MESSAGE_DAYS", 365)), result)
    _purge_reports(now - timedelta(days=_days("RETENTION_DLR_PAYLOAD_DAYS", 90)), result)
    _purge_webhook_events(now - timedelta(days=_days("RETENTION_WEBHOOK_PAYLOAD_DAYS", 30)), result)
    visit = _model("campaigns.SmartLinkVisit")
    if visit is not None:  # the visitor's number, kept as long as webhook payloads
        before = now - timedelta(days=_days("RETENTION_WEBHOOK_PAYLOAD_DAYS", 30))
        result.add("smart_link_visits", visit.objects.filter(created_at__lt=before).exclude(mobile="")
                   .exclude(mobile__endswith=MASK).update(mobile=masked("mobile")))
    rejection = _model("contacts.ContactImportRejection")
    if rejection is not None and "contact_import" in _fields(rejection):
        before = now - timedelta(days=_days("RETENTION_IMPORT_ROWS_DAYS", 30))
        result.add("import_rows", rejection.objects.filter(contact_import__created_at__lt=before)
                   .exclude(raw="").update(raw=""))
    # Deleted contacts: their messages and calls lost the link (SET_NULL) but kept the number.
    gone = now - timedelta(days=_days("RETENTION_DELETED_CONTACT_DAYS", 30))
    _purge_messages(gone, result, extra=Q(contact__isnull=True, campaign__isnull=False), key="deleted_contacts")
    call = _model("voice.Call")
    if call is not None and {"contact", "to", "created_at"} <= _fields(call):
        result.add("deleted_contacts", call.objects.filter(created_at__lt=gone, contact__isnull=True)
                   .exclude(to__endswith=MASK).exclude(to="").update(to=masked("to")))
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
    the number masked and the text blanked; DLR payloads, import rows, OTP requests, webhook
    events and inbound messages that carry the number are blanked."""
    from messaging.campaigns.models import DeliveryReport, Message

    phone = contact.phone
    digits = phone.lstrip("+")
    result = ErasureResult(contact_id=contact.pk)
    c = result.counts
    messages = Message.objects.filter(Q(contact=contact) | Q(number=phone))
    message_ids = list(messages.values_list("pk", flat=True))
    c["messages"] = Message.objects.filter(pk__in=message_ids).update(number=masked("number"), text="", variables={})
    c["delivery_reports"] = DeliveryReport.objects.filter(
        Q(message_id__in=message_ids) | Q(mobile__in=[phone, digits])).update(raw={}, mobile=masked("mobile"))
    call = _model("voice.Call")
    if call is not None:
        c["calls"] = call.objects.filter(Q(contact=contact) | Q(to=phone)).update(to=masked("to"))
        if "from_number" in _fields(call):
            c["calls"] += call.objects.filter(from_number=phone).update(from_number=masked("from_number"))
    recipient = _model("voice.BulkCallRecipient")
    if recipient is not None and "to" in _fields(recipient):
        c["bulk_call_recipients"] = recipient.objects.filter(Q(contact=contact) | Q(to=phone)).update(
            to=masked("to"), **({"variables": {}} if "variables" in _fields(recipient) else {}))
    otp = _model("verify.OtpRequest")
    if otp is not None:
        extra = {"number_masked_at": timezone.now()} if "number_masked_at" in _fields(otp) else {}
        c["otp_requests"] = otp.objects.filter(number=phone).update(number=masked("number"), **extra)
    rejection = _model("contacts.ContactImportRejection")
    if rejection is not None:
        c["import_rows"] = rejection.objects.filter(Q(raw__contains=phone) | Q(raw__contains=digits)).update(
            raw=ERASED)
    event = _model("webhooks.WebhookEvent")
    if event is not None and "payload" in _fields(event):
        blank = {n: {} for n in ("payload", "raw") if n in _fields(event)}
        ids = [pk for pk, payload, raw in event.objects.values_list("pk", "payload", "raw").iterator(chunk_size=2000)
               if digits in str(payload) or digits in str(raw)]
        c["webhook_events"] = event.objects.filter(pk__in=ids).update(**blank)
    inbound = _model("webhooks.InboundMessage")
    if inbound is not None and {"from_number", "text"} <= _fields(inbound):
        mine = Q(from_number__in=[phone, digits]) | (Q(contact=contact) if "contact" in _fields(inbound) else Q())
        c["inbound_messages"] = inbound.objects.filter(mine).update(text=ERASED,
                                                                   from_number=masked("from_number"))
    visit = _model("campaigns.SmartLinkVisit")
    if visit is not None:
        c["smart_link_visits"] = visit.objects.filter(mobile__in=[phone, digits]).update(mobile=masked("mobile"))
    contact.delete()  # identifiers and tag links go with it (CASCADE)
    log.info("erasure: %s", result)
    return result
