"""The shapes against the contract index (bics/contract/index.json), field by field.

Independent of the code shared by the client and the sandbox: nothing here calls
``validate_request`` or the sandbox; each documented fact is compared with the declared shape,
and every place where a shape departs from the text is listed below with its reason, so a
renamed field, a flipped required flag or an edited enum fails a test.
"""

from __future__ import annotations

import pytest

from bics import contract
from bics.shapes import MB, PRODUCT_CODES, SHAPES

# Documented type -> our Field types that may carry it.
TYPES = {
    "string": {"string", "url", "datetime", "date"}, "number": {"number"},
    "integer": {"number"}, "boolean": {"boolean"}, "object": {"object"}, "array": {"array"},
    "array of strings": {"array"}, "array of objects": {"array"}, "table": None,
}

# (route, field, aspect) -> why our shape says something else than the documentation.
DEPARTURES = {
    ("sms.messages.send", "to", "type"): "typed string, described and sampled as an array",
    **{(route, "service", "enum"): "no enum printed; the Products/Services codes are listed"
       for route in ("sms.messages.send", "sms.senders.create", "sms.senders.update",
                     "account.credits.add")},
    **{(f"{product}.messages.send_template", field, "required"):
       "alias and id are both printed required; either one names the template (one_of)"
       for product in ("sms", "viber", "whatsapp") for field in ("alias", "id")},
    ("voice.bulk_calls.create", "audio", "required"): "alternative to flow_id, absent from "
                                                      "the sample",
    ("voice.bulk_calls.create", "flow_id", "required"): "alternative to audio",
    ("voice.calls.create", "flow_id", "required"): "one of four variants (exactly_one_of)",
    ("voice.calls.create", "interval", "enum"): "the enum is printed empty; the prose lists "
                                                "0, 5, 15, 30, 45, 60",
    ("viber.templates.create", "category", "enum"): "no enum on create; update lists three",
    ("viber.templates.list", "filter[type]", "enum"): "only 'text' is described",
    ("webhooks.subscriptions.create", "event", "enum"): "no enum printed; the events table",
}

# Request fields we declare although the documentation prints no name for them (the export
# lost the object's name, or the variant prints no fields). Each is an inference in README.
UNNAMED = {
    "contacts.contacts.create": {"attributes"}, "contacts.contacts.update": {"attributes"},
    "sms.messages.send": {"meta"},
    "verify.otp.send": {"channels", "payload", "payload.to"},
    "voice.bulk_calls.create": {"payload", "payload[].to"},
    "voice.calls.create": {"audio", "audio_id", "cid"},
    "voice.tts.create": {"options"},
    "viber.templates.create": {"message"}, "viber.templates.update": {"message"},
    "whatsapp.templates.create": {"payload"},
    **{f"{p}.messages.send_template": {"data", "meta", "recipient", "recipient.mobile"}
       for p in ("sms", "viber", "whatsapp")},
    **{r: {"channels", "message", "recipient", "recipient.mobile"}
       for r in ("sms.messages.send_text", "viber.messages.send", "whatsapp.messages.send")},
}

ENVELOPES = {"envelope": {"code", "data", "message", "status"},
             "list": {"code", "data", "links", "message", "meta", "status"},
             "bare": {"message", "status"}}
DATA_KINDS = {"list": ("[…]", []), "object": ("{…}",), "empty": ([],), "int": (1,)}


def documented(name: str) -> dict[str, dict]:
    return {f["name"]: f for f in contract.operation(name)["fields"] if f["in"] != "path"}


def declared(name: str):
    return {f.name: f for f in SHAPES[name].request}


def _allowed(name: str, field: str, aspect: str) -> bool:
    return (name, field, aspect) in DEPARTURES


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_field_names_match_the_documentation(name):
    docs, ours = set(documented(name)), set(declared(name))
    assert docs - ours == set(), f"{name}: documented fields missing from the shape"
    assert ours - docs == UNNAMED.get(name, set()), f"{name}: fields the documentation lacks"


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_required_flags_match(name):
    ours = declared(name)
    for field, doc in documented(name).items():
        if not _allowed(name, field, "required"):
            assert ours[field].required == doc["required"], f"{name}.{field} required"


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_enums_match(name):
    ours = declared(name)
    for field, doc in documented(name).items():
        if not _allowed(name, field, "enum"):
            assert tuple(doc.get("enum") or ()) == (ours[field].enum or ()), f"{name}.{field}"


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_types_and_limits_match(name):
    ours = declared(name)
    for field, doc in documented(name).items():
        mine = ours[field]
        if TYPES[doc["type"]] is not None and not _allowed(name, field, "type"):
            assert mine.type in TYPES[doc["type"]], f"{name}.{field}: {mine.type}"
        if "maximum" in doc:
            assert mine.maximum == doc["maximum"], f"{name}.{field} maximum"
        if "max_mb" in doc:
            assert mine.max_bytes == doc["max_mb"] * MB, f"{name}.{field} size"
        if "extensions" in doc:
            assert list(mine.extensions) == doc["extensions"], f"{name}.{field} file types"
        if doc.get("format") == "yyyy-mm-dd":
            assert mine.type == "date", f"{name}.{field}"


def test_the_departures_are_still_departures():
    """An entry that the documentation and the shape now agree on must be dropped."""
    for (name, field, aspect) in DEPARTURES:
        doc, mine = documented(name)[field], declared(name)[field]
        if aspect == "required":
            assert doc["required"] != mine.required, (name, field)
        elif aspect == "enum":
            assert tuple(doc.get("enum") or ()) != (mine.enum or ()), (name, field)
        else:
            assert mine.type not in TYPES[doc["type"]], (name, field)


def test_product_codes_are_the_documented_services():
    assert "ENT" in PRODUCT_CODES and len(PRODUCT_CODES) == len(set(PRODUCT_CODES))


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_response_envelope_message_and_status_match_the_sample(name):
    spec, sample = SHAPES[name], contract.operation(name)["response_sample"]
    if sample is None:
        pytest.skip("the documentation has no response sample for this operation")
    if "message" in sample:
        assert spec.message == sample["message"]
    if "status" in sample:
        assert spec.status == sample["status"]
    if spec.envelope in ENVELOPES:
        assert set(sample) == ENVELOPES[spec.envelope] | set(spec.extra)
    elif spec.data == "none":
        assert set(spec.fields) <= set(sample) <= set(spec.fields) | {"message", "status"}
    else:
        assert set(sample) == {"data", "message", "status"} | set(spec.extra)
    if "data" in sample and spec.data in DATA_KINDS:
        assert sample["data"] in DATA_KINDS[spec.data], f"{name}: data {sample['data']!r}"
