"""Replies that say STOP (or START): an inbound message whose whole text is an opt-out keyword
(``OptOutKeyword``, per language) opts its sender out of that channel at once; START undoes
an opt-out that a keyword made, never one entered by staff, imported or pulled from BICS.

Connected to the webhook receiver's ``inbound_message_received`` signal (AppConfig.ready()),
so it runs inside the transaction that marks the inbound event processed: each reply is
applied once (``OptOutChange`` is unique per inbound message). The BICS side follows on
commit: the new unsubscriber is pushed by a sync run (Unsubscribers: Create), a removed one
is deleted by a task (Unsubscribers: Delete). Queued campaign messages to the number are not
sent: the engine drops opted-out numbers when it prepares each batch.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from core.phones import normalise_phone
from messaging.catalogue.models import Channel, OptOutChange, OptOutKeyword, Unsubscriber, keyword_normalise

# The inbound processor's channel names (``vmn:message:in`` is Interact: SMS replies).
CHANNEL_OF_INBOUND = {"interact": Channel.SMS, "vmn": Channel.SMS, "sms": Channel.SMS,
                      "whatsapp": Channel.WHATSAPP, "viber": Channel.VIBER}
MAX_KEYWORD = 40


def keyword_match(text: str) -> tuple[str, str] | None:
    """(action, normalised word) when ``text`` is an active keyword; STOP wins if a word is
    both (a reply is never read as an opt-in by mistake)."""
    word = keyword_normalise(text)
    if not word or len(word) > MAX_KEYWORD:
        return None
    actions = set(OptOutKeyword.objects.filter(normalised=word, active=True).values_list("action", flat=True))
    if not actions:
        return None
    return (OptOutKeyword.Action.STOP if OptOutKeyword.Action.STOP in actions else OptOutKeyword.Action.START), word


def on_inbound_message(sender, inbound, **kwargs) -> dict | None:
    return inbound_keyword_apply(inbound=inbound)


def inbound_keyword_apply(*, inbound) -> dict | None:
    """Apply one inbound reply; None when it is not a keyword (or not from a usable number)."""
    known = OptOutChange.objects.filter(inbound_message=inbound).first()
    if known is not None:  # the event processed again: applied once
        return {"optout_change": known.pk, "optout_action": known.action}
    match = keyword_match(inbound.text)
    channel = CHANNEL_OF_INBOUND.get(inbound.channel)
    if match is None or channel is None:
        return None
    try:
        number, iso = normalise_phone(inbound.from_number)
    except ValueError:
        return None
    action, word = match
    base = {"channel": channel, "number": number, "keyword": word, "inbound_message": inbound,
            "contact_id": inbound.contact_id}
    if action == OptOutKeyword.Action.STOP:
        change = _opt_out(base, iso)
    else:
        change = _opt_in(base)
    return {"optout_change": change.pk, "optout_action": change.action}


def _opt_out(base: dict, iso: str) -> OptOutChange:
    """An opt-out of every message of the channel (type ``all``): the reply names no scope."""
    lookup = {"channel": base["channel"], "number": base["number"], "type": Unsubscriber.Type.ALL, "value": ""}
    try:
        with transaction.atomic():
            unsubscriber, created = Unsubscriber.objects.get_or_create(**lookup, defaults={"iso": iso})
    except IntegrityError:  # the same opt-out landed at the same moment
        unsubscriber, created = Unsubscriber.objects.get(**lookup), False
    change = OptOutChange.objects.create(
        **base, unsubscriber=unsubscriber, created_unsubscriber=created,
        action=OptOutChange.Action.OPT_OUT if created else OptOutChange.Action.IGNORED,
        detail="" if created else "Already opted out of every message on this channel.")
    if created:
        pk = unsubscriber.pk
        transaction.on_commit(lambda: _push(pk))
    return change


def _opt_in(base: dict) -> OptOutChange:
    unsubscriber = Unsubscriber.objects.filter(channel=base["channel"], number=base["number"],
                                               type=Unsubscriber.Type.ALL, value="").first()
    if unsubscriber is None:
        detail = "Not opted out of this channel."
    elif not unsubscriber.keyword_changes.filter(created_unsubscriber=True).exists():
        detail = "The opt-out was entered by staff, imported or received from BICS: kept."
    else:
        change = OptOutChange.objects.create(**base, unsubscriber=unsubscriber, action=OptOutChange.Action.OPT_IN)
        pk = unsubscriber.pk
        transaction.on_commit(lambda: _remove(pk))
        return change
    return OptOutChange.objects.create(**base, unsubscriber=unsubscriber, action=OptOutChange.Action.IGNORED,
                                       detail=detail)


def _push(unsubscriber_id: int) -> None:
    from core.sync_runs import sync_run_start

    sync_run_start(resource="unsubscribers", direction="push", ids=[unsubscriber_id],
                   model_label="messaging.Unsubscriber")


def _remove(unsubscriber_id: int) -> None:
    from messaging.catalogue.tasks import unsubscriber_remove

    unsubscriber_remove.delay(unsubscriber_id)


def keyword_optout_remove(*, unsubscriber_id: int) -> str:
    """Delete a keyword opt-out at BICS, then here (``core.sync.push_delete``); a refusal
    keeps it, marked failed with the reason, for the admin's push."""
    from core import sync

    unsubscriber = Unsubscriber.objects.filter(pk=unsubscriber_id).first()
    if unsubscriber is None:
        return "gone"
    result = sync.push_delete(unsubscriber)
    return "failed" if result.failed else "deleted"
