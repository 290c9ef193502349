"""Sync adapters for the messaging catalogue (see core.sync for the interface).

Resources: ``senders``, ``templates`` (SMS, WhatsApp, Viber), ``unsubscribers`` (SMS,
WhatsApp, Viber), ``blocked_templates``. Registered in ``MessagingConfig.ready`` in this
order, so ``bics_sync all --push`` creates senders before the templates that name them.

Response fields are collapsed in the documentation; we read the fields bics/shapes.py picked
(``_SENDER``, ``_SMS_TEMPLATE``, ``_WA_TEMPLATE``, ``_VIBER_TEMPLATE``, ``_UNSUB_FIELDS``,
``_BLOCKED``) and tolerate their absence.
"""

from __future__ import annotations

from core.bics_time import parse_bics_time
from core.phones import e164_from_bics
from core.sync import SyncAdapter, acting_user, register
from messaging.catalogue.links import as_bics_body, local_content_of
from messaging.catalogue.models import BlockedTemplate, Channel, Sender, Template, Unsubscriber


def _s(value) -> str:
    return "" if value is None else str(value)


# --------------------------------------------------------------------------- senders
class SenderAdapter(SyncAdapter):
    resource = "senders"
    model = Sender
    routes = {"list": "sms.senders.list", "create": "sms.senders.create",
              "update": "sms.senders.update", "delete": "sms.senders.delete"}

    def to_payload(self, obj, *, action):
        payload = {"country_code": obj.country_code, "service": obj.service}
        if action == "create":
            payload["name"] = obj.name  # "An existing sender ID cannot be changed" (Sender ID)
        return payload

    def from_payload_server_fields(self, data):
        status = data.get("status")
        return {
            "status": int(status) if _s(status).isdigit() else None,
            "entity_name": _s(data.get("entity_name")), "entity_id": _s(data.get("entity_id")),
            "open_status": _s(data.get("open_status")), "purpose": _s(data.get("purpose")),
            "bics_created_at": parse_bics_time(data.get("created_at")),
            "bics_updated_at": parse_bics_time(data.get("updated_at")),
        }

    def from_payload(self, data):
        return {
            "name": _s(data.get("name")), "country_code": _s(data.get("country_code")).upper(),
            "service": _s(data.get("service")) or "ENT", **self.from_payload_server_fields(data),
        }

    def find_unlinked(self, values):
        return Sender.objects.filter(bics_id__isnull=True, name=values["name"],
                                     country_code=values["country_code"], service=values["service"]).first()


# --------------------------------------------------------------------------- templates
class _TemplateAdapter(SyncAdapter):
    resource = "templates"
    model = Template
    channel = ""

    def queryset(self):
        return Template.objects.filter(channel=self.channel).select_related("sender")

    def find_unlinked(self, values):
        return Template.objects.filter(channel=self.channel, name=values["name"], bics_id__isnull=True).first()

    def skip_push(self, obj):
        # Only the approved words go to BICS; an approval queues their push.
        from messaging.catalogue.services.templates import push_refusal

        return push_refusal(obj)

    def after_push(self, obj, data, *, action):
        from messaging.catalogue.services.templates import template_pushed

        template_pushed(template=obj, action=action, user=acting_user())

    def after_pull(self, obj, changed):
        from messaging.catalogue.services.templates import template_pulled

        template_pulled(template=obj, changed=changed, created=getattr(obj, "_pulled_new", False),
                        user=acting_user())

    def _status(self, data) -> dict:
        return {
            "alias": _s(data.get("alias")),
            "provider_status": _s(data.get("status")),
            "bics_created_at": parse_bics_time(data.get("created_at")),
            "bics_updated_at": parse_bics_time(data.get("updated_at")),
        }

    def from_payload_server_fields(self, data):
        return self._status(data)


class SmsTemplateAdapter(_TemplateAdapter):
    channel = Channel.SMS
    routes = {"list": "sms.templates.list", "create": "sms.templates.create",
              "update": "sms.templates.update", "delete": "sms.templates.delete"}

    def can_push(self, obj):
        if obj.sender_id is None:
            return "an SMS template needs a sender"
        if not obj.sender.bics_id:
            return f"push its sender {obj.sender.name} first"
        return None

    def to_payload(self, obj, *, action):
        # tracked links go as variables: BICS registers the words, the short URL varies (catalogue.links)
        payload = {"body": as_bics_body(obj.content), "name": obj.name, "type": obj.template_type or "T"}
        if action == "create":
            payload["sender"] = obj.sender.name
        else:
            payload["is_english"] = "1" if obj.is_english else "0"
        return payload

    def from_payload_server_fields(self, data):
        out = self._status(data)
        out["bics_sender_id"] = _s(data.get("sender_id"))
        length = data.get("body_length")
        out["body_length"] = int(length) if _s(length).isdigit() else None
        return out

    def from_payload(self, data):
        sender_name = _s(data.get("sender"))
        sender = None
        if data.get("sender_id"):
            sender = Sender.objects.filter(bics_id=_s(data["sender_id"])).first()
        if sender is None and sender_name:
            sender = Sender.objects.filter(name=sender_name).order_by("-status", "pk").first()
        body = _s(data.get("body"))
        if "{{link_" in body:  # pushed from here with tracked links: keep their local form
            local = Template.objects.filter(channel=self.channel, bics_id=_s(data.get("id"))).first()
            body = local_content_of(body, local.content if local else "")
        values = {
            "channel": self.channel, "name": _s(data.get("name")), "content": body,
            "template_type": _s(data.get("type")), "sender": sender,
            **self.from_payload_server_fields(data),
        }
        if "is_english" in data:
            values["is_english"] = _s(data["is_english"]) != "0"
        return values


class WhatsAppTemplateAdapter(_TemplateAdapter):
    """No documented edit or view-by-id: an edit is delete + create (``replace_on_update``)."""

    channel = Channel.WHATSAPP
    routes = {"list": "whatsapp.templates.list", "create": "whatsapp.templates.create",
              "delete": "whatsapp.templates.delete"}
    replace_on_update = True
    FIELDS = ("category", "language", "number", "type", "is_conversation")

    def to_payload(self, obj, *, action):
        p = obj.channel_payload or {}
        payload = {key: p.get(key) for key in self.FIELDS}
        extra = {k: v for k, v in p.items() if k not in self.FIELDS}
        payload.update(name=obj.name, payload={"body": obj.content, **extra})
        return payload

    def from_payload(self, data):
        body = dict(data.get("payload") or {})
        content = _s(body.pop("body", body.pop("text", "")))
        channel_payload = {key: data.get(key) for key in self.FIELDS if key in data}
        if isinstance(channel_payload.get("is_conversation"), str):
            channel_payload["is_conversation"] = channel_payload["is_conversation"].lower() in ("1", "true")
        channel_payload.update(body)
        return {"channel": self.channel, "name": _s(data.get("name")), "content": content,
                "channel_payload": channel_payload, **self._status(data)}


class ViberTemplateAdapter(_TemplateAdapter):
    channel = Channel.VIBER
    routes = {"list": "viber.templates.list", "create": "viber.templates.create",
              "update": "viber.templates.update", "delete": "viber.templates.delete"}

    def to_payload(self, obj, *, action):
        p = obj.channel_payload or {}
        message = {"text": obj.content, **(p.get("message") or {})}
        return {"name": obj.name, "category": p.get("category", "transactional"), "message": message}

    def from_payload(self, data):
        message = dict(data.get("payload") or data.get("message") or {})
        content = _s(message.pop("text", ""))
        channel_payload = {"category": _s(data.get("category")) or "transactional",
                           "type": _s(data.get("type")) or "text"}
        if message:
            channel_payload["message"] = message
        return {"channel": self.channel, "name": _s(data.get("name")), "content": content,
                "channel_payload": channel_payload, **self._status(data)}


# --------------------------------------------------------------------------- unsubscribers
class _UnsubscriberAdapter(SyncAdapter):
    resource = "unsubscribers"
    model = Unsubscriber
    channel = ""

    @property
    def routes(self):
        c = self.channel
        return {"list": f"{c}.unsubscribers.list", "create": f"{c}.unsubscribers.create",
                "update": f"{c}.unsubscribers.update", "delete": f"{c}.unsubscribers.delete"}

    def queryset(self):
        return Unsubscriber.objects.filter(channel=self.channel)

    def to_payload(self, obj, *, action):
        return {"receiver": obj.number, "type": obj.type, "value": obj.value}

    def from_payload_server_fields(self, data):
        out = {"bics_created_at": parse_bics_time(data.get("created_at"))}
        if data.get("iso"):
            out["iso"] = _s(data["iso"]).upper()
        return out

    def from_payload(self, data):
        return {"channel": self.channel, "number": e164_from_bics(data.get("receiver")),
                "type": _s(data.get("type")) or "all", "value": _s(data.get("value")),
                "iso": _s(data.get("iso")).upper(),
                "bics_created_at": parse_bics_time(data.get("created_at"))}

    def find_unlinked(self, values):
        return Unsubscriber.objects.filter(
            bics_id__isnull=True, channel=self.channel, number=values["number"],
            type=values["type"], value=values["value"]).first()


class SmsUnsubscriberAdapter(_UnsubscriberAdapter):
    channel = Channel.SMS


class WhatsAppUnsubscriberAdapter(_UnsubscriberAdapter):
    channel = Channel.WHATSAPP


class ViberUnsubscriberAdapter(_UnsubscriberAdapter):
    channel = Channel.VIBER


# --------------------------------------------------------------------------- blocked
class BlockedTemplateAdapter(SyncAdapter):
    resource = "blocked_templates"
    model = BlockedTemplate
    routes = {"list": "sms.blocked_templates.list", "create": "sms.blocked_templates.create",
              "update": "sms.blocked_templates.update", "delete": "sms.blocked_templates.delete"}

    def to_payload(self, obj, *, action):
        return {"template_id": obj.template_id, "status": obj.status or "1"}

    def from_payload(self, data):
        template_id = _s(data.get("template_id"))
        template = Template.objects.filter(bics_id=template_id).first() if template_id else None
        return {"template_id": template_id, "status": _s(data.get("status")) or "1", "local_template": template}

    def find_unlinked(self, values):
        return BlockedTemplate.objects.filter(bics_id__isnull=True, template_id=values["template_id"]).first()


ADAPTERS = (
    SenderAdapter(),
    SmsTemplateAdapter(), WhatsAppTemplateAdapter(), ViberTemplateAdapter(),
    SmsUnsubscriberAdapter(), WhatsAppUnsubscriberAdapter(), ViberUnsubscriberAdapter(),
    BlockedTemplateAdapter(),
)


def register_all() -> None:
    for adapter in ADAPTERS:
        register(adapter)
