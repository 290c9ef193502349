import pytest

from contacts.models import Contact, Tag
from contacts.services.contacts import contact_upsert_from_bics
from core.models import SyncState

pytestmark = pytest.mark.django_db


def test_upsert_from_bics_creates_a_synced_contact():
    contact = contact_upsert_from_bics(
        {"id": "c-1", "phone": "+32470123456", "first_name": "Anna", "tags": ["vip"], "attributes": {"a": "1"}}
    )
    assert (contact.bics_id, contact.sync_state, contact.first_name) == ("c-1", SyncState.SYNCED, "Anna")
    assert list(contact.tags.values_list("name", flat=True)) == ["vip"]
    assert contact.identity == "+32470123456"


def test_event_from_our_own_push_does_not_mark_dirty():
    contact = Contact.objects.create(phone="+32470123456", country="BE", bics_id="c-1", sync_state=SyncState.SYNCED)
    # BICS echoes our push through `contacts:subscriber:subscription`.
    contact_upsert_from_bics({"data": {"id": "c-1", "phone": "32470123456", "first_name": "Anna"}})
    contact.refresh_from_db()
    assert (contact.sync_state, contact.first_name) == (SyncState.SYNCED, "Anna")
    assert Contact.objects.count() == 1


def test_upsert_from_bics_links_by_number_when_never_pushed():
    contact = Contact.objects.create(phone="+32470123456", country="BE")
    contact_upsert_from_bics({"id": "c-9", "phone": "+32 470 12 34 56"})
    contact.refresh_from_db()
    assert (contact.bics_id, contact.sync_state) == ("c-9", SyncState.SYNCED)


def test_upsert_from_bics_never_overwrites_local_edits():
    Contact.objects.create(phone="+32470123456", first_name="Local", bics_id="c-1", sync_state=SyncState.DIRTY)
    contact_upsert_from_bics({"id": "c-1", "phone": "+32470123456", "first_name": "Remote"})
    contact = Contact.objects.get()
    assert (contact.first_name, contact.sync_state) == ("Local", SyncState.DIRTY)


def test_upsert_from_bics_ignores_payload_without_number():
    assert contact_upsert_from_bics({"id": "x"}) is None
    assert not Contact.objects.exists() and not Tag.objects.exists()


def test_demo_seed_is_idempotent():
    from io import StringIO

    from contacts import demo

    demo.seed(stdout=StringIO())
    first = Contact.objects.count()
    demo.seed(stdout=StringIO())
    assert Contact.objects.count() == first >= 250
    assert len({c for c in Contact.objects.values_list("country", flat=True)}) >= 5


def test_upsert_from_bics_reads_the_webhook_envelope():
    event = {"event": "contacts:subscriber:subscription",
             "payload": {"id": "c-7", "phone": "+32470123456", "email": "a@example.com"}}  # fmt: skip
    contact = contact_upsert_from_bics(event)
    assert (contact.bics_id, contact.email, contact.sync_state) == ("c-7", "a@example.com", SyncState.SYNCED)


def test_marketing_group_manages_contacts():
    from django.contrib.auth.models import Group

    codenames = set(Group.objects.get(name="Marketing").permissions.values_list("codename", flat=True))
    assert {"add_contact", "change_contact", "view_segment", "add_contactimport", "change_tag"} <= codenames


def test_import_task_marks_a_refused_file_failed(tmp_path, settings):
    from django.core.files.base import ContentFile

    from contacts.models import ContactImport
    from contacts.tasks import import_contacts

    settings.MEDIA_ROOT = tmp_path
    item = ContactImport(original_name="x.csv")
    item.file.save("x.csv", ContentFile(b"name\nAnna\n"), save=True)
    assert "refused" in import_contacts.delay(item.pk).get()
    item.refresh_from_db()
    assert item.state == "failed" and "No 'phone' column" in item.error
    assert import_contacts.delay(999999).get() == {"skipped": True}
