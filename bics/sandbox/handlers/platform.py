"""Platform routes: auth/me, tokens, webhooks and subscriptions, pricing, smart link visits,
account balance and credits."""

from __future__ import annotations

import base64
import json

from bics.sandbox import rules
from bics.sandbox.context import Ctx, Out, invalid
from bics.sandbox.handlers.base import Hooks, get_or_404, hooks, new_record, serialize, special
from bics.sandbox.state import unit_hash


@hooks("webhooks.webhooks")
class WebhookHooks(Hooks):
    def create(self, ctx, rec):
        rec["status"] = str(rec.get("status", "1"))
        if rec.get("token"):
            ctx.app.deliverer.handshake(ctx.account, rec)

    def update(self, ctx, rec, changes):
        if "status" in changes:
            rec["status"] = str(rec["status"])


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
    rec["_deleted"] = True  # soft delete (Delete Webhook)
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


@special("sms.pricing.list", "voice.pricing.list", "viber.pricing.list", "whatsapp.pricing.list")
def pricing(ctx: Ctx) -> Out:
    rows = rules.price_rows(ctx.route.name.split(".")[0])
    q = ctx.query
    for key in ("iso", "service", "subservice", "status"):
        value = q.get(f"filter[{key}]")
        if value not in (None, ""):
            rows = [r for r in rows if str(r.get(key)).lower() == str(value).lower()]
    return Out(rows)


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
