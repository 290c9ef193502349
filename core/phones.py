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
import re

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, NumberParseException, PhoneMetadata

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
_NON_GEO = phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY


def is_valid_for_region(number, region: str) -> bool:
    """`phonenumbers.is_valid_number_for_region`: the same rule, from the same metadata.

    The library works out which type a number is (premium rate, toll free, ... mobile last)
    and calls it valid unless no type matches; validity needs one match only, so the general
    pattern and every type's are one compiled expression per region and number length.
    `tests/core/test_phones.py` checks the agreement with `is_valid_number` on a large sample.
    """
    return _valid_nsn(number.country_code, phonenumbers.national_significant_number(number), region)


def _desc(desc) -> tuple[frozenset, re.Pattern] | None:
    """A number description (`PhoneNumberDesc`) as (possible lengths, compiled pattern)."""
    if desc is None or not desc.national_number_pattern:
        return None  # no pattern: nothing matches it
    return frozenset(desc.possible_length or ()), re.compile(desc.national_number_pattern)


_validators: dict[tuple[int, str], tuple | None] = {}


def _validator(code: int, region: str) -> tuple | None:
    """(general description, type descriptions) of `region` for calling code `code`; None
    when the code is not the region's (then no number of the code is valid there)."""
    key = (code, region)
    if key not in _validators:
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, region.upper())
        general = None if metadata is None else _desc(metadata.general_desc)
        if general is None or (region != _NON_GEO and code != phonenumbers.country_code_for_valid_region(region)):
            _validators[key] = None
        else:
            types = tuple(d for d in (_desc(getattr(metadata, name)) for name in _TYPE_DESCS) if d is not None)
            _validators[key] = (general, types)
    return _validators[key]


_combined: dict[tuple[int, str, int], re.Pattern | None] = {}


def _combine(code: int, region: str, length: int) -> re.Pattern | None:
    """What the library checks for a number of `length` digits, as one pattern: its length
    among the general description's possible lengths (if listed) and a full match of the
    general pattern (the lookahead), then a full match of one type whose lengths allow
    `length` (the alternation; `match` of `(?:p)\\Z` is `fullmatch(p)`). None: no number of
    that length is valid there."""
    validator = _validator(code, region)
    if validator is None:
        return None
    (general_lengths, general), types = validator
    if general_lengths and length not in general_lengths:
        return None
    fitting = [pattern.pattern for lengths, pattern in types if not lengths or length in lengths]
    if not fitting:
        return None
    return re.compile(f"(?=(?:{general.pattern})\\Z)(?:{'|'.join(f'(?:{p})' for p in fitting)})\\Z")


def _valid_nsn(code: int, nsn: str, region: str) -> bool:
    """`is_valid_for_region` of the number with calling code `code` and national significant
    number `nsn` (leading zeros included): one regular expression per region and length."""
    key = (code, region, len(nsn))
    try:
        pattern = _combined[key]
    except KeyError:
        pattern = _combined[key] = _combine(*key)
    return pattern is not None and pattern.match(nsn) is not None


# '+', a calling code and ASCII digits, with spaces, dots or hyphens between them.
_PLAIN_INTERNATIONAL = re.compile(r"\+([1-9][0-9 .\-]*[0-9])")
_SEPARATORS = str.maketrans("", "", " .-")
_national_prefixes: dict[int, re.Pattern | None] = {}


def _national_prefix(code: int) -> re.Pattern | None:
    """The pattern of the national prefix (trunk '0', ...) that `phonenumbers.parse` strips
    after the calling code of `code`, or None."""
    if code not in _national_prefixes:
        region = phonenumbers.region_code_for_country_code(code)
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, region)
        pattern = metadata.national_prefix_for_parsing if metadata is not None else None
        _national_prefixes[code] = re.compile(pattern) if pattern else None
    return _national_prefixes[code]


def _plain_international(text: str) -> tuple[int, str] | None:
    """(calling code, national significant number) of a plain '+CC NNN' text: what
    `phonenumbers.parse(text, None)` finds, without its general passes (vanity letters,
    extensions, RFC 3966, ...), which such a text never needs. The import's numbers are mostly
    written so, and parsing is most of the cost of checking one. None for any text that is
    not plain or where the library would do more than split off the calling code (a national
    prefix or leading zero after it, an odd length): those take the general parser.
    `tests/core/test_phones.py` holds the two paths to the same answers."""
    match = _PLAIN_INTERNATIONAL.fullmatch(text) if len(text) <= 250 else None
    if match is None:
        return None
    digits = match.group(1).translate(_SEPARATORS)
    for size in (1, 2, 3):  # calling codes are prefix-free: the first one found is the one
        code = int(digits[:size])
        if code in COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    nsn = digits[size:]
    if not 2 <= len(nsn) <= 17 or nsn[0] == "0":
        return None
    prefix = _national_prefix(code)
    if prefix is not None and prefix.match(nsn):
        return None
    return code, nsn


_leading_digits: dict[str, re.Pattern | None] = {}


def _valid_region(code: int, nsn: str) -> str | None:
    """The region of a valid number, else None: what `is_valid_number` does, keeping the
    region it finds (`region_code_for_number`: for a calling code shared by several regions,
    such as +1 or +44, the first whose leading digits or number ranges match)."""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(code, ())
    if len(regions) == 1:
        return regions[0] if _valid_nsn(code, nsn, regions[0]) else None
    for region in regions:
        if region not in _leading_digits:
            metadata = PhoneMetadata.metadata_for_region(region, None)
            pattern = metadata.leading_digits if metadata is not None else None
            _leading_digits[region] = re.compile(pattern) if pattern is not None else None
        leading = _leading_digits[region]
        if leading is not None:
            if leading.match(nsn):
                return region if _valid_nsn(code, nsn, region) else None
        elif _valid_nsn(code, nsn, region):  # its number ranges: valid there
            return region
    return None


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
    text = _prepared(raw, region)
    plain = _plain_international(text)
    if plain is None:
        number = _parse(raw, text, region)
        code, nsn = number.country_code, phonenumbers.national_significant_number(number)
    else:
        code, nsn = plain
    region_code = _valid_region(code, nsn)
    if region_code is None:
        raise PhoneError(raw, PhoneProblem.INVALID)
    if code == 1 and nsn[3:6] == "555" and 100 <= int(nsn[-4:]) <= 199:
        # NANP 555-0100..0199 is reserved for fiction; phonenumbers calls it valid.
        raise PhoneError(raw, PhoneProblem.FICTIONAL)
    if len(region_code) != 2:  # "001": non-geographic (satellite, universal numbers)
        region_code = ""
    return f"+{code}{nsn}", region_code


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
