"""shapes.validate_request and the number notation helpers."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bics.numbers import apply_notation, to_e164, to_notation
from bics.routes import ROUTES
from bics.shapes import SHAPES, number_fields, shape
from bics.validation import validate_request

NOW = datetime(2026, 11, 29, 12, 0, 0)
SEND = {"to": ["32470000001"], "sender": "ACME", "message": "hi", "service": "ENT"}


def test_one_shape_per_route():
    assert set(SHAPES) == set(ROUTES)
    for name, spec in SHAPES.items():
        assert spec.route == name
        assert spec.envelope in {"envelope", "list", "bare", "flat"}
        assert spec.data in {"object", "list", "empty", "int", "none"}


def test_list_routes_have_list_shapes():
    for name, route in ROUTES.items():
        if route.paginated and name != "sms.messages.dlr":
            assert SHAPES[name].envelope == "list", name


def test_valid_send_passes():
    assert validate_request("sms.messages.send", SEND, now=NOW) == {}


def test_missing_required_fields():
    errors = validate_request("sms.messages.send", {}, now=NOW)
    assert set(errors) == {"to", "sender", "message", "service"}
    assert errors["to"] == ["This field is required."]


def test_enums_are_checked_as_strings():
    assert validate_request("sms.messages.send", {**SEND, "flash": 1, "max_units": 3},
                            now=NOW) == {}
    errors = validate_request("sms.messages.send", {**SEND, "type": "Z", "max_units": 4},
                              now=NOW)
    assert set(errors) == {"type", "max_units"}


def test_scheduled_time_limits():
    ok = (NOW + timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S")
    late = (NOW + timedelta(days=30, seconds=1)).strftime("%Y-%m-%d %H:%M:%S")
    assert validate_request("sms.messages.send", {**SEND, "time": ok}, now=NOW) == {}
    assert "30 days" in validate_request("sms.messages.send", {**SEND, "time": late},
                                         now=NOW)["time"][0]
    assert "yyyy-mm-dd" in validate_request("sms.messages.send", {**SEND, "time": "10/03/2024"},
                                            now=NOW)["time"][0]


def test_number_notation_is_checked_on_the_wire():
    errors = validate_request("sms.messages.send", {**SEND, "to": ["+32470000001", "12"]},
                              now=NOW)
    assert len(errors["to"]) == 2
    assert validate_request("contacts.contacts.create",
                            {"identity": "a", "phone": "32470000001"})["phone"]
    assert validate_request("contacts.contacts.create",
                            {"identity": "a", "phone": "+32470000001"}) == {}


def test_max_length_no_spaces_forbidden_chars():
    assert validate_request("sms.senders.create",
                            {"country_code": "BEL", "name": "A", "service": "ENT"})["country_code"]
    assert validate_request("whatsapp.templates.create", {
        "category": "utility", "language": "en", "name": "has space", "number": "3220000000",
        "type": "text", "is_conversation": False})["name"] == ["Spaces are not allowed."]
    assert "<" in validate_request("sms.templates.create",
                                   {"body": "a <b>", "name": "n", "sender": "S"})["body"][0]


def test_alias_or_id_required():
    body = {"data": {}, "recipient": {"mobile": "32470000001"}}
    assert validate_request("sms.messages.send_template", body)["alias"]
    assert validate_request("sms.messages.send_template", {**body, "id": "7"}) == {}


def test_nested_and_list_numbers():
    errors = validate_request("voice.bulk_calls.create", {
        "bridge": "3220000000", "payload": [{"to": "32470000001"}, {"to": "+3247"}]})
    assert list(errors) == ["payload[1].to"]


def test_files_size_and_type():
    big = b"x" * (5 * 1024 * 1024 + 1)
    assert "5 MB" in validate_request("contacts.imports.create",
                                      {"file": ("c.csv", big)})["file"][0]
    assert validate_request("contacts.imports.create", {"file": ("c.csv", b"1")}) == {}
    assert validate_request("contacts.imports.create", {})["file"]


def test_query_filters_are_validated():
    assert validate_request("sms.unsubscribers.list", {"filter[type]": "all"})["filter[type]"]
    assert validate_request("sms.unsubscribers.list", {"filter[type]": "tag"}) == {}


def test_types():
    assert validate_request("webhooks.webhooks.create", {"name": "n", "uri": "not a url"})["uri"]
    assert validate_request("voice.click2call.create", {
        "bridge": "3220000000", "from": "32470000001", "to": "32470000002",
        "attempts": 3})["attempts"]
    assert validate_request("contacts.contacts.create", {
        "identity": "a", "phone": "+32470000001", "birth_date": "1994-13-01"})["birth_date"]
    assert validate_request("sms.messages.send", "nope") == {
        "non_field_errors": ["Expected a JSON object."]}


def test_unknown_route_rejected():
    with pytest.raises(ValueError, match="unknown"):
        shape("sms.nope")


def test_number_fields_declared():
    assert [f.name for f in number_fields("sms.messages.send")] == ["to"]
    assert [f.name for f in number_fields("sms.messages.send_template")] == ["recipient.mobile"]


@pytest.mark.parametrize(("raw", "digits", "plus"), [
    ("+32470000001", "32470000001", "+32470000001"),
    ("32470000001", "32470000001", "+32470000001"),
    ("0032 470 00 00 01", "32470000001", "+32470000001"),
    ("+44 (7700) 900-123", "447700900123", "+447700900123"),
])
def test_to_notation(raw, digits, plus):
    assert to_notation(raw, "digits") == digits
    assert to_notation(raw, "plus") == plus
    assert to_notation(raw, "none") == raw
    assert to_e164(digits) == plus


def test_apply_notation_copies_and_converts():
    body = {"to": ["+32470000001"], "message": "+32 is Belgium"}
    out = apply_notation("sms.messages.send", body)
    assert out == {"to": ["32470000001"], "message": "+32 is Belgium"}
    assert body["to"] == ["+32470000001"]  # the caller's dict is untouched
    assert apply_notation("webhooks.webhooks.create", {"name": "+1"}) == {"name": "+1"}
    assert apply_notation("sms.messages.send", None) is None


# ------------------------------------------------------------------ voice calls / click2call
CALL = {"bridge": "3220000000", "to": "32470000001"}


@pytest.mark.parametrize("source", [
    pytest.param({"flow_id": "191"}, id="ivr-flow"),
    pytest.param({"flow_id": 191, "Name": "Ann", "otp": "1234"}, id="ivr-flow+variables"),
    pytest.param({"audio": "https://cdn.example.com/hello.mp3"}, id="audio-file-url"),
    pytest.param({"audio_id": "77"}, id="audio-id"),
    pytest.param({"audio_id": 77, "cid": "call-1", "interval": 0}, id="audio-id+cid"),
])
def test_outgoing_call_variants_pass(source):
    assert validate_request("voice.calls.create", {**CALL, **source}) == {}


@pytest.mark.parametrize(("source", "field", "message"), [
    pytest.param({}, "flow_id", "One of flow_id, audio, audio_id is required.", id="none"),
    pytest.param({"flow_id": "", "audio_id": None}, "flow_id", "may not be blank", id="blank"),
    pytest.param({"flow_id": "1", "audio": "https://x.example/a.mp3"}, "audio",
                 "Send only one of flow_id, audio, audio_id (got flow_id, audio).",
                 id="flow+audio"),
    pytest.param({"audio": "https://x.example/a.mp3", "audio_id": "7"}, "audio_id",
                 "Send only one of", id="audio+audio_id"),
    pytest.param({"flow_id": "1", "audio": "https://x.example/a.mp3", "audio_id": "7"},
                 "audio", "got flow_id, audio, audio_id", id="all-three"),
    pytest.param({"audio": "ftp://x.example/a.mp3"}, "audio", "http(s) URL", id="audio-not-url"),
    pytest.param({"audio_id": ""}, "audio_id", "may not be blank", id="audio-id-blank"),
    pytest.param({"flow_id": "1", "interval": 10}, "interval", "Select one of",
                 id="interval-enum"),
])
def test_outgoing_call_variants_refused(source, field, message):
    errors = validate_request("voice.calls.create", {**CALL, **source})
    assert field in errors and any(message in m for m in errors[field]), errors


def test_outgoing_call_numbers_and_required():
    errors = validate_request("voice.calls.create", {"flow_id": "1"})
    assert set(errors) == {"bridge", "to"}
    assert validate_request("voice.calls.create", {**CALL, "to": "+32470000001",
                                                   "flow_id": "1"})["to"]
    assert [f.name for f in number_fields("voice.calls.create")] == ["bridge", "to"]


C2C = {"bridge": "3220000000", "from": "32470000001"}


@pytest.mark.parametrize("to", ["42", 42, "ivr_welcome", "32470000002"])
def test_click2call_to_is_a_flow_id(to):
    assert validate_request("voice.click2call.create", {**C2C, "to": to}) == {}


def test_click2call_refusals_and_numbers():
    fields = {f.name: f for f in number_fields("voice.click2call.create")}
    assert fields["bridge"].number and fields["from"].number
    assert not fields["to"].number and fields["to"].number_if_plus
    assert validate_request("voice.click2call.create", {**C2C, "to": " "})["to"]
    assert set(validate_request("voice.click2call.create", {"to": "42"})) == {"bridge", "from"}
    assert validate_request("voice.click2call.create", {**C2C, "to": "42",
                                                        "from": "+32470000001"})["from"]


def test_click2call_to_is_converted_only_when_written_with_plus():
    body = {"bridge": "+3220000000", "from": "+32470000001"}
    assert apply_notation("voice.click2call.create", {**body, "to": "+32 470 00 00 02"}) == {
        "bridge": "3220000000", "from": "32470000001", "to": "32470000002"}
    for flow in ("42", 42, "0042", "ivr-welcome"):
        assert apply_notation("voice.click2call.create", {**body, "to": flow})["to"] == flow


def test_every_scheduled_time_is_bounded_to_30_days():
    """`time` (scheduled send) exists only on sms.messages.send in the text (Send Message;
    Help, Schedule Message); any route that declares one must bound it."""
    timed = {name: f for name, spec in SHAPES.items() for f in spec.request
             if f.name == "time" or f.type == "datetime"}
    assert list(timed) == ["sms.messages.send"]
    assert all(f.max_days_ahead == 30 for f in timed.values())
