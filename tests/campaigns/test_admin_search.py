"""The Message and DLR changelists: exact, index-friendly search and filters without scans."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from messaging.campaigns.models import DeliveryReport, Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def messages(make_campaign):
    campaign = make_campaign()
    Message.objects.create(campaign=campaign, number="+32470123456", custom_id="c-1", channel="sms")
    Message.objects.create(campaign=campaign, number="+32470999999", custom_id="c-2", channel="sms")
    return campaign


def test_search_by_number_in_any_notation_finds_the_message(admin_client, messages):
    for term in ("+32470123456", "+32 470 12 34 56", "0032470123456"):
        page = admin_client.get("/admin/campaigns/message/", {"q": term}).content.decode()
        assert "c-1" in page or "+32470123456" in page, term
        assert "+32470999999" not in page


def test_search_by_custom_id_is_exact(admin_client, messages):
    page = admin_client.get("/admin/campaigns/message/", {"q": "c-2"}).content.decode()
    assert "+32470999999" in page and "+32470123456" not in page
    assert "0 messages" in admin_client.get("/admin/campaigns/message/", {"q": "c-"}).content.decode()


def test_channel_filter_does_not_scan_for_distinct_values(admin_client, messages):
    with CaptureQueriesContext(connection) as queries:
        assert admin_client.get("/admin/campaigns/message/", {"channel": "sms"}).status_code == 200
    assert not any("DISTINCT" in q["sql"].upper() and "CHANNEL" in q["sql"].upper() for q in queries)


def test_dlr_search_finds_digits_only_mobile(admin_client, db):
    DeliveryReport.objects.create(channel="sms", source="poll", mobile="32470123456", status="DELIVERED", cid="b-1")
    page = admin_client.get("/admin/campaigns/deliveryreport/", {"q": "+32470123456"}).content.decode()
    assert "b-1" in page
