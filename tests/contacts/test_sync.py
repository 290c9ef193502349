"""Contacts, identifiers, tags and segments through the generic sync, against the BICS sandbox
over real HTTP (tests/conftest.py: bics_sandbox, reset for every test)."""

import pytest
import requests
from django.core.management import call_command

from contacts.models import Contact, Identifier, Segment, Tag
from contacts.services.sync import contacts_push, import_files, segment_pull_subscribers
from core import sync
from core.models import SyncState
from tests.conftest import SANDBOX_TOKEN

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]


class Remote:
    """BICS's side: calls through the product's client, inspection through /_sandbox/."""

    def __init__(self, server):
        self.server = server

    def call(self, route, *, path=None, json=None):
        return sync.bics_request(route, path=path, json=json)

    def get(self, route, bics_id):
        return self.call(route, path={"id": bics_id})

    def requests(self) -> dict:
        """{"counts": {route name: n}, "last": {route name: body}} of this test's account."""
        answer = requests.get(self.server.inspect_url + "requests", params={"token": SANDBOX_TOKEN}, timeout=5)
        answer.raise_for_status()
        return answer.json()

    def count(self, route) -> int:
        return self.requests()["counts"].get(route, 0)

    def configure(self, **config):
        requests.post(self.server.inspect_url + "config", json=config, timeout=5).raise_for_status()


@pytest.fixture
def bics(bics_sandbox):
    return Remote(bics_sandbox)


def make_contact(phone, first_name="", tags=()):
    contact = Contact.objects.create(phone=phone, first_name=first_name)
    for name in tags:
        contact.tags.add(Tag.objects.get_or_create(name=name)[0])
    return contact


def test_resources_are_registered():
    assert {"tags", "contacts", "segments"} <= set(sync.resources())
    assert {type(a).__name__ for a in sync.adapters_for("contacts")} == {"ContactAdapter", "IdentifierAdapter"}


def test_push_then_pull_round_trip(bics):
    anna = make_contact("+32470123456", "Anna", ["vip"])
    segment = Segment.objects.create(name="VIPs")
    segment.positive_tags.add(Tag.objects.get(name="vip"))
    for resource in ("tags", "contacts", "segments"):
        assert sync.push(resource).ok
    anna.refresh_from_db()
    assert anna.sync_state == SyncState.SYNCED and anna.bics_id
    remote = bics.get("contacts.contacts.get", anna.bics_id)
    assert (remote["phone"], remote["identity"], remote["tags"]) == ("+32470123456", "+32470123456", ["vip"])
    assert bics.get("contacts.segments.get", Segment.objects.get().bics_id)["positive_tags"] == ["vip"]

    # Edited at BICS, pulled here; a new contact at BICS arrives with its tags.
    bics.call("contacts.contacts.update", path={"id": anna.bics_id},
              json={"phone": "+32470123456", "first_name": "Annie", "tags": ["vip"]})  # fmt: skip
    hugo_id = bics.call("contacts.contacts.create",
                        json={"identity": "hugo", "phone": "+33612345678", "first_name": "Hugo", "tags": ["new"]})["id"]  # fmt: skip
    result = sync.pull("contacts")
    assert result.ok, result.summary()
    anna.refresh_from_db()
    assert (anna.first_name, anna.sync_state) == ("Annie", SyncState.SYNCED)
    hugo = Contact.objects.get(bics_id=str(hugo_id))
    assert (hugo.phone, hugo.country, hugo.sync_state) == ("+33612345678", "FR", SyncState.SYNCED)
    assert list(hugo.tags.values_list("name", flat=True)) == ["new"]


def test_a_change_of_tags_alone_at_bics_is_pulled(bics):
    anna = make_contact("+32470123456", "Anna", ["vip"])
    assert sync.push("contacts").ok
    anna.refresh_from_db()
    bics.call("contacts.contacts.update", path={"id": anna.bics_id},
              json={"phone": "+32470123456", "first_name": "Anna", "tags": ["vip", "news"]})  # fmt: skip
    result = sync.pull("contacts")
    assert result.counts()["updated"] == 1, result.summary()
    assert sorted(anna.tags.values_list("name", flat=True)) == ["news", "vip"]
    anna.refresh_from_db()
    assert anna.sync_state == SyncState.SYNCED  # a pull never marks it dirty


def test_pull_never_overwrites_a_dirty_contact(bics):
    anna = make_contact("+32470123456", "Anna")
    sync.push("contacts")
    anna.refresh_from_db()
    Contact.objects.filter(pk=anna.pk).update(first_name="Local", sync_state=SyncState.DIRTY)
    bics.call("contacts.contacts.update", path={"id": anna.bics_id},
              json={"phone": "+32470123456", "first_name": "Remote"})  # fmt: skip
    result = sync.pull("contacts")
    assert len(result.conflicts) == 1
    anna.refresh_from_db()
    assert anna.first_name == "Local"


def test_update_push_sends_only_documented_edit_fields(bics):
    anna = make_contact("+32470123456", "Anna")
    sync.push("contacts")
    Contact.objects.filter(pk=anna.pk).update(first_name="Annie", sync_state=SyncState.DIRTY)
    assert sync.push("contacts").counts()["updated"] == 1
    seen = bics.requests()
    assert seen["counts"]["contacts.contacts.update"] == 1
    body = seen["last"]["contacts.contacts.update"]
    assert body["first_name"] == "Annie"
    assert "identity" not in body and "birth_date" not in body


def test_local_only_segment_is_skipped_not_failed_and_says_why(bics, caplog):
    segment = Segment.objects.create(name="Belgians", conditions=[{"field": "country", "op": "eq", "value": "BE"}])
    result = sync.push("segments")
    assert result.ok and result.counts()["failed"] == 0
    assert result.counts()["skipped"] == 1
    assert "local only" in result.skipped[0][1] and "not pushed" in result.skipped[0][1]
    assert "Belgians" in caplog.text and "local only" in caplog.text
    segment.refresh_from_db()
    assert segment.sync_state != SyncState.SYNCED and not segment.bics_id
    assert "local only" in segment.sync_error
    assert not any(route.startswith("contacts.segments") for route in bics.requests()["counts"])


def test_bics_sync_all_push_exits_zero_with_a_local_only_segment(bics, capsys, caplog):
    make_contact("+32470123456", "Anna", ["vip"])
    Segment.objects.create(name="Belgians", conditions=[{"field": "country", "op": "eq", "value": "BE"}])
    call_command("bics_sync", "all", "--push")  # raises CommandError (exit 1) on a failure
    out = capsys.readouterr().out
    assert "push segments:" in out and "skipped=1" in out and "failed=0" in out
    assert "Belgians" in caplog.text and "not pushed: local only" in caplog.text


def test_pulled_segment_gets_its_tag_rules(bics):
    remote_id = bics.call("contacts.segments.create", json={"name": "Remote"})["id"]
    bics.call("contacts.segments.update", path={"id": remote_id}, json={
        "name": "Remote", "positive_tags": ["a", "b"], "positive_tags_operator": "any",
        "negative_tags": ["c"], "negative_tags_operator": "any",
    })  # fmt: skip
    assert sync.pull("segments").ok
    segment = Segment.objects.get(bics_id=str(remote_id))
    assert sorted(segment.positive_tags.values_list("name", flat=True)) == ["a", "b"]
    assert list(segment.negative_tags.values_list("name", flat=True)) == ["c"]
    assert not segment.local_only


def test_segment_subscribers_are_counted_for_comparison(bics):
    for phone in ("+32470123456", "+32470123457"):
        bics.call("contacts.contacts.create", json={"identity": phone, "phone": phone, "tags": ["s9"]})
    remote_id = bics.call("contacts.segments.create", json={"name": "S"})["id"]
    bics.call("contacts.segments.update", path={"id": remote_id}, json={
        "name": "S", "positive_tags": ["s9"], "positive_tags_operator": "any",
        "negative_tags": [], "negative_tags_operator": "any",
    })  # fmt: skip
    segment = Segment.objects.create(name="S", bics_id=str(remote_id), sync_state=SyncState.SYNCED)
    assert segment_pull_subscribers(segment=segment) == 2
    segment.refresh_from_db()
    assert segment.remote_subscriber_count == 2 and segment.remote_counted_at


def test_import_files_are_split_under_the_limit():
    for n in range(60):
        make_contact(f"+3247{n:07d}", f"Name{n}", ["t"])
    files = list(import_files(Contact.objects.all(), max_bytes=1000))
    assert len(files) > 1
    assert sum(count for _, count in files) == 60
    for content, _ in files:
        assert len(content) <= 1000
        assert content.startswith(b"identity,phone,")


@pytest.fixture
def uploads(monkeypatch):
    """The files handed to bics.contacts.import_contacts (which still sends them)."""
    import bics.contacts

    seen, real = [], bics.contacts.import_contacts

    def spy(client, *, file, filename=None):
        seen.append(file)
        return real(client, file=file, filename=filename)

    monkeypatch.setattr(bics.contacts, "import_contacts", spy)
    return seen


def test_large_push_uses_the_bulk_import_and_links_ids(bics, uploads):
    for n in range(30):
        make_contact(f"+3247{n:07d}", f"Name{n}", ["t"])
    result = contacts_push(bulk_min=10, max_bytes=800)
    assert result.ok, result.summary()
    assert result.counts()["created"] == 30
    assert len(uploads) > 1 and all(len(u) <= 800 for u in uploads)
    assert bics.count("contacts.imports.create") == len(uploads)
    assert bics.count("contacts.contacts.create") == 0
    assert Contact.objects.filter(bics_id__isnull=True).count() == 0
    assert set(Contact.objects.values_list("sync_state", flat=True)) == {SyncState.SYNCED}
    assert len(set(Contact.objects.values_list("bics_id", flat=True))) == 30
    remote = bics.get("contacts.contacts.get", Contact.objects.get(phone="+32470000007").bics_id)
    assert (remote["first_name"], remote["tags"]) == ("Name7", ["t"])


def test_bics_sync_contacts_push_goes_through_the_bulk_import(bics, uploads, monkeypatch):
    from contacts.sync_adapters import ContactAdapter

    monkeypatch.setattr(ContactAdapter, "bulk_min", 10)
    monkeypatch.setattr(ContactAdapter, "max_bytes", 700)
    already = make_contact("+32479999999", "Old")
    assert sync.push("contacts").counts()["created"] == 1  # one new contact: one by one
    Contact.objects.filter(pk=already.pk).update(first_name="Older", sync_state=SyncState.DIRTY)
    for n in range(25):
        make_contact(f"+3247{n:07d}", f"Name{n}")
    call_command("bics_sync", "contacts", "--push")
    assert len(uploads) > 1 and all(len(u) <= 700 for u in uploads)
    assert bics.count("contacts.contacts.create") == 1 and bics.count("contacts.contacts.update") == 1
    assert set(Contact.objects.values_list("sync_state", flat=True)) == {SyncState.SYNCED}


def test_refused_bulk_file_leaves_its_contacts_failed_with_the_reason(bics, uploads):
    for n in range(12):
        make_contact(f"+3247{n:07d}", f"Name{n}")
    bics.configure(faults=[{"kind": "error", "status": 422, "routes": ["contacts.imports.create"]}])
    result = contacts_push(bulk_min=10)
    assert result.counts()["failed"] == 12
    contact = Contact.objects.first()
    assert contact.sync_state == SyncState.FAILED and "bulk import refused" in contact.sync_error
    assert not Contact.objects.exclude(bics_id=None).exists()


def test_bics_sync_command_knows_contacts_tags_segments(bics, capsys):
    make_contact("+32470123456", "Anna", ["vip"])
    call_command("bics_sync", "all", "--push")
    assert Contact.objects.get().sync_state == SyncState.SYNCED
    assert Tag.objects.get().sync_state == SyncState.SYNCED


def test_admin_push_and_compare_actions(admin_client, bics):
    from django.urls import reverse

    anna = make_contact("+32470123456", "Anna", ["vip"])
    Identifier.objects.create(contact=anna, type="email", value="anna@example.com")
    response = admin_client.post(
        reverse("admin:contacts_contact_changelist"),
        {"action": "push_to_bics", "_selected_action": [anna.pk]},
        follow=True,
    )
    assert "created" in response.content.decode()
    anna.refresh_from_db()
    assert anna.sync_state == SyncState.SYNCED
    assert Identifier.objects.get().sync_state == SyncState.SYNCED  # pushed with its contact
    segment = Segment.objects.create(name="All")
    segment.positive_tags.add(Tag.objects.get(name="vip"))
    admin_client.post(reverse("admin:contacts_segment_changelist"), {"action": "push_to_bics", "_selected_action": [segment.pk]})
    segment.refresh_from_db()
    assert segment.bics_id
    response = admin_client.post(
        reverse("admin:contacts_segment_changelist"),
        {"action": "compare_with_bics", "_selected_action": [segment.pk]},
        follow=True,
    )
    assert "1 subscribers at BICS, 1 here" in response.content.decode()


def test_new_segment_is_created_then_edited_with_its_rules(bics):
    segment = Segment.objects.create(name="VIPs")
    segment.positive_tags.add(Tag.objects.create(name="vip"))
    assert sync.push("segments").ok
    seen = bics.requests()
    assert seen["counts"]["contacts.segments.create"] == 1 and seen["counts"]["contacts.segments.update"] == 1
    assert seen["last"]["contacts.segments.create"] == {"name": "VIPs"}
    assert seen["last"]["contacts.segments.update"]["positive_tags"] == ["vip"]
    segment.refresh_from_db()
    assert bics.get("contacts.segments.get", segment.bics_id)["positive_tags"] == ["vip"]


def test_refused_segment_rules_leave_the_segment_failed_and_are_sent_again(bics):
    segment = Segment.objects.create(name="VIPs")
    bics.configure(faults=[{"kind": "error", "status": 422, "routes": ["contacts.segments.update"]}])
    sync.push("segments")
    segment.refresh_from_db()
    assert segment.bics_id and segment.sync_state == SyncState.FAILED
    assert "rules were refused" in segment.sync_error and "sandbox fault" in segment.sync_error
    bics.configure(faults=[])
    assert sync.push("segments").counts()["updated"] == 1
    segment.refresh_from_db()
    assert segment.sync_state == SyncState.SYNCED


# ------------------------------------------------------------------ identifiers
def test_identifiers_are_pushed_under_their_contact_and_edited(bics):
    anna = make_contact("+32470123456", "Anna")
    email = Identifier.objects.create(contact=anna, type="email", value="anna@example.com")
    result = sync.push("contacts")
    assert result.ok, result.summary()
    assert result.counts()["created"] == 2
    anna.refresh_from_db()
    email.refresh_from_db()
    assert email.sync_state == SyncState.SYNCED and email.bics_id
    remote = bics.call("contacts.identifiers.get", path={"contact_id": anna.bics_id, "identifier_id": email.bics_id})
    assert (str(remote["contact_id"]), remote["type"], remote["value"]) == (anna.bics_id, "email", "anna@example.com")

    Identifier.objects.filter(pk=email.pk).update(value="anna@example.org", sync_state=SyncState.DIRTY)
    result = sync.push("contacts")
    assert result.counts()["updated"] == 1 and result.counts()["unchanged"] == 1, result.summary()
    remote = bics.call("contacts.identifiers.get", path={"contact_id": anna.bics_id, "identifier_id": email.bics_id})
    assert remote["value"] == "anna@example.org"
    assert sync.push("contacts").counts()["unchanged"] == 2


def test_an_identifier_whose_contact_failed_is_failed_with_the_reason(bics):
    anna = make_contact("+32470123456", "Anna")
    Identifier.objects.create(contact=anna, type="email", value="anna@example.com")
    bics.configure(faults=[{"kind": "error", "status": 422, "routes": ["contacts.contacts.create"]}])
    result = sync.push("contacts")
    assert result.counts()["failed"] == 2
    identifier = Identifier.objects.get()
    assert identifier.sync_state == SyncState.FAILED and "push the contact first" in identifier.sync_error
    assert bics.count("contacts.identifiers.create") == 0


def test_identifiers_are_pulled_with_their_contact(bics):
    contact_id = bics.call("contacts.contacts.create", json={"identity": "zoe", "phone": "+32470123999"})["id"]
    made = bics.call("contacts.identifiers.create", path={"contact_id": contact_id},
                     json={"type": "email", "value": "zoe@example.com"})  # fmt: skip
    result = sync.pull("contacts")
    assert result.ok, result.summary()
    identifier = Identifier.objects.get()
    assert (identifier.bics_id, identifier.contact.bics_id) == (str(made["id"]), str(contact_id))
    assert (identifier.type, identifier.value, identifier.sync_state) == ("email", "zoe@example.com", SyncState.SYNCED)
    bics.call("contacts.identifiers.update", path={"contact_id": contact_id, "identifier_id": made["id"]},
              json={"type": "email", "value": "zoe@example.org"})  # fmt: skip
    assert sync.pull("contacts").counts()["updated"] == 1
    identifier.refresh_from_db()
    assert identifier.value == "zoe@example.org"


def test_a_never_pushed_identifier_is_linked_by_a_pull_not_duplicated(bics):
    contact_id = bics.call("contacts.contacts.create", json={"identity": "zoe", "phone": "+32470123999"})["id"]
    made = bics.call("contacts.identifiers.create", path={"contact_id": contact_id},
                     json={"type": "phone", "value": "+32470123998"})  # fmt: skip
    zoe = Contact.objects.create(phone="+32470123999", bics_id=str(contact_id), sync_state=SyncState.SYNCED)
    Identifier.objects.create(contact=zoe, type="phone", value="+32470123998")
    assert sync.pull("contacts").ok
    assert list(Identifier.objects.values_list("bics_id", flat=True)) == [str(made["id"])]
