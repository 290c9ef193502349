"""Phone numbers, once: any common notation in, E.164 with '+' out (validated by `phonenumbers`).

* ``normalise_phone(raw, default_country)`` is for numbers people type or files carry: it
  parses with an optional default country, validates (`is_valid_number`, not merely possible)
  and answers ``(E.164, ISO region)``, or raises ``PhoneError`` whose ``problem`` says why.
* ``e164_from_bics(value)`` is for numbers BICS writes back ("3247…", "+3247…"): notation
  only, never refused, so a pulled or received record is never lost to our validation.
* ``to_bics(e164, notation)`` writes a stored number in a route's wire notation; the
  notation step itself lives in ``bics.numbers`` (the client applies it per route).

Plain Python (no Django), so the contact import's worker processes can use it.
"""

from __future__ import annotations

import enum

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata
from phonenumbers import phonenumberutil as _util

from bics.numbers import to_e164 as _bics_to_e164
from bics.numbers import to_notation

__all__ = ["PhoneError", "PhoneProblem", "e164_from_bics", "is_valid_for_region", "normalise_phone",
           "to_bics"]


class PhoneProblem(enum.Enum):
    EMPTY = "phone is empty"
    NO_COUNTRY_CODE = "no country code (give a default country)"
    UNKNOWN_DEFAULT_COUNTRY = "unknown default country"
    INVALID_COUNTRY_CODE = "invalid country code"
    NOT_A_NUMBER = "not a phone number"
    TOO_SHORT = "too short"
    TOO_LONG = "too long"
    INVALID = "not a valid number"
    FICTIONAL = "fictional (555-01XX)"


class PhoneError(ValueError):
    """The reason a number is refused, fit for a rejection list: "invalid number '…': reason"."""

    def __init__(self, raw: str, problem: PhoneProblem, detail: str = ""):
        self.raw = raw
        self.problem = problem
        reason = f"{problem.value} {detail}".strip()
        super().__init__(reason if problem is PhoneProblem.EMPTY else f"invalid number {raw!r}: {reason}")


_PARSE_PROBLEMS = {
    NumberParseException.NOT_A_NUMBER: PhoneProblem.NOT_A_NUMBER,
    NumberParseException.TOO_SHORT_AFTER_IDD: PhoneProblem.TOO_SHORT,
    NumberParseException.TOO_SHORT_NSN: PhoneProblem.TOO_SHORT,
    NumberParseException.TOO_LONG: PhoneProblem.TOO_LONG,
}

# The number types a valid number matches one of; the likeliest in an audience file first.
_TYPE_DESCS = ("mobile", "fixed_line", "toll_free", "premium_rate", "shared_cost", "voip",
               "personal_number", "pager", "uan", "voicemail")  # fmt: skip
_matches = getattr(_util, "_is_number_matching_desc", None)


def is_valid_for_region(number, region: str) -> bool:
    """`phonenumbers.is_valid_number_for_region`: the same rule, with the library's helper.

    The library works out which type a number is (premium rate, toll free, ... mobile last)
    and calls it valid unless no type matches; validity needs one match only, so mobile and
    fixed line are tried first (a Dutch mobile costs a third). `tests/core/test_phones.py`
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


def _prepared(raw: str, region: str | None) -> str:
    text = raw.strip()
    if text.startswith("00"):  # international access code written out: 0032 470 ...
        return "+" + text[2:]
    if region is None and text[0].isdigit() and text[0] != "0" and len(text) > 9:
        return "+" + text  # '32470123456': BICS's notation, the country code without '+'
    return text


def _parse(raw: str, text: str, region: str | None) -> phonenumbers.PhoneNumber:
    try:
        return phonenumbers.parse(text, region)
    except NumberParseException as exc:
        if exc.error_type != NumberParseException.INVALID_COUNTRY_CODE:
            raise PhoneError(raw, _PARSE_PROBLEMS.get(exc.error_type, PhoneProblem.NOT_A_NUMBER)) from None
    # INVALID_COUNTRY_CODE covers three different mistakes: tell them apart.
    if text.lstrip().startswith("+"):
        raise PhoneError(raw, PhoneProblem.INVALID_COUNTRY_CODE) from None
    if region is not None:
        raise PhoneError(raw, PhoneProblem.UNKNOWN_DEFAULT_COUNTRY, repr(region)) from None
    raise PhoneError(raw, PhoneProblem.NO_COUNTRY_CODE) from None


def normalise_phone(raw: str, default_country: str | None = None) -> tuple[str, str]:
    """Returns (E.164 number, ISO region; "" for non-geographic numbers) or raises PhoneError.

    A number without a country code ('0470 12 34 56') needs `default_country`; '00' and '+'
    prefixes are understood, and so are bare digits with the country code ('32470123456',
    BICS's notation) when no default country is given.
    """
    raw = "" if raw is None else str(raw)
    if not raw.strip():
        raise PhoneError(raw, PhoneProblem.EMPTY)
    region = default_country.upper() if default_country else None
    number = _parse(raw, _prepared(raw, region), region)
    # What is_valid_number does, keeping the region it finds (asked only once: for shared
    # calling codes such as +1 or +44 it tries every region of the code).
    region_code = phonenumbers.region_code_for_number(number)
    if not region_code or not is_valid_for_region(number, region_code):
        raise PhoneError(raw, PhoneProblem.INVALID)
    national = number.national_number
    if number.country_code == 1 and str(national)[3:6] == "555" and 100 <= national % 10000 <= 199:
        # NANP 555-0100..0199 is reserved for fiction; phonenumbers calls it valid.
        raise PhoneError(raw, PhoneProblem.FICTIONAL)
    if len(region_code) != 2:  # "001": non-geographic (satellite, universal numbers)
        region_code = ""
    digits = str(national)
    if number.italian_leading_zero:
        digits = "0" * (number.number_of_leading_zeros or 1) + digits
    return f"+{number.country_code}{digits}", region_code


def e164_from_bics(value) -> str:
    """A number as BICS writes it ("3247…", "+32 47…", "0032…") in our stored form "+3247…".

    Notation only, no validation; anything but digits (and a leading '+') is dropped, and a
    value without digits gives "".
    """
    text = "" if value is None else str(value).strip()
    kept = "".join(ch for ch in text if ch.isdigit())
    if not kept:
        return ""
    return _bics_to_e164(("+" if text.startswith("+") else "") + kept)


def to_bics(e164: str, notation: str = "digits") -> str:
    """A stored number in a wire notation: ``digits`` (the SMS chapter), ``plus`` or ``none``."""
    return to_notation(e164 or "", notation)
