"""contacts.py: payload mapping."""

from __future__ import annotations

from datetime import date

import pytest

from bics import contacts
from bics.client import BicsClient

from .conftest import Reply


@pytest.fixture
def client(fake_bics, no_sleep):
    with BicsClient(fake_bics.url, "t0ken-contacts-123456", sleep=no_sleep) as c:
        yield c


def test_create_contact(client, fake_bics):
    fake_bics.queue(Reply(200, {"code": 200, "data": {"id": 77, "phone": "+32470000001"},
                                "message": "Subscriber created successfully",
                                "status": "OK"}))
    contact = contacts.create_contact(client, identity="c-1", phone="+32470000001",
                                      birth_date=date(1994, 3, 16), tags=["vip"])
    assert fake_bics.requests[0].json() == {"identity": "c-1", "phone": "+32470000001",
                                            "birth_date": "1994-03-16", "tags": ["vip"]}
    assert contact.id == "77"


def test_identifier_paths(client, fake_bics):
    contacts.update_identifier(client, contact_id="c1", identifier_id="i9", type="email",
                               value="a@b.example")
    assert fake_bics.requests[0].path == "contacts/c1/identifiers/i9"


def test_segment_lists_accept_an_object(client, fake_bics):
    fake_bics.queue(Reply(200, {"data": {"1": {"id": 1, "name": "a"}, "2": {"id": 2, "name": "b"}},
                                "message": "OK", "status": 200}))
    assert [s.name for s in contacts.list_segments(client)] == ["a", "b"]


def test_update_segment_sends_all_rule_fields(client, fake_bics):
    contacts.update_segment(client, id="s1", name="vip", positive_tags=["vip"],
                            negative_tags=[])
    assert fake_bics.requests[0].json() == {
        "name": "vip", "positive_tags": ["vip"], "positive_tags_operator": "any",
        "negative_tags": [], "negative_tags_operator": "any"}


def test_import_contacts_file_limit(client, fake_bics):
    from bics.errors import BicsValidationError

    with pytest.raises(BicsValidationError, match="5 MB"):
        contacts.import_contacts(client, file=b"x" * (5 * 1024 * 1024 + 1),
                                 filename="c.csv")
    fake_bics.queue(Reply(200, {"code": 200, "data": {"id": "imp1"},
                                "message": "2 subscriber(s) imported successfully",
                                "status": "OK"}))
    result = contacts.import_contacts(client, file=b"+32470000001\n", filename="c.csv")
    assert result.id == "imp1" and result.message.startswith("2 subscriber")
