import csv
import io
import json

import pytest
from django.urls import reverse

from contacts.conditions import validate_conditions
from contacts.models import Contact, Segment, Tag, TagOperator
from contacts.selectors import audience, audience_counts, segment_contacts
from contacts.services.exports import escape_cell

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    tags = {name: Tag.objects.create(name=name) for name in ("vip", "news", "churned")}

    def make(phone, country, names, **fields):
        contact = Contact.objects.create(phone=phone, country=country, **fields)
        contact.tags.set([tags[n] for n in names])
        return contact

    return tags, {
        "ann": make("+32470000001", "BE", ["vip", "news"], attributes={"city": "Gent"}, birth_date="1985-05-01"),
        "bob": make("+32470000002", "BE", ["vip"], attributes={"city": "Antwerp"}, birth_date="1972-01-01"),
        "cleo": make("+33612345678", "FR", ["news"], attributes={"city": "Paris"}),
        "dan": make("+31612345678", "NL", ["news", "churned"], birth_date="1989-12-31"),
        "eve": make("+447700900123", "GB", []),
    }


def names(queryset, people):
    by_pk = {c.pk: name for name, c in people.items()}
    return sorted(by_pk[pk] for pk in queryset.values_list("pk", flat=True))


def test_positive_any(people):
    tags, p = people
    qs = audience(positive_tag_ids=[tags["vip"].pk, tags["news"].pk])
    assert names(qs, p) == ["ann", "bob", "cleo", "dan"]


def test_positive_all(people):
    tags, p = people
    qs = audience(positive_tag_ids=[tags["vip"].pk, tags["news"].pk], positive_operator=TagOperator.ALL)
    assert names(qs, p) == ["ann"]


def test_negative_any_and_all(people):
    tags, p = people
    qs = audience(positive_tag_ids=[tags["news"].pk], negative_tag_ids=[tags["churned"].pk])
    assert names(qs, p) == ["ann", "cleo"]
    qs = audience(negative_tag_ids=[tags["vip"].pk, tags["news"].pk])
    assert names(qs, p) == ["eve"]
    qs = audience(negative_tag_ids=[tags["vip"].pk, tags["news"].pk], negative_operator=TagOperator.ALL)
    assert names(qs, p) == ["bob", "cleo", "dan", "eve"]


def test_no_rules_means_every_contact(people):
    assert audience().count() == 5


def test_local_conditions_country_city_birth_dates(people):
    tags, p = people
    qs = audience(conditions=[{"field": "country", "op": "in", "value": ["BE", "nl"]}])
    assert names(qs, p) == ["ann", "bob", "dan"]
    qs = audience(conditions=[{"field": "city", "op": "eq", "value": "gent"}])
    assert names(qs, p) == ["ann"]
    qs = audience(conditions=[{"field": "birth_date", "op": "between", "value": ["1980-01-01", "1989-12-31"]}])
    assert names(qs, p) == ["ann", "dan"]
    qs = audience(
        positive_tag_ids=[tags["vip"].pk],
        conditions=[{"field": "attribute", "key": "city", "op": "ne", "value": "Gent"}],
    )
    assert names(qs, p) == ["bob"]
    qs = audience(conditions=[{"field": "birth_date", "op": "unset"}])
    assert names(qs, p) == ["cleo", "eve"]


def test_segment_is_one_query(people, django_assert_num_queries):
    tags, _ = people
    segment = Segment.objects.create(name="s", positive_tags_operator="all", conditions=[{"field": "country", "op": "eq", "value": "BE"}])
    segment.positive_tags.set([tags["vip"], tags["news"]])
    segment.negative_tags.set([tags["churned"]])
    qs = segment_contacts(segment)
    with django_assert_num_queries(1):
        assert qs.count() == 1


@pytest.mark.parametrize(
    "conditions, message",
    [
        ([{"field": "shoe_size", "op": "eq", "value": "9"}], "unknown field"),
        ([{"field": "country", "op": "eq", "value": "Belgium"}], "2-letter"),
        ([{"field": "birth_date", "op": "between", "value": ["1980-01-01"]}], "two dates"),
        ([{"field": "birth_date", "op": "gte", "value": "yesterday"}], "not a date"),
        ([{"field": "attribute", "key": "a b", "op": "eq", "value": "x"}], "attribute key"),
        ([{"field": "city", "op": "gte", "value": "x"}], "cannot use"),
    ],
)
def test_bad_conditions_are_refused(conditions, message):
    with pytest.raises(ValueError, match=message):
        validate_conditions(conditions)


def test_local_only_is_derived_from_rules():
    plain = Segment.objects.create(name="plain")
    assert not plain.local_only
    all_op = Segment.objects.create(name="all", positive_tags_operator="all")
    assert all_op.local_only and all_op.local_only_reasons == ["positive tags use 'all'"]
    cond = Segment.objects.create(name="cond", conditions=[{"field": "country", "op": "eq", "value": "BE"}])
    assert cond.local_only


def test_counts_include_unsubscribed(people):
    from contacts.selectors import unsubscriber_model

    Unsubscriber = unsubscriber_model()
    if Unsubscriber is None:
        pytest.skip("messaging.Unsubscriber not available")
    _, p = people
    Unsubscriber.objects.create(number=p["ann"].phone, channel="sms", type="all")
    assert audience_counts(audience()) == {"total": 5, "unsubscribed": 1, "reachable": 4}


def test_live_preview_endpoint_counts_unsaved_rules(admin_client, people):
    tags, _ = people
    response = admin_client.post(
        reverse("contacts:segment_preview"),
        {
            "positive_tags": [tags["vip"].pk, tags["news"].pk],
            "positive_tags_operator": "all",
            "negative_tags_operator": "any",
            "conditions": "[]",
        },
    )
    assert response.status_code == 200
    data = response.json()
    assert (data["total"], data["local_only_reasons"]) == (1, ["positive tags use 'all'"])
    bad = admin_client.post(reverse("contacts:segment_preview"), {"conditions": '[{"field": "x"}]'})
    assert bad.status_code == 400 and "unknown field" in bad.json()["error"]


def test_live_preview_needs_staff(client):
    response = client.post(reverse("contacts:segment_preview"), {})
    assert response.status_code == 302


@pytest.mark.parametrize(
    "value, expected",
    [("=1+2", "'=1+2"), ("-Bob", "'-Bob"), ("+32470123456", "'+32470123456"), ("@x", "'@x"),
     ("\tx", "'\tx"), ("Anna", "Anna"), ("", ""), (None, "")],
)  # fmt: skip
def test_escape_cell(value, expected):
    assert escape_cell(value) == expected


def test_segment_export_escapes_formula_cells(admin_client):
    tag = Tag.objects.create(name="news")
    contact = Contact.objects.create(
        phone="+32470000001", country="BE", first_name="-Bob", last_name='=HYPERLINK("http://x")',
        email="bob@example.com", attributes={"note": "=cmd"},
    )  # fmt: skip
    contact.tags.add(tag, Tag.objects.create(name="@home"))
    segment = Segment.objects.create(name="News")
    segment.positive_tags.add(tag)
    response = admin_client.get(reverse("contacts:segment_export", args=[segment.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="news.csv"'
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    header, row = rows[0], rows[1]
    record = dict(zip(header, row, strict=True))
    assert record["phone"] == "'+32470000001"
    assert record["first_name"] == "'-Bob"
    assert record["last_name"] == "'=HYPERLINK(\"http://x\")"
    assert record["tags"] == "'@home;news"
    assert json.loads(record["attributes"]) == {"note": "=cmd"}
    for cell in row:
        assert not cell.startswith(("=", "+", "-", "@"))
