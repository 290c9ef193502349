"""Admin and staff pages: masking by permission, exports, API key creation, rates."""

import pytest
from django.urls import reverse

from core.masking import mask_number
from tests.verify.conftest import NUMBER, make_otp
from verify.models import ApiClient, OtpStatus

pytestmark = pytest.mark.django_db

MASKED = mask_number(NUMBER)


def test_mask_keeps_prefix_and_last_digits_and_is_idempotent():
    assert MASKED == "+32••••••456"
    assert mask_number(MASKED) == MASKED
    assert mask_number("") == ""


@pytest.fixture
def otp(db):
    return make_otp(bics_id="b-1", reference="ref-1")


def test_changelist_masks_numbers_without_the_permission(client, staff_masked, otp):
    client.force_login(staff_masked)
    page = client.get(reverse("admin:verify_otprequest_changelist")).content.decode()
    assert MASKED in page and NUMBER not in page


def test_changelist_shows_full_numbers_with_the_permission(client, staff_full, otp):
    client.force_login(staff_full)
    page = client.get(reverse("admin:verify_otprequest_changelist")).content.decode()
    assert NUMBER in page


def test_detail_page_masks_numbers_without_the_permission(client, staff_masked, staff_full, otp):
    url = reverse("admin:verify_otprequest_change", args=[otp.pk])
    client.force_login(staff_masked)
    page = client.get(url).content.decode()
    assert MASKED in page and NUMBER not in page
    client.force_login(staff_full)
    assert NUMBER in client.get(url).content.decode()


def test_number_search_is_only_offered_with_the_permission(client, staff_masked, staff_full, otp):
    url = reverse("admin:verify_otprequest_changelist")
    client.force_login(staff_masked)
    assert "ref-1" not in client.get(url, {"q": "470123"}).content.decode()
    client.force_login(staff_full)
    assert "b-1" not in client.get(url, {"q": "4701"}).content.decode()  # exact match only
    assert str(otp.public_id)[:8] in client.get(url, {"q": NUMBER}).content.decode()


def test_csv_export_masks_numbers_without_the_permission(client, staff_masked, staff_full, otp):
    url = reverse("admin:verify_otprequest_changelist")
    data = {"action": "export_csv", "_selected_action": [otp.pk]}
    client.force_login(staff_masked)
    csv = client.post(url, data).content.decode()
    assert MASKED in csv and NUMBER not in csv
    client.force_login(staff_full)
    assert NUMBER in client.post(url, data).content.decode()


def test_changelist_filters_by_status_and_date(admin_client, otp):
    make_otp(status=OtpStatus.EXPIRED)
    url = reverse("admin:verify_otprequest_changelist")
    page = admin_client.get(url, {"status__exact": "expired"}).content.decode()
    assert str(otp.public_id)[:8] not in page
    assert admin_client.get(url, {"created_at__gte": "2000-01-01 00:00:00+00:00"}).status_code == 200


def test_send_test_page_masks_and_renders(client, staff_masked):
    client.force_login(staff_masked)
    response = client.get(reverse("verify:send"))
    assert response.status_code == 200
    assert "Send OTP" in response.content.decode()


def test_test_otp_page_masks_numbers(client, staff_masked, staff_full, otp):
    url = reverse("verify:detail", args=[otp.public_id])
    client.force_login(staff_masked)
    page = client.get(url).content.decode()
    assert MASKED in page and NUMBER not in page
    client.force_login(staff_full)
    assert NUMBER in client.get(url).content.decode()


def test_staff_pages_need_permissions(client, db):
    from tests.verify.conftest import make_staff

    client.force_login(make_staff("nobody"))
    assert client.get(reverse("verify:send")).status_code == 403
    assert client.get(reverse("verify:overview")).status_code == 403


def test_rates_table_counts_success_and_expiry(client, staff_masked):
    for status in (OtpStatus.SUCCESS, OtpStatus.SUCCESS, OtpStatus.EXPIRED, OtpStatus.INVALID,
                   OtpStatus.ERROR):
        make_otp(status=status)
    from verify.selectors import otp_rates

    total = otp_rates()[-1]
    assert (total.requests, total.sent, total.verified, total.expired) == (5, 4, 2, 1)
    assert total.success_rate == 0.5 and total.expiry_rate == 0.25
    client.force_login(staff_masked)
    page = client.get(reverse("verify:overview")).content.decode()
    assert "50%" in page and "25%" in page


def test_api_client_key_is_shown_once_on_creation(admin_client):
    response = admin_client.post(reverse("admin:verify_apiclient_add"), {"name": "CRM"})
    assert response.status_code == 200
    raw = response.context["raw_key"]
    assert raw in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    client = ApiClient.objects.get(name="CRM")
    assert client.created_by.username == "admin"
    change = admin_client.get(reverse("admin:verify_apiclient_change", args=[client.pk]))
    assert raw.split("_", 2)[2] not in change.content.decode()


def test_revoke_action(admin_client, api_key):
    api_client, _ = api_key
    admin_client.post(reverse("admin:verify_apiclient_changelist"),
                      {"action": "revoke", "_selected_action": [api_client.pk]})
    api_client.refresh_from_db()
    assert api_client.revoked_at is not None


def test_issue_new_key_replaces_the_old_one(admin_client, api_key):
    api_client, old = api_key
    response = admin_client.post(reverse("admin:verify_apiclient_changelist"),
                                 {"action": "issue_new_key", "_selected_action": [api_client.pk]})
    new = response.context["raw_key"]
    from verify import services

    assert services.api_client_authenticate(new) == api_client
    with pytest.raises(services.AuthenticationFailed):
        services.api_client_authenticate(old)


def test_send_test_page_reports_the_number_limit(client, staff_masked, settings):
    from verify import ratelimit

    settings.VERIFY_MAX_SENDS_PER_NUMBER_PER_HOUR = 1
    ratelimit.check_number(NUMBER)  # the hour's one send is used up
    client.force_login(staff_masked)
    page = client.post(reverse("verify:send"), {"number": NUMBER, "channels": "sms"})
    assert page.status_code == 200
    assert "Too many OTP requests for this number" in page.content.decode()


def test_a_check_already_under_way_is_409(client, api_key):
    import json

    otp = make_otp(api_client=api_key[0], bics_id="b-9", verify_attempts=1)
    response = client.post(f"/verify/api/otp/{otp.public_id}/check/", json.dumps({"code": "1"}),
                           content_type="application/json",
                           headers={"Authorization": f"Bearer {api_key[1]}"})
    assert response.status_code == 409
    assert response.json()["error"] == "verify_in_progress"


def test_admin_resets_the_hourly_limit_of_a_number(admin_client, otp, settings):
    from verify import ratelimit

    settings.VERIFY_MAX_SENDS_PER_NUMBER_PER_HOUR = 1
    ratelimit.check_number(NUMBER)
    with pytest.raises(ratelimit.RateLimitExceeded):
        ratelimit.check_number(NUMBER)
    admin_client.post(reverse("admin:verify_otprequest_changelist"),
                      {"action": "reset_number_limit", "_selected_action": [otp.pk]})
    ratelimit.check_number(NUMBER)
