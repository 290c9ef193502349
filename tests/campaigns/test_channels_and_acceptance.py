"""WhatsApp and Viber campaigns end to end against the sandbox; the acceptance flow."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from messaging.campaigns.models import Campaign, Message
from messaging.campaigns.services import dispatch, engine
from messaging.campaigns.services.campaigns import campaign_launch
from messaging.campaigns.services.dlr import dlr_poll
from messaging.catalogue.models import Template

from .conftest import approve, no_duplicates

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]


def pushed(template, sandbox, *, tick=True):
    from core import sync

    # only words approved here go to BICS (the approval row comes with approve() below)
    Template.objects.filter(pk=template.pk).update(approval_state="approved",
                                                   approved_hash=template.compute_content_hash())
    sync.push("templates", Template.objects.filter(pk=template.pk))
    if tick:  # moves the sandbox clock: the approval delay passes
        sandbox.tick(3600)
    sync.pull("templates")
    template.refresh_from_db()
    return template


@pytest.mark.parametrize(("channel", "payload"), [
    ("whatsapp", {"category": "utility", "language": "en", "number": "+3225476000", "type": "text",
                  "is_conversation": True}),
    ("viber", {"category": "transactional", "method": "transaction_text", "type": "text"}),
])
def test_channel_campaign_end_to_end(sandbox, make_contacts, make_campaign, owner, channel, payload):
    sandbox.configure(dlr_delay=0.2, dlr_ratios={"delivered": 1.0})
    make_contacts(3)
    template = Template.objects.create(channel=channel, name=f"{channel}_update", author=owner,
                                       content="Hi {{first_name}}, your parcel is on its way to you.",
                                       channel_payload=payload)
    template = pushed(template, sandbox)
    assert template.bics_id and template.provider_approved
    approve(template, provider_status=template.provider_status, bics_id=template.bics_id)
    campaign = make_campaign(template=template)
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    counts = dispatch.campaign_run(campaign.pk, timeout=20)
    assert counts["queued"] == 0 and counts["submitted"] == 3
    assert sandbox.requests(f"{channel}.messages.send_template") == 3
    last = sandbox.get("requests")["last"][f"{channel}.messages.send_template"]
    assert last["recipient"]["mobile"].isdigit() and last["data"]["first_name"].startswith("Ann")
    if channel == "viber":
        assert "meta" in last
    sandbox.tick(60)
    dlr_poll()
    assert set(Message.objects.values_list("status", flat=True)) == {"delivered"}
    assert no_duplicates(sandbox)


def test_channel_unknown_outcome_is_reconciled_by_number_and_time(sandbox, make_contacts, make_campaign, owner,
                                                                   settings):
    settings.BICS_READ_TIMEOUT = 0.5
    make_contacts(1)
    template = Template.objects.create(channel="whatsapp", name="wa_rec", author=owner,
                                       content="Hi {{first_name}}, your parcel is on its way to you.",
                                       channel_payload={"category": "utility", "language": "en", "type": "text",
                                                        "number": "+3225476000", "is_conversation": True})
    template = pushed(template, sandbox, tick=False)  # a service template needs no approval
    approve(template, provider_status=template.provider_status, bics_id=template.bics_id)
    sandbox.configure(faults=[{"kind": "timeout", "routes": ["whatsapp.messages.send_template"], "count": 1,
                               "seconds": 1.0}])
    campaign = make_campaign(template=template)
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    assert engine.batches_send(dispatch.campaign_step(campaign.pk).claims) == {"unknown": 1}
    dispatch.campaign_run(campaign.pk, timeout=10)
    assert len(sandbox.sent_numbers()) == 1
    assert Message.objects.get().bics_message_id


def test_acceptance_seed_push_send_wait(sandbox, capsys):
    call_command("seed_demo")
    try:
        call_command("bics_sync", "all", "--push")
    except CommandError:
        pass  # a local-only demo segment is never pushed (reported as failed)
    sandbox.tick(3600)  # the sandbox decides the pushed senders and templates
    first = Campaign.objects.order_by("pk").first()
    assert first.channel == "sms" and not first.smart_delivery and first.template.approval_state == "approved"
    assert Campaign.objects.filter(smart_delivery=True).exists()
    call_command("send_campaign", str(first.pk), "--now", "--wait")
    out = capsys.readouterr().out
    first.refresh_from_db()
    messages = Message.objects.filter(campaign=first)
    assert messages.count() == first.audience_size > 0
    assert len(set(messages.values_list("custom_id", flat=True))) == messages.count()
    assert not messages.filter(status="queued").exists()
    assert f"Campaign {first.pk} sent" in out
    sent = len(sandbox.sent_numbers())
    assert sent == messages.count() and no_duplicates(sandbox)
    call_command("send_campaign", str(first.pk), "--now", "--wait")
    assert "already sent: nothing changed" in capsys.readouterr().out
    assert len(sandbox.sent_numbers()) == sent
    call_command("poll_dlrs")
    assert "gets" in capsys.readouterr().out
