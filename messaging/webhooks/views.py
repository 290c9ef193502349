"""The BICS receiver: security comes from the base view; this class only parses."""

from __future__ import annotations

from django.http import HttpRequest

from messaging.webhooks import parsing
from messaging.webhooks.base import BicsWebhookView


class BicsReceiverView(BicsWebhookView):
    """Every shape BICS sends: JSON envelopes and flat bodies by POST, customised webhooks by
    GET query parameters or form bodies (Compose Customized Webhook)."""

    def parse(self, request: HttpRequest, body: bytes) -> parsing.BicsEvent:
        if request.method == "GET":
            return parsing.parse_params(request.GET.dict(), method="GET")
        content_type = request.content_type or ""
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            params = {**request.GET.dict(), **request.POST.dict()}
            return parsing.parse_params(params, method="POST")
        event = parsing.parse_body(body)
        named = request.GET.get("event")  # a flat body on a URL that names its event
        if named and "event" not in event.raw:
            event = parsing.BicsEvent(named[:40], event.payload, event.raw)
        return event
