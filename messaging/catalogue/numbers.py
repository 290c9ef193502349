"""Phone numbers: we store E.164 with '+'; the SMS/WhatsApp/Viber routes want digits only."""

import phonenumbers


def normalise_number(raw: str, default_region: str | None = None) -> tuple[str, str]:
    """Return (E.164 with '+', ISO region). Accepts '+32...', '0032...' and bare digits with
    a country code (BICS's notation). Raises ValueError with a readable reason."""
    text = "".join(ch for ch in str(raw or "") if ch.isdigit() or ch == "+")
    if text.startswith("00"):
        text = "+" + text[2:]
    elif text and not text.startswith("+") and default_region is None:
        text = "+" + text
    try:
        parsed = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{raw!r} is not a phone number ({exc}).") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError(f"{raw!r} is not a possible phone number.")
    region = phonenumbers.region_code_for_number(parsed) or ""
    if not region:  # e.g. reserved fictional ranges: fall back to the country code's main region
        main = phonenumbers.region_code_for_country_code(parsed.country_code)
        region = "" if main in (None, "ZZ", "001") else main
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), region


def to_bics_digits(number: str) -> str:
    """E.164 without '+' (Number Format)."""
    return (number or "").lstrip("+")


def from_bics_digits(receiver: str) -> str:
    receiver = str(receiver or "").strip()
    if not receiver:
        return ""
    try:
        return normalise_number(receiver)[0]
    except ValueError:
        return receiver if receiver.startswith("+") else "+" + receiver
