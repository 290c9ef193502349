"""Route handlers: one generic, data-driven collection handler (list/create/get/update/
delete/clean/import) parameterised by bics.shapes, per-collection hooks, and special handlers
where behaviour differs (sends, DLRs, verify, voice, tokens, contacts extras)."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from bics import units as sms_units
from bics.routes import Route
from bics.sandbox import rules
from bics.sandbox.app import Ctx, Out, invalid, not_found
from bics.sandbox.state import unit_hash
from bics.shapes import SHAPES

GENERIC_ACTIONS = ("list", "create", "get", "update", "delete", "clean", "import")
SPECIAL: dict[str, Callable[[Ctx], Out]] = {}


def special(*names: str):
    def register(fn):
        for name in names:
            SPECIAL[name] = fn
        return fn

    return register


def table(routes: Mapping[str, Route]) -> dict[str, Callable[[Ctx], Out]]:
    """Route name -> handler, for every route (a missing one is a bug: raise)."""
    out = {}
    for name in routes:
        if name in SPECIAL:
            out[name] = SPECIAL[name]
            continue
        action = name.rsplit(".", 1)[1]
        if action not in GENERIC_ACTIONS:
            raise RuntimeError(f"no sandbox handler for route {name}")
        out[name] = _generic(action)
    return out


# ====================================================================== generic collections
def coll_name(ctx: Ctx) -> str:
    return ctx.route.name.rsplit(".", 1)[0]


@cache
def request_fields(route_name: str) -> tuple[str, ...]:
    """Top-level body keys a create/update stores (filters and files excluded)."""
    names: list[str] = []
    for f in SHAPES[route_name].request:
        top = f.name.split(".")[0].split("[")[0]
        if f.name.startswith("filter[") or f.type == "file" or top in names:
            continue
        names.append(top)
    return tuple(names)


@cache
def _out_fields(coll: str) -> tuple[str, ...]:
    for action in ("get", "create", "list"):
        shape = SHAPES.get(f"{coll}.{action}")
        if shape and shape.fields:
            return shape.fields
    return ()


class Hooks:
    """Per-collection behaviour on top of the generic handler."""

    def create(self, ctx: Ctx, rec: dict) -> None:  # fill defaults, start lifecycles
        pass

    def update(self, ctx: Ctx, rec: dict, changes: dict) -> None:
        pass

    def view(self, ctx: Ctx, rec: dict) -> None:  # lazy state (approval due)
        pass

    def import_row(self, ctx: Ctx, row: list[str]) -> dict | None:
        return None

    def deleted(self, ctx: Ctx, rec: dict) -> None:
        pass


HOOKS: dict[str, Hooks] = {}
NO_HOOKS = Hooks()


def hooks(*colls: str):
    def register(cls):
        for c in colls:
            HOOKS[c] = cls()
        return cls

    return register


def serialize(ctx: Ctx, coll: str, rec: dict) -> dict:
    HOOKS.get(coll, NO_HOOKS).view(ctx, rec)
    out = {k: None for k in _out_fields(coll)}
    out.update({k: v for k, v in rec.items() if not k.startswith("_")})
    return out


_EXACT_FILTERS = ("id", "status", "type", "template_id", "iso")


def apply_filters(items: list[dict], query: Mapping[str, str]) -> list[dict]:
    for key, value in query.items():
        if not key.startswith("filter[") or not key.endswith("]") or value == "":
            continue
        name = key[7:-1]
        if name in _EXACT_FILTERS:
            items = [r for r in items if str(r.get(name)) == value]
        else:
            low = value.lower()
            items = [r for r in items if low in str(r.get(name) or "").lower()]
    return items


def get_or_404(ctx: Ctx, coll: str, rid: str | None) -> dict:
    rec = ctx.account.coll(coll).get(str(rid))
    if rec is None or rec.get("_deleted"):
        raise not_found(coll.split(".")[-1].rstrip("s").replace("_", " ").capitalize())
    return rec


def new_record(ctx: Ctx, coll: str, values: dict) -> dict:
    now = ctx.stamp()
    rec = {"id": ctx.account.next_id(coll), **values, "created_at": now, "updated_at": now}
    HOOKS.get(coll, NO_HOOKS).create(ctx, rec)
    ctx.account.coll(coll)[rec["id"]] = rec
    return rec


def _generic(action: str) -> Callable[[Ctx], Out]:
    def handler(ctx: Ctx) -> Out:
        coll = coll_name(ctx)
        store = ctx.account.coll(coll)
        hk = HOOKS.get(coll, NO_HOOKS)
        rid = ctx.params.get("id")
        if action == "list":
            items = [serialize(ctx, coll, r) for r in store.values() if not r.get("_deleted")]
            return Out(apply_filters(items, ctx.query))
        if action == "create":
            values = {k: ctx.body[k] for k in request_fields(ctx.route.name) if k in ctx.body}
            rec = new_record(ctx, coll, values)
            return Out(serialize(ctx, coll, rec))
        if action == "get":
            return Out(serialize(ctx, coll, get_or_404(ctx, coll, rid)))
        if action == "update":
            rec = get_or_404(ctx, coll, rid)
            changes = {k: ctx.body[k] for k in request_fields(ctx.route.name) if k in ctx.body}
            rec.update(changes)
            rec["updated_at"] = ctx.stamp()
            hk.update(ctx, rec, changes)
            return Out(serialize(ctx, coll, rec))
        if action == "delete":
            rec = get_or_404(ctx, coll, rid)
            del store[rec["id"]]
            hk.deleted(ctx, rec)
            return Out()
        if action == "clean":
            store.clear()
            return Out()
        if action == "import":
            return _import(ctx, coll, hk)
        raise RuntimeError(action)  # pragma: no cover

    handler.__name__ = f"generic_{action}"
    return handler


def upload_rows(ctx: Ctx) -> tuple[str, list[list[str]]]:
    if not ctx.files:
        raise invalid({"file": ["A file upload (multipart/form-data) is required."]})
    filename, content = next(iter(ctx.files.values()))
    if filename.lower().endswith((".xls", ".xlsx")):
        return filename, []  # accepted, not parsed
    text = content.decode("utf-8-sig", "replace")
    rows = [row for row in csv.reader(io.StringIO(text)) if any(c.strip() for c in row)]
    return filename, rows


def _import(ctx: Ctx, coll: str, hk: Hooks) -> Out:
    filename, rows = upload_rows(ctx)
    created = 0
    for row in rows:
        values = hk.import_row(ctx, row)
        if values is not None:
            new_record(ctx, coll, values)
            created += 1
    return Out()  # the documented answers carry no count


# ---------------------------------------------------------------------- lifecycles
def _decide(ctx: Ctx, rec: dict, problems: list[str]) -> None:
    """Start an approval: decided ``approval_delay`` seconds from now."""
    forced = ctx.config.approval_rules.get(str(rec.get("name")))
    rec["_due"] = ctx.now + ctx.config.approval_delay
    rec["_problems"] = problems
    if forced:
        rec["_forced"] = forced.lower()
    else:
        rec.pop("_forced", None)


def _outcome(rec: dict) -> str:
    forced = rec.get("_forced")
    if forced in ("approved", "rejected"):
        return forced
    return "rejected" if rec.get("_problems") else "approved"


def _settle(ctx: Ctx, rec: dict, *, pending: int, approved: int, rejected: int) -> str | None:
    """Decide a pending record whose approval is due (lazily, when it is read)."""
    if rec.get("status") != pending or ctx.now < rec.get("_due", 0):
        return None
    outcome = _outcome(rec)
    rec["status"] = approved if outcome == "approved" else rejected
    if outcome == "rejected":
        rec["rejection_reason"] = "; ".join(rec.get("_problems") or ["Rejected."])
    return outcome


@hooks("sms.senders")
class SenderHooks(Hooks):
    """Sender status 0 pending, 1 approved, 2 rejected (1097-1100)."""

    def create(self, ctx, rec):
        rec.update(status=0, open_status=0, entity_name=None, entity_id=None, purpose=None)
        _decide(ctx, rec, rules.sender_problems(str(rec.get("name", ""))))

    def view(self, ctx, rec):
        outcome = _settle(ctx, rec, pending=0, approved=1, rejected=2)
        if outcome:
            rec["open_status"] = 1 if outcome == "approved" else 0


@hooks("sms.templates")
class SmsTemplateHooks(Hooks):
    """SMS templates: pending (0) until decided by the content rules of 02-sms.md §1.5."""

    def create(self, ctx, rec):
        rec.setdefault("type", None)
        rec["alias"] = rec.get("alias") or _alias(rec.get("name"))
        rec["is_english"] = rec.get("is_english", "1")
        self._restart(ctx, rec)

    def update(self, ctx, rec, changes):
        if "body" in changes or "type" in changes:
            self._restart(ctx, rec)

    def _restart(self, ctx, rec):
        body = str(rec.get("body") or "")
        rec["body_length"] = len(body)
        rec["status"] = 0
        rec.pop("rejection_reason", None)
        senders = [s for s in ctx.account.coll("sms.senders").values() if s.get("name") == rec.get("sender")]
        rec["sender_id"] = senders[0]["id"] if senders else None
        _decide(ctx, rec, rules.template_problems(body, rec.get("type")))

    def view(self, ctx, rec):
        _settle(ctx, rec, pending=0, approved=1, rejected=2)


@hooks("viber.templates", "whatsapp.templates")
class ChannelTemplateHooks(Hooks):
    """WhatsApp/Viber template status: 1 approved, 2 pending, 3 rejected. The SMS (DLT)
    content rules are not applied: the documentation states them for SMS templates only."""

    def create(self, ctx, rec):
        rec["alias"] = rec.get("alias") or _alias(rec.get("name"))
        rec.setdefault("type", "text")
        self._restart(ctx, rec)

    def update(self, ctx, rec, changes):
        self._restart(ctx, rec)

    def _restart(self, ctx, rec):
        rec.pop("rejection_reason", None)
        if _is_service(rec):
            rec["status"] = 1  # service templates need no Meta approval (Create Template)
            return
        rec["status"] = 2
        _decide(ctx, rec, [])

    def view(self, ctx, rec):
        _settle(ctx, rec, pending=2, approved=1, rejected=3)


def _is_service(rec: dict) -> bool:
    return rec.get("is_conversation") in (True, 1, "1", "true", "True")


def _template_text(rec: dict) -> str:
    for container in (rec.get("message"), rec.get("payload")):
        if isinstance(container, Mapping):
            for key in ("text", "body"):
                if isinstance(container.get(key), str):
                    return container[key]
    return ""


def _alias(name: Any) -> str:
    return str(name or "").strip().lower().replace(" ", "_")


@hooks("sms.unsubscribers", "voice.unsubscribers", "viber.unsubscribers", "whatsapp.unsubscribers")
class UnsubscriberHooks(Hooks):
    def create(self, ctx, rec):
        rec.setdefault("type", "all")
        rec.setdefault("value", "")
        rec["iso"] = rules.iso_of(rec.get("receiver", ""))

    def update(self, ctx, rec, changes):
        rec["iso"] = rules.iso_of(rec.get("receiver", ""))

    def import_row(self, ctx, row):
        number = row[0].strip().lstrip("+")
        if not number.isdigit():
            return None  # header line or junk
        return {
            "receiver": number,
            "type": (row[1].strip() if len(row) > 1 else "") or "all",
            "value": row[2].strip() if len(row) > 2 else "",
        }


@hooks("sms.blocked_templates")
class BlockedHooks(Hooks):
    def create(self, ctx, rec):
        rec.setdefault("status", "1")

    def import_row(self, ctx, row):
        value = row[0].strip()
        if not value or not value.isdigit():
            return None
        return {"template_id": value, "status": row[1].strip() if len(row) > 1 else "1"}


@hooks("webhooks.webhooks")
class WebhookHooks(Hooks):
    def create(self, ctx, rec):
        rec["status"] = str(rec.get("status", "1"))
        if rec.get("token"):
            ctx.app.deliverer.handshake(ctx.account, rec)

    def update(self, ctx, rec, changes):
        if "status" in changes:
            rec["status"] = str(rec["status"])


@hooks("contacts.contacts")
class ContactHooks(Hooks):
    def create(self, ctx, rec):
        rec["tags"] = _tag_names(ctx, rec.get("tags"))
        rec.setdefault("attributes", {})

    def update(self, ctx, rec, changes):
        if "tags" in changes:
            rec["tags"] = _tag_names(ctx, changes.get("tags"))
        _emit_contact(ctx, rec)


def _tag_names(ctx: Ctx, tags: Any) -> list[str]:
    """Contacts carry tag names; unknown names create the tag."""
    names = [str(t) for t in (tags or [])]
    existing = {t["name"] for t in ctx.account.coll("contacts.tags").values()}
    for name in names:
        if name not in existing:
            new_record(ctx, "contacts.tags", {"name": name})
            existing.add(name)
    return names


def _emit_contact(ctx: Ctx, rec: dict) -> None:
    ctx.app.deliverer.emit(
        ctx.account,
        "contacts:subscriber:subscription",
        {k: v for k, v in rec.items() if not k.startswith("_")},
    )


@hooks("contacts.segments")
class SegmentHooks(Hooks):
    def create(self, ctx, rec):
        for key in ("positive_tags", "negative_tags"):
            rec[key] = _tag_names(ctx, rec.get(key))
        rec.setdefault("positive_tags_operator", "any")
        rec.setdefault("negative_tags_operator", "any")

    def update(self, ctx, rec, changes):
        self.create(ctx, rec)


# ====================================================================== platform
@special("auth.me")
def auth_me(ctx: Ctx) -> Out:
    uid = ctx.account.user_id
    return Out(
        {
            "id": uid,
            "name": f"Sandbox user {uid}",
            "username": f"sandbox{uid}",
            "email": f"sandbox{uid}@example.invalid",
        }
    )


@special("auth.token.generate", "auth.token.refresh")
def auth_token(ctx: Ctx) -> Out:
    app = ctx.app
    now = int(ctx.now)
    claims = {
        "iss": ctx.base + ctx.route.path,
        "iat": now,
        "exp": now + 3600,
        "nbf": now,
        "jti": ctx.account.uuid().replace("-", "")[:16],
        "sub": ctx.account.user_id,
    }

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    token = ".".join(
        [
            b64(json.dumps({"typ": "JWT", "alg": "RS256"}).encode()),
            b64(json.dumps(claims).encode()),
            b64(ctx.account.rng.getrandbits(256).to_bytes(32, "big")),
        ]
    )
    with app._lock:  # noqa: SLF001
        if ctx.route.name == "auth.token.refresh":
            if ctx.token in app.minted:  # the refreshed token stops working
                app.minted[ctx.token] = (ctx.account.key, 0.0)
        app.minted[token] = (ctx.account.key, now + 3600)
    return Out(raw={"access_token": token, "expires_in": 3600, "token_type": "bearer"})


@special("webhooks.webhooks.delete")
def webhook_delete(ctx: Ctx) -> Out:
    rec = get_or_404(ctx, "webhooks.webhooks", ctx.params["id"])
    rec["_deleted"] = True  # soft delete (342)
    rec["status"] = "0"
    return Out()


@special("webhooks.subscriptions.create")
def subscription_create(ctx: Ctx) -> Out:
    hook_id = str(ctx.body.get("webhook_id"))
    hook = ctx.account.coll("webhooks.webhooks").get(hook_id)
    if hook is None or hook.get("_deleted"):
        raise invalid({"webhook_id": ["The selected webhook id is invalid."]})
    rec = new_record(
        ctx,
        "webhooks.subscriptions",
        {"event": ctx.body["event"], "identity": ctx.body["identity"], "webhook_id": hook_id},
    )
    return Out(serialize(ctx, "webhooks.subscriptions", rec))


# ====================================================================== sending
def _dlr_outcome(ctx: Ctx, mid: str, number: str, custom: str | None) -> tuple[str, str | None, str]:
    cfg = ctx.config
    for key in (number, custom):
        if key and key in cfg.dlr_rules:
            status, code = rules.resolve_status(cfg.dlr_rules[key])
            return (
                status,
                code,
                ("delivered" if status == "DELIVRD" else "dlt" if status in rules.DLT_STATUSES else "failed"),
            )
    u = unit_hash(cfg.seed, ctx.account.key, mid, "u")
    v = unit_hash(cfg.seed, ctx.account.key, mid, "v")
    return rules.pick_status(cfg.dlr_ratios, u, v)


def _unsubscribed(ctx: Ctx, product: str, number: str) -> bool:
    return any(r.get("receiver") == number for r in ctx.account.coll(f"{product}.unsubscribers").values())


def queue_messages(
    ctx: Ctx,
    product: str,
    numbers: list[str],
    *,
    custom: str | None = None,
    text: str = "",
    webhook_id: str | None = None,
    at: float | None = None,
    force: tuple[str, str | None] | None = None,
    extra: dict | None = None,
    units: int = 1,
) -> tuple[str, list[dict]]:
    """Record one message per recipient, schedule its DLR; returns (group_id, data items)."""
    account = ctx.account
    group_id = account.uuid()
    when = max(at or ctx.now, ctx.now)
    items = []
    ids = []
    for n, number in enumerate(numbers, start=1):
        mid = f"{group_id}:{n}"
        status, code, group = _dlr_outcome(ctx, mid, number, custom)
        if force is not None:
            status, code = force
            group = "failed"
        elif _unsubscribed(ctx, product, number):
            status, code, group = "OPTOUT-REJ", "456", "failed"
        if product != "sms":
            status = rules.CHANNEL_OUTCOME[group]
            code = None
        cost = ctx.config.price_per_unit * units
        if ctx.config.enforce_balance and account.balance < cost:
            status, code, group, cost = "NO-CREDITS", "401", "failed", 0.0
        account.balance -= cost
        rec = {
            "id": mid,
            "group_id": group_id,
            "product": product,
            "mobile": number,
            "custom": custom,
            "cid": _bics_cid(group_id),
            "webhook_id": webhook_id,
            "_final": status,
            "_code": code,
            "_due": when + ctx.config.dlr_delay,
            "_submit": ctx.now,
            "_sent": when,
            "credits": f"{cost:.4f}",
            "units": units,
            "text": text,
            **(extra or {}),
        }
        account.messages[mid] = rec
        ids.append(mid)
        account.sent.append(
            {
                "route": ctx.route.name,
                "id": mid,
                "group_id": group_id,
                "number": number,
                "custom": custom,
                "at": ctx.stamp(),
            }
        )
        items.append({"id": mid, "mobile": number, "status": "queued" if product != "sms" else "ACCEPTED"})
        ctx.app.scheduler.at(rec["_due"], _dlr_due(ctx.app, account, mid))
    account.groups[group_id] = ids
    return group_id, items


def _bics_cid(group_id: str) -> str:
    """The DLR item's ``cid``: the one documented DLR sample carries a ``cid`` that differs
    from its ``custom``, so the sandbox never echoes ``custom`` there (digits, as sampled)."""
    return str(int(group_id.replace("-", "")[:10], 16))


def _dlr_due(app, account, mid: str):
    def fire() -> None:
        with account.lock:
            rec = account.messages.get(mid)
            if rec is None or rec.get("_fired"):
                return
            rec["_fired"] = True
            event = f"{rec['product']}:message:status"
            hook = rec.get("webhook_id")
            if not app.deliverer.targets(account, event, hook):
                return  # nobody listens: skip building the payload
            payload = dlr_view(app, rec)
        app.deliverer.emit(account, event, payload, webhook_id=hook, dlr=True)

    return fire


def dlr_view(app, rec: dict) -> dict:
    """The DLR as pulled or pushed (fields of the Help DLR sample, 7746-7764)."""
    now = app.clock.now()
    final = now >= rec["_due"]
    iso = rules.iso_of(rec["mobile"]) or ""
    if rec["product"] != "sms":
        return {
            "id": rec["id"],
            "mobile": rec["mobile"],
            "status": rec["_final"] if final else "queued",
            "updated_at": app.clock.stamp(rec["_due"] if final else rec["_submit"]),
        }
    return {
        "id": rec["id"],
        "mobile": rec["mobile"],
        "status": rec["_final"] if final else "SUBMITTED",
        "credits": rec["credits"],
        "units": rec["units"],
        "deliv_time": app.clock.stamp(rec["_due"]) if final else None,
        "sent_time": app.clock.stamp(rec["_sent"]),
        "submit_time": app.clock.stamp(rec["_submit"]),
        "cid": rec["cid"],
        "custom": rec["custom"],
        "custom1": None,
        "custom2": None,
        "location": rules.COUNTRIES.get(iso, iso),
        "region": None,
        "provider": None,
        "location_code": iso.lower() or None,
        "region_code": None,
        "provider_code": None,
    }


def _parse_time(ctx: Ctx, value: Any) -> float | None:
    return ctx.app.clock.parse(str(value)) if value else None


def _check_sender(ctx: Ctx, sender: str) -> None:
    if not ctx.config.require_approved_sender:
        return
    for rec in ctx.account.coll("sms.senders").values():
        if rec.get("name") == sender:
            SenderHooks().view(ctx, rec)
            if rec.get("status") == 1:
                return
    raise invalid({"sender": ["The sender must be an approved sender ID of the account."]})


def _sms_units(body: Mapping) -> sms_units.Units:
    """Units billed per recipient (Send Message ``type``); refused above ``max_units``."""
    info = sms_units.count(str(body["message"]), body.get("type") or "A")
    limit = body.get("max_units")
    if limit not in (None, "") and info.parts > int(limit):
        raise invalid({"max_units": [f"The message needs {info.parts} units; max_units is {limit}."]})
    return info


@special("sms.messages.send")
def sms_send(ctx: Ctx) -> Out:
    body = ctx.body
    to = body["to"] if isinstance(body["to"], list) else [body["to"]]
    _check_sender(ctx, str(body["sender"]))
    info = _sms_units(body)
    group_id, items = queue_messages(
        ctx,
        "sms",
        [str(n) for n in to],
        custom=body.get("custom"),
        text=info.text,
        units=max(info.parts, 1),
        webhook_id=body.get("webhook_id"),
        at=_parse_time(ctx, body.get("time")),
        extra={"sender": body["sender"]},
    )
    return Out(items, message=f"{len(items)} numbers accepted for delivery.", extra={"group_id": group_id})


def _recipients(ctx: Ctx) -> list[str]:
    recipient = ctx.body.get("recipient") or {}
    mobile = recipient.get("mobile") if isinstance(recipient, Mapping) else None
    if mobile in (None, ""):
        raise invalid({"recipient.mobile": ["This field is required."]})
    return [str(m) for m in (mobile if isinstance(mobile, list) else [mobile])]


def _find_template(ctx: Ctx, coll: str) -> dict:
    alias, tid = ctx.body.get("alias"), ctx.body.get("id")
    for rec in ctx.account.coll(coll).values():
        if (tid and str(rec["id"]) == str(tid)) or (alias and rec.get("alias") == alias):
            HOOKS[coll].view(ctx, rec)
            return rec
    raise invalid({"alias" if alias else "id": ["The selected template is invalid."]})


def _template_send(ctx: Ctx, product: str) -> Out:
    coll = f"{product}.templates"
    tpl = _find_template(ctx, coll)
    approved = tpl.get("status") == 1
    data = ctx.body.get("data") or {}
    text = rules.render(str(tpl.get("body") or _template_text(tpl)), data)
    force = None if approved else ("INV-TEMPLATE", "453")
    blocked = product == "sms" and any(
        str(b.get("template_id")) == str(tpl["id"]) and str(b.get("status", "1")) == "1"
        for b in ctx.account.coll("sms.blocked_templates").values()
    )
    if blocked:
        force = ("DLT-TM-BLACKLST", "785")  # "Template ID is blacklisted."
    meta = ctx.body.get("meta") if isinstance(ctx.body.get("meta"), Mapping) else {}
    group_id, items = queue_messages(
        ctx,
        product,
        _recipients(ctx),
        text=text,
        custom=meta.get("custom") or ctx.body.get("custom"),
        webhook_id=meta.get("webhook_id"),
        force=force,
        units=max(sms_units.count(text).parts, 1) if product == "sms" else 1,
    )
    return Out(items)  # the samples of these sends carry no group_id


@special("sms.messages.send_template")
def sms_send_template(ctx: Ctx) -> Out:
    return _template_send(ctx, "sms")


@special("whatsapp.messages.send_template")
def wa_send_template(ctx: Ctx) -> Out:
    return _template_send(ctx, "whatsapp")


@special("viber.messages.send_template")
def viber_send_template(ctx: Ctx) -> Out:
    return _template_send(ctx, "viber")


def _channel_send(ctx: Ctx, product: str) -> Out:
    message = ctx.body.get("message")
    text = ""
    if isinstance(message, Mapping):
        text = str(message.get("text") or message.get("body") or "")
    meta = ctx.body.get("meta") if isinstance(ctx.body.get("meta"), Mapping) else {}
    group_id, items = queue_messages(
        ctx,
        product,
        _recipients(ctx),
        text=text,
        custom=meta.get("custom") or ctx.body.get("custom"),
        webhook_id=meta.get("webhook_id"),
        units=max(sms_units.count(text).parts, 1) if product == "sms" else 1,
    )
    return Out(items)  # the samples of these sends carry no group_id


@special("sms.messages.send_text")
def sms_send_text(ctx: Ctx) -> Out:
    return _channel_send(ctx, "sms")


@special("viber.messages.send")
def viber_send(ctx: Ctx) -> Out:
    return _channel_send(ctx, "viber")


@special("whatsapp.messages.send")
def wa_send(ctx: Ctx) -> Out:
    return _channel_send(ctx, "whatsapp")


def _dlr_pull(ctx: Ctx, product: str) -> Out:
    q = ctx.query
    if not any(q.get(k) for k in ("id", "mobile", "cid", "date", "group_id")):
        raise invalid({"id": ["Pass one of id, mobile, cid, date, group_id."]})
    account = ctx.account
    if q.get("group_id"):
        recs = [account.messages[m] for m in account.groups.get(q["group_id"], ())]
    elif q.get("id"):
        recs = [account.messages[q["id"]]] if q["id"] in account.messages else []
    else:
        recs = list(account.messages.values())
    out = []
    date = q.get("date")
    for rec in recs:
        if rec["product"] != product:
            continue
        if q.get("id") and rec["id"] != q["id"]:
            continue
        if q.get("mobile") and rec["mobile"] != q["mobile"]:
            continue
        # "cid: Your custom ID" (Pull DLR Status): the query matches what the send called custom
        if q.get("cid") and rec["custom"] != q["cid"]:
            continue
        if date and ctx.stamp(rec["_submit"])[:10] != date:
            continue
        if not ctx.config.dlr_pending_visible and ctx.now < rec["_due"]:
            continue
        out.append(dlr_view(ctx.app, rec))
    paged = bool(q.get("group_id") or q.get("date")) and product == "sms"
    return Out(out, paginate=paged, per_page=100 if paged else None)


@special("sms.messages.dlr")
def sms_dlr(ctx: Ctx) -> Out:
    return _dlr_pull(ctx, "sms")


@special("viber.messages.dlr")
def viber_dlr(ctx: Ctx) -> Out:
    return _dlr_pull(ctx, "viber")


@special("whatsapp.messages.dlr")
def wa_dlr(ctx: Ctx) -> Out:
    return _dlr_pull(ctx, "whatsapp")


@special("sms.pricing.list", "voice.pricing.list", "viber.pricing.list", "whatsapp.pricing.list")
def pricing(ctx: Ctx) -> Out:
    rows = rules.price_rows(ctx.route.name.split(".")[0])
    q = ctx.query
    for key in ("iso", "service", "subservice", "status"):
        value = q.get(f"filter[{key}]")
        if value not in (None, ""):
            rows = [r for r in rows if str(r.get(key)).lower() == str(value).lower()]
    return Out(rows)


# ====================================================================== smart link
@special("smartlink.visits.list")
def smartlink_visits(ctx: Ctx) -> Out:
    link = ctx.params.get("id", "")
    store = ctx.account.coll("smartlink.visits")
    visits = [v for v in store.values() if str(v.get("link_id")) == str(link)]
    if not visits and link.isdigit():  # a few deterministic visits per link
        for n in range(1 + int(unit_hash(ctx.config.seed, link) * 4)):
            new_record(
                ctx,
                "smartlink.visits",
                {
                    "link_id": int(link),
                    "user_agent": "Mozilla/5.0",
                    "browser": "Chrome",
                    "browser_version": "120.0",
                    "platform": ("Android", "iOS", "Windows")[n % 3],
                    "device_type": "smartphone",
                    "device_brand": "Generic",
                    "country": "Belgium",
                    "country_code": "BE",
                    "region": "Brussels",
                    "city": "Brussels",
                    "mobile": f"32470{int(link) % 1000:03d}{n:03d}",
                },
            )
        visits = [v for v in store.values() if str(v.get("link_id")) == str(link)]
    return Out([serialize(ctx, "smartlink.visits", v) for v in visits])


# ====================================================================== voice
def _call(
    ctx: Ctx, number: str, *, kind: str, group_id: str | None = None, extra: dict | None = None
) -> dict:
    account = ctx.account
    cid = account.uuid()
    custom = (extra or {}).get("cid") or _first(
        ctx.body.get("cid"), ctx.body.get("custom"), ctx.body.get("mid")
    )
    _s, _c, group = _dlr_outcome(ctx, cid, number, custom)
    if _unsubscribed(ctx, "voice", number):
        group = "failed"
    rec = {
        "id": cid,
        "to": number,
        "kind": kind,
        "group_id": group_id,
        "bridge": ctx.body.get("bridge"),
        "_final": rules.CALL_OUTCOME[group],
        "_start": ctx.now,
        "_due": ctx.now + ctx.config.dlr_delay,
        "duration": 0 if group != "delivered" else 5 + int(unit_hash(cid) * 55),
        "webhook_id": ctx.body.get("webhook_id"),
        "cid": custom,
        "record": str(ctx.body.get("record", "0")),
        **(extra or {}),
    }
    account.calls[cid] = rec
    account.sent.append(
        {
            "route": ctx.route.name,
            "id": cid,
            "group_id": group_id,
            "number": number,
            "custom": rec["cid"],
            "at": ctx.stamp(),
        }
    )
    ctx.app.scheduler.at(rec["_due"], _call_due(ctx.app, account, cid))
    return rec


def _first(*values: Any) -> str | None:
    """Our custom id of a call: ``cid`` (assumed), ``custom`` or Click2Call's ``mid``."""
    for value in values:
        if value not in (None, ""):
            return str(value)
    return None


def _call_due(app, account, cid: str):
    def fire() -> None:
        with account.lock:
            rec = account.calls.get(cid)
            if rec is None or rec.get("_fired"):
                return
            rec["_fired"] = True
            payload = call_view(app, rec)
        app.deliverer.emit(account, "voice:message:out", payload, webhook_id=rec.get("webhook_id"))

    return fire


def call_view(app, rec: dict) -> dict:
    final = app.clock.now() >= rec["_due"]
    return {
        "id": rec["id"],
        "cid": rec.get("cid"),
        "mobile": rec["to"],
        "status": rec["_final"] if final else "QUEUED",
        "start_at": app.clock.stamp(rec["_start"]),
        "end_at": app.clock.stamp(rec["_due"]) if final else None,
        "duration": rec["duration"] if final else 0,
    }


@special("voice.calls.create", "voice.tts.create")
def voice_call(ctx: Ctx) -> Out:
    rec = _call(ctx, str(ctx.body["to"]), kind=ctx.route.name.split(".")[1])
    return Out(
        raw={
            "data": [{"id": rec["id"], "to": rec["to"], "status": "queued"}],
            "message": "Calls queued successfully",
            "status": "OK",
        }
    )


@special("voice.bulk_calls.create")
def voice_bulk(ctx: Ctx) -> Out:
    group_id = ctx.account.uuid()
    items = [p for p in ctx.body["payload"] if isinstance(p, Mapping) and p.get("to")]
    if not items or len(items) != len(ctx.body["payload"]):
        raise invalid({"payload": ["Each payload item needs a 'to' number."]})
    numbers = [str(p["to"]) for p in items]
    for item in items:
        extra = {"cid": str(item["cid"])} if item.get("cid") not in (None, "") else None
        _call(ctx, str(item["to"]), kind="bulk", group_id=group_id, extra=extra)
    return Out(
        [],
        message=f"{len(numbers)} numbers queued successfully.",
        extra={"group_id": group_id, "total": len(numbers)},
    )


@special("voice.click2call.create")
def voice_click2call(ctx: Ctx) -> Out:
    """Click2Call dials ``from`` ("the number to whom the call will connect first", 3477-3486);
    ``to`` is the IVR flow it then connects to (3518-3522), kept as ``flow_id``. A ``to`` that
    is a phone number (the "with mobile number" variant, 3460, digits on the wire) is kept the
    same way: the first leg, the one Call Status and the DLR rules look at, is ``from``."""
    rec = _call(ctx, str(ctx.body["from"]), kind="click2call", extra={"flow_id": str(ctx.body["to"])})
    return Out(raw={"callId": rec["id"], "message": "call initiated successfully", "status": 200})


def _range(value: str | None) -> tuple[str, str] | None:
    """'Apr 01, 2021 - Apr 12, 2021' -> ('2021-04-01', '2021-04-12')."""
    if not value:
        return None
    from datetime import datetime

    try:
        lo, hi = (datetime.strptime(p.strip(), "%b %d, %Y").strftime("%Y-%m-%d") for p in value.split(" - "))
    except ValueError:
        raise invalid({"datetime": ["Use a range like 'Apr 01, 2021 - Apr 12, 2021'."]}) from None
    return lo, hi


@special("voice.call_logs.list")
def call_logs(ctx: Ctx) -> Out:
    span = _range(ctx.query.get("datetime[end_at]"))
    out = []
    for rec in ctx.account.calls.values():
        if ctx.now < rec["_due"]:
            continue
        end = ctx.stamp(rec["_due"])
        if span and not span[0] <= end[:10] <= span[1]:
            continue
        out.append(
            {
                "id": rec["id"],
                "caller_id": rec.get("bridge"),
                "to": rec["to"],
                "bridge": rec.get("bridge"),
                "status": rec["_final"],
                "start_at": ctx.stamp(rec["_start"]),
                "end_at": end,
                "duration": rec["duration"],
                "billing": rec["duration"],
                "hangup_by": "callee",
                "country": rules.iso_of(rec["to"]),
            }
        )
    return Out(out)


@special("voice.recordings.list")
def recordings(ctx: Ctx) -> Out:
    span = _range(ctx.query.get("datetime[r.created_at]"))
    out = []
    for rec in ctx.account.calls.values():
        if rec.get("record") != "1" or ctx.now < rec["_due"] or rec["_final"] != "ANSWER":
            continue
        created = ctx.stamp(rec["_due"])
        if span and not span[0] <= created[:10] <= span[1]:
            continue
        out.append(
            {
                "id": rec["id"],
                "call_id": rec["id"],
                "duration": rec["duration"],
                "url": f"{ctx.base}recordings/{rec['id']}.mp3",
                "created_at": created,
            }
        )
    return Out(out)


@special("voice.calls.status")
def call_status(ctx: Ctx) -> Out:
    q = ctx.query
    if not any(q.get(k) for k in ("id", "cid", "date", "mobile")):
        raise invalid({"id": ["Pass one of id, cid, date, mobile."]})
    out = []
    for rec in ctx.account.calls.values():
        if q.get("id") and rec["id"] != q["id"]:
            continue
        if q.get("cid") and str(rec.get("cid")) != q["cid"]:
            continue
        if q.get("mobile") and rec["to"] != q["mobile"]:
            continue
        if q.get("date") and ctx.stamp(rec["_start"])[:10] != q["date"]:
            continue
        out.append(call_view(ctx.app, rec))
    return Out(out)


@special("voice.sound_files.create")
def sound_create(ctx: Ctx) -> Out:
    filename, content = ctx.files.get("audio") or ("", b"")
    if not content:
        raise invalid({"audio": ["A sound file is required."]})
    rec = new_record(
        ctx, "voice.sound_files", {"name": ctx.body.get("name") or filename, "size": len(content)}
    )
    return Out({"id": rec["id"], "name": rec["name"], "created_at": rec["created_at"]})


# ====================================================================== verify
def _otp_channel_name(item: Any) -> str:
    if isinstance(item, Mapping):
        return str(item.get("channel") or item.get("name") or item.get("type") or "sms")
    return str(item)


@special("verify.otp.send")
def otp_send(ctx: Ctx) -> Out:
    account = ctx.account
    channels = [_otp_channel_name(c) for c in ctx.body["channels"]]
    payload = ctx.body.get("payload") if isinstance(ctx.body.get("payload"), Mapping) else {}
    failing = set(ctx.config.otp_failing_channels)
    used = next((c for c in channels if c not in failing), None)
    oid = account.uuid()
    code = f"{account.rng.randrange(10**6):06d}"
    rec = {
        "id": oid,
        "code": code,
        "channel": used,
        "channels": channels,
        "tried": channels[: channels.index(used) + 1] if used else channels,
        "to": payload.get("to"),
        "reference": payload.get("reference"),
        "status": "sent" if used else "failed",
        "_created": ctx.now,
        "_expire": ctx.now + ctx.config.otp_ttl,
    }
    account.otps[oid] = rec
    account.sent.append(
        {
            "route": ctx.route.name,
            "id": oid,
            "group_id": None,
            "number": rec["to"],
            "custom": rec["reference"],
            "at": ctx.stamp(),
        }
    )
    return Out(
        raw={
            "id": oid,
            "status": rec["status"],
            "to": None,
            "foreign_id": None,
            "created_at": ctx.stamp(rec["_created"]),
            "expire_at": ctx.stamp(rec["_expire"]),
        }
    )


def _otp_state(ctx: Ctx, rec: dict) -> str:
    if rec["status"] == "sent" and ctx.now >= rec["_expire"]:
        rec["status"] = "expired"
    return rec["status"]


@special("verify.otp.verify")
def otp_verify(ctx: Ctx) -> Out:
    oid = ctx.params["id"]
    rec = ctx.account.otps.get(oid)
    if rec is None:
        return Out(raw={"id": oid, "status": "failed"})
    state = _otp_state(ctx, rec)
    if state == "verified":
        return Out(raw={"id": oid, "status": "OTP already verified"})
    if state in ("expired",):
        return Out(raw={"id": oid, "status": "expired"})
    if state != "sent":  # cancelled or failed
        return Out(raw={"id": oid, "status": "failed"})
    if ctx.params["token"] != rec["code"]:
        rec["attempts"] = rec.get("attempts", 0) + 1
        return Out(raw={"id": oid, "status": "invalid"})
    rec["status"] = "verified"
    return Out(raw={"id": oid, "status": "success"})


@special("verify.otp.search")
def otp_search(ctx: Ctx) -> Out:
    oid = ctx.params["id"]
    rec = ctx.account.otps.get(oid)
    if rec is None:
        raise not_found("OTP")
    state = _otp_state(ctx, rec)
    return Out(
        raw={
            "id": oid,
            "to": rec["to"],
            "reference": rec["reference"],
            "status": "success" if state == "verified" else state,
            "created_at": ctx.stamp(rec["_created"]),
            "expire_at": ctx.stamp(rec["_expire"]),
            "channels": [
                {"channel": c, "status": ("sent" if c == rec["channel"] else "failed")} for c in rec["tried"]
            ],
        }
    )


@special("verify.otp.cancel")
def otp_cancel(ctx: Ctx) -> Out:
    oid = ctx.params["id"]
    rec = ctx.account.otps.get(oid)
    if rec is None or _otp_state(ctx, rec) != "sent":
        return Out(raw={"id": oid, "status": "failed"})
    rec["status"] = "cancelled"
    return Out(raw={"id": oid, "status": "success"})


# ====================================================================== account
@special("account.balance.get")
def balance(ctx: Ctx) -> Out:
    return Out({"balance": f"{ctx.account.balance:.4f}", "currency": ctx.config.currency})


@special("account.credits.add")
def credits_add(ctx: Ctx) -> Out:
    try:
        amount = float(ctx.body["credits"])
    except (TypeError, ValueError):
        raise invalid({"credits": ["Enter a decimal amount such as '2.34'."]}) from None
    if amount <= 0:
        raise invalid({"credits": ["The amount must be positive."]})
    ctx.account.balance += amount
    return Out()


# ====================================================================== contacts extras
@special("contacts.contacts.create")
def contact_create(ctx: Ctx) -> Out:
    values = {k: ctx.body[k] for k in request_fields(ctx.route.name) if k in ctx.body}
    if any(
        c.get("identity") == values.get("identity") for c in ctx.account.coll("contacts.contacts").values()
    ):
        raise invalid({"identity": ["The identity has already been taken."]})
    rec = new_record(ctx, "contacts.contacts", values)
    _emit_contact(ctx, rec)
    return Out(serialize(ctx, "contacts.contacts", rec))


def _contact(ctx: Ctx) -> dict:
    return get_or_404(ctx, "contacts.contacts", ctx.params.get("contact_id"))


def _identifier(ctx: Ctx) -> dict:
    contact = _contact(ctx)
    rec = ctx.account.coll("contacts.identifiers").get(str(ctx.params.get("identifier_id")))
    if rec is None or rec["contact_id"] != contact["id"]:
        raise not_found("Identifier")
    return rec


@special("contacts.identifiers.list")
def identifiers_list(ctx: Ctx) -> Out:
    contact = _contact(ctx)
    return Out(
        [
            dict(r)
            for r in ctx.account.coll("contacts.identifiers").values()
            if r["contact_id"] == contact["id"]
        ]
    )


@special("contacts.identifiers.list_all")
def identifiers_all(ctx: Ctx) -> Out:
    return Out(apply_filters([dict(r) for r in ctx.account.coll("contacts.identifiers").values()], ctx.query))


@special("contacts.identifiers.create")
def identifiers_create(ctx: Ctx) -> Out:
    contact = _contact(ctx)
    rec = new_record(
        ctx,
        "contacts.identifiers",
        {"contact_id": contact["id"], "type": ctx.body["type"], "value": ctx.body["value"]},
    )
    return Out(dict(rec))


@special("contacts.identifiers.get")
def identifiers_get(ctx: Ctx) -> Out:
    return Out(dict(_identifier(ctx)))


@special("contacts.identifiers.update")
def identifiers_update(ctx: Ctx) -> Out:
    rec = _identifier(ctx)
    rec.update(type=ctx.body["type"], value=ctx.body["value"], updated_at=ctx.stamp())
    return Out(dict(rec))


@special("contacts.identifiers.delete")
def identifiers_delete(ctx: Ctx) -> Out:
    rec = _identifier(ctx)
    del ctx.account.coll("contacts.identifiers")[rec["id"]]
    return Out()


def segment_members(ctx: Ctx, seg: dict) -> list[dict]:
    pos, neg = set(seg.get("positive_tags") or []), set(seg.get("negative_tags") or [])
    out = []
    for contact in ctx.account.coll("contacts.contacts").values():
        tags = set(contact.get("tags") or [])
        if pos and not (tags & pos if seg.get("positive_tags_operator", "any") == "any" else pos <= tags):
            continue
        if neg and (tags & neg if seg.get("negative_tags_operator", "any") == "any" else neg <= tags):
            continue
        out.append(serialize(ctx, "contacts.contacts", contact))
    return out


@special("contacts.segments.subscribers")
def segment_subscribers(ctx: Ctx) -> Out:
    seg = get_or_404(ctx, "contacts.segments", ctx.params["id"])
    return Out(segment_members(ctx, seg))


@special("contacts.imports.create")
def imports_create(ctx: Ctx) -> Out:
    filename, rows = upload_rows(ctx)
    header = [h.strip().lower() for h in rows[0]] if rows else []
    if "phone" not in header and "identity" not in header:
        header, body_rows = ["phone"], rows
    else:
        body_rows = rows[1:]
    store = ctx.account.coll("contacts.contacts")
    by_identity = {c.get("identity"): c for c in store.values()}
    imported = failed = 0
    for row in body_rows:
        values = {h: row[i].strip() for i, h in enumerate(header) if i < len(row) and row[i].strip()}
        phone = values.get("phone", "").replace(" ", "")
        if phone and not phone.startswith("+"):
            phone = "+" + phone
        if not phone[1:].isdigit() or len(phone) < 8:
            failed += 1
            continue
        values["phone"] = phone
        values["identity"] = values.get("identity") or phone
        if "tags" in values:
            values["tags"] = [t.strip() for t in re.split(r"[|;]", values["tags"]) if t.strip()]
        existing = by_identity.get(values["identity"])
        if existing:
            existing.update(values)
            ContactHooks().update(ctx, existing, values)
        else:
            rec = new_record(ctx, "contacts.contacts", values)
            by_identity[rec["identity"]] = rec
            _emit_contact(ctx, rec)
        imported += 1
    rec = new_record(
        ctx,
        "contacts.imports",
        {
            "filename": filename,
            "total": len(body_rows),
            "imported": imported,
            "failed": failed,
            "status": "completed",
        },
    )
    return Out(
        serialize(ctx, "contacts.imports", rec), message=f"{imported} subscriber(s) imported successfully"
    )


@special("contacts.segments.list")
def segments_list(ctx: Ctx) -> Out:
    """Get All Segments answers ``data`` as an object (its sample): segments keyed by id."""
    segments = ctx.account.coll("contacts.segments").values()
    return Out({str(r["id"]): serialize(ctx, "contacts.segments", r) for r in segments})
