"""whatsapp.py and viber.py: payload mapping."""

from __future__ import annotations

import pytest

from bics import viber, whatsapp
from bics.client import BicsClient
from bics.errors import BicsValidationError

from .conftest import Reply


@pytest.fixture
def client(fake_bics, no_sleep):
    with BicsClient(fake_bics.url, "t0ken-chat-123456", sleep=no_sleep) as c:
        yield c


def test_whatsapp_template_number_is_digits(client, fake_bics):
    whatsapp.create_template(client, name="welcome_1", category="utility", language="en",
                             number="+3220000000", type="text", is_conversation=True,
                             payload={"text": "Hi {{name}}"})
    body = fake_bics.requests[0].json()
    assert body["number"] == "3220000000" and body["is_conversation"] is True


def test_whatsapp_send_template(client, fake_bics):
    fake_bics.queue(Reply(200, {"data": [{"id": "wa1"}], "message": "Messages queued successfully",
                                "status": "OK"}))
    result = whatsapp.send_template(client, to="+32470000001", alias="welcome",
                                    data={"name": "Ann"})
    assert result.ids == ["wa1"]
    assert fake_bics.requests[0].json()["recipient"] == {"mobile": "32470000001"}


def test_viber_template_needs_meta(client, fake_bics):
    with pytest.raises(BicsValidationError, match="meta"):
        client.call("viber.messages.send_template",
                    json={"alias": "a", "data": {}, "recipient": {"mobile": "32470000001"}})
    viber.send_template(client, to="+32470000001", alias="a", data={}, meta={"k": 1})
    assert len(fake_bics.requests) == 1


def test_viber_unsubscriber_types(client, fake_bics):
    with pytest.raises(BicsValidationError):
        viber.create_unsubscriber(client, receiver="+32470000001", type="product")
    viber.create_unsubscriber(client, receiver="+32470000001", type="account")
    assert fake_bics.requests[0].json() == {"receiver": "32470000001", "type": "account"}


def test_dlr_items(client, fake_bics):
    fake_bics.queue(Reply(200, {"code": 200, "data": [{"id": "wa1", "mobile": "32470000001",
                                                       "status": "read"}],
                                "message": "OK", "status": "OK"}))
    dlrs = list(whatsapp.pull_dlr(client, id="wa1"))
    assert dlrs[0].status in whatsapp.MESSAGE_STATUSES and dlrs[0].mobile == "+32470000001"
