"""``/_sandbox/`` inspection and control endpoints (no auth; sandbox-only; never used by the
product client). ``?token=`` picks one account; without it, every account is included.

GET  /_sandbox/                 state summary (accounts, counts, clock, config)
GET  /_sandbox/sent             every recipient of every send + (custom, number) pair counts
GET  /_sandbox/messages         DLR records (final or not) with their due outcome
GET  /_sandbox/otp              OTP codes;  GET /_sandbox/otp/{id}: code, channel, status
GET  /_sandbox/webhooks         webhook delivery attempts (incl. handshakes)
GET  /_sandbox/requests         request counts and last bodies per route name
GET  /_sandbox/config           current configuration
POST /_sandbox/config           change configuration (faults, delays, ratios, rules…)
POST /_sandbox/reset            forget every account, restore the start configuration
POST /_sandbox/tick             {"seconds": N}: advance the clock, run what became due
POST /_sandbox/expire/{id}      expire one OTP now
POST /_sandbox/fail/{channel}   make an OTP channel fail (failover); /_sandbox/fail/ clears
POST /_sandbox/event            {"event", "payload", "token"?, "webhook_id"?}: emit a callback
POST /_sandbox/optout           {"product": "sms", "number", "token"?}: an end user's STOP
                                (adds the unsubscriber, emits <product>:unsubscription)
POST /_sandbox/wait             wait (≤ 10 s) until queued webhook deliveries are done
"""

from __future__ import annotations

import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from bics.sandbox import handlers
from bics.sandbox.context import ApiError, Ctx

if TYPE_CHECKING:
    from bics.sandbox.app import SandboxApp


def _mask(key: str) -> str:
    return key[:6] + "…" if len(key) > 8 else key


def handle(app: SandboxApp, method: str, sub: str, query: dict, body: dict) -> Any:
    token = query.get("token") or (body.get("token") if isinstance(body, dict) else None)
    accounts = app.find_accounts(token)
    parts = sub.split("/") if sub else []
    head = parts[0] if parts else ""
    if method == "GET":
        if head in ("", "state"):
            return _summary(app, accounts)
        if head == "sent":
            sent = [s for a in accounts for s in a.sent]
            pairs = Counter((s["custom"], s["number"]) for s in sent)
            return {
                "count": len(sent),
                "items": sent,
                "pairs": [{"custom": c, "number": n, "count": k} for (c, n), k in pairs.items()],
                "duplicates": [
                    {"custom": c, "number": n, "count": k}
                    for (c, n), k in pairs.items()
                    if k > 1 and c is not None
                ],
            }
        if head == "messages":
            items = []
            for a in accounts:
                with a.lock:
                    for rec in a.messages.values():
                        view = handlers.dlr_view(app, rec)
                        view.update(
                            product=rec["product"],
                            final_status=rec["_final"],
                            final_code=rec["_code"],
                            text=rec.get("text"),
                        )
                        items.append(view)
            return {"count": len(items), "items": items}
        if head == "otp":
            otps = {oid: o for a in accounts for oid, o in a.otps.items()}
            if len(parts) > 1:
                rec = otps.get(parts[1])
                if rec is None:
                    raise ApiError(404, "No such OTP.")
                sends = sum(a.requests.get("verify.otp.send", 0) for a in accounts)
                last = next(
                    (
                        a.last_bodies["verify.otp.send"]
                        for a in accounts
                        if "verify.otp.send" in a.last_bodies
                    ),
                    None,
                )
                return {**_otp(rec), "sends": sends, "last": last}
            return {"count": len(otps), "items": [_otp(o) for o in otps.values()]}
        if head == "webhooks":
            items = [e for a in accounts for e in a.webhook_log]
            return {"count": len(items), "items": items}
        if head == "requests":
            counts: Counter = Counter()
            last: dict[str, Any] = {}
            for a in accounts:
                counts.update(a.requests)
                last.update(a.last_bodies)
            return {"counts": dict(counts), "last": last}
        if head == "config":
            return app.config.as_dict()
    if method == "POST":
        if head == "reset":
            app.reset()
            return {"reset": True}
        if head == "config":
            if "route_overrides" in body:
                app.set_routes(body.pop("route_overrides"))
            app.config.update(body)
            if "time_zone" in body:
                app.clock.set_zone(app.config.time_zone)
            if "faults" in body:
                app._fault_counts.clear()  # noqa: SLF001
            return app.config.as_dict()
        if head == "tick":
            seconds = float(body.get("seconds", query.get("seconds", 0)) or 0)
            if seconds < 0:
                raise ApiError(400, "The clock only moves forward.")
            app.clock.advance(seconds)
            ran = app.scheduler.run_due()
            app.scheduler.wake()
            return {"offset": app.clock.offset, "now": app.clock.stamp(), "ran": ran}
        if head == "expire" and len(parts) > 1:
            for a in accounts:
                rec = a.otps.get(parts[1])
                if rec is not None:
                    rec["_expire"] = min(rec["_expire"], app.clock.now() - 0.001)
                    return _otp(rec)
            raise ApiError(404, "No such OTP.")
        if head == "fail":
            channel = parts[1] if len(parts) > 1 else ""
            app.config.otp_failing_channels = (*app.config.otp_failing_channels, channel) if channel else ()
            return {"otp_failing_channels": list(app.config.otp_failing_channels)}
        if head == "event":
            if not accounts:
                raise ApiError(404, "No such account.")
            n = sum(
                app.deliverer.emit(
                    a, str(body["event"]), dict(body.get("payload") or {}), webhook_id=body.get("webhook_id")
                )
                for a in accounts
            )
            return {"queued": n}
        if head == "optout":
            if not accounts and token:
                accounts = [app.account_for(token)]
            return _optout(app, accounts, body)
        if head == "wait":
            deadline = time.monotonic() + min(float(body.get("timeout", 5)), 10.0)
            while time.monotonic() < deadline and not app.deliverer.idle():
                time.sleep(0.01)
            return {"idle": app.deliverer.idle()}
    raise ApiError(404, f"Unknown sandbox endpoint {method} /_sandbox/{sub}")


def _otp(rec: dict) -> dict:
    return {
        "id": rec["id"],
        "code": rec["code"],
        "channel": rec["channel"],
        "channels": rec["channels"],
        "status": rec["status"],
        "to": rec["to"],
        "reference": rec["reference"],
    }


def _summary(app: SandboxApp, accounts: list) -> dict:
    out = []
    for a in accounts:
        with a.lock:
            out.append(
                {
                    "account": _mask(a.key),
                    "collections": {k: len(v) for k, v in a.collections.items()},
                    "messages": len(a.messages),
                    "groups": len(a.groups),
                    "otps": len(a.otps),
                    "calls": len(a.calls),
                    "webhook_deliveries": len(a.webhook_log),
                    "requests": sum(a.requests.values()),
                    "balance": round(a.balance, 4),
                }
            )
    return {
        "accounts": out,
        "clock_offset": app.clock.offset,
        "now": app.clock.stamp(),
        "scheduled": app.scheduler.pending(),
        "routes": len(app.routes),
        "config": app.config.as_dict(),
    }


def _optout(app: SandboxApp, accounts: list, body: dict) -> dict:
    product = str(body.get("product", "sms"))
    if product not in ("sms", "voice", "viber", "whatsapp"):
        raise ApiError(400, "product is one of sms, voice, viber, whatsapp")
    number = str(body["number"]).lstrip("+")
    if not accounts:
        raise ApiError(404, "No such account.")
    out = []
    for account in accounts:
        route = app.routes[f"{product}.unsubscribers.create"]
        ctx = Ctx(app, account, route, {}, {}, {}, {}, "", "")
        with account.lock:
            rec = handlers.new_record(
                ctx, f"{product}.unsubscribers", {"receiver": number, "type": "all", "value": ""}
            )
            view = handlers.serialize(ctx, f"{product}.unsubscribers", rec)
        app.deliverer.emit(account, f"{product}:unsubscription", view)
        out.append(view)
    return {"unsubscribers": out}
