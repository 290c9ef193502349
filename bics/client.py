"""The BICS CPaaS HTTP client: session, auth, timeouts, retries, errors, pagination, GET budget.

Plain Python (urllib3, see bics/_transport.py); no Django. Product modules (sms.py, whatsapp.py, ...) add typed calls.

Retry policy (see bics/README.md):

* Reads and idempotent writes (GET, PUT, DELETE unless the route says otherwise) are retried
  with exponential backoff and jitter on 429 (Retry-After honoured), 5xx, connection errors and
  timeouts.
* Non-idempotent routes (sends, creates, imports, credits, token refresh, OTP verify) are only
  retried when the request certainly was not processed: a connect error (nothing reached the
  server), a 429, or a 503. A read timeout, a dropped connection or another 5xx after the
  request may have left raises ``BicsOutcomeUnknown``: the caller reconciles (DLR pull by
  ``cid``) instead of resending, because BICS documents no de-duplication.
"""

from __future__ import annotations

import json as jsonlib
import logging
import random
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from bics import _transport
from bics._http import (  # noqa: F401 - jwt_expiry is public here
    _materialise,
    _retry_after,
    _Secret,
    jwt_expiry,
)
from bics.errors import (
    BicsError,
    BicsOutcomeUnknown,
    BicsRateLimited,
    BicsTransportError,
    BicsValidationError,
    error_for_status,
    redact,
)
from bics.numbers import apply_notation
from bics.ratelimit import LocalTokenBucket, TokenBucket
from bics.results import (  # noqa: F401 - re-exported for the product modules
    Accepted,
    Dlr,
    Price,
    SendResult,
    Unsubscriber,
    build,
    compact,
    filters,
    first_object,
    fmt_time,
    upload,
)
from bics.routes import ROUTES, Route, build_routes, is_idempotent
from bics.shapes import SHAPES
from bics.validation import validate_request

__all__ = ["DEFAULT_BASE_URL", "BicsClient", "BicsResponse", "jwt_expiry"]

DEFAULT_BASE_URL = "https://eu.cpaas.bics.com/api/v2/"
logger = logging.getLogger("bics.client")

SUCCESS_STATUSES = ("OK", "ok", 200, "200")
REFRESH_MARGIN = timedelta(minutes=5)
MAX_BACKOFF = 30.0
HTTP_OK_MIN, HTTP_OK_MAX = 200, 299
HTTP_TOO_MANY, HTTP_UNAVAILABLE = 429, 503
HTTP_NO_CONTENT = 204


@dataclass
class BicsResponse:
    http_status: int
    status: Any
    code: Any
    message: str
    data: Any
    links: dict | None = None
    meta: dict | None = None
    raw: dict = field(default_factory=dict, repr=False)  # the whole JSON body
    malformed: str = ""  # what is wrong when the body is not the documented JSON object


class BicsClient:
    """One HTTP session to BICS. See the module docstring for the retry policy."""

    def __init__(  # noqa: PLR0913
        self,
        base_url: str = DEFAULT_BASE_URL,
        token: str | None = None,
        routes: Mapping[str, Route] | Mapping[str, str | Mapping] | None = None,
        timeout: float | tuple[float, float] = (3.05, 30),
        retries: int = 3,
        use_query_token: bool = False,  # noqa: FBT001, FBT002
        use_method_override: bool = False,  # noqa: FBT001, FBT002
        refresh_token: bool | str | None = None,
        rate_limiter: TokenBucket | None = None,
        backoff: float = 0.5,
        pool_size: int = 20,
        *,
        validate: bool = True,
        max_retry_after: float = 120.0,
        on_token_refresh=None,
        sleep=time.sleep,
    ) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._token = _Secret(token)
        self._refresh = _Secret(refresh_token if isinstance(refresh_token, str) else None)
        self.refresh_enabled = bool(refresh_token)
        self.routes = self._resolve_routes(routes)
        self.timeout = timeout
        self.retries = max(int(retries), 0)
        self.use_query_token = use_query_token
        self.use_method_override = use_method_override
        self.rate_limiter: TokenBucket = rate_limiter or LocalTokenBucket(1000, 60)
        self.backoff = backoff
        self.validate = validate
        self.max_retry_after = max_retry_after
        self.on_token_refresh = on_token_refresh
        self._sleep = sleep
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self.token_expires_at: datetime | None = jwt_expiry(token)
        # the proxy and CA bundle of the environment are read here, once (``.netrc`` never:
        # it could replace our Bearer with Basic credentials)
        self.transport = _transport.Transport(self.base_url, pool_size, {
            "Accept": "application/json", "User-Agent": "bics-backoffice/1.0"})

    # ------------------------------------------------------------------ setup
    @staticmethod
    def _resolve_routes(routes) -> dict[str, Route]:
        if not routes:
            return dict(ROUTES)
        if all(isinstance(v, Route) for v in routes.values()):
            merged = dict(ROUTES)
            unknown = sorted(set(routes) - set(ROUTES))
            if unknown:
                raise ValueError(f"unknown BICS route name(s): {', '.join(unknown)}")
            merged.update(routes)
            return merged
        return build_routes(routes)

    def __repr__(self) -> str:
        return (f"BicsClient(base_url={redact(self.base_url)!r}, token={self._token!r}, "
                f"retries={self.retries}, routes={len(self.routes)})")

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> BicsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def token(self) -> str | None:  # for product modules; never logged
        return self._token.value

    def set_token(self, token: str, expires_in: float | None = None) -> None:
        """Adopt a new access token (after generate/refresh)."""
        with self._lock:
            self._token = _Secret(token)
            exp = jwt_expiry(token)
            if exp is None and expires_in:
                exp = datetime.now(UTC) + timedelta(seconds=float(expires_in))
            self.token_expires_at = exp

    def _secrets(self) -> tuple[str | None, ...]:
        return (self._token.value, self._refresh.value)

    # ------------------------------------------------------------------ token refresh
    def _needs_refresh(self) -> bool:
        exp = self.token_expires_at
        return exp is not None and datetime.now(UTC) >= exp - REFRESH_MARGIN

    def _maybe_refresh(self, route_name: str) -> None:
        if not self.refresh_enabled or route_name.startswith("auth.token."):
            return
        if not self._needs_refresh():
            return
        with self._refresh_lock:  # one refresh at a time; others wait and re-check
            if self._needs_refresh():
                self.refresh_now()

    def refresh_now(self) -> None:
        """Refresh the access token through the token refresh route and adopt it."""
        bearer = self._refresh.value or self._token.value
        resp = self.call("auth.token.refresh", _bearer=bearer)
        body = dict(resp.raw)
        if isinstance(resp.data, dict):
            body = {**resp.data, **body}
        new = body.get("access_token")
        if not new:
            raise BicsError("auth.token.refresh", resp.http_status, resp.status, resp.code,
                            "the refresh answer carries no access_token",
                            hint="Renew the token in the BICS portal (Developers -> API Keys).")
        self.set_token(new, body.get("expires_in"))
        logger.info("bics token refreshed; expires at %s", self.token_expires_at)
        if self.on_token_refresh:
            self.on_token_refresh(new, self.token_expires_at)

    # ------------------------------------------------------------------ request building
    def _url(self, route: Route, path_params: Mapping[str, Any] | None) -> str:
        params = dict(path_params or {})
        try:
            path = route.path.format_map({k: quote(str(v), safe="") for k, v in params.items()})
        except KeyError as exc:
            raise ValueError(f"BICS {route.name}: missing path parameter {exc.args[0]!r} "
                             f"for {route.path!r}") from None
        if "{" in path or "}" in path:
            raise ValueError(f"BICS {route.name}: unfilled path {route.path!r}")
        for key, value in params.items():
            if value in (None, ""):
                raise ValueError(f"BICS {route.name}: path parameter {key!r} is empty")
        return self.base_url + path

    def _prepare(self, route: Route, params, json, data, files, bearer):
        method = route.method
        query = dict(params or {})
        headers = {}
        token = bearer if bearer is not None else self._token.value
        if token:
            headers["Authorization"] = f"Bearer {token}"
            if self.use_query_token:
                query["access_token"] = token
        if self.use_method_override and method in ("PUT", "PATCH", "DELETE"):
            query["_method"] = method
            method = "POST"
        return method, query, headers

    # ------------------------------------------------------------------ the call
    def call(self, route_name: str, *, path_params: Mapping[str, Any] | None = None,
             params: Mapping[str, Any] | None = None, json: Any = None,
             files: Mapping[str, Any] | None = None, data: Mapping[str, Any] | None = None,
             _bearer: str | None = None) -> BicsResponse:
        """Call one operation. Raises a ``BicsError`` subclass on any failure."""
        try:
            route = self.routes[route_name]
        except KeyError:
            raise ValueError(f"unknown BICS route {route_name!r}") from None
        self._maybe_refresh(route_name)
        url = self._url(route, path_params)
        params, json, data, files = self._outgoing(route, params, json, data, files)
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            method, query, headers = self._prepare(route, params, json, data, files, _bearer)
            if route.method == "GET":
                self.rate_limiter.acquire()
            started = time.monotonic()
            failure: _transport.TransportError | None = None
            try:
                response = self.transport.request(
                    method, url, query=query, json=json if files is None else None,
                    data=data, files=files, headers=headers, timeout=self.timeout)
            except _transport.TransportError as exc:
                failure = exc  # handled outside: the raised error must not chain it (token)
            if failure is not None:
                delay = self._transport_failure(route, failure, started, attempt, attempts)
            else:
                outcome = self._answer(route, response, started, attempt, attempts)
                if isinstance(outcome, BicsResponse):
                    return outcome
                delay = outcome
            self._sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _outgoing(self, route: Route, params, json, data, files):
        """The payload in the route's number notation, uploads read once (a retried upload
        must not send an exhausted file object), validated before anything leaves."""
        notation = route.numbers
        params = apply_notation(route.name, params, notation) if params else params
        json = apply_notation(route.name, json, notation) if isinstance(json, Mapping) else json
        data = apply_notation(route.name, data, notation) if data else data
        if files:
            files = {k: _materialise(v) for k, v in files.items()}
        if self.validate:
            if route.method == "GET" or (json is None and data is None and files is None):
                payload = params
            elif files is not None or data is not None:
                payload = {**(data or {}), **(files or {})}
            else:
                payload = json
            errors = validate_request(route.name, payload if isinstance(payload, Mapping) else {},
                                      notation=notation)
            if errors:
                raise BicsValidationError(route.name, None, "invalid", None,
                                          "request not sent: invalid fields",
                                          field_errors=errors)
        return params, json, data, files

    def _transport_failure(self, route: Route, exc: _transport.TransportError, started: float,
                           attempt: int, attempts: int) -> float:
        """No HTTP answer: the delay before the next attempt, or the error to raise. A
        request that may have left is never repeated unless the route is idempotent."""
        sent = _transport.was_sent(exc)
        kind = "timeout" if _transport.is_timeout(exc) else "connection error"
        detail = redact(_transport.describe(exc), self._secrets())
        logger.warning("bics %s %s %s -> %s (%.3fs) attempt %d/%d", route.name, route.method,
                       route.path, kind, time.monotonic() - started, attempt, attempts)
        if sent and not is_idempotent(route):
            raise BicsOutcomeUnknown(route.name, None, kind, None,
                                     f"{kind} after the request was sent ({detail})")
        if attempt < attempts:
            return self._delay(attempt)
        raise BicsTransportError(route.name, None, kind, None,
                                 f"{kind} after {attempt} attempt(s) ({detail})")

    def _answer(self, route: Route, response: _transport.Response, started: float,
                attempt: int, attempts: int) -> BicsResponse | float:
        """An HTTP answer: the result, the delay before the next attempt, or the error."""
        http, idempotent = response.status_code, is_idempotent(route)
        logger.info("bics %s %s %s -> %d (%.3fs) attempt %d/%d", route.name, route.method,
                    route.path, http, time.monotonic() - started, attempt, attempts)
        result = self._parse(route.name, response)
        ok = HTTP_OK_MIN <= http <= HTTP_OK_MAX
        if ok and result.malformed and not (http == HTTP_NO_CONTENT and not response.content):
            detail = (f"malformed answer from BICS (HTTP {http}, "
                      f"{response.headers.get('Content-Type') or 'no content type'}): {result.malformed}")
            if not idempotent:  # it may have been processed: the caller reconciles
                raise BicsOutcomeUnknown(route.name, http, "malformed", None, detail)
            if attempt < attempts:  # a truncated answer to a read is worth another try
                return self._delay(attempt)
            raise BicsError(route.name, http, "malformed", None, detail)
        if ok and self._succeeded(route.name, result):
            return result
        retry_after = _retry_after(response.headers.get("Retry-After"))
        retryable = (http == HTTP_TOO_MANY or http == HTTP_UNAVAILABLE
                     or (http >= 500 and idempotent))  # noqa: PLR2004
        if retryable and attempt < attempts:
            if retry_after is not None and retry_after > self.max_retry_after:
                raise self._error(route.name, result, retry_after)
            return max(self._delay(attempt), retry_after or 0.0)
        if http >= 500 and http != HTTP_UNAVAILABLE and not idempotent:  # noqa: PLR2004
            raise BicsOutcomeUnknown(
                route.name, http, result.status, result.code,
                f"HTTP {http} from BICS after the request was sent"
                + (f": {result.message}" if result.message else ""))
        raise self._error(route.name, result, retry_after)

    def _delay(self, attempt: int) -> float:
        base = min(self.backoff * (2 ** (attempt - 1)), MAX_BACKOFF)
        return random.uniform(base / 2, base)  # noqa: S311 - jitter, not crypto

    def _parse(self, route_name: str, response: _transport.Response) -> BicsResponse:
        """The answer as a BicsResponse; `malformed` names what is wrong when the body is not
        the documented JSON object (truncated, HTML, empty, a bare list...)."""
        malformed = ""
        try:
            # JSON is UTF-8 (RFC 8259): no charset guessing, a Latin-1 answer is malformed.
            body = jsonlib.loads(response.content.decode("utf-8"))
        except UnicodeDecodeError:
            body, malformed = {}, "not UTF-8 text"
        except ValueError:
            text = response.text[:200].strip() if response.content else ""
            body = {"message": redact(text, self._secrets())} if text else {}
            malformed = f"not JSON: {redact(text[:80], self._secrets())!r}" if text else "empty body"
        if not isinstance(body, dict):
            malformed = f"a JSON {type(body).__name__} instead of an object"
            body = {"data": body}
        message = body.get("message")
        if "data" in body:
            data = body["data"]
        else:
            data = {k: v for k, v in body.items() if k not in ("status", "code", "message")}
        return BicsResponse(
            http_status=response.status_code, status=body.get("status"),
            code=body.get("code"), message=redact(message, self._secrets())
            if message is not None else "", data=data,
            links=body.get("links") if isinstance(body.get("links"), dict) else None,
            meta=body.get("meta") if isinstance(body.get("meta"), dict) else None, raw=body,
            malformed=malformed)

    @staticmethod
    def _succeeded(route_name: str, result: BicsResponse) -> bool:
        """BICS: 'status' OK or 200 is success, anything else failed (Error Codes, Attributes).

        Flat answers whose ``status`` is a domain value (OTP 'sent', 'success', 'failed'...)
        and answers without a status (token) are judged by the HTTP status only.
        """
        expected = SHAPES[route_name].status
        if expected not in SUCCESS_STATUSES or result.status is None:
            return True
        return result.status in SUCCESS_STATUSES

    def _error(self, route_name: str, result: BicsResponse,
               retry_after: float | None = None) -> BicsError:
        http = result.http_status
        if HTTP_OK_MIN <= http <= HTTP_OK_MAX:  # 2xx with a failed BICS status
            code = result.code if isinstance(result.code, int) else None
            cls = error_for_status(code) if code and code >= 400 else BicsError  # noqa: PLR2004
        elif 300 <= http < 400:  # noqa: PLR2004
            return BicsError(route_name, http, result.status, result.code,
                             "unexpected redirect",
                             hint="Check BICS_API_BASE_URL (scheme, host, /api/v2/).")
        else:
            cls = error_for_status(http)
        kwargs: dict[str, Any] = {}
        if cls is BicsValidationError:
            kwargs["field_errors"] = self._field_errors(result)
        if cls is BicsRateLimited:
            kwargs["retry_after"] = retry_after
        return cls(route_name, http, result.status, result.code, result.message, **kwargs)

    def _field_errors(self, result: BicsResponse) -> dict[str, list[str]]:
        """Laravel-style {"errors": {field: [msgs]}}; also accepted inside "data"."""
        for candidate in (result.raw.get("errors"), result.data):
            if isinstance(candidate, dict) and candidate and all(
                    isinstance(v, list | str) for v in candidate.values()):
                return {str(k): [redact(m, self._secrets()) for m in
                                 (v if isinstance(v, list) else [v])]
                        for k, v in candidate.items()}
        return {}

    # ------------------------------------------------------------------ pagination
    def iterate(self, route_name: str, *, params: Mapping[str, Any] | None = None,
                page_size: int | None = None, path_params: Mapping[str, Any] | None = None,
                max_pages: int = 10_000) -> Iterator[dict]:
        """Yield every item of a list operation, walking ``links.next`` / ``meta`` pages.

        ``page_size`` is sent as ``per_page`` (not documented; Laravel's name). The DLR pull
        pages by 100 on its own.
        """
        query = dict(params or {})
        if page_size:
            query["per_page"] = page_size
        seen_pages: set[str] = set()
        for _ in range(max_pages):
            resp = self.call(route_name, path_params=path_params, params=query)
            items = resp.data
            if isinstance(items, list):
                yield from items
            elif isinstance(items, dict) and items:
                if all(isinstance(v, dict) for v in items.values()):
                    yield from items.values()
                else:
                    yield items
            if not items:
                return
            next_query = self._next_page(resp, query)
            if next_query is None:
                return
            marker = jsonlib.dumps(next_query, sort_keys=True, default=str)
            if marker in seen_pages:
                return
            seen_pages.add(marker)
            query = next_query

    @staticmethod
    def _next_page(resp: BicsResponse, query: dict) -> dict | None:
        links, meta = resp.links or {}, resp.meta or {}
        nxt = links.get("next")
        if isinstance(nxt, str) and nxt:
            parts = urlsplit(nxt)
            extra = {k: v for k, v in parse_qsl(parts.query, keep_blank_values=True)
                     if k not in ("access_token", "_method")}
            if extra:
                return {**query, **extra}
        current, last = meta.get("current_page"), meta.get("last_page")
        try:
            if current is not None and last is not None and int(current) < int(last):
                return {**query, "page": int(current) + 1}
        except (TypeError, ValueError):
            return None
        return None
