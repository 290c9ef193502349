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
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bics.sandbox import handlers
from bics.sandbox.context import ApiError, Ctx

if TYPE_CHECKING:
    from bics.sandbox.app import SandboxApp


def _mask(key: str) -> str:
    return key[:6] + "…" if len(key) > 8 else key


def handle(app: SandboxApp, method: str, sub: str, query: dict, body: dict) -> Any:
    token = query.get("token") or (body.get("token") if isinstance(body, dict) else None)
    req = _Request(app, app.find_accounts(token), sub.split("/") if sub else [], query, body,
                   token)
    head = req.parts[0] if req.parts else ""
    endpoint = (GETS if method == "GET" else POSTS if method == "POST" else {}).get(head)
    if endpoint is None:
        raise ApiError(404, f"Unknown sandbox endpoint {method} /_sandbox/{sub}")
    return endpoint(req)


@dataclass
class _Request:
    app: SandboxApp
    accounts: list
    parts: list[str]
    query: dict
    body: dict
    token: str | None

    @property
    def arg(self) -> str:
        return self.parts[1] if len(self.parts) > 1 else ""


def _sent(req: _Request) -> dict:
    sent = [s for a in req.accounts for s in a.sent]
    pairs = Counter((s["custom"], s["number"]) for s in sent)
    return {
        "count": len(sent),
        "items": sent,
        "pairs": [{"custom": c, "number": n, "count": k} for (c, n), k in pairs.items()],
        "duplicates": [{"custom": c, "number": n, "count": k}
                       for (c, n), k in pairs.items() if k > 1 and c is not None],
    }


def _messages(req: _Request) -> dict:
    items = []
    for a in req.accounts:
        with a.lock:
            for rec in a.messages.values():
                view = handlers.dlr_view(req.app, rec)
                view.update(product=rec["product"], final_status=rec["_final"],
                            final_code=rec["_code"], group_id=rec["group_id"],
                            text=rec.get("text"))
                items.append(view)
    return {"count": len(items), "items": items}


def _otps(req: _Request) -> dict:
    otps = {oid: o for a in req.accounts for oid, o in a.otps.items()}
    if not req.arg:
        return {"count": len(otps), "items": [_otp(o) for o in otps.values()]}
    rec = otps.get(req.arg)
    if rec is None:
        raise ApiError(404, "No such OTP.")
    sends = sum(a.requests.get("verify.otp.send", 0) for a in req.accounts)
    last = next((a.last_bodies["verify.otp.send"] for a in req.accounts
                 if "verify.otp.send" in a.last_bodies), None)
    return {**_otp(rec), "sends": sends, "last": last}


def _webhook_log(req: _Request) -> dict:
    items = [e for a in req.accounts for e in a.webhook_log]
    return {"count": len(items), "items": items}


def _requests(req: _Request) -> dict:
    counts: Counter = Counter()
    last: dict[str, Any] = {}
    for a in req.accounts:
        counts.update(a.requests)
        last.update(a.last_bodies)
    return {"counts": dict(counts), "last": last}


def _reset(req: _Request) -> dict:
    req.app.reset()
    return {"reset": True}


def _configure(req: _Request) -> dict:
    app, body = req.app, req.body
    if "route_overrides" in body:
        app.set_routes(body.pop("route_overrides"))
    app.config.update(body)
    if "time_zone" in body:
        app.clock.set_zone(app.config.time_zone)
    if "faults" in body:
        app._fault_counts.clear()  # noqa: SLF001
    return app.config.as_dict()


def _tick(req: _Request) -> dict:
    seconds = float(req.body.get("seconds", req.query.get("seconds", 0)) or 0)
    if seconds < 0:
        raise ApiError(400, "The clock only moves forward.")
    app = req.app
    app.clock.advance(seconds)
    ran = app.scheduler.run_due()
    app.scheduler.wake()
    return {"offset": app.clock.offset, "now": app.clock.stamp(), "ran": ran}


def _expire(req: _Request) -> dict:
    for a in req.accounts:
        rec = a.otps.get(req.arg) if req.arg else None
        if rec is not None:
            rec["_expire"] = min(rec["_expire"], req.app.clock.now() - 0.001)
            return _otp(rec)
    raise ApiError(404, "No such OTP.")


def _fail(req: _Request) -> dict:
    cfg = req.app.config
    cfg.otp_failing_channels = (*cfg.otp_failing_channels, req.arg) if req.arg else ()
    return {"otp_failing_channels": list(cfg.otp_failing_channels)}


def _event(req: _Request) -> dict:
    if not req.accounts:
        raise ApiError(404, "No such account.")
    body = req.body
    n = sum(req.app.deliverer.emit(a, str(body["event"]), dict(body.get("payload") or {}),
                                   webhook_id=body.get("webhook_id"))
            for a in req.accounts)
    return {"queued": n}


def _optout_endpoint(req: _Request) -> dict:
    accounts = req.accounts
    if not accounts and req.token:
        accounts = [req.app.account_for(req.token)]
    return _optout(req.app, accounts, req.body)


def _wait(req: _Request) -> dict:
    deliverer = req.app.deliverer
    deadline = time.monotonic() + min(float(req.body.get("timeout", 5)), 10.0)
    while time.monotonic() < deadline and not deliverer.idle():
        time.sleep(0.01)
    return {"idle": deliverer.idle()}


GETS: dict[str, Callable[[_Request], Any]] = {
    "": lambda req: _summary(req.app, req.accounts),
    "state": lambda req: _summary(req.app, req.accounts),
    "sent": _sent, "messages": _messages, "otp": _otps, "webhooks": _webhook_log,
    "requests": _requests, "config": lambda req: req.app.config.as_dict(),
}
POSTS: dict[str, Callable[[_Request], Any]] = {
    "reset": _reset, "config": _configure, "tick": _tick, "expire": _expire, "fail": _fail,
    "event": _event, "optout": _optout_endpoint, "wait": _wait,
}


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
