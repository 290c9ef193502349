"""The staff dashboard at /: balance warning, volumes, rate, campaigns, templates, failures."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from core.ops import selectors
from messaging.campaigns.models import Campaign, Message
from messaging.catalogue.models import AccountBalance, Template

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get("/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_low_balance_shows_a_warning(admin_client, settings):
    settings.BALANCE_WARNING_THRESHOLD = 100
    AccountBalance.objects.create(balance=Decimal("12.5"), currency="EUR", fetched_at=timezone.now())
    body = admin_client.get("/").content.decode()
    assert "12.5" in body and 'id="balance-warning"' in body and "Low balance" in body


def test_balance_above_the_threshold_shows_no_warning(admin_client, settings):
    settings.BALANCE_WARNING_THRESHOLD = 10
    AccountBalance.objects.create(balance=Decimal("500"), currency="EUR", fetched_at=timezone.now())
    assert 'id="balance-warning"' not in admin_client.get("/").content.decode()


def _message(n, status="delivered", channel="sms", campaign=None, **kw):
    return Message.objects.create(
        custom_id=f"m{n}", number=f"+3247000{n:04d}", status=status, channel=channel, campaign=campaign, **kw
    )


def test_volumes_by_channel_and_delivery_rate():
    for n, (status, channel) in enumerate(
        [
            ("delivered", "sms"),
            ("delivered", "sms"),
            ("failed", "sms"),
            ("read", "whatsapp"),
            ("submitted", "viber"),
        ]
    ):
        _message(n, status, channel)
    data = selectors.volumes()
    by = {r["channel"]: r for r in data["rows"]}
    assert by["sms"]["today"] == 3 and by["whatsapp"]["month"] == 1 and by["viber"]["today"] == 1
    assert data["today_total"] == 5 and data["delivery_rate"] == 75.0  # 3 of 4 final
    assert by["sms"]["rate"] == pytest.approx(66.7)


def test_daily_series_has_fourteen_days_and_counts_today():
    _message(1)
    chart = selectors.daily_series()
    assert len(chart["labels"]) == 14
    sms = next(d for d in chart["datasets"] if d["channel"] == "sms")
    assert sms["data"][-1] == 1


def test_active_campaigns_show_progress(make_campaign):
    campaign = make_campaign(name="Spring sale")
    Campaign.objects.filter(pk=campaign.pk).update(state="sending")
    _message(1, "delivered", campaign=campaign)
    _message(2, "queued", campaign=campaign)
    rows = selectors.active_campaigns()
    assert rows[0].progress == 50.0 and rows[0].delivery_rate == 100.0


def test_dashboard_lists_active_campaigns_and_the_chart(admin_client, make_campaign):
    campaign = make_campaign(name="Spring sale")
    Campaign.objects.filter(pk=campaign.pk).update(
        state="scheduled", scheduled_at=timezone.now() + timedelta(days=1)
    )
    body = admin_client.get("/").content.decode()
    assert "Spring sale" in body and reverse("campaigns:detail", args=[campaign.pk]) in body
    assert "vendor/chartjs/chart.umd.min.js" in body and 'id="daily-data"' in body


def test_approvers_see_waiting_templates_and_their_own_marked(
    client, django_user_model, make_template, owner
):
    approver = django_user_model.objects.create_user("ann", password="x", is_staff=True)
    approver.user_permissions.add(Permission.objects.get(codename="approve_template"))
    waiting = make_template(usable=False, name="welcome")
    Template.objects.filter(pk=waiting.pk).update(approval_state="submitted", submitted_at=timezone.now())
    client.force_login(approver)
    body = client.get("/").content.decode()
    assert "Templates waiting for your approval" in body and "welcome" in body
    client.force_login(owner)  # the author, not an approver: no approvals section
    assert "Templates waiting for your approval" not in client.get("/").content.decode()


def test_authors_see_their_rejected_templates_with_the_reason(client, make_template, owner):
    template = make_template(usable=False, name="promo")
    Template.objects.filter(pk=template.pk).update(
        approval_state="rejected", rejection_reason="No opt-out text"
    )
    client.force_login(owner)
    body = client.get("/").content.decode()
    assert "promo" in body and "No opt-out text" in body


def test_recent_failures_show_the_documented_reason_and_masked_numbers(client, owner):
    _message(7, "rejected", bics_status="REJECTD", error_code="404", status_at=timezone.now())
    client.force_login(owner)
    body = client.get("/").content.decode()
    assert "Invalid destination number" in body
    assert "+32470000007" not in body and "+32••••••007" in body


def test_staff_with_full_numbers_permission_see_them_whole(client, owner):
    _message(7, "failed", error_description="Absent subscriber", status_at=timezone.now())
    from django.contrib.contenttypes.models import ContentType

    content_type, _ = ContentType.objects.get_or_create(app_label="core", model="staff")  # migration 0002's
    permission, _ = Permission.objects.get_or_create(codename="view_full_numbers", content_type=content_type)
    owner.user_permissions.add(permission)
    client.force_login(owner)
    assert "+32470000007" in client.get("/").content.decode()


def test_sync_runs_are_listed_and_served_as_json_for_polling(admin_client, admin_user):
    from core.models import SyncRun

    SyncRun.objects.create(resource="templates", direction="pull", state="running", requested_by=admin_user)
    body = admin_client.get("/").content.decode()
    assert "Syncs with BICS" in body and 'data-state="running"' in body
    runs = admin_client.get(reverse("ops:sync-runs")).json()["runs"]
    assert runs[0]["resource"] == "templates" and runs[0]["state"] == "running" and runs[0]["by"] == "admin"


def test_sending_campaigns_carry_their_progress_url(admin_client, make_campaign):
    campaign = make_campaign(name="Live")
    Campaign.objects.filter(pk=campaign.pk).update(state="sending")
    body = admin_client.get("/").content.decode()
    assert f'data-url="{reverse("campaigns:progress", args=[campaign.pk])}"' in body


def test_operational_alerts_are_shown_on_top(admin_client):
    from django.core.cache import cache

    from core.ops import alerts

    cache.set(
        alerts.ALERTS_CACHE_KEY,
        [
            {
                "key": "dlr_lag",
                "level": "warning",
                "message": "DLRs are 20 min late",
                "since": "2026-11-29 03:00",
            }
        ],
    )
    body = admin_client.get("/").content.decode()
    assert 'id="alerts"' in body and "DLRs are 20 min late" in body
