"""The one-off send's schedule goes to BICS in BICS's zone, not in the staff member's."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from messaging.campaigns.models import Message

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]


def test_one_off_schedule_is_written_in_bics_time_zone(admin_client, sandbox, sender, settings):
    settings.TIME_ZONE, settings.BICS_TIME_ZONE = "Europe/Brussels", "America/New_York"
    local = (datetime.now(ZoneInfo("Europe/Brussels")) + timedelta(days=2)).replace(
        hour=10, minute=0, second=0, microsecond=0)
    response = admin_client.post(reverse("campaigns:one-off"), {
        "channel": "sms", "number": "+32470123456", "text": "Scheduled hello", "sender": sender.pk,
        "type": "A", "time": local.strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 302
    expected = local.astimezone(ZoneInfo("America/New_York")).strftime("%Y-%m-%d %H:%M:%S")
    assert expected != local.strftime("%Y-%m-%d %H:%M:%S")
    assert Message.objects.get().variables["_options"]["time"] == expected
    assert sandbox.get("requests")["last"]["sms.messages.send"]["time"] == expected
