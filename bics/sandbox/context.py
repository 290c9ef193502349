"""What a sandbox handler sees and returns: the request context (``Ctx``), the answer
(``Out``), error answers (``ApiError``, ``invalid``, ``not_found``) and the raw ``Response``.

Its own module so that the app, the handlers, the inspection endpoints and the webhook
deliverer all import it without importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from bics.routes import Route
from bics.sandbox.config import SandboxConfig
from bics.sandbox.state import Account

if TYPE_CHECKING:
    from bics.sandbox.app import SandboxApp


def _reason(http: int) -> str:
    """The status text of the documented error bodies (Laravel's, e.g. "Unauthenticated")."""
    if http == 401:
        return "Unauthenticated"  # not HTTPStatus's "Unauthorized": the documented body
    try:
        return HTTPStatus(http).phrase
    except ValueError:
        return "Error"


# ---------------------------------------------------------------------- request / response
@dataclass
class Response:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
    delay_before: float = 0.0  # latency fault
    delay_after: float = 0.0  # timeout fault: processed, then silent this long
    drop: bool = False  # close the connection without answering


class ApiError(Exception):
    """An error answer with the documented body ``{status, code, message}`` (+ ``errors``)."""


    def __init__(
        self,
        http: int,
        message: str,
        errors: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        status: str | None = None,
    ) -> None:
        super().__init__(message)
        self.http = http
        self.message = message
        self.errors = dict(errors or {})
        self.headers = dict(headers or {})
        self.status = status or _reason(http)

    def body(self) -> dict:
        body: dict[str, Any] = {"status": self.status, "code": self.http, "message": self.message}
        if self.errors:
            body["errors"] = self.errors
        return body


def not_found(what: str = "Resource") -> ApiError:
    return ApiError(404, f"{what} not found.")


def invalid(errors: Mapping[str, list[str]]) -> ApiError:
    return ApiError(422, "The given data was invalid.", errors)


@dataclass
class Out:
    """What a handler returns; the app wraps it in the route's documented envelope."""

    data: Any = None
    message: str | None = None
    extra: dict | None = None  # extra top-level keys (group_id, total…)
    raw: dict | None = None  # the whole body (flat answers: tokens, OTP, click2call)
    http: int = 200
    per_page: int | None = None  # fixed page size (DLR pull: 100)
    paginate: bool | None = None  # None: as the shape says


@dataclass
class Ctx:
    app: SandboxApp
    account: Account
    route: Route
    params: dict[str, str]
    query: dict[str, str]
    body: dict[str, Any]
    files: dict[str, tuple[str, bytes]]
    base: str  # http://host:port/api/v2/
    path: str  # request path below the prefix
    token: str = ""  # the credential used (refresh invalidates a minted one)

    @property
    def now(self) -> float:
        return self.app.clock.now()

    def stamp(self, at: float | None = None) -> str:
        return self.app.clock.stamp(at)

    @property
    def config(self) -> SandboxConfig:
        return self.app.config
