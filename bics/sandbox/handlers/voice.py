"""Voice (Engage): calls, bulk calls, Click2Call, call logs, recordings, call status, sounds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bics.sandbox import rules
from bics.sandbox.context import Ctx, Out, invalid
from bics.sandbox.handlers.base import new_record, special
from bics.sandbox.handlers.messages import dlr_outcome, unsubscribed
from bics.sandbox.state import unit_hash


def place_call(
    ctx: Ctx, number: str, *, kind: str, group_id: str | None = None, extra: dict | None = None
) -> dict:
    account = ctx.account
    cid = account.uuid()
    custom = (extra or {}).get("cid") or _first(
        ctx.body.get("cid"), ctx.body.get("custom"), ctx.body.get("mid")
    )
    _s, _c, group = dlr_outcome(ctx, cid, number, custom)
    if unsubscribed(ctx, "voice", number):
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
    rec = place_call(ctx, str(ctx.body["to"]), kind=ctx.route.name.split(".")[1])
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
        place_call(ctx, str(item["to"]), kind="bulk", group_id=group_id, extra=extra)
    return Out(
        [],
        message=f"{len(numbers)} numbers queued successfully.",
        extra={"group_id": group_id, "total": len(numbers)},
    )


@special("voice.click2call.create")
def voice_click2call(ctx: Ctx) -> Out:
    """Click2Call dials ``from`` ("the number to whom the call will connect first");
    ``to`` is the IVR flow it then connects to (both Click2Call), kept as ``flow_id``. A ``to`` that
    is a phone number (the "with mobile number" variant, digits on the wire) is kept the
    same way: the first leg, the one Call Status and the DLR rules look at, is ``from``."""
    rec = place_call(ctx, str(ctx.body["from"]), kind="click2call", extra={"flow_id": str(ctx.body["to"])})
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
