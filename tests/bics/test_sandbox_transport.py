"""bics/sandbox transports (threaded, asyncio), the CLI and runtime route overrides."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from bics.routes import ROUTES
from bics.sandbox import SandboxServer
from bics.sandbox.server import build_parser, config_from_args

pytestmark = pytest.mark.sandbox
H = {"Authorization": "Bearer t"}
SEND = {"sender": "ACME", "to": ["32470123456"], "message": "Hello", "service": "ENT"}


@pytest.fixture(params=["threaded", "asyncio"])
def server(request):
    with SandboxServer(port=0, transport=request.param, seed=3) as s:
        yield s


def _url(server, name, **params):
    return server.url + ROUTES[name].path.format(**params)


def test_transport_basics(server):
    assert requests.get(_url(server, "auth.me"), timeout=5).status_code == 401
    session = requests.Session()
    for _ in range(5):  # keep-alive
        assert session.get(_url(server, "auth.me"), headers=H, timeout=5).ok
    resp = session.post(_url(server, "sms.messages.send"), json=SEND, headers=H, timeout=5)
    assert resp.status_code == 200 and resp.json()["group_id"]
    bad = session.post(_url(server, "sms.messages.send"), json={**SEND, "to": ["+1"]}, headers=H, timeout=5)
    assert bad.status_code == 422
    files = {"file": ("u.csv", b"32470000001\n")}
    up = session.post(_url(server, "sms.unsubscribers.import"), files=files, headers=H, timeout=5)
    assert up.ok
    assert requests.get(server.inspect_url, timeout=5).json()["routes"] == 120


def test_transport_faults(server):
    requests.post(
        server.inspect_url + "config",
        timeout=5,
        json={
            "faults": [
                {"kind": "drop", "count": 1, "routes": ["auth.me"]},
                {"kind": "timeout", "seconds": 0.8, "count": 1, "routes": ["sms.messages.send"]},
                {"kind": "latency", "seconds": 0.2, "count": 1, "routes": ["sms.senders.list"]},
            ]
        },
    )
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(_url(server, "auth.me"), headers=H, timeout=5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(_url(server, "sms.messages.send"), json=SEND, headers=H, timeout=(2, 0.3))
    start = time.monotonic()
    assert requests.get(_url(server, "sms.senders.list"), headers=H, timeout=5).ok
    assert time.monotonic() - start >= 0.2
    assert requests.get(server.inspect_url + "sent", timeout=5).json()["count"] == 1


def test_route_overrides_at_runtime(sbapi):
    sbapi.configure(route_overrides={"auth.me": "GET whoami"})
    try:
        assert requests.get(sbapi.server.url + "whoami", headers=H, timeout=5).ok
        assert requests.get(sbapi.path("auth.me"), headers=H, timeout=5).status_code == 404
    finally:
        sbapi.configure(route_overrides={})
    assert sbapi.call("auth.me").ok


def test_optout_event(sbapi):
    out = sbapi.inspect("optout", "POST", product="sms", number="+32470000007", token=sbapi.token)
    assert out["unsubscribers"][0]["receiver"] == "32470000007"
    assert sbapi.call("sms.unsubscribers.list").json()["data"][0]["iso"] == "BE"


def test_cli_arguments_to_config():
    args = build_parser().parse_args(
        [
            "--port",
            "0",
            "--token",
            "a",
            "--token",
            "b",
            "--seed",
            "9",
            "--dlr-ratios",
            "delivered=1,failed=1",
            "--dlr-rule",
            "32470000001=DLT-REJECTED",
            "--webhook-key",
            "secret",
            "--error-rate",
            "0.1",
            "--drop-rate",
            "0.2",
            "--fault-routes",
            "sms.*",
            "--routes",
            '{"auth.me": "GET me"}',
        ]
    )
    cfg = config_from_args(args)
    assert cfg["tokens"] == ("a", "b") and cfg["seed"] == 9
    assert cfg["dlr_ratios"] == {"delivered": 0.5, "failed": 0.5}
    assert cfg["dlr_rules"] == {"32470000001": "DLT-REJECTED"}
    assert [(f.kind, f.rate, f.routes) for f in cfg["faults"]] == [
        ("error", 0.1, ("sms.*",)),
        ("drop", 0.2, ("sms.*",)),
    ]
    with SandboxServer(port=0, **cfg) as s:
        assert requests.get(s.url + "me", headers={"Authorization": "Bearer a"}, timeout=5).ok


def test_python_m_bics_sandbox():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bics.sandbox",
            "--port",
            str(port),  # noqa: S603
            "--token",
            "cli",
        ],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}/api/v2/" + ROUTES["auth.me"].path
        for _ in range(100):
            try:
                resp = requests.get(url, headers={"Authorization": "Bearer cli"}, timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        assert resp.status_code == 200
        assert requests.get(url, headers=H, timeout=1).status_code == 401
    finally:
        proc.terminate()
        proc.wait(10)


def test_bad_content_length_is_400(server):
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(b"POST /api/v2/auth/me HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n")
        assert b" 400 " in sock.recv(100)
        # the server is still fine
    assert requests.get(_url(server, "auth.me"), headers=H, timeout=5).ok


def test_time_zone_of_timestamps():
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    with SandboxServer(port=0, time_zone="Asia/Kolkata") as s:
        created = requests.post(
            _url(s, "sms.senders.create"),
            headers=H,
            timeout=5,
            json={"name": "ACME", "country_code": "IN", "service": "ENT"},
        ).json()["data"]["created_at"]
        stamp = datetime.strptime(created, "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo("Asia/Kolkata"))
        assert abs(stamp - datetime.now(UTC)) < timedelta(seconds=5)
        # "time" 29 days ahead *in that zone* is accepted, 31 days is not
        now_there = datetime.now(ZoneInfo("Asia/Kolkata")).replace(tzinfo=None)
        for days, code in ((29, 200), (31, 422)):
            when = (now_there + timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")
            resp = requests.post(
                _url(s, "sms.messages.send"), headers=H, timeout=5, json={**SEND, "time": when}
            )
            assert resp.status_code == code
