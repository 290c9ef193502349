"""Unsubscriber and blocked-template lists: import (CSV/XLSX), export, and "clean".

Imports write local records (``sync_state=never``); "Push to BICS" then creates them one by
one, so each gets its ``bics_id`` (BICS's own bulk import answers with no ids: Import Unsubscriber).

"Clean" is the documented wipe of a whole list at BICS (Clean Unsubscribers, Clean Blocked Templates). It is for
superusers only, after an export in the same session and a typed confirmation (the view
enforces both; the service checks the superuser and the phrase again). The local list of the
channel is deleted too: otherwise the next push would re-create everything that was wiped.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from core.masking import mask_number
from core.sync import bics_request
from core.tabular import NUMBER_COLUMNS, TableRefused, open_upload
from messaging.catalogue.models import BlockedTemplate, Channel, Unsubscriber

MAX_UPLOAD_BYTES = 100 * 1024 * 1024  # the documented import limit


@dataclass
class ImportResult:
    created: int = 0
    existing: int = 0
    errors: list = field(default_factory=list)  # [(row number, reason)]

    def summary(self) -> str:
        text = f"{self.created} created, {self.existing} already present, {len(self.errors)} rejected"
        if self.errors:
            text += ": " + "; ".join(f"row {n}: {r}" for n, r in self.errors[:10])
        return text


def read_rows(upload) -> list[dict]:
    """Rows of an uploaded CSV or XLSX file as {header key: cell} (``core.tabular``)."""
    if (upload.size or 0) > MAX_UPLOAD_BYTES:
        raise ValidationError("The file is larger than 100 MB.")
    try:
        with open_upload(upload, accept=any) as table:
            return [row for _line, row in table.dicts()]
    except TableRefused as exc:
        raise ValidationError(str(exc)) from None


def write_table(header: list[str], rows: list[list], fmt: str) -> tuple[bytes, str]:
    """(content, content type) of a CSV or XLSX export."""
    if fmt == "xlsx":
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8"), "text/csv"


# --------------------------------------------------------------------------- unsubscribers
UNSUBSCRIBER_COLUMNS = ["channel", "number", "type", "value", "iso", "bics_id", "sync_state"]


def unsubscribers_import(*, rows: list[dict], channel: str | None = None) -> ImportResult:
    """Columns: number (or receiver), and optionally channel, type, value, iso."""
    result = ImportResult()
    for n, row in enumerate(rows, start=2):
        obj = Unsubscriber(
            channel=(row.get("channel") or channel or Channel.SMS).lower(),
            number=next((row[c] for c in NUMBER_COLUMNS if row.get(c)), ""),
            type=(row.get("type") or "all").lower(), value=row.get("value") or "",
            iso=(row.get("iso") or "").upper(),
        )
        try:
            obj.full_clean(exclude=["bics_id", "sync_state", "synced_at", "sync_error"], validate_unique=False,
                          validate_constraints=False)
        except ValidationError as exc:
            result.errors.append((n, "; ".join(f"{k}: {' '.join(v).rstrip('.')}" for k, v in exc.message_dict.items())))
            continue
        if Unsubscriber.objects.filter(channel=obj.channel, number=obj.number, type=obj.type, value=obj.value).exists():
            result.existing += 1
            continue
        try:
            with transaction.atomic():
                obj.save()
        except IntegrityError:
            result.existing += 1
            continue
        result.created += 1
    return result


def unsubscribers_export(*, queryset, fmt: str = "csv", mask_numbers: bool = False) -> tuple[bytes, str]:
    shown = mask_number if mask_numbers else str
    rows = [[u.channel, shown(u.number), u.type, u.value, u.iso, u.bics_id or "", u.sync_state]
            for u in queryset.order_by("channel", "number").iterator()]
    return write_table(UNSUBSCRIBER_COLUMNS, rows, fmt)


def clean_phrase(kind: str, channel: str = "") -> str:
    return f"CLEAN {channel.upper()} {kind.upper()}".replace("  ", " ").strip()


def _check_clean(user, confirmation: str, phrase: str) -> None:
    if not (user and user.is_superuser):
        raise PermissionDenied("Only superusers may clean a list at BICS.")
    if (confirmation or "").strip() != phrase:
        raise ValidationError(f"Type {phrase} exactly to confirm.")


@transaction.atomic
def unsubscribers_clean(*, channel: str, user, confirmation: str) -> int:
    """Wipe the channel's opt-out list at BICS, then locally. Returns local rows deleted."""
    if channel not in Channel.values:
        raise ValidationError(f"Unknown channel {channel!r}.")
    _check_clean(user, confirmation, clean_phrase("unsubscribers", channel))
    bics_request(f"{channel}.unsubscribers.clean")
    deleted, _ = Unsubscriber.objects.filter(channel=channel).delete()
    return deleted


# --------------------------------------------------------------------------- blocked templates
BLOCKED_COLUMNS = ["template_id", "status", "bics_id", "sync_state"]


def blocked_templates_import(*, rows: list[dict]) -> ImportResult:
    """Columns: template_id (or id), and optionally status ("1" blocked, "0" inactive)."""
    from messaging.catalogue.models import Template

    result = ImportResult()
    for n, row in enumerate(rows, start=2):
        template_id = (row.get("template_id") or row.get("id") or "").strip()
        status = (row.get("status") or "1").strip()
        if not template_id:
            result.errors.append((n, "template_id is empty"))
            continue
        if status not in ("0", "1"):
            result.errors.append((n, f"status must be 0 or 1, not {status!r}"))
            continue
        if BlockedTemplate.objects.filter(template_id=template_id).exists():
            result.existing += 1
            continue
        BlockedTemplate.objects.create(
            template_id=template_id, status=status,
            local_template=Template.objects.filter(bics_id=template_id, channel=Channel.SMS).first())
        result.created += 1
    return result


def blocked_templates_export(*, queryset, fmt: str = "csv") -> tuple[bytes, str]:
    rows = [[b.template_id, b.status, b.bics_id or "", b.sync_state] for b in queryset.iterator()]
    return write_table(BLOCKED_COLUMNS, rows, fmt)


@transaction.atomic
def blocked_templates_clean(*, user, confirmation: str) -> int:
    _check_clean(user, confirmation, clean_phrase("blocked templates"))
    bics_request("sms.blocked_templates.clean")
    deleted, _ = BlockedTemplate.objects.all().delete()
    return deleted



def unsubscriber_upsert_from_bics(*, channel: str, payload: dict) -> Unsubscriber:
    """An opt-out BICS told us about (``sms:unsubscription``, ``whatsapp:unsubscription``,
    ``viber:unsubscription`` webhooks, or any item in the list shape). Upserts by BICS id,
    else by (number, type, value); the record is stored as synced (it came from BICS), so an
    echo of our own push never marks it dirty. Never deletes anything."""
    from django.utils import timezone

    from core.models import SyncState
    from core.sync import adapters_for_model

    # The registered adapter (messaging.catalogue.sync_adapters builds on the services).
    adapter = next(a for a in adapters_for_model(Unsubscriber) if a.channel == channel)
    values = adapter.from_payload(payload)
    bics_id = adapter.bics_id_of(payload)
    obj = None
    if bics_id:
        obj = Unsubscriber.objects.filter(channel=channel, bics_id=bics_id).first()
    if obj is None:
        obj = Unsubscriber.objects.filter(channel=channel, number=values["number"], type=values["type"],
                                          value=values["value"]).first()
    obj = obj or Unsubscriber(channel=channel)
    if obj.pk and obj.sync_state == SyncState.DIRTY:
        return obj  # edited here: our version wins until pushed
    for name, value in values.items():
        if name == "value" or value not in (None, ""):  # keep what we know when the event omits it
            setattr(obj, name, value)
    obj.bics_id = bics_id or obj.bics_id
    obj.sync_state, obj.sync_error, obj.synced_at = SyncState.SYNCED, "", timezone.now()
    obj._from_sync = True
    obj.save()
    return obj
