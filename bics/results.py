"""What product modules build from BICS answers: payload helpers and result dataclasses.

Re-exported by ``bics.client`` (``from bics.client import SendResult, build, …``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from dataclasses import fields as dc_fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bics.numbers import to_e164

if TYPE_CHECKING:
    from bics.client import BicsResponse


def compact(**values: Any) -> dict[str, Any]:
    """A payload without the None values (absent optional fields are not sent)."""
    return {k: v for k, v in values.items() if v is not None}


def filters(**values: Any) -> dict[str, Any]:
    """``filter[name]=…`` query parameters from keyword arguments, None dropped."""
    return {f"filter[{k}]": v for k, v in values.items() if v is not None}


def build(cls, raw: Any):
    """Instantiate a result dataclass from a BICS object; unknown keys stay in ``raw``.

    ``id``-like fields are normalised to strings (the file types every id as a string).
    """
    raw = raw if isinstance(raw, dict) else ({} if raw in (None, [], "") else {"value": raw})
    names = {f.name for f in dc_fields(cls)} - {"raw"}
    kwargs = {}
    for name in names:
        if name in raw:
            value = raw[name]
            if (name == "id" or name.endswith("_id")) and isinstance(value, int):
                value = str(value)
            kwargs[name] = value
    return cls(**kwargs, raw=raw)


def first_object(data: Any) -> Any:
    """``data`` as one object: the first item when BICS answers with a list."""
    if isinstance(data, list):
        return data[0] if data else {}
    return data


def fmt_time(value: datetime | str | None) -> str | None:
    """BICS datetimes: 'yyyy-mm-dd hh:mm:ss', naive, in BICS time (caller converts zones)."""
    if value is None or isinstance(value, str):
        return value
    return value.strftime("%Y-%m-%d %H:%M:%S")


def upload(file: Any, filename: str | None = None) -> tuple[str, Any]:
    """A requests ``files`` entry from bytes, a path-like, or an open file."""
    if isinstance(file, bytes | bytearray):
        return (filename or "upload.csv", bytes(file))
    if isinstance(file, str | os.PathLike):
        path = os.fspath(file)
        with open(path, "rb") as fh:  # noqa: PTH123
            return (filename or os.path.basename(path), fh.read())  # noqa: PTH119
    name = filename or os.path.basename(getattr(file, "name", "") or "upload.csv")  # noqa: PTH119
    return (name, file)


@dataclass
class Unsubscriber:
    """An opt-out entry (SMS, voice/Engage, Viber, WhatsApp suppression lists)."""

    id: str | None = None
    receiver: str | None = None  # E.164 with '+', as we store it
    type: str | None = None
    value: str | None = None
    iso: str | None = None
    created_at: str | None = None
    raw: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.receiver = to_e164(self.receiver)


@dataclass
class Price:
    iso: str | None = None
    country: str | None = None
    service: str | None = None
    subservice: str | None = None
    price: Any = None
    currency: str | None = None
    status: Any = None
    raw: dict = field(default_factory=dict, repr=False)


@dataclass
class Accepted:
    """An asynchronous acceptance (imports): BICS only says it took the request."""

    message: str = ""
    data: Any = None
    raw: dict = field(default_factory=dict, repr=False)


@dataclass
class SendResult:
    """Answer to a send: ``group_id`` (SMS), the per-recipient items and their ids."""

    message: str = ""
    group_id: str | None = None
    items: list = field(default_factory=list)
    ids: list = field(default_factory=list)
    raw: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_response(cls, resp: BicsResponse) -> SendResult:
        items = resp.data if isinstance(resp.data, list) else (
            [resp.data] if isinstance(resp.data, dict) and resp.data else [])
        ids = [str(i["id"]) for i in items if isinstance(i, dict) and i.get("id") is not None]
        group = resp.raw.get("group_id")
        return cls(message=resp.message, group_id=str(group) if group else None, items=items,
                   ids=ids, raw=resp.raw)


@dataclass
class Dlr:
    """A delivery report item (pull or webhook); fields from the Help DLR sample (Webhook Verification)."""

    id: str | None = None
    mobile: str | None = None  # E.164 with '+'
    status: str | None = None
    credits: Any = None
    units: Any = None
    deliv_time: str | None = None
    sent_time: str | None = None
    submit_time: str | None = None
    cid: str | None = None
    custom: str | None = None
    custom1: str | None = None
    custom2: str | None = None
    location: str | None = None
    region: str | None = None
    provider: str | None = None
    location_code: str | None = None
    region_code: str | None = None
    provider_code: str | None = None
    raw: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.mobile = to_e164(self.mobile)
