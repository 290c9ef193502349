from datetime import timedelta
from io import StringIO

import pytest
from django.utils import timezone

from core.masking import mask_number
from tests.verify.conftest import NUMBER, make_otp
from verify import demo, services, tasks
from verify.models import ApiClient, OtpRequest, OtpStatus

pytestmark = pytest.mark.django_db


def test_expired_requests_are_marked_by_the_periodic_task():
    past = make_otp(expires_at=timezone.now() - timedelta(seconds=1))
    future = make_otp()
    verified = make_otp(status=OtpStatus.SUCCESS, expires_at=timezone.now() - timedelta(hours=1))
    assert tasks.mark_expired_otp_requests.delay().get() == 1
    assert OtpRequest.objects.get(pk=past.pk).status == OtpStatus.EXPIRED
    assert OtpRequest.objects.get(pk=future.pk).status == OtpStatus.SENT
    assert OtpRequest.objects.get(pk=verified.pk).status == OtpStatus.SUCCESS


def test_sends_that_never_got_an_answer_become_errors():
    stuck = make_otp(status=OtpStatus.PENDING)
    OtpRequest.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(hours=1))
    services.otp_mark_expired()
    stuck.refresh_from_db()
    assert stuck.status == OtpStatus.ERROR and stuck.last_error


def test_numbers_past_retention_are_stored_masked(settings):
    settings.VERIFY_NUMBER_RETENTION_DAYS = 30
    old = make_otp()
    OtpRequest.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    recent = make_otp()
    assert tasks.mask_old_otp_numbers.delay().get() == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.number == mask_number(NUMBER) and old.number_masked_at is not None
    assert recent.number == NUMBER
    assert services.otp_mask_old_numbers() == 0  # done once


def test_verify_jobs_are_in_the_beat_schedule():
    from config.schedule import PERIODIC_TASKS

    paths = {task for task, _, _ in PERIODIC_TASKS.values()}
    assert {"verify.tasks.mark_expired_otp_requests", "verify.tasks.mask_old_otp_numbers"} <= paths


def test_demo_seed_is_idempotent_and_prints_the_key_only_when_created():
    first = StringIO()
    demo.seed(stdout=first)
    assert "vk_" in first.getvalue()
    count = OtpRequest.objects.count()
    assert count >= 5
    assert len(set(OtpRequest.objects.values_list("status", flat=True))) >= 5
    again = StringIO()
    demo.seed(stdout=again)
    assert "vk_" not in again.getvalue()
    assert OtpRequest.objects.count() == count
    assert ApiClient.objects.filter(name=demo.CLIENT_NAME).count() == 1
