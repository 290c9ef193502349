"""The launch writes its audience in chunks by contact key, each its own transaction; a crash
between or inside chunks is resumed from the campaign's cursor and writes each recipient once."""

from __future__ import annotations

from collections import Counter

import pytest
from django.urls import reverse

from messaging.campaigns.models import Campaign, Message, SendBatch
from messaging.campaigns.services import writer
from messaging.campaigns.services.campaigns import (
    campaign_finish_if_done,
    campaign_launch,
    campaign_prepare_resume,
)

pytestmark = pytest.mark.django_db
IDENTICAL = "Our shop opens on Monday at nine."


class Crash(Exception):
    pass


@pytest.fixture
def small_chunks(settings):
    settings.CAMPAIGN_LAUNCH_CHUNK = 10
    settings.CAMPAIGN_LAUNCH_CHUNK_PERSONAL = 10


def crash_on(monkeypatch, target, name, call: int):
    """Make ``target.name`` raise on its ``call``-th call (1-based)."""
    original = getattr(target, name)
    calls = []

    def wrapped(*args, **kwargs):
        calls.append(1)
        if len(calls) == call:
            raise Crash(f"{name} call {call}")
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, wrapped)
    return calls


def assert_each_once(campaign: Campaign, contacts) -> None:
    campaign.refresh_from_db()
    rows = list(Message.objects.filter(campaign=campaign).values_list("contact_id", "number", "batch_id"))
    per_contact = Counter(contact for contact, _n, _b in rows)
    assert set(per_contact) == {c.pk for c in contacts}
    assert set(per_contact.values()) == {1}
    assert all(batch for _c, _n, batch in rows)
    sizes = dict(SendBatch.objects.filter(campaign=campaign).values_list("pk", "size"))
    assert Counter(batch for _c, _n, batch in rows) == {pk: n for pk, n in sizes.items() if n}
    assert not campaign.preparing and campaign.prepared_count == len(contacts) == campaign.audience_size


@pytest.mark.parametrize("where", ["inside the third chunk", "between the second and third chunk"])
@pytest.mark.parametrize("text", [IDENTICAL, "Hello {{first_name}}, our shop opens on Monday."])
def test_a_launch_resumed_after_a_crash_writes_each_recipient_once(  # noqa: PLR0913
        make_campaign, make_template, make_contacts, small_chunks, monkeypatch, where, text):
    contacts = make_contacts(25)
    campaign = make_campaign(template=make_template(text), batch_size=4)
    if where.startswith("inside"):  # the chunk's rows and cursor were written, its commit never came
        crash_on(monkeypatch, writer, "_chunk_written", 3)
    else:  # two chunks committed, the process died before the next began
        crash_on(monkeypatch, writer._Writer, "_chunk_end", 3)
    with pytest.raises(Crash):
        campaign_launch(campaign=campaign, now=True, enqueue=False)
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.SENDING and campaign.preparing
    assert campaign.prepared_count == 20 == Message.objects.filter(campaign=campaign).count()
    assert campaign.launch_cursor == contacts[19].pk and campaign.audience_total == 25
    monkeypatch.undo()
    assert campaign_prepare_resume(campaign.pk, enqueue=False) == 25
    assert_each_once(campaign, contacts)
    assert campaign_prepare_resume(campaign.pk, enqueue=False) == 25  # a second resume writes nothing
    assert Message.objects.filter(campaign=campaign).count() == 25


def test_identical_text_is_written_in_batches_per_chunk(make_campaign, make_template, make_contacts, small_chunks):
    contacts = make_contacts(25)
    campaign = make_campaign(template=make_template(IDENTICAL), batch_size=4)
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    assert_each_once(campaign, contacts)
    # chunks of 10 contacts: batches 4+4+2 per chunk, then 4+1; numbered in order, texts shared
    batches = list(SendBatch.objects.filter(campaign=campaign).order_by("number").values_list("number", "size"))
    assert batches == [(1, 4), (2, 4), (3, 2), (4, 4), (5, 4), (6, 2), (7, 4), (8, 1)]
    assert set(SendBatch.objects.filter(campaign=campaign).values_list("text", flat=True)) == {IDENTICAL}
    first = Message.objects.filter(campaign=campaign).order_by("contact_id").first()
    assert first.custom_id == writer.custom_id_for(campaign.pk, contacts[0].pk) and first.text == ""


def test_an_audience_that_became_empty_writes_nothing_and_leaves_no_batch(make_campaign, make_template,
                                                                          make_contacts, small_chunks):
    """Its tag removed after the preview: the chunk's INSERT ... SELECT has no SQL (Django knows
    the set is empty and raised EmptyResultSet); the preparation must end with nobody."""
    make_contacts(5)
    campaign = make_campaign(template=make_template(IDENTICAL), batch_size=4)
    campaign.tags.clear()
    assert writer.write_messages(campaign=campaign) == 0
    assert not Message.objects.filter(campaign=campaign).exists()
    assert not SendBatch.objects.filter(campaign=campaign).exists()
    assert Campaign.objects.get(pk=campaign.pk).preparing is False


def test_opted_out_and_invalid_contacts_are_left_out_of_the_insert(make_campaign, make_template, make_contacts,
                                                                   small_chunks):
    from contacts.models import Contact
    from messaging.catalogue.models import Unsubscriber

    contacts = make_contacts(12)
    Unsubscriber.objects.create(channel="sms", number=contacts[3].phone, type=Unsubscriber.Type.ALL)
    Contact.objects.filter(pk=contacts[5].pk).update(phone="12")
    campaign = make_campaign(template=make_template(IDENTICAL))
    campaign_launch(campaign=campaign, now=True, enqueue=False)
    written = set(Message.objects.filter(campaign=campaign).values_list("contact_id", flat=True))
    assert written == {c.pk for c in contacts} - {contacts[3].pk, contacts[5].pk}


def test_a_preparing_campaign_does_not_finish_and_shows_its_progress(
        admin_client, make_campaign, make_template, make_contacts, small_chunks, monkeypatch):
    make_contacts(25)
    campaign = make_campaign(template=make_template(IDENTICAL))
    crash_on(monkeypatch, writer._Writer, "_chunk_end", 2)
    with pytest.raises(Crash):
        campaign_launch(campaign=campaign, now=True, enqueue=False)
    SendBatch.objects.filter(campaign=campaign).update(state=SendBatch.State.SENT)
    assert not campaign_finish_if_done(campaign.pk)  # later chunks bring more batches
    page = admin_client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert "preparing: 10 of 25" in page


def test_a_stopped_preparation_is_found_by_the_beat(make_campaign, make_template, make_contacts, small_chunks,
                                                    monkeypatch, settings):
    from datetime import timedelta

    from django.utils import timezone

    make_contacts(15)
    campaign = make_campaign(template=make_template(IDENTICAL))
    crash_on(monkeypatch, writer._Writer, "_chunk_end", 2)
    with pytest.raises(Crash):
        campaign_launch(campaign=campaign, now=True, enqueue=False)
    assert writer.stale_preparations() == []  # its last chunk is recent
    later = timezone.now() + timedelta(seconds=settings.CAMPAIGN_PREPARE_STALE + 1)
    assert writer.stale_preparations(now=later) == [campaign.pk]


def test_two_preparers_cannot_write_the_same_chunk(make_campaign, make_template, make_contacts, small_chunks,
                                                   monkeypatch):
    contacts = make_contacts(15)
    campaign = make_campaign(template=make_template(IDENTICAL))
    crash_on(monkeypatch, writer._Writer, "_chunk_end", 2)
    with pytest.raises(Crash):
        campaign_launch(campaign=campaign, now=True, enqueue=False)
    monkeypatch.undo()
    slow = writer._Writer(campaign.pk, None)
    slow.write_sample()
    original = slow._insert_select

    def meanwhile(qs, keys):  # another preparer moves the cursor past this chunk first
        Campaign.objects.filter(pk=campaign.pk).update(launch_cursor=contacts[14].pk)
        return original(qs, keys)

    slow._insert_select = meanwhile
    with pytest.raises(writer.PreparationRaced):
        slow.next_chunk()
    campaign.refresh_from_db()
    assert campaign.launch_cursor == contacts[9].pk  # the raced chunk and its cursor move rolled back
    assert Message.objects.filter(campaign=campaign).count() == 10
    assert campaign_prepare_resume(campaign.pk, enqueue=False) == 15
    assert_each_once(campaign, contacts)
