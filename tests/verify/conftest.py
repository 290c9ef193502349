"""Builders for Verify tests."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from core.ratelimit import forget_limiters
from verify import services
from verify.models import OtpRequest, OtpStatus

NUMBER = "+32470123456"


@pytest.fixture(autouse=True)
def fresh_counters(settings):
    """Each test starts with empty in-process abuse counters."""
    settings.VERIFY_RATELIMIT_REDIS_URL = ""
    forget_limiters()
    yield
    forget_limiters()


@pytest.fixture
def api_key(db):
    client, raw = services.api_client_create(name="Shop")
    return client, raw


def make_staff(username, *codenames):
    user = get_user_model().objects.create_user(username, password="pw", is_staff=True)
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="verify", codename=codename))
    return get_user_model().objects.get(pk=user.pk)  # fresh permission cache


@pytest.fixture
def staff_masked(db):
    return make_staff("masked", "view_otprequest", "add_otprequest", "view_apiclient")


@pytest.fixture
def staff_full(db):
    return make_staff("full", "view_otprequest", "add_otprequest", "view_apiclient", "view_full_numbers")


def make_otp(**fields) -> OtpRequest:
    defaults = {
        "number": NUMBER,
        "channels": ["sms"],
        "status": OtpStatus.SENT,
        "bics_id": None,
        "expires_at": timezone.now() + timedelta(seconds=100),
    }
    defaults.update(fields)
    return OtpRequest.objects.create(**defaults)

