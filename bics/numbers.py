"""Phone-number notation: we store E.164 with '+'; each route declares its wire notation.

``digits``: E.164 without '+' (SMS overview, Number Format); ``plus``: E.164 with '+' (contact
samples); ``none``: leave values alone. The client converts in one place, ``apply_notation``,
for the number fields declared in bics/shapes.py.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from bics.routes import ROUTES
from bics.shapes import number_fields

__all__ = ["apply_notation", "to_e164", "to_notation"]

_JUNK = re.compile(r"[\s().\-/]")


def to_notation(number: Any, notation: str) -> Any:
    """Convert one number (str) to ``notation``; non-strings are returned unchanged."""
    if notation == "none" or not isinstance(number, str):
        return number
    text = _JUNK.sub("", number.strip())
    if text.startswith("00"):
        text = text[2:]
    digits = text.lstrip("+")
    if notation == "digits":
        return digits
    if notation == "plus":
        return "+" + digits if digits else digits
    raise ValueError(f"unknown number notation {notation!r}")


def to_e164(number: Any) -> Any:
    """A number read back from BICS ("3247…" or "+3247…") in our stored form "+3247…"."""
    return to_notation(number, "plus")


def _convert_at(container: Any, parts: list[str], notation: str,
                when: tuple[str, str] | None, plus_only: bool = False) -> None:
    if not parts or not isinstance(container, dict):
        return
    head, rest = parts[0], parts[1:]
    walk = head.endswith("[]")
    key = head[:-2] if walk else head
    if key not in container:
        return
    value = container[key]
    if walk:
        if isinstance(value, list):
            for item in value:
                _convert_at(item, rest, notation, when, plus_only)
        return
    if rest:
        _convert_at(value, rest, notation, when, plus_only)
        return
    if when is not None and container.get(when[0]) != when[1]:
        return
    if plus_only and not (isinstance(value, str) and value.strip().startswith("+")):
        return  # a flow id (or anything not written as +E.164) is left alone
    if isinstance(value, list):
        container[key] = [to_notation(v, notation) for v in value]
    else:
        container[key] = to_notation(value, notation)


def apply_notation(route_name: str, payload: Mapping[str, Any] | None,
                   notation: str | None = None) -> Any:
    """A copy of ``payload`` with the route's number fields in the route's notation.

    ``notation`` defaults to ``ROUTES[route_name].numbers`` (pass the client's own route's
    notation when routes were overridden).
    """
    if payload is None:
        return None
    notation = notation or ROUTES[route_name].numbers
    fields = number_fields(route_name)
    if notation == "none" or not fields or not isinstance(payload, Mapping):
        return payload
    out = copy.deepcopy(dict(payload))
    for f in fields:
        _convert_at(out, f.name.split("."), notation, f.number_when, f.number_if_plus)
    return out
