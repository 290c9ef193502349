"""Transport details of the client: token holder, log redaction, JWT expiry, uploads read once."""

from __future__ import annotations

import base64
import json as jsonlib
import logging
import os
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from bics.errors import redact


class _Secret:
    """Holds the token; its repr/str never show it."""

    __slots__ = ("value",)

    def __init__(self, value: str | None) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "'***'" if self.value else "None"

    __str__ = __repr__


class _RedactFilter(logging.Filter):
    """Removes access_token=… and Bearer … from records of urllib3/requests loggers."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - never break logging
            return True
        clean = redact(text)
        if clean != text:
            record.msg, record.args = clean, ()
        return True


_FILTER = _RedactFilter()
for _name in ("urllib3.connectionpool", "urllib3", "requests"):
    _lg = logging.getLogger(_name)
    if _FILTER not in _lg.filters:
        _lg.addFilter(_FILTER)


def jwt_expiry(token: str | None) -> datetime | None:
    """The ``exp`` of a JWT as an aware UTC datetime, decoded without verification."""
    if not token or token.count(".") != 2:  # noqa: PLR2004
        return None
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        claims = jsonlib.loads(base64.urlsafe_b64decode(payload.encode()))
        exp = claims.get("exp")
        return datetime.fromtimestamp(float(exp), tz=UTC) if exp is not None else None
    except (ValueError, TypeError, AttributeError, OverflowError):
        return None


def _materialise(value: Any) -> Any:
    """A requests ``files`` entry with file objects read into bytes."""
    if hasattr(value, "read"):
        return (os.path.basename(getattr(value, "name", "") or "upload"), value.read())  # noqa: PTH119
    if isinstance(value, tuple) and len(value) > 1 and hasattr(value[1], "read"):
        return (value[0], value[1].read(), *value[2:])
    return value


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)
