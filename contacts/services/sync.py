"""Pushing contacts and identifiers to BICS; large contact pushes through the bulk import.

`contacts_push_many` is `ContactAdapter.push_many` (so `bics_sync contacts --push` and the
admin's "Push to BICS" both use it): when at least `bulk_min` contacts were never pushed,
they go as CSV files through "Import Subscribers" (one upload per file of at most 5 MB),
then the contact list is walked to link each of them to its BICS id by number
(only contacts of this push are linked: nothing else is created here by a push). Contacts
already at BICS, and small pushes, go one by one through the generic sync service.

The import file layout is not documented ("File containing subscriber numbers"); we send a
CSV with a header row naming the Create Contact fields. Custom `attributes` have no column
there (nothing documented): a contact created by the bulk import gets them with its next Edit.

`identifiers_push_many` is `IdentifierAdapter.push_many`: Add Identifier needs the contact id
in its path, which the generic create does not pass, so creates go through
`bics.contacts.add_identifier` here; edits go through the generic service.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils import timezone

from contacts.models import Contact, Identifier, Segment
from core import sync
from core.models import SyncState
from core.phones import PhoneError, normalise_phone

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
BULK_MIN_CONTACTS = 500
SEGMENT_COUNT_JOB = "segment_subscribers"  # a sync run: Get Segment Subscribers, counted
IMPORT_COLUMNS = ("identity", "phone", "email", "first_name", "last_name", "company",
                  "postal_code", "birth_date", "gender", "tags")  # fmt: skip


def import_files(queryset: QuerySet[Contact], *, max_bytes: int = MAX_UPLOAD_BYTES) -> Iterator[tuple[bytes, int]]:
    """CSV files (bytes, contact count), each at most `max_bytes`, header row on each."""
    header = _csv_line(IMPORT_COLUMNS)
    buffer, size, count = [header], len(header), 0
    through = Contact.tags.through
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), 2000):
        part = ids[start : start + 2000]
        tags: dict[int, list[str]] = {}
        for contact_id, name in through.objects.filter(contact_id__in=part).values_list("contact_id", "tag__name"):
            tags.setdefault(contact_id, []).append(name)
        rows = Contact.objects.filter(pk__in=part).order_by("pk").values_list(
            "pk", "identity", "phone", "email", "first_name", "last_name", "company",
            "postal_code", "birth_date", "gender",
        )  # fmt: skip
        for pk, identity, phone, *rest in rows:
            birth = rest[4]
            rest[4] = birth.isoformat() if birth else ""
            line = _csv_line(["".join((identity or phone).split()), phone, *rest, ";".join(sorted(tags.get(pk, [])))])
            if size + len(line) > max_bytes and count:
                yield b"".join(buffer), count
                buffer, size, count = [header], len(header), 0
            buffer.append(line)
            size += len(line)
            count += 1
    if count:
        yield b"".join(buffer), count


def _csv_line(values) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue().encode("utf-8")


def _mark_synced(obj, bics_id: str) -> None:
    obj.bics_id, obj.sync_state, obj.sync_error, obj.synced_at = bics_id, SyncState.SYNCED, "", timezone.now()
    obj._from_sync = True
    obj.save(update_fields=["bics_id", "sync_state", "sync_error", "synced_at"])


def _mark_failed(obj, reason: str) -> None:
    type(obj)._default_manager.filter(pk=obj.pk).update(sync_state=SyncState.FAILED, sync_error=reason)
    obj.sync_state, obj.sync_error = SyncState.FAILED, reason


def contacts_push_many(adapter, records: QuerySet[Contact], result: sync.SyncResult, *,
                       bulk_min: int = BULK_MIN_CONTACTS, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
    """Push `records` (see the module docstring); counts go into `result`."""
    from bics.contacts import import_contacts
    from core.bics import get_client

    new = records.filter(bics_id__isnull=True)
    if new.count() < bulk_min:
        for obj in records.order_by("pk").iterator(chunk_size=500):
            sync.push_one(adapter, obj, result)
        return
    for obj in records.filter(bics_id__isnull=False).order_by("pk").iterator(chunk_size=500):
        sync.push_one(adapter, obj, result)
    refused = []
    for number, (content, count) in enumerate(import_files(new, max_bytes=max_bytes), start=1):
        try:
            import_contacts(get_client(), file=content, filename=f"contacts-{number}.csv")
        except Exception as exc:  # a lost answer may still have imported it: linked below
            reason = str(exc) or type(exc).__name__
            log.warning("bulk contact import file %s refused: %s", number, reason)
            refused.append(f"file {number} ({count} contacts): {reason}")
    try:
        _link_imported(adapter, new, result)
    except Exception as exc:
        result.failed.append((f"contacts list ({adapter.routes['list']})", str(exc) or type(exc).__name__))
    reason = ("bulk import refused: " + "; ".join(refused)[:500]) if refused else (
        "imported in bulk but not found in the contact list afterwards")
    for contact in new.order_by("pk").iterator(chunk_size=1000):
        _mark_failed(contact, reason)
        result.failed.append((contact, reason))


def _link_imported(adapter, new: QuerySet[Contact], result: sync.SyncResult) -> None:
    """Links the contacts of `new` to the BICS items with their number (no other writes)."""
    by_phone: dict[str, str] = {}

    def flush():
        taken = set(Contact.objects.filter(bics_id__in=list(by_phone.values())).values_list("bics_id", flat=True))
        now = timezone.now()
        rows = []
        for contact in new.filter(phone__in=[p for p, i in by_phone.items() if i not in taken]):
            contact.bics_id, contact.sync_state = by_phone[contact.phone], SyncState.SYNCED
            contact.sync_error, contact.synced_at = "", now
            rows.append(contact)
        Contact.objects.bulk_update(rows, ["bics_id", "sync_state", "sync_error", "synced_at"], batch_size=500)
        result.created.extend(rows)
        by_phone.clear()

    for item in sync.bics_iterate(adapter.routes["list"], params=adapter.list_params()):
        bics_id = adapter.bics_id_of(item)
        try:
            phone, _ = normalise_phone(str(item.get("phone") or ""))
        except PhoneError:
            continue
        if bics_id:
            by_phone[phone] = bics_id
        if len(by_phone) >= 1000:
            flush()
    flush()


def identifiers_push_many(adapter, records: QuerySet[Identifier], result: sync.SyncResult) -> None:
    """Creates new identifiers under their contact; the rest through the generic push."""
    from bics.contacts import add_identifier
    from core.bics import get_client

    for obj in records.order_by("pk").iterator(chunk_size=500):
        if obj.bics_id or adapter.skip_push(obj) or adapter.can_push(obj):
            sync.push_one(adapter, obj, result)  # update, unchanged, skipped or failed
            continue
        try:
            created = add_identifier(get_client(), contact_id=obj.contact.bics_id, type=obj.type, value=obj.value)
            if created.id in (None, ""):
                raise ValueError("BICS created the identifier but returned no 'id'")
            bics_id = str(created.id)
        except Exception as exc:
            reason = str(exc) or type(exc).__name__
            bics_id = _find_identifier(obj) if sync._outcome_unknown(exc) else None
            if not bics_id:
                log.warning("identifier push %s failed: %s", obj.pk, reason)
                _mark_failed(obj, reason)
                result.failed.append((obj, reason))
                continue
        _mark_synced(obj, bics_id)
        result.created.append(obj)


def _find_identifier(obj: Identifier) -> str | None:
    """After an Add Identifier whose answer was lost: the BICS id of the one it created."""
    from bics.contacts import list_identifiers
    from core.bics import get_client

    try:
        for item in list_identifiers(get_client(), contact_id=obj.contact.bics_id):
            if (item.type, item.value) == (obj.type, obj.value) and item.id not in (None, ""):
                if not Identifier.objects.filter(bics_id=str(item.id)).exists():
                    return str(item.id)
    except Exception as exc:
        log.warning("identifier reconcile %s failed: %s", obj.pk, exc)
    return None


def contacts_push(*, queryset: QuerySet[Contact] | None = None, bulk_min: int = BULK_MIN_CONTACTS,
                  max_bytes: int = MAX_UPLOAD_BYTES) -> sync.SyncResult:
    """Push contacts (all, or those in `queryset`) and then their identifiers."""
    # The registered adapters (contacts.sync_adapters builds on this module, not the reverse).
    contacts, identifiers = sync.adapters_for_model(Contact)[0], sync.adapters_for_model(Identifier)[0]
    records = contacts.queryset()
    if queryset is not None:
        records = records.filter(pk__in=queryset.values("pk"))
    result = sync.SyncResult(resource="contacts", direction="push")
    contacts_push_many(contacts, records, result, bulk_min=bulk_min, max_bytes=max_bytes)
    identifiers_push_many(identifiers, identifiers.queryset().filter(contact__in=records.values("pk")), result)
    return result


def segment_pull_subscribers(*, segment: Segment) -> int:
    """Counts BICS's "Get Segment Subscribers" for comparison with the local audience."""
    from bics.contacts import list_segment_subscribers
    from core.bics import get_client

    if not segment.bics_id:
        raise ValueError(f"“{segment}” is not at BICS yet: push it first.")
    count = sum(1 for _ in list_segment_subscribers(get_client(), id=segment.bics_id))
    Segment.objects.filter(pk=segment.pk).update(remote_subscriber_count=count, remote_counted_at=timezone.now())
    segment.remote_subscriber_count = count
    return count


def segments_count_subscribers(ids: list[int] | None) -> dict[str, int]:
    """The sync run ``SEGMENT_COUNT_JOB``: BICS's subscriber count of each segment (pushed ones)."""
    counted = 0
    for segment in Segment.objects.filter(pk__in=ids or [], bics_id__isnull=False).order_by("pk"):
        segment_pull_subscribers(segment=segment)
        counted += 1
    return {"counted": counted}


__all__ = ["SEGMENT_COUNT_JOB", "SyncState", "contacts_push", "contacts_push_many", "identifiers_push_many",
           "import_files", "segment_pull_subscribers", "segments_count_subscribers"]
