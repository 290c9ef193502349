"""Payload shapes per route: request fields, response shape, validation.

One place, shared by the client (fail fast, number notation) and the sandbox (422 bodies,
documented success messages, response data shapes; the checks themselves are in
bics/validation.py). Data-driven: a ``Field`` dataclass and a
``SHAPES`` dict keyed by route name (see bics/routes.py).

Almost every ``data`` object in the documentation is collapsed (the export kept ``{`` and ``}``
but not the contents), so response field lists are *picked* from the request field tables and
from the prose; each such shape says so in ``Shape.note``. Where a request object is collapsed
(``recipient``, ``channels``, ``payload``...), only the fields we rely on are declared, and the
dotted names (``recipient.mobile``, ``payload[].to``) are our assumption, written in the note.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bics.routes import ROUTES

__all__ = [
    "EVENTS",
    "PRODUCT_CODES",
    "SHAPES",
    "Field",
    "Shape",
    "number_fields",
    "shape",
]

PRODUCT_CODES = ("ENT", "BNK", "MKT", "GMS", "A2P", "DIR", "IBN", "SIPT", "ITFS", "GMN", "WAP")
EVENTS = (
    "sms:message:status", "sms:unsubscription",
    "whatsapp:message:in", "whatsapp:message:status", "whatsapp:unsubscription",
    "voice:message:out", "voice:unsubscription",
    "viber:message:status", "viber:message:in", "viber:unsubscription",
    "vmn:message:in", "contacts:subscriber:subscription",
)
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # "yyyy-mm-dd hh:mm:ss"; no time zone documented
DATE_FORMAT = "%Y-%m-%d"
UPLOAD_EXTENSIONS = ("txt", "csv", "xls", "xlsx")
MB = 1024 * 1024

TYPES = ("string", "number", "boolean", "object", "array", "file", "datetime", "date", "url")


@dataclass(frozen=True)
class Field:
    name: str  # key; dotted for nested ("recipient.mobile"), "[]" walks a list ("payload[].to")
    type: str = "string"  # one of TYPES
    required: bool = False
    enum: tuple[str, ...] | None = None  # compared as strings (the file quotes numeric enums)
    number: bool = False  # a phone number: written in the route's notation (Route.numbers)
    number_when: tuple[str, str] | None = None  # phone number only when sibling field == value
    # not a phone number, except a value written in E.164 with '+' (how we store numbers),
    # which is converted to the route's notation (Click2Call ``to``: a flow id or a number)
    number_if_plus: bool = False
    max_length: int | None = None
    min_length: int | None = None
    maximum: float | None = None
    items: str | None = None  # item type for arrays
    min_items: int | None = None  # arrays
    max_days_ahead: int | None = None  # datetimes: not later than now + N days
    no_spaces: bool = False
    forbid: str = ""  # characters that must not appear
    max_bytes: int | None = None  # files
    extensions: tuple[str, ...] | None = None  # files
    allow_blank: bool = True
    note: str = ""


@dataclass(frozen=True)
class Shape:
    route: str
    request: tuple[Field, ...] = ()
    # response: "envelope" = {code, data, message, status}; "list" adds links/meta;
    # "bare" = {message, status} only; "flat" = the fields at top level, no envelope.
    envelope: str = "envelope"
    data: str = "object"  # "object" | "list" | "empty" ([ ]) | "int" | "none"
    fields: tuple[str, ...] = ()  # data object / list item fields
    message: str = "OK"  # documented success message
    status: str | int = "OK"  # documented type of "status" ("OK" or 200)
    extra: tuple[str, ...] = ()  # extra top-level keys (group_id, total...)
    one_of: tuple[tuple[str, ...], ...] = ()  # at least one of each group is required
    exactly_one_of: tuple[tuple[str, ...], ...] = ()  # exactly one of each group is required
    note: str = ""


# ----------------------------------------------------------------- builders
def F(name: str, type: str = "string", **kw: Any) -> Field:  # noqa: A002, N802
    return Field(name, type, **kw)


def R(name: str, type: str = "string", **kw: Any) -> Field:  # noqa: A002, N802
    return Field(name, type, required=True, **kw)


PICKED = "data collapsed in the file: fields picked from the field tables and prose"
_SERVICE = F("service", enum=PRODUCT_CODES)
_UPLOAD_100 = R("file", "file", max_bytes=100 * MB, extensions=UPLOAD_EXTENSIONS)
_UNSUB_FIELDS = ("id", "iso", "receiver", "type", "value", "created_at")
_UNSUB_FILTERS = (
    F("filter[id]"), F("filter[iso]"), F("filter[receiver]", number=True),
    F("filter[type]", enum=("tag", "sender", "service")), F("filter[value]"),
)
_PRICE_FIELDS = ("iso", "country", "service", "subservice", "price", "currency", "status")
_RECIPIENT_NOTE = ("recipient/channels/message/data/meta contents are collapsed in the file; "
                   "we send recipient.mobile (assumption)")
_DLR_FIELDS = ("id", "mobile", "status", "credits", "units", "deliv_time", "sent_time",
               "submit_time", "cid", "custom", "custom1", "custom2", "location", "region",
               "provider", "location_code", "region_code", "provider_code")
_CHANNEL_DLR_FIELDS = ("id", "mobile", "status", "updated_at")
_SEND_ITEM = ("id", "mobile", "status")


def _unsubscribers(product: str, types: tuple[str, ...], *, filters: bool = True,
                   ) -> dict[str, Shape]:
    body = (R("receiver", number=True), F("type", enum=types), F("value"))
    p = f"{product}.unsubscribers."
    return {
        p + "list": Shape(p + "list", _UNSUB_FILTERS if filters else (), "list", "list",
                          _UNSUB_FIELDS, "Unsubscribers list", note=PICKED),
        p + "create": Shape(p + "create", body, fields=_UNSUB_FIELDS,
                            message="Receiver added successfully", note=PICKED),
        p + "clean": Shape(p + "clean", data="empty", message="Deleted Successfully"),
        p + "get": Shape(p + "get", fields=_UNSUB_FIELDS, message="Unsubscribers data",
                         note=PICKED),
        p + "update": Shape(p + "update", body, fields=_UNSUB_FIELDS,
                            message="Receiver update successfully", note=PICKED),
        p + "delete": Shape(p + "delete", data="empty", message="Deleted Successfully"),
        p + "import": Shape(p + "import", (_UPLOAD_100,), "bare", "none",
                            message="Receivers accepted for import"),
    }


def _pricing(product: str, *, subservice: bool, status_type: str = "number") -> Shape:
    req = [F("filter[iso]"), F("filter[service]")]
    if subservice:
        req.append(F("filter[subservice]"))
    req.append(F("filter[status]", status_type, enum=("0", "1")))
    return Shape(f"{product}.pricing.list", tuple(req), "list", "list", _PRICE_FIELDS,
                 "Pricing List", note=PICKED + "; meaning of filter[status] 0/1 not documented")


_WEBHOOK = ("id", "name", "uri", "secret", "token", "status", "created_at", "updated_at")
_SUBSCRIPTION = ("id", "event", "identity", "webhook_id", "created_at", "updated_at")
_TOKEN = ("access_token", "expires_in", "token_type")
_SENDER = ("id", "name", "country_code", "service", "entity_name", "entity_id", "open_status",
           "purpose", "status", "created_at", "updated_at")
_SMS_TEMPLATE = ("id", "sender_id", "sender", "type", "name", "alias", "body", "body_length",
                 "is_english", "created_at", "updated_at")
_BLOCKED = ("id", "template_id", "status")
_VIBER_TEMPLATE = ("id", "name", "alias", "type", "category", "payload", "status",
                   "created_at", "updated_at")
_WA_TEMPLATE = ("id", "name", "alias", "category", "language", "number", "type",
                "is_conversation", "payload", "status", "created_at", "updated_at")
_CONTACT = ("id", "identity", "email", "phone", "first_name", "last_name", "company",
            "postal_code", "birth_date", "gender", "attributes", "tags", "created_at",
            "updated_at")
_IDENTIFIER = ("id", "contact_id", "type", "value", "created_at", "updated_at")
_TAG = ("id", "name", "created_at", "updated_at")
_SEGMENT = ("id", "name", "positive_tags", "positive_tags_operator", "negative_tags",
            "negative_tags_operator", "created_at", "updated_at")
_IMPORT = ("id", "filename", "total", "imported", "failed", "status", "created_at")
_VISIT = ("id", "link_id", "user_agent", "browser", "browser_version", "platform",
          "device_type", "device_brand", "country", "country_code", "region", "city", "mobile",
          "created_at")
_CALL_LOG = ("id", "caller_id", "to", "bridge", "status", "start_at", "end_at", "duration",
             "billing", "hangup_by", "country")
_RECORDING = ("id", "call_id", "url", "duration", "created_at")
_CALL_STATUS = ("id", "cid", "mobile", "status", "start_at", "end_at", "duration")
_OTP = ("id", "status", "to", "foreign_id", "created_at", "expire_at")

_SMS_SEND = (
    R("sender"),
    R("to", "array", items="string", number=True, min_items=1,
      note="typed string but described and sampled as an array (Send Message, to)"),
    R("message", allow_blank=False),
    R("service", enum=PRODUCT_CODES),
    F("time", "datetime", max_days_ahead=30,
      note="scheduled send, up to 30 days ahead (Help, Schedule Message)"),
    F("type", enum=("U", "N", "A")),
    F("flash", "number", enum=("1", "0")),
    F("custom", note="our unique id; assumed echoed as cid in DLRs"),
    F("port"),
    F("max_units", "number", enum=("2", "3")),
    F("webhook_id"),
    F("meta", "object"),
)
_TEMPLATE_SEND = (F("alias"), F("id"), R("data", "object"), F("meta", "object"),
                  R("recipient", "object"), F("recipient.mobile", number=True))
_CHANNEL_SEND = (R("channels", "array", items="object", min_items=1), F("message", "object"),
                 R("recipient", "object"), F("recipient.mobile", number=True))

SHAPES: dict[str, Shape] = {
    # ------------------------------------------------------------------ platform
    "auth.me": Shape("auth.me", fields=("id", "name", "username", "email"),
                     note="no sample at all; fields are our pick"),
    "webhooks.webhooks.list": Shape("webhooks.webhooks.list", (F("filter[name]"),), "list",
                                    "list", _WEBHOOK, note=PICKED),
    "webhooks.webhooks.create": Shape(
        "webhooks.webhooks.create",
        (R("name"), F("secret"), F("status", "number", enum=("1", "0")),
         F("token", note="verification validation key"), R("uri", "url")),
        fields=_WEBHOOK, message="Created Successfully", note=PICKED),
    "webhooks.webhooks.get": Shape("webhooks.webhooks.get", fields=_WEBHOOK, note=PICKED),
    "webhooks.webhooks.update": Shape(
        "webhooks.webhooks.update",
        (R("name"), R("uri", "url"), F("status", "number", enum=("1", "0")), F("secret")),
        fields=_WEBHOOK, message="Updated Successfully", note=PICKED),
    "webhooks.webhooks.delete": Shape("webhooks.webhooks.delete", data="empty",
                                      message="Deleted Successfully"),
    "webhooks.subscriptions.list": Shape("webhooks.subscriptions.list", (), "list", "list",
                                         _SUBSCRIPTION, "Subscriptions List", note=PICKED),
    "webhooks.subscriptions.create": Shape(
        "webhooks.subscriptions.create",
        (R("event", enum=EVENTS), R("identity", note="only 'all' seen"), R("webhook_id")),
        fields=_SUBSCRIPTION, message="Subscription Saved Successfully", note=PICKED),
    "webhooks.subscriptions.get": Shape("webhooks.subscriptions.get", fields=_SUBSCRIPTION,
                                        message="Subscription", note=PICKED),
    "webhooks.subscriptions.delete": Shape("webhooks.subscriptions.delete", data="empty",
                                           message="Subscription Deleted Successfully"),
    "auth.token.generate": Shape("auth.token.generate", envelope="flat", data="none",
                                 fields=_TOKEN),
    "auth.token.refresh": Shape("auth.token.refresh", envelope="flat", data="none",
                                fields=_TOKEN),
    # ------------------------------------------------------------------ SMS
    "sms.senders.list": Shape("sms.senders.list", (F("filter[name]"),), "list", "list",
                              _SENDER, "Senders List",
                              note=PICKED + "; status 0 pending, 1 approved, 2 rejected"),
    "sms.senders.create": Shape(
        "sms.senders.create",
        (R("country_code", min_length=2, max_length=2), R("name", allow_blank=False),
         R("service", enum=PRODUCT_CODES)),
        fields=_SENDER, message="Sender Saved Successfully", note=PICKED),
    "sms.senders.get": Shape("sms.senders.get", fields=_SENDER, message="Sender Data",
                             note=PICKED),
    "sms.senders.update": Shape(
        "sms.senders.update", (F("country_code", min_length=2, max_length=2), _SERVICE),
        fields=_SENDER, message="Sender Updated Successfully", note=PICKED),
    "sms.senders.delete": Shape("sms.senders.delete", data="empty",
                                message="Deleted Successfully"),
    "sms.templates.list": Shape("sms.templates.list", (F("filter[name]"),), "list", "list",
                                _SMS_TEMPLATE, "Templates List", note=PICKED),
    "sms.templates.create": Shape(
        "sms.templates.create",
        (R("body", forbid="<>", allow_blank=False), R("name", allow_blank=False), R("sender"),
         F("type", enum=("T", "P", "SI", "SE"))),
        fields=_SMS_TEMPLATE, message="Template Saved Successfully", note=PICKED),
    "sms.templates.get": Shape("sms.templates.get", fields=_SMS_TEMPLATE,
                               message="Template Data", note=PICKED),
    "sms.templates.update": Shape(
        "sms.templates.update",
        (F("body", forbid="<>"), F("is_english", enum=("1", "0")), F("name"),
         R("type", enum=("T", "P", "SI", "SE"))),
        fields=_SMS_TEMPLATE, message="Template Updated Successfully", note=PICKED),
    "sms.templates.delete": Shape("sms.templates.delete", data="int",
                                  message="Template deleted successfully",
                                  note='documented "data": 1'),
    **_unsubscribers("sms", ("tag", "product", "sender", "all")),
    "sms.blocked_templates.list": Shape(
        "sms.blocked_templates.list",
        (F("filter[id]"), F("filter[template_id]"), F("filter[status]", "number", enum=("0", "1"))),
        "list", "list", _BLOCKED, "Block templates list", note=PICKED),
    "sms.blocked_templates.create": Shape(
        "sms.blocked_templates.create", (F("status", enum=("1", "0")), R("template_id")),
        fields=_BLOCKED, message="Block template added successfully",
        note=PICKED + '; the sample sends status "9", outside the enum'),
    "sms.blocked_templates.clean": Shape("sms.blocked_templates.clean", data="empty",
                                         message="Deleted Successfully"),
    "sms.blocked_templates.get": Shape("sms.blocked_templates.get", fields=_BLOCKED,
                                       message="Block template data", note=PICKED),
    "sms.blocked_templates.update": Shape(
        "sms.blocked_templates.update", (F("status", enum=("1", "0")), R("template_id")),
        fields=_BLOCKED, message="Block template updated successfully", note=PICKED),
    "sms.blocked_templates.delete": Shape("sms.blocked_templates.delete", data="empty",
                                          message="Deleted Successfully"),
    "sms.blocked_templates.import": Shape(
        "sms.blocked_templates.import",
        (R("url", "file", max_bytes=100 * MB, extensions=UPLOAD_EXTENSIONS,
           note="named url but described as a file (its Request Parameters)"), F("caption"), F("filename")),
        data="empty", message="Blocked templates accepted for import"),
    "sms.messages.send": Shape(
        "sms.messages.send", _SMS_SEND, envelope="flat", data="list", fields=_SEND_ITEM,
        message="1 numbers accepted for delivery.", status=200, extra=("group_id",),
        note="top level {data, message, group_id, status: 200}; data items collapsed: we pick "
             "{id: '<group_id>:<n>', mobile, status} (the DLR id looks like that)"),
    "sms.messages.send_template": Shape(
        "sms.messages.send_template", _TEMPLATE_SEND, envelope="flat", data="list",
        fields=_SEND_ITEM, message="Message(s) Queued successfully", status=200,
        one_of=(("alias", "id"),), note=_RECIPIENT_NOTE),
    "sms.messages.send_text": Shape(
        "sms.messages.send_text", _CHANNEL_SEND, envelope="flat", data="list",
        fields=_SEND_ITEM, message="Message(s) Queued successfully", note=_RECIPIENT_NOTE),
    "sms.messages.dlr": Shape(
        "sms.messages.dlr",
        (F("id"), F("mobile", number=True), F("cid"), F("date", "date"), F("group_id")),
        "envelope", "list", _DLR_FIELDS,
        note="items picked from the DLR webhook sample (Help, Webhook Verification); links (100/page) only "
             "with group_id or date; date format not stated (yyyy-mm-dd assumed)"),
    "sms.pricing.list": _pricing("sms", subservice=False),
    # ------------------------------------------------- smart link / voice / verify
    "smartlink.visits.list": Shape("smartlink.visits.list", (), "list", "list", _VISIT,
                                   "Visits", note="items from the Smart Link webhook sample"),
    **_unsubscribers("voice", ("tag", "product", "sender", "all")),
    "voice.calls.create": Shape(
        "voice.calls.create",
        (R("bridge", number=True),
         F("flow_id", allow_blank=False, note="IVR flow id (the documented field); variants 1 and 4"),
         F("audio", "url", note="our name: audio file URL, as in Create Bulk Outgoing Calls; "
                                "variant 2 ('with audio file') prints no fields"),
         F("audio_id", allow_blank=False,
           note="our name: the Create Sound File id; variant 3 ('with audio ID') prints no fields"),
         F("name"), R("to", number=True),
         F("interval", "number", enum=("0", "5", "15", "30", "45", "60"),
           note="default 0 is outside the documented enum; accepted"),
         F("webhook_id"),
         F("cid", note="our custom id; assumed echoed as the cid of Call Status")),
        envelope="flat", data="list", fields=("id", "to", "status"),
        message="Calls queued successfully", exactly_one_of=(("flow_id", "audio", "audio_id"),),
        note="four 'One of' variants (its Method table), only the IVR-ID fields printed: exactly one "
             "of flow_id / audio (URL) / audio_id (sound file id), the last two names are our "
             "assumption; IVR-ID + variables: the variables at top level (its Note); cid is our "
             "custom id (assumption); data items picked (outcall id)"),
    "voice.bulk_calls.create": Shape(
        "voice.bulk_calls.create",
        (R("bridge", number=True), F("audio", "url"), F("flow_id", "number"), F("name"),
         F("webhook_id"), R("payload", "array", items="object", min_items=1),
         F("payload[].to", number=True)),
        data="empty", message="3 numbers queued successfully.", extra=("group_id", "total"),
        note="audio/flow_id printed required but alternatives and absent from the sample: not "
             "enforced; payload items collapsed: we send {to, audio?, variables?}"),
    "voice.tts.create": Shape(
        "voice.tts.create",
        (R("bridge", number=True), F("options", "object"), R("text", allow_blank=False),
         R("to", number=True)),
        envelope="flat", data="list", fields=("id", "to", "status"),
        message="Calls queued successfully", note="options collapsed (voice id etc.)"),
    "voice.click2call.create": Shape(
        "voice.click2call.create",
        (R("bridge", number=True), R("from", number=True), F("record", enum=("0", "1")),
         F("attempts", "number", maximum=2), F("mid"), F("webhook_id"), F("duration"),
         R("to", allow_blank=False, number_if_plus=True,
           note="'IVR flow to which call has to connect' (Click2Call, to): a flow id, not a phone "
                "number (sampled as {{receiver}}); only a value written E.164 with '+' (the "
                "'Click2Call with mobile number' variant, fields not printed) is "
                "converted to the route's notation")),
        envelope="flat", data="none", fields=("callId",), message="call initiated successfully",
        status=200, note="flat {callId, message, status: 200}; phone numbers: bridge (DID) and "
                         "from (its field descriptions); to is the IVR flow; variables ('flow ID and "
                         "variables' variant) at top level, as for calls"),
    "voice.call_logs.list": Shape("voice.call_logs.list", (F("datetime[end_at]"),), "list",
                                  "list", _CALL_LOG,
                                  note=PICKED + " (flow variables outgoing.*: Voice overview, Flow "
                                  "Variables); range format 'Apr 01, 2021 - Apr 12, 2021'"),
    "voice.recordings.list": Shape("voice.recordings.list", (F("datetime[r.created_at]"),),
                                   "list", "list", _RECORDING, note=PICKED),
    "voice.calls.status": Shape(
        "voice.calls.status", (F("id"), F("cid"), F("date", "date"), F("mobile", number=True)),
        envelope="flat", data="list", fields=_CALL_STATUS, status=200, note=PICKED),
    "voice.sound_files.create": Shape(
        "voice.sound_files.create", (R("audio", "file"), F("name")),
        fields=("id", "name", "created_at"), message="Sound uploaded successfully",
        note="the id is usable as an audio source (Create Sound File)"),
    "voice.pricing.list": _pricing("voice", subservice=True, status_type="string"),
    "verify.otp.send": Shape(
        "verify.otp.send",
        (R("channels", "array", items="object", min_items=1), F("payload", "object"),
         F("payload.to", number=True)),
        envelope="flat", data="none", fields=_OTP, message="", status="sent",
        note="channels/payload collapsed; payload.to is our assumption"),
    "verify.otp.verify": Shape("verify.otp.verify", envelope="flat", data="none",
                               fields=("id", "status"), status="success",
                               note="failures: 200 with status failed/expired/invalid/"
                                    "'OTP already verified'"),
    "verify.otp.search": Shape("verify.otp.search", envelope="flat", data="none",
                               fields=("id", "to", "reference", "status", "created_at",
                                       "expire_at", "channels"), status="success"),
    "verify.otp.cancel": Shape("verify.otp.cancel", envelope="flat", data="none",
                               fields=("id", "status"), status="success"),
    # ------------------------------------------------------------- Viber / WhatsApp
    "viber.templates.list": Shape(
        "viber.templates.list",
        (F("filter[id]"), F("filter[name]"), F("filter[type]", enum=("text",)),
         F("filter[status]", enum=("1", "2", "3"))),
        "list", "list", _VIBER_TEMPLATE, "Templates List",
        note=PICKED + "; status 1 approved, 2 pending, 3 rejected"),
    "viber.templates.create": Shape(
        "viber.templates.create",
        (R("name", no_spaces=True), R("category", enum=("transactional", "promotional", "session"),
                                      note="create documents only 'transactional'"),
         R("message", "object")),
        fields=_VIBER_TEMPLATE, message="Template created successfully.", note=PICKED),
    "viber.templates.get": Shape("viber.templates.get", fields=_VIBER_TEMPLATE,
                                 message="Templates List", note=PICKED),
    "viber.templates.update": Shape(
        "viber.templates.update",
        (R("category", enum=("transactional", "promotional", "session")),
         R("message", "object"), R("name", note="unchangeable")),
        fields=_VIBER_TEMPLATE, message="Template updated successfully.", note=PICKED),
    "viber.templates.delete": Shape("viber.templates.delete", data="empty",
                                    message="Template Successfully Deleted"),
    **_unsubscribers("viber", ("tag", "category", "account", "all"), filters=False),
    "viber.messages.send": Shape(
        "viber.messages.send", _CHANNEL_SEND, envelope="flat", data="list", fields=_SEND_ITEM,
        message="Messages queued successfully", note=_RECIPIENT_NOTE),
    "viber.messages.send_template": Shape(
        "viber.messages.send_template",
        (F("alias"), F("id"), R("data", "object"), R("meta", "object"),
         R("recipient", "object"), F("recipient.mobile", number=True)),
        envelope="flat", data="list", fields=_SEND_ITEM,
        message="Messages queued successfully", one_of=(("alias", "id"),),
        note=_RECIPIENT_NOTE + "; meta is required for Viber"),
    "viber.messages.dlr": Shape("viber.messages.dlr", (F("id"), F("mobile", number=True)),
                                "envelope", "list", _CHANNEL_DLR_FIELDS, note=PICKED),
    "viber.pricing.list": _pricing("viber", subservice=True),
    "whatsapp.templates.list": Shape(
        "whatsapp.templates.list",
        (F("filter[id]"), F("filter[name]"),
         F("filter[type]", enum=("text", "JSON", "media", "template")),
         F("filter[status]", enum=("1", "2", "3"))),
        "list", "list", _WA_TEMPLATE, "Templates List", note=PICKED),
    "whatsapp.templates.create": Shape(
        "whatsapp.templates.create",
        (R("category", enum=("marketing", "utility", "authentication")),
         R("language", enum=("en", "en_US")), R("name", no_spaces=True),
         R("number", number=True), R("type", enum=("text", "JSON", "media", "template")),
         R("is_conversation", "boolean"), F("payload", "object")),
        fields=_WA_TEMPLATE, message="Template created successfully.", note=PICKED),
    "whatsapp.templates.delete": Shape("whatsapp.templates.delete", data="empty",
                                       message="Template Successfully Deleted"),
    **_unsubscribers("whatsapp", ("tag", "product", "sender", "all")),
    "whatsapp.messages.send_template": Shape(
        "whatsapp.messages.send_template", _TEMPLATE_SEND, envelope="flat", data="list",
        fields=_SEND_ITEM, message="Messages queued successfully", one_of=(("alias", "id"),),
        note=_RECIPIENT_NOTE),
    "whatsapp.messages.send": Shape(
        "whatsapp.messages.send", _CHANNEL_SEND, envelope="flat", data="list",
        fields=_SEND_ITEM, message="Messages queued successfully",
        note=_RECIPIENT_NOTE + "; body_params/header_params for non-service templates"),
    "whatsapp.messages.dlr": Shape("whatsapp.messages.dlr", (F("id"), F("mobile", number=True)),
                                   "envelope", "list", _CHANNEL_DLR_FIELDS, note=PICKED),
    "whatsapp.pricing.list": _pricing("whatsapp", subservice=True, status_type="string"),
    # ------------------------------------------------------------ account / contacts
    "account.balance.get": Shape("account.balance.get", fields=("balance", "currency"),
                                 note=PICKED),
    "account.credits.add": Shape(
        "account.credits.add",
        (R("credits", allow_blank=False, note="decimal as a string, e.g. '2.34'"),
         F("service", enum=PRODUCT_CODES, note="blank allowed"), R("username")),
        envelope="bare", data="none", message="Balance added Successfully"),
    "contacts.contacts.list": Shape("contacts.contacts.list", (), "list", "list", _CONTACT,
                                    note=PICKED),
    "contacts.contacts.create": Shape(
        "contacts.contacts.create",
        (F("attributes", "object"), F("birth_date", "date"), F("email"), F("first_name"),
         F("gender", enum=("male", "female")), R("identity", no_spaces=True, allow_blank=False),
         F("last_name"), F("company"), R("phone", number=True), F("postal_code"),
         F("tags", "array", items="string")),
        fields=_CONTACT, message="Subscriber created successfully", note=PICKED),
    "contacts.contacts.get": Shape("contacts.contacts.get", fields=_CONTACT, note=PICKED),
    "contacts.contacts.update": Shape(
        "contacts.contacts.update",
        (F("attributes", "object"), F("email"), F("first_name"), F("last_name"), F("company"),
         R("phone", number=True), F("tags", "array", items="string")),
        fields=_CONTACT, message="Subscriber updated successfully", note=PICKED),
    "contacts.contacts.delete": Shape("contacts.contacts.delete", data="empty",
                                      message="Subscriber deleted successfully"),
    "contacts.identifiers.list": Shape("contacts.identifiers.list", (), "list", "list",
                                       _IDENTIFIER, note=PICKED),
    "contacts.identifiers.create": Shape(
        "contacts.identifiers.create",
        (R("type", note="no enum; 'phone' and 'email' seen"),
         R("value", number_when=("type", "phone"))),
        fields=_IDENTIFIER, note=PICKED),
    "contacts.identifiers.get": Shape("contacts.identifiers.get", fields=_IDENTIFIER,
                                      note=PICKED),
    "contacts.identifiers.update": Shape(
        "contacts.identifiers.update",
        (R("type"), R("value", number_when=("type", "phone"))),
        fields=_IDENTIFIER, message="Identifier updated successfully", note=PICKED),
    "contacts.identifiers.delete": Shape("contacts.identifiers.delete", data="empty",
                                         message="Identifier deleted successfully"),
    "contacts.tags.list": Shape("contacts.tags.list", (), "list", "list", _TAG, note=PICKED),
    "contacts.tags.create": Shape("contacts.tags.create", (R("name", allow_blank=False),),
                                  fields=_TAG, message="Tag created successfully",
                                  note=PICKED),
    "contacts.tags.get": Shape("contacts.tags.get", fields=_TAG, note=PICKED),
    "contacts.tags.update": Shape("contacts.tags.update", (R("name", allow_blank=False),),
                                  fields=_TAG, message="Tag updated successfully",
                                  note=PICKED),
    "contacts.tags.delete": Shape("contacts.tags.delete", data="empty",
                                  message="Tag deleted successfully"),
    "contacts.segments.list": Shape(
        "contacts.segments.list", envelope="flat", data="object", fields=_SEGMENT, status=200,
        note=PICKED + '; documented {data: {…}, message, status: 200}: an object, segments '
                      'keyed by id (our reading; the client also accepts a list)'),
    "contacts.segments.create": Shape("contacts.segments.create",
                                      (R("name", allow_blank=False),), fields=_SEGMENT,
                                      message="Segment created successfully", note=PICKED),
    "contacts.segments.get": Shape("contacts.segments.get", fields=_SEGMENT, note=PICKED),
    "contacts.segments.update": Shape(
        "contacts.segments.update",
        (R("name", allow_blank=False), R("negative_tags", "array", items="string"),
         R("negative_tags_operator", note="only 'any' seen"),
         R("positive_tags", "array", items="string"),
         R("positive_tags_operator", note="only 'any' seen")),
        fields=_SEGMENT, message="Segment updated successfully", note=PICKED),
    "contacts.segments.delete": Shape("contacts.segments.delete", data="empty",
                                      message="Segment deleted successfully"),
    "contacts.segments.subscribers": Shape("contacts.segments.subscribers", (), "list", "list",
                                           _CONTACT, note="sample is {}; items = contacts"),
    "contacts.imports.list": Shape("contacts.imports.list", (), "list", "list", _IMPORT,
                                   note=PICKED),
    "contacts.imports.create": Shape(
        "contacts.imports.create",
        (R("file", "file", max_bytes=5 * MB, extensions=UPLOAD_EXTENSIONS),),
        fields=_IMPORT, message="2 subscriber(s) imported successfully", note=PICKED),
    "contacts.imports.get": Shape("contacts.imports.get", fields=_IMPORT, note=PICKED),
    "contacts.imports.delete": Shape("contacts.imports.delete", data="empty",
                                     message="Import record deleted successfully"),
    "contacts.identifiers.list_all": Shape("contacts.identifiers.list_all", (), "list", "list",
                                           _IDENTIFIER, note=PICKED),
}

if set(SHAPES) != set(ROUTES):  # pragma: no cover - guarded by tests
    raise RuntimeError(f"shapes/routes mismatch: {sorted(set(SHAPES) ^ set(ROUTES))}")


def shape(route_name: str) -> Shape:
    try:
        return SHAPES[route_name]
    except KeyError:
        raise ValueError(f"unknown BICS route {route_name!r}") from None


def number_fields(route_name: str) -> tuple[Field, ...]:
    """Request fields holding phone numbers (converted to the route's notation); a
    ``number_if_plus`` field only when its value starts with '+'."""
    return tuple(f for f in shape(route_name).request
                 if f.number or f.number_when or f.number_if_plus)
