"""What every path that applies delivery reports shares (the webhook drain and the poll in
sets, ``dlr_sets``; one report at a time, ``dlr``): how a report is read (``parse_dlr``) and
which status may follow which (``ALLOWED_FROM``). Its own module, so that ``dlr`` (the poll)
can apply through ``dlr_sets`` and ``dlr_sets`` needs nothing from ``dlr``.

Statuses never move backwards::

    queued -> unknown -> submitted -> delivered -> read
                                   \\-> failed | rejected | expired   (final)
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, is_dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.utils import timezone

from core.bics_time import parse_bics_time
from core.phones import e164_from_bics
from messaging.campaigns import dlr_codes
from messaging.campaigns.models import MessageStatus

S = MessageStatus
FINAL_ERRORS = (S.FAILED, S.REJECTED, S.EXPIRED)
# new status -> the statuses it may replace. ``unreported`` is our giving up on a report (never
# BICS's word): a report that still comes later replaces it.
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    S.QUEUED: (),
    S.UNKNOWN: (S.QUEUED,),
    S.SUBMITTED: (S.QUEUED, S.UNKNOWN),
    S.DELIVERED: (S.QUEUED, S.UNKNOWN, S.SUBMITTED, S.UNREPORTED),
    S.READ: (S.QUEUED, S.UNKNOWN, S.SUBMITTED, S.DELIVERED, S.UNREPORTED),
    S.FAILED: (S.QUEUED, S.UNKNOWN, S.SUBMITTED, S.UNREPORTED),
    S.REJECTED: (S.QUEUED, S.UNKNOWN, S.SUBMITTED, S.UNREPORTED),
    S.EXPIRED: (S.QUEUED, S.UNKNOWN, S.SUBMITTED, S.UNREPORTED),
    S.UNREPORTED: (S.SUBMITTED,),
}


def can_move(old: str, new: str) -> bool:
    return old in ALLOWED_FROM.get(new, ())


def as_dict(item) -> dict:
    """A DLR item as a dict: a dict as BICS sends it, or a ``bics`` Dlr/ChannelDlr dataclass."""
    if isinstance(item, Mapping):
        return dict(item)
    if is_dataclass(item):
        raw = dict(getattr(item, "raw", {}) or {})
        data = {k: v for k, v in asdict(item).items() if k != "raw" and v is not None}
        return {**raw, **data}
    raise TypeError(f"not a DLR item: {type(item).__name__}")


@dataclass(slots=True)
class Dlr:
    data: dict
    bics_id: str
    cid: str
    mobile: str
    status_text: str
    code: str
    new: str | None
    message_id: int | None = None
    applied: bool = False
    by_id: bool = False  # matched by BICS's id: the message has it already
    whole: bool = True  # ``data`` is the item itself (not the payload of an {event, payload} item)

    @property
    def at_raw(self):
        """The report's time as BICS wrote it (None when it gave none)."""
        data = self.data
        return (data.get("submit_time") if self.new == S.SUBMITTED else data.get("deliv_time")) or data.get("updated_at")

    @property
    def at(self) -> datetime:
        return parse_time(self.at_raw) or timezone.now()

    @property
    def raw(self) -> dict:
        data = self.data
        if self.keeps_all_keys:
            return dict(data)
        return {k: v for k, v in data.items() if not str(k).startswith("_")}

    @property
    def keeps_all_keys(self) -> bool:
        """No key starts with "_" (one C-level scan): ``raw`` is the whole of ``data``."""
        return "\n_" not in "\n" + "\n".join(map(str, self.data))

    def raw_json(self, text: str | None) -> str:
        """``raw`` as JSON: ``text`` (the item's own JSON, as stored) when ``raw`` is the whole
        item, so it is not encoded again. A text without ``"_`` and without escapes has no key
        starting with "_" (cheaper to see in the text than in the keys)."""
        if text is not None and self.whole and (('"_' not in text and "\\u" not in text) or self.keeps_all_keys):
            return text
        return json.dumps(self.raw)

    @property
    def bics_status(self) -> str:
        return (self.status_text or dlr_codes.STATUS_BY_CODE.get(self.code, ""))[:32]

    @property
    def price(self) -> Decimal | None:
        if self.data.get("credits") in (None, ""):
            return None
        try:
            return Decimal(str(self.data["credits"]))
        except (InvalidOperation, ValueError):
            return None

    @property
    def parts(self) -> int | None:
        units = self.data.get("units")
        return int(units) if str(units or "").isdigit() and int(units) > 0 else None


def parse_time(value) -> datetime | None:
    try:
        return parse_bics_time(value) if value else None
    except (TypeError, ValueError):
        return None


@functools.cache
def _code_of_status() -> dict[str, str]:
    """Statuses that only one code has, and that code."""
    codes: dict[str, list[str]] = {}
    for code, status in dlr_codes.STATUS_BY_CODE.items():
        codes.setdefault(status, []).append(code)
    return {status: found[0] for status, found in codes.items() if len(found) == 1}


def mobile_of(value) -> str:
    """``e164_from_bics``, with a short path for the plain digits BICS's reports carry."""
    if type(value) is str and value.isdigit() and value.isascii():
        digits = value[2:] if value.startswith("00") else value
        return "+" + digits if digits else ""
    return e164_from_bics(value)


def parse_dlr(channel: str, item) -> Dlr:
    """One raw report (a dict as BICS sends it, or a ``bics`` Dlr/ChannelDlr)."""
    data = dict(item) if type(item) is dict else as_dict(item)
    whole = True
    if "status" not in data and isinstance(data.get("payload"), Mapping):  # {event, payload}
        data, whole = dict(data["payload"]), False
    get = data.get
    status_text = str(get("status") or "")
    code = get("code")
    code, new = status_of(channel, status_text, str(code).zfill(3) if code not in (None, "") else "")
    return Dlr(data, str(get("id") or get("message_id") or ""),
               str(get("custom") or ""),  # ours; a DLR's ``cid`` need not equal it
               mobile_of(get("mobile") or get("to") or ""), status_text, code, new, whole=whole)


_STATUSES: dict[tuple[str, str, str], tuple[str, str | None]] = {}


def status_of(channel: str, status_text: str, code: str) -> tuple[str, str | None]:
    """(code, our status) of a report's status and code: the code named by the status when
    the report has none (the documented DLR item has a status and no code: a status of one
    code names it). Remembered: a drain reads thousands of reports of a few statuses."""
    key = (channel, status_text, code)
    found = _STATUSES.get(key)
    if found is None:
        if not code:
            code = _code_of_status().get(status_text.upper(), "")
        found = code, dlr_codes.message_status_for(status_text, code, channel=channel)
        if len(_STATUSES) < 1000:  # statuses come from outside: a bounded memory
            _STATUSES[key] = found
    return found
