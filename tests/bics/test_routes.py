"""The route table: 120 documented operations, line numbers, overrides."""

from __future__ import annotations

import importlib
import pathlib
import re

import pytest

from bics import contract
from bics.routes import AREAS, ROUTES, Route, build_routes, is_idempotent
from bics.shapes import SHAPES

PRODUCT_MODULES = ("sms", "whatsapp", "viber", "contacts", "voice", "verify", "webhooks",
                   "account")

# The operation title at the route's line, as printed in the documentation.
TITLES = {
    "auth.me": "CURL Example",
    "webhooks.webhooks.list": "View All Webhooks",
    "webhooks.webhooks.create": "Create Webhook",
    "webhooks.webhooks.get": "View Webhook by ID",
    "webhooks.webhooks.update": "Update Webhook",
    "webhooks.webhooks.delete": "Delete Webhook",
    "webhooks.subscriptions.list": "List All Subscriptions",
    "webhooks.subscriptions.create": "Create Subscription",
    "webhooks.subscriptions.get": "View Subscription by ID",
    "webhooks.subscriptions.delete": "Delete Subscription",
    "auth.token.generate": "Generate",
    "auth.token.refresh": "Refresh",
    "sms.senders.list": "View All Senders",
    "sms.senders.create": "Create Sender",
    "sms.senders.get": "View Sender by ID",
    "sms.senders.update": "Edit Sender",
    "sms.senders.delete": "Delete Sender",
    "sms.templates.list": "View All Templates",
    "sms.templates.create": "Create Template",
    "sms.templates.get": "View Template by ID",
    "sms.templates.update": "Edit Template",
    "sms.templates.delete": "Delete Template",
    "sms.blocked_templates.list": "View Blocked Templates List",
    "sms.blocked_templates.create": "Create Block Template",
    "sms.blocked_templates.clean": "Clean Blocked Templates",
    "sms.blocked_templates.get": "View Blocked Template by ID",
    "sms.blocked_templates.update": "Edit Blocked Template",
    "sms.blocked_templates.delete": "Delete Blocked Template",
    "sms.blocked_templates.import": "Import Blocked Templates",
    "sms.messages.send": "Send Message",
    "sms.messages.send_template": "Send Template Message",
    "sms.messages.send_text": "Send Text Message",
    "sms.messages.dlr": "Pull DLR Status",
    "sms.pricing.list": "View Pricing",
    "smartlink.visits.list": "View Smart Link Visits",
    "voice.calls.create": "Create Outgoing Call",
    "voice.bulk_calls.create": "Create Bulk Outgoing Calls",
    "voice.tts.create": "Create Text To Speech",
    "voice.click2call.create": "Click2Call",
    "voice.call_logs.list": "Call Logs Report",
    "voice.recordings.list": "Call Recordings Report",
    "voice.calls.status": "Call Status",
    "voice.sound_files.create": "Create Sound File",
    "voice.pricing.list": "View Pricing",
    "verify.otp.send": "Send OTP",
    "verify.otp.verify": "Verify OTP",
    "verify.otp.search": "Search OTP Token",
    "verify.otp.cancel": "Cancel OTP Token",
    "viber.templates.list": "View All Templates",
    "viber.templates.create": "Create Template",
    "viber.templates.get": "View Template by ID",
    "viber.templates.update": "Edit Template",
    "viber.templates.delete": "Delete Template",
    "viber.messages.send": "Send Non-Template Message",
    "viber.messages.send_template": "Send Template Message",
    "viber.messages.dlr": "Pull DLR Status",
    "viber.pricing.list": "View Pricing",
    "whatsapp.templates.list": "View All Templates",
    "whatsapp.templates.create": "Create Template",
    "whatsapp.templates.delete": "Delete Template",
    "whatsapp.messages.send_template": "Send Template Message - Service",
    "whatsapp.messages.send": "Message Sending Options",
    "whatsapp.messages.dlr": "Pull DLR Status",
    "whatsapp.pricing.list": "View Pricing",
    "account.balance.get": "Check Account Balance",
    "account.credits.add": "Add Credits to Customer",
    "contacts.contacts.list": "Get All Contacts",
    "contacts.contacts.create": "Create Contact",
    "contacts.contacts.get": "View Contact by ID",
    "contacts.contacts.update": "Edit Contact",
    "contacts.contacts.delete": "Delete Contact",
    "contacts.identifiers.list": "Get All Contact Identifiers",
    "contacts.identifiers.create": "Add Identifier to an Existing Contact",
    "contacts.identifiers.get": "Get Specific Identifier of a Contact",
    "contacts.identifiers.update": "Edit Identifier",
    "contacts.identifiers.delete": "Delete Identifier from Contact",
    "contacts.tags.list": "Get All Tags",
    "contacts.tags.create": "Create Tag",
    "contacts.tags.get": "Get Tag by ID",
    "contacts.tags.update": "Edit Tag",
    "contacts.tags.delete": "Delete Tag",
    "contacts.segments.list": "Get All Segments",
    "contacts.segments.create": "Create Segment",
    "contacts.segments.get": "Get Segment by ID",
    "contacts.segments.update": "Edit Segment",
    "contacts.segments.delete": "Delete Segment",
    "contacts.segments.subscribers": "Get Segment Subscribers",
    "contacts.imports.list": "Get All Subscriber Imports",
    "contacts.imports.create": "Import Subscribers",
    "contacts.imports.get": "Get Subscriber Import by ID",
    "contacts.imports.delete": "Delete Import Entry",
    "contacts.identifiers.list_all": "Get All Identifiers",
}
UNSUBSCRIBER_TITLES = {
    "list": "View All Unsubscribers", "create": "Create Unsubscriber",
    "clean": "Clean Unsubscribers", "get": "View Unsubscriber by ID",
    "update": "Edit Unsubscriber", "delete": "Delete Unsubscriber",
    "import": "Import Unsubscriber",
}
for _product in ("sms", "voice", "viber", "whatsapp"):
    for _action, _title in UNSUBSCRIBER_TITLES.items():
        TITLES[f"{_product}.unsubscribers.{_action}"] = _title


def test_the_index_covers_every_route():
    assert set(contract.load()["operations"]) == set(ROUTES)


def test_exactly_120_routes():
    assert len(ROUTES) == 120
    assert set(TITLES) == set(ROUTES)


def test_per_area_counts():
    assert {area: len(names) for area, names in AREAS.items()} == {
        "platform": 12, "sms": 29, "voice_verify": 21, "viber_whatsapp": 30,
        "account_contacts": 28,
    }
    assert sum(len(v) for v in AREAS.values()) == 120


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_line_points_at_the_operation_title(name):
    route, op = ROUTES[name], contract.operation(name)
    assert 1 <= route.line <= contract.load()["lines"]
    assert op["line"] == route.line
    assert op["title"] == TITLES[name]


def test_auth_me_is_the_only_stated_path():
    stated = [r.name for r in ROUTES.values() if r.path_stated]
    assert stated == ["auth.me"]
    assert [n for n in ROUTES if contract.operation(n)["stated_paths"]] == ["auth.me"]
    assert contract.operation("auth.me")["stated_paths"] == [ROUTES["auth.me"].path]


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_route_is_well_formed(name):
    route = ROUTES[name]
    assert route.name == name
    assert re.fullmatch(r"[a-z0-9_]+\.[a-z0-9_]+(\.[a-z0-9_]+)?", name)
    assert route.method in {"GET", "POST", "PUT", "PATCH", "DELETE"}
    assert not route.path.startswith("/") and "//" not in route.path
    assert route.numbers in {"digits", "plus", "none"}
    if not route.method_stated or not route.path_stated:
        # every guess is at least explained by the module's conventions or a note
        assert route.path
    assert name in SHAPES


def test_method_and_path_pairs_are_unique():
    pairs = [(r.method, r.path) for r in ROUTES.values()]
    assert len(pairs) == len(set(pairs))


def test_sends_are_not_idempotent_and_reads_are():
    sends = [n for n in ROUTES if ".messages.send" in n] + [
        "verify.otp.send", "voice.calls.create", "voice.bulk_calls.create",
        "voice.tts.create", "voice.click2call.create"]
    assert len(sends) == 12
    for name in sends:
        assert is_idempotent(ROUTES[name]) is False, name
    assert is_idempotent(ROUTES["sms.senders.list"])
    assert is_idempotent(ROUTES["sms.senders.update"])
    assert is_idempotent(ROUTES["sms.senders.delete"])
    assert not is_idempotent(ROUTES["sms.senders.create"])
    assert not is_idempotent(ROUTES["account.credits.add"])
    assert not is_idempotent(ROUTES["verify.otp.verify"])


def test_dlr_pull_is_paginated_and_uses_digits():
    route = ROUTES["sms.messages.dlr"]
    assert route.paginated and route.method == "GET" and route.numbers == "digits"


def test_number_notation_per_area():
    assert ROUTES["sms.messages.send"].numbers == "digits"
    assert ROUTES["contacts.contacts.create"].numbers == "plus"
    assert ROUTES["webhooks.webhooks.create"].numbers == "none"


def test_token_routes_follow_the_jwt_hint():
    assert ROUTES["auth.token.generate"].path == "auth/token/generate"
    assert ROUTES["auth.token.refresh"].path == "auth/token/refresh"


def test_build_routes_without_overrides_is_a_copy():
    routes = build_routes()
    assert routes == ROUTES
    assert routes is not ROUTES


def test_build_routes_string_override():
    routes = build_routes({"sms.senders.list": "GET sms/v2/senders"})
    assert routes["sms.senders.list"].path == "sms/v2/senders"
    assert routes["sms.senders.list"].method == "GET"
    assert routes["sms.senders.get"] == ROUTES["sms.senders.get"]
    assert ROUTES["sms.senders.list"].path == "sms/senders"  # the table itself is untouched


def test_build_routes_path_only_and_leading_slash():
    routes = build_routes({"sms.messages.send": "/sms/messages"})
    assert routes["sms.messages.send"].path == "sms/messages"
    assert routes["sms.messages.send"].method == "POST"


def test_build_routes_mapping_override():
    routes = build_routes({"webhooks.webhooks.update": {"method": "patch", "path": "hooks/{id}"}})
    route = routes["webhooks.webhooks.update"]
    assert (route.method, route.path) == ("PATCH", "hooks/{id}")
    assert "overridden" in route.note


def test_unknown_override_name_is_rejected():
    with pytest.raises(ValueError, match="sms.nope.list"):
        build_routes({"sms.nope.list": "GET x"})


def test_bad_override_values_are_rejected():
    with pytest.raises(ValueError, match="unknown field"):
        build_routes({"sms.senders.list": {"verb": "GET"}})
    with pytest.raises(ValueError, match="METHOD path"):
        build_routes({"sms.senders.list": "GET a b"})
    with pytest.raises(ValueError, match="bad method"):
        build_routes({"sms.senders.list": "FETCH sms/senders"})


def test_route_is_frozen():
    route = ROUTES["auth.me"]
    with pytest.raises(AttributeError):
        route.path = "x"  # type: ignore[misc]
    assert isinstance(route, Route)


# A product function names its route in full: client.call("...") or client.iterate("...");
# the unsubscriber operations shared by four products are built by _unsubscribers.family and
# carry their route in ``.route``.
ROUTE_USE = r'call\(\s*"([a-z0-9_.]+)"|iterate\(\s*"([a-z0-9_.]+)"'
UNSUBSCRIBER_PRODUCTS = ("sms", "voice", "viber", "whatsapp")


def test_every_route_is_used_by_exactly_one_product_function():
    root = pathlib.Path(__file__).resolve().parents[2] / "bics"
    counts = dict.fromkeys(ROUTES, 0)
    for module in PRODUCT_MODULES:
        text = (root / f"{module}.py").read_text(encoding="utf-8")
        for name in re.findall(ROUTE_USE, text):
            found = name[0] or name[1]
            assert found in ROUTES, f"{module}.py uses unknown route {found}"
            counts[found] += 1
    for product in UNSUBSCRIBER_PRODUCTS:
        for func in importlib.import_module(f"bics.{product}").__dict__.values():
            if callable(func) and getattr(func, "route", None):
                counts[func.route] += 1
    unused = [n for n, c in counts.items() if c == 0]
    twice = [n for n, c in counts.items() if c > 1]
    assert not unused, f"routes without a product function: {unused}"
    assert not twice, f"routes used by several functions: {twice}"


@pytest.mark.parametrize("product", UNSUBSCRIBER_PRODUCTS)
def test_the_unsubscriber_family_is_built_once_per_product(product):
    """sms.get_unsubscriber calls "sms.unsubscribers.get", and so on."""
    module = importlib.import_module(f"bics.{product}")
    names = {"list": "list_unsubscribers", "create": "create_unsubscriber",
             "clean": "clean_unsubscribers", "get": "get_unsubscriber",
             "update": "update_unsubscriber", "delete": "delete_unsubscriber",
             "import": "import_unsubscribers"}
    assert set(names) == set(UNSUBSCRIBER_TITLES)
    for action, fname in names.items():
        func = getattr(module, fname)
        assert func.route == f"{product}.unsubscribers.{action}"
        assert func.__module__ == module.__name__
