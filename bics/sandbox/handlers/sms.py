"""SMS: senders, templates and blocked templates (approval lifecycles), sends and DLR pull."""

from __future__ import annotations

from collections.abc import Mapping

from bics import units as sms_units
from bics.sandbox import rules
from bics.sandbox.context import Ctx, Out, invalid
from bics.sandbox.handlers.base import Hooks, alias, decide, hooks, settle, special
from bics.sandbox.handlers.messages import (
    channel_send,
    dlr_pull,
    parse_time,
    queue_messages,
    template_send,
)


@hooks("sms.senders")
class SenderHooks(Hooks):
    """Sender status 0 pending, 1 approved, 2 rejected (View All Senders, Status Description)."""

    def create(self, ctx, rec):
        rec.update(status=0, open_status=0, entity_name=None, entity_id=None, purpose=None)
        decide(ctx, rec, rules.sender_problems(str(rec.get("name", ""))))

    def view(self, ctx, rec):
        outcome = settle(ctx, rec, pending=0, approved=1, rejected=2)
        if outcome:
            rec["open_status"] = 1 if outcome == "approved" else 0


@hooks("sms.templates")
class SmsTemplateHooks(Hooks):
    """SMS templates: pending (0) until decided by the content rules of Help, Content Template Validations."""

    def create(self, ctx, rec):
        rec.setdefault("type", None)
        rec["alias"] = rec.get("alias") or alias(rec.get("name"))
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
        decide(ctx, rec, rules.template_problems(body, rec.get("type")))

    def view(self, ctx, rec):
        settle(ctx, rec, pending=0, approved=1, rejected=2)


@hooks("sms.blocked_templates")
class BlockedHooks(Hooks):
    def create(self, ctx, rec):
        rec.setdefault("status", "1")

    def import_row(self, ctx, row):
        value = row[0].strip()
        if not value or not value.isdigit():
            return None
        return {"template_id": value, "status": row[1].strip() if len(row) > 1 else "1"}


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
        at=parse_time(ctx, body.get("time")),
        extra={"sender": body["sender"]},
    )
    return Out(items, message=f"{len(items)} numbers accepted for delivery.", extra={"group_id": group_id})


@special("sms.messages.send_template")
def sms_send_template(ctx: Ctx) -> Out:
    return template_send(ctx, "sms")


@special("sms.messages.send_text")
def sms_send_text(ctx: Ctx) -> Out:
    return channel_send(ctx, "sms")


@special("sms.messages.dlr")
def sms_dlr(ctx: Ctx) -> Out:
    return dlr_pull(ctx, "sms")
