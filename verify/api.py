"""JSON API for other systems: send an OTP, check a code.

Authentication is a per-client API key (`Authorization: Bearer <key>` or `X-Api-Key: <key>`),
so these views are CSRF-exempt: no browser session is ever used. Answers never carry BICS's
id or token, nor the code; errors are JSON `{"error": code, "detail": text}`.
"""

from __future__ import annotations

import json
import uuid
from functools import wraps

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.masking import mask_number
from verify import ratelimit, selectors, services
from verify.models import OtpRequest

MAX_BODY = 16 * 1024


def error(status: int, code: str, detail: str, **extra) -> JsonResponse:
    response = JsonResponse({"error": code, "detail": detail, **extra}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="verify"'
    if "retry_after" in extra:
        response["Retry-After"] = str(extra["retry_after"])
    return response


def _raw_key(request) -> str:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.headers.get("X-Api-Key", "").strip()


def api_view(view):
    """POST only, JSON in and out, authenticated by API key, limited per key per minute."""

    @csrf_exempt
    @never_cache
    @require_POST
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            client = services.api_client_authenticate(_raw_key(request))
        except services.AuthenticationFailed as exc:
            return error(401, "unauthorized", str(exc))
        try:
            ratelimit.check_api_client(client.pk)
        except ratelimit.RateLimitExceeded as exc:
            return error(429, "rate_limited", str(exc), retry_after=exc.retry_after)
        if len(request.body) > MAX_BODY:
            return error(400, "invalid_input", "The body is too large.")
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return error(400, "invalid_json", "The body must be a JSON object.")
        if not isinstance(body, dict):
            return error(400, "invalid_json", "The body must be a JSON object.")
        try:
            return view(request, client, body, *args, **kwargs)
        except services.InvalidInput as exc:
            extra = {"field": exc.field} if exc.field else {}
            return error(400, exc.code, str(exc), **extra)
        except ratelimit.RateLimitExceeded as exc:
            return error(429, "rate_limited", str(exc), retry_after=exc.retry_after)
        except services.VerifyError as exc:
            extra = {"otp": otp_json(exc.otp)} if exc.otp is not None else {}
            detail = getattr(exc, "public_message", None) or str(exc)
            return error(exc.http_status, exc.code, detail, **extra)

    return wrapper


def _iso(value):
    return value.isoformat() if value else None


def otp_json(otp: OtpRequest) -> dict:
    return {
        "id": str(otp.public_id),
        "status": otp.status,
        "number": mask_number(otp.number),
        "channels": otp.channels,
        "reference": otp.reference,
        "created_at": _iso(otp.created_at),
        "expires_at": _iso(otp.expires_at),
        "verified_at": _iso(otp.verified_at),
    }


def _text(body: dict, name: str) -> str:
    value = body.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str | int):
        raise services.InvalidInput(f"{name} must be a string.", field=name)
    return str(value)


@api_view
def otp_send(request, client, body):
    """POST /verify/api/otp/ {"number": "+32...", "channels": ["sms", "whatsapp"], "reference": "..."}

    An `Idempotency-Key` header (or `idempotency_key`) makes a retry return the first request.
    """
    idempotency_key = request.headers.get("Idempotency-Key", "") or _text(body, "idempotency_key")
    number = _text(body, "number")
    if not number:
        raise services.InvalidInput("number is required.", field="number")
    before = None
    if idempotency_key:
        before = OtpRequest.objects.filter(api_client=client, idempotency_key=idempotency_key).first()
    otp = services.otp_send(
        number=number,
        channels=body.get("channels"),
        reference=_text(body, "reference"),
        api_client=client,
        idempotency_key=idempotency_key,
    )
    return JsonResponse(otp_json(otp), status=200 if before else 201)


@api_view
def otp_check(request, client, body, otp_id):
    """POST /verify/api/otp/<id>/check/ {"code": "123456"}"""
    try:
        public_id = uuid.UUID(str(otp_id))
    except ValueError:
        public_id = None
    otp = selectors.otp_get_for_client(api_client=client, public_id=public_id) if public_id else None
    if otp is None:
        return error(404, "not_found", "No OTP request with this id for this API key.")
    outcome = services.otp_verify(otp=otp, token=_text(body, "code"))
    return JsonResponse(
        {
            "id": str(otp.public_id),
            "verified": outcome.verified,
            "result": outcome.result,
            "detail": outcome.message,
            "otp": otp_json(outcome.otp),
        }
    )
