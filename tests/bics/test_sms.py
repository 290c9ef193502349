"""sms.py: payload mapping and results."""

from __future__ import annotations

from datetime import datetime

import pytest

from bics import sms
from bics.client import BicsClient

from .conftest import Reply


@pytest.fixture
def client(fake_bics, no_sleep):
    with BicsClient(fake_bics.url, "t0ken-sms-123456", sleep=no_sleep) as c:
        yield c


def test_send_message_payload_and_result(client, fake_bics):
    fake_bics.queue(Reply(200, {"data": [{"id": "g1:1", "mobile": "32470000001"}],
                                "message": "1 numbers accepted for delivery.",
                                "group_id": "g1", "status": 200}))
    result = sms.send_message(client, to=["+32470000001"], message="Hi", sender="ACME",
                              service="ENT", custom="batch-1", time=datetime(2026, 12, 1, 9, 30),
                              flash=True, max_units=2, webhook_id="w1")
    body = fake_bics.requests[0].json()
    # no type given: none is sent (the documentation states no default to assume)
    assert body == {"sender": "ACME", "to": ["32470000001"], "message": "Hi", "service": "ENT",
                    "time": "2026-12-01 09:30:00", "flash": 1, "custom": "batch-1",
                    "max_units": 2, "webhook_id": "w1"}
    assert result.group_id == "g1" and result.ids == ["g1:1"]
    assert result.message.startswith("1 numbers")


def test_send_template_uses_recipient_mobile(client, fake_bics):
    sms.send_template(client, to="+32470000001", alias="welcome", data={"name": "Ann"})
    assert fake_bics.requests[0].json() == {"alias": "welcome", "data": {"name": "Ann"},
                                            "recipient": {"mobile": "32470000001"}}
    with pytest.raises(ValueError, match="alias or id"):
        sms.send_template(client, to="+32470000001", data={})


def test_create_sender_maps_sender_id_to_name(client, fake_bics):
    fake_bics.queue(Reply(200, {"code": 200, "data": {"id": 12, "name": "ACME", "status": 0},
                                "message": "Sender Saved Successfully", "status": "OK"}))
    sender = sms.create_sender(client, sender_id="ACME", country_code="BE", service="ENT")
    assert fake_bics.requests[0].json() == {"country_code": "BE", "name": "ACME",
                                            "service": "ENT"}
    assert (sender.id, sender.name, sender.state) == ("12", "ACME", "pending")
    assert sender.raw["status"] == 0


def test_unsubscriber_numbers_round_trip(client, fake_bics):
    fake_bics.queue(Reply(200, {"code": 200, "data": [{"id": 1, "receiver": "32470000001",
                                                       "type": "all"}],
                                "links": {}, "meta": {}, "status": "OK"}))
    items = list(sms.list_unsubscribers(client, receiver="+32470000001"))
    assert fake_bics.requests[0].query == {"filter[receiver]": "32470000001"}
    assert items[0].receiver == "+32470000001" and items[0].id == "1"


def test_import_is_multipart(client, fake_bics):
    fake_bics.queue(Reply(200, {"message": "Receivers accepted for import", "status": "OK"}))
    accepted = sms.import_unsubscribers(client, file=b"32470000001\n", filename="optouts.csv")
    seen = fake_bics.requests[0]
    assert seen.headers["content-type"].startswith("multipart/form-data")
    assert b'filename="optouts.csv"' in seen.body
    assert accepted.message == "Receivers accepted for import"


def test_import_refuses_wrong_file_types_before_sending(client, fake_bics):
    from bics.errors import BicsValidationError

    with pytest.raises(BicsValidationError, match="Supported file types"):
        sms.import_unsubscribers(client, file=b"x", filename="optouts.pdf")
    assert fake_bics.requests == []


def test_pull_dlr_filters_and_dates(client, fake_bics):
    from datetime import date

    list(sms.pull_dlr(client, cid="batch-1", date=date(2026, 11, 29), mobile="+32470000001"))
    assert fake_bics.requests[0].query == {"cid": "batch-1", "date": "2026-11-29",
                                           "mobile": "32470000001"}
