"""bics/sandbox over real HTTP: auth, _method, envelopes, pagination, 422/404/405/429,
every route answers, route overrides move the sandbox too."""

from __future__ import annotations

import pytest
import requests

from bics.routes import ROUTES
from bics.sandbox import SandboxServer
from bics.shapes import SHAPES

pytestmark = pytest.mark.sandbox

SENDER = {"name": "ACME", "country_code": "BE", "service": "ENT"}
SEND = {"sender": "ACME", "to": ["32470123456"], "message": "Hello", "service": "ENT"}


# ---------------------------------------------------------------------- auth
def test_auth_me_without_token_is_401_with_documented_body(sbapi):
    resp = sbapi.call("auth.me", token="")
    assert resp.status_code == 401
    body = resp.json()
    assert body["code"] == 401
    assert body["status"] and body["message"]


def test_auth_me_with_bearer(sbapi):
    resp = sbapi.call("auth.me")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "OK" and body["code"] == 200 and body["data"]["id"]


def test_auth_me_with_access_token_query(sbapi):
    resp = requests.get(sbapi.path("auth.me"), params={"access_token": "query-token"}, timeout=5)
    assert resp.status_code == 200
    assert resp.json()["data"]["id"]


def test_blank_bearer_is_401(sbapi):
    resp = requests.get(sbapi.path("auth.me"), headers={"Authorization": "Bearer "}, timeout=5)
    assert resp.status_code == 401


def test_each_token_is_its_own_account(sbapi):
    assert sbapi.call("sms.senders.create", json=SENDER).status_code == 200
    assert sbapi.call("sms.senders.list").json()["meta"]["total"] == 1
    assert sbapi.call("sms.senders.list", token="other").json()["meta"]["total"] == 0


def test_configured_tokens_only():
    with SandboxServer(port=0, tokens=("good",)) as server:
        url = server.url + ROUTES["auth.me"].path
        assert requests.get(url, headers={"Authorization": "Bearer good"}, timeout=5).ok
        assert requests.get(url, headers={"Authorization": "Bearer bad"}, timeout=5).status_code == 401


def test_token_generate_and_refresh(sbapi):
    body = sbapi.call("auth.token.generate").json()
    assert body["expires_in"] == 3600 and body["token_type"] == "bearer"
    jwt = body["access_token"]
    assert jwt.count(".") == 2
    assert sbapi.call("auth.me", token=jwt).status_code == 200
    new = sbapi.call("auth.token.refresh", token=jwt).json()["access_token"]
    assert new != jwt
    assert sbapi.call("auth.me", token=new).status_code == 200
    assert sbapi.call("auth.me", token=jwt).status_code == 401  # refresh invalidates
    sbapi.tick(3601)
    assert sbapi.call("auth.me", token=new).status_code == 401  # exp 3600 s


# ---------------------------------------------------------------------- _method
def test_method_override_post_acts_as_delete(sbapi):
    sid = sbapi.call("sms.senders.create", json=SENDER).json()["data"]["id"]
    url = sbapi.path("sms.senders.delete", id=sid)
    resp = requests.post(
        url, params={"_method": "DELETE"}, headers={"Authorization": f"Bearer {sbapi.token}"}, timeout=5
    )
    assert resp.status_code == 200
    assert sbapi.call("sms.senders.get", id=sid).status_code == 404


def test_method_override_put(sbapi):
    sid = sbapi.call("sms.senders.create", json=SENDER).json()["data"]["id"]
    resp = requests.post(
        sbapi.path("sms.senders.update", id=sid),
        params={"_method": "put"},
        json={"country_code": "FR"},
        headers={"Authorization": f"Bearer {sbapi.token}"},
        timeout=5,
    )
    assert resp.status_code == 200
    assert resp.json()["data"]["country_code"] == "FR"


# ---------------------------------------------------------------------- envelopes, pagination
def test_pagination_links_and_meta(sbapi):
    for n in range(23):
        assert sbapi.call("contacts.tags.create", json={"name": f"tag{n:02d}"}).ok
    first = sbapi.call("contacts.tags.list", params={"per_page": 10}).json()
    assert first["status"] == "OK" and first["code"] == 200
    assert len(first["data"]) == 10
    meta, links = first["meta"], first["links"]
    assert meta["current_page"] == 1 and meta["last_page"] == 3 and meta["total"] == 23
    assert meta["per_page"] == 10
    assert set(links) == {"first", "last", "prev", "next"} and links["prev"] is None
    nxt = requests.get(links["next"], headers={"Authorization": f"Bearer {sbapi.token}"}, timeout=5).json()
    assert nxt["meta"]["current_page"] == 2 and nxt["data"][0]["name"] == "tag10"
    last = sbapi.call("contacts.tags.list", params={"per_page": 10, "page": 3}).json()
    assert len(last["data"]) == 3 and last["links"]["next"] is None
    names = [
        t["name"]
        for p in (1, 2, 3)
        for t in sbapi.call("contacts.tags.list", params={"per_page": 10, "page": p}).json()["data"]
    ]
    assert names == [f"tag{n:02d}" for n in range(23)]


def test_filter_name(sbapi):
    for name in ("ALPHA", "BETA", "ALPINE"):
        sbapi.call("sms.senders.create", json={**SENDER, "name": name})
    data = sbapi.call("sms.senders.list", params={"filter[name]": "alp"}).json()["data"]
    assert sorted(d["name"] for d in data) == ["ALPHA", "ALPINE"]


def test_documented_messages_and_send_envelope(sbapi):
    created = sbapi.call("sms.senders.create", json=SENDER).json()
    assert created["message"] == "Sender Saved Successfully"
    sent = sbapi.call("sms.messages.send", json=SEND).json()
    assert sent["status"] == 200 and sent["message"] == "1 numbers accepted for delivery."
    assert sent["group_id"] and sent["data"][0]["id"].startswith(sent["group_id"])


def test_send_to_1000_numbers_is_one_request(sbapi):
    numbers = [f"32470{n:06d}" for n in range(1000)]
    resp = sbapi.call("sms.messages.send", json={**SEND, "to": numbers, "custom": "big"})
    assert resp.status_code == 200
    body = resp.json()
    assert len(body["data"]) == 1000 and len({d["id"] for d in body["data"]}) == 1000
    assert body["message"] == "1000 numbers accepted for delivery."
    assert sbapi.inspect("requests")["counts"]["sms.messages.send"] == 1


# ---------------------------------------------------------------------- 422
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({k: v for k, v in SEND.items() if k != "message"}, "message"),  # missing required
        ({**SEND, "service": "XYZ"}, "service"),  # bad enum
        ({**SEND, "type": "Q"}, "type"),
        ({**SEND, "to": ["+32470123456"]}, "to"),  # '+'
        ({**SEND, "to": ["0032470123456"]}, "to"),  # international access code
        ({**SEND, "to": ["32 470 12 34 56"]}, "to"),  # separators
        ({**SEND, "to": ["32-470-123456"]}, "to"),
        ({**SEND, "to": ["0470123456"]}, "to"),  # no country code (trunk prefix)
        ({**SEND, "time": "2999-01-01 10:00:00"}, "time"),  # > 30 days ahead
        ({**SEND, "time": "tomorrow"}, "time"),
    ],
    ids=[
        "missing",
        "enum-service",
        "enum-type",
        "plus",
        "00",
        "spaces",
        "dashes",
        "no-country-code",
        "time-30-days",
        "time-format",
    ],
)
def test_send_422_field_errors(sbapi, body, field):
    resp = sbapi.call("sms.messages.send", json=body)
    assert resp.status_code == 422
    err = resp.json()
    assert err["code"] == 422 and err["message"] and err["status"]
    assert field in err["errors"], err


def test_time_within_30_days_is_accepted(sbapi):
    from datetime import datetime, timedelta

    when = (datetime.now() + timedelta(days=29)).strftime("%Y-%m-%d %H:%M:%S")
    assert sbapi.call("sms.messages.send", json={**SEND, "time": when}).status_code == 200


def test_create_sender_missing_fields_422(sbapi):
    resp = sbapi.call("sms.senders.create", json={"name": "ACME"})
    assert resp.status_code == 422
    assert {"country_code", "service"} <= set(resp.json()["errors"])


def test_malformed_json_is_400(sbapi):
    resp = sbapi.call("sms.senders.create", data=b"{not json", headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    assert resp.json()["code"] == 400


# ---------------------------------------------------------------------- 404 / 405
def test_unknown_id_404(sbapi):
    for name in (
        "sms.senders.get",
        "sms.templates.get",
        "webhooks.webhooks.get",
        "contacts.contacts.get",
        "contacts.tags.delete",
    ):
        resp = sbapi.call(name, id="999999")
        assert resp.status_code == 404, name
        assert resp.json()["code"] == 404


def test_unknown_path_404_and_wrong_method_405(sbapi):
    assert (
        requests.get(
            sbapi.server.url + "no/such/thing", timeout=5, headers={"Authorization": "Bearer t"}
        ).status_code
        == 404
    )
    assert (
        requests.patch(sbapi.path("auth.me"), timeout=5, headers={"Authorization": "Bearer t"}).status_code
        == 405
    )


# ---------------------------------------------------------------------- 429
def test_1001st_get_in_a_minute_is_429(sbapi):
    session = requests.Session()
    url = sbapi.path("auth.me")
    headers = {"Authorization": "Bearer rate-limited-account"}
    codes = [session.get(url, headers=headers, timeout=5).status_code for _ in range(1000)]
    assert codes == [200] * 1000
    resp = session.get(url, headers=headers, timeout=5)
    assert resp.status_code == 429
    assert int(resp.headers["Retry-After"]) >= 1
    assert resp.json()["code"] == 429
    # POSTs are not limited, other accounts are not affected
    assert sbapi.call("sms.senders.create", json=SENDER, token="rate-limited-account").ok
    assert sbapi.call("auth.me").ok
    sbapi.tick(61)
    assert session.get(url, headers=headers, timeout=5).status_code == 200


# ---------------------------------------------------------------------- every route answers
def _value(field):
    if field.enum:
        return field.enum[0] if field.type != "number" else int(field.enum[0])
    if field.number or field.number_when:
        return "32470123456"
    return {
        "string": "ABCDEF",
        "url": "http://127.0.0.1:9/hook",
        "number": 1,
        "boolean": True,
        "object": {"mobile": "32470123456"},
        "array": [{"channel": "sms", "to": "32470123456"}] if field.items == "object" else ["32470123456"],
        "date": "2024-01-01",
        "datetime": None,
    }.get(field.type)


def _body(name):
    body, files = {}, {}
    for f in SHAPES[name].request:
        if "." in f.name or "[" in f.name:
            continue
        if f.type == "file":
            files[f.name] = ("data.csv", b"32470123456\n")
            continue
        value = _value(f)
        if value is not None and f.required:
            body[f.name] = value
    for group in SHAPES[name].one_of:
        body[group[0]] = "x"
    return body, files


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_every_route_answers_without_server_error(sbapi, name):
    route = ROUTES[name]
    params = {p: "1" for p in ("id", "token", "contact_id", "identifier_id")}
    body, files = _body(name)
    if files:
        resp = sbapi.call(name, files=files, data=body, path_params=params)
    elif route.method in ("GET", "DELETE"):
        resp = sbapi.call(name, params=body, path_params=params)
    else:
        resp = sbapi.call(name, json=body, path_params=params)
    assert resp.status_code < 500, (name, resp.text)
    assert resp.headers["Content-Type"].startswith("application/json")
    resp.json()
    empty = sbapi.call(name, path_params=params)  # no body at all
    assert empty.status_code < 500, (name, empty.text)


# ---------------------------------------------------------------------- route overrides
def test_route_override_moves_the_sandbox():
    overrides = {"auth.me": "GET me/whoami", "sms.senders.get": {"path": "senders/{id}"}}
    with SandboxServer(port=0, route_overrides=overrides) as server:
        h = {"Authorization": "Bearer t"}
        assert requests.get(server.url + "me/whoami", headers=h, timeout=5).ok
        assert requests.get(server.url + "auth/me", headers=h, timeout=5).status_code == 404
        assert requests.get(server.url + "senders/1", headers=h, timeout=5).status_code == 404
        assert (
            requests.get(server.url + "sms/senders/1", headers=h, timeout=5).status_code == 405
        )  # only the list/create/update remain


def test_router_prefers_literal_segments():
    from bics.sandbox.app import Router

    router = Router(ROUTES)
    assert router.match("GET", "verify/otp/abc/cancel")[0].name == "verify.otp.cancel"
    route, params = router.match("GET", "verify/otp/abc/123456")
    assert route.name == "verify.otp.verify" and params == {"id": "abc", "token": "123456"}
    assert router.match("DELETE", "sms/unsubscribers/clean")[0].name == "sms.unsubscribers.clean"
    assert router.match("DELETE", "sms/unsubscribers/7")[0].name == "sms.unsubscribers.delete"
    assert router.match("GET", "voice/calls/status")[0].name == "voice.calls.status"
