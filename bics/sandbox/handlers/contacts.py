"""Contacts: subscribers, identifiers, tags, segments and imports."""

from __future__ import annotations

import re
from typing import Any

from bics.sandbox.context import Ctx, Out, invalid, not_found
from bics.sandbox.handlers.base import (
    Hooks,
    apply_filters,
    get_or_404,
    hooks,
    new_record,
    request_fields,
    serialize,
    special,
    upload_rows,
)


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
