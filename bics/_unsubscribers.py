"""The seven unsubscriber operations of sms, voice (Engage), viber and whatsapp, written once.

The four products document the same operations with the same fields (list, create, clean,
get, update, delete, import); only the route prefix differs, and Viber's list documents no
filters. ``family(product)`` builds the seven public, typed functions of one product; each
product module binds them under their public names (``sms.list_unsubscribers`` ...). Every
function carries its route name in ``.route``. Allowed ``type`` values differ per product:
bics/shapes.py checks them, not this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

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

ACTIONS = ("list", "create", "clean", "get", "update", "delete", "import")


class Family(NamedTuple):
    list_unsubscribers: Any
    create_unsubscriber: Any
    clean_unsubscribers: Any
    get_unsubscriber: Any
    update_unsubscriber: Any
    delete_unsubscriber: Any
    import_unsubscribers: Any


def _reads(product: str, list_filters: bool):
    route = f"{product}.unsubscribers."
    if list_filters:
        def list_unsubscribers(client: BicsClient, *, id: str | None = None,  # noqa: A002
                               iso: str | None = None, receiver: str | None = None,
                               type: str | None = None,  # noqa: A002
                               value: str | None = None) -> Iterator[Unsubscriber]:
            params = filters(id=id, iso=iso, receiver=receiver, type=type, value=value)
            for item in client.iterate(route + "list", params=params):
                yield build(Unsubscriber, item)
    else:
        def list_unsubscribers(client: BicsClient) -> Iterator[Unsubscriber]:
            for item in client.iterate(route + "list"):
                yield build(Unsubscriber, item)

    def get_unsubscriber(client: BicsClient, *, id: str) -> Unsubscriber:  # noqa: A002
        resp = client.call(route + "get", path_params={"id": id})
        return build(Unsubscriber, first_object(resp.data))

    return list_unsubscribers, get_unsubscriber


def _writes(product: str):
    route = f"{product}.unsubscribers."

    def create_unsubscriber(client: BicsClient, *, receiver: str,
                            type: str | None = None,  # noqa: A002
                            value: str | None = None) -> Unsubscriber:
        body = compact(receiver=receiver, type=type, value=value)
        resp = client.call(route + "create", json=body)
        return build(Unsubscriber, first_object(resp.data) or body)

    def clean_unsubscribers(client: BicsClient) -> None:
        client.call(route + "clean")

    def update_unsubscriber(client: BicsClient, *, id: str, receiver: str,  # noqa: A002
                            type: str | None = None,  # noqa: A002
                            value: str | None = None) -> Unsubscriber:
        resp = client.call(route + "update", path_params={"id": id},
                           json=compact(receiver=receiver, type=type, value=value))
        return build(Unsubscriber, first_object(resp.data))

    def delete_unsubscriber(client: BicsClient, *, id: str) -> None:  # noqa: A002
        client.call(route + "delete", path_params={"id": id})

    def import_unsubscribers(client: BicsClient, *, file: Any,
                             filename: str | None = None) -> Accepted:
        resp = client.call(route + "import", files={"file": upload(file, filename)})
        return Accepted(resp.message, resp.data, resp.raw)

    return (create_unsubscriber, clean_unsubscribers, update_unsubscriber,
            delete_unsubscriber, import_unsubscribers)


def family(product: str, label: str, *, list_filters: bool = True) -> Family:
    """The seven functions of ``product`` ("sms", "voice", "viber", "whatsapp")."""
    list_fn, get_fn = _reads(product, list_filters)
    create_fn, clean_fn, update_fn, delete_fn, import_fn = _writes(product)
    funcs = Family(list_fn, create_fn, clean_fn, get_fn, update_fn, delete_fn, import_fn)
    for func, action in zip(funcs, ACTIONS, strict=True):
        func.__module__ = f"bics.{product}"
        func.__qualname__ = func.__name__
        func.__doc__ = f"{action.capitalize()} ({label}; route {product}.unsubscribers.{action})."
        func.route = f"{product}.unsubscribers.{action}"
    funcs.clean_unsubscribers.__doc__ = (f"Delete ALL {label} entries at BICS (superusers, "
                                         "after an export).")
    return funcs
