"""verify.py: flat answers and failure statuses."""

from __future__ import annotations

import pytest

from bics import verify
from bics.client import BicsClient
from bics.errors import BicsAuthError, BicsOutcomeUnknown

from .conftest import Reply


@pytest.fixture
def client(fake_bics, no_sleep):
    with BicsClient(fake_bics.url, "t0ken-verify-123456", sleep=no_sleep,
                    timeout=(2, 1.0)) as c:
        yield c


def test_send_otp(client, fake_bics):
    fake_bics.queue(Reply(200, {"id": "165c", "status": "sent", "to": None, "foreign_id": None,
                                "created_at": "2022-11-25 08:59:52",
                                "expire_at": "2022-11-25 09:01:32"}))
    otp = verify.send_otp(client, channels=[{"channel": "sms"}], to="+32470000001")
    assert fake_bics.requests[0].json() == {"channels": [{"channel": "sms"}],
                                            "payload": {"to": "32470000001"}}
    assert (otp.id, otp.status, otp.ok) == ("165c", "sent", True)


@pytest.mark.parametrize("status", ["failed", "expired", "invalid", "OTP already verified"])
def test_verify_failures_are_results_not_errors(client, fake_bics, status):
    fake_bics.queue(Reply(200, {"id": "165c", "status": status}))
    result = verify.verify_otp(client, id="165c", token="1234")
    assert not result.ok and result.reason
    assert fake_bics.requests[0].path == "verify/otp/165c/1234"


def test_verify_success(client, fake_bics):
    fake_bics.queue(Reply(200, {"id": "165c", "status": "success"}))
    assert verify.verify_otp(client, id="165c", token="1234").ok


def test_unauthenticated_is_an_auth_error(client, fake_bics):
    fake_bics.queue(Reply(401, {"status": "Unauthenticated", "code": 401,
                                "message": "Authentication Error"}))
    with pytest.raises(BicsAuthError):
        verify.search_otp(client, id="165c")


def test_verify_is_not_retried_after_a_timeout(client, fake_bics):
    fake_bics.queue(Reply(delay=3.0))
    with pytest.raises(BicsOutcomeUnknown):
        verify.verify_otp(client, id="165c", token="1234")
    assert len(fake_bics.requests) == 1


def test_cancel_is_a_get(client, fake_bics):
    fake_bics.queue(Reply(200, {"id": "165c", "status": "success"}))
    verify.cancel_otp(client, id="165c")
    assert (fake_bics.requests[0].method, fake_bics.requests[0].path) == (
        "GET", "verify/otp/165c/cancel")
