"""Phone numbers: any common notation in, E.164 with '+' out (validated by `phonenumbers`).

Plain Python (no Django), so the import worker processes can use it.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata
from phonenumbers import phonenumberutil as _util

__all__ = ["PhoneError", "normalise_phone", "to_digits"]

_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "no country code (give a default country)",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}


# The number types a valid number matches one of; the likeliest in an audience file first.
_TYPE_DESCS = ("mobile", "fixed_line", "toll_free", "premium_rate", "shared_cost", "voip",
               "personal_number", "pager", "uan", "voicemail")  # fmt: skip
_matches = getattr(_util, "_is_number_matching_desc", None)


def is_valid_for_region(number, region: str) -> bool:
    """`phonenumbers.is_valid_number_for_region`: the same rule, with the library's helper.

    The library works out which type a number is (premium rate, toll free, ... mobile last)
    and calls it valid unless no type matches; validity needs one match only, so mobile and
    fixed line are tried first (a Dutch mobile costs a third). `tests/contacts/test_phones.py`
    checks the agreement with `is_valid_number` on a large sample; a library version without
    the helper gets its own function.
    """
    if _matches is None:
        return phonenumbers.is_valid_number_for_region(number, region)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(number.country_code, region.upper())
    if metadata is None or (
        region != _util.REGION_CODE_FOR_NON_GEO_ENTITY
        and number.country_code != phonenumbers.country_code_for_valid_region(region)
    ):
        return False
    nsn = phonenumbers.national_significant_number(number)
    if not _matches(nsn, metadata.general_desc):
        return False
    return any(_matches(nsn, getattr(metadata, name)) for name in _TYPE_DESCS)


class PhoneError(ValueError):
    """The reason a number is refused, fit for a rejection list."""


def normalise_phone(raw: str, default_country: str | None = None) -> tuple[str, str]:
    """Returns (E.164 number, ISO region) or raises PhoneError with a short reason.

    A number without a country code ('0470 12 34 56') needs `default_country`; '00' and '+'
    prefixes are understood. The number must be valid (`phonenumbers.is_valid_number`), not
    merely possible.
    """
    text = (raw or "").strip()
    if not text:
        raise PhoneError("phone is empty")
    region = default_country.upper() if default_country else None
    if text.startswith("00"):  # international access code written out: 0032 470 ...
        text = "+" + text[2:]
    if region is None and text[0] not in "+0":
        # '32470123456': digits with the country code but without '+'.
        if text[0].isdigit() and len(text) > 9:
            text = "+" + text
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        raise PhoneError(f"invalid number {raw!r}: {_REASONS.get(exc.error_type, 'unreadable')}") from None
    # What is_valid_number does, keeping the region it finds (asked only once: for shared
    # calling codes such as +1 or +44 it tries every region of the code).
    region_code = phonenumbers.region_code_for_number(number)
    if not region_code or not is_valid_for_region(number, region_code):
        raise PhoneError(f"invalid number {raw!r}: not a valid number")
    if number.country_code == 1 and str(number.national_number)[3:6] == "555" and 100 <= number.national_number % 10000 <= 199:
        # NANP 555-0100..0199 is reserved for fiction; phonenumbers calls it valid.
        raise PhoneError(f"invalid number {raw!r}: fictional (555-01XX)")
    if len(region_code) != 2:  # "001": non-geographic (satellite, universal numbers)
        region_code = ""
    national = str(number.national_number)
    if number.italian_leading_zero:
        national = "0" * (number.number_of_leading_zeros or 1) + national
    return f"+{number.country_code}{national}", region_code


def to_digits(e164: str) -> str:
    """'+32470123456' -> '32470123456' (the SMS chapter's notation)."""
    return e164.lstrip("+")
