"""Opt-outs that land while a campaign runs."""

from __future__ import annotations


def queued_messages_exclude(*, unsubscriber) -> int:
    """An opt-out that lands while a campaign runs: the number's queued messages of that
    channel's unfinished campaigns fail now (the engine sends only queued messages), when the
    opt-out's scope covers the campaign (``selectors.unsubscribed_q``)."""
    from contacts.models import Contact
    from messaging.campaigns.models import Campaign, Message, MessageStatus
    from messaging.campaigns.selectors import unsubscribed_q
    from messaging.campaigns.services.dlr import message_apply_status

    queued = Message.objects.filter(channel=unsubscriber.channel, number=unsubscriber.number,
                                    status=MessageStatus.QUEUED, campaign__isnull=False)
    campaign_ids = set(queued.exclude(campaign__state__in=Campaign.FINAL_STATES)
                       .values_list("campaign_id", flat=True).distinct())
    excluded = 0
    for campaign in Campaign.objects.filter(pk__in=campaign_ids):
        in_scope = unsubscriber.type == "all" or Contact.objects.filter(
            phone=unsubscriber.number).filter(unsubscribed_q(campaign)).exists()
        if not in_scope:
            continue
        for message_id in queued.filter(campaign=campaign).values_list("pk", flat=True):
            excluded += int(message_apply_status(message=message_id, status=MessageStatus.FAILED, code="",
                                                 description="Opted out before sending (unsubscription event)"))
    return excluded
