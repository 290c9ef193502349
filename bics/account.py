"""Account: auth check, tokens, balance, credits, smart-link visits (6)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bics.client import BicsClient, build, first_object, jwt_expiry
from bics.numbers import to_e164

__all__ = ["Balance", "Me", "SmartLinkVisit", "Token", "add_credits", "generate_token",
           "get_balance", "list_smart_link_visits", "me", "refresh_token"]


@dataclass
class Me:
    id: str | None = None
    name: str | None = None
    username: str | None = None
    email: str | None = None
    raw: dict = field(default_factory=dict, repr=False)


@dataclass
class Token:
    access_token: str = field(default="", repr=False)  # never shown
    expires_in: int | None = None
    token_type: str | None = None
    raw: dict = field(default_factory=dict, repr=False)

    @property
    def expires_at(self) -> datetime | None:
        return jwt_expiry(self.access_token)


@dataclass
class Balance:
    balance: Any = None
    currency: str | None = None
    raw: dict = field(default_factory=dict, repr=False)


@dataclass
class SmartLinkVisit:
    id: str | None = None
    link_id: Any = None
    user_agent: str | None = None
    browser: str | None = None
    browser_version: str | None = None
    platform: str | None = None
    device_type: str | None = None
    device_brand: str | None = None
    country: str | None = None
    country_code: str | None = None
    region: str | None = None
    city: str | None = None
    mobile: str | None = None
    created_at: str | None = None
    raw: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.mobile = to_e164(self.mobile)


def me(client: BicsClient) -> Me:
    """``auth/me``: checks the token (the only path the documentation states)."""
    return build(Me, first_object(client.call("auth.me").data))


def _token(resp) -> Token:
    body = dict(resp.raw)
    if isinstance(resp.data, dict):
        body = {**resp.data, **body}
    return build(Token, {k: body.get(k) for k in ("access_token", "expires_in", "token_type")
                         if k in body})


def generate_token(client: BicsClient, *, adopt: bool = False) -> Token:
    """A new 3600 s JWT; ``adopt=True`` makes the client use it from now on."""
    token = _token(client.call("auth.token.generate"))
    if adopt and token.access_token:
        client.set_token(token.access_token, token.expires_in)
    return token


def refresh_token(client: BicsClient, *, adopt: bool = True) -> Token:
    """Refresh the current token (it travels in the Authorization header: Token, Refresh)."""
    token = _token(client.call("auth.token.refresh"))
    if adopt and token.access_token:
        client.set_token(token.access_token, token.expires_in)
    return token


def get_balance(client: BicsClient) -> Balance:
    return build(Balance, first_object(client.call("account.balance.get").data))


def add_credits(client: BicsClient, *, credits: str, username: str,
                service: str | None = None) -> str:
    """Add credits to a (reseller's customer) account; returns BICS's message. Not retried."""
    resp = client.call("account.credits.add",
                       json={"credits": str(credits), "service": service or "",
                             "username": username})
    return resp.message


def list_smart_link_visits(client: BicsClient, *, id: str) -> Iterator[SmartLinkVisit]:  # noqa: A002
    for item in client.iterate("smartlink.visits.list", path_params={"id": id}):
        yield build(SmartLinkVisit, item)
