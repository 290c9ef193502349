"""One-off and test sends: a real permission for one-off sends (free text a second one),
opt-outs and blocked templates honoured, test sends limited to staff numbers and recorded."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from messaging.campaigns.models import CampaignTestSend, Message
from messaging.catalogue.models import BlockedTemplate, Unsubscriber
from tests import sandbox_helpers as box

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]


def _staff(django_user_model, name, *groups, perms=()):
    user = django_user_model.objects.create_user(username=name, password="x", is_staff=True)
    for group in groups:
        user.groups.add(Group.objects.get(name=group))
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="campaigns", codename=codename))
    return user


def _sms_sends(sandbox) -> list[str]:
    """The numbers of every SMS request that reached the sandbox (free text and template)."""
    numbers = [item["number"] for item in box.sent_items(sandbox.server) if item["route"] == "sms.messages.send"]
    template = box.sent(sandbox.server, "sms.messages.send_template")
    return numbers + [str(body["recipient"]["mobile"]).lstrip("+") for body in template]


def _template_send(template, number="+32470123456"):
    return {"channel": "sms", "number": number, "template": template.pk, "variables": "first_name=Ann",
            "type": "A"}


# --------------------------------------------------------------------------- one-off: permissions
def test_staff_without_the_permission_cannot_send_one_off(client, django_user_model, sandbox, make_template):
    template = make_template()
    client.force_login(_staff(django_user_model, "plain"))
    assert client.get(reverse("campaigns:one-off")).status_code == 403
    assert client.post(reverse("campaigns:one-off"), _template_send(template)).status_code == 403
    assert _sms_sends(sandbox) == []
    assert not Message.objects.exists()


def test_marketing_sends_approved_templates_but_not_free_text(client, django_user_model, sandbox, make_template,
                                                             sender):
    template = make_template()
    client.force_login(_staff(django_user_model, "marketer", "Marketing"))
    response = client.post(reverse("campaigns:one-off"), _template_send(template))
    assert response.status_code == 302
    assert _sms_sends(sandbox) == ["32470123456"]
    response = client.post(reverse("campaigns:one-off"), {
        "channel": "sms", "number": "+32470123457", "text": "Free words", "sender": sender.pk, "type": "A"})
    assert response.status_code == 200
    assert "free-text SMS" in response.content.decode()
    assert _sms_sends(sandbox) == ["32470123456"]


def test_the_free_text_permission_allows_free_text(client, django_user_model, sandbox, sender):
    client.force_login(_staff(django_user_model, "writer", "Marketing", perms=["send_free_text"]))
    response = client.post(reverse("campaigns:one-off"), {
        "channel": "sms", "number": "+32470123457", "text": "Free words", "sender": sender.pk, "type": "A"})
    assert response.status_code == 302
    assert _sms_sends(sandbox) == ["32470123457"]


# --------------------------------------------------------------------------- one-off: opt-outs, blocks
@pytest.mark.parametrize("scope", ["all", "sender"])
def test_a_one_off_to_an_opted_out_number_is_refused(admin_client, sandbox, make_template, sender, scope):
    template = make_template()
    Unsubscriber.objects.create(channel="sms", number="+32470123456", type=scope,
                                value=sender.name if scope == "sender" else "")
    response = admin_client.post(reverse("campaigns:one-off"), _template_send(template))
    assert response.status_code == 200
    assert "opted out" in response.content.decode()
    response = admin_client.post(reverse("campaigns:one-off"), {
        "channel": "sms", "number": "+32470123456", "text": "Free words", "sender": sender.pk, "type": "A"})
    assert "opted out" in response.content.decode()
    assert _sms_sends(sandbox) == []


def test_an_opt_out_of_another_sender_does_not_block(admin_client, sandbox, make_template):
    template = make_template()
    Unsubscriber.objects.create(channel="sms", number="+32470123456", type="sender", value="OTHER")
    assert admin_client.post(reverse("campaigns:one-off"), _template_send(template)).status_code == 302
    assert _sms_sends(sandbox) == ["32470123456"]


def test_a_one_off_of_a_blocked_template_is_refused(admin_client, sandbox, make_template):
    template = make_template()
    BlockedTemplate.objects.create(template_id=template.bics_id, status="1")
    response = admin_client.post(reverse("campaigns:one-off"), _template_send(template))
    assert "blocked template" in response.content.decode()
    assert _sms_sends(sandbox) == []


# --------------------------------------------------------------------------- test sends
def _test_send(client, campaign, numbers):
    return client.post(reverse("campaigns:preview", args=[campaign.pk]),
                       {"action": "test", "t-numbers": "\n".join(numbers)}, follow=True)


def test_test_sends_go_only_to_the_staff_list(admin_client, sandbox, make_contacts, make_campaign, settings):
    settings.CAMPAIGN_TEST_NUMBERS = ["+32470999001", "+32470999002"]
    make_contacts(2)
    campaign = make_campaign()
    response = _test_send(admin_client, campaign, ["+32470999001", "+32470555555"])
    assert "Not on the staff test list" in response.content.decode()
    assert _sms_sends(sandbox) == []
    _test_send(admin_client, campaign, ["+32470999001", "+32470999002"])
    assert sorted(_sms_sends(sandbox)) == ["32470999001", "32470999002"]


def test_test_sends_are_limited_in_count(admin_client, sandbox, make_contacts, make_campaign, settings):
    settings.CAMPAIGN_TEST_NUMBERS = []
    settings.CAMPAIGN_TEST_MAX_NUMBERS = 2
    make_contacts(1)
    campaign = make_campaign()
    response = _test_send(admin_client, campaign, ["+32470999001", "+32470999002", "+32470999003"])
    assert "at most 2 numbers" in response.content.decode()
    assert _sms_sends(sandbox) == []


def test_test_sends_skip_opted_out_numbers_and_are_recorded(admin_client, admin_user, sandbox, make_contacts,
                                                           make_campaign, settings):
    settings.CAMPAIGN_TEST_NUMBERS = []
    make_contacts(1)
    campaign = make_campaign()
    Unsubscriber.objects.create(channel="sms", number="+32470999002", type="all")
    _test_send(admin_client, campaign, ["+32470999001", "+32470999002"])
    assert _sms_sends(sandbox) == ["32470999001"]
    (record,) = CampaignTestSend.objects.filter(campaign=campaign)
    assert record.by == admin_user and record.numbers == ["+32470999001", "+32470999002"]
    assert record.results["+32470999001"] == "submitted"
    assert "opted out" in record.results["+32470999002"]
    page = admin_client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert "+32470999002" in page and admin_user.username in page
    listing = admin_client.get(reverse("admin:campaigns_campaigntestsend_changelist"))
    assert listing.status_code == 200 and admin_user.username in listing.content.decode()


def test_a_test_send_of_a_blocked_template_is_refused(admin_client, sandbox, make_contacts, make_campaign):
    make_contacts(1)
    campaign = make_campaign()
    BlockedTemplate.objects.create(template_id=campaign.template.bics_id, status="1")
    response = _test_send(admin_client, campaign, ["+32470999001"])
    assert "blocked template" in response.content.decode()
    assert _sms_sends(sandbox) == []
