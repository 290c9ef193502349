"""Send, verify, search and cancel against the BICS sandbox over HTTP."""

import pytest
from django.utils import timezone

from tests import sandbox_helpers as sb
from tests.verify.conftest import NUMBER
from verify import ratelimit, services
from verify.models import OtpRequest, OtpStatus
from verify.services import VerifyResult

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]


def send(**kwargs) -> OtpRequest:
    return services.otp_send(number=kwargs.pop("number", NUMBER), **kwargs)


def test_send_records_the_bics_request(bics_sandbox):
    otp = send(channels=["sms", "whatsapp"], reference="order-1")
    assert otp.status == OtpStatus.SENT
    assert otp.bics_id and otp.expires_at > timezone.now()
    request = sb.last_send(bics_sandbox)
    assert [c["channel"] for c in request["channels"]] == ["sms", "whatsapp"]
    assert request["payload"]["to"] == NUMBER.lstrip("+")  # the route's notation: digits


def test_verify_with_the_right_code(bics_sandbox):
    otp = send()
    outcome = services.otp_verify(otp=otp, token=sb.code_for(bics_sandbox, otp.bics_id))
    assert outcome.verified and outcome.result == VerifyResult.VERIFIED
    assert outcome.bics_status == "success"
    otp.refresh_from_db()
    assert otp.status == OtpStatus.SUCCESS and otp.verified_at and otp.verify_attempts == 1


def test_a_wrong_code_closes_the_request(bics_sandbox):
    otp = send()
    right = sb.code_for(bics_sandbox, otp.bics_id)
    wrong = "000000" if right != "000000" else "111111"
    outcome = services.otp_verify(otp=otp, token=wrong)
    assert not outcome.verified and outcome.result == VerifyResult.WRONG_CODE
    assert "send a new OTP" in outcome.message
    # The right code afterwards does not open it again, and BICS is not asked twice.
    again = services.otp_verify(otp=otp, token=right)
    assert again.result == VerifyResult.WRONG_CODE and again.bics_status is None
    assert OtpRequest.objects.get(pk=otp.pk).status == OtpStatus.INVALID


def test_verify_twice_answers_already_verified_without_asking_bics(bics_sandbox):
    otp = send()
    code = sb.code_for(bics_sandbox, otp.bics_id)
    assert services.otp_verify(otp=otp, token=code).verified
    second = services.otp_verify(otp=otp, token=code)
    assert not second.verified and second.result == VerifyResult.ALREADY_VERIFIED
    assert second.bics_status is None


def test_bics_failure_statuses_are_each_mapped(bics_sandbox):
    # `OTP already verified`: BICS is asked a second time (our record forgot the first).
    otp = send()
    code = sb.code_for(bics_sandbox, otp.bics_id)
    services.otp_verify(otp=otp, token=code)
    OtpRequest.objects.filter(pk=otp.pk).update(status=OtpStatus.SENT, verify_attempts=0)
    outcome = services.otp_verify(otp=otp, token=code)
    assert outcome.bics_status == "OTP already verified"
    assert outcome.result == VerifyResult.ALREADY_VERIFIED
    assert outcome.otp.status == OtpStatus.ALREADY_VERIFIED

    # `failed`: an id BICS does not know.
    ghost = send(number="+32470123457")
    OtpRequest.objects.filter(pk=ghost.pk).update(bics_id="00000000-0000-4000-8000-000000000000")
    ghost.refresh_from_db()
    outcome = services.otp_verify(otp=ghost, token="123456")
    assert outcome.result == VerifyResult.UNKNOWN_REQUEST
    assert outcome.otp.status == OtpStatus.FAILED

    # `expired`: BICS says the token expired (our clock did not know yet).
    late = send(number="+32470123458")
    sb.expire(bics_sandbox, late.bics_id)
    outcome = services.otp_verify(otp=late, token=sb.code_for(bics_sandbox, late.bics_id))
    assert outcome.bics_status == "expired"
    assert outcome.result == VerifyResult.EXPIRED and outcome.otp.status == OtpStatus.EXPIRED

    # `invalid` is covered by test_a_wrong_code_closes_the_request; `success` above.


def test_401_unauthenticated_is_our_configuration_not_the_users_code(bics_sandbox, settings):
    otp = send()
    settings.BICS_API_TOKEN = ""  # the sandbox answers 401 Unauthenticated
    with pytest.raises(services.BicsUnavailable) as caught:
        services.otp_verify(otp=otp, token="123456")
    assert "BICS_API_TOKEN" in str(caught.value)
    otp.refresh_from_db()
    assert otp.status == OtpStatus.SENT and otp.verify_attempts == 0  # the check may be repeated


def test_expiry_known_locally_needs_no_bics_call(bics_sandbox):
    otp = send()
    OtpRequest.objects.filter(pk=otp.pk).update(expires_at=timezone.now())
    outcome = services.otp_verify(otp=otp, token="123456")
    assert outcome.result == VerifyResult.EXPIRED and outcome.bics_status is None


def test_cancel(bics_sandbox):
    otp = send()
    assert services.otp_cancel(otp=otp) is True
    assert otp.status == OtpStatus.CANCELLED and otp.cancelled_at
    assert services.otp_cancel(otp=otp) is False  # idempotent: nothing left to cancel
    outcome = services.otp_verify(otp=otp, token=sb.code_for(bics_sandbox, otp.bics_id))
    assert outcome.result == VerifyResult.CANCELLED


def test_search_records_what_bics_knows(bics_sandbox):
    otp = send()
    answer = services.otp_search(otp=otp)
    assert answer.id == otp.bics_id
    otp.refresh_from_db()
    assert otp.checked_at and otp.last_search["id"] == otp.bics_id
    assert otp.status == OtpStatus.SENT


def test_search_after_a_lost_verify_answer_reconciles(bics_sandbox):
    otp = send()
    services.otp_verify(otp=otp, token=sb.code_for(bics_sandbox, otp.bics_id))
    # Pretend the verify answer was lost: attempt spent, status still sent.
    OtpRequest.objects.filter(pk=otp.pk).update(status=OtpStatus.SENT)
    services.otp_search(otp=otp)
    otp.refresh_from_db()
    assert otp.status == OtpStatus.SUCCESS


def test_failover_from_a_failing_first_channel(bics_sandbox):
    sb.fail_channel(bics_sandbox, "whatsapp")
    otp = send(channels=["whatsapp", "sms"])
    assert otp.status == OtpStatus.SENT
    assert sb.delivered_channel(bics_sandbox, otp.bics_id) == "sms"
    services.otp_search(otp=otp)
    otp.refresh_from_db()
    assert otp.last_search["channels"] == [
        {"channel": "whatsapp", "status": "failed"}, {"channel": "sms", "status": "sent"}]
    assert services.otp_verify(otp=otp, token=sb.code_for(bics_sandbox, otp.bics_id)).verified


def test_failover_through_every_channel_in_order(bics_sandbox):
    for channel in ("sms", "whatsapp", "engage"):
        sb.fail_channel(bics_sandbox, channel)
    otp = send(channels=["sms", "whatsapp", "engage", "viber"])
    assert sb.delivered_channel(bics_sandbox, otp.bics_id) == "viber"


def test_every_channel_failing_is_a_clear_send_error(bics_sandbox):
    sb.fail_channel(bics_sandbox, "sms")
    sb.fail_channel(bics_sandbox, "viber")
    with pytest.raises(services.SendFailed) as caught:
        send(channels=["sms", "viber"])
    otp = caught.value.otp
    assert otp.status == OtpStatus.ERROR
    assert "any channel (sms → viber)" in otp.last_error


def test_send_refused_by_bics_is_kept_as_an_error(bics_sandbox, settings):
    settings.BICS_API_TOKEN = ""
    with pytest.raises(services.SendFailed) as caught:
        send()
    otp = caught.value.otp
    assert otp.status == OtpStatus.ERROR and otp.last_error
    assert OtpRequest.objects.get(pk=otp.pk).bics_id is None


def test_number_limit_is_hit_and_resets(bics_sandbox, settings):
    settings.VERIFY_MAX_SENDS_PER_NUMBER_PER_HOUR = 2
    send()
    send()
    with pytest.raises(ratelimit.RateLimitExceeded) as caught:
        send()
    assert 1 <= caught.value.retry_after <= 3600
    assert OtpRequest.objects.count() == 2  # a refused send leaves no request behind
    send(number="+32470123457")  # another number is free
    ratelimit.reset_number(NUMBER)
    send()


def test_the_bics_token_is_never_stored(bics_sandbox, settings):
    otp = send()
    stored = OtpRequest.objects.filter(pk=otp.pk).values().get()
    assert all(settings.BICS_API_TOKEN not in str(value) for value in stored.values())
