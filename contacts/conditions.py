"""Segment conditions: what a condition may say, its validation, and its query.

Plain data and ``Q`` objects, no model: the Segment model validates with it (``clean``), the
selectors build audiences with it, the forms describe it to staff.
"""

from __future__ import annotations

import re
from datetime import date

from django.db.models import Q

# field -> (lookup path, allowed ops, value kind). "attribute" needs a "key" too.
CONDITION_FIELDS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "country": ("country", ("eq", "ne", "in"), "country"),
    "city": ("attributes__city", ("eq", "ne", "in", "contains"), "text"),
    "birth_date": ("birth_date", ("eq", "gte", "lte", "between", "set", "unset"), "date"),
    "postal_code": ("postal_code", ("eq", "ne", "in", "startswith"), "text"),
    "gender": ("gender", ("eq", "ne", "set", "unset"), "text"),
    "email_domain": ("email", ("eq", "ne", "in"), "domain"),
    "company": ("company", ("eq", "ne", "contains", "set", "unset"), "text"),
    "first_name": ("first_name", ("eq", "ne", "contains", "startswith"), "text"),
    "last_name": ("last_name", ("eq", "ne", "contains", "startswith"), "text"),
    "attribute": ("attributes", ("eq", "ne", "in", "contains", "set", "unset"), "text"),
}
OPS = {
    "eq": "equals",
    "ne": "differs from",
    "in": "is one of",
    "contains": "contains",
    "startswith": "starts with",
    "gte": "on or after",
    "lte": "on or before",
    "between": "between",
    "set": "is set",
    "unset": "is empty",
}
_KEY_RE = re.compile(r"^\w{1,64}$")


def _listify(value) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    return [str(v).strip() for v in value if str(v).strip()]


def validate_conditions(conditions) -> list[dict]:
    """Checks and normalises segment conditions; raises ValueError with the reason."""
    if not conditions:
        return []
    if not isinstance(conditions, list):
        raise ValueError("Conditions must be a list.")
    cleaned = []
    for number, condition in enumerate(conditions, start=1):
        if not isinstance(condition, dict):
            raise ValueError(f"Condition {number} must be an object.")
        field, op = condition.get("field"), condition.get("op", "eq")
        if field not in CONDITION_FIELDS:
            raise ValueError(f"Condition {number}: unknown field {field!r}.")
        _, ops, kind = CONDITION_FIELDS[field]
        if op not in ops:
            raise ValueError(f"Condition {number}: {field} cannot use {op!r} (use {', '.join(ops)}).")
        item = {"field": field, "op": op}
        if field == "attribute":
            key = str(condition.get("key", "")).strip().lower()
            if not _KEY_RE.match(key):
                raise ValueError(f"Condition {number}: attribute key must be letters, digits or _.")
            item["key"] = key
        value = condition.get("value")
        if op in ("set", "unset"):
            pass
        elif op in ("in", "between"):
            values = _listify(value or [])
            if op == "between" and len(values) != 2:
                raise ValueError(f"Condition {number}: 'between' needs two dates.")
            if not values:
                raise ValueError(f"Condition {number}: give at least one value.")
            item["value"] = [_check_value(kind, v, number) for v in values]
        else:
            if value in (None, ""):
                raise ValueError(f"Condition {number}: give a value.")
            item["value"] = _check_value(kind, str(value).strip(), number)
        cleaned.append(item)
    return cleaned


def _check_value(kind: str, value: str, number: int) -> str:
    if kind == "country":
        value = value.upper()
        if not re.fullmatch(r"[A-Z]{2}", value):
            raise ValueError(f"Condition {number}: country must be a 2-letter code such as BE.")
    elif kind == "date":
        try:
            value = date.fromisoformat(value).isoformat()
        except ValueError:
            raise ValueError(f"Condition {number}: {value!r} is not a date (yyyy-mm-dd).") from None
    elif kind == "domain":
        value = value.lower().lstrip("@")
    return value


def condition_q(condition: dict) -> Q:
    field, op = condition["field"], condition["op"]
    path, _, kind = CONDITION_FIELDS[field]
    if field == "attribute":
        path = f"attributes__{condition['key']}"
    value = condition.get("value")
    if kind == "domain":
        values = value if isinstance(value, list) else [value]
        q = Q()
        for v in values:
            q |= Q(email__iendswith=f"@{v}")
        return ~q if op == "ne" else q
    text = kind == "text"
    if op == "eq":
        return Q(**{f"{path}__iexact" if text else path: value})
    if op == "ne":
        return ~Q(**{f"{path}__iexact" if text else path: value})
    if op == "in":
        if text:
            q = Q()
            for v in value:
                q |= Q(**{f"{path}__iexact": v})
            return q
        return Q(**{f"{path}__in": value})
    if op == "contains":
        return Q(**{f"{path}__icontains": value})
    if op == "startswith":
        return Q(**{f"{path}__istartswith": value})
    if op == "gte":
        return Q(**{f"{path}__gte": value})
    if op == "lte":
        return Q(**{f"{path}__lte": value})
    if op == "between":
        low, high = sorted(value)
        return Q(**{f"{path}__gte": low, f"{path}__lte": high})
    empty = Q(**{f"{path}__isnull": True})
    if kind != "date":
        empty |= Q(**{path: ""})
    return ~empty if op == "set" else empty
