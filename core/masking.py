"""Phone numbers for staff who may not see them whole: one mask for every app.

Project-wide permission ``core.view_full_numbers`` (created by core's migration 0002);
Verify's own ``verify.view_full_numbers`` counts too. Everyone else sees '+32••••••456'.
Lists and exports call ``number_for(user, number)`` or the ``masked`` template filter; free
text that may carry a number (an import's rejected row) goes through ``mask_numbers_in_text``.
"""

from __future__ import annotations

import re

MASK_CHAR = "•"
PERMISSION = "core.view_full_numbers"
PERMISSIONS = (PERMISSION, "verify.view_full_numbers")

__all__ = ["MASK_CHAR", "PERMISSION", "PERMISSIONS", "can_view_full_numbers", "mask_number",
           "mask_numbers_in_text", "number_for"]

# A phone number written in running text: optional '+', then digits with the usual separators.
_NUMBER_IN_TEXT = re.compile(r"\+?\d[\d ().\-/]{4,}\d")


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


def mask_numbers_in_text(text: str) -> str:
    """Every run of 6+ digits (a number in any notation) masked: '+32 470 12 34 56' -> '+32••••••456'."""

    def replace(match: re.Match) -> str:
        found = match.group(0)
        digits = "".join(ch for ch in found if ch.isdigit())
        if len(digits) < 6:
            return found
        return mask_number(("+" if found.startswith("+") else "") + digits)

    return _NUMBER_IN_TEXT.sub(replace, text or "")


def can_view_full_numbers(user, permissions: tuple[str, ...] = PERMISSIONS) -> bool:
    """Whether `user` sees whole numbers: active and holding one of `permissions`."""
    if not (user and user.is_active):
        return False
    return any(user.has_perm(p) for p in permissions)


def number_for(user, number: str, permissions: tuple[str, ...] = PERMISSIONS) -> str:
    return number if can_view_full_numbers(user, permissions) else mask_number(number)
