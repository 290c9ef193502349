"""Phone numbers for staff who may not see them whole.

Project-wide permission ``core.view_full_numbers`` (created by core's migration 0002);
Verify's own ``verify.view_full_numbers`` counts too. Everyone else sees '+32••••••456'.
Lists and exports call ``number_for(user, number)`` or the ``masked`` template filter.
"""

from __future__ import annotations

from verify.masking import MASK_CHAR, mask_number

PERMISSION = "core.view_full_numbers"
PERMISSIONS = (PERMISSION, "verify.view_full_numbers")

__all__ = ["MASK_CHAR", "PERMISSION", "can_view_full_numbers", "mask_number", "number_for"]


def can_view_full_numbers(user) -> bool:
    if not (user and user.is_active):
        return False
    return any(user.has_perm(p) for p in PERMISSIONS)


def number_for(user, number: str) -> str:
    return number if can_view_full_numbers(user) else mask_number(number)
