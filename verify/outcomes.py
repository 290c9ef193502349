"""What Verify operations answer: the error family and the result of a verification.

The BICS verify statuses (Verify OTP, "BICS Verify" chapter) are `success`, `invalid` (wrong
code), `expired`, `failed` (unknown id) and `OTP already verified`; each maps to one result.
"""

from __future__ import annotations

from dataclasses import dataclass

from verify.models import OtpRequest, OtpStatus


class VerifyError(Exception):
    """A Verify operation could not be done; `code` is stable, the message is for people."""

    code = "verify_error"
    http_status = 400

    def __init__(self, message: str, *, otp: OtpRequest | None = None):
        self.otp = otp
        super().__init__(message)


class InvalidInput(VerifyError):
    code = "invalid_input"

    def __init__(self, message: str, *, field: str = ""):
        self.field = field
        super().__init__(message)


class BicsUnavailable(VerifyError):
    """BICS refused or did not answer (auth, server, network); nothing was decided."""

    code = "bics_unavailable"
    http_status = 502
    # For other systems: no BICS internals (configuration hints, BICS ids) leave the house.
    public_message = "The verification service is unavailable right now; try again later."


class SendFailed(BicsUnavailable):
    code = "send_failed"
    public_message = "The OTP could not be sent; try again later."


class IdempotencyConflict(VerifyError):
    code = "idempotency_conflict"
    http_status = 409


class VerifyInProgress(VerifyError):
    code = "verify_in_progress"
    http_status = 409


class VerifyResult:
    """What a verification attempt means for the caller (one value per documented outcome)."""

    VERIFIED = "verified"  # BICS `success`
    WRONG_CODE = "wrong_code"  # BICS `invalid`
    EXPIRED = "expired"  # BICS `expired`
    UNKNOWN_REQUEST = "unknown_request"  # BICS `failed`: BICS does not know the id
    ALREADY_VERIFIED = "already_verified"  # BICS `OTP already verified`
    CANCELLED = "cancelled"  # local: the request was cancelled
    NOT_SENT = "not_sent"  # local: the send never succeeded


RESULT_MESSAGES = {
    VerifyResult.VERIFIED: "The code is correct: the number is verified.",
    VerifyResult.WRONG_CODE: "The code is wrong. This request is closed: send a new OTP.",
    VerifyResult.EXPIRED: "The code has expired: send a new OTP.",
    VerifyResult.UNKNOWN_REQUEST: "BICS does not know this request (invalid id): send a new OTP.",
    VerifyResult.ALREADY_VERIFIED: "This OTP was already verified; a code can be checked only once.",
    VerifyResult.CANCELLED: "This request was cancelled: send a new OTP.",
    VerifyResult.NOT_SENT: "This OTP was never sent: send a new OTP.",
}

# BICS verify `status` -> (our status, result). Compared case-insensitively.
BICS_VERIFY_STATUSES = {
    "success": (OtpStatus.SUCCESS, VerifyResult.VERIFIED),
    "invalid": (OtpStatus.INVALID, VerifyResult.WRONG_CODE),
    "expired": (OtpStatus.EXPIRED, VerifyResult.EXPIRED),
    "failed": (OtpStatus.FAILED, VerifyResult.UNKNOWN_REQUEST),
    "otp already verified": (OtpStatus.ALREADY_VERIFIED, VerifyResult.ALREADY_VERIFIED),
}

# A closed request answers from what we stored, without asking BICS again.
RESULT_FOR_CLOSED_STATUS = {
    OtpStatus.SUCCESS: VerifyResult.ALREADY_VERIFIED,
    OtpStatus.ALREADY_VERIFIED: VerifyResult.ALREADY_VERIFIED,
    OtpStatus.INVALID: VerifyResult.WRONG_CODE,
    OtpStatus.EXPIRED: VerifyResult.EXPIRED,
    OtpStatus.FAILED: VerifyResult.UNKNOWN_REQUEST,
    OtpStatus.CANCELLED: VerifyResult.CANCELLED,
    OtpStatus.ERROR: VerifyResult.NOT_SENT,
    OtpStatus.PENDING: VerifyResult.NOT_SENT,
}


@dataclass(frozen=True)
class VerifyOutcome:
    otp: OtpRequest
    result: str
    bics_status: str | None = None  # None when answered locally

    @property
    def verified(self) -> bool:
        return self.result == VerifyResult.VERIFIED

    @property
    def message(self) -> str:
        return RESULT_MESSAGES[self.result]
