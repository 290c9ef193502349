"""The campaign wizard through Django's test client: each step validates in plain words."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import Tag
from messaging.campaigns.models import Campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, owner):
    owner.is_superuser = True
    owner.save()
    client.force_login(owner)
    return client


def start(client, **extra):
    tag = Tag.objects.get_or_create(name="audience")[0]
    data = {"name": "Spring", "channel": "sms", "tags": [tag.pk], **extra}
    return client.post(reverse("wizard:start"), data)


def test_audience_needs_a_segment_or_a_tag(staff):
    body = staff.post(reverse("wizard:start"), {"name": "Spring", "channel": "sms"}).content.decode()
    assert "Choose at least one segment or tag" in body


def test_template_step_requires_a_template(staff):
    start(staff)
    body = staff.post(reverse("wizard:template-new"), {"action": "next"}).content.decode()
    assert "Choose the template to send." in body


def test_unapproved_templates_are_not_offered(staff, make_template):
    draft = make_template(usable=False, name="draft_one")
    start(staff)
    body = staff.get(reverse("wizard:template-new")).content.decode()
    assert "draft_one</option>" not in body  # shown greyed with its next step, not offered
    assert "draft_one</span>: <span class=\"template-next-step\">A draft is not pushed" in body
    body = staff.post(
        reverse("wizard:template-new"), {"template": draft.pk, "action": "next"}
    ).content.decode()
    assert "That template cannot be sent now" in body


def test_variables_must_say_where_values_come_from(staff, make_template):
    template = make_template("Hi {{first_name}}, code {{code}}")
    start(staff)
    page = staff.post(reverse("wizard:template-new"), {"template": template.pk, "action": "choose"})
    body = page.content.decode()
    assert "var_first_name_source" in body and "var_code_source" in body
    body = staff.post(
        reverse("wizard:template-new"),
        {
            "template": template.pk,
            "action": "next",
            "var_first_name_source": "first_name",
            "var_first_name_value": "",
            "var_code_source": "fixed",
            "var_code_value": "",
        },
    ).content.decode()
    assert "Write the text that replaces {{code}}." in body
    response = staff.post(
        reverse("wizard:template-new"),
        {
            "template": template.pk,
            "action": "next",
            "var_first_name_source": "first_name",
            "var_first_name_value": "friend",
            "var_code_source": "fixed",
            "var_code_value": "SPRING",
        },
    )
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "wizard:schedule", args=[campaign.pk]
    )
    assert campaign.variable_mapping == {
        "first_name": {"field": "first_name", "default": "friend", "skip": False},
        "code": {"value": "SPRING"},
    }
    assert list(campaign.tags.values_list("name", flat=True)) == ["audience"]
    assert campaign.state == "draft" and campaign.sender == template.sender


def _campaign(staff, make_template):
    template = make_template("Our shop opens on Monday at nine.")
    start(staff)
    staff.post(reverse("wizard:template-new"), {"template": template.pk, "action": "next"})
    return Campaign.objects.get()


def test_schedule_refuses_the_past_and_more_than_thirty_days(staff, make_template):
    campaign = _campaign(staff, make_template)
    url = reverse("wizard:schedule", args=[campaign.pk])
    base = {"batch_interval": 0, "smart_sample_size": 10, "smart_wait_minutes": 30}
    body = staff.post(url, {**base, "when": "later", "at": ""}).content.decode()
    assert "Choose the date and time to send" in body
    past = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    assert (
        "That time is in the past" in staff.post(url, {**base, "when": "later", "at": past}).content.decode()
    )
    far = (timezone.localtime() + timedelta(days=40)).strftime("%Y-%m-%dT%H:%M")
    assert "at most 30 days ahead" in staff.post(url, {**base, "when": "later", "at": far}).content.decode()
    body = staff.post(url, {**base, "when": "now", "batch_size": 5000}).content.decode()
    assert "A batch holds at most 1000 recipients." in body
    response = staff.post(
        url, {**base, "when": "now", "batch_size": 2, "batch_interval": 1, "smart_delivery": "on"}
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.batch_size, campaign.batch_interval, campaign.smart_delivery) == (2, 1, True)


def test_preview_counts_and_blocks_an_empty_audience(staff, make_template):
    campaign = _campaign(staff, make_template)
    body = staff.get(reverse("wizard:preview", args=[campaign.pk])).content.decode()
    assert "Will receive" in body and "Launch blocked" in body and "audience is empty" in body


def test_preview_masks_sample_numbers(staff, make_template, make_contacts, owner):
    owner.is_superuser = False
    owner.save()
    from django.contrib.auth.models import Permission

    owner.user_permissions.add(*Permission.objects.filter(codename__in=["change_campaign", "add_campaign"]))
    make_contacts(2)
    campaign = _campaign(staff, make_template)
    body = staff.get(reverse("wizard:preview", args=[campaign.pk])).content.decode()
    assert "+32470000001" not in body and "+32••••••001" in body


def test_launch_needs_a_confirmation(staff, make_template, make_contacts):
    make_contacts(1)
    campaign = _campaign(staff, make_template)
    body = staff.post(reverse("wizard:launch", args=[campaign.pk]), {}).content.decode()
    assert "Tick the box to confirm" in body
    assert Campaign.objects.get().state == "draft"


def test_launch_schedules_a_campaign_with_a_time(staff, make_template, make_contacts):
    make_contacts(1)
    campaign = _campaign(staff, make_template)
    Campaign.objects.filter(pk=campaign.pk).update(scheduled_at=timezone.now() + timedelta(days=1))
    response = staff.post(reverse("wizard:launch", args=[campaign.pk]), {"confirm": "yes"})
    assert response.status_code == 302 and Campaign.objects.get().state == "scheduled"


def test_the_wizard_only_edits_drafts(staff, make_template):
    campaign = _campaign(staff, make_template)
    Campaign.objects.filter(pk=campaign.pk).update(state="sent")
    response = staff.get(reverse("wizard:schedule", args=[campaign.pk]))
    assert response.status_code == 302 and response["Location"] == reverse(
        "campaigns:detail", args=[campaign.pk]
    )


def test_staff_without_campaign_permissions_are_refused(client, django_user_model):
    user = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    client.force_login(user)
    assert client.get(reverse("wizard:start")).status_code == 403


def test_audience_count_counts_each_contact_once(staff, make_contacts):
    make_contacts(2, tag="a")
    contacts = make_contacts(1, tag="b")
    contacts[0].tags.add(Tag.objects.get(name="a"))
    ids = list(Tag.objects.values_list("pk", flat=True))
    data = staff.get(reverse("wizard:audience-count"), {"tags": ids}).json()
    assert data == {"total": 3, "valid": 3}


def test_next_with_a_new_template_asks_for_its_variables_first(staff, make_template):
    template = make_template("Hi {{first_name}}")
    start(staff)
    body = staff.post(
        reverse("wizard:template-new"), {"template": template.pk, "action": "next"}
    ).content.decode()
    assert "now say where each variable" in body and "var_first_name_source" in body
    assert "This field is required" not in body and not Campaign.objects.exists()


def test_audience_is_a_searchable_multi_select_served_by_the_admin(staff):
    Tag.objects.create(name="spring-buyers")
    Tag.objects.create(name="autumn")
    body = staff.get(reverse("wizard:start")).content.decode()
    assert 'class="admin-autocomplete' in body and "admin/js/vendor/select2/select2.full" in body
    assert 'data-placeholder="Type to search tags"' in body and "multiple" in body
    found = staff.get(reverse("admin:autocomplete"), {
        "app_label": "campaigns", "model_name": "campaign", "field_name": "tags", "term": "spri"}).json()
    assert [r["text"] for r in found["results"]] == ["spring-buyers"]
