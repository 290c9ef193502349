"""One exception family for every BICS failure.

Every message names the operation (route name) and says what the caller can do. No message,
``repr`` or attribute ever carries the access token: the client redacts URLs and texts before
building an exception (see ``redact``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "BicsAuthError",
    "BicsConflict",
    "BicsError",
    "BicsNotFound",
    "BicsOutcomeUnknown",
    "BicsRateLimited",
    "BicsServerError",
    "BicsTransportError",
    "BicsValidationError",
    "error_for_status",
    "redact",
]

_QUERY_TOKEN = re.compile(r"(access_token=)[^&\s#'\"]+", re.IGNORECASE)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
REDACTED = "***"


def redact(text: Any, secrets: Iterable[str | None] = ()) -> str:
    """Text with access_token=…, Bearer … and every given secret replaced by ***."""
    out = str(text)
    for secret in secrets:
        if secret and len(secret) >= 4:  # noqa: PLR2004 - never blank out tiny strings
            out = out.replace(secret, REDACTED)
    out = _QUERY_TOKEN.sub(r"\1" + REDACTED, out)
    return _BEARER.sub(r"\1" + REDACTED, out)


class BicsError(Exception):
    """Base: ``operation`` (route name), ``http_status``, ``status``, ``code``, ``message``."""

    hint = "Check the request and the BICS account, then try again."

    def __init__(self, operation: str, http_status: int | None = None, status: Any = None,
                 code: Any = None, message: str = "", *, hint: str | None = None) -> None:
        self.operation = operation
        self.http_status = http_status
        self.status = status
        self.code = code
        self.message = message or ""
        if hint is not None:
            self.hint = hint
        super().__init__(self._text())

    def _text(self) -> str:
        where = f"BICS {self.operation}"
        if self.http_status:
            where += f" failed with HTTP {self.http_status}"
        else:
            where += " failed"
        detail = f": {self.message}" if self.message else ""
        return f"{where}{detail}. {self.hint}".strip()

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(operation={self.operation!r}, "
                f"http_status={self.http_status!r}, status={self.status!r}, "
                f"code={self.code!r}, message={self.message!r})")

    def __reduce__(self):  # picklable for Celery results
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls, state):
    obj = cls.__new__(cls)
    obj.__dict__.update(state)
    Exception.__init__(obj, obj._text())  # noqa: SLF001
    return obj


class BicsValidationError(BicsError):
    """400/422: the request was refused; ``field_errors`` maps field -> messages."""

    hint = "Correct the listed fields; repeating the same request will fail again."

    def __init__(self, operation: str, http_status: int | None = None, status: Any = None,
                 code: Any = None, message: str = "", *,
                 field_errors: Mapping[str, list[str]] | None = None,
                 hint: str | None = None) -> None:
        self.field_errors = {k: list(v) for k, v in (field_errors or {}).items()}
        super().__init__(operation, http_status, status, code, message, hint=hint)

    def _text(self) -> str:
        base = super()._text()
        if self.field_errors:
            fields = "; ".join(f"{k}: {' '.join(v)}" for k, v in sorted(self.field_errors.items()))
            base += f" Fields: {fields}"
        return base


class BicsAuthError(BicsError):
    """401/403: the token is missing, invalid, expired, or lacks access (IP whitelist?)."""

    hint = ("Check BICS_API_TOKEN (Developers -> API Keys/Access Tokens) and the token's IP "
            "whitelist; 403 means the account has no access to this resource.")


class BicsNotFound(BicsError):
    hint = "The object does not exist at BICS (deleted, or a wrong id); pull to resync."


class BicsConflict(BicsError):
    hint = "Someone updated the same object concurrently; reload it and retry the change."


class BicsRateLimited(BicsError):
    """429; ``retry_after`` seconds when BICS sent Retry-After."""

    hint = "Too many requests (GETs are limited to 1000 per minute); wait and retry."

    def __init__(self, operation: str, http_status: int | None = 429, status: Any = None,
                 code: Any = None, message: str = "", *, retry_after: float | None = None,
                 hint: str | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(operation, http_status, status, code, message, hint=hint)


class BicsServerError(BicsError):
    hint = "BICS had a server problem; retry later (safe operations were already retried)."


class BicsTransportError(BicsError):
    """The request never got an HTTP answer (DNS, connect refused, TLS, timeout on a read)."""

    hint = "Could not reach BICS; check BICS_API_BASE_URL and the network, then retry."


class BicsOutcomeUnknown(BicsTransportError):
    """A non-idempotent write may have reached BICS but no answer came back.

    Do not repeat it blindly: reconcile first (for sends: pull DLRs by ``cid``/``custom``).
    """

    hint = ("The request may or may not have been processed by BICS; do not resend blindly: "
            "reconcile first (e.g. pull DLRs by the custom id).")


_BY_STATUS: dict[int, type[BicsError]] = {
    400: BicsValidationError,
    401: BicsAuthError,
    403: BicsAuthError,
    404: BicsNotFound,
    409: BicsConflict,
    422: BicsValidationError,
    429: BicsRateLimited,
}


def error_for_status(http_status: int) -> type[BicsError]:
    if http_status in _BY_STATUS:
        return _BY_STATUS[http_status]
    if http_status >= 500:  # noqa: PLR2004
        return BicsServerError
    return BicsError
