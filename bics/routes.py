"""THE route table: one entry per documented BICS CPaaS operation (120).

The documentation (``bics-cpaas-api-1.0.0.txt``, a Redoc text export) lost almost every
``METHOD /path`` line. Every path below except ``auth/me`` is therefore *inferred* from the
documented naming and marked ``path_stated=False``; ``method_stated`` says whether the prose
states the HTTP method. Nothing else in the code base spells a path: callers use route names,
and deployments correct a path with ``build_routes(overrides)`` (Django passes its
``BICS_ROUTES`` setting through the client constructor).

Path conventions (inferred, see bics/README.md):
* ``<product>/<resource>`` for collections, ``<product>/<resource>/{id}`` for items;
* non-CRUD actions are a trailing segment: ``.../clean`` (DELETE), ``.../import`` (POST, multipart);
* sends: ``<product>/send``, ``<product>/send/template``, ``<product>/send/text``
  (the only SMS URLs in the file are ``sms/clevertap/send`` and ``sms/moengage/send``);
* contacts-side resources are top level (``contacts``, ``tags``, ``segments``, ``imports``,
  ``identifiers``) so that ``contacts/{id}`` never shadows another collection.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

__all__ = ["AREAS", "ROUTES", "Route", "build_routes", "is_idempotent", "route_area"]

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
NOTATIONS = ("digits", "plus", "none")


@dataclass(frozen=True)
class Route:
    name: str  # "<product>.<resource>.<action>"
    method: str  # "GET" | "POST" | "PUT" | "PATCH" | "DELETE"
    path: str  # relative to the base URL, no leading slash, "{id}" placeholders
    line: int  # first line of the operation in bics-cpaas-api-1.0.0.txt
    method_stated: bool  # the text states the method
    path_stated: bool  # the text states the path (only auth/me really)
    numbers: str = "none"  # "digits" (E.164 without +), "plus" (E.164 with +), "none"
    paginated: bool = False  # list operation with links/meta pagination
    idempotent: bool | None = None  # None = derive from method; sends are False
    note: str = ""  # why, where the document is silent

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"route {self.name}: bad method {self.method!r}")
        if self.path.startswith("/"):
            raise ValueError(f"route {self.name}: path must be relative, got {self.path!r}")
        if self.numbers not in NOTATIONS:
            raise ValueError(f"route {self.name}: bad numbers notation {self.numbers!r}")


def is_idempotent(route: Route) -> bool:
    """True when repeating the request cannot do harm (retry allowed after it may have left)."""
    if route.idempotent is not None:
        return route.idempotent
    return route.method in ("GET", "PUT", "DELETE")


# Short-hands for the table below.
_S, _I = True, False  # method stated / inferred
_NOTE_CLEAN = "wipes ALL entries; path segment 'clean' inferred"
_NOTE_IMPORT = "multipart/form-data upload inferred (content type not stated)"
_NOTE_SEND = "not idempotent: BICS documents no de-duplication; never retried once sent"


def _r(name, method, path, line, method_stated, numbers="none", paginated=False,
       idempotent=None, note=""):
    return Route(name, method, path, line, method_stated, False, numbers, paginated,
                 idempotent, note)


def _unsubscribers(product: str, lines: tuple[int, ...], stated: tuple[bool, ...],
                   label: str) -> list[Route]:
    """The 7 identical unsubscriber operations of sms / voice (Engage) / viber / whatsapp."""
    base = f"{product}/unsubscribers"
    ops = [
        ("list", "GET", base, True, ""),
        ("create", "POST", base, False, ""),
        ("clean", "DELETE", f"{base}/clean", False, _NOTE_CLEAN),
        ("get", "GET", f"{base}/{{id}}", False, ""),
        ("update", "PUT", f"{base}/{{id}}", False, ""),
        ("delete", "DELETE", f"{base}/{{id}}", False, ""),
        ("import", "POST", f"{base}/import", False, _NOTE_IMPORT),
    ]
    out = []
    for (action, method, path, paginated, note), line, st in zip(ops, lines, stated, strict=True):
        idem = False if action == "import" else None
        out.append(_r(f"{product}.unsubscribers.{action}", method, path, line, st,
                      numbers="digits", paginated=paginated, idempotent=idem,
                      note=(f"{label}; " + note).strip("; ")))
    return out


_TABLE: list[Route] = [
    # ---------------------------------------------------------------- platform (01) - 12
    Route("auth.me", "GET", "auth/me", 54, True, True,
          note="the only path in the file (Authentication's examples); GET from the 'GET Example' heading"),
    _r("webhooks.webhooks.list", "GET", "webhooks", 150, _S, paginated=True),
    _r("webhooks.webhooks.create", "POST", "webhooks", 185, _S),
    _r("webhooks.webhooks.get", "GET", "webhooks/{id}", 244, _I,
       note="method not stated; 'Replace the {id} in the endpoint' (View Webhook by ID)"),
    _r("webhooks.webhooks.update", "PUT", "webhooks/{id}", 276, _I,
       note="method not stated; PUT like every documented edit"),
    _r("webhooks.webhooks.delete", "DELETE", "webhooks/{id}", 338, _I,
       note="method not stated ('used to delete'); soft delete per Delete Webhook"),
    _r("webhooks.subscriptions.list", "GET", "subscriptions", 389, _S, paginated=True),
    _r("webhooks.subscriptions.create", "POST", "subscriptions", 418, _S),
    _r("webhooks.subscriptions.get", "GET", "subscriptions/{id}", 472, _S),
    _r("webhooks.subscriptions.delete", "DELETE", "subscriptions/{id}", 504, _S),
    _r("auth.token.generate", "GET", "auth/token/generate", 979, _S, idempotent=False,
       note="path from the iss claim of the sample JWT (…/api/v3/auth/token/generate); "
            "each call mints a new token, so not retried blindly"),
    _r("auth.token.refresh", "POST", "auth/token/refresh", 998, _I, idempotent=False,
       note="method not stated (POST chosen: refresh invalidates the old token); path from "
            "the iss claim of the sample JWT"),
    # ---------------------------------------------------------------- SMS (02) - 29
    _r("sms.senders.list", "GET", "sms/senders", 1086, _S, paginated=True),
    _r("sms.senders.create", "POST", "sms/senders", 1128, _S),
    _r("sms.senders.get", "GET", "sms/senders/{id}", 1180, _S),
    _r("sms.senders.update", "PUT", "sms/senders/{id}", 1220, _S),
    _r("sms.senders.delete", "DELETE", "sms/senders/{id}", 1272, _S),
    _r("sms.templates.list", "GET", "sms/templates", 1305, _S, paginated=True),
    _r("sms.templates.create", "POST", "sms/templates", 1338, _S),
    _r("sms.templates.get", "GET", "sms/templates/{id}", 1403, _S),
    _r("sms.templates.update", "PUT", "sms/templates/{id}", 1436, _S),
    _r("sms.templates.delete", "DELETE", "sms/templates/{id}", 1503, _S),
    *_unsubscribers("sms", (1536, 1591, 1642, 1664, 1697, 1757, 1788),
                    (_S, _I, _S, _I, _S, _S, _I), "SMS suppression list"),
    _r("sms.blocked_templates.list", "GET", "sms/blocked-templates", 1814, _S, paginated=True),
    _r("sms.blocked_templates.create", "POST", "sms/blocked-templates", 1859, _S),
    _r("sms.blocked_templates.clean", "DELETE", "sms/blocked-templates/clean", 1903, _S,
       note=_NOTE_CLEAN),
    _r("sms.blocked_templates.get", "GET", "sms/blocked-templates/{id}", 1925, _S),
    _r("sms.blocked_templates.update", "PUT", "sms/blocked-templates/{id}", 1958, _S),
    _r("sms.blocked_templates.delete", "DELETE", "sms/blocked-templates/{id}", 2012, _S),
    _r("sms.blocked_templates.import", "POST", "sms/blocked-templates/import", 2043, _I,
       idempotent=False, note=_NOTE_IMPORT + "; file field is 'url' as documented"),
    _r("sms.messages.send", "POST", "sms/send", 2071, _I, numbers="digits", idempotent=False,
       note="method not stated; path after sms/clevertap/send (Clevertap SMS Integration); " + _NOTE_SEND),
    _r("sms.messages.send_template", "POST", "sms/send/template", 2195, _S, numbers="digits",
       idempotent=False, note=_NOTE_SEND),
    _r("sms.messages.send_text", "POST", "sms/send/text", 2268, _S, numbers="digits",
       idempotent=False, note=_NOTE_SEND),
    _r("sms.messages.dlr", "GET", "sms/dlr", 2322, _S, numbers="digits", paginated=True,
       note="pages of 100 when group_id or date is given (Pull DLR Status)"),
    _r("sms.pricing.list", "GET", "sms/pricing", 2375, _S, paginated=True),
    # ------------------------------------------------ voice / verify / smart link (03) - 21
    _r("smartlink.visits.list", "GET", "smartlinks/{id}/visits", 2636, _S, paginated=True),
    *_unsubscribers("voice", (2937, 2992, 3043, 3065, 3098, 3158, 3189),
                    (_S, _I, _S, _I, _S, _S, _I), "Engage suppression list"),
    _r("voice.calls.create", "POST", "voice/calls", 3215, _I, numbers="digits",
       idempotent=False, note="method not stated; " + _NOTE_SEND),
    _r("voice.bulk_calls.create", "POST", "voice/calls/bulk", 3306, _I, numbers="digits",
       idempotent=False, note="method not stated; " + _NOTE_SEND),
    _r("voice.tts.create", "POST", "voice/tts", 3385, _I, numbers="digits", idempotent=False,
       note="method not stated; " + _NOTE_SEND),
    _r("voice.click2call.create", "POST", "voice/click2call", 3452, _I, numbers="digits",
       idempotent=False, note="method not stated; " + _NOTE_SEND),
    _r("voice.call_logs.list", "GET", "voice/logs", 3555, _S, paginated=True),
    _r("voice.recordings.list", "GET", "voice/recordings", 3587, _S, paginated=True),
    _r("voice.calls.status", "GET", "voice/calls/status", 3619, _S, numbers="digits",
       note="query id/cid/date/mobile; response has no links/meta"),
    _r("voice.sound_files.create", "POST", "voice/sounds", 3662, _S, idempotent=False,
       note=_NOTE_IMPORT),
    _r("voice.pricing.list", "GET", "voice/pricing", 3695, _S, paginated=True),
    _r("verify.otp.send", "POST", "verify/otp", 3761, _I, numbers="digits", idempotent=False,
       note="method not stated; " + _NOTE_SEND),
    _r("verify.otp.verify", "GET", "verify/otp/{id}/{token}", 3819, _S, idempotent=False,
       note="id and token are URL parameters; a token verifies only once (Verify OTP), so a "
            "retry could report 'OTP already verified': not retried"),
    _r("verify.otp.search", "GET", "verify/otp/{id}", 3870, _S),
    _r("verify.otp.cancel", "GET", "verify/otp/{id}/cancel", 3910, _S,
       note="documented as a GET (Cancel OTP Token); repeating a cancel is harmless"),
    # ------------------------------------------------------- Viber / WhatsApp (04) - 30
    _r("viber.templates.list", "GET", "viber/templates", 3974, _S, paginated=True),
    _r("viber.templates.create", "POST", "viber/templates", 4021, _I),
    _r("viber.templates.get", "GET", "viber/templates/{id}", 4089, _S),
    _r("viber.templates.update", "PUT", "viber/templates/{id}", 4122, _S),
    _r("viber.templates.delete", "DELETE", "viber/templates/{id}", 4184, _S),
    *_unsubscribers("viber", (4217, 4246, 4297, 4319, 4352, 4412, 4443),
                    (_S, _I, _S, _I, _S, _S, _I), "Viber suppression list"),
    _r("viber.messages.send", "POST", "viber/send", 4469, _I, numbers="digits",
       idempotent=False, note="method not stated; " + _NOTE_SEND),
    _r("viber.messages.send_template", "POST", "viber/send/template", 4536, _S,
       numbers="digits", idempotent=False, note=_NOTE_SEND),
    _r("viber.messages.dlr", "GET", "viber/dlr", 4611, _I, numbers="digits",
       note="method not stated (GET like the SMS twin); no pagination documented"),
    _r("viber.pricing.list", "GET", "viber/pricing", 4649, _S, paginated=True),
    _r("whatsapp.templates.list", "GET", "whatsapp/templates", 4716, _S, paginated=True),
    _r("whatsapp.templates.create", "POST", "whatsapp/templates", 4765, _I, numbers="digits"),
    _r("whatsapp.templates.delete", "DELETE", "whatsapp/templates/{id}", 4871, _S),
    *_unsubscribers("whatsapp", (4902, 4957, 5008, 5030, 5063, 5123, 5154),
                    (_S, _I, _S, _I, _S, _S, _I), "WhatsApp suppression list"),
    _r("whatsapp.messages.send_template", "POST", "whatsapp/send/template", 5180, _S,
       numbers="digits", idempotent=False, note="service templates; " + _NOTE_SEND),
    _r("whatsapp.messages.send", "POST", "whatsapp/send", 5257, _I, numbers="digits",
       idempotent=False, note="free-form and non-service templates; method not stated; "
                              + _NOTE_SEND),
    _r("whatsapp.messages.dlr", "GET", "whatsapp/dlr", 5333, _I, numbers="digits",
       note="method not stated (GET like the SMS twin); no pagination documented"),
    _r("whatsapp.pricing.list", "GET", "whatsapp/pricing", 5371, _S, paginated=True),
    # ------------------------------------------------------ account / contacts (05) - 28
    _r("account.balance.get", "GET", "account/balance", 5427, _S),
    _r("account.credits.add", "POST", "account/credits", 5448, _I, idempotent=False,
       note="method not stated; adds money: never retried once sent"),
    _r("contacts.contacts.list", "GET", "contacts", 5499, _S, paginated=True),
    _r("contacts.contacts.create", "POST", "contacts", 5524, _I, numbers="plus",
       note="method not stated; phone sample carries '+' (Create Contact)"),
    _r("contacts.contacts.get", "GET", "contacts/{id}", 5622, _S),
    _r("contacts.contacts.update", "PUT", "contacts/{id}", 5654, _I, numbers="plus",
       note="method not stated; phone sample carries '+' (Edit Contact)"),
    _r("contacts.contacts.delete", "DELETE", "contacts/{id}", 5738, _S),
    _r("contacts.identifiers.list", "GET", "contacts/{contact_id}/identifiers", 5769, _S,
       paginated=True),
    _r("contacts.identifiers.create", "POST", "contacts/{contact_id}/identifiers", 5801, _S,
       numbers="plus"),
    _r("contacts.identifiers.get", "GET", "contacts/{contact_id}/identifiers/{identifier_id}",
       5851, _S, note="documented params id + iId"),
    _r("contacts.identifiers.update", "PUT",
       "contacts/{contact_id}/identifiers/{identifier_id}", 5886, _I, numbers="plus",
       note="method not stated; documented params cId + iId"),
    _r("contacts.identifiers.delete", "DELETE",
       "contacts/{contact_id}/identifiers/{identifier_id}", 5943, _S,
       note="documented params id + Iid"),
    _r("contacts.tags.list", "GET", "tags", 5979, _S, paginated=True),
    _r("contacts.tags.create", "POST", "tags", 6004, _I),
    _r("contacts.tags.get", "GET", "tags/{id}", 6039, _I),
    _r("contacts.tags.update", "PUT", "tags/{id}", 6067, _I),
    _r("contacts.tags.delete", "DELETE", "tags/{id}", 6110, _I),
    _r("contacts.segments.list", "GET", "segments", 6139, _S,
       note="envelope differs: status 200, data an object, no links/meta (Get All Segments)"),
    _r("contacts.segments.create", "POST", "segments", 6159, _S),
    _r("contacts.segments.get", "GET", "segments/{id}", 6194, _S),
    _r("contacts.segments.update", "PUT", "segments/{id}", 6222, _S),
    _r("contacts.segments.delete", "DELETE", "segments/{id}", 6295, _S),
    _r("contacts.segments.subscribers", "GET", "segments/{id}/subscribers", 6322, _S,
       paginated=True, note="response sample is {} (Get Segment Subscribers); iterated like any list"),
    _r("contacts.imports.list", "GET", "imports", 6346, _S, paginated=True),
    _r("contacts.imports.create", "POST", "imports", 6371, _I, numbers="plus",
       idempotent=False, note=_NOTE_IMPORT + "; 5 MB limit"),
    _r("contacts.imports.get", "GET", "imports/{id}", 6397, _I),
    _r("contacts.imports.delete", "DELETE", "imports/{id}", 6425, _I),
    _r("contacts.identifiers.list_all", "GET", "identifiers", 6454, _S, paginated=True),
]

ROUTES: dict[str, Route] = {}
for _route in _TABLE:
    if _route.name in ROUTES:  # pragma: no cover - guarded by tests
        raise RuntimeError(f"duplicate route {_route.name}")
    ROUTES[_route.name] = _route
del _route

# Per-area grouping, following the digests (0*.md): area -> (first line, last line).
_AREA_LINES = {
    "platform": (1, 1020),  # 01-platform-webhooks-token.md
    "sms": (1021, 2420),  # 02-sms.md
    "voice_verify": (2420, 3937),  # 03-voice-verify-smpp.md
    "viber_whatsapp": (3938, 5420),  # 04-viber-whatsapp.md
    "account_contacts": (5421, 6478),  # 05-account-contacts.md
}


def route_area(route: Route) -> str:
    for area, (lo, hi) in _AREA_LINES.items():
        if lo <= route.line <= hi:
            return area
    raise ValueError(f"route {route.name} line {route.line} is outside every area")


AREAS: dict[str, tuple[str, ...]] = {
    area: tuple(r.name for r in _TABLE if route_area(r) == area) for area in _AREA_LINES
}

_OVERRIDABLE = {f.name for f in fields(Route)} - {"name"}


def build_routes(overrides: Mapping[str, str | Mapping] | None = None) -> dict[str, Route]:
    """Return a copy of ROUTES with overrides applied.

    ``overrides`` maps a route name to either ``"METHOD path"`` / ``"path"`` or a mapping
    with any of ``method``, ``path`` (and the other Route fields except ``name``).
    Unknown route names or fields raise ValueError.
    """
    routes = dict(ROUTES)
    if not overrides:
        return routes
    unknown = sorted(set(overrides) - set(ROUTES))
    if unknown:
        raise ValueError(f"unknown BICS route name(s) in overrides: {', '.join(unknown)}")
    for name, value in overrides.items():
        if isinstance(value, str):
            parts = value.split()
            if len(parts) == 2:
                changes = {"method": parts[0], "path": parts[1]}
            elif len(parts) == 1:
                changes = {"path": parts[0]}
            else:
                raise ValueError(f"override for {name}: expected 'METHOD path', got {value!r}")
        elif isinstance(value, Mapping):
            changes = dict(value)
            bad = sorted(set(changes) - _OVERRIDABLE)
            if bad:
                raise ValueError(f"override for {name}: unknown field(s) {', '.join(bad)}")
        else:
            raise TypeError(f"override for {name}: expected str or mapping")
        if "method" in changes:
            changes["method"] = str(changes["method"]).upper()
        if "path" in changes:
            changes["path"] = str(changes["path"]).lstrip("/")
        note = routes[name].note
        changes.setdefault("note", (note + "; " if note else "") + "overridden by settings")
        routes[name] = replace(routes[name], **changes)
    return routes
