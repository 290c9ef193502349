"""Where the product departed from the documentation: each fixed, each checked over HTTP
against the sandbox (and, where the product must follow, against the product's code)."""

from __future__ import annotations

import inspect

import pytest

from bics import contract, sms, viber
from bics.client import BicsClient
from bics.sandbox import SandboxServer
from bics.shapes import PRODUCT_CODES

from .conftest import SANDBOX_TOKEN, SandboxApi

pytestmark = pytest.mark.sandbox

SENDER = {"name": "ACME", "country_code": "BE", "service": "ENT"}
SEND = {"sender": "ACME", "to": ["32470123456"], "message": "Hello", "service": "ENT"}
DEVANAGARI = "नमस्ते" * 16 + "नमस्"  # 100 characters, none of them GSM


def data(resp):
    assert resp.status_code == 200, resp.text
    return resp.json()["data"]


def _dlrs(sbapi, **params):
    return data(sbapi.call("sms.messages.dlr", params=params))


# ------------------------------------------------------------------ 1. cid versus custom
def test_dlr_items_carry_our_custom_and_a_cid_of_their_own(sbapi):
    sbapi.call("sms.messages.send", json={**SEND, "custom": "batch-1"})
    sbapi.tick(1.1)
    items = _dlrs(sbapi, cid="batch-1")  # queried by ?cid= as documented
    assert [i["custom"] for i in items] == ["batch-1"]
    assert items[0]["cid"] and items[0]["cid"] != "batch-1"  # like the DLR sample
    assert set(items[0]) == set(contract.load()["dlr_callback_sample"])


@pytest.mark.django_db
def test_the_product_matches_a_dlr_by_custom_and_number_not_by_cid(sbapi):
    from messaging.campaigns.models import Message
    from messaging.campaigns.services.dlr import dlr_record

    message = Message.objects.create(channel="sms", number="+32470123456", custom_id="c-77",
                                     status="submitted")
    sbapi.configure(dlr_ratios={"delivered": 1})
    sbapi.call("sms.messages.send", json={**SEND, "custom": "c-77"})
    sbapi.tick(1.1)
    [item] = _dlrs(sbapi, cid="c-77")
    report = dlr_record(channel="sms", item=item)
    message.refresh_from_db()
    assert report.message_id == message.pk and message.status == "delivered"


# ------------------------------------------------------------------ 2. WhatsApp / Viber templates
WA = {"category": "utility", "language": "en", "number": "32470000001", "type": "text",
      "payload": {"body": "Your order {{id}} has shipped."}}


def test_a_whatsapp_service_template_is_usable_at_once(sbapi):
    sbapi.configure(dlr_ratios={"delivered": 1})
    tpl = data(sbapi.call("whatsapp.templates.create",
                          json={**WA, "name": "svc", "is_conversation": True}))
    assert tpl["status"] == 1  # no Meta approval for service templates
    sent = data(sbapi.call("whatsapp.messages.send_template",
                           json={"alias": tpl["alias"], "data": {"id": "7"},
                                 "recipient": {"mobile": "32470000002"}}))
    sbapi.tick(1.1)
    [dlr] = data(sbapi.call("whatsapp.messages.dlr", params={"id": sent[0]["id"]}))
    assert dlr["status"] == "delivered"


def test_a_non_service_whatsapp_template_still_waits_for_approval(sbapi):
    tpl = data(sbapi.call("whatsapp.templates.create",
                          json={**WA, "name": "mkt", "is_conversation": False}))
    assert tpl["status"] == 2


def test_sms_content_rules_do_not_apply_to_viber_or_whatsapp(sbapi):
    body = {"text": "Hi  <b>"}  # two spaces, angle brackets, 4 fixed characters: SMS rules
    tpl = data(sbapi.call("viber.templates.create",
                          json={"name": "promo", "category": "promotional", "message": body}))
    sbapi.tick(3)
    assert data(sbapi.call("viber.templates.get", id=tpl["id"]))["status"] == 1


# ------------------------------------------------------------------ 3. units
@pytest.mark.parametrize(("text", "kind", "parts"), [
    ("a" * 160, "A", 1), ("a" * 161, "A", 2), ("a" * 306, "N", 2), ("a" * 307, "N", 3),
    (DEVANAGARI, "U", 2), (DEVANAGARI, "A", 2), (DEVANAGARI, "N", 1),
    ("a" * 70, "U", 1), ("a" * 71, "U", 2), ("€" * 80, "A", 1), ("€" * 81, "A", 2),
])
def test_the_sandbox_bills_what_the_product_previews(sbapi, text, kind, parts):
    from messaging.catalogue.rules import analyse

    assert analyse(text, kind).parts == parts
    sent = sbapi.call("sms.messages.send", json={**SEND, "message": text, "type": kind}).json()
    [item] = _dlrs(sbapi, group_id=sent["group_id"])
    assert item["units"] == parts


def test_type_n_replaces_non_gsm_characters(sbapi):
    sbapi.call("sms.messages.send", json={**SEND, "message": "Prix ✓ ok", "type": "N"})
    [message] = sbapi.inspect("messages")["items"]
    assert message["text"] == "Prix ? ok"


def test_max_units_is_enforced(sbapi):
    resp = sbapi.call("sms.messages.send",
                      json={**SEND, "message": "a" * 2000, "max_units": 2})
    assert resp.status_code == 422
    assert "14 units" in resp.json()["errors"]["max_units"][0]
    assert sbapi.call("sms.messages.send",
                      json={**SEND, "message": "a" * 300, "max_units": 2}).status_code == 200


def test_unit_lengths_are_the_documented_ones():
    from bics import units

    assert contract.load()["sms_units"] == {
        "gsm": {"single": units.GSM7_SINGLE, "part": units.GSM7_MULTI},
        "unicode": {"single": units.UCS2_SINGLE, "part": units.UCS2_MULTI}}


# ------------------------------------------------------------------ 4. numbers overrides
def test_a_numbers_override_holds_for_the_client_and_the_sandbox():
    overrides = {"sms.messages.send": {"numbers": "plus"}}
    with SandboxServer(port=0, seed=1, route_overrides=overrides) as server:
        with BicsClient(server.url, SANDBOX_TOKEN, routes=overrides) as client:
            result = sms.send_message(client, to=["+32470123456"], message="Hi",
                                      sender="ACME", service="ENT")
        assert result.ids
        assert SandboxApi(server).inspect("messages")["items"][0]["mobile"] == "+32470123456"


# ------------------------------------------------------------------ 5. Viber unsubscribers
def test_viber_unsubscriber_list_has_no_filters_and_numbers_go_as_digits(sbapi, sandbox):
    assert list(inspect.signature(viber.list_unsubscribers).parameters) == ["client"]
    with BicsClient(sandbox.url, SANDBOX_TOKEN) as client:
        viber.create_unsubscriber(client, receiver="+32470000001")
        [item] = viber.list_unsubscribers(client)
    assert item.receiver == "+32470000001"
    listed = sbapi.call("viber.unsubscribers.list").json()["data"]
    assert listed[0]["receiver"] == "32470000001"


# ------------------------------------------------------------------ 6. smaller departures
def test_send_answers_carry_only_documented_keys(sbapi):
    for name, json in (
        ("sms.messages.send_text", {"channels": [{"channel": "sms"}],
                                    "message": {"text": "Hi"},
                                    "recipient": {"mobile": "32470000002"}}),
        ("viber.messages.send", {"channels": [{"channel": "viber"}], "message": {"text": "Hi"},
                                 "recipient": {"mobile": "32470000002"}}),
    ):
        body = sbapi.call(name, json=json).json()
        assert set(body) == set(contract.operation(name)["response_sample"]), name


def test_blocked_template_import_answers_as_documented(sbapi):
    body = sbapi.call("sms.blocked_templates.import",
                      files={"url": ("ids.csv", b"t-1\nt-2\n")}).json()
    assert set(body) == set(contract.operation("sms.blocked_templates.import")["response_sample"])


def test_get_all_segments_answers_an_object(sbapi):
    seg = data(sbapi.call("contacts.segments.create", json={"name": "vips"}))
    body = sbapi.call("contacts.segments.list").json()
    assert isinstance(body["data"], dict) and body["data"][str(seg["id"])]["name"] == "vips"


def test_pricing_uses_only_documented_service_codes(sbapi):
    for product in ("sms", "voice", "viber", "whatsapp"):
        rows = data(sbapi.call(f"{product}.pricing.list", params={"per_page": 50}))
        assert {r["service"] for r in rows} <= set(PRODUCT_CODES) | {None}, product


def test_send_message_sends_no_type_unless_given():
    params = inspect.signature(sms.send_message).parameters
    assert params["type"].default is None


@pytest.mark.parametrize(("text", "kind", "charset", "units", "extension", "unicode"), [
    ("Hello Ann, see you", "A", "GSM-7", 18, [], []),
    ("{x}€", "A", "GSM-7", 7, ["{", "}", "€"], []),
    ("{x}✓", "A", "Unicode", 4, [], ["✓"]),
    ("{x}✓", "N", "GSM-7", 6, ["{", "}"], []),
    ("plain", "U", "Unicode", 5, [], []),
    ("", "A", "GSM-7", 0, [], []),
])
def test_unit_count_of_gsm_extension_and_unicode_text(text, kind, charset, units, extension, unicode):
    """The counter's quick path (every character in the GSM tables) agrees with the full one."""
    from bics import units as sms_units

    info = sms_units.count(text, kind)
    assert (info.charset, info.units, info.extension_chars, info.unicode_chars) == (charset, units, extension, unicode)
    assert info.text == (text.replace("✓", "?") if kind == "N" else text)
