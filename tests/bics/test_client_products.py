"""Every product function: it calls its route, with the route's method and path."""

from __future__ import annotations

import importlib
import inspect
import re
import types

import pytest

from bics.client import BicsClient
from bics.routes import ROUTES

from .conftest import Reply

MODULES = ("sms", "whatsapp", "viber", "contacts", "voice", "verify", "webhooks", "account")
TOKEN = "tok-products-0123456789"  # noqa: S105

VALUES = {
    "id": "id1", "contact_id": "c1", "identifier_id": "i1", "token": "123456",
    "to": "+32470000001", "receiver": "+32470000001", "phone": "+32470000001",
    "bridge": "+3220000000", "from_": "+32470000002", "number": "+3220000000",
    "message": "hello", "sender": "ACME", "sender_id": "ACME", "service": "ENT",
    "country_code": "BE", "name": "name1", "body": "Hello {{name}}", "type": "T",
    "template_id": "t1", "identity": "c1", "value": "tag1", "file": b"32470000001\n",
    "audio": b"RIFF0000WAVE", "channels": [{"channel": "sms"}], "data": {"name": "A"},
    "meta": {"k": "v"}, "alias": "welcome", "uri": "https://example.com/hook",
    "event": "sms:message:status", "webhook_id": "w1", "credits": "1.00", "username": "u1",
    "text": "Hello there", "flow_id": "12", "recipients": [{"to": "+32470000001"}],
    "category": "transactional", "language": "en", "is_conversation": True,
    "positive_tags": ["a"], "negative_tags": [],
}
SPECIAL = {
    ("sms", "send_message", "to"): ["+32470000001"],
    ("whatsapp", "create_template", "category"): "marketing",
    ("whatsapp", "create_template", "type"): "text",
    ("viber", "update_template", "category"): "promotional",
    ("viber", "create_template", "message"): {"text": "hi"},
    ("viber", "update_template", "message"): {"text": "hi"},
    ("contacts", "add_identifier", "type"): "phone",
    ("contacts", "add_identifier", "value"): "+32470000001",
    ("contacts", "update_identifier", "type"): "email",
    ("contacts", "update_identifier", "value"): "a@b.example",
    ("sms", "create_unsubscriber", "type"): "tag",
    ("voice", "click2call", "to"): "42",  # an IVR flow id, not a phone number (Click2Call, to)
}
EXTRA = {  # optional arguments a function cannot go without (one-of groups)
    ("voice", "create_call"): {"flow_id": "12"},
}


def product_functions():
    for module_name in MODULES:
        module = importlib.import_module(f"bics.{module_name}")
        source = inspect.getsource(module)
        for fname, func in vars(module).items():
            if not isinstance(func, types.FunctionType) or fname.startswith("_"):
                continue
            if func.__module__ != module.__name__:
                continue
            # client.call("route") / client.iterate("route"); the unsubscriber family
            # (bics/_unsubscribers.py) carries its route in ``.route``
            found = [func.route] if getattr(func, "route", None) else re.findall(
                r'(?:call|iterate)\(\s*"([a-z0-9_.]+)"', inspect.getsource(func))
            if found:
                yield pytest.param(module_name, fname, found[0], id=f"{module_name}.{fname}")
        assert source


CASES = list(product_functions())


def test_one_function_per_route():
    assert sorted(c.values[2] for c in CASES) == sorted(ROUTES)


def kwargs_for(module: str, func) -> dict:
    kwargs = dict(EXTRA.get((module, func.__name__), {}))
    params = inspect.signature(func).parameters
    if "alias" in params:
        kwargs["alias"] = "welcome"
    for pname, param in params.items():
        if pname == "client" or param.default is not inspect.Parameter.empty:
            continue
        key = (module, func.__name__, pname)
        if key in SPECIAL:
            kwargs[pname] = SPECIAL[key]
        elif pname == "type" and module in ("sms", "voice", "viber", "whatsapp") and \
                "unsubscriber" in func.__name__:
            kwargs[pname] = "tag"
        elif pname == "message" and "dict" in str(param.annotation):
            kwargs[pname] = {"text": "hi"}
        else:
            kwargs[pname] = VALUES[pname]
    return kwargs


@pytest.mark.parametrize(("module_name", "fname", "route_name"), CASES)
def test_function_calls_its_route(fake_bics, no_sleep, module_name, fname, route_name):
    module = importlib.import_module(f"bics.{module_name}")
    func = getattr(module, fname)
    route = ROUTES[route_name]
    if route_name == "auth.token.refresh" or route_name == "auth.token.generate":
        fake_bics.queue(Reply(200, {"access_token": "new.tok.en", "expires_in": 3600,
                                    "token_type": "bearer"}))
    if route_name == "sms.messages.send":  # its answer lists the recipients (any other shape is refused)
        fake_bics.queue(Reply(200, {"status": 200, "message": "OK", "data": [{"id": "m1", "mobile": "32470000001"}]}))
    with BicsClient(fake_bics.url, TOKEN, sleep=no_sleep) as client:
        result = func(client, **kwargs_for(module_name, func))
        if inspect.isgenerator(result):
            result = list(result)
    assert len(fake_bics.requests) == 1
    seen = fake_bics.requests[0]
    expected_path = route.path
    for placeholder in re.findall(r"{(\w+)}", route.path):
        value = {"id": "id1", "contact_id": "c1", "identifier_id": "i1",
                 "token": "123456"}[placeholder]
        expected_path = expected_path.replace("{" + placeholder + "}", value)
    assert (seen.method, seen.path) == (route.method, expected_path)
    if route.method in ("POST", "PUT") and seen.headers.get("content-type", "").startswith(
            "application/json"):
        body = seen.json()
        text = str(body)
        if route.numbers == "digits":
            assert "+32" not in text, body
        if route.numbers == "plus" and "32470000001" in text:
            assert "+32470000001" in text, body
