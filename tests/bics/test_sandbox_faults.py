"""bics/sandbox fault injection (each kind, route filter, count) and seed determinism."""

from __future__ import annotations

import time

import pytest
import requests

from bics.routes import ROUTES
from bics.sandbox import SandboxServer

pytestmark = pytest.mark.sandbox

SEND = {"sender": "ACME", "to": ["32470123456"], "message": "Hello", "service": "ENT", "custom": "f-1"}


def _sent_count(sbapi):
    return sbapi.inspect("sent")["count"]


def test_latency_on_one_route(sbapi):
    sbapi.configure(faults=[{"kind": "latency", "seconds": 0.6, "routes": ["auth.*"]}])
    start = time.monotonic()
    assert sbapi.call("auth.me").ok
    assert time.monotonic() - start >= 0.6
    start = time.monotonic()
    assert sbapi.call("sms.senders.list").ok
    assert time.monotonic() - start < 0.5


def test_5xx_with_count(sbapi):
    sbapi.configure(faults=[{"kind": "error", "status": 502, "count": 2, "routes": ["sms.messages.send"]}])
    codes = [sbapi.call("sms.messages.send", json=SEND).status_code for _ in range(3)]
    assert codes == [502, 502, 200]
    assert _sent_count(sbapi) == 1  # errors are answered before processing
    body = sbapi.call("auth.me").json()
    assert body["status"] == "OK"


def test_5xx_body_is_documented(sbapi):
    sbapi.configure(faults=[{"kind": "error"}])
    resp = sbapi.call("auth.me")
    assert resp.status_code == 503
    body = resp.json()
    assert body["code"] == 503 and body["message"] and body["status"]


def test_429_fault_with_retry_after(sbapi):
    sbapi.configure(faults=[{"kind": "rate_limit", "count": 1}])
    resp = sbapi.call("sms.senders.list")
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "1"
    assert sbapi.call("sms.senders.list").status_code == 200


def test_timeout_after_processing(sbapi):
    sbapi.configure(faults=[{"kind": "timeout", "seconds": 1.0, "routes": ["sms.messages.send"]}])
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(
            sbapi.path("sms.messages.send"),
            json=SEND,
            timeout=(2, 0.3),
            headers={"Authorization": f"Bearer {sbapi.token}"},
        )
    assert _sent_count(sbapi) == 1  # the send happened: the outcome was unknown to the client
    assert sbapi.inspect("sent")["items"][0]["custom"] == "f-1"


def test_drop_after_processing(sbapi):
    sbapi.configure(faults=[{"kind": "drop", "count": 1, "routes": ["sms.messages.send"]}])
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(
            sbapi.path("sms.messages.send"),
            json=SEND,
            timeout=5,
            headers={"Authorization": f"Bearer {sbapi.token}"},
        )
    assert _sent_count(sbapi) == 1
    assert sbapi.call("sms.messages.send", json=SEND).status_code == 200  # count exhausted
    assert _sent_count(sbapi) == 2
    pairs = sbapi.inspect("sent")["duplicates"]
    assert pairs == [{"custom": "f-1", "number": "32470123456", "count": 2}]


def test_drop_before_processing(sbapi):
    sbapi.configure(faults=[{"kind": "drop", "after": False, "routes": ["sms.messages.send"]}])
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(
            sbapi.path("sms.messages.send"),
            json=SEND,
            timeout=5,
            headers={"Authorization": f"Bearer {sbapi.token}"},
        )
    assert _sent_count(sbapi) == 0


def test_bad_fault_config_is_400(sbapi):
    resp = requests.post(sbapi.server.inspect_url + "config", json={"faults": [{"kind": "x"}]}, timeout=5)
    assert resp.status_code == 400
    resp = requests.post(sbapi.server.inspect_url + "config", json={"nope": 1}, timeout=5)
    assert resp.status_code == 400


def test_reset_restores_the_start_configuration(sbapi):
    sbapi.configure(
        faults=[{"kind": "error"}], approval_delay=99, route_overrides={"auth.me": "GET elsewhere"}
    )
    sbapi.inspect("reset", "POST")
    config = sbapi.inspect("config")
    assert config["faults"] == [] and config["approval_delay"] == 2.0
    assert sbapi.call("auth.me").ok


# ---------------------------------------------------------------------- determinism
def _script(server: SandboxServer) -> list:
    """The same requests against a fresh server: ids, group ids, DLR outcomes, OTP codes,
    fault decisions."""
    h = {"Authorization": "Bearer det"}
    out = []
    s = requests.Session()
    requests.post(
        server.inspect_url + "config",
        timeout=5,
        json={
            "dlr_ratios": "delivered=0.5,failed=0.3,dlt=0.2",
            "faults": [{"kind": "error", "rate": 0.5, "routes": ["auth.me"]}],
        },
    )
    for _ in range(20):
        out.append(s.get(server.url + ROUTES["auth.me"].path, headers=h, timeout=5).status_code)
    sent = s.post(
        server.url + ROUTES["sms.messages.send"].path,
        headers=h,
        timeout=5,
        json={**SEND, "to": [f"3247{n:07d}" for n in range(50)]},
    ).json()
    out.append(sent["group_id"])
    out.extend(d["id"] for d in sent["data"])
    otp = s.post(
        server.url + ROUTES["verify.otp.send"].path,
        headers=h,
        timeout=5,
        json={"channels": [{"channel": "sms"}], "payload": {"to": "32470000001"}},
    ).json()
    out.append(otp["id"])
    out.append(s.get(server.inspect_url + "otp/" + otp["id"], timeout=5).json()["code"])
    s.post(server.inspect_url + "tick", json={"seconds": 2}, timeout=5)
    dlrs = s.get(
        server.url + ROUTES["sms.messages.dlr"].path,
        headers=h,
        timeout=5,
        params={"group_id": sent["group_id"]},
    ).json()["data"]
    codes = {m["id"]: m["final_code"]
             for m in s.get(server.inspect_url + "messages", timeout=5).json()["items"]}
    out.extend((d["mobile"], d["status"], codes[d["id"]]) for d in dlrs)
    return out


def test_same_seed_same_outcomes():
    with (
        SandboxServer(port=0, seed=7) as a,
        SandboxServer(port=0, seed=7) as b,
        SandboxServer(port=0, seed=8) as c,
    ):
        first, second, other = _script(a), _script(b), _script(c)
    assert first == second
    assert first != other
    faults = first[:20]
    assert 503 in faults and 200 in faults
    statuses = {item[1] for item in first if isinstance(item, tuple)}
    assert "DELIVRD" in statuses and len(statuses) > 2


def test_timeout_then_drop(sbapi):
    sbapi.configure(
        faults=[{"kind": "timeout", "seconds": 0.2, "then_drop": True, "routes": ["sms.messages.send"]}]
    )
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(
            sbapi.path("sms.messages.send"),
            json=SEND,
            timeout=5,
            headers={"Authorization": f"Bearer {sbapi.token}"},
        )
    assert _sent_count(sbapi) == 1


def test_fault_rate_is_a_share(sbapi):
    sbapi.configure(faults=[{"kind": "error", "rate": 0.3, "routes": ["auth.me"]}])
    codes = [sbapi.call("auth.me").status_code for _ in range(300)]
    assert 50 < codes.count(503) < 130
    assert set(codes) == {200, 503}
