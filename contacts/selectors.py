"""Read queries: a segment's audience as ONE queryset, live counts, export rows."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date

from django.apps import apps
from django.db.models import Exists, OuterRef, Q, QuerySet

from contacts.models import Contact, Segment, TagOperator

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


def _has_tag(tag_ids) -> Exists:
    through = Contact.tags.through
    return Exists(through.objects.filter(contact_id=OuterRef("pk"), tag_id__in=list(tag_ids)))


def _tags_q(tag_ids: list[int], operator: str) -> Q:
    if operator == TagOperator.ALL:
        q = Q()
        for tag_id in tag_ids:
            q &= Q(_has_tag([tag_id]))
        return q
    return Q(_has_tag(tag_ids))


def audience(
    *,
    positive_tag_ids: Iterable[int] = (),
    positive_operator: str = TagOperator.ANY,
    negative_tag_ids: Iterable[int] = (),
    negative_operator: str = TagOperator.ANY,
    conditions: list[dict] | None = None,
) -> QuerySet[Contact]:
    """The contacts matching the rules, as one query (no Python-side filtering).

    No positive tag means "every contact"; negative tags exclude contacts having any (or
    all) of them; conditions are ANDed.
    """
    q = Q()
    positive = sorted(set(positive_tag_ids))
    negative = sorted(set(negative_tag_ids))
    if positive:
        q &= _tags_q(positive, positive_operator)
    if negative:
        q &= ~_tags_q(negative, negative_operator)
    for condition in validate_conditions(conditions or []):
        q &= condition_q(condition)
    return Contact.objects.filter(q)


def segment_contacts(segment: Segment) -> QuerySet[Contact]:
    return audience(
        positive_tag_ids=segment.positive_tags.values_list("pk", flat=True),
        positive_operator=segment.positive_tags_operator,
        negative_tag_ids=segment.negative_tags.values_list("pk", flat=True),
        negative_operator=segment.negative_tags_operator,
        conditions=segment.conditions,
    )


def unsubscriber_model():
    try:
        return apps.get_model("messaging", "Unsubscriber")
    except LookupError:  # messaging not migrated in yet
        return None


def unsubscribed_q() -> Q:
    """Contacts with any opt-out recorded for their number."""
    model = unsubscriber_model()
    if model is None:
        return Q(pk__in=[])
    return Q(Exists(model.objects.filter(number=OuterRef("phone"))))


def audience_counts(queryset: QuerySet[Contact]) -> dict[str, int]:
    total = queryset.count()
    unsubscribed = queryset.filter(unsubscribed_q()).count() if total else 0
    return {"total": total, "unsubscribed": unsubscribed, "reachable": total - unsubscribed}


EXPORT_FIELDS = (
    "phone", "first_name", "last_name", "email", "company", "postal_code", "birth_date",
    "gender", "country", "tags", "attributes",
)  # fmt: skip


def export_rows(queryset: QuerySet[Contact], *, batch: int = 2000) -> Iterator[list]:
    """Rows for a CSV export (header first), streamed in primary-key batches."""
    import json

    through = Contact.tags.through
    yield list(EXPORT_FIELDS)
    queryset = queryset.order_by("pk")
    last = 0
    while True:
        page = list(
            queryset.filter(pk__gt=last).values_list(
                "pk", "phone", "first_name", "last_name", "email", "company", "postal_code",
                "birth_date", "gender", "country", "attributes",
            )[:batch]
        )  # fmt: skip
        if not page:
            return
        last = page[-1][0]
        tags: dict[int, list[str]] = {}
        for contact_id, name in through.objects.filter(
            contact_id__in=[row[0] for row in page]
        ).values_list("contact_id", "tag__name"):
            tags.setdefault(contact_id, []).append(name)
        for pk, *values, attributes in page:
            birth = values[6]
            values[6] = birth.isoformat() if birth else ""
            yield [
                *values,
                ";".join(sorted(tags.get(pk, []))),
                json.dumps(attributes, ensure_ascii=False) if attributes else "",
            ]
