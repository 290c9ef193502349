"""bics/sandbox behaviour over HTTP: approvals, DLRs, webhooks, verify, voice, contacts,
account, inspection."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest

pytestmark = pytest.mark.sandbox

SENDER = {"name": "ACME", "country_code": "BE", "service": "ENT"}
SEND = {"sender": "ACME", "to": ["32470123456"], "message": "Hello", "service": "ENT"}


def data(resp):
    assert resp.status_code == 200, resp.text
    return resp.json()["data"]


# ---------------------------------------------------------------------- approvals
def test_sender_pending_then_approved_after_the_delay(sbapi):
    sender = data(sbapi.call("sms.senders.create", json=SENDER))
    assert sender["status"] == 0
    sbapi.tick(1.5)
    assert data(sbapi.call("sms.senders.get", id=sender["id"]))["status"] == 0
    sbapi.tick(1)
    assert data(sbapi.call("sms.senders.get", id=sender["id"]))["status"] == 1


def test_sender_with_invalid_name_is_rejected(sbapi):
    sender = data(sbapi.call("sms.senders.create", json={**SENDER, "name": "MY BRAND IS TOO LONG"}))
    sbapi.tick(3)
    got = data(sbapi.call("sms.senders.get", id=sender["id"]))
    assert got["status"] == 2 and got["rejection_reason"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("Your  order {{id}} is confirmed today", "consecutive spaces"),
        ("Your order {id} is confirmed today", "{{name}}"),
        ("Your order {{ id }} is confirmed today", "{{name}}"),
        ("{{otp}}", "6 fixed characters"),
        ("Hi {{a}}", "6 fixed characters"),
    ],
)
def test_template_rules_reject(sbapi, body, reason):
    tpl = data(
        sbapi.call("sms.templates.create", json={"name": "t1", "body": body, "sender": "ACME", "type": "P"})
    )
    assert tpl["status"] == 0
    sbapi.tick(2)
    got = data(sbapi.call("sms.templates.get", id=tpl["id"]))
    assert got["status"] == 2
    assert reason in got["rejection_reason"]


def test_angle_brackets_refused_at_once(sbapi):
    resp = sbapi.call(
        "sms.templates.create",
        json={"name": "t1", "body": "Your order <b>{{id}}</b> is confirmed", "sender": "ACME"},
    )
    assert resp.status_code == 422 and "body" in resp.json()["errors"]


def test_transactional_template_needs_variables(sbapi):
    tpl = data(
        sbapi.call(
            "sms.templates.create",
            json={"name": "t", "body": "Thanks for banking with us today.", "sender": "ACME", "type": "T"},
        )
    )
    sbapi.tick(2)
    assert data(sbapi.call("sms.templates.get", id=tpl["id"]))["status"] == 2


def test_good_template_approved_and_edit_restarts_approval(sbapi):
    body = "Your order {{name}} for a total of {{amount}} is confirmed."
    tpl = data(
        sbapi.call(
            "sms.templates.create", json={"name": "order", "body": body, "sender": "ACME", "type": "SI"}
        )
    )
    sbapi.tick(2)
    assert data(sbapi.call("sms.templates.get", id=tpl["id"]))["status"] == 1
    edited = data(
        sbapi.call("sms.templates.update", id=tpl["id"], json={"type": "SI", "body": body + " Thanks."})
    )
    assert edited["status"] == 0
    sbapi.tick(2)
    listed = data(sbapi.call("sms.templates.list"))
    assert listed[0]["status"] == 1 and listed[0]["body"].endswith("Thanks.")


def test_approval_rules_force_an_outcome(sbapi):
    sbapi.configure(approval_rules={"order": "rejected"}, approval_delay=5)
    tpl = data(
        sbapi.call(
            "sms.templates.create",
            json={"name": "order", "body": "Your order {{id}} is confirmed.", "sender": "ACME"},
        )
    )
    sbapi.tick(4)
    assert data(sbapi.call("sms.templates.get", id=tpl["id"]))["status"] == 0
    sbapi.tick(1)
    assert data(sbapi.call("sms.templates.get", id=tpl["id"]))["status"] == 2


def test_whatsapp_template_status_2_then_1_or_3(sbapi):
    base = {
        "category": "utility",
        "language": "en",
        "number": "32470000001",
        "type": "text",
        "is_conversation": False,
    }
    ok = data(
        sbapi.call(
            "whatsapp.templates.create",
            json={**base, "name": "order_ok", "payload": {"body": "Your order {{id}} has shipped."}},
        )
    )
    # the SMS content rules do not apply to WhatsApp: a rejection is forced by name
    sbapi.configure(approval_rules={"order_bad": "rejected"})
    bad = data(
        sbapi.call(
            "whatsapp.templates.create",
            json={**base, "name": "order_bad", "payload": {"body": "Your  order <{{id}}>"}},
        )
    )
    assert ok["status"] == 2 and bad["status"] == 2
    sbapi.tick(2)
    by_name = {t["name"]: t for t in data(sbapi.call("whatsapp.templates.list"))}
    assert by_name["order_ok"]["status"] == 1 and by_name["order_bad"]["status"] == 3
    assert [
        t["name"] for t in data(sbapi.call("whatsapp.templates.list", params={"filter[status]": "3"}))
    ] == ["order_bad"]


def test_viber_template_lifecycle(sbapi):
    tpl = data(
        sbapi.call(
            "viber.templates.create",
            json={
                "name": "promo",
                "category": "transactional",
                "message": {"text": "Hello {{name}}, welcome!"},
            },
        )
    )
    assert tpl["status"] == 2
    sbapi.tick(2)
    assert data(sbapi.call("viber.templates.get", id=tpl["id"]))["status"] == 1


# ---------------------------------------------------------------------- sends and DLRs
def _send(sbapi, **changes):
    resp = sbapi.call("sms.messages.send", json={**SEND, **changes})
    assert resp.status_code == 200, resp.text
    return resp.json()


def _dlrs(sbapi, **params):
    return data(sbapi.call("sms.messages.dlr", params=params))


def test_dlr_pull_by_each_key(sbapi):
    sent = _send(sbapi, to=["32470000001", "32470000002"], custom="batch-1")
    other = _send(sbapi, to=["32470000003"], custom="batch-2")
    first_id = sent["data"][0]["id"]
    pending = _dlrs(sbapi, id=first_id)
    assert pending[0]["status"] == "SUBMITTED" and pending[0]["deliv_time"] is None
    sbapi.tick(1.1)
    by_id = _dlrs(sbapi, id=first_id)
    assert [d["id"] for d in by_id] == [first_id] and by_id[0]["status"] == "DELIVRD"
    assert "code" not in by_id[0] and by_id[0]["deliv_time"]  # no code in the DLR sample
    assert [d["mobile"] for d in _dlrs(sbapi, mobile="32470000002")] == ["32470000002"]
    assert sorted(d["mobile"] for d in _dlrs(sbapi, cid="batch-1")) == ["32470000001", "32470000002"]
    assert all(d["custom"] == "batch-2" != d["cid"] for d in _dlrs(sbapi, cid="batch-2"))
    group = sbapi.call("sms.messages.dlr", params={"group_id": other["group_id"]}).json()
    assert [d["mobile"] for d in group["data"]] == ["32470000003"]
    assert group["meta"]["per_page"] == 100
    today = datetime.now(UTC).strftime("%Y-%m-%d")  # the sandbox writes UTC unless told a zone
    assert len(_dlrs(sbapi, date=today)) == 3
    assert _dlrs(sbapi, date="2000-01-01") == []
    assert sbapi.call("sms.messages.dlr").status_code == 422  # one key is needed


def test_dlr_pull_pages_by_100(sbapi):
    sent = _send(sbapi, to=[f"3247{n:07d}" for n in range(250)])
    page = sbapi.call("sms.messages.dlr", params={"group_id": sent["group_id"]}).json()
    assert len(page["data"]) == 100 and page["meta"]["last_page"] == 3
    assert page["meta"]["total"] == 250
    last = sbapi.call("sms.messages.dlr", params={"group_id": sent["group_id"], "page": 3}).json()
    assert len(last["data"]) == 50 and last["links"]["next"] is None


@pytest.mark.parametrize(
    ("rule", "status", "code"),
    [
        ("DLT-REJECTED", "DLT-REJECTED", "777"),
        ("777", "DLT-REJECTED", "777"),
        ("INV-PEID", "INV-PEID", None),
        ("INV-TMID", "INV-TMID", None),
        ("INV-ENTITY", "INV-ENTITY", None),
        ("INV-TEMPLATE", "INV-TEMPLATE", "453"),
        ("EXPIRED", "EXPIRED", "021"),
    ],
)
def test_dlr_rules_force_outcomes(sbapi, rule, status, code):
    sbapi.configure(dlr_rules={"32470999999": rule})
    sent = _send(sbapi, to=["32470999999", "32470000001"])
    sbapi.tick(1.1)
    by_mobile = {d["mobile"]: d for d in _dlrs(sbapi, group_id=sent["group_id"])}
    assert by_mobile["32470999999"]["status"] == status
    codes = {m["mobile"]: m["final_code"] for m in sbapi.inspect("messages")["items"]}
    assert codes["32470999999"] == code


def test_dlr_rule_by_cid(sbapi):
    sbapi.configure(dlr_rules={"smart-1": "DLT-REJECTED"})
    _send(sbapi, to=["32470000001", "32470000002"], custom="smart-1")
    sbapi.tick(2)
    assert {d["status"] for d in _dlrs(sbapi, cid="smart-1")} == {"DLT-REJECTED"}


def test_dlr_ratios(sbapi):
    sbapi.configure(dlr_ratios="delivered=0.5,failed=0.3,dlt=0.2")
    sent = _send(sbapi, to=[f"3247{n:07d}" for n in range(1000)])
    sbapi.tick(1.1)
    statuses = [
        d["status"]
        for p in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
        for d in sbapi.call("sms.messages.dlr", params={"group_id": sent["group_id"], "page": p}).json()[
            "data"
        ]
    ]
    assert len(statuses) == 1000
    delivered = statuses.count("DELIVRD")
    dlt = sum(s.startswith("DLT-") or s.startswith("INV-") for s in statuses)
    assert 430 < delivered < 570 and 140 < dlt < 260


def test_unsubscribed_number_gets_optout_rejection(sbapi):
    assert sbapi.call("sms.unsubscribers.create", json={"receiver": "32470000009"}).ok
    sent = _send(sbapi, to=["32470000009"])
    sbapi.tick(1.1)
    assert _dlrs(sbapi, id=sent["data"][0]["id"])[0]["status"] == "OPTOUT-REJ"


def test_scheduled_send_delivers_after_its_time(sbapi):
    when = datetime.fromtimestamp(time.time() + 3600, UTC).strftime("%Y-%m-%d %H:%M:%S")
    sent = _send(sbapi, time=when)
    sbapi.tick(60)
    assert _dlrs(sbapi, id=sent["data"][0]["id"])[0]["status"] == "SUBMITTED"
    sbapi.tick(3600)
    assert _dlrs(sbapi, id=sent["data"][0]["id"])[0]["status"] == "DELIVRD"


def test_send_template_renders_and_unapproved_template_fails(sbapi):
    tpl = data(
        sbapi.call(
            "sms.templates.create",
            json={
                "name": "welcome",
                "body": "Welcome {{name}}. We look forward to serving you.",
                "sender": "ACME",
                "type": "SI",
            },
        )
    )
    early = sbapi.call(
        "sms.messages.send_template",
        json={"alias": tpl["alias"], "data": {"name": "Ann"}, "recipient": {"mobile": "32470000001"}},
    )
    assert early.status_code == 200
    sbapi.tick(2)
    later = sbapi.call(
        "sms.messages.send_template",
        json={"id": tpl["id"], "data": {"name": "Bob"}, "recipient": {"mobile": "32470000002"}},
    ).json()
    assert later["message"] == "Message(s) Queued successfully" and later["status"] == 200
    sbapi.tick(2)
    messages = {m["mobile"]: m for m in sbapi.inspect("messages")["items"]}
    assert messages["32470000001"]["status"] == "INV-TEMPLATE"
    assert messages["32470000002"]["text"] == "Welcome Bob. We look forward to serving you."
    missing = sbapi.call(
        "sms.messages.send_template",
        json={"alias": "nope", "data": {}, "recipient": {"mobile": "32470000002"}},
    )
    assert missing.status_code == 422


def test_require_approved_sender(sbapi):
    sbapi.configure(require_approved_sender=True)
    assert sbapi.call("sms.messages.send", json=SEND).status_code == 422
    sbapi.call("sms.senders.create", json=SENDER)
    sbapi.tick(2)
    assert sbapi.call("sms.messages.send", json=SEND).status_code == 200


def test_whatsapp_and_viber_sends_and_dlrs(sbapi):
    sbapi.configure(dlr_ratios="delivered=1")
    for product in ("whatsapp", "viber"):
        sent = sbapi.call(
            f"{product}.messages.send",
            json={
                "channels": [{"channel": product}],
                "message": {"text": "hi"},
                "recipient": {"mobile": "32470000001"},
            },
        ).json()
        mid = sent["data"][0]["id"]
        assert data(sbapi.call(f"{product}.messages.dlr", params={"id": mid}))[0]["status"] == "queued"
        sbapi.tick(1.1)
        assert (
            data(sbapi.call(f"{product}.messages.dlr", params={"mobile": "32470000001"}))[0]["status"]
            == "delivered"
        )


def test_inspection_sent_counts_custom_number_pairs(sbapi):
    _send(sbapi, to=["32470000001", "32470000002"], custom="c-1")
    _send(sbapi, to=["32470000001"], custom="c-1")
    sent = sbapi.inspect("sent")
    assert sent["count"] == 3
    assert sent["duplicates"] == [{"custom": "c-1", "number": "32470000001", "count": 2}]


def test_balance_and_credits(sbapi):
    before = float(data(sbapi.call("account.balance.get"))["balance"])
    _send(sbapi, to=["32470000001", "32470000002"])
    after = float(data(sbapi.call("account.balance.get"))["balance"])
    assert after == pytest.approx(before - 0.10)
    resp = sbapi.call("account.credits.add", json={"credits": "2.50", "username": "me"})
    assert resp.json() == {"message": "Balance added Successfully", "status": "OK"}
    assert float(data(sbapi.call("account.balance.get"))["balance"]) == pytest.approx(after + 2.5)


def test_pricing_filters(sbapi):
    rows = data(sbapi.call("sms.pricing.list", params={"filter[iso]": "BE", "per_page": 100}))
    assert rows and {r["iso"] for r in rows} == {"BE"}


# ---------------------------------------------------------------------- webhooks
class Receiver:
    """A small webhook receiver on loopback; answers ``statuses`` in turn (then 200)."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.statuses: list[int] = []
        self.event = threading.Event()
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urlsplit(self.path)
                call = {
                    "path": parts.path,
                    "query": dict(parse_qsl(parts.query)),
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body,
                }
                outer.calls.append(call)
                status = outer.statuses.pop(0) if outer.statuses else 200
                payload = json.loads(body or b"{}")
                answer = json.dumps({"challenge": payload.get("challenge")}).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
                outer.event.set()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, n: int, timeout: float = 5.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.calls) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.calls


def settled(sbapi) -> None:
    """Every callback the sandbox has queued so far was attempted (its deliverer is idle), so
    "nothing more arrived" is a fact, not a guess after a sleep."""
    assert sbapi.inspect("wait", "POST", timeout=10)["idle"]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def _hook(sbapi, receiver, **extra):
    return data(
        sbapi.call(
            "webhooks.webhooks.create", json={"name": "dlr", "uri": receiver.url, "secret": "s3cret", **extra}
        )
    )


def test_dlr_webhook_with_valid_signature(sbapi, receiver):
    hook = _hook(sbapi, receiver)
    assert sbapi.call(
        "webhooks.subscriptions.create",
        json={"event": "sms:message:status", "identity": "all", "webhook_id": hook["id"]},
    ).ok
    sent = _send(sbapi, to=["32470000001"], custom="w-1")
    sbapi.tick(1.1)
    calls = receiver.wait(1)
    assert len(calls) == 1
    call = calls[0]
    assert call["headers"]["authorization"] == "Bearer s3cret"
    expected = hmac.new(hook["id"].encode(), call["body"], hashlib.sha256).hexdigest()
    assert call["headers"]["signature"] == expected
    body = json.loads(call["body"])
    assert body["event"] == "sms:message:status"
    assert body["payload"]["id"] == sent["data"][0]["id"]
    assert body["payload"]["status"] == "DELIVRD" and body["payload"]["custom"] == "w-1"
    # the product's own verifier agrees
    from bics.webhooks import parse_event, verify_signature

    assert verify_signature(call["body"], call["headers"]["signature"], hook["id"])
    assert parse_event(call["body"]).payload["mobile"] == "32470000001"


def test_signature_keyed_by_secret_and_flat_format(sbapi, receiver):
    sbapi.configure(webhook_key="secret", webhook_format="flat")
    hook = _hook(sbapi, receiver)
    _send(sbapi, to=["32470000001"], webhook_id=hook["id"])  # per-send webhook, no subscription
    sbapi.tick(1.1)
    call = receiver.wait(1)[0]
    assert call["headers"]["signature"] == hmac.new(b"s3cret", call["body"], hashlib.sha256).hexdigest()
    flat = json.loads(call["body"])
    assert flat["status"] == "DELIVRD" and "event" not in flat


def test_webhook_retries_twice_after_10_and_100_seconds(sbapi, receiver):
    receiver.statuses = [500, 503, 500, 500]
    hook = _hook(sbapi, receiver)
    _send(sbapi, to=["32470000001"], webhook_id=hook["id"])
    sbapi.tick(1.1)
    assert len(receiver.wait(1)) == 1
    sbapi.inspect("wait", "POST")
    sbapi.tick(9)
    settled(sbapi)
    assert len(receiver.calls) == 1
    sbapi.tick(1.1)
    assert len(receiver.wait(2)) == 2
    sbapi.inspect("wait", "POST")
    sbapi.tick(100)
    assert len(receiver.wait(3)) == 3
    sbapi.inspect("wait", "POST")
    sbapi.tick(100000)
    settled(sbapi)
    assert len(receiver.calls) == 3  # three attempts in all
    log = sbapi.inspect("webhooks")["items"]
    assert [e["attempt"] for e in log] == [1, 2, 3] and not any(e["ok"] for e in log)


def test_handshake_on_creation_with_token(sbapi, receiver):
    _hook(sbapi, receiver, token="9012XX")
    call = receiver.wait(1)[0]
    assert call["query"] == {"token": "9012XX"}
    body = json.loads(call["body"])
    assert body["validation_key"] == "9012XX" and body["challenge"]
    sbapi.inspect("wait", "POST")
    log = sbapi.inspect("webhooks")["items"]
    assert log[0]["event"] == "handshake" and log[0]["ok"] is True


def test_no_handshake_without_token_and_deleted_webhook_gets_nothing(sbapi, receiver):
    hook = _hook(sbapi, receiver)
    assert sbapi.call("webhooks.webhooks.delete", id=hook["id"]).ok
    assert sbapi.call("webhooks.webhooks.get", id=hook["id"]).status_code == 404
    _send(sbapi, webhook_id=hook["id"])
    sbapi.tick(2)
    settled(sbapi)
    assert receiver.calls == []
    assert sbapi.inspect("webhooks")["items"] == []  # not even attempted


def test_subscription_needs_an_existing_webhook(sbapi):
    resp = sbapi.call(
        "webhooks.subscriptions.create",
        json={"event": "sms:message:status", "identity": "all", "webhook_id": "404"},
    )
    assert resp.status_code == 422 and "webhook_id" in resp.json()["errors"]
    bad = sbapi.call(
        "webhooks.subscriptions.create", json={"event": "sms:nothing", "identity": "all", "webhook_id": "1"}
    )
    assert bad.status_code == 422 and "event" in bad.json()["errors"]


def test_contact_event_and_external_webhooks_skipped(sbapi, receiver):
    local = _hook(sbapi, receiver)
    external = data(
        sbapi.call("webhooks.webhooks.create", json={"name": "ext", "uri": "https://example.com/hook"})
    )
    for hook in (local, external):
        sbapi.call(
            "webhooks.subscriptions.create",
            json={"event": "contacts:subscriber:subscription", "identity": "all", "webhook_id": hook["id"]},
        )
    sbapi.call("contacts.contacts.create", json={"identity": "ann", "phone": "+32470000001"})
    payload = json.loads(receiver.wait(1)[0]["body"])
    assert payload["event"] == "contacts:subscriber:subscription"
    assert payload["payload"]["phone"] == "+32470000001"
    sbapi.inspect("wait", "POST")
    skipped = [e for e in sbapi.inspect("webhooks")["items"] if e["webhook_id"] == external["id"]]
    assert skipped and "loopback" in skipped[0]["error"]


# ---------------------------------------------------------------------- verify
def _otp(sbapi, channels=("sms",), to="32470000001"):
    resp = sbapi.call(
        "verify.otp.send",
        json={"channels": [{"channel": c} for c in channels], "payload": {"to": to, "reference": "r1"}},
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "sent" and set(body) == {
        "id",
        "status",
        "to",
        "foreign_id",
        "created_at",
        "expire_at",
    }
    return body["id"]


def _verify(sbapi, oid, code):
    resp = sbapi.call("verify.otp.verify", path_params={"id": oid, "token": code})
    assert resp.status_code == 200
    return resp.json()["status"]


def test_otp_flow(sbapi):
    oid = _otp(sbapi)
    code = sbapi.inspect(f"otp/{oid}")["code"]
    wrong = "000000" if code != "000000" else "111111"
    assert _verify(sbapi, oid, wrong) == "invalid"
    assert _verify(sbapi, oid, code) == "success"
    assert _verify(sbapi, oid, code) == "OTP already verified"
    found = sbapi.call("verify.otp.search", id=oid).json()
    assert found["status"] == "success" and found["to"] == "32470000001"
    assert found["reference"] == "r1"
    assert _verify(sbapi, "no-such-id", "123456") == "failed"


def test_otp_expires(sbapi):
    oid = _otp(sbapi)
    code = sbapi.inspect(f"otp/{oid}")["code"]
    sbapi.tick(101)
    assert _verify(sbapi, oid, code) == "expired"
    other = _otp(sbapi)
    sbapi.inspect(f"expire/{other}", "POST")
    assert _verify(sbapi, other, sbapi.inspect(f"otp/{other}")["code"]) == "expired"


def test_otp_cancel(sbapi):
    oid = _otp(sbapi)
    code = sbapi.inspect(f"otp/{oid}")["code"]
    assert sbapi.call("verify.otp.cancel", id=oid).json() == {"id": oid, "status": "success"}
    assert _verify(sbapi, oid, code) == "failed"
    assert sbapi.call("verify.otp.cancel", id=oid).json()["status"] == "failed"


def test_otp_verify_needs_auth(sbapi):
    oid = _otp(sbapi)
    resp = sbapi.call("verify.otp.verify", path_params={"id": oid, "token": "1"}, token="")
    assert resp.status_code == 401 and resp.json()["status"] == "Unauthenticated"


def test_otp_failover(sbapi):
    sbapi.inspect("fail/sms", "POST")
    oid = _otp(sbapi, channels=("sms", "whatsapp", "viber"))
    otp = sbapi.inspect(f"otp/{oid}")
    assert otp["channel"] == "whatsapp"
    channels = sbapi.call("verify.otp.search", id=oid).json()["channels"]
    assert channels == [{"channel": "sms", "status": "failed"}, {"channel": "whatsapp", "status": "sent"}]
    sbapi.configure(otp_failing_channels=["sms", "whatsapp", "viber"])
    resp = sbapi.call(
        "verify.otp.send", json={"channels": [{"channel": "sms"}], "payload": {"to": "32470000001"}}
    )
    assert resp.json()["status"] == "failed"


# ---------------------------------------------------------------------- voice
def test_voice_calls_status_logs_recordings(sbapi):
    call = sbapi.call(
        "voice.calls.create", json={"bridge": "3220000000", "flow_id": "f1", "to": "32470000001"}
    ).json()
    assert call["message"] == "Calls queued successfully"
    cid = call["data"][0]["id"]
    status = sbapi.call("voice.calls.status", params={"id": cid}).json()
    assert status["status"] == 200 and status["data"][0]["status"] == "QUEUED"
    c2c = sbapi.call(
        "voice.click2call.create",
        json={"bridge": "3220000000", "from": "32470000002", "to": "32470000003", "record": "1"},
    ).json()
    assert c2c["status"] == 200 and c2c["callId"]
    bulk = sbapi.call(
        "voice.bulk_calls.create",
        json={
            "bridge": "3220000000",
            "payload": [{"to": "32470000004"}, {"to": "32470000005"}, {"to": "32470000006"}],
        },
    ).json()
    assert bulk["total"] == 3 and bulk["group_id"]
    assert bulk["message"] == "3 numbers queued successfully."
    sbapi.tick(1.1)
    assert (
        sbapi.call("voice.calls.status", params={"mobile": "32470000001"}).json()["data"][0]["status"]
        == "ANSWER"
    )
    logs = data(sbapi.call("voice.call_logs.list"))
    assert len(logs) == 5
    recs = data(sbapi.call("voice.recordings.list"))
    assert [r["call_id"] for r in recs] == [c2c["callId"]]


def test_click2call_dials_from_and_keeps_to_as_the_flow(sbapi):
    """`from` is "the number to whom the call will connect first" (Click2Call), `to` the IVR
    flow: opt-out check, DLR rules, Call Status and call logs use `from`."""
    sbapi.configure(dlr_rules={"32470000012": "DLT-REJECTED"})  # the DLT group: CONGESTION
    assert sbapi.call("voice.unsubscribers.create", json={"receiver": "32470000011"}).status_code == 200
    ids = {}
    for number in ("32470000011", "32470000012"):
        ids[number] = sbapi.call(
            "voice.click2call.create", json={"bridge": "3220000000", "from": number, "to": "42"}
        ).json()["callId"]
    sbapi.tick(1.1)
    for number, status in (("32470000011", "NOANSWER"), ("32470000012", "CONGESTION")):
        (found,) = sbapi.call("voice.calls.status", params={"id": ids[number]}).json()["data"]
        assert (found["mobile"], found["status"]) == (number, status)
    logs = {log["id"]: log for log in data(sbapi.call("voice.call_logs.list"))}
    assert logs[ids["32470000012"]]["to"] == "32470000012"
    assert logs[ids["32470000012"]]["caller_id"] == "3220000000"


def test_voice_sound_file_upload(sbapi):
    resp = sbapi.call(
        "voice.sound_files.create", files={"audio": ("hello.mp3", b"ID3....")}, data={"name": "hello"}
    )
    assert resp.status_code == 200
    assert data(resp)["id"] and data(resp)["name"] == "hello"


# ---------------------------------------------------------------------- contacts
def test_contacts_tags_segments_identifiers(sbapi):
    ann = data(
        sbapi.call(
            "contacts.contacts.create",
            json={"identity": "ann", "phone": "+32470000001", "tags": ["vip", "be"]},
        )
    )
    data(
        sbapi.call(
            "contacts.contacts.create", json={"identity": "bob", "phone": "+32470000002", "tags": ["be"]}
        )
    )
    dup = sbapi.call("contacts.contacts.create", json={"identity": "ann", "phone": "+32470000003"})
    assert dup.status_code == 422
    assert (
        sbapi.call("contacts.contacts.create", json={"identity": "x", "phone": "32470000003"}).status_code
        == 422
    )  # contacts want '+'
    assert {t["name"] for t in data(sbapi.call("contacts.tags.list"))} == {"vip", "be"}
    seg = data(sbapi.call("contacts.segments.create", json={"name": "vips"}))
    data(
        sbapi.call(
            "contacts.segments.update",
            id=seg["id"],
            json={
                "name": "vips",
                "positive_tags": ["vip"],
                "positive_tags_operator": "any",
                "negative_tags": [],
                "negative_tags_operator": "any",
            },
        )
    )
    members = data(sbapi.call("contacts.segments.subscribers", id=seg["id"]))
    assert [m["identity"] for m in members] == ["ann"]
    segs = sbapi.call("contacts.segments.list").json()
    # an object, as in the Get All Segments sample: segments keyed by id
    assert segs["status"] == 200 and segs["data"][str(seg["id"])]["name"] == "vips"
    ident = data(
        sbapi.call(
            "contacts.identifiers.create",
            contact_id=ann["id"],
            json={"type": "email", "value": "ann@example.com"},
        )
    )
    assert (
        data(sbapi.call("contacts.identifiers.get", contact_id=ann["id"], identifier_id=ident["id"]))["value"]
        == "ann@example.com"
    )
    assert len(data(sbapi.call("contacts.identifiers.list_all"))) == 1
    assert (
        sbapi.call("contacts.identifiers.get", contact_id="999", identifier_id=ident["id"]).status_code == 404
    )


def test_contacts_import_csv(sbapi):
    csv = b"phone,first_name,tags\n+32470000001,Ann,vip|be\n32470000002,Bob,be;new\nnot-a-number,X,\n"
    resp = sbapi.call("contacts.imports.create", files={"file": ("contacts.csv", csv)})
    assert resp.status_code == 200
    body = resp.json()
    assert body["message"] == "2 subscriber(s) imported successfully"
    assert body["data"]["imported"] == 2 and body["data"]["failed"] == 1
    assert sbapi.call("contacts.contacts.list").json()["meta"]["total"] == 2
    assert data(sbapi.call("contacts.imports.get", id=body["data"]["id"]))["status"] == "completed"
    tags = {c["first_name"]: c["tags"] for c in data(sbapi.call("contacts.contacts.list"))}
    assert tags == {"Ann": ["vip", "be"], "Bob": ["be", "new"]}


def test_unsubscriber_import_clean_and_iso(sbapi):
    resp = sbapi.call(
        "sms.unsubscribers.import", files={"file": ("u.csv", b"receiver\n32470000001\n447700900123\n")}
    )
    assert resp.json() == {"message": "Receivers accepted for import", "status": "OK"}
    items = data(sbapi.call("sms.unsubscribers.list"))
    assert sorted((u["receiver"], u["iso"]) for u in items) == [("32470000001", "BE"), ("447700900123", "GB")]
    assert sbapi.call("sms.unsubscribers.clean").json()["message"] == "Deleted Successfully"
    assert data(sbapi.call("sms.unsubscribers.list")) == []


def test_smartlink_visits(sbapi):
    visits = data(sbapi.call("smartlink.visits.list", id="246"))
    assert visits and all(v["link_id"] == 246 for v in visits)
    assert data(sbapi.call("smartlink.visits.list", id="246")) == visits


def test_slow_receiver_counts_as_failed_and_is_retried(sbapi, receiver):
    sbapi.configure(webhook_timeout=0.2)
    slow = threading.Event()
    original = receiver.server.RequestHandlerClass.do_POST

    def do_post(handler):
        if not slow.is_set():
            slow.set()
            time.sleep(0.5)  # past the timeout: a failed attempt
        original(handler)

    receiver.server.RequestHandlerClass.do_POST = do_post
    hook = _hook(sbapi, receiver)
    _send(sbapi, webhook_id=hook["id"])
    sbapi.tick(1.1)
    receiver.wait(1)
    settled(sbapi)
    sbapi.tick(10)
    receiver.wait(2)
    sbapi.inspect("wait", "POST")
    log = sbapi.inspect("webhooks")["items"]
    assert [(e["attempt"], e["ok"]) for e in log] == [(1, False), (2, True)]
    assert "timed out" in log[0]["error"].lower()


def test_voice_and_whatsapp_status_events(sbapi, receiver):
    hook = _hook(sbapi, receiver)
    for event in ("voice:message:out", "whatsapp:message:status"):
        sbapi.call(
            "webhooks.subscriptions.create",
            json={"event": event, "identity": "all", "webhook_id": hook["id"]},
        )
    sbapi.call("voice.calls.create", json={"bridge": "3220000000", "flow_id": "f", "to": "32470000001"})
    sbapi.call(
        "whatsapp.messages.send",
        json={"channels": [{"channel": "whatsapp"}], "recipient": {"mobile": "32470000002"}},
    )
    sbapi.tick(1.1)
    events = sorted(json.loads(c["body"])["event"] for c in receiver.wait(2))
    assert events == ["voice:message:out", "whatsapp:message:status"]


def test_concurrent_sends_are_counted_exactly(sandbox_reset):
    import requests

    from bics.routes import ROUTES

    url = sandbox_reset.url + ROUTES["sms.messages.send"].path
    ids: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        session = requests.Session()
        for k in range(25):
            resp = session.post(
                url,
                json={**SEND, "custom": f"c{n}-{k}"},
                timeout=10,
                headers={"Authorization": "Bearer concurrent"},
            )
            assert resp.status_code == 200
            with lock:
                ids.extend(d["id"] for d in resp.json()["data"])

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == len(set(ids)) == 500
    sent = requests.get(sandbox_reset.inspect_url + "sent", timeout=5).json()
    assert sent["count"] == 500 and sent["duplicates"] == []


def test_blocked_template_and_enforced_balance(sbapi):
    sbapi.configure(approval_delay=0, enforce_balance=True, balance=0.07)  # new accounts
    tpl = data(
        sbapi.call(
            "sms.templates.create",
            json={"name": "promo", "body": "Big sale today at our shop, come by!", "sender": "ACME"},
        )
    )
    assert sbapi.call("sms.blocked_templates.create", json={"template_id": tpl["id"]}).ok
    sbapi.call(
        "sms.messages.send_template",
        json={"id": tpl["id"], "data": {}, "recipient": {"mobile": "32470000001"}},
    )
    _send(sbapi, to=["32470000002", "32470000003"])
    sbapi.tick(1.1)
    by_mobile = {m["mobile"]: m["status"] for m in sbapi.inspect("messages")["items"]}
    assert by_mobile["32470000001"] == "DLT-TM-BLACKLST"
    assert by_mobile["32470000003"] == "NO-CREDITS"
    assert float(data(sbapi.call("account.balance.get"))["balance"]) >= 0


def test_call_status_by_our_cid(sbapi):
    sbapi.call(
        "voice.calls.create",
        json={"bridge": "3220000000", "flow_id": "f", "to": "32470000001", "cid": "call-1"},
    )
    sbapi.call(
        "voice.bulk_calls.create",
        json={
            "bridge": "3220000000",
            "payload": [{"to": "32470000002", "cid": "bulk-a"}, {"to": "32470000003", "cid": "bulk-b"}],
        },
    )
    sbapi.call(
        "voice.click2call.create",
        json={"bridge": "3220000000", "from": "32470000004", "to": "32470000005", "mid": "m-9"},
    )
    # Click2Call connects `from` first (its `from` field), also in the "with mobile number" variant
    for cid, mobile in (("call-1", "32470000001"), ("bulk-b", "32470000003"), ("m-9", "32470000004")):
        found = sbapi.call("voice.calls.status", params={"cid": cid}).json()["data"]
        assert [c["mobile"] for c in found] == [mobile]


@pytest.mark.parametrize(("mode", "handshake_signed", "event_signed"), [
    ("events", False, True), ("all", True, True), ("none", False, False),
])
def test_callback_signing_is_a_setting(sbapi, receiver, mode, handshake_signed, event_signed):
    """The Signature header is optional in the documentation: webhook_sign chooses (default
    "events": event deliveries signed, the verification handshake not)."""
    if mode != "events":
        sbapi.configure(webhook_sign=mode)
    hook = _hook(sbapi, receiver, token="9012XX")
    [handshake] = receiver.wait(1)
    assert ("signature" in handshake["headers"]) is handshake_signed
    sbapi.call("webhooks.subscriptions.create",
               json={"event": "sms:message:status", "identity": "all", "webhook_id": hook["id"]})
    _send(sbapi, to=["32470000001"])
    sbapi.tick(1.1)
    event = receiver.wait(2)[1]
    assert ("signature" in event["headers"]) is event_signed
    assert event["headers"]["authorization"] == "Bearer s3cret"


def test_an_unknown_signing_mode_is_refused(sbapi):
    with pytest.raises(Exception, match="400|webhook_sign"):
        sbapi.configure(webhook_sign="sometimes")
