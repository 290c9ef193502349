"""Sync adapters for webhooks and subscriptions (see core.sync for the interface).

Resources ``webhooks`` then ``subscriptions`` (a subscription names its webhook's BICS id).
The response fields are collapsed in the documentation (View Webhook); we read the fields the View
Webhook prose names (id, name, uri, secret, token, status) and tolerate their absence. A pull
never blanks a secret or token we hold (BICS may not echo them).
"""

from __future__ import annotations

from core.sync import SyncAdapter, register
from messaging.webhooks.models import Subscription, Webhook


def _s(value) -> str:
    return "" if value is None else str(value)


class WebhookAdapter(SyncAdapter):
    resource = "webhooks"
    model = Webhook
    routes = {"list": "webhooks.webhooks.list", "create": "webhooks.webhooks.create",
              "update": "webhooks.webhooks.update", "delete": "webhooks.webhooks.delete"}

    def to_payload(self, obj, *, action):
        payload = {"name": obj.name, "uri": obj.uri, "status": obj.status}
        if obj.secret:
            payload["secret"] = obj.secret
        if action == "create" and obj.token:
            payload["token"] = obj.token  # Create Webhook only; Update Webhook has no token
        return payload

    def from_payload(self, data):
        values = {"name": _s(data.get("name"))[:100], "uri": _s(data.get("uri"))[:500],
                  "status": "0" if _s(data.get("status")) in ("0", "False", "false") else "1"}
        for name in ("secret", "token"):
            if data.get(name):
                values[name] = _s(data[name])[:200]
        return values

    def find_unlinked(self, values):
        return Webhook.objects.filter(bics_id__isnull=True, uri=values.get("uri")).first()


class SubscriptionAdapter(SyncAdapter):
    resource = "subscriptions"
    model = Subscription
    routes = {"list": "webhooks.subscriptions.list", "create": "webhooks.subscriptions.create",
              "delete": "webhooks.subscriptions.delete"}  # no update documented

    replace_on_update = True

    def can_push(self, obj):
        if not obj.webhook.bics_id:
            return "its webhook is not at BICS yet: push webhooks first"
        return None

    def to_payload(self, obj, *, action):
        return {"event": obj.event, "identity": obj.identity or "all", "webhook_id": obj.webhook.bics_id}

    def from_payload(self, data):
        hook = Webhook.objects.filter(bics_id=_s(data.get("webhook_id"))).first()
        if hook is None:
            raise ValueError(f"webhook {data.get('webhook_id')!r} is not here (pull webhooks first)")
        return {"event": _s(data.get("event"))[:40], "identity": _s(data.get("identity")) or "all",
                "webhook": hook}

    def find_unlinked(self, values):
        return Subscription.objects.filter(bics_id__isnull=True, webhook=values["webhook"],
                                           event=values["event"], identity=values["identity"]).first()


ADAPTERS = [WebhookAdapter(), SubscriptionAdapter()]


def register_all() -> None:
    for adapter in ADAPTERS:
        register(adapter)
