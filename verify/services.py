"""Verify services: everything that writes OTP requests or talks to BICS Verify.

BICS Verify (the "BICS Verify" chapter: Send OTP, Verify OTP, Search OTP, Cancel OTP):
* Send OTP takes `channels` (failover order: "if the second channel fails, it will go to the
  next channel until it succeeds") and a `payload`; both objects are collapsed in the
  documentation, so their keys are our assumption (see `_send_body`).
* Verify OTP is a GET with the id and the token in the URL, and "can only be performed once
  for each token". Business failures come back with HTTP 200 and a `status`:
  `failed` (unknown id), `expired`, `invalid` (wrong code), `OTP already verified`.
  401 `Unauthenticated` is an authentication error of *our* account, not of the end user.
* Search and Cancel are GETs by id.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.bics import get_client
from core.bics_time import parse_bics_time
from core.masking import mask_number
from core.phones import PhoneError, PhoneProblem, normalise_phone
from verify import apikeys, conf, ratelimit
from verify.models import OTP_STATES, ApiClient, Channel, OtpRequest, OtpStatus
from verify.outcomes import (
    BICS_VERIFY_STATUSES,
    RESULT_FOR_CLOSED_STATUS,
    RESULT_MESSAGES,
    BicsUnavailable,
    IdempotencyConflict,
    InvalidInput,
    SendFailed,
    VerifyError,
    VerifyInProgress,
    VerifyOutcome,
    VerifyResult,
)

logger = logging.getLogger(__name__)

# The outcome types live in verify.outcomes; callers reach them here with the functions.
__all__ = [
    "AuthenticationFailed", "BICS_VERIFY_STATUSES", "BicsUnavailable", "IdempotencyConflict",
    "InvalidInput", "PENDING_GRACE", "RESULT_FOR_CLOSED_STATUS", "RESULT_MESSAGES",
    "SEARCH_CLOSING_STATUSES", "SendFailed", "VerifyError", "VerifyInProgress", "VerifyOutcome",
    "VerifyResult", "api_client_authenticate", "api_client_create", "api_client_revoke",
    "api_client_set_key", "apply_verify_status", "normalise_channels", "normalise_number", "otp_cancel",
    "otp_mark_expired", "otp_mask_old_numbers", "otp_search", "otp_send", "otp_verify", "validate_token",
]

TOKEN_RE = re.compile(r"^[A-Za-z0-9]{1,16}$")  # goes into a URL path: no slashes, no dots


# --------------------------------------------------------------------------- BICS access
def _bics_verify():
    from bics import verify

    return verify


def _bics_errors():
    from bics.errors import BicsError

    return BicsError


# --------------------------------------------------------------------------- input
def normalise_number(raw: str) -> str:
    """E.164 with '+', or InvalidInput. A leading 00 is accepted as the international prefix."""
    try:
        return normalise_phone(raw)[0]
    except PhoneError as exc:
        if exc.problem in (PhoneProblem.NO_COUNTRY_CODE, PhoneProblem.EMPTY):
            message = "The number must be in international format, e.g. +32470123456."
        else:
            message = f"Not a valid phone number: {exc.problem.value}."
        raise InvalidInput(message, field="number") from None


def normalise_channels(channels) -> list[str]:
    if channels in (None, "", []):
        channels = conf.get("VERIFY_DEFAULT_CHANNELS")
    if isinstance(channels, str):
        channels = [c for c in channels.replace(" ", "").split(",") if c]
    if not isinstance(channels, list | tuple) or not all(isinstance(c, str) for c in channels):
        raise InvalidInput("channels must be a list of channel names.", field="channels")
    out = [c.strip().lower() for c in channels]
    allowed = set(Channel.values)
    unknown = [c for c in out if c not in allowed]
    if unknown:
        raise InvalidInput(
            f"Unknown channel(s) {', '.join(unknown)}; use {', '.join(Channel.values)}.",
            field="channels",
        )
    if len(set(out)) != len(out):
        raise InvalidInput("A channel may appear only once.", field="channels")
    if not out:
        raise InvalidInput("Name at least one channel.", field="channels")
    return out


def _send_body(otp: OtpRequest) -> dict:
    """The Send OTP body: channel objects in failover order, and the payload.

    The item keys are not in the documentation (collapsed in Send OTP's sample): we send
    `{"channel": name}` per channel plus any VERIFY_CHANNEL_OPTIONS for it (e.g. the
    configuration made under Verify > Configuration Setup), and `payload.to` (E.164; the
    client writes the route's notation) with our reference.
    """
    options = conf.get("VERIFY_CHANNEL_OPTIONS") or {}
    channels = [{"channel": name, **(options.get(name) or {})} for name in otp.channels]
    payload = {"to": otp.number, "reference": otp.reference or str(otp.public_id)}
    return {"channels": channels, "payload": payload}


# --------------------------------------------------------------------------- send
def otp_send(
    *,
    number: str,
    channels=None,
    reference: str = "",
    requested_by=None,
    api_client: ApiClient | None = None,
    idempotency_key: str = "",
) -> OtpRequest:
    """Sends one OTP through BICS with failover across `channels`, in that order.

    With an API client and an idempotency key, repeating the call returns the first request
    instead of sending again (and is not counted against the limits). Raises InvalidInput,
    ratelimit.RateLimitExceeded, or SendFailed (the request is kept with status `error`).
    """
    number = normalise_number(number)
    channels = normalise_channels(channels)
    reference = (reference or "").strip()
    idempotency_key = (idempotency_key or "").strip() if api_client is not None else ""
    if len(reference) > 100 or len(idempotency_key) > 100:
        raise InvalidInput("reference and idempotency key are at most 100 characters.")
    if idempotency_key:
        existing = _request_for_key(api_client, idempotency_key, number=number, channels=channels)
        if existing is not None:
            return existing

    ratelimit.check_number(number)

    try:
        with transaction.atomic():
            otp = OtpRequest.objects.create(
                number=number, channels=channels, reference=reference, idempotency_key=idempotency_key,
                requested_by=requested_by, api_client=api_client,
            )
    except IntegrityError:  # the same idempotency key, concurrently
        return OtpRequest.objects.get(api_client=api_client, idempotency_key=idempotency_key)

    BicsError = _bics_errors()
    try:
        body = _send_body(otp)
        answer = _bics_verify().send_otp(get_client(), channels=body["channels"], payload=body["payload"])
    except BicsError as exc:
        OTP_STATES.move(OtpRequest.objects, otp.pk, OtpStatus.ERROR, last_error=str(exc))
        otp.refresh_from_db()
        logger.warning("verify send failed for %s: %s", otp.public_id, exc)
        raise SendFailed(f"BICS did not accept the OTP: {exc}", otp=otp) from exc
    _record_send_answer(otp, answer)
    if otp.status == OtpStatus.ERROR:
        raise SendFailed(otp.last_error, otp=otp)
    return otp


def _request_for_key(api_client: ApiClient, key: str, *, number: str, channels: list[str]) -> OtpRequest | None:
    """The client's earlier request with this idempotency key, if it asked the same thing."""
    existing = OtpRequest.objects.filter(api_client=api_client, idempotency_key=key).first()
    if existing is not None and (existing.number != number or existing.channels != channels):
        raise IdempotencyConflict("This idempotency key was used for another number or channels.")
    return existing


def _record_send_answer(otp: OtpRequest, answer) -> None:
    """Stores what Send OTP answered: `sent` with an id is sent; anything else is an error."""
    bics_status = str(answer.status or "").strip().lower()
    otp.bics_id = answer.id or None
    otp.foreign_id = str(answer.foreign_id or "")
    otp.expires_at = parse_bics_time(answer.expire_at) or timezone.now() + timedelta(
        seconds=conf.get("VERIFY_DEFAULT_TTL_SECONDS")
    )
    if bics_status == "sent" and otp.bics_id:
        status, error = OtpStatus.SENT, ""
    elif bics_status == "failed":
        status = OtpStatus.ERROR
        error = f"BICS could not deliver the OTP on any channel ({' → '.join(otp.channels)})."
    else:
        status, error = OtpStatus.ERROR, f"BICS answered status {answer.status!r} without an id we can use."
    if not OTP_STATES.move(OtpRequest.objects, otp.pk, status, bics_id=otp.bics_id, foreign_id=otp.foreign_id,
                           expires_at=otp.expires_at, last_error=error):
        logger.warning("verify send answer for %s came after it was closed", otp.public_id)
    otp.refresh_from_db()


# --------------------------------------------------------------------------- verify
def validate_token(token: str) -> str:
    token = (token or "").strip()
    if not TOKEN_RE.match(token):
        raise InvalidInput("The code must be 1 to 16 letters or digits.", field="code")
    return token


def apply_verify_status(otp: OtpRequest, bics_status: str) -> VerifyOutcome:
    """Records what BICS answered to a verification and says what it means."""
    key = (bics_status or "").strip().lower()
    if key not in BICS_VERIFY_STATUSES:
        _release_verification(otp, f"BICS answered an undocumented verify status {bics_status!r}.")
        raise BicsUnavailable(otp.last_error, otp=otp)
    status, result = BICS_VERIFY_STATUSES[key]
    extra = {"verified_at": timezone.now()} if status == OtpStatus.SUCCESS else {}
    moved = OTP_STATES.move(OtpRequest.objects, otp.pk, status, last_error="", **extra)
    otp.refresh_from_db()
    if not moved and otp.status != status:  # closed meanwhile (a cancel, the expiry sweep): that stands
        return VerifyOutcome(otp, RESULT_FOR_CLOSED_STATUS[otp.status], bics_status)
    return VerifyOutcome(otp, result, bics_status)


def _release_verification(otp: OtpRequest, error: str) -> None:
    """Nothing was decided: the one verification claim is given back, so the check may be repeated."""
    OtpRequest.objects.filter(pk=otp.pk, verify_attempts__gt=0).update(
        verify_attempts=F("verify_attempts") - 1, last_error=error)
    otp.refresh_from_db()


def otp_verify(*, otp: OtpRequest, token: str) -> VerifyOutcome:
    """Checks the user's code once. A wrong code closes the request (documented: once per token).

    A closed request answers from what is stored, without a BICS call. Raises InvalidInput,
    VerifyInProgress (another check of the same request is under way) or BicsUnavailable
    (nothing decided; the check may be repeated).
    """
    token = validate_token(token)
    otp.refresh_from_db()
    if otp.status != OtpStatus.SENT:
        return VerifyOutcome(otp, RESULT_FOR_CLOSED_STATUS[otp.status])
    if otp.expires_at and otp.expires_at <= timezone.now():
        OTP_STATES.move(OtpRequest.objects, otp.pk, OtpStatus.EXPIRED)
        otp.refresh_from_db()
        return VerifyOutcome(otp, RESULT_FOR_CLOSED_STATUS.get(otp.status, VerifyResult.EXPIRED))

    # Claim the one verification: only one caller gets past this line per request.
    claimed = OtpRequest.objects.filter(pk=otp.pk, status=OtpStatus.SENT, verify_attempts=0).update(
        verify_attempts=F("verify_attempts") + 1
    )
    otp.refresh_from_db()
    if not claimed:
        if otp.status != OtpStatus.SENT:
            return VerifyOutcome(otp, RESULT_FOR_CLOSED_STATUS[otp.status])
        raise VerifyInProgress("This request is being checked already.", otp=otp)

    BicsError = _bics_errors()
    from bics.errors import BicsAuthError, BicsNotFound

    try:
        answer = _bics_verify().verify_otp(get_client(), id=otp.bics_id, token=token)
    except BicsNotFound:
        return apply_verify_status(otp, "failed")
    except BicsError as exc:
        return _reconcile_failed_verify(otp, exc, auth=isinstance(exc, BicsAuthError))
    return apply_verify_status(otp, str(answer.status or ""))


def _reconcile_failed_verify(otp: OtpRequest, exc, *, auth: bool) -> VerifyOutcome:
    """No verify answer: did BICS verify it anyway? Search tells; otherwise allow a retry."""
    if not auth:
        try:
            otp_search(otp=otp)
        except VerifyError:
            pass
        otp.refresh_from_db()
        if otp.status == OtpStatus.SUCCESS:  # this very check verified it
            return VerifyOutcome(otp, VerifyResult.VERIFIED)
        if otp.status != OtpStatus.SENT:
            return VerifyOutcome(otp, RESULT_FOR_CLOSED_STATUS[otp.status])
    _release_verification(otp, str(exc))
    message = (
        "BICS refused our credentials (401 Unauthenticated): check BICS_API_TOKEN."
        if auth
        else f"BICS did not answer the check: {exc}"
    )
    logger.warning("verify check failed for %s: %s", otp.public_id, exc)
    raise BicsUnavailable(message, otp=otp) from exc


# --------------------------------------------------------------------------- search / cancel
# Search statuses we adopt. `success` is ambiguous in the documentation (Verify OTP, Search OTP
# Token and Cancel OTP Token all answer it): it is read as "verified" only when we did ask
# BICS to verify (a lost answer, reconciled).
SEARCH_CLOSING_STATUSES = {
    "expired": OtpStatus.EXPIRED,
    "invalid": OtpStatus.INVALID,
    "failed": OtpStatus.FAILED,
    "otp already verified": OtpStatus.ALREADY_VERIFIED,
    "cancelled": OtpStatus.CANCELLED,
    "canceled": OtpStatus.CANCELLED,
    "verified": OtpStatus.SUCCESS,
}


def otp_search(*, otp: OtpRequest):
    """Asks BICS for the state of a past or current request; records it; returns the answer."""
    otp.refresh_from_db()
    if not otp.bics_id:
        raise VerifyError("This request never reached BICS: there is nothing to search.", otp=otp)
    BicsError = _bics_errors()
    from bics.errors import BicsNotFound

    try:
        answer = _bics_verify().search_otp(get_client(), id=otp.bics_id)
    except BicsNotFound as exc:
        otp.last_error = str(exc)
        otp.checked_at = timezone.now()
        otp.save(update_fields=["last_error", "checked_at"])
        raise VerifyError("BICS does not know this request.", otp=otp) from exc
    except BicsError as exc:
        otp.last_error = str(exc)
        otp.save(update_fields=["last_error"])
        raise BicsUnavailable(f"BICS search failed: {exc}", otp=otp) from exc

    otp.last_search = answer.raw
    otp.checked_at = timezone.now()
    fields = ["last_search", "checked_at"]
    expires = parse_bics_time(answer.expire_at)
    if expires:
        otp.expires_at = expires
        fields.append("expires_at")
    if answer.reference and not otp.foreign_id:
        otp.foreign_id = str(answer.reference)
        fields.append("foreign_id")
    otp.save(update_fields=fields)
    key = str(answer.status or "").strip().lower()
    new = SEARCH_CLOSING_STATUSES.get(key)
    if key == "success" and otp.verify_attempts > 0:
        new = OtpStatus.SUCCESS
    if new and otp.status == OtpStatus.SENT:
        extra = {"verified_at": timezone.now()} if new == OtpStatus.SUCCESS else {}
        # Conditional: a verification finishing meanwhile wins.
        OTP_STATES.move(OtpRequest.objects, otp.pk, new, **extra)
        otp.refresh_from_db()
    return answer  # bics.verify.OtpResult


def otp_cancel(*, otp: OtpRequest) -> bool:
    """Cancels an open request at BICS. False when it was already closed (nothing to do)."""
    otp.refresh_from_db()
    if otp.status != OtpStatus.SENT:
        return False
    BicsError = _bics_errors()
    try:
        answer = _bics_verify().cancel_otp(get_client(), id=otp.bics_id)
    except BicsError as exc:
        otp.last_error = str(exc)
        otp.save(update_fields=["last_error"])
        raise BicsUnavailable(f"BICS could not cancel the request: {exc}", otp=otp) from exc
    key = str(answer.status or "").strip().lower()
    if key != "success":
        otp.last_error = f"BICS answered {answer.status!r} to the cancel."
        otp.save(update_fields=["last_error"])
        raise VerifyError(otp.last_error, otp=otp)
    updated = OTP_STATES.move(OtpRequest.objects, otp.pk, OtpStatus.CANCELLED, cancelled_at=timezone.now(),
                              last_error="")
    otp.refresh_from_db()
    return updated


# --------------------------------------------------------------------------- periodic
PENDING_GRACE = timedelta(minutes=10)


def otp_mark_expired(*, now: datetime | None = None) -> int:
    """Marks sent requests past their expiry as expired; sends that never got an answer as errors."""
    now = now or timezone.now()
    expired = OTP_STATES.move_many(OtpRequest.objects.filter(expires_at__lte=now), OtpStatus.EXPIRED)
    OTP_STATES.move_many(OtpRequest.objects.filter(created_at__lte=now - PENDING_GRACE), OtpStatus.ERROR,
                         last_error="No answer from BICS was recorded for this send.")
    return expired


def otp_mask_old_numbers(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Masks for good the numbers of requests older than VERIFY_NUMBER_RETENTION_DAYS."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=conf.get("VERIFY_NUMBER_RETENTION_DAYS"))
    masked = 0
    while True:
        batch = list(
            OtpRequest.objects.filter(created_at__lt=cutoff, number_masked_at__isnull=True)
            .order_by("pk")
            .values_list("pk", "number")[:batch_size]
        )
        if not batch:
            return masked
        with transaction.atomic():
            for pk, number in batch:
                OtpRequest.objects.filter(pk=pk).update(number=mask_number(number), number_masked_at=now)
        masked += len(batch)


# --------------------------------------------------------------------------- API clients
def api_client_create(*, name: str, created_by=None) -> tuple[ApiClient, str]:
    """A new API client and its key. The key is returned once and only its hash is stored."""
    key = apikeys.generate()
    client = ApiClient.objects.create(
        name=name, key_prefix=key.prefix, key_salt=key.salt, key_hash=key.hash, created_by=created_by
    )
    return client, key.raw


def api_client_set_key(*, client: ApiClient) -> str:
    """Gives an unsaved or existing client a fresh key (the old one stops working)."""
    key = apikeys.generate()
    client.key_prefix, client.key_salt, client.key_hash = key.prefix, key.salt, key.hash
    client.save()
    return key.raw


def api_client_revoke(*, client: ApiClient) -> bool:
    return bool(
        ApiClient.objects.filter(pk=client.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    )


class AuthenticationFailed(Exception):
    pass


def api_client_authenticate(raw_key: str) -> ApiClient:
    """The active client owning `raw_key`, or AuthenticationFailed with a reason."""
    if not raw_key:
        raise AuthenticationFailed("Missing API key: send 'Authorization: Bearer <key>' or 'X-Api-Key'.")
    parts = apikeys.split(raw_key)
    client = ApiClient.objects.filter(key_prefix=parts[0]).first() if parts else None
    if client is None or not apikeys.matches(parts[1], client.key_salt, client.key_hash):
        raise AuthenticationFailed("Invalid API key.")
    if client.revoked_at is not None:
        raise AuthenticationFailed("This API key has been revoked.")
    now = timezone.now()
    if client.last_used_at is None or now - client.last_used_at > timedelta(seconds=60):
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now
    return client

