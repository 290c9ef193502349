"""NEEDS-staff (contacts): numbers masked in the contact list, the identifier inline, the
exports and the rejected rows for staff without core.view_full_numbers; whole with it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from contacts.models import Contact, ContactImport, ContactImportRejection, Identifier, Segment, Tag
from core.masking import mask_numbers_in_text

pytestmark = pytest.mark.django_db

NUMBER = "+32470123456"
MASKED = "+32••••••456"


@pytest.fixture
def marketer(django_user_model):
    user = django_user_model.objects.create_user(username="marketer", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="Marketing"))
    return user


@pytest.fixture
def full_numbers(django_user_model):
    user = django_user_model.objects.create_user(username="full", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="Marketing"))
    user.user_permissions.add(Permission.objects.get(content_type__app_label="core", codename="view_full_numbers"))
    return user


@pytest.fixture
def contact():
    contact = Contact.objects.create(phone=NUMBER, country="BE", first_name="Ann")
    contact.tags.add(Tag.objects.create(name="vip"))
    Identifier.objects.create(contact=contact, type="phone", value=NUMBER)
    return contact


@pytest.fixture
def segment(contact):
    segment = Segment.objects.create(name="VIPs")
    segment.positive_tags.add(Tag.objects.get(name="vip"))
    return segment


@pytest.fixture
def rejected_import():
    item = ContactImport.objects.create(original_name="list.csv", state="done", rows_rejected=1)
    ContactImportRejection.objects.create(contact_import=item, line=2, reason="invalid number '+32 470 12 34 56': x",
                                          raw="Bob,+32 470 12 34 56")
    return item


def text(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def test_mask_numbers_in_text():
    assert mask_numbers_in_text("Bob,+32 470 12 34 56,x") == f"Bob,{MASKED},x"
    assert mask_numbers_in_text("line 12345 ok") == "line 12345 ok"  # short runs stay


def test_contact_list_masks_the_number(client, marketer, full_numbers, contact):
    url = reverse("admin:contacts_contact_changelist")
    client.force_login(marketer)
    body = text(client.get(url))
    assert MASKED in body and NUMBER not in body
    client.force_login(full_numbers)
    assert NUMBER in text(client.get(url))


def test_searching_by_the_whole_number_still_finds_it(client, marketer, contact):
    client.force_login(marketer)
    body = text(client.get(reverse("admin:contacts_contact_changelist"), {"q": NUMBER}))
    assert MASKED in body and "Ann" in body


def test_identifier_inline_masked_and_read_only(client, marketer, full_numbers, contact):
    url = reverse("admin:contacts_contact_change", args=[contact.pk])
    client.force_login(marketer)
    body = text(client.get(url))
    assert MASKED in body and 'name="identifiers-0-value"' not in body
    client.force_login(full_numbers)
    assert 'name="identifiers-0-value"' in text(client.get(url))


def test_segment_export_masks_the_number(client, marketer, full_numbers, segment):
    url = reverse("contacts:segment_export", args=[segment.pk])
    client.force_login(marketer)
    body = text(client.get(url))
    assert body.lstrip("\ufeff").startswith("phone,") and MASKED in body and NUMBER not in body
    client.force_login(full_numbers)
    assert NUMBER in text(client.get(url))


def test_export_action_masks_the_number(client, marketer, full_numbers, contact):
    url = reverse("admin:contacts_contact_changelist")
    data = {"action": "export_csv", "_selected_action": [contact.pk]}
    client.force_login(marketer)
    body = text(client.post(url, data))
    assert MASKED in body and NUMBER not in body
    client.force_login(full_numbers)
    assert NUMBER in text(client.post(url, data))


def test_rejected_rows_csv_and_page_mask_the_number(client, marketer, full_numbers, rejected_import):
    csv_url = reverse("contacts:import_rejections", args=[rejected_import.pk])
    page_url = reverse("admin:contacts_contactimport_change", args=[rejected_import.pk])
    client.force_login(marketer)
    body = text(client.get(csv_url))
    assert body.count(MASKED) == 2 and "470 12 34" not in body
    page = text(client.get(page_url))
    assert MASKED in page and "470 12 34" not in page
    client.force_login(full_numbers)
    assert text(client.get(csv_url)).count("+32 470 12 34 56") == 2
    assert "+32 470 12 34 56" in text(client.get(page_url))
