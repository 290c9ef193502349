"""Phone number masking for Verify: who may see a full number, and what the others see."""

from __future__ import annotations

MASK_CHAR = "•"
PERMISSION = "verify.view_full_numbers"


def mask_number(number: str) -> str:
    """'+32470123456' -> '+32••••••456': country prefix and the last three digits stay.

    Idempotent: a masked number masks to itself.
    """
    if not number:
        return number
    plus = "+" if number.startswith("+") else ""
    digits = number[len(plus):]
    if len(digits) <= 5:
        return plus + MASK_CHAR * len(digits)
    return plus + digits[:2] + MASK_CHAR * (len(digits) - 5) + digits[-3:]


def can_view_full_numbers(user) -> bool:
    return bool(user and user.is_active and user.has_perm(PERMISSION))


def number_for(user, number: str) -> str:
    return number if can_view_full_numbers(user) else mask_number(number)
