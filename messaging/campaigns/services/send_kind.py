"""Campaign send batches (and one-off messages) as a kind of the batch engine (``core.batches``).

The engine owns claim, send, sweep and reconcile; this module says how a ``SendBatch``
becomes a request (``send_requests``), what BICS's answer changes on its messages, and how an
``unknown`` batch is looked up before anything is resent:

* SMS: Pull DLRs by ``cid`` = the batch's ``custom`` (SMS › Pull DLRs); an item is ours when
  its ``custom`` is the batch's and its number one of the batch's (the item's own ``cid``
  need not equal our ``custom``, as the DLR sample shows).
* WhatsApp/Viber (no documented ``custom`` on their DLRs): Pull DLRs by ``mobile``; an item
  updated in the window around the claim counts as ours.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from core.batches import BatchKind, Claim, Lookup, Outcome, Skip
from core.bics import get_client
from core.bics_time import parse_bics_time
from core.phones import e164_from_bics
from messaging.campaigns import dlr_codes
from messaging.campaigns import selectors as sel
from messaging.campaigns.models import Campaign, DeliveryReport, Message, MessageStatus, SendBatch
from messaging.campaigns.services import dlr as dlr_service
from messaging.campaigns.services.send_requests import (
    CAMPAIGN_RELATED,
    SendRequest,
    opted_out,
    queued_messages,
    request_for,
)

M = MessageStatus
OPEN_MESSAGE_STATES = (M.QUEUED, M.UNKNOWN)
ACK_CHUNK = 5000  # rows per acknowledgement statement (BICS takes at most 1,000 numbers a request)


def claim_timeout() -> timedelta:
    return timedelta(seconds=int(sel.setting("CAMPAIGN_CLAIM_TIMEOUT", 600)))


def reconcile_grace() -> timedelta:
    """How long after a lost answer BICS is given before 'not found' means 'not sent'."""
    return timedelta(seconds=float(sel.setting("CAMPAIGN_RECONCILE_GRACE", 60)))


def concurrency() -> int:
    return max(1, int(sel.setting("CAMPAIGN_CONCURRENCY", 8)))


def channel_window() -> timedelta:
    return timedelta(seconds=int(sel.setting("CAMPAIGN_CHANNEL_RECONCILE_WINDOW", 600)))


# --------------------------------------------------------------------------- acknowledgements
def acknowledgements_record(acks: list[tuple[int, dict[str, int], list[dict], str]]) -> None:
    """BICS accepted these batches (batch id, number -> message id, its answer's items, group
    id): each acknowledged message's BICS id, group and, while open, submitted status in one
    statement per ``ACK_CHUNK`` messages (matched by number, else by position); then the
    batches' open messages its answer left out (no id) submitted in one more."""
    now = timezone.now()
    rows: list[tuple[int, str, str]] = []
    partial: list[int] = []  # batches with a message the answer left out
    for batch_id, messages, items, group_id in acks:
        pairs = _ids_by_message(messages, items)
        rows.extend((message_id, bics_id, group_id) for message_id, bics_id in pairs)
        if not pairs and group_id:
            Message.objects.filter(pk__in=list(messages.values())).update(group_id=group_id)
        if len({message_id for message_id, _bics_id in pairs}) < len(messages):
            partial.append(batch_id)
    for start in range(0, len(rows), ACK_CHUNK):
        _acknowledge(rows[start:start + ACK_CHUNK], now)
    if partial:
        Message.objects.filter(batch_id__in=partial, status__in=OPEN_MESSAGE_STATES).update(
            status=M.SUBMITTED, submitted_at=now, status_at=now)


def _number_key(mobile) -> str:
    """The stored form of a number in BICS's answer: digits are ours with '+' (the common
    case, without a parse), anything else through ``e164_from_bics``."""
    if isinstance(mobile, str) and mobile.isdigit() and not mobile.startswith("0"):
        return "+" + mobile
    return e164_from_bics(mobile)


def _ids_by_message(messages: dict[str, int], items: list[dict]) -> list[tuple[int, str]]:
    by_position = list(messages.values()) if len(messages) == len(items) else None
    pairs = []
    for index, item in enumerate(items):
        message_id = messages.get(_number_key(item.get("mobile") or item.get("to")))
        if message_id is None and by_position:
            message_id = by_position[index]
        if message_id is not None and item.get("id") not in (None, ""):
            pairs.append((message_id, str(item["id"])[:100]))
    return pairs


def _acknowledge(rows: list[tuple[int, str, str]], now) -> None:
    """``UPDATE … FROM (VALUES …)``: ids and group for the lot, the status moved only from
    an open one, in one statement (SQLite ≥ 3.33, PostgreSQL; both name the columns of a
    VALUES list column1, column2…; every SET sees the row as it was)."""
    table = connection.ops.quote_name(Message._meta.db_table)
    values = ", ".join(["(%s, %s, %s)"] * len(rows))
    is_open = f"{table}.status IN (%s, %s)"
    at = connection.ops.adapt_datetimefield_value(now)
    sql = (f"UPDATE {table} SET bics_message_id = acks.column2, group_id = acks.column3, "  # noqa: S608 - no user input
           f"status = CASE WHEN {is_open} THEN %s ELSE {table}.status END, "
           f"submitted_at = CASE WHEN {is_open} THEN %s ELSE {table}.submitted_at END, "
           f"status_at = CASE WHEN {is_open} THEN %s ELSE {table}.status_at END "
           f"FROM (VALUES {values}) AS acks WHERE {table}.id = acks.column1")
    opened = [M.QUEUED, M.UNKNOWN]
    params = [*opened, M.SUBMITTED, *opened, at, *opened, at, *(value for row in rows for value in row)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --------------------------------------------------------------------------- reconciliation
def _sms_items(batch: SendBatch) -> dict[str, dict]:
    """Number -> DLR item of this batch's send (``custom`` + number; never the item's ``cid``)."""
    from bics import sms

    found: dict[str, dict] = {}
    for item in sms.pull_dlr(get_client(), cid=batch.custom):
        if item.custom and item.custom != batch.custom:
            continue
        number = e164_from_bics(item.mobile)
        found.setdefault(number, {**item.raw, "mobile": number})
    return found


def _chat_items(channel: str, numbers: list[str], claimed: datetime) -> dict[str, dict]:
    """Number -> a DLR of that number updated in the window around the claim."""
    from bics import viber, whatsapp

    module = whatsapp if channel == "whatsapp" else viber
    window = channel_window()
    earliest, latest = claimed - window, claimed + claim_timeout() + window
    found: dict[str, dict] = {}
    for number in numbers:
        for item in module.pull_dlr(get_client(), mobile=number):
            when = parse_bics_time(item.updated_at)
            if when is None or earliest <= when <= latest:
                found.setdefault(number, {**item.raw, "mobile": number})
    return found


def _record_found(found: dict[int, dict], channel: str, claimed: datetime) -> None:
    """Messages BICS has become submitted (never resent); a final status is recorded too."""
    for message in Message.objects.filter(pk__in=list(found)):
        item = found[message.pk]
        dlr_service.message_apply_status(message=message, status=M.SUBMITTED,
                                         bics_message_id=str(item.get("id") or ""),
                                         group_id=str(item.get("group_id") or ""), at=claimed)
        if dlr_codes.message_status_for(item.get("status"), item.get("code"), channel=channel) != M.SUBMITTED:
            dlr_service.dlr_record(channel=channel, item=item, source=DeliveryReport.Source.RECONCILE,
                                   message=message)


def _channel_of(batch_id: int) -> str:
    return Message.objects.filter(batch_id=batch_id).values_list("channel", flat=True).first() or "sms"


# --------------------------------------------------------------------------- the kind
class CampaignSendKind(BatchKind[SendRequest]):
    model = SendBatch

    def claim_timeout(self) -> timedelta:
        return claim_timeout()

    def reconcile_grace(self) -> timedelta:
        return reconcile_grace()

    def prepare(self, claims: list[Claim]) -> list[SendRequest | Skip]:
        ids = [c.batch_id for c in claims]
        batches = SendBatch.objects.in_bulk(ids)
        campaigns = Campaign.objects.select_related(*CAMPAIGN_RELATED).in_bulk(
            {b.campaign_id for b in batches.values() if b.campaign_id})
        for batch in batches.values():  # one campaign object for all its batches (read once)
            if batch.campaign_id:
                batch.campaign = campaigns[batch.campaign_id]
        grouped, candidates = queued_messages(batches)
        opted = opted_out(batches, grouped, candidates)
        return [request_for(batches[c.batch_id], grouped[c.batch_id], opted) for c in claims]

    def send(self, request: SendRequest):
        return request.func(get_client(), **request.kwargs)

    def weight(self, request: SendRequest) -> int:
        return max(1, len(request.messages))

    def on_sent(self, claim: Claim, request: SendRequest, result) -> dict:
        return self.on_sent_many([(claim, request, result)])[claim.batch_id]

    def on_sent_many(self, sent: list[tuple[Claim, SendRequest, object]]) -> dict[int, dict]:
        acks, extras = [], {}
        for claim, request, result in sent:
            group_id = str(getattr(result, "group_id", "") or "")[:64]
            items = [i for i in (getattr(result, "items", None) or []) if isinstance(i, dict)]
            acks.append((claim.batch_id, request.messages, items, group_id))
            extras[claim.batch_id] = {"group_id": group_id}
        acknowledgements_record(acks)
        return extras

    def on_failed(self, batch_ids: list[int], outcome: Outcome, error: str) -> None:
        queued = Message.objects.filter(batch_id__in=batch_ids, status=M.QUEUED)
        if outcome is Outcome.FAILED:
            queued.update(status=M.FAILED, error_description=error[:255], status_at=timezone.now())
        else:  # unknown: reconciled before anything is resent
            queued.update(status=M.UNKNOWN, status_at=timezone.now())

    def lookup(self, batch: SendBatch) -> Lookup:
        messages = list(Message.objects.filter(batch_id=batch.pk).order_by("pk").values_list("pk", "number", "status"))
        channel = _channel_of(batch.pk)
        claimed = batch.claimed_at or timezone.now()
        if channel == "sms":
            items = _sms_items(batch)
        else:
            items = _chat_items(channel, [number for _pk, number, _status in messages], claimed)
        lookup = Lookup()
        for pk, number, status in messages:
            if number in items:
                lookup.found[pk] = items[number]
            elif status in OPEN_MESSAGE_STATES:
                lookup.missing.append(pk)
        return lookup

    def on_reconciled(self, batch: SendBatch, lookup: Lookup) -> int | None:
        _record_found(lookup.found, _channel_of(batch.pk), batch.claimed_at or timezone.now())
        if not lookup.found:  # BICS has none of it: the batch goes again as it is
            Message.objects.filter(batch_id=batch.pk, status=M.UNKNOWN).update(status=M.QUEUED)
            return None
        if not lookup.missing:
            return None
        extra = SendBatch.objects.create(campaign_id=batch.campaign_id, number=batch.number,
                                         is_sample=batch.is_sample, custom=f"{batch.custom}-r{batch.attempts}",
                                         text=batch.text, size=len(lookup.missing))
        Message.objects.filter(pk__in=lookup.missing).update(batch=extra, status=M.QUEUED)
        return extra.pk

    def finish_if_done(self, batch_ids: list[int]) -> None:
        from messaging.campaigns.services.campaigns import campaign_finish_if_done

        campaigns = SendBatch.objects.filter(pk__in=batch_ids, campaign__isnull=False)
        for campaign_id in sorted(set(campaigns.values_list("campaign_id", flat=True))):
            campaign_finish_if_done(campaign_id)

    def enqueue(self, batch_ids: list[int]) -> None:
        """A campaign's dispatcher sends its pending batches; a one-off message given back
        (BICS unavailable, or reconciled as never received) gets a task of its own."""
        from messaging.campaigns.tasks import send_batch

        one_offs = SendBatch.objects.filter(pk__in=batch_ids, campaign__isnull=True)
        ids = list(one_offs.values_list("pk", flat=True))
        one_offs.update(enqueued_at=timezone.now())
        for batch_id in ids:
            send_batch.delay(batch_id)

    def lost(self, cutoff: datetime):
        """One-off batches tried before and given back (a fresh one is being sent inline)."""
        return SendBatch.objects.filter(campaign__isnull=True, attempts__gt=0)


KIND = CampaignSendKind()
