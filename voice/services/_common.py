"""A small helper shared by the voice services (numbers, times and the client are the kernel's:
``core.phones``, ``core.bics_time``, ``core.bics``)."""

from __future__ import annotations


def as_int(value) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None
