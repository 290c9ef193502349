"""SMS units: how many parts BICS bills for a text, per the Send Message ``type``.

One counter for the product (part counts, cost preview) and the sandbox (billing), so the two
agree on the same text. "SMS Length Summary" gives 160 characters for one GSM part and 153 per
part of a longer message; 70 and 67 for Unicode. Send Message ``type`` is ``U`` (Unicode),
``N`` (normal: a character outside the GSM set "will be replaced with a question mark") or
``A`` (auto-detect). The printed list of allowed characters is garbled in the export, so the
GSM 03.38 default alphabet and its extension table stand in for it (extension characters
take two units: escape + character).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["GSM7_BASIC", "GSM7_EXTENSION", "TYPES", "Units", "count", "normalise"]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
GSM7 = GSM7_BASIC | GSM7_EXTENSION
GSM7_SINGLE, GSM7_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67
TYPES = ("U", "N", "A")


@dataclass(frozen=True)
class Units:
    charset: str  # "GSM-7" | "Unicode"
    characters: int  # characters as the user sees them
    units: int  # septets (GSM-7) or UTF-16 code units (Unicode)
    parts: int  # what BICS bills
    per_part: int  # capacity of one part at this length (160/153 or 70/67)
    max_single: int
    text: str = ""  # the text as delivered (type N: non-GSM characters replaced by '?')
    unicode_chars: list[str] = field(default_factory=list)  # the characters forcing Unicode
    extension_chars: list[str] = field(default_factory=list)  # GSM-7 chars counting double


def _unique(chars) -> list[str]:
    return list(dict.fromkeys(chars))


def _is_gsm(char: str) -> bool:
    return char in GSM7_BASIC or char in GSM7_EXTENSION


def normalise(text: str) -> str:
    """Type ``N``: every character outside the GSM set becomes '?'."""
    return "".join(c if _is_gsm(c) else "?" for c in text or "")


def count(text: str, type: str | None = "A") -> Units:  # noqa: A002 - the documented name
    """Units of ``text`` sent with Send Message ``type`` (None or blank: ``A``)."""
    text = text or ""
    kind = (type or "A").upper()
    if kind not in TYPES:
        raise ValueError(f"unknown SMS type {type!r}; expected one of {', '.join(TYPES)}")
    distinct = set(text)
    if distinct <= GSM7:  # the common case: one set test instead of a test per character
        sent, unicode_chars = text, []
    else:
        sent = normalise(text) if kind == "N" else text
        unicode_chars = [c for c in text if not _is_gsm(c)]
    if kind == "U" or (kind == "A" and unicode_chars):
        units = len(sent.encode("utf-16-le")) // 2
        single, multi, charset = UCS2_SINGLE, UCS2_MULTI, "Unicode"
        extension: list[str] = []
    else:
        # (normalising only replaces characters outside both tables: ``distinct`` tells)
        extension = [] if distinct.isdisjoint(GSM7_EXTENSION) else [c for c in sent if c in GSM7_EXTENSION]
        units = len(sent) + len(extension)
        single, multi, charset = GSM7_SINGLE, GSM7_MULTI, "GSM-7"
    if units <= single:
        parts, per_part = (1 if units else 0), single
    else:
        parts, per_part = math.ceil(units / multi), multi
    return Units(charset=charset, characters=len(text), units=units, parts=parts,
                 per_part=per_part, max_single=single, text=sent,
                 unicode_chars=_unique(unicode_chars) if kind != "N" else [],
                 extension_chars=_unique(extension))
