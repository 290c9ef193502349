"""Voice (Engage) unsubscribers: the seven documented operations (Voice › Unsubscribers).

list/create/edit/delete go through the generic sync service (``core.sync``, resource
``voice_unsubscribers``); view, clean and import are here. Numbers are E.164 with '+'.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q

from core.bics import get_client
from core.models import SyncState
from core.phones import PhoneError, e164_from_bics, normalise_phone
from core.sync import SyncAdapter, SyncResult, pull, push, push_delete, register
from core.tabular import XLSX_MAGIC, TableRefused, number_column, open_upload
from voice.models import VoiceUnsubscriber

RESOURCE = "voice_unsubscribers"
CLEAN_CONFIRMATION = "clean voice unsubscribers"


class VoiceUnsubscriberAdapter(SyncAdapter):
    resource = RESOURCE
    model = VoiceUnsubscriber
    routes = {"list": "voice.unsubscribers.list", "create": "voice.unsubscribers.create",
              "update": "voice.unsubscribers.update", "delete": "voice.unsubscribers.delete"}

    def queryset(self):
        # Numbers imported by file are known to BICS but not linked yet: never pushed again.
        return VoiceUnsubscriber.objects.exclude(Q(sync_state=SyncState.SYNCED) & Q(bics_id__isnull=True))

    def to_payload(self, obj, *, action):
        return {"receiver": obj.number, "type": obj.type, "value": obj.value}

    def from_payload(self, data):
        kind = str(data.get("type") or "all")
        return {"number": e164_from_bics(data.get("receiver")),
                "type": kind if kind in VoiceUnsubscriber.Type.values else VoiceUnsubscriber.Type.ALL,
                "value": str(data.get("value") or "")[:100], "iso": str(data.get("iso") or "").upper()[:2]}

    def from_payload_server_fields(self, data):
        return {"iso": str(data["iso"]).upper()[:2]} if data.get("iso") else {}

    def find_unlinked(self, values):
        return VoiceUnsubscriber.objects.filter(bics_id__isnull=True, number=values["number"],
                                                type=values["type"], value=values["value"]).first()


def register_adapters() -> None:
    register(VoiceUnsubscriberAdapter())


def unsubscribers_pull() -> SyncResult:
    return pull(RESOURCE)


def unsubscribers_push(queryset=None) -> SyncResult:
    return push(RESOURCE, queryset)


def unsubscriber_add(*, number: str, type: str = "all", value: str = "",
                     push_now: bool = True) -> VoiceUnsubscriber:
    """Record an opt-out locally (effective at once) and create it at BICS. Raises PhoneError
    for a number that is not valid."""
    obj, _ = VoiceUnsubscriber.objects.get_or_create(number=normalise_phone(number)[0], type=type, value=value)
    if push_now and not obj.bics_id:
        push(RESOURCE, VoiceUnsubscriber.objects.filter(pk=obj.pk))
        obj.refresh_from_db()
    return obj


def unsubscriber_edit(obj: VoiceUnsubscriber, *, push_now: bool = True, **fields) -> VoiceUnsubscriber:
    for name, value in fields.items():
        setattr(obj, name, normalise_phone(value)[0] if name == "number" else value)
    obj.sync_state = SyncState.DIRTY
    obj.save()
    if push_now:
        push(RESOURCE, VoiceUnsubscriber.objects.filter(pk=obj.pk))
        obj.refresh_from_db()
    return obj


def unsubscriber_delete(obj: VoiceUnsubscriber) -> SyncResult:
    return push_delete(obj)


def unsubscriber_view(obj: VoiceUnsubscriber) -> dict:
    """View Unsubscriber by ID: BICS's current record, copied onto ours unless
    ours is dirty. Returns the raw data."""
    if not obj.bics_id:
        raise ValueError("This opt-out is not at BICS yet: push it first.")
    resp = get_client().call("voice.unsubscribers.get", path_params={"id": obj.bics_id})
    data = resp.data[0] if isinstance(resp.data, list) and resp.data else resp.data
    if isinstance(data, dict) and data and obj.sync_state != SyncState.DIRTY:
        values = VoiceUnsubscriberAdapter().from_payload({**to_bics(obj), **data})
        VoiceUnsubscriber.objects.filter(pk=obj.pk).update(**values)
    return data if isinstance(data, dict) else {}


def to_bics(obj) -> dict:
    return {"receiver": obj.number, "type": obj.type, "value": obj.value, "iso": obj.iso}


def unsubscribers_clean(*, user, confirmation: str) -> int:
    """Clean Unsubscribers: wipes ALL voice opt-outs at BICS, then ours.
    Superusers only, with the typed phrase ``CLEAN_CONFIRMATION`` (export first)."""
    if not getattr(user, "is_superuser", False):
        raise PermissionError("Only a superuser may clean the voice unsubscribers.")
    if (confirmation or "").strip().lower() != CLEAN_CONFIRMATION:
        raise ValueError(f"Type “{CLEAN_CONFIRMATION}” to confirm.")
    get_client().call("voice.unsubscribers.clean")
    with transaction.atomic():
        count, _ = VoiceUnsubscriber.objects.all().delete()
    return count


def unsubscribers_export_csv(queryset=None) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["number", "type", "value", "iso", "bics_id"])
    for obj in (queryset if queryset is not None else VoiceUnsubscriber.objects.all()).iterator():
        writer.writerow([obj.number, obj.type, obj.value, obj.iso, obj.bics_id or ""])
    return out.getvalue()


def unsubscribers_import(*, content: bytes, filename: str) -> dict:
    """Import Unsubscriber: the file goes to BICS as is; the numbers we can read (a CSV or XLSX
    with a number column, or numbers in the first column) are recorded here at once so calls
    exclude them now. A later pull links them to BICS's ids."""
    from bics.voice import import_unsubscribers

    accepted = import_unsubscribers(get_client(), file=content, filename=filename)
    added = 0
    for number in _readable_numbers(content, filename):
        _, created = VoiceUnsubscriber.objects.get_or_create(
            number=number, type=VoiceUnsubscriber.Type.ALL, value="",
            defaults={"sync_state": SyncState.SYNCED, "bics_id": None})
        added += created
    return {"message": accepted.message, "added": added}


def _readable_numbers(content: bytes, filename: str) -> list[str]:
    """The valid numbers of an import file; a file we cannot read as a table gives none (BICS
    still has it). Without a number column the first column is read, the first row too."""
    content = content.removeprefix(codecs.BOM_UTF8)
    first_line = content.split(b"\n", 1)[0].decode("utf-8", "replace")
    if not content.startswith(XLSX_MAGIC) and _is_number(re.split(r"[,;\t]", first_line)[0]):
        content = b"number\n" + content  # a list without a header row (one number is a list too)
    numbers = []
    try:
        with open_upload(ContentFile(content, name=filename), accept=any) as table:
            column = number_column(table.header)
            rows = (cells for _line, cells in table.rows())
            if column is None:
                column, rows = 0, itertools.chain([table.header], rows)
            for cells in rows:
                if column < len(cells) and _is_number(cells[column]):
                    numbers.append(normalise_phone(cells[column])[0])
    except TableRefused:
        return []
    return numbers


def _is_number(text: str) -> bool:
    try:
        normalise_phone(text)
    except PhoneError:
        return False
    return True
