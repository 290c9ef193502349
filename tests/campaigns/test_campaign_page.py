"""The campaign page's charts and wording: statuses stacked over time, outcomes by country and
operator (the DLR's location and provider) with documented reasons, costs with their currency."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from messaging.campaigns import reports
from messaging.campaigns.models import DeliveryReport, Message
from messaging.catalogue.models import AccountBalance

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(make_campaign):
    """Four messages launched ten minutes ago: two delivered in Belgium, one failed (404) in
    France, one still awaiting its DLR; each DLR carries location and provider."""
    launched = timezone.now() - timedelta(minutes=10)
    campaign = make_campaign()
    type(campaign).objects.filter(pk=campaign.pk).update(state="sent", launched_at=launched,
                                                          estimated_cost=Decimal("0.28"))
    campaign.refresh_from_db()
    rows = [("+32470000001", "delivered", "DELIVRD", "", "Belgium", "Proximus", 2),
            ("+32470000002", "delivered", "DELIVRD", "", "Belgium", "Orange", 3),
            ("+33612345678", "failed", "UNDELIV", "404", "France", "SFR", 4),
            ("+33612345679", "submitted", "", "", "France", "SFR", None)]
    for n, (number, status, bics_status, code, location, provider, minutes) in enumerate(rows):
        message = Message.objects.create(
            campaign=campaign, number=number, custom_id=f"c-{n}", status=status, bics_status=bics_status,
            error_code=code, submitted_at=launched + timedelta(minutes=1), price=Decimal("0.05") if minutes else None,
            status_at=launched + timedelta(minutes=minutes) if minutes else None,
            delivered_at=launched + timedelta(minutes=minutes) if status == "delivered" else None)
        DeliveryReport.objects.create(message=message, status=bics_status or "SUBMITTED", code=code,
                                      raw={"location": location, "provider": provider})
    return campaign


def test_statuses_over_time_are_cumulative_and_stacked(sent):
    timeline = reports.status_timeline(sent)
    series = {s["status"]: s["data"] for s in timeline["series"]}
    assert len(timeline["labels"]) == len(series["delivered"]) >= 10
    assert series["delivered"][0] == 0 and series["delivered"][-1] == 2
    assert series["failed"][-1] == 1 and series["submitted"][-1] == 1
    # every point adds up to the whole audience (a stacked chart)
    for i in range(len(timeline["labels"])):
        assert sum(data[i] for data in series.values()) == 4


def test_outcomes_by_country_and_operator_with_the_documented_reason(sent):
    by_country = {row["name"]: row for row in reports.outcomes_by(sent, "location")}
    assert (by_country["Belgium"]["delivered"], by_country["Belgium"]["rate"]) == (2, 100.0)
    france = by_country["France"]
    assert (france["failed"], france["pending"], france["rate"]) == (1, 1, 0.0)
    assert france["reason"].startswith("404 UNDELIV") and len(france["reason"]) > len("404 UNDELIV: ")
    by_operator = {row["name"] for row in reports.outcomes_by(sent, "provider")}
    assert by_operator == {"Proximus", "Orange", "SFR"}


def test_campaign_page_shows_costs_with_currency_and_no_launch_once_sent(admin_client, sent):
    AccountBalance.objects.create(balance=Decimal("10"), currency="EUR", fetched_at=timezone.now())
    body = admin_client.get(reverse("campaigns:detail", args=[sent.pk])).content.decode()
    assert "0.1500</span> EUR" in body and "0.2800 EUR" in body  # charged (3 DLR credits) and estimated
    assert "Estimated at launch" in body and "credits BICS reports" in body and "Charged (EUR)" in body
    assert reverse("campaigns:preview", args=[sent.pk]) not in body
    assert "Proximus" in body and "status-chart" in body
    data = admin_client.get(reverse("campaigns:progress", args=[sent.pk])).json()
    assert data["currency"] == "EUR" and data["timeline"]["labels"]


def test_message_filter_is_one_status_or_every_failure(admin_client, sent):
    url = reverse("campaigns:detail", args=[sent.pk])
    body = admin_client.get(url, {"status": "failures"}).content.decode()
    assert "+33612345678" in body or "+33 6" in body
    assert "32470000001" not in body.split('id="messages-title"')[1]
    assert '<select name="status"' in body and "multiple" not in body.split('<select name="status"')[1].split(">")[0]
