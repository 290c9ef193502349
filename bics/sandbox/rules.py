"""Documented rules and tables the sandbox applies: DLR codes, template content rules,
sender ID rules, prices."""

from __future__ import annotations

import re

# DLR status and error codes (SMPP Gateway, Delivery Reports: Error Codes), code -> status.
DLR_CODES: dict[str, str] = {
    "000": "DELIVRD",
    "001": "INVALID-SUB",
    "002": "INVALID-SUB",
    "003": "ABSENT-SUB",
    "004": "HANDSET-ERR",
    "005": "BARRED",
    "006": "HANDSET-ERR",
    "007": "HANDSET-ERR",
    "008": "NET-ERR",
    "009": "MEMEXEC",
    "010": "ABSENT-SUB",
    "011": "FAILED",
    "012": "NET-ERR",
    "013": "MOB-OFF",
    "014": "FAILED",
    "015": "INVALID-SUB",
    "016": "HANDSET-BUSY",
    "017": "NET-ERR",
    "018": "SERIES-BLK",
    "019": "NET-ERR",
    "020": "BARRED",
    "021": "EXPIRED",
    "034": "UNDELIV",
    "045": "FAILED",
    "099": "UNDELIV",
    "400": "SERIES-BLOCK",
    "401": "NO-CREDITS",
    "402": "NO-ACCOUNT",
    "403": "SERVER-ERR",
    "404": "INV-NUMBER",
    "405": "SERVER-ERR",
    "406": "SERVER-ERR",
    "407": "SPAM",
    "408": "DNDNUMB",
    "430": "SERVER-ERR",
    "431": "SERVER-ERR",
    "432": "SERVER-ERR",
    "433": "SERVER-ERR",
    "450": "BLACKLST",
    "451": "SNDR-BLOCK",
    "452": "TEMPLATE-NOT-FOUND",
    "453": "INV-TEMPLATE",
    "454": "INV-SENDER",
    "455": "NOT-OPTIN",
    "456": "OPTOUT-REJ",
    "457": "PROMO-TMOUT",
    "458": "REJECTED",
    "459": "NOTALLOWED",
    "460": "DUPLICATE",
    "461": "UNDELIV",
    "462": "FAILED",
    "463": "THROTTLED",
    "778": "REJ-MULTIPART",
    "777": "DLT-REJECTED",
    "780": "DLT-INV-TMID",
    "781": "DLT-INV-ENTITY",
    "782": "DLT-INV-TM-ID",
    "783": "DLT-TM-VAR-EXECEED",
    "784": "DLT-ENTITY-NOT-FOUND",
    "785": "DLT-TM-BLACKLST",
    "786": "DLT-ENTITY-BLACKLST",
    "787": "DLT-HEADER-INACTIVE",
    "788": "DLT-TM-INACTIVE",
    "789": "DLT-SENDER-NOT-REG-TM",
    "790": "INV-PROVISION",
    "791": "INV-SERVICE",
    "792": "INV-SCHEDULE",
}
# The Smart Delivery help (Smart Delivery Process) names DLT rejection statuses, three of them
# absent from the table above (no code documented for them).
SMART_DELIVERY_DLT = ("DLT-REJECTED", "INV-PEID", "INV-TMID", "INV-ENTITY", "INV-TEMPLATE")
STATUS_CODE: dict[str, str | None] = {}
for _code, _status in DLR_CODES.items():
    STATUS_CODE.setdefault(_status, _code)
for _status in SMART_DELIVERY_DLT:
    STATUS_CODE.setdefault(_status, None)

DELIVERED = ("000",)
FAILED_CODES = ("001", "003", "009", "010", "011", "013", "016", "021", "034", "404", "408", "450")
DLT_STATUSES = (
    "DLT-REJECTED",
    "DLT-INV-TMID",
    "DLT-INV-ENTITY",
    "DLT-INV-TM-ID",
    "DLT-TM-VAR-EXECEED",
    "DLT-ENTITY-NOT-FOUND",
    "DLT-HEADER-INACTIVE",
    "DLT-SENDER-NOT-REG-TM",
    "INV-PEID",
    "INV-TMID",
    "INV-ENTITY",
    "INV-TEMPLATE",
)
GROUPS = {
    "delivered": ["DELIVRD"],
    "failed": [DLR_CODES[c] for c in FAILED_CODES],
    "dlt": list(DLT_STATUSES),
}
# WhatsApp and Viber message statuses (their overviews' Status Info); voice call statuses
# (Voice overview, Call Status).
CHANNEL_OUTCOME = {"delivered": "delivered", "failed": "failed", "dlt": "failed"}
CALL_OUTCOME = {"delivered": "ANSWER", "failed": "NOANSWER", "dlt": "CONGESTION"}


def resolve_status(value: str) -> tuple[str, str | None]:
    """A rule value (status name or 3-digit code) -> (status, code)."""
    text = str(value).strip()
    if text in DLR_CODES:
        return DLR_CODES[text], text
    upper = text.upper()
    if upper in STATUS_CODE:
        return upper, STATUS_CODE[upper]
    if upper.lower() in GROUPS:
        status = GROUPS[upper.lower()][0]
        return status, STATUS_CODE.get(status)
    return upper, None


def pick_status(ratios: dict[str, float], u: float, v: float) -> tuple[str, str | None, str]:
    """(status, code, group) for uniform draws u (which ratio) and v (which status in a group)."""
    acc = 0.0
    chosen = next(iter(ratios))
    for key, share in ratios.items():
        acc += share
        if u < acc:
            chosen = key
            break
    group = chosen.lower()
    if group in GROUPS:
        options = GROUPS[group]
        status = options[min(int(v * len(options)), len(options) - 1)]
        return status, STATUS_CODE.get(status), group
    status, code = resolve_status(chosen)
    return (
        status,
        code,
        ("delivered" if status == "DELIVRD" else "dlt" if status in DLT_STATUSES else "failed"),
    )


# ----------------------------------------------------------------- template rules
# Help, Message Templates: Content Template Validations, Do's and Don'ts for Content Template.
_VAR_OK = re.compile(r"\{\{[A-Za-z_][A-Za-z0-9_]*\}\}")
_BRACES = re.compile(r"\{\{|\}\}|\{|\}")


def template_problems(body: str, template_type: str | None = None) -> list[str]:
    """Reasons to reject an SMS content template (empty list = acceptable)."""
    problems: list[str] = []
    text = body or ""
    if "  " in text or text != text.strip(" "):
        problems.append("Two or more consecutive spaces, or spaces before/after the text.")
    if "<" in text or ">" in text:
        problems.append("The characters < and > are not allowed.")
    stripped = _VAR_OK.sub("", text)
    if _BRACES.search(stripped):
        problems.append("Variables must be written as {{name}}.")
    fixed = re.sub(r"\s+", "", stripped)
    if len(fixed) < 6:
        problems.append("At least 6 fixed characters are required (a variable alone is not a template).")
    if template_type in ("T", "SI", "SE") and not _VAR_OK.search(text):
        problems.append("Transactional and service templates must contain variables.")
    if any(ord(c) > 0xFFFF for c in text):
        problems.append("Non-keyboard characters are not allowed.")
    return problems


_ALPHA_SENDER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 .\-]{0,10}$")
_NUMERIC_SENDER = re.compile(r"^\d{3,15}$")


def sender_problems(name: str) -> list[str]:
    """Reasons to reject a sender ID (alphanumeric up to 11 characters, or digits up to 15).

    Not a rule of the documentation: the 11/15 limits are the GSM originator-address limits,
    enforced here only so the approval lifecycle has a rejection to show (bics/README.md)."""
    text = name or ""
    if _NUMERIC_SENDER.match(text) or (_ALPHA_SENDER.match(text) and not text.isdigit()):
        return []
    return ["A sender ID is up to 11 letters/digits, or a number of up to 15 digits."]


def render(body: str, data: dict) -> str:
    return _VAR_OK.sub(lambda m: str(data.get(m.group(0)[2:-2], m.group(0))), body or "")


# ----------------------------------------------------------------- countries and prices
# Calling code prefix -> ISO (longest prefix wins). A few, enough for a sandbox.
PREFIX_ISO = {
    "1": "US",
    "32": "BE",
    "31": "NL",
    "33": "FR",
    "34": "ES",
    "39": "IT",
    "41": "CH",
    "44": "GB",
    "49": "DE",
    "91": "IN",
    "971": "AE",
    "966": "SA",
    "234": "NG",
    "27": "ZA",
    "55": "BR",
    "52": "MX",
    "61": "AU",
    "65": "SG",
    "81": "JP",
    "93": "AF",
    "352": "LU",
}
COUNTRIES = {
    "US": "United States",
    "BE": "Belgium",
    "NL": "Netherlands",
    "FR": "France",
    "IN": "India",
    "GB": "United Kingdom",
    "DE": "Germany",
    "AF": "Afghanistan",
    "AE": "United Arab Emirates",
    "ES": "Spain",
}


def iso_of(number: str) -> str | None:
    digits = str(number or "").lstrip("+")
    for size in (3, 2, 1):
        iso = PREFIX_ISO.get(digits[:size])
        if iso:
            return iso
    return None


def price_rows(product: str) -> list[dict]:
    rows = []
    base = {"sms": 0.05, "voice": 0.02, "viber": 0.03, "whatsapp": 0.04}[product]
    services = {"sms": ["ENT", "MKT", "A2P"], "voice": ["SIPT"], "viber": [None], "whatsapp": ["WAP"]}[
        product
    ]
    n = 0
    for iso, country in COUNTRIES.items():
        for service in services:
            n += 1
            rows.append(
                {
                    "id": str(n),
                    "iso": iso,
                    "country": country,
                    "service": service,
                    "subservice": {"voice": "OBD", "whatsapp": "marketing", "viber": "promo"}.get(
                        product, ""
                    ),
                    "price": f"{base * (1 + (n % 7) / 10):.4f}",
                    "currency": "EUR",
                    "status": 1 if n % 5 else 0,
                }
            )
    return rows
