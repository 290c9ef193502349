"""Sync adapters for tags, contacts, identifiers and segments (see core.sync for the interface).

Registered in ContactsConfig.ready in this order, so `bics_sync all --push` creates tags
before the contacts and segments that name them, and contacts before their identifiers.
Choices where the documentation is silent:

* Contact and segment `tags` are sent as tag **names** (names or ids is not documented). A
  pull hands them over as `tag_names` / `positive_tag_names` / `negative_tag_names` (model
  properties, so the generic pull sees a change of tags alone) and `after_pull` writes them.
* Contact numbers are E.164 with '+' (the samples of Create Contact and View Contact by ID).
* `bics_sync contacts --push` sends contacts never pushed before through the documented bulk
  import when there are at least `bulk_min` of them (`ContactAdapter.push_many`, see
  contacts/services/sync.py); the others go one by one.
* Identifiers share the `contacts` resource (they are nested under a contact at BICS: Add
  Identifier needs the contact id in its path, which the generic create does not pass, so
  `IdentifierAdapter.push_many` creates them; updates and deletes go through the generic
  service with `path_params`). They are pulled from "Get All Identifiers", whose items are
  assumed to carry `contact_id` (undocumented; the sandbox does).
* Create Segment documents only `name`; the rules are documented on Edit only. So a new
  segment is created with its name and edited with its rules right away (`after_push`); if
  that edit is refused the segment is left `failed` with the reason (it has its `bics_id`),
  and the next push sends the edit again.
* A segment with local-only rules ('all', field conditions) is never pushed: `skip_push`
  reports it as skipped with the reason (not a failure: `bics_sync` exits 0), logs a warning,
  and records the reason in its `sync_error`.
* Response fields are collapsed in the documentation; we read bics/shapes.py's picked fields.
"""

from __future__ import annotations

import logging
from datetime import date

from contacts.models import Contact, Identifier, Segment, Tag, TagOperator, apply_tag_names
from contacts.services.sync import (
    BULK_MIN_CONTACTS,
    MAX_UPLOAD_BYTES,
    contacts_push_many,
    identifiers_push_many,
)
from core.phones import PhoneError, normalise_phone
from core.sync import SyncAdapter, register

log = logging.getLogger(__name__)


def _s(value) -> str:
    return "" if value is None else str(value)


def _names(value) -> list[str]:
    if not isinstance(value, list):
        return []
    names = []
    for item in value:
        name = item.get("name") if isinstance(item, dict) else item
        if _s(name).strip():
            names.append(_s(name).strip()[:100])
    return names


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
    # New contacts from this many on go through the bulk import, in files of at most max_bytes.
    bulk_min = BULK_MIN_CONTACTS
    max_bytes = MAX_UPLOAD_BYTES

    def to_payload(self, obj, *, action):
        body = {
            "phone": obj.phone,
            "email": obj.email,
            "first_name": obj.first_name,
            "last_name": obj.last_name,
            "company": obj.company,
            "attributes": obj.attributes or {},
            "tags": obj.tag_names,
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
        if "tags" in data:  # an item without tags leaves ours alone
            values["tag_names"] = sorted(set(_names(data.get("tags"))))
        return values

    def find_unlinked(self, values):
        return Contact.objects.filter(bics_id__isnull=True, phone=values["phone"]).first()

    def after_pull(self, obj, changed):
        apply_tag_names(obj, "tags")

    def push_many(self, queryset, result):
        contacts_push_many(self, queryset, result, bulk_min=self.bulk_min, max_bytes=self.max_bytes)


class IdentifierAdapter(SyncAdapter):
    resource = "contacts"  # nested under contacts at BICS; pushed and pulled after them
    model = Identifier
    routes = {"list": "contacts.identifiers.list_all", "create": "contacts.identifiers.create",
              "update": "contacts.identifiers.update", "delete": "contacts.identifiers.delete"}  # fmt: skip

    def queryset(self):
        return Identifier.objects.select_related("contact")

    def selected(self, selection):
        if selection.model is Contact:  # pushing contacts pushes their identifiers after them
            return self.queryset().filter(contact__in=selection.values("pk"))
        return super().selected(selection)

    def path_params(self, obj):
        return {"contact_id": obj.contact.bics_id, "identifier_id": obj.bics_id}

    def can_push(self, obj):
        if not obj.contact.bics_id:
            return f"its contact ({obj.contact}) is not at BICS yet: push the contact first"
        return None

    def to_payload(self, obj, *, action):
        return {"type": obj.type, "value": obj.value}

    def from_payload(self, data):
        contact_id = _s(data.get("contact_id"))
        contact = Contact.objects.filter(bics_id=contact_id).first() if contact_id else None
        if contact is None:
            raise ValueError(f"its contact ({contact_id or 'no contact_id'}) is not here: pull contacts first")
        return {"contact": contact, "type": _s(data.get("type"))[:32], "value": _s(data.get("value"))[:255]}

    def find_unlinked(self, values):
        return Identifier.objects.filter(bics_id__isnull=True, **values).first()

    def push_many(self, queryset, result):
        identifiers_push_many(self, queryset, result)


class SegmentAdapter(SyncAdapter):
    resource = "segments"
    model = Segment
    routes = {"list": "contacts.segments.list", "create": "contacts.segments.create",
              "update": "contacts.segments.update", "delete": "contacts.segments.delete"}  # fmt: skip

    def skip_push(self, obj):
        if not obj.local_only:
            return None
        reason = (
            "not pushed: local only (" + ", ".join(obj.local_only_reasons) + "); BICS documents "
            "tag rules with the 'any' operator only, so this segment is used here only"
        )
        if obj.bics_id:
            reason += " (BICS keeps the rules it had before)"
        log.warning("segment %s (#%s) %s", obj.name, obj.pk, reason)
        if obj.sync_error != reason:
            Segment.objects.filter(pk=obj.pk).update(sync_error=reason)
            obj.sync_error = reason
        return reason

    def to_payload(self, obj, *, action):
        if action == "create":
            return {"name": obj.name}
        return {
            "name": obj.name,
            "positive_tags": obj.positive_tag_names,
            "positive_tags_operator": obj.positive_tags_operator,
            "negative_tags": obj.negative_tag_names,
            "negative_tags_operator": obj.negative_tags_operator,
        }

    def after_push(self, obj, data, *, action):
        """Create takes a name only: send the rules with the documented Edit at once."""
        if action != "create":
            return
        from core.sync import bics_request

        try:
            bics_request(self.routes["update"], path=self.path_params(obj),
                         json=self.to_payload(obj, action="update"))  # fmt: skip
        except Exception as exc:
            reason = str(exc) or type(exc).__name__
            raise RuntimeError(
                f"created at BICS, but its rules were refused (pushed again next time): {reason}"
            ) from exc

    def from_payload(self, data):
        values = {"name": _s(data.get("name")).strip()[:150]}
        for key in ("positive_tags_operator", "negative_tags_operator"):
            op = _s(data.get(key)).lower() or TagOperator.ANY
            values[key] = op if op in TagOperator.values else TagOperator.ANY
        for key in ("positive_tags", "negative_tags"):
            if key in data:
                values[f"{key[:-1]}_names"] = sorted(set(_names(data.get(key))))
        return values

    def find_unlinked(self, values):
        return Segment.objects.filter(bics_id__isnull=True, name=values["name"]).first()

    def after_pull(self, obj, changed):
        apply_tag_names(obj, "positive_tags")
        apply_tag_names(obj, "negative_tags")


ADAPTERS = (TagAdapter(), ContactAdapter(), IdentifierAdapter(), SegmentAdapter())


def register_all() -> None:
    for adapter in ADAPTERS:
        register(adapter)


def adapter(cls: type[SyncAdapter]) -> SyncAdapter:
    return next(a for a in ADAPTERS if isinstance(a, cls))


__all__ = ["ADAPTERS", "PhoneError", "adapter", "register_all"]
