"""The JSON API's door: keys, limits and input errors (no BICS call needed)."""

import json
import uuid

import pytest

from tests.verify.conftest import make_otp
from verify import services
from verify.models import ApiClient

pytestmark = pytest.mark.django_db

SEND = "/verify/api/otp/"


def post(client, url, body=None, **headers):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json", headers=headers)


def test_missing_key_is_401_with_a_clear_message(client):
    response = post(client, SEND, {"number": "+32470123456"})
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert "Missing API key" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("key", ["nonsense", "vk_deadbeef_wrong", "Bearer"])
def test_wrong_key_is_401(client, api_key, key):
    response = post(client, SEND, {"number": "+32470123456"}, Authorization=f"Bearer {key}")
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid API key."


def test_right_prefix_wrong_secret_is_401(client, api_key):
    _, raw = api_key
    forged = raw[: raw.rindex("_") + 1] + "x" * 32
    response = post(client, SEND, {"number": "+32470123456"}, Authorization=f"Bearer {forged}")
    assert response.status_code == 401


def test_revoked_key_is_401(client, api_key):
    api_client, raw = api_key
    assert services.api_client_revoke(client=api_client)
    response = post(client, SEND, {"number": "+32470123456"}, Authorization=f"Bearer {raw}")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_x_api_key_header_authenticates_and_bad_input_is_400(client, api_key):
    _, raw = api_key
    response = post(client, SEND, {"number": "0470123456"}, **{"X-Api-Key": raw})
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_input",
        "detail": "The number must be in international format, e.g. +32470123456.",
        "field": "number",
    }
    assert ApiClient.objects.get(pk=api_key[0].pk).last_used_at is not None


@pytest.mark.parametrize(
    "body,field",
    [
        ({}, "number"),
        ({"number": "+3247012"}, "number"),
        ({"number": "+32470123456", "channels": ["sms", "fax"]}, "channels"),
        ({"number": "+32470123456", "channels": ["sms", "sms"]}, "channels"),
        ({"number": "+32470123456", "channels": "sms,carrier-pigeon"}, "channels"),
        ({"number": ["+32470123456"]}, "number"),
    ],
)
def test_invalid_send_input_is_400(client, api_key, body, field):
    response = post(client, SEND, body, Authorization=f"Bearer {api_key[1]}")
    assert response.status_code == 400
    assert response.json()["field"] == field


def test_body_must_be_a_json_object(client, api_key):
    response = client.post(SEND, data="not json", content_type="application/json",
                           headers={"Authorization": f"Bearer {api_key[1]}"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_json"
    response = post(client, SEND, [1, 2], Authorization=f"Bearer {api_key[1]}")
    assert response.status_code == 400


def test_get_is_405(client, api_key):
    assert client.get(SEND, headers={"Authorization": f"Bearer {api_key[1]}"}).status_code == 405


def test_csrf_is_not_needed_with_a_key(api_key):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = post(strict, SEND, {"number": "bad"}, Authorization=f"Bearer {api_key[1]}")
    assert response.status_code == 400  # reached the view: authenticated by the key


def test_check_unknown_or_foreign_request_is_404(client, api_key):
    other, _ = services.api_client_create(name="Other")
    foreign = make_otp(api_client=other, bics_id="x-1")
    auth = {"Authorization": f"Bearer {api_key[1]}"}
    for otp_id in (uuid.uuid4(), foreign.public_id, "not-a-uuid"):
        response = post(client, f"/verify/api/otp/{otp_id}/check/", {"code": "123456"}, **auth)
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"


def test_check_with_a_malformed_code_is_400(client, api_key):
    otp = make_otp(api_client=api_key[0], bics_id="x-2")
    response = post(client, f"/verify/api/otp/{otp.public_id}/check/", {"code": "12/../34"},
                    Authorization=f"Bearer {api_key[1]}")
    assert response.status_code == 400
    assert response.json()["field"] == "code"
    otp.refresh_from_db()
    assert otp.verify_attempts == 0  # the one verification is not spent on bad input


def test_key_limit_per_minute_is_429_with_retry_after(client, api_key, settings):
    settings.VERIFY_MAX_REQUESTS_PER_KEY_PER_MINUTE = 2
    auth = {"Authorization": f"Bearer {api_key[1]}"}
    assert post(client, SEND, {"number": "bad"}, **auth).status_code == 400
    assert post(client, SEND, {"number": "bad"}, **auth).status_code == 400
    response = post(client, SEND, {"number": "bad"}, **auth)
    assert response.status_code == 429
    body = response.json()
    assert body["error"] == "rate_limited"
    assert 1 <= body["retry_after"] <= 60
    assert response["Retry-After"] == str(body["retry_after"])
    # Another key is not affected.
    _, other = services.api_client_create(name="Other")
    assert post(client, SEND, {"number": "bad"}, Authorization=f"Bearer {other}").status_code == 400


def test_keys_are_stored_hashed(api_key):
    api_client, raw = api_key
    stored = ApiClient.objects.get(pk=api_client.pk)
    secret = raw.split("_", 2)[2]
    assert secret not in (stored.key_hash, stored.key_salt, stored.key_prefix)
    assert raw.startswith(f"vk_{stored.key_prefix}_")
    assert services.api_client_authenticate(raw) == stored
