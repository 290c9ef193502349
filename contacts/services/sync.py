"""Pushing contacts to BICS, large pushes through the documented bulk import.

`contacts_push` sends contacts never pushed before as CSV files through "Import Subscribers"
(one upload per file of at most 5 MB, 6371-6395), then pulls the contact list so that each
imported contact is linked to its BICS id by number; contacts already at BICS (with a
`bics_id`) are updated one by one through the generic sync service. Small pushes go one by
one entirely.

The import file layout is not documented ("File containing subscriber numbers"); we send a
CSV with a header row naming the Create Contact fields.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils import timezone

from contacts.models import Contact, Segment
from core import sync
from core.models import SyncState

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
BULK_MIN_CONTACTS = 500
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


def contacts_push(*, queryset: QuerySet[Contact] | None = None, bulk_min: int = BULK_MIN_CONTACTS,
                  max_bytes: int = MAX_UPLOAD_BYTES) -> sync.SyncResult:
    """Push contacts (all, or those in `queryset`); see the module docstring."""
    from bics.contacts import import_contacts
    from core.bics import get_client

    queryset = queryset if queryset is not None else Contact.objects.all()
    new = queryset.filter(bics_id__isnull=True)
    result = sync.SyncResult(resource="contacts", direction="push")
    if new.count() >= bulk_min:
        uploaded = 0
        for number, (content, count) in enumerate(import_files(new, max_bytes=max_bytes), start=1):
            try:
                import_contacts(get_client(), file=content, filename=f"contacts-{number}.csv")
            except Exception as exc:
                log.warning("bulk contact import file %s refused: %s", number, exc)
                result.failed.append((f"import file {number} ({count} contacts)", str(exc) or type(exc).__name__))
                continue
            uploaded += count
        if uploaded:
            linked = sync.pull("contacts")  # links each imported contact by its number
            result.created.extend(linked.updated)
            result.conflicts.extend(linked.conflicts)
            result.failed.extend(linked.failed)
        still_new = new.filter(bics_id__isnull=True)
        if uploaded and still_new.exists():
            for contact in still_new[:100]:
                result.failed.append((contact, "imported in bulk but not found in the contact list afterwards"))
        queryset = queryset.filter(bics_id__isnull=False)
    return result.merge(sync.push("contacts", queryset))


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


__all__ = ["SyncState", "contacts_push", "import_files", "segment_pull_subscribers"]
