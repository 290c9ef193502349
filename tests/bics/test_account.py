"""account.py: tokens, balance, credits, smart link visits."""

from __future__ import annotations

import pytest

from bics import account
from bics.client import BicsClient

from .conftest import Reply
from .test_client import make_jwt


@pytest.fixture
def client(fake_bics, no_sleep):
    with BicsClient(fake_bics.url, "t0ken-account-123456", sleep=no_sleep) as c:
        yield c


def test_generate_token_and_adopt(client, fake_bics):
    from datetime import UTC, datetime, timedelta

    jwt = make_jwt(datetime.now(UTC) + timedelta(hours=1))
    fake_bics.queue(Reply(200, {"access_token": jwt, "expires_in": 3600,
                                "token_type": "bearer"}))
    token = account.generate_token(client, adopt=True)
    assert jwt not in repr(token)
    assert token.expires_at == client.token_expires_at
    account.me(client)
    assert fake_bics.requests[-1].headers["authorization"] == f"Bearer {jwt}"


def test_add_credits_is_sent_once(client, fake_bics):
    fake_bics.queue(Reply(200, {"status": "OK", "message": "Balance added Successfully"}))
    assert account.add_credits(client, credits="2.34", username="reseller") == (
        "Balance added Successfully")
    assert fake_bics.requests[0].json() == {"credits": "2.34", "service": "",
                                            "username": "reseller"}


def test_smart_link_visits(client, fake_bics):
    fake_bics.queue(Reply(200, {"code": 200, "data": [{"id": "v1", "link_id": 246,
                                                       "mobile": "9189195000"}],
                                "links": {}, "meta": {}, "message": "Visits", "status": "OK"}))
    visits = list(account.list_smart_link_visits(client, id="246"))
    assert visits[0].mobile == "+9189195000"
    assert fake_bics.requests[0].path == "smartlinks/246/visits"
