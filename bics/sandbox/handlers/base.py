"""The generic, data-driven collection handler (list/create/get/update/delete/clean/import)
parameterised by bics.shapes, per-collection hooks, approval lifecycles and the registry of
special handlers."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from bics.routes import Route
from bics.sandbox import rules
from bics.sandbox.context import Ctx, Out, invalid, not_found
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
def decide(ctx: Ctx, rec: dict, problems: list[str]) -> None:
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


def settle(ctx: Ctx, rec: dict, *, pending: int, approved: int, rejected: int) -> str | None:
    """Decide a pending record whose approval is due (lazily, when it is read)."""
    if rec.get("status") != pending or ctx.now < rec.get("_due", 0):
        return None
    outcome = _outcome(rec)
    rec["status"] = approved if outcome == "approved" else rejected
    if outcome == "rejected":
        rec["rejection_reason"] = "; ".join(rec.get("_problems") or ["Rejected."])
    return outcome


def alias(name: Any) -> str:
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
