"""Sync adapters for tags, contacts and segments (see core.sync for the interface).

Registered in ContactsConfig.ready in this order, so `bics_sync all --push` creates tags
before the contacts and segments that name them. Choices where the documentation is silent:

* Contact and segment `tags` are sent as tag **names** (names or ids is not documented).
* Contact numbers are E.164 with '+' (the samples, 5597/5721).
* Create Segment documents only `name`; the rules are documented on Edit only. So a new
  segment is created with its name and then edited with its rules right away (from the
  create response, see `SegmentAdapter.from_payload_server_fields`); if that edit is refused
  the segment is left `failed` with the reason, and the next push sends the edit again.
* A segment with local-only rules ('all', field conditions) is never pushed: the push reports
  it as failed with the reason, and nothing wrong is sent.
* Response fields are collapsed in the documentation; we read bics/shapes.py's picked fields.
"""

from __future__ import annotations

from datetime import date

from contacts.models import Contact, Segment, Tag, TagOperator
from contacts.services.phones import PhoneError, normalise_phone
from core.sync import SyncAdapter, register

# Tag names read from pulled items, applied after the record is saved (see signals.py):
# the generic pull writes plain fields only.
PENDING_TAGS: dict[tuple[str, str], dict[str, list[str]]] = {}


def _s(value) -> str:
    return "" if value is None else str(value)


def _names(value) -> list[str]:
    if not isinstance(value, list):
        return []
    names = []
    for item in value:
        name = item.get("name") if isinstance(item, dict) else item
        if _s(name).strip():
            names.append(_s(name).strip())
    return names


def tags_by_name(names: list[str]) -> list[Tag]:
    tags = []
    for name in dict.fromkeys(names):
        tag = Tag.objects.filter(name=name).first() or Tag.objects.create(name=name)
        tags.append(tag)
    return tags


class TagAdapter(SyncAdapter):
    resource = "tags"
    model = Tag
    routes = {"list": "contacts.tags.list", "create": "contacts.tags.create",
              "update": "contacts.tags.update", "delete": "contacts.tags.delete"}  # fmt: skip

    def to_payload(self, obj, *, action):
        return {"name": obj.name}

    def from_payload(self, data):
        return {"name": _s(data.get("name")).strip()[:100]}

    def find_unlinked(self, values):
        return Tag.objects.filter(bics_id__isnull=True, name=values["name"]).first()


class ContactAdapter(SyncAdapter):
    resource = "contacts"
    model = Contact
    routes = {"list": "contacts.contacts.list", "create": "contacts.contacts.create",
              "update": "contacts.contacts.update", "delete": "contacts.contacts.delete"}  # fmt: skip

    def to_payload(self, obj, *, action):
        tags = sorted(obj.tags.values_list("name", flat=True))
        body = {
            "phone": obj.phone,
            "email": obj.email,
            "first_name": obj.first_name,
            "last_name": obj.last_name,
            "company": obj.company,
            "attributes": obj.attributes or {},
            "tags": tags,
        }
        if action == "create":  # Edit documents no identity, birth_date, gender, postal_code
            body["identity"] = "".join((obj.identity or obj.phone).split())
            body["postal_code"] = obj.postal_code
            if obj.birth_date:
                body["birth_date"] = obj.birth_date.isoformat()
            if obj.gender:
                body["gender"] = obj.gender
        return body

    def from_payload(self, data):
        phone, country = normalise_phone(_s(data.get("phone")))  # PhoneError: unreadable item
        values = {
            "phone": phone,
            "country": country,
            "identity": _s(data.get("identity"))[:128],
            "email": _s(data.get("email"))[:254],
            "first_name": _s(data.get("first_name"))[:150],
            "last_name": _s(data.get("last_name"))[:150],
            "company": _s(data.get("company"))[:200],
            "postal_code": _s(data.get("postal_code"))[:32],
            "gender": _s(data.get("gender")) if data.get("gender") in ("male", "female") else "",
            "attributes": data.get("attributes") if isinstance(data.get("attributes"), dict) else {},
        }
        birth = _s(data.get("birth_date"))[:10]
        try:
            values["birth_date"] = date.fromisoformat(birth) if birth else None
        except ValueError:
            values["birth_date"] = None
        if "tags" in data:
            PENDING_TAGS[("contacts", phone)] = {"tags": _names(data.get("tags"))}
        return values

    def find_unlinked(self, values):
        return Contact.objects.filter(bics_id__isnull=True, phone=values["phone"]).first()

    def after_pull(self, obj, changed):
        apply_pending_tags(obj)


class SegmentAdapter(SyncAdapter):
    resource = "segments"
    model = Segment
    routes = {"list": "contacts.segments.list", "create": "contacts.segments.create",
              "update": "contacts.segments.update", "delete": "contacts.segments.delete"}  # fmt: skip

    def can_push(self, obj):
        if obj.local_only:
            return (
                "local only (" + ", ".join(obj.local_only_reasons) + "): BICS documents tag rules "
                "with the 'any' operator only, so this segment is used here and not pushed"
            )
        return None

    def __init__(self):
        self.rules_refused: dict[str, str] = {}  # bics_id -> reason (see signals.py)

    def to_payload(self, obj, *, action):
        if action == "create":
            return {"name": obj.name}
        return {
            "name": obj.name,
            "positive_tags": sorted(obj.positive_tags.values_list("name", flat=True)),
            "positive_tags_operator": obj.positive_tags_operator,
            "negative_tags": sorted(obj.negative_tags.values_list("name", flat=True)),
            "negative_tags_operator": obj.negative_tags_operator,
        }

    def from_payload_server_fields(self, data):
        """After a create: send the rules with the documented Edit (Create takes a name only)."""
        from core.sync import bics_request

        bics_id = self.bics_id_of(data)
        segment = Segment.objects.filter(name=_s(data.get("name"))).first() if bics_id else None
        if segment is not None and bics_id:
            try:
                bics_request(self.routes["update"], path={"id": bics_id},
                             json=self.to_payload(segment, action="update"))
            except Exception as exc:  # recorded on the segment once it is saved
                self.rules_refused[bics_id] = str(exc) or type(exc).__name__
        return {}

    def from_payload(self, data):
        name = _s(data.get("name")).strip()[:150]
        values = {"name": name}
        for key in ("positive_tags_operator", "negative_tags_operator"):
            op = _s(data.get(key)).lower() or TagOperator.ANY
            values[key] = op if op in TagOperator.values else TagOperator.ANY
        PENDING_TAGS[("segments", name)] = {
            "positive_tags": _names(data.get("positive_tags")),
            "negative_tags": _names(data.get("negative_tags")),
        }
        return values

    def find_unlinked(self, values):
        return Segment.objects.filter(bics_id__isnull=True, name=values["name"]).first()

    def after_pull(self, obj, changed):
        apply_pending_tags(obj)


def apply_pending_tags(obj) -> None:
    if isinstance(obj, Contact):
        pending = PENDING_TAGS.pop(("contacts", obj.phone), None)
        if pending is not None:
            obj.tags.set(tags_by_name(pending["tags"]))
    elif isinstance(obj, Segment):
        pending = PENDING_TAGS.pop(("segments", obj.name), None)
        if pending is not None:
            obj.positive_tags.set(tags_by_name(pending["positive_tags"]))
            obj.negative_tags.set(tags_by_name(pending["negative_tags"]))


ADAPTERS = (TagAdapter(), ContactAdapter(), SegmentAdapter())


def register_all() -> None:
    for adapter in ADAPTERS:
        register(adapter)


__all__ = ["ADAPTERS", "PhoneError", "apply_pending_tags", "register_all"]
