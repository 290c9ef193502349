"""Verify: OTP send, verify, search and cancel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bics.sandbox.context import Ctx, Out, not_found
from bics.sandbox.handlers.base import special


def otp_channel_name(item: Any) -> str:
    if isinstance(item, Mapping):
        return str(item.get("channel") or item.get("name") or item.get("type") or "sms")
    return str(item)


@special("verify.otp.send")
def otp_send(ctx: Ctx) -> Out:
    account = ctx.account
    channels = [otp_channel_name(c) for c in ctx.body["channels"]]
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
