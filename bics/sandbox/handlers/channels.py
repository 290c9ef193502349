"""WhatsApp and Viber: template lifecycle, sends and DLR pulls."""

from __future__ import annotations

from bics.sandbox.context import Ctx, Out
from bics.sandbox.handlers.base import Hooks, alias, decide, hooks, settle, special
from bics.sandbox.handlers.messages import channel_send, dlr_pull, template_send


@hooks("viber.templates", "whatsapp.templates")
class ChannelTemplateHooks(Hooks):
    """WhatsApp/Viber template status: 1 approved, 2 pending, 3 rejected. The SMS (DLT)
    content rules are not applied: the documentation states them for SMS templates only."""

    def create(self, ctx, rec):
        rec["alias"] = rec.get("alias") or alias(rec.get("name"))
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
        decide(ctx, rec, [])

    def view(self, ctx, rec):
        settle(ctx, rec, pending=2, approved=1, rejected=3)


def _is_service(rec: dict) -> bool:
    return rec.get("is_conversation") in (True, 1, "1", "true", "True")


@special("whatsapp.messages.send_template")
def wa_send_template(ctx: Ctx) -> Out:
    return template_send(ctx, "whatsapp")


@special("viber.messages.send_template")
def viber_send_template(ctx: Ctx) -> Out:
    return template_send(ctx, "viber")


@special("viber.messages.send")
def viber_send(ctx: Ctx) -> Out:
    return channel_send(ctx, "viber")


@special("whatsapp.messages.send")
def wa_send(ctx: Ctx) -> Out:
    return channel_send(ctx, "whatsapp")


@special("viber.messages.dlr")
def viber_dlr(ctx: Ctx) -> Out:
    return dlr_pull(ctx, "viber")


@special("whatsapp.messages.dlr")
def wa_dlr(ctx: Ctx) -> Out:
    return dlr_pull(ctx, "whatsapp")
