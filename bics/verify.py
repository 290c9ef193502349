"""Verify: send, verify, search and cancel OTPs (4).

Answers are flat (no envelope). Failures of *verify* come back as HTTP 200 with a status
(Verify OTP): ``failed`` (bad id), ``expired``, ``invalid`` (wrong code), ``OTP already
verified``; ``OtpResult.ok`` is True for ``success`` (verify, search, cancel) and ``sent``
(send), the two statuses that are not a failure. A token verifies once (Verify OTP), so
``verify_otp`` is never retried after the request may have left.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bics.client import BicsClient, build, compact
from bics.numbers import to_e164

__all__ = ["FAILURE_STATUSES", "OtpResult", "cancel_otp", "search_otp", "send_otp",
           "verify_otp"]

FAILURE_STATUSES = {
    "failed": "invalid OTP id",
    "expired": "the code expired",
    "invalid": "wrong code",
    "OTP already verified": "the code was already used",
}


@dataclass
class OtpResult:
    id: str | None = None
    status: str | None = None  # sent | success | failed | expired | invalid | OTP already verified
    to: str | None = None
    foreign_id: str | None = None
    reference: str | None = None
    created_at: str | None = None
    expire_at: str | None = None
    channels: Any = None
    raw: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.to = to_e164(self.to)

    @property
    def ok(self) -> bool:
        return self.status in ("success", "sent")

    @property
    def reason(self) -> str | None:
        return FAILURE_STATUSES.get(self.status or "")


def send_otp(client: BicsClient, *, channels: list[dict], to: str | None = None,
             payload: dict | None = None) -> OtpResult:
    """Send an OTP through ``channels`` in failover order (a portal Verify configuration is
    required). ``to`` is put into ``payload`` (key assumed; contents are collapsed).
    """
    body_payload = dict(payload or {})
    if to is not None:
        body_payload.setdefault("to", to)
    body = compact(channels=list(channels), payload=body_payload or None)
    resp = client.call("verify.otp.send", json=body)
    return build(OtpResult, resp.raw)


def verify_otp(client: BicsClient, *, id: str, token: str) -> OtpResult:  # noqa: A002
    resp = client.call("verify.otp.verify", path_params={"id": id, "token": token})
    return build(OtpResult, resp.raw)


def search_otp(client: BicsClient, *, id: str) -> OtpResult:  # noqa: A002
    return build(OtpResult, client.call("verify.otp.search", path_params={"id": id}).raw)


def cancel_otp(client: BicsClient, *, id: str) -> OtpResult:  # noqa: A002
    return build(OtpResult, client.call("verify.otp.cancel", path_params={"id": id}).raw)
