"""Writes on contacts and tags: bulk tagging, opt-outs, and upserts coming from BICS."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from contacts.models import Contact, Tag
from core.models import SyncState
from core.phones import PhoneError, normalise_phone

CONTACT_FIELDS = (
    "identity", "email", "first_name", "last_name", "company", "postal_code", "gender",
)  # fmt: skip


def mark_dirty(queryset: QuerySet) -> int:
    """Records changed here after a sync need a push again; never-synced ones stay so."""
    return queryset.filter(sync_state__in=[SyncState.SYNCED, SyncState.FAILED]).update(
        sync_state=SyncState.DIRTY
    )


@transaction.atomic
def contacts_tag(*, contacts: QuerySet[Contact], tag_names: Iterable[str]) -> int:
    """Adds tags (created when missing) to the contacts; returns the links added."""
    tags = [tag_get_or_create(name=name) for name in {n.strip() for n in tag_names} if name]
    through = Contact.tags.through
    contact_ids = list(contacts.values_list("pk", flat=True))
    existing = set(
        through.objects.filter(contact_id__in=contact_ids, tag__in=tags).values_list(
            "contact_id", "tag_id"
        )
    )
    links = [
        through(contact_id=c, tag_id=t.pk)
        for c in contact_ids
        for t in tags
        if (c, t.pk) not in existing
    ]
    through.objects.bulk_create(links, batch_size=1000, ignore_conflicts=True)
    mark_dirty(Contact.objects.filter(pk__in={link.contact_id for link in links}))
    return len(links)


@transaction.atomic
def contacts_untag(*, contacts: QuerySet[Contact], tags: Iterable[Tag]) -> int:
    through = Contact.tags.through
    links = through.objects.filter(contact__in=contacts, tag__in=list(tags))
    touched = set(links.values_list("contact_id", flat=True))
    removed, _ = links.delete()
    mark_dirty(Contact.objects.filter(pk__in=touched))
    return removed


def tag_get_or_create(*, name: str) -> Tag:
    tag, _ = Tag.objects.get_or_create(name=name.strip())
    return tag


def contacts_unsubscribe(*, contacts: QuerySet[Contact], channel: str = "sms") -> int:
    """Adds an opt-out ('all' scope) for each contact's number; returns how many are new.

    The Unsubscriber records are messaging's; they are pushed by its own sync.
    """
    from contacts.selectors import unsubscriber_model

    Unsubscriber = unsubscriber_model()
    if Unsubscriber is None:
        raise RuntimeError("The messaging app has no Unsubscriber model yet.")
    rows = list(contacts.values_list("phone", "country"))
    existing = set(
        Unsubscriber.objects.filter(
            channel=channel, type="all", value="", number__in=[p for p, _ in rows]
        ).values_list("number", flat=True)
    )
    new = [
        Unsubscriber(channel=channel, number=phone, type="all", value="", iso=country)
        for phone, country in rows
        if phone not in existing
    ]
    Unsubscriber.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    return len(new)


def contact_upsert_from_bics(payload: dict) -> Contact | None:
    """A contact as BICS sent it (webhook `contacts:subscriber:subscription`, pull).

    Upserts by BICS id, else by phone number, and leaves the record `synced`: an event
    caused by our own push never marks the contact dirty again. A contact edited here and
    not pushed yet (`dirty`) is not overwritten. Returns None when the payload has no
    usable number.
    """
    data = {}
    if isinstance(payload, dict):  # bare, or wrapped as {"event", "payload"} or {"data"}
        data = payload.get("payload") or payload.get("data") or payload
    if not isinstance(data, dict):
        return None
    bics_id = str(data.get("id") or data.get("contact_id") or "") or None
    try:
        phone, country = normalise_phone(str(data.get("phone") or ""))
    except PhoneError:
        phone, country = None, ""
    contact = None
    if bics_id:
        contact = Contact.objects.filter(bics_id=bics_id).first()
    if contact is None and phone:
        contact = Contact.objects.filter(phone=phone).first()
    if contact is None and not phone:
        return None
    if contact is not None and contact.sync_state == SyncState.DIRTY:
        return contact  # local edits win until pushed; the pull reports the conflict
    values = {f: str(data[f] or "") for f in CONTACT_FIELDS if f in data}
    if values.get("gender") not in (None, "", "male", "female"):
        values.pop("gender")
    if "attributes" in data and isinstance(data["attributes"], dict):
        values["attributes"] = data["attributes"]
    if data.get("birth_date"):
        from datetime import date

        try:
            values["birth_date"] = date.fromisoformat(str(data["birth_date"])[:10])
        except ValueError:
            pass
    with transaction.atomic():
        if contact is None:
            contact = Contact(phone=phone, country=country)
        elif phone:
            contact.phone, contact.country = phone, country
        for field, value in values.items():
            setattr(contact, field, value)
        contact.bics_id = bics_id or contact.bics_id
        contact.sync_state = SyncState.SYNCED
        contact.synced_at = timezone.now()
        contact.sync_error = ""
        contact._from_sync = True
        contact.save()
        if isinstance(data.get("tags"), list):
            names = [str(t).strip() for t in data["tags"] if str(t).strip()]
            contact.tags.set([tag_get_or_create(name=n) for n in names])
    return contact
