"""The JSON API end to end: other systems send and check OTPs through BICS (sandbox)."""

import json

import pytest

from tests import sandbox_helpers as sb
from verify.models import OtpRequest

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]

SEND = "/verify/api/otp/"


def post(client, url, body, key, **headers):
    return client.post(url, data=json.dumps(body), content_type="application/json",
                       headers={"Authorization": f"Bearer {key}", **headers})


def test_send_and_check_the_right_code(client, api_key, bics_sandbox, settings):
    _, key = api_key
    response = post(client, SEND, {"number": "+32470123456", "channels": ["sms", "viber"]}, key)
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "sent" and body["channels"] == ["sms", "viber"]
    assert body["number"] == "+32••••••456"
    otp = OtpRequest.objects.get(public_id=body["id"])
    text = response.content.decode()
    assert otp.bics_id not in text and settings.BICS_API_TOKEN not in text
    code = sb.code_for(bics_sandbox, otp.bics_id)
    assert code not in text

    check = post(client, f"{SEND}{body['id']}/check/", {"code": code}, key)
    assert check.status_code == 200
    assert check.json()["verified"] is True and check.json()["result"] == "verified"
    assert otp.bics_id not in check.content.decode()

    again = post(client, f"{SEND}{body['id']}/check/", {"code": code}, key)
    assert again.json()["verified"] is False and again.json()["result"] == "already_verified"


def test_wrong_code_is_a_clear_result(client, api_key, bics_sandbox):
    _, key = api_key
    otp_id = post(client, SEND, {"number": "+32470123456"}, key).json()["id"]
    otp = OtpRequest.objects.get(public_id=otp_id)
    wrong = "999999" if sb.code_for(bics_sandbox, otp.bics_id) != "999999" else "888888"
    body = post(client, f"{SEND}{otp_id}/check/", {"code": wrong}, key).json()
    assert body["verified"] is False and body["result"] == "wrong_code"
    assert "send a new OTP" in body["detail"]


def test_idempotency_key_returns_the_first_request(client, api_key, bics_sandbox):
    _, key = api_key
    first = post(client, SEND, {"number": "+32470123456"}, key, **{"Idempotency-Key": "abc"})
    second = post(client, SEND, {"number": "+32470123456"}, key, **{"Idempotency-Key": "abc"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert OtpRequest.objects.count() == 1
    assert sb.send_count(bics_sandbox) == 1


def test_number_limit_is_429_with_the_seconds_to_wait(client, api_key, bics_sandbox, settings):
    settings.VERIFY_MAX_SENDS_PER_NUMBER_PER_HOUR = 1
    _, key = api_key
    assert post(client, SEND, {"number": "+32470123456"}, key).status_code == 201
    response = post(client, SEND, {"number": "+32470123456"}, key)
    assert response.status_code == 429
    assert response.json()["error"] == "rate_limited"
    assert int(response["Retry-After"]) == response.json()["retry_after"] > 0


def test_bics_failure_is_502_without_internals(client, api_key, bics_sandbox, settings):
    settings.BICS_API_TOKEN = ""
    _, key = api_key
    response = post(client, SEND, {"number": "+32470123456"}, key)
    assert response.status_code == 502
    assert response.json()["detail"] == "The OTP could not be sent; try again later."
    assert "BICS_API_TOKEN" not in response.content.decode()


def test_staff_send_test_otp_page_end_to_end(client, staff_full, bics_sandbox):
    client.force_login(staff_full)
    response = client.post("/verify/send/", {"number": "+32470123456", "channels": "whatsapp,sms"})
    otp = OtpRequest.objects.get()
    assert response.status_code == 302 and str(otp.public_id) in response["Location"]
    assert otp.requested_by == staff_full and otp.channels == ["whatsapp", "sms"]
    code = sb.code_for(bics_sandbox, otp.bics_id)
    page = client.post(f"/verify/requests/{otp.public_id}/check/", {"code": code}, follow=True)
    assert "the number is verified" in page.content.decode()
    page = client.post(f"/verify/requests/{otp.public_id}/search/", follow=True)
    assert "BICS status" in page.content.decode()


def test_idempotency_key_reused_for_another_number_is_409(client, api_key, bics_sandbox):
    _, key = api_key
    post(client, SEND, {"number": "+32470123456"}, key, **{"Idempotency-Key": "k1"})
    response = post(client, SEND, {"number": "+32470123457"}, key, **{"Idempotency-Key": "k1"})
    assert response.status_code == 409
    assert response.json()["error"] == "idempotency_conflict"


@pytest.mark.redis
def test_number_limit_through_redis_is_hit_and_reset(client, api_key, bics_sandbox, settings,
                                                     redis_url, redis_client):
    from verify import ratelimit

    settings.VERIFY_RATELIMIT_REDIS_URL = redis_url
    settings.VERIFY_MAX_SENDS_PER_NUMBER_PER_HOUR = 1
    _, key = api_key
    assert post(client, SEND, {"number": "+32470123456"}, key).status_code == 201
    assert post(client, SEND, {"number": "+32470123456"}, key).status_code == 429
    assert redis_client.keys("verify:rl*number:*")  # shared by every process, the number hashed
    ratelimit.reset_number("+32470123456")
    assert post(client, SEND, {"number": "+32470123456"}, key).status_code == 201
