"""Push/pull round trip against the shared BICS sandbox over real HTTP."""

import pytest

from contacts.models import Contact, Segment, Tag
from core import sync
from core.models import SyncState

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]


@pytest.fixture
def sandbox(bics_sandbox):
    return bics_sandbox


def test_contacts_tags_segments_round_trip_through_the_sandbox(sandbox):
    vip = Tag.objects.create(name="vip")
    anna = Contact.objects.create(phone="+32470123456", country="BE", first_name="Anna")
    anna.tags.add(vip)
    segment = Segment.objects.create(name="VIPs")
    segment.positive_tags.add(vip)
    local = Segment.objects.create(name="Belgians", conditions=[{"field": "country", "op": "eq", "value": "BE"}])
    for resource in ("tags", "contacts"):
        result = sync.push(resource)
        assert result.ok, result.summary()
    result = sync.push("segments")
    assert result.ok and not result.as_dict()["failed"], result.summary()
    assert [record for record, _ in result.skipped] == [local]
    anna.refresh_from_db()
    assert anna.sync_state == SyncState.SYNCED and anna.bics_id
    # Forget the local copy, pull it back.
    bics_id = anna.bics_id
    Contact.objects.all().delete()
    result = sync.pull("contacts")
    assert result.ok, result.summary()
    pulled = Contact.objects.get(bics_id=bics_id)
    assert (pulled.phone, pulled.first_name, pulled.sync_state) == ("+32470123456", "Anna", SyncState.SYNCED)
    assert list(pulled.tags.values_list("name", flat=True)) == ["vip"]


def test_large_push_goes_through_the_sandbox_bulk_import(sandbox):
    from contacts.services.sync import contacts_push

    news = Tag.objects.create(name="news")
    for n in range(40):
        contact = Contact.objects.create(phone=f"+3247{n:07d}", country="BE", first_name=f"N{n}")
        contact.tags.add(news)
    result = contacts_push(bulk_min=10, max_bytes=700)
    assert result.ok, result.summary()
    assert not Contact.objects.filter(bics_id__isnull=True).exists()
    assert set(Contact.objects.values_list("sync_state", flat=True)) == {SyncState.SYNCED}


def test_segment_subscribers_at_the_sandbox_match_the_local_count(sandbox):
    from contacts.selectors import segment_contacts
    from contacts.services.sync import segment_pull_subscribers

    vip, news = Tag.objects.create(name="vip"), Tag.objects.create(name="news")
    for n in range(6):
        contact = Contact.objects.create(phone=f"+3247{n:07d}", country="BE")
        contact.tags.add(news)
        if n % 3 == 0:
            contact.tags.add(vip)
    segment = Segment.objects.create(name="News not VIP")
    segment.positive_tags.add(news)
    segment.negative_tags.add(vip)
    for resource in ("tags", "contacts", "segments"):
        assert sync.push(resource).ok
    segment.refresh_from_db()
    assert segment_pull_subscribers(segment=segment) == segment_contacts(segment).count() == 4
