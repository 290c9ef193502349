"""The seven unsubscriber operations, shared by sms, voice (Engage), viber and whatsapp.

The four products document the same operations with the same fields (list, create, clean,
get, update, delete, import); only the route prefix differs. The public, typed functions
stay in each product module (``sms.list_unsubscribers`` ...) and pass their own route name,
spelled out in full, to the function here of the same operation. Allowed ``type`` values do
differ per product: bics/shapes.py checks them, not this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bics.client import (
    Accepted,
    BicsClient,
    Unsubscriber,
    build,
    compact,
    filters,
    first_object,
    upload,
)


def list_(client: BicsClient, route: str, *, id: str | None, iso: str | None,  # noqa: A002
          receiver: str | None, type: str | None,  # noqa: A002
          value: str | None) -> Iterator[Unsubscriber]:
    params = filters(id=id, iso=iso, receiver=receiver, type=type, value=value)
    for item in client.iterate(route, params=params):
        yield build(Unsubscriber, item)


def create(client: BicsClient, route: str, *, receiver: str, type: str | None,  # noqa: A002
           value: str | None) -> Unsubscriber:
    body = compact(receiver=receiver, type=type, value=value)
    resp = client.call(route, json=body)
    return build(Unsubscriber, first_object(resp.data) or body)


def clean(client: BicsClient, route: str) -> None:
    client.call(route)


def get(client: BicsClient, route: str, *, id: str) -> Unsubscriber:  # noqa: A002
    resp = client.call(route, path_params={"id": id})
    return build(Unsubscriber, first_object(resp.data))


def update(client: BicsClient, route: str, *, id: str, receiver: str,  # noqa: A002
           type: str | None, value: str | None) -> Unsubscriber:  # noqa: A002
    resp = client.call(route, path_params={"id": id},
                       json=compact(receiver=receiver, type=type, value=value))
    return build(Unsubscriber, first_object(resp.data))


def delete(client: BicsClient, route: str, *, id: str) -> None:  # noqa: A002
    client.call(route, path_params={"id": id})


def import_(client: BicsClient, route: str, *, file: Any, filename: str | None) -> Accepted:
    resp = client.call(route, files={"file": upload(file, filename)})
    return Accepted(resp.message, resp.data, resp.raw)
