"""What one send batch asks of BICS: read from the database, checked again at send time.

A campaign batch goes out only while its campaign may send (sampling for the sample, sending
for the rest) and its template is still usable; numbers that opted out since the launch
leave it. Identical SMS text goes as one Send Message with a ``to`` array under the batch's
``custom``; every other campaign message (and every one-off message) is a batch of one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef

from core.batches import Skip, SkipAction
from messaging.campaigns import selectors as sel
from messaging.campaigns.models import Campaign, Message, MessageStatus, SendBatch
from messaging.campaigns.services import dlr as dlr_service

CAMPAIGN_RELATED = ("template", "sender", "template__sender")
MESSAGE_FIELDS = ("pk", "number", "text", "variables", "custom_id")


@dataclass(frozen=True)
class SendRequest:
    """One request: ``func(client, **kwargs)`` of ``bics.sms``/``whatsapp``/``viber``, and the
    messages it carries (number -> message id)."""

    func: Callable
    kwargs: dict
    messages: dict[str, int]
    campaign_id: int | None = None


def queued_messages(batches: dict[int, SendBatch]) -> tuple[dict[int, list[tuple]], set[str]]:
    """The queued messages of each batch (``MESSAGE_FIELDS`` rows), in one query per shape,
    and the numbers among them with an ``Unsubscriber`` row of their channel (read in the
    same query: only those can have opted out since the launch). A campaign's SMS needs only
    each message's id and number (identical text: the text is the batch's) or id, number and
    text (personalised: no variables to decode, its ``custom`` is the batch's); the others
    read variables and ``custom_id`` too."""
    from messaging.catalogue.models import Unsubscriber

    grouped: dict[int, list[tuple]] = {batch_id: [] for batch_id in batches}
    candidates: set[str] = set()
    shapes: dict[tuple[str, ...], list[int]] = {}
    for pk, batch in batches.items():
        sms = bool(batch.campaign_id) and batch.campaign.channel == "sms"
        fields = ("pk", "number") if sms and batch.text else ("pk", "number", "text") if sms else MESSAGE_FIELDS
        shapes.setdefault(fields, []).append(pk)
    queued = Message.objects.filter(status=MessageStatus.QUEUED).order_by("pk").annotate(
        listed=Exists(Unsubscriber.objects.filter(channel=OuterRef("channel"), number=OuterRef("number"))))
    for fields, ids in shapes.items():
        padding = ("", None, "")[len(fields) - 2:]  # text, variables, custom_id not read
        for row in queued.filter(batch_id__in=ids).values_list("batch_id", *fields, "listed"):
            grouped[row[0]].append((*row[1:-1], *padding))
            if row[-1]:
                candidates.add(row[2])
    return grouped, candidates


def opted_out(batches: dict[int, SendBatch], grouped: dict[int, list[tuple]], candidates: set[str]) -> set[str]:
    """Numbers of these batches' messages that opted out since the launch: of the
    ``candidates`` (numbers with an ``Unsubscriber`` row; usually none), those the row's
    scope covers for the campaign."""
    from contacts.models import Contact
    from messaging.catalogue.models import Unsubscriber

    if not candidates:
        return set()
    by_campaign: dict[int, tuple[Campaign, set[str]]] = {}
    for batch_id, rows in grouped.items():
        batch = batches[batch_id]
        numbers = {row[1] for row in rows} & candidates
        if batch.campaign_id and numbers:
            by_campaign.setdefault(batch.campaign_id, (batch.campaign, set()))[1].update(numbers)
    opted: set[str] = set()
    for campaign, numbers in by_campaign.values():
        opted |= set(Contact.objects.filter(phone__in=numbers).filter(sel.unsubscribed_q(campaign))
                     .values_list("phone", flat=True))
        opted |= set(Unsubscriber.objects.filter(channel=campaign.channel, type=Unsubscriber.Type.ALL,
                                                 number__in=numbers).values_list("number", flat=True))
    return opted


def request_for(batch: SendBatch, messages: list[tuple], opted: set[str]) -> SendRequest | Skip:
    """The request of a claimed batch, or why it must not go out now (``opted``: numbers
    that opted out since the launch, ``opted_out``)."""
    if not messages:
        return Skip(SkipAction.DONE)
    campaign = batch.campaign
    if campaign is None:
        return _one_off(messages[0])
    allowed = (Campaign.State.SAMPLING, Campaign.State.SENDING) if batch.is_sample else (Campaign.State.SENDING,)
    if campaign.state not in allowed:
        return Skip(SkipAction.RELEASE)
    problems = _usability_problems(campaign)
    if problems:  # checked again at send time
        from messaging.campaigns.services.campaigns import campaign_pause

        reason = " ".join(problems)
        campaign_pause(campaign=campaign, reason="Refused at send time: " + reason)
        return Skip(SkipAction.RELEASE, reason)
    from messaging.campaigns.services.windows import validity_passed, window_closed

    if validity_passed(batch):  # the campaign's validity: its queued messages are not sent
        return Skip(SkipAction.DONE)
    if window_closed(batch):  # sending windows: given back until the next opening
        return Skip(SkipAction.RELEASE)
    messages = _drop_opted_out(messages, opted)
    if not messages:
        return Skip(SkipAction.DONE)
    return _campaign_request(batch, campaign, messages)


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
    if len(_usability) > 1000:  # noqa: PLR2004 - a bound, not a tuning knob
        _usability.clear()
    _usability[key] = (time.monotonic(), problems)
    return problems


def _drop_opted_out(messages: list[tuple], opted: set[str]) -> list[tuple]:
    """Opt-outs recorded since launch (admin, import, pull, webhook) are honoured at send time:
    their queued messages fail as "opted out" and leave the batch."""
    if not opted:
        return messages
    for pk, number, *_ in messages:
        if number in opted:
            dlr_service.message_apply_status(message=pk, status=MessageStatus.FAILED, code="",
                                             description="Opted out before sending")
    return [row for row in messages if row[1] not in opted]


def _template_ref(template) -> dict:
    return {"alias": template.alias} if template.alias else {"id": template.bics_id}


def _campaign_request(batch: SendBatch, campaign: Campaign, messages: list[tuple]) -> SendRequest:
    from bics import sms, viber, whatsapp

    template = campaign.template
    numbers = {number: pk for pk, number, *_ in messages}
    if campaign.channel == "sms":
        sender = campaign.sender or template.sender
        kwargs = {"to": list(numbers), "message": batch.text or messages[0][2], "sender": sender.name,
                  "service": sender.service, "custom": batch.custom, "type": template.message_type or "N"}
        return SendRequest(sms.send_message, kwargs, numbers, campaign.pk)
    _pk, number, _text, variables, custom_id = messages[0]
    data = {k: v for k, v in (variables or {}).items() if not k.startswith("_")}
    if campaign.channel == "viber":
        kwargs = {"to": number, "data": data, "meta": {"custom": custom_id}, **_template_ref(template)}
        return SendRequest(viber.send_template, kwargs, numbers, campaign.pk)
    kwargs = {"to": number, "data": data, **_template_ref(template)}
    return SendRequest(whatsapp.send_template, kwargs, numbers, campaign.pk)


def _one_off(row: tuple) -> SendRequest:
    """A one-off message (the test send, the "send one message" page): its template, sender
    and SMS options travel in its variables under ``_``-prefixed keys."""
    from bics import sms, viber, whatsapp
    from messaging.catalogue.models import Sender, Template

    pk, number, text, variables, custom_id = row
    variables = dict(variables or {})
    template = Template.objects.filter(pk=variables.pop("_template", None)).first()
    sender = Sender.objects.filter(pk=variables.pop("_sender", None)).first()
    options = variables.pop("_options", {}) or {}
    variables.pop("_label", None)
    numbers = {number: pk}
    channel = Message.objects.filter(pk=pk).values_list("channel", flat=True).get()
    if template is not None:
        kwargs = {"to": number, "data": variables, **_template_ref(template)}
        if channel == "whatsapp":
            return SendRequest(whatsapp.send_template, kwargs, numbers)
        func = sms.send_template if channel == "sms" else viber.send_template
        return SendRequest(func, {**kwargs, "meta": {"custom": custom_id}}, numbers)
    sender = sender or Sender.objects.filter(status=Sender.Status.APPROVED).first()
    kwargs = {"to": [number], "message": text, "sender": sender.name if sender else "",
              "service": sender.service if sender else "ENT", "custom": custom_id,
              "type": options.get("type") or "A"}
    for key in ("flash", "max_units", "port", "time"):
        if options.get(key) not in (None, ""):
            kwargs[key] = options[key]
    return SendRequest(sms.send_message, kwargs, numbers)
