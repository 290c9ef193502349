"""The sending engine: claims, sends, records, sweeps, reconciles, advances campaigns.

Life of a ``SendBatch`` (one request to BICS)::

    pending --claim--> claimed --BICS answered--> sent
                          |  \\--BICS refused (4xx)--> failed
                          |   \\--answer lost (timeout / 5xx after sending)--> unknown
                          \\--worker vanished (claimed_at too old: sweeper)--> unknown
    unknown --reconcile (DLR pull by cid; WhatsApp/Viber by number + time window)-->
        sent (BICS has them; never resent) | pending (BICS has none, after a grace period)
        | sent + a new batch for the numbers BICS does not know

A claim is one conditional UPDATE (``pending`` -> ``claimed`` with a fresh token); the
dispatcher picks batches with ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL. Only the
token holder records the outcome. The broker's redelivery is not the recovery path: the
sweeper (``batches_sweep``, beat every minute) is. A task that runs twice finds the batch no
longer pending and does nothing.

The dispatcher that decides what a campaign sends next is ``dispatch.py``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from core.bics_time import parse_bics_time
from messaging.campaigns import dlr_codes
from messaging.campaigns import selectors as sel
from messaging.campaigns.models import Campaign, DeliveryReport, Message, MessageStatus, SendBatch
from messaging.campaigns.services import dlr as dlr_service

log = logging.getLogger(__name__)
B = SendBatch.State
WORKER = f"{socket.gethostname()}:{os.getpid()}"


def claim_timeout() -> timedelta:
    return timedelta(seconds=int(sel.setting("CAMPAIGN_CLAIM_TIMEOUT", 600)))


def reconcile_grace() -> timedelta:
    """How long after a lost answer BICS is given before 'not found' means 'not sent'."""
    return timedelta(seconds=float(sel.setting("CAMPAIGN_RECONCILE_GRACE", 60)))


def concurrency() -> int:
    return max(1, int(sel.setting("CAMPAIGN_CONCURRENCY", 8)))


def channel_window() -> timedelta:
    return timedelta(seconds=int(sel.setting("CAMPAIGN_CHANNEL_RECONCILE_WINDOW", 600)))


def client():
    from core.bics import get_client

    return get_client()


# --------------------------------------------------------------------------- claims
def batch_claim(batch_id: int) -> uuid.UUID | None:
    """Claim a pending batch; None when someone else has (or had) it."""
    token = uuid.uuid4()
    done = SendBatch.objects.filter(pk=batch_id, state=B.PENDING).update(
        state=B.CLAIMED, claim_token=token, claimed_at=timezone.now(), claimed_by=f"{WORKER}:{threading.get_ident()}"[:200],
        attempts=F("attempts") + 1)
    return token if done else None


def _owned(batch_id: int, token):
    return SendBatch.objects.filter(pk=batch_id, claim_token=token, state=B.CLAIMED)


def claim_next(*, campaign_id: int, sample: bool, limit: int) -> list[tuple[int, uuid.UUID]]:
    """Claim up to ``limit`` pending batches of a campaign, in order, in one UPDATE (they share
    one claim token; each batch still only moves if it was pending)."""
    qs = SendBatch.objects.filter(campaign_id=campaign_id, state=B.PENDING, is_sample=sample).order_by("number", "pk")
    token = uuid.uuid4()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            ids = list(qs.select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit])
        else:
            ids = list(qs.values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        SendBatch.objects.filter(pk__in=ids, state=B.PENDING).update(
            state=B.CLAIMED, claim_token=token, claimed_at=timezone.now(),
            claimed_by=f"{WORKER}:{threading.get_ident()}"[:200], attempts=F("attempts") + 1)
        claimed = set(SendBatch.objects.filter(pk__in=ids, claim_token=token).values_list("pk", flat=True))
    return [(batch_id, token) for batch_id in ids if batch_id in claimed]


_usability: dict[tuple, tuple[float, list[str]]] = {}


def _usability_problems(campaign: Campaign) -> list[str]:
    """The send-time usability check, cached per campaign for a second (a batch of one per
    recipient would otherwise check it for every message)."""
    from messaging.campaigns.services.campaigns import usability_problems

    template = campaign.template
    key = (campaign.pk, template.pk, template.approval_state, template.provider_status, template.version)
    hit = _usability.get(key)
    if hit and time.monotonic() - hit[0] < 1.0:
        return hit[1]
    problems = usability_problems(campaign)
    if len(_usability) > 1000:
        _usability.clear()
    _usability[key] = (time.monotonic(), problems)
    return problems


# --------------------------------------------------------------------------- one request
@dataclass
class Prepared:
    batch_id: int
    token: uuid.UUID
    channel: str
    route: str  # "sms" | "sms_template" | "whatsapp_template" | "whatsapp" | "viber_template"
    kwargs: dict
    messages: dict[str, int]  # number -> message id
    campaign_id: int | None = None


@dataclass
class Outcome:
    kind: str  # "ok" | "unknown" | "retry" | "failed"
    result: object = None
    error: str = ""
    started: datetime = field(default_factory=timezone.now)


BATCH_RELATED = ("campaign", "campaign__template", "campaign__sender", "campaign__template__sender")
MESSAGE_FIELDS = ("pk", "number", "text", "variables", "custom_id")


def batch_prepare(batch_id: int, token: uuid.UUID, *, batch: SendBatch | None = None,
                  messages: list | None = None) -> Prepared | str:
    """Everything one request needs, read from the database (or a state name when the batch
    must not go out now: it is then given back or closed). ``batch``/``messages`` may come
    preloaded (``batches_send`` reads a whole step in two queries)."""
    if batch is None:
        batch = SendBatch.objects.select_related(*BATCH_RELATED).get(pk=batch_id)
    campaign = batch.campaign
    if messages is None:
        messages = list(Message.objects.filter(batch_id=batch_id, status=MessageStatus.QUEUED)
                        .values_list(*MESSAGE_FIELDS))
    if not messages:
        _owned(batch_id, token).update(state=B.SENT, sent_at=timezone.now())
        return B.SENT
    if campaign is not None:
        allowed = (Campaign.State.SAMPLING, Campaign.State.SENDING) if batch.is_sample else (Campaign.State.SENDING,)
        if campaign.state not in allowed:
            _owned(batch_id, token).update(state=B.PENDING, claim_token=None)
            return "held"
        from messaging.campaigns.services.campaigns import campaign_pause

        problems = _usability_problems(campaign)
        if problems:  # checked again at send time
            _owned(batch_id, token).update(state=B.PENDING, claim_token=None, error=" ".join(problems)[:2000])
            campaign_pause(campaign=campaign, reason="Refused at send time: " + " ".join(problems))
            return "refused"
        messages = _drop_opted_out(campaign, messages)
        if not messages:
            _owned(batch_id, token).update(state=B.SENT, sent_at=timezone.now())
            return B.SENT
        return _prepare_campaign(batch, campaign, token, messages)
    return _prepare_one_off(batch, token, messages[0])


def _drop_opted_out(campaign: Campaign, messages: list) -> list:
    """Opt-outs recorded since launch (admin, import, pull, webhook) are honoured at send time:
    their queued messages fail as "opted out" and leave the batch."""
    from contacts.models import Contact
    from messaging.catalogue.models import Unsubscriber

    numbers = [row[1] for row in messages]
    opted = set(Contact.objects.filter(phone__in=numbers).filter(sel.unsubscribed_q(campaign))
                .values_list("phone", flat=True))
    opted |= set(Unsubscriber.objects.filter(channel=campaign.channel, type=Unsubscriber.Type.ALL,
                                             number__in=numbers).values_list("number", flat=True))
    if not opted:
        return messages
    for pk, number, *_ in messages:
        if number in opted:
            dlr_service.message_apply_status(message=pk, status=MessageStatus.FAILED, code="",
                                             description="Opted out before sending")
    return [row for row in messages if row[1] not in opted]


def _prepare_campaign(batch: SendBatch, campaign: Campaign, token, messages) -> Prepared:
    template = campaign.template
    numbers = {number: pk for pk, number, *_ in messages}
    if campaign.channel == "sms":
        sender = campaign.sender or template.sender
        text = batch.text or messages[0][2]
        kwargs = {"to": list(numbers), "message": text, "sender": sender.name, "service": sender.service,
                  "custom": batch.custom, "type": template.message_type or "N"}
        return Prepared(batch.pk, token, "sms", "sms", kwargs, numbers, campaign.pk)
    pk, number, _text, variables, custom_id = messages[0]
    ref = {"alias": template.alias} if template.alias else {"id": template.bics_id}
    data = {k: v for k, v in (variables or {}).items() if not k.startswith("_")}
    if campaign.channel == "viber":
        kwargs = {"to": number, "data": data, "meta": {"custom": custom_id}, **ref}
        return Prepared(batch.pk, token, "viber", "viber_template", kwargs, numbers, campaign.pk)
    kwargs = {"to": number, "data": data, **ref}
    return Prepared(batch.pk, token, "whatsapp", "whatsapp_template", kwargs, numbers, campaign.pk)


def _prepare_one_off(batch: SendBatch, token, message_row) -> Prepared:
    from messaging.catalogue.models import Sender, Template

    pk, number, text, variables, custom_id = message_row
    variables = dict(variables or {})
    template = Template.objects.filter(pk=variables.pop("_template", None)).first()
    sender = Sender.objects.filter(pk=variables.pop("_sender", None)).first()
    options = variables.pop("_options", {}) or {}
    variables.pop("_label", None)
    message = Message.objects.get(pk=pk)
    numbers = {number: pk}
    channel = message.channel
    if template is not None:
        ref = {"alias": template.alias} if template.alias else {"id": template.bics_id}
        if channel == "sms":
            return Prepared(batch.pk, token, "sms", "sms_template",
                            {"to": number, "data": variables, "meta": {"custom": custom_id}, **ref}, numbers)
        if channel == "viber":
            return Prepared(batch.pk, token, "viber", "viber_template",
                            {"to": number, "data": variables, "meta": {"custom": custom_id}, **ref}, numbers)
        return Prepared(batch.pk, token, "whatsapp", "whatsapp_template",
                        {"to": number, "data": variables, **ref}, numbers)
    sender = sender or Sender.objects.filter(status=Sender.Status.APPROVED).first()
    kwargs = {"to": [number], "message": text, "sender": sender.name if sender else "",
              "service": sender.service if sender else "ENT", "custom": custom_id,
              "type": options.get("type") or "A"}
    for key in ("flash", "max_units", "port", "time"):
        if options.get(key) not in (None, ""):
            kwargs[key] = options[key]
    return Prepared(batch.pk, token, "sms", "sms", kwargs, numbers)


def batch_call(prepared: Prepared) -> Outcome:
    """The HTTP request (no database access: safe in a thread pool)."""
    from bics import sms, viber, whatsapp
    from bics.errors import (
        BicsError,
        BicsOutcomeUnknown,
        BicsRateLimited,
        BicsServerError,
        BicsTransportError,
    )

    started = timezone.now()
    funcs = {"sms": sms.send_message, "sms_template": sms.send_template,
             "viber_template": viber.send_template, "whatsapp_template": whatsapp.send_template,
             "whatsapp": whatsapp.send_message}
    try:
        result = funcs[prepared.route](client(), **prepared.kwargs)
    except BicsOutcomeUnknown as exc:
        return Outcome("unknown", error=str(exc), started=started)
    except (BicsRateLimited, BicsTransportError) as exc:
        return Outcome("retry", error=str(exc), started=started)
    except BicsServerError as exc:
        if exc.http_status == 503:  # noqa: PLR2004 - unavailable: not processed
            return Outcome("retry", error=str(exc), started=started)
        return Outcome("unknown", error=str(exc), started=started)
    except BicsError as exc:
        return Outcome("failed", error=str(exc), started=started)
    return Outcome("ok", result=result, started=started)


def _norm(number) -> str:
    text = str(number or "").strip()
    return text if not text or text.startswith("+") else "+" + text


def batch_record(prepared: Prepared, outcome: Outcome, *, finish: bool = True) -> str:
    """Write the outcome (only while we hold the claim; a late answer still records ids)."""
    batch_id, token = prepared.batch_id, prepared.token
    now = timezone.now()
    if outcome.kind == "retry":
        _owned(batch_id, token).update(state=B.PENDING, claim_token=None, error=outcome.error[:2000])
        return B.PENDING
    if outcome.kind == "unknown":
        with transaction.atomic():
            if _owned(batch_id, token).update(state=B.UNKNOWN, error=outcome.error[:2000]):
                Message.objects.filter(batch_id=batch_id, status=MessageStatus.QUEUED).update(
                    status=MessageStatus.UNKNOWN, status_at=now)
        return B.UNKNOWN
    if outcome.kind == "failed":
        with transaction.atomic():
            if _owned(batch_id, token).update(state=B.FAILED, error=outcome.error[:2000]):
                Message.objects.filter(batch_id=batch_id, status=MessageStatus.QUEUED).update(
                    status=MessageStatus.FAILED, error_description=outcome.error[:255], status_at=now)
        if finish:
            _after(prepared)
        return B.FAILED
    result = outcome.result
    group_id = str(getattr(result, "group_id", "") or "")
    items = [i for i in (getattr(result, "items", None) or []) if isinstance(i, dict)]
    with transaction.atomic():
        owned = _owned(batch_id, token).update(state=B.SENT, sent_at=now, group_id=group_id[:64], error="")
        if not owned:  # the sweeper took it over meanwhile: BICS answered, so it is sent
            SendBatch.objects.filter(pk=batch_id).exclude(state=B.SENT).update(
                state=B.SENT, sent_at=now, group_id=group_id[:64])
        _record_ids(prepared.messages, items, group_id)
        Message.objects.filter(batch_id=batch_id, status__in=[MessageStatus.QUEUED, MessageStatus.UNKNOWN]).update(
            status=MessageStatus.SUBMITTED, submitted_at=now, status_at=now)
    if finish:
        _after(prepared)
    return B.SENT


def _record_ids(messages: dict[str, int], items: list[dict], group_id: str) -> None:
    """Per-recipient ids from the send answer, matched by number (one bulk UPDATE)."""
    updates = []
    for index, item in enumerate(items):
        number = _norm(item.get("mobile") or item.get("to"))
        message_id = messages.get(number)
        if message_id is None and len(messages) == len(items):
            message_id = list(messages.values())[index]
        if message_id is None or item.get("id") in (None, ""):
            continue
        updates.append((str(item["id"])[:100], group_id[:64], message_id))
    if updates:
        # one prepared statement for the lot (bulk_update's CASE WHEN costs seconds per 1000 rows)
        table = Message._meta.db_table
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {table} SET bics_message_id = %s, group_id = %s WHERE id = %s",  # noqa: S608
                               updates)
    elif group_id:
        Message.objects.filter(pk__in=list(messages.values())).update(group_id=group_id[:64])


def _after(prepared: Prepared) -> None:
    if prepared.campaign_id:
        from messaging.campaigns.services.campaigns import campaign_finish_if_done

        campaign_finish_if_done(prepared.campaign_id)


def batch_send(batch_id: int, *, token: uuid.UUID | None = None) -> str:
    """Claim (unless ``token`` says we hold it), send and record one batch. Returns its state."""
    if token is not None and not _owned(batch_id, token).exists():
        return "not-claimed"  # a redelivered task, or the sweeper took the claim over
    token = token or batch_claim(batch_id)
    if token is None:
        return "not-claimed"
    prepared = batch_prepare(batch_id, token)
    if isinstance(prepared, str):
        return prepared
    return batch_record(prepared, batch_call(prepared))


def batches_send(claims: list[tuple[int, uuid.UUID]], *, workers: int | None = None,
                 pool: ThreadPoolExecutor | None = None) -> dict[str, int]:
    """Send claimed batches: preparation and recording here, the HTTP requests in a bounded
    thread pool (the database is touched by this thread only)."""
    counts: dict[str, int] = {}
    prepared = []
    ids = [batch_id for batch_id, _token in claims]
    batches = SendBatch.objects.select_related(*BATCH_RELATED).in_bulk(ids)
    grouped: dict[int, list] = {batch_id: [] for batch_id in ids}
    for row in Message.objects.filter(batch_id__in=ids, status=MessageStatus.QUEUED).order_by("pk").values_list(
            "batch_id", *MESSAGE_FIELDS):
        grouped[row[0]].append(row[1:])
    with transaction.atomic():
        for batch_id, token in claims:
            p = batch_prepare(batch_id, token, batch=batches[batch_id], messages=grouped[batch_id])
            if isinstance(p, str):
                counts[p] = counts.get(p, 0) + 1
            else:
                prepared.append(p)
    if not prepared:
        return counts
    workers = min(workers or concurrency(), len(prepared))
    if pool is not None and len(prepared) > 1:
        outcomes = list(pool.map(batch_call, prepared))
    elif workers == 1:
        outcomes = [batch_call(p) for p in prepared]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            outcomes = list(pool.map(batch_call, prepared))
    with transaction.atomic():  # one commit for the lot (SQLite: one fsync, not dozens)
        for p, outcome in zip(prepared, outcomes, strict=True):
            state = batch_record(p, outcome, finish=False)
            counts[state] = counts.get(state, 0) + 1
    for campaign_id in {p.campaign_id for p in prepared if p.campaign_id}:
        from messaging.campaigns.services.campaigns import campaign_finish_if_done

        campaign_finish_if_done(campaign_id)
    return counts


# --------------------------------------------------------------------------- recovery
def batches_sweep(*, now: datetime | None = None) -> int:
    """Batches claimed longer ago than the claim timeout belong to a dead worker: their
    outcome is unknown (the request may have left), so they are reconciled, never resent."""
    now = now or timezone.now()
    stale = SendBatch.objects.filter(state=B.CLAIMED, claimed_at__lt=now - claim_timeout())
    ids = list(stale.values_list("pk", flat=True)[:5000])
    with transaction.atomic():
        moved = SendBatch.objects.filter(pk__in=ids, state=B.CLAIMED).update(
            state=B.UNKNOWN, claim_token=None, error="Claimed by a worker that did not finish.")
        Message.objects.filter(batch_id__in=ids, status=MessageStatus.QUEUED).update(status=MessageStatus.UNKNOWN)
    return moved


def _reconcile_lookup(batch: SendBatch, messages: dict, channel: str, claimed: datetime) -> dict[str, dict]:
    """What BICS knows of the batch's numbers: the DLR pull by ``cid`` (SMS), or by number in
    the window around the claim (WhatsApp/Viber). Raises ``BicsError``."""
    from bics import sms, viber, whatsapp

    found: dict[str, dict] = {}
    if channel == "sms":
        for item in sms.pull_dlr(client(), cid=batch.custom):
            found.setdefault(_norm(item.mobile), {**item.raw, "mobile": _norm(item.mobile)})
        return found
    module = whatsapp if channel == "whatsapp" else viber
    window = channel_window()
    for number in messages:
        for item in module.pull_dlr(client(), mobile=number):
            when = parse_bics_time(item.updated_at)
            if when is None or claimed - window <= when <= claimed + claim_timeout() + window:
                found.setdefault(number, {**item.raw, "mobile": number})
    return found


def _reconcile_found(found: dict[str, dict], messages: dict, channel: str, claimed: datetime) -> None:
    """Numbers BICS has become submitted (never resent); a final status is recorded too."""
    for number, item in found.items():
        message = messages.get(number)
        if message is None:
            continue
        dlr_service.message_apply_status(message=message, status=MessageStatus.SUBMITTED,
                                         bics_message_id=str(item.get("id") or ""),
                                         group_id=str(item.get("group_id") or ""), at=claimed)
        if dlr_codes.message_status_for(item.get("status"), item.get("code"), channel=channel) != "submitted":
            dlr_service.dlr_record(channel=channel, item=item, source=DeliveryReport.Source.RECONCILE,
                                   message=message)


def batch_reconcile(batch_id: int, *, now: datetime | None = None) -> str:
    """An ``unknown`` batch: look BICS up before anything is resent.

    SMS: DLR pull by ``cid`` = the batch's ``custom`` (assumption: ``cid`` echoes ``custom``,
    bics/README.md). WhatsApp/Viber (no documented ``custom``): DLR pull by ``mobile``, a
    message updated in the window around the claim counts as ours. Found numbers become
    submitted (never resent); when BICS knows none of them and the grace period has passed,
    the batch goes back to pending; the numbers it does not know move to a new batch."""
    from bics.errors import BicsError

    now = now or timezone.now()
    batch = SendBatch.objects.select_related("campaign").get(pk=batch_id)
    if batch.state != B.UNKNOWN:
        return batch.state
    messages = {m.number: m for m in Message.objects.filter(batch_id=batch_id)}
    channel = next(iter(messages.values())).channel if messages else "sms"
    claimed = batch.claimed_at or now
    try:
        found = _reconcile_lookup(batch, messages, channel, claimed)
    except BicsError as exc:
        log.warning("batch %s: reconcile postponed: %s", batch_id, exc)
        return batch.state
    if not found and now - claimed < reconcile_grace():
        return batch.state  # BICS may not list it yet
    with transaction.atomic():
        _reconcile_found(found, messages, channel, claimed)
        missing = [m for n, m in messages.items() if n not in found and m.status in ("queued", "unknown")]
        if not found:
            SendBatch.objects.filter(pk=batch_id, state=B.UNKNOWN).update(state=B.PENDING, claim_token=None,
                                                                          error="Reconciled: BICS has none; resend.")
            Message.objects.filter(batch_id=batch_id, status=MessageStatus.UNKNOWN).update(status=MessageStatus.QUEUED)
            return B.PENDING
        SendBatch.objects.filter(pk=batch_id, state=B.UNKNOWN).update(
            state=B.SENT, sent_at=batch.sent_at or claimed, error=f"Reconciled: {len(found)} found at BICS.")
        if missing:
            extra = SendBatch.objects.create(campaign=batch.campaign, number=batch.number, is_sample=batch.is_sample,
                                             custom=f"{batch.custom}-r{batch.attempts}", text=batch.text,
                                             size=len(missing))
            Message.objects.filter(pk__in=[m.pk for m in missing]).update(batch=extra, status=MessageStatus.QUEUED)
    if batch.campaign_id:
        from messaging.campaigns.services.campaigns import campaign_finish_if_done

        campaign_finish_if_done(batch.campaign_id)
    return B.SENT


def batches_reconcile(*, campaign_id: int | None = None, now: datetime | None = None) -> dict[str, int]:
    qs = SendBatch.objects.filter(state=B.UNKNOWN)
    if campaign_id:
        qs = qs.filter(campaign_id=campaign_id)
    counts: dict[str, int] = {}
    for batch_id in qs.values_list("pk", flat=True)[:500]:
        state = batch_reconcile(batch_id, now=now)
        counts[state] = counts.get(state, 0) + 1
    return counts
