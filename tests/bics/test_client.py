"""BicsClient against a scripted loopback HTTP server (tests/bics/conftest.py: fake_bics)."""

from __future__ import annotations

import base64
import json
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest

from bics.client import BicsClient, BicsResponse, jwt_expiry
from bics.errors import (
    BicsAuthError,
    BicsConflict,
    BicsError,
    BicsNotFound,
    BicsOutcomeUnknown,
    BicsRateLimited,
    BicsServerError,
    BicsTransportError,
    BicsValidationError,
)
from tools.throwaway_postgres import free_port

from .conftest import Reply

TOKEN = "tok-SECRET-0123456789abcdef"  # noqa: S105 - test value
SEND = {"to": ["+32470000001"], "sender": "ACME", "message": "hello there", "service": "ENT"}


def make_jwt(exp: datetime, sub: str = "10") -> str:
    def b64(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return ".".join([b64({"typ": "JWT", "alg": "RS256"}),
                     b64({"exp": int(exp.timestamp()), "sub": sub}), "c2lnbmF0dXJl"])


@pytest.fixture
def client(fake_bics, no_sleep):
    c = BicsClient(fake_bics.url, TOKEN, sleep=no_sleep, backoff=0.01)
    yield c
    c.close()


def ok(data=None, **extra) -> Reply:
    return Reply(200, {"code": 200, "data": {} if data is None else data, "message": "OK",
                       "status": "OK", **extra})


# ---------------------------------------------------------------- auth and request shape
def test_bearer_header_and_accept(client, fake_bics):
    resp = client.call("sms.senders.get", path_params={"id": "42"})
    seen = fake_bics.requests[-1]
    assert isinstance(resp, BicsResponse)
    assert (seen.method, seen.path) == ("GET", "sms/senders/42")
    assert seen.headers["authorization"] == f"Bearer {TOKEN}"
    assert seen.headers["accept"] == "application/json"
    assert "access_token" not in seen.query


def test_access_token_query_only_when_configured(fake_bics, no_sleep):
    with BicsClient(fake_bics.url, TOKEN, use_query_token=True, sleep=no_sleep) as c:
        c.call("auth.me")
    seen = fake_bics.requests[-1]
    assert seen.path == "auth/me"
    assert seen.query["access_token"] == TOKEN


def test_method_override_only_when_configured(fake_bics, no_sleep):
    with BicsClient(fake_bics.url, TOKEN, use_method_override=True, sleep=no_sleep) as c:
        c.call("sms.senders.update", path_params={"id": "7"}, json={"service": "ENT"})
        c.call("sms.senders.delete", path_params={"id": "7"})
        c.call("sms.senders.list")
    upd, dele, lst = fake_bics.requests
    assert (upd.method, upd.query.get("_method"), upd.path) == ("POST", "PUT", "sms/senders/7")
    assert upd.json() == {"service": "ENT"}
    assert (dele.method, dele.query.get("_method")) == ("POST", "DELETE")
    assert lst.method == "GET" and "_method" not in lst.query


def test_without_override_real_methods_are_used(client, fake_bics):
    client.call("sms.senders.update", path_params={"id": "7"}, json={"service": "ENT"})
    client.call("sms.senders.delete", path_params={"id": "7"})
    assert [r.method for r in fake_bics.requests] == ["PUT", "DELETE"]
    assert all("_method" not in r.query for r in fake_bics.requests)


def test_path_params_are_quoted_and_required(client, fake_bics):
    client.call("sms.senders.get", path_params={"id": "a/b c"})
    assert fake_bics.requests[-1].path == "sms/senders/a%2Fb%20c"
    with pytest.raises(ValueError, match="missing path parameter 'id'"):
        client.call("sms.senders.get")
    with pytest.raises(ValueError, match="empty"):
        client.call("sms.senders.get", path_params={"id": ""})
    with pytest.raises(ValueError, match="unknown BICS route"):
        client.call("sms.nothing")


def test_route_overrides_through_the_constructor(fake_bics, no_sleep):
    with BicsClient(fake_bics.url, TOKEN, routes={"sms.senders.list": "GET v9/senders"},
                    sleep=no_sleep) as c:
        c.call("sms.senders.list")
    assert fake_bics.requests[-1].path == "v9/senders"
    with pytest.raises(ValueError, match="unknown"):
        BicsClient(fake_bics.url, TOKEN, routes={"nope.nope.nope": "GET x"})


def test_envelope_is_parsed(client, fake_bics):
    fake_bics.queue(Reply(200, {"code": 200, "data": [{"id": 1}], "links": {"next": None},
                                "meta": {"current_page": 1}, "message": "Senders List",
                                "status": "OK"}))
    resp = client.call("sms.senders.list")
    assert resp.http_status == 200 and resp.status == "OK" and resp.code == 200
    assert resp.message == "Senders List" and resp.data == [{"id": 1}]
    assert resp.links == {"next": None} and resp.meta == {"current_page": 1}


# ---------------------------------------------------------------- retries
def test_429_is_retried_honouring_retry_after(client, fake_bics, no_sleep):
    fake_bics.queue(Reply(429, {"status": "error", "message": "Too Many"},
                          headers={"Retry-After": "2"}), ok())
    client.call("sms.senders.list")
    assert len(fake_bics.requests) == 2
    assert no_sleep.calls and no_sleep.calls[0] >= 2


def test_429_is_retried_even_for_a_send(client, fake_bics, no_sleep):
    fake_bics.queue(Reply(429, {"message": "slow down"}, headers={"Retry-After": "1"}),
                    Reply(200, {"data": [], "message": "1 numbers accepted for delivery.",
                                "group_id": "g-1", "status": 200}))
    resp = client.call("sms.messages.send", json=SEND)
    assert resp.raw["group_id"] == "g-1"
    assert len(fake_bics.requests) == 2


def test_5xx_is_retried_then_succeeds_for_reads(client, fake_bics, no_sleep):
    fake_bics.queue(Reply(500, {"message": "boom"}), Reply(502, "bad gateway"), ok({"id": "5"}))
    resp = client.call("sms.senders.get", path_params={"id": "5"})
    assert resp.data == {"id": "5"}
    assert len(fake_bics.requests) == 3
    assert len(no_sleep.calls) == 2
    assert no_sleep.calls[1] >= no_sleep.calls[0] * 0.5  # grows (with jitter)


def test_backoff_is_exponential_with_jitter(fake_bics, no_sleep):
    fake_bics.queue(*[Reply(500, {"message": "x"})] * 4)
    with BicsClient(fake_bics.url, TOKEN, retries=3, backoff=1.0, sleep=no_sleep) as c, \
            pytest.raises(BicsServerError):
        c.call("sms.senders.list")
    assert len(no_sleep.calls) == 3
    for attempt, delay in enumerate(no_sleep.calls, start=1):
        assert 2 ** (attempt - 1) / 2 <= delay <= 2 ** (attempt - 1)


def test_idempotent_write_is_retried_on_5xx(client, fake_bics):
    fake_bics.queue(Reply(503, {"message": "later"}), ok({"id": "9"}))
    client.call("sms.senders.update", path_params={"id": "9"}, json={"service": "ENT"})
    assert [r.method for r in fake_bics.requests] == ["PUT", "PUT"]


def test_retries_exhausted_raise_server_error(client, fake_bics):
    fake_bics.queue(*[Reply(500, {"message": "down", "status": "error"})] * 4)
    with pytest.raises(BicsServerError) as info:
        client.call("sms.senders.list")
    assert len(fake_bics.requests) == 4  # 1 + retries=3
    assert info.value.http_status == 500
    assert "sms.senders.list" in str(info.value)


def test_send_is_not_retried_after_a_read_timeout(fake_bics, no_sleep):
    fake_bics.queue(Reply(delay=1.0))
    with BicsClient(fake_bics.url, TOKEN, timeout=(1, 0.3), sleep=no_sleep) as c, \
            pytest.raises(BicsOutcomeUnknown) as info:
        c.call("sms.messages.send", json=SEND)
    assert len(fake_bics.requests) == 1
    assert no_sleep.calls == []
    assert "reconcile" in str(info.value)
    assert isinstance(info.value, BicsTransportError)


def test_send_is_not_retried_after_a_dropped_connection(client, fake_bics, no_sleep):
    fake_bics.queue(Reply(drop=True))
    with pytest.raises(BicsOutcomeUnknown):
        client.call("sms.messages.send", json=SEND)
    assert len(fake_bics.requests) == 1


def test_send_500_is_outcome_unknown_but_503_is_retried(client, fake_bics):
    fake_bics.queue(Reply(500, {"message": "oops"}))
    with pytest.raises(BicsOutcomeUnknown) as info:
        client.call("sms.messages.send", json=SEND)
    assert info.value.http_status == 500
    assert len(fake_bics.requests) == 1
    fake_bics.queue(Reply(503, {"message": "maintenance"}),
                    Reply(200, {"data": [], "message": "ok", "group_id": "g", "status": 200}))
    client.call("sms.messages.send", json=SEND)
    assert len(fake_bics.requests) == 3


def test_send_is_retried_when_the_connection_was_refused(no_sleep):
    port = free_port()  # nothing listens: the request never left
    with BicsClient(f"http://127.0.0.1:{port}/api/v2/", TOKEN, retries=2, sleep=no_sleep) as c, \
            pytest.raises(BicsTransportError) as info:
        c.call("sms.messages.send", json=SEND)
    assert not isinstance(info.value, BicsOutcomeUnknown)
    assert len(no_sleep.calls) == 2  # retried twice


def test_read_is_retried_after_a_read_timeout(fake_bics, no_sleep):
    fake_bics.queue(Reply(delay=3.0), ok({"id": "1"}))  # the retry's answer must beat the timeout, even under load
    with BicsClient(fake_bics.url, TOKEN, timeout=(2, 1.0), sleep=no_sleep) as c:
        resp = c.call("sms.senders.get", path_params={"id": "1"})
    assert resp.data == {"id": "1"}
    assert len(fake_bics.requests) == 2


def test_timeouts_bound_the_call(fake_bics, no_sleep):
    fake_bics.queue(*[Reply(delay=2.0)] * 2)
    with BicsClient(fake_bics.url, TOKEN, timeout=(1, 0.2), retries=1, sleep=no_sleep) as c:
        started = time.monotonic()
        with pytest.raises(BicsTransportError, match="timeout"):
            c.call("sms.senders.list")
        assert time.monotonic() - started < 1.5


def test_huge_retry_after_is_not_slept(client, fake_bics, no_sleep):
    fake_bics.queue(Reply(429, {"message": "quota"}, headers={"Retry-After": "3600"}))
    with pytest.raises(BicsRateLimited) as info:
        client.call("sms.senders.list")
    assert info.value.retry_after == 3600
    assert no_sleep.calls == []


# ---------------------------------------------------------------- error mapping
@pytest.mark.parametrize(("status", "cls"), [
    (400, BicsValidationError), (401, BicsAuthError), (403, BicsAuthError),
    (404, BicsNotFound), (409, BicsConflict), (422, BicsValidationError),
    (429, BicsRateLimited), (500, BicsServerError), (502, BicsServerError),
    (503, BicsServerError), (418, BicsError),
])
def test_error_mapping(fake_bics, no_sleep, status, cls):
    fake_bics.queue(Reply(status, {"status": "error", "code": status, "message": "nope"},
                          headers={"Retry-After": "1"} if status == 429 else {}))
    with BicsClient(fake_bics.url, TOKEN, retries=0, sleep=no_sleep) as c, \
            pytest.raises(cls) as info:
        c.call("sms.senders.get", path_params={"id": "1"})
    err = info.value
    assert type(err) is cls
    assert (err.operation, err.http_status, err.status, err.code, err.message) == (
        "sms.senders.get", status, "error", status, "nope")
    assert "sms.senders.get" in str(err) and "nope" in str(err)
    if status == 429:
        assert err.retry_after == 1


def test_validation_error_carries_field_errors(client, fake_bics):
    fake_bics.queue(Reply(422, {"status": "error", "code": 422, "message": "invalid",
                                "errors": {"name": ["The name has already been taken."]}}))
    with pytest.raises(BicsValidationError) as info:
        client.call("sms.senders.create", json={"country_code": "BE", "name": "ACME",
                                                "service": "ENT"})
    assert info.value.field_errors == {"name": ["The name has already been taken."]}
    assert "name: The name has already been taken." in str(info.value)


def test_ok_http_with_failed_bics_status_is_an_error(client, fake_bics):
    fake_bics.queue(Reply(200, {"status": "error", "code": 404, "message": "No sender"}))
    with pytest.raises(BicsNotFound):
        client.call("sms.senders.get", path_params={"id": "1"})
    fake_bics.queue(Reply(200, {"status": "failed", "message": "Insufficient balance"}))
    with pytest.raises(BicsError, match="Insufficient balance"):
        client.call("sms.senders.get", path_params={"id": "1"})


def test_flat_domain_statuses_are_not_errors(client, fake_bics):
    fake_bics.queue(Reply(200, {"id": "otp-1", "status": "invalid"}))
    resp = client.call("verify.otp.verify", path_params={"id": "otp-1", "token": "1234"})
    assert resp.status == "invalid"
    assert fake_bics.requests[-1].path == "verify/otp/otp-1/1234"


def test_non_json_error_body(client, fake_bics):
    fake_bics.queue(Reply(404, "<html>Not Found</html>"))
    with pytest.raises(BicsNotFound, match="Not Found"):
        client.call("sms.senders.get", path_params={"id": "1"})


def test_redirects_are_not_followed(client, fake_bics):
    fake_bics.queue(Reply(302, "", headers={"Location": "http://example.invalid/"}))
    with pytest.raises(BicsError, match="BICS_API_BASE_URL"):
        client.call("sms.senders.list")
    assert len(fake_bics.requests) == 1


def test_fail_fast_validation_sends_nothing(client, fake_bics):
    with pytest.raises(BicsValidationError) as info:
        client.call("sms.messages.send", json={**SEND, "type": "X", "message": ""})
    assert set(info.value.field_errors) == {"type", "message"}
    assert info.value.http_status is None
    assert fake_bics.requests == []


def test_scheduled_send_more_than_30_days_ahead_is_refused(client, fake_bics):
    later = (datetime.now() + timedelta(days=31)).strftime("%Y-%m-%d %H:%M:%S")  # noqa: DTZ005
    with pytest.raises(BicsValidationError, match="30 days"):
        client.call("sms.messages.send", json={**SEND, "time": later})
    assert fake_bics.requests == []


def test_validation_can_be_disabled(fake_bics, no_sleep):
    with BicsClient(fake_bics.url, TOKEN, validate=False, sleep=no_sleep) as c:
        c.call("sms.messages.send", json={**SEND, "type": "X"})
    assert fake_bics.requests[-1].json()["type"] == "X"


# ---------------------------------------------------------------- redaction
def _all_text(exc: BaseException) -> str:
    parts = [str(exc), repr(exc), str(exc.args)]
    cause = exc.__cause__ or exc.__context__
    while cause is not None:
        parts += [str(cause), repr(cause)]
        cause = cause.__cause__ or cause.__context__
    return " ".join(parts)


@pytest.mark.parametrize("query_token", [False, True])
def test_token_never_in_errors_repr_or_logs(fake_bics, no_sleep, caplog, query_token):
    caplog.set_level(logging.DEBUG)
    fake_bics.queue(Reply(401, {"status": "error", "message": f"bad token {TOKEN}"}),
                    Reply(delay=1.0))
    with BicsClient(fake_bics.url, TOKEN, use_query_token=query_token, timeout=(1, 0.2),
                    retries=0, sleep=no_sleep) as c:
        assert TOKEN not in repr(c)
        with pytest.raises(BicsAuthError) as auth:
            c.call("auth.me")
        with pytest.raises(BicsOutcomeUnknown) as unknown:
            c.call("sms.messages.send", json=SEND)
    port = free_port()
    with BicsClient(f"http://127.0.0.1:{port}/api/v2/", TOKEN, use_query_token=query_token,
                    retries=0, sleep=no_sleep) as c, pytest.raises(BicsTransportError) as down:
        c.call("auth.me")
    for err in (auth.value, unknown.value, down.value):
        assert TOKEN not in _all_text(err)
    assert TOKEN not in caplog.text
    assert "auth.me" in caplog.text  # something was logged at all


def test_repr_of_client_hides_token(client):
    text = repr(client)
    assert TOKEN not in text and "***" in text
    assert TOKEN not in str(vars(client))


def test_logging_one_line_per_call_without_bodies(client, fake_bics, caplog):
    caplog.set_level(logging.INFO, logger="bics.client")
    client.call("sms.messages.send", json={**SEND, "message": "very personal text"})
    records = [r for r in caplog.records if r.name == "bics.client"]
    assert len(records) == 1
    line = records[0].getMessage()
    for part in ("sms.messages.send", "POST", "sms/send", "200", "attempt 1"):
        assert part in line
    assert "very personal text" not in caplog.text and "32470000001" not in caplog.text


def test_logged_path_is_the_template_not_the_otp_code(client, fake_bics, caplog):
    caplog.set_level(logging.INFO, logger="bics.client")
    fake_bics.queue(Reply(200, {"id": "x", "status": "success"}))
    client.call("verify.otp.verify", path_params={"id": "x", "token": "987654"})
    assert "987654" not in caplog.text


# ---------------------------------------------------------------- pagination
def _paged(items: list, per_page: int, style: str):
    def handler(seen):
        page = int(seen.query.get("page", 1))
        chunk = items[(page - 1) * per_page: page * per_page]
        last = (len(items) + per_page - 1) // per_page
        body = {"code": 200, "data": chunk, "message": "OK", "status": "OK"}
        if style == "links":
            nxt = f"http://127.0.0.1/api/v2/{seen.path}?page={page + 1}" if page < last else None
            body["links"] = {"next": nxt}
            body["meta"] = {}
        else:
            body["links"] = {}
            body["meta"] = {"current_page": page, "last_page": last}
        return Reply(200, body)
    return handler


@pytest.mark.parametrize("style", ["links", "meta"])
def test_iterate_walks_every_page(client, fake_bics, style):
    items = [{"id": str(i)} for i in range(23)]
    fake_bics.routes[("GET", "sms/templates")] = _paged(items, 10, style)
    got = list(client.iterate("sms.templates.list", params={"filter[name]": "x"}))
    assert got == items
    assert [r.query.get("page") for r in fake_bics.requests] == [None, "2", "3"]
    assert all(r.query["filter[name]"] == "x" for r in fake_bics.requests)


def test_dlr_pull_pages_by_100(client, fake_bics):
    items = [{"id": f"g:{i}", "mobile": "32470000001", "status": "DELIVRD"} for i in range(250)]
    fake_bics.routes[("GET", "sms/dlr")] = _paged(items, 100, "links")
    from bics import sms

    dlrs = list(sms.pull_dlr(client, group_id="g"))
    assert len(dlrs) == 250 and len(fake_bics.requests) == 3
    assert dlrs[0].mobile == "+32470000001"  # back to our notation
    assert all(r.query["group_id"] == "g" for r in fake_bics.requests)


def test_iterate_single_page_and_empty(client, fake_bics):
    fake_bics.queue(ok([{"id": "1"}]))
    assert list(client.iterate("sms.senders.list")) == [{"id": "1"}]
    fake_bics.queue(ok([]))
    assert list(client.iterate("sms.senders.list")) == []


def test_iterate_stops_on_a_repeating_next_link(client, fake_bics):
    fake_bics.routes[("GET", "sms/senders")] = Reply(200, {
        "data": [{"id": "1"}], "links": {"next": "http://x/api/v2/sms/senders?page=2"},
        "status": "OK"})
    assert len(list(client.iterate("sms.senders.list"))) == 2


def test_iterate_sends_page_size_as_per_page(client, fake_bics):
    list(client.iterate("contacts.tags.list", page_size=50))
    assert fake_bics.requests[0].query["per_page"] == "50"


# ---------------------------------------------------------------- numbers
def test_sms_numbers_are_sent_as_digits(client, fake_bics):
    client.call("sms.messages.send", json={**SEND, "to": ["+32470000001", "+44 7700 900123"]})
    assert fake_bics.requests[-1].json()["to"] == ["32470000001", "447700900123"]


def test_query_numbers_are_converted_too(client, fake_bics):
    client.call("sms.messages.dlr", params={"mobile": "+32470000001"})
    assert fake_bics.requests[-1].query["mobile"] == "32470000001"


def test_contacts_keep_the_plus(client, fake_bics):
    client.call("contacts.contacts.create", json={"identity": "c1", "phone": "32470000001"})
    assert fake_bics.requests[-1].json()["phone"] == "+32470000001"


def test_nested_numbers_are_converted(client, fake_bics):
    client.call("voice.bulk_calls.create", json={
        "bridge": "+3220000000", "payload": [{"to": "+32470000001"}, {"to": "+32470000002"}]})
    body = fake_bics.requests[-1].json()
    assert body["bridge"] == "3220000000"
    assert [p["to"] for p in body["payload"]] == ["32470000001", "32470000002"]


def test_identifier_value_is_a_number_only_for_phone(client, fake_bics):
    client.call("contacts.identifiers.create", path_params={"contact_id": "1"},
                json={"type": "phone", "value": "32470000001"})
    client.call("contacts.identifiers.create", path_params={"contact_id": "1"},
                json={"type": "email", "value": "a@b.example"})
    assert fake_bics.requests[0].json()["value"] == "+32470000001"
    assert fake_bics.requests[1].json()["value"] == "a@b.example"


# ---------------------------------------------------------------- GET budget
class CountingBucket:
    def __init__(self) -> None:
        self.count = 0

    def acquire(self) -> None:
        self.count += 1


def test_budget_is_acquired_before_every_get_only(fake_bics, no_sleep):
    bucket = CountingBucket()
    fake_bics.queue(Reply(500, {"message": "x"}))
    with BicsClient(fake_bics.url, TOKEN, rate_limiter=bucket, sleep=no_sleep) as c:
        c.call("sms.senders.list")  # 2 attempts
        c.call("sms.senders.create", json={"country_code": "BE", "name": "A", "service": "ENT"})
        c.call("sms.senders.delete", path_params={"id": "1"})
    assert bucket.count == 2


# ---------------------------------------------------------------- tokens
def test_token_expiry_from_jwt():
    exp = datetime(2030, 1, 1, tzinfo=UTC)
    assert jwt_expiry(make_jwt(exp)) == exp
    assert jwt_expiry("not-a-jwt") is None
    assert jwt_expiry("a.b.c") is None
    static = BicsClient("http://127.0.0.1:9/api/v2/", "static-token")
    assert static.token_expires_at is None
    static.close()


def test_documented_sample_jwt_decodes():
    sample = ("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2V1LmNwYWFzLXVhdC5iaWNz"
              "LmNvbS9hcGkvdjMvYXV0aC90b2tlbi9nZW5lcmF0ZSIsImlhdCI6MTY2ODc1Mzg0NiwiZXhwIjoxNjY4Nz"
              "U3NDQ2LCJuYmYiOjE2Njg3NTM4NDYsImp0aSI6ImM0S012TWlzd08xZDVGQjIiLCJzdWIiOiIxMCIsInBy"
              "diI6IjIzYmQ1Yzg5NDlmNjAwYWRiMzllNzAxYzQwMDg3MmRiN2E1OTc2ZjcifQ.sig")
    assert jwt_expiry(sample) == datetime.fromtimestamp(1668757446, tz=UTC)


def test_refresh_before_expiry(fake_bics, no_sleep):
    old = make_jwt(datetime.now(UTC) + timedelta(seconds=60))
    new = make_jwt(datetime.now(UTC) + timedelta(seconds=3600), sub="11")
    fake_bics.routes[("POST", "auth/token/refresh")] = Reply(200, {
        "access_token": new, "expires_in": 3600, "token_type": "bearer"})
    seen_tokens = []
    with BicsClient(fake_bics.url, old, refresh_token=True, sleep=no_sleep,
                    on_token_refresh=lambda tok, exp: seen_tokens.append(tok)) as c:
        assert c.token_expires_at is not None
        c.call("sms.senders.list")
        c.call("sms.senders.list")
        assert c.token_expires_at > datetime.now(UTC) + timedelta(minutes=50)
    paths = [(r.method, r.path) for r in fake_bics.requests]
    assert paths == [("POST", "auth/token/refresh"), ("GET", "sms/senders"),
                     ("GET", "sms/senders")]
    assert fake_bics.requests[0].headers["authorization"] == f"Bearer {old}"
    assert fake_bics.requests[1].headers["authorization"] == f"Bearer {new}"
    assert seen_tokens == [new]


def test_no_refresh_when_far_from_expiry_or_disabled(fake_bics, no_sleep):
    far = make_jwt(datetime.now(UTC) + timedelta(hours=1))
    near = make_jwt(datetime.now(UTC) + timedelta(seconds=10))
    with BicsClient(fake_bics.url, far, refresh_token=True, sleep=no_sleep) as c:
        c.call("auth.me")
    with BicsClient(fake_bics.url, near, sleep=no_sleep) as c:
        c.call("auth.me")
    assert [r.path for r in fake_bics.requests] == ["auth/me", "auth/me"]


def test_failed_refresh_is_an_auth_error_without_the_token(fake_bics, no_sleep):
    near = make_jwt(datetime.now(UTC) + timedelta(seconds=10))
    fake_bics.routes[("POST", "auth/token/refresh")] = Reply(401, {"message": "expired"})
    with BicsClient(fake_bics.url, near, refresh_token=True, sleep=no_sleep) as c, \
            pytest.raises(BicsAuthError) as info:
        c.call("auth.me")
    assert near not in _all_text(info.value)


def test_concurrent_calls_refresh_once(fake_bics, no_sleep):
    import threading

    near = make_jwt(datetime.now(UTC) + timedelta(seconds=30))
    new = make_jwt(datetime.now(UTC) + timedelta(hours=1), sub="12")
    fake_bics.routes[("POST", "auth/token/refresh")] = Reply(
        200, {"access_token": new, "expires_in": 3600, "token_type": "bearer"}, delay=0.2)
    with BicsClient(fake_bics.url, near, refresh_token=True, sleep=no_sleep) as c:
        threads = [threading.Thread(target=c.call, args=("auth.me",)) for _ in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    refreshes = [r for r in fake_bics.requests if r.path == "auth/token/refresh"]
    assert len(refreshes) == 1
    assert all(r.headers["authorization"] == f"Bearer {new}"
               for r in fake_bics.requests if r.path == "auth/me")


def test_upload_is_resent_whole_after_a_503(client, fake_bics):
    import io

    fake_bics.queue(Reply(503, {"message": "busy"}),
                    Reply(200, {"message": "Receivers accepted for import", "status": "OK"}))
    handle = io.BytesIO(b"32470000001\n32470000002\n")
    handle.name = "optouts.csv"
    client.call("sms.unsubscribers.import", files={"file": handle})
    assert len(fake_bics.requests) == 2
    for seen in fake_bics.requests:
        assert b"32470000002" in seen.body


def test_upload_sends_its_form_fields_named_beside_the_file(client, fake_bics):
    fake_bics.queue(ok({"id": "snd-1", "name": "Welcome"}))
    client.call("voice.sound_files.create", files={"audio": ("hello.wav", b"RIFF-audio", "audio/wav")},
                data={"name": "Welcome", "unused": None})
    (seen,) = fake_bics.requests
    assert seen.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'Content-Disposition: form-data; name="name"\r\n\r\nWelcome\r\n' in seen.body
    assert b'name="audio"; filename="hello.wav"\r\nContent-Type: audio/wav\r\n\r\nRIFF-audio' in seen.body
    assert b"unused" not in seen.body


def test_errors_survive_pickling():
    import pickle

    err = BicsValidationError("sms.senders.create", 422, "error", 422, "bad",
                              field_errors={"name": ["taken"]})
    copy = pickle.loads(pickle.dumps(err))  # noqa: S301 - our own object
    assert type(copy) is BicsValidationError
    assert copy.field_errors == {"name": ["taken"]} and str(copy) == str(err)
    limited = pickle.loads(pickle.dumps(BicsRateLimited("x", retry_after=5)))  # noqa: S301
    assert limited.retry_after == 5


# ---------------------------------------------------------------- the environment, read once
def _closed_proxy(monkeypatch) -> None:
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")  # nothing listens there


def test_proxy_of_the_environment_is_honoured(fake_bics, no_sleep, monkeypatch):
    _closed_proxy(monkeypatch)
    with BicsClient(fake_bics.url, TOKEN, sleep=no_sleep, backoff=0.01, retries=1) as c, \
            pytest.raises(BicsTransportError):
        c.call("sms.senders.list")
    assert fake_bics.requests == []  # it went to the (closed) proxy, not straight to the server


def test_no_proxy_of_the_environment_is_honoured(fake_bics, no_sleep, monkeypatch):
    _closed_proxy(monkeypatch)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    fake_bics.queue(ok([]))
    with BicsClient(fake_bics.url, TOKEN, sleep=no_sleep) as c:
        assert c.call("sms.senders.list").http_status == 200
    assert [r.path for r in fake_bics.requests] == ["sms/senders"]


def test_environment_is_read_when_the_client_is_built_not_per_request(fake_bics, no_sleep, monkeypatch):
    """A send must not pay for reading the whole environment (requests does, twice per
    request, while ``trust_env`` is on): proxies are taken when the client is built."""
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    fake_bics.queue(ok([]))
    with BicsClient(fake_bics.url, TOKEN, sleep=no_sleep) as c:
        _closed_proxy(monkeypatch)  # after the client was built: not seen
        assert c.call("sms.senders.list").http_status == 200
    assert len(fake_bics.requests) == 1
