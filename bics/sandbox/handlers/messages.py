"""Sending and DLRs shared by SMS, WhatsApp and Viber: queueing, outcomes, the DLR view and
pull, template and channels-style sends."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bics import units as sms_units
from bics.sandbox import rules
from bics.sandbox.context import Ctx, Out, invalid
from bics.sandbox.handlers.base import HOOKS
from bics.sandbox.state import unit_hash


def template_text(rec: dict) -> str:
    for container in (rec.get("message"), rec.get("payload")):
        if isinstance(container, Mapping):
            for key in ("text", "body"):
                if isinstance(container.get(key), str):
                    return container[key]
    return ""


def dlr_outcome(ctx: Ctx, mid: str, number: str, custom: str | None) -> tuple[str, str | None, str]:
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


def unsubscribed(ctx: Ctx, product: str, number: str) -> bool:
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
        status, code, cost = _final_status(ctx, product, mid, number, custom, force, units)
        rec = {
            "id": mid, "group_id": group_id, "product": product, "mobile": number,
            "custom": custom, "cid": _bics_cid(group_id), "webhook_id": webhook_id,
            "_final": status, "_code": code, "_due": when + ctx.config.dlr_delay,
            "_submit": ctx.now, "_sent": when, "credits": f"{cost:.4f}", "units": units,
            "text": text, **(extra or {}),
        }
        account.messages[mid] = rec
        ids.append(mid)
        account.sent.append({"route": ctx.route.name, "id": mid, "group_id": group_id,
                             "number": number, "custom": custom, "at": ctx.stamp()})
        items.append({"id": mid, "mobile": number, "status": "queued" if product != "sms" else "ACCEPTED"})
        ctx.app.scheduler.at(rec["_due"], _dlr_due(ctx.app, account, mid))
    account.groups[group_id] = ids
    return group_id, items


def _final_status(ctx: Ctx, product: str, mid: str, number: str, custom: str | None,
                  force: tuple[str, str | None] | None, units: int) -> tuple[str, str | None, float]:
    """(final DLR status, code, cost charged) of one message; the balance is debited."""
    status, code, group = dlr_outcome(ctx, mid, number, custom)
    if force is not None:
        status, code = force
        group = "failed"
    elif unsubscribed(ctx, product, number):
        status, code, group = "OPTOUT-REJ", "456", "failed"
    if product != "sms":
        status = rules.CHANNEL_OUTCOME[group]
        code = None
    cost = ctx.config.price_per_unit * units
    if ctx.config.enforce_balance and ctx.account.balance < cost:
        status, code, cost = "NO-CREDITS", "401", 0.0
    ctx.account.balance -= cost
    return status, code, cost


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
    """The DLR as pulled or pushed (fields of the Help DLR sample, Webhook Verification)."""
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


def parse_time(ctx: Ctx, value: Any) -> float | None:
    return ctx.app.clock.parse(str(value)) if value else None


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


def template_send(ctx: Ctx, product: str) -> Out:
    coll = f"{product}.templates"
    tpl = _find_template(ctx, coll)
    approved = tpl.get("status") == 1
    data = ctx.body.get("data") or {}
    text = rules.render(str(tpl.get("body") or template_text(tpl)), data)
    force = None if approved else ("INV-TEMPLATE", "453")
    blocked = product == "sms" and any(
        str(b.get("template_id")) == str(tpl["id"]) and str(b.get("status", "1")) == "1"
        for b in ctx.account.coll("sms.blocked_templates").values()
    )
    if blocked:
        force = ("DLT-TM-BLACKLST", "785")  # "Template ID is blacklisted."
    return _queue_body_send(ctx, product, text, force)


def channel_send(ctx: Ctx, product: str) -> Out:
    message = ctx.body.get("message")
    text = ""
    if isinstance(message, Mapping):
        text = str(message.get("text") or message.get("body") or "")
    return _queue_body_send(ctx, product, text, None)


def _queue_body_send(ctx: Ctx, product: str, text: str,
                     force: tuple[str, str | None] | None) -> Out:
    """A template or channels-style send: recipient.mobile, our id in meta.custom."""
    meta = ctx.body.get("meta") if isinstance(ctx.body.get("meta"), Mapping) else {}
    _, items = queue_messages(
        ctx, product, _recipients(ctx), text=text,
        custom=meta.get("custom") or ctx.body.get("custom"), webhook_id=meta.get("webhook_id"),
        force=force, units=max(sms_units.count(text).parts, 1) if product == "sms" else 1)
    return Out(items)  # the samples of these sends carry no group_id


def dlr_pull(ctx: Ctx, product: str) -> Out:
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
