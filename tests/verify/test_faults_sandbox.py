"""When BICS does not answer: nothing is decided twice, nothing is lost."""

import pytest

from tests import sandbox_helpers as sb
from tests.verify.conftest import NUMBER
from verify import services
from verify.models import OtpRequest, OtpStatus

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]


def test_a_lost_verify_answer_is_reconciled_by_search(bics_sandbox):
    otp = services.otp_send(number=NUMBER)
    code = sb.code_for(bics_sandbox, otp.bics_id)
    # BICS verifies, then the connection drops before the answer.
    sb.fault(bics_sandbox, kind="drop", routes=["verify.otp.verify"], count=1, after=True)
    outcome = services.otp_verify(otp=otp, token=code)
    assert outcome.verified and outcome.bics_status is None  # learnt from the search
    assert OtpRequest.objects.get(pk=otp.pk).status == OtpStatus.SUCCESS


def test_a_verify_that_never_ran_can_be_repeated(bics_sandbox):
    otp = services.otp_send(number=NUMBER)
    code = sb.code_for(bics_sandbox, otp.bics_id)
    sb.fault(bics_sandbox, kind="error", status=500, routes=["verify.otp.verify"], count=1)
    with pytest.raises(services.BicsUnavailable):
        services.otp_verify(otp=otp, token=code)
    otp.refresh_from_db()
    assert otp.status == OtpStatus.SENT and otp.verify_attempts == 0 and otp.last_error
    assert services.otp_verify(otp=otp, token=code).verified


def test_a_send_without_answer_is_never_repeated_blindly(bics_sandbox):
    sb.fault(bics_sandbox, kind="drop", routes=["verify.otp.send"], count=1, after=True)
    with pytest.raises(services.SendFailed) as caught:
        services.otp_send(number=NUMBER)
    otp = caught.value.otp
    assert otp.status == OtpStatus.ERROR
    assert "may or may not" in otp.last_error
    assert sb.send_count(bics_sandbox) == 1


def test_cancel_of_a_request_bics_already_closed_is_reported(bics_sandbox):
    otp = services.otp_send(number=NUMBER)
    sb.expire(bics_sandbox, otp.bics_id)
    with pytest.raises(services.VerifyError) as caught:
        services.otp_cancel(otp=otp)
    assert "'failed'" in str(caught.value)
    otp.refresh_from_db()
    assert otp.status == OtpStatus.SENT  # the periodic job or a search will close it
    services.otp_search(otp=otp)
    otp.refresh_from_db()
    assert otp.status == OtpStatus.EXPIRED
