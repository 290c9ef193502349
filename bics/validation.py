"""Request validation against bics.shapes: the client's fail-fast check before anything is
sent, and the sandbox's 422 answers. ``validate_request(route, body_or_query)``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from bics.routes import ROUTES
from bics.shapes import DATE_FORMAT, DATETIME_FORMAT, MB, Field, shape

__all__ = ["get_path", "validate_request"]


# ----------------------------------------------------------------- nested access
_MISSING = object()


def get_path(data: Any, dotted: str) -> list[tuple[str, Any]]:
    """Values at a dotted path; "[]" walks every list item. Returns (label, value) pairs.

    A key that itself contains dots (``datetime[r.created_at]``) is matched whole first.
    """
    if isinstance(data, Mapping) and dotted in data:
        return [(dotted, data[dotted])]
    results: list[tuple[str, Any]] = [("", data)]
    for part in dotted.split("."):
        walk = part.endswith("[]")
        key = part[:-2] if walk else part
        nxt: list[tuple[str, Any]] = []
        for label, value in results:
            if not isinstance(value, Mapping) or key not in value:
                continue
            child = value[key]
            lab = f"{label}.{key}" if label else key
            if walk:
                if isinstance(child, list):
                    nxt.extend((f"{lab}[{i}]", item) for i, item in enumerate(child))
            else:
                nxt.append((lab, child))
        results = nxt
    return results


# ----------------------------------------------------------------- validation
_DIGITS = re.compile(r"^[1-9]\d{6,14}$")
_PLUS = re.compile(r"^\+[1-9]\d{6,14}$")
_URL = re.compile(r"^https?://[^\s/$.?#].[^\s]*$", re.IGNORECASE)


def _is_number_like(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return False
        return True
    return False


def _file_size_and_name(value: Any) -> tuple[int | None, str | None]:
    name = None
    content = value
    if isinstance(value, tuple | list) and value:
        name = value[0] if isinstance(value[0], str) else None
        content = value[1] if len(value) > 1 else None
    elif hasattr(value, "name") and isinstance(value.name, str):
        name = value.name
    if isinstance(content, bytes | bytearray):
        return len(content), name
    if isinstance(content, str):
        return len(content.encode()), name
    return None, name


def _check_number(value: Any, notation: str) -> str | None:
    if not isinstance(value, str | int) or isinstance(value, bool):
        return "Enter a phone number."
    text = str(value)
    if notation == "digits" and not _DIGITS.match(text):
        return "Enter the number in E.164 without '+' (digits only, country code first)."
    if notation == "plus" and not _PLUS.match(text):
        return "Enter the number in E.164 with a leading '+'."
    return None


def _check_text(f: Field, value: Any, now: datetime) -> list[str]:
    """string, url, datetime and date fields."""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return ["Enter a text value."]
    text = str(value)
    if not f.allow_blank and not text.strip():
        return ["This field may not be blank."]
    errors: list[str] = []
    if f.max_length is not None and len(text) > f.max_length:
        errors.append(f"Ensure this field has no more than {f.max_length} characters.")
    if f.min_length is not None and text and len(text) < f.min_length:
        errors.append(f"Ensure this field has at least {f.min_length} characters.")
    if f.no_spaces and " " in text:
        errors.append("Spaces are not allowed.")
    bad = sorted({c for c in text if c in f.forbid})
    if bad:
        errors.append(f"Characters not allowed: {' '.join(bad)}")
    if f.type == "url" and not _URL.match(text):
        errors.append("Enter a valid http(s) URL.")
    if f.type == "datetime" and text:
        errors.extend(_check_datetime(f, text, now))
    if f.type == "date" and text:
        try:
            date.fromisoformat(text)
            datetime.strptime(text, DATE_FORMAT)
        except ValueError:
            errors.append("Enter a date as yyyy-mm-dd.")
    return errors


def _check_datetime(f: Field, text: str, now: datetime) -> list[str]:
    try:
        when = datetime.strptime(text, DATETIME_FORMAT)
    except ValueError:
        return ["Enter a date and time as yyyy-mm-dd hh:mm:ss."]
    if f.max_days_ahead is not None and when > now + timedelta(days=f.max_days_ahead):
        return [f"Must not be more than {f.max_days_ahead} days ahead."]
    return []


def _check_array(f: Field, value: Any, notation: str) -> list[str]:
    items = [value] if f.number and isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        return ["Enter a list."]
    if f.min_items is not None and len(items) < f.min_items:
        return [f"Ensure this list has at least {f.min_items} item(s)."]
    errors: list[str] = []
    if f.items == "string":
        if any(not isinstance(i, str | int) or isinstance(i, bool) for i in items):
            errors.append("Every item must be a text value.")
    elif f.items == "object" and any(not isinstance(i, Mapping) for i in items):
        errors.append("Every item must be an object.")
    if f.number and notation != "none":
        for i, item in enumerate(items):
            msg = _check_number(item, notation)
            if msg:
                errors.append(f"Item {i}: {msg}")
    return errors


def _check_file(f: Field, value: Any) -> list[str]:
    size, name = _file_size_and_name(value)
    errors: list[str] = []
    if f.max_bytes is not None and size is not None and size > f.max_bytes:
        errors.append(f"The file may not be larger than {f.max_bytes // MB} MB.")
    if f.extensions and name and "." in name:
        ext = name.rsplit(".", 1)[1].lower()
        if ext not in f.extensions:
            errors.append(f"Supported file types: {', '.join(f.extensions)}.")
    return errors


def _check_scalar(f: Field, value: Any) -> list[str]:
    """number, boolean and object fields."""
    if f.type == "number":
        if not _is_number_like(value):
            return ["Enter a number."]
        if f.maximum is not None and float(value) > f.maximum:
            return [f"Ensure this value is less than or equal to {f.maximum:g}."]
    elif f.type == "boolean":
        if not isinstance(value, bool) and value not in (0, 1, "0", "1", "true", "false"):
            return ["Enter true or false."]
    elif f.type == "object" and not isinstance(value, Mapping):
        return ["Enter an object."]
    return []


def _check_value(f: Field, value: Any, notation: str, now: datetime) -> list[str]:
    if value is None:
        return ["This field may not be null."]
    if f.type == "array":
        return _check_array(f, value, notation)
    if f.type == "file":
        return _check_file(f, value)
    text_like = f.type in ("string", "url", "datetime", "date")
    errors = _check_text(f, value, now) if text_like else _check_scalar(f, value)
    if errors and errors[0] in _TYPE_ERRORS:
        return errors
    if f.enum is not None and str(value) not in f.enum and not (
        f.allow_blank and value == "" and not f.required
    ):
        errors.append(f"Select one of: {', '.join(f.enum)}.")
    if (f.number and notation != "none") and not errors:
        msg = _check_number(value, notation)
        if msg:
            errors.append(msg)
    return errors


# A wrong type or a blank answers alone (no enum or number message on top).
_TYPE_ERRORS = ("Enter a text value.", "This field may not be blank.", "Enter a number.",
                "Enter true or false.", "Enter an object.")


def validate_request(route_name: str, body_or_query: Mapping[str, Any] | None, *,
                     now: datetime | None = None,
                     notation: str | None = None) -> dict[str, list[str]]:
    """Field errors for a request body (or query, or multipart form+files) of a route.

    Returns ``{}`` when valid. Numbers are checked in the route's *wire* notation, so call it
    after the client's notation conversion. Unknown fields are allowed (the documentation's
    nested objects are collapsed). ``now`` (naive, in BICS time) bounds scheduled times.
    ``notation`` is the route's as deployed (``BICS_ROUTES`` may override ``numbers``); the
    static table's when not given.
    """
    spec = shape(route_name)
    notation = notation or ROUTES[route_name].numbers
    data = body_or_query or {}
    now = now or datetime.now()  # noqa: DTZ005 - BICS timestamps carry no zone
    errors: dict[str, list[str]] = {}
    if not isinstance(data, Mapping):
        return {"non_field_errors": ["Expected a JSON object."]}
    for f in spec.request:
        found = get_path(data, f.name)
        if not found:
            if f.required and ("." not in f.name and "[]" not in f.name):
                errors.setdefault(f.name, []).append("This field is required.")
            continue
        for label, value in found:
            fld = f
            if f.number_when:
                sibling, expected = f.number_when
                parent = data
                if isinstance(parent, Mapping) and parent.get(sibling) == expected:
                    fld = replace(f, number=True)
            msgs = _check_value(fld, value, notation, now)
            if msgs:
                errors.setdefault(label, []).extend(msgs)
    for group in spec.one_of:
        if not any(data.get(k) not in (None, "") for k in group):
            errors.setdefault(group[0], []).append(
                f"One of {', '.join(group)} is required.")
    for group in spec.exactly_one_of:
        given = [k for k in group if data.get(k) not in (None, "")]
        if not given:
            errors.setdefault(group[0], []).append(
                f"One of {', '.join(group)} is required.")
        elif len(given) > 1:
            errors.setdefault(given[1], []).append(
                f"Send only one of {', '.join(group)} (got {', '.join(given)}).")
    return errors
