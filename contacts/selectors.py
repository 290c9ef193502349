"""Read queries: a segment's audience as ONE queryset, live counts, export rows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.apps import apps
from django.db.models import Exists, OuterRef, Q, QuerySet

from contacts.conditions import condition_q, validate_conditions
from contacts.models import Contact, Segment, TagOperator


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
