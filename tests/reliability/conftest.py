"""Fixtures of the fault tests: the campaign builders of tests/campaigns, a bulk audience."""

from __future__ import annotations

import os

import pytest

from tests.campaigns.conftest import (  # noqa: F401  (fixtures re-exported)
    Sandbox,
    make_campaign,
    make_contacts,
    make_template,
    owner,
    sandbox,
    sender,
)

# The default run uses a small audience; `make bench` (or RELIABILITY_RECIPIENTS=100000) the full one.
RECIPIENTS = int(os.environ.get("RELIABILITY_RECIPIENTS", "2000"))


@pytest.fixture
def audience(db):
    """``n`` contacts tagged ``tag``, bulk-written (numbers +3248xxxxxxx)."""
    from contacts.models import Contact, Tag

    def make(n: int, tag: str = "audience", start: int = 1) -> list[str]:
        tag_obj, _ = Tag.objects.get_or_create(name=tag)
        phones = [f"+3248{i:07d}" for i in range(start, start + n)]
        Contact.objects.bulk_create(
            [Contact(phone=p, identity=p[1:], country="BE", first_name=f"Bo{i}") for i, p in enumerate(phones)],
            batch_size=2000)
        ids = Contact.objects.filter(phone__in=phones).values_list("pk", flat=True) if n <= 900 else \
            Contact.objects.filter(phone__startswith="+3248").values_list("pk", flat=True)
        through = Contact.tags.through
        through.objects.bulk_create([through(contact_id=pk, tag_id=tag_obj.pk) for pk in ids], batch_size=2000,
                                    ignore_conflicts=True)
        return phones

    return make


def exactly_once(box: Sandbox, customs: set[str]) -> tuple[list, set, set]:
    """(duplicated pairs, customs missing at the sandbox, customs the sandbox has that we never made)."""
    data = box.sent()
    dup = [p for p in data["pairs"] if p["count"] != 1] + list(data["duplicates"])
    seen = {item["custom"] for item in data["items"]}
    return dup, customs - seen, seen - customs
