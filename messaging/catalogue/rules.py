"""Template rules and SMS length/encoding analysis. Pure Python: no database, no Django models.

Sources (sections of the BICS documentation):

* Help, Message Templates (Content Template Validations, Do's and Don'ts for Content Template):
  no two consecutive spaces and no space before/after a word, no ``<`` or ``>``, variables as
  ``{{name}}``, transactional and service templates must contain variables, at least 6 fixed
  characters and never variables alone, promotional templates from numeric
  senders only, service-explicit templates need a linked consent template.
* SMS length and encoding (SMS Length Summary): 160/153 characters per part in GSM-7, 70/67 in
  Unicode; for type "normal" a character outside the set is replaced with ``?``. The printed
  character list is garbled (SMS Length Summary), so we use the GSM 03.38 default alphabet and
  its extension table (``^ { } \\ [ ~ ] | €`` take two units: escape + character).
* WhatsApp variables must have distinct names (WhatsApp, Create Template); WhatsApp and Viber
  template names have no spaces (Viber and WhatsApp, Create Template); WhatsApp media
  limits (Send Whatsapp Message).

Every rule has a ``code`` (shown in the form and in errors, so the failing rule is named) and
a level: ``error`` blocks saving/submitting, ``warning`` is shown and allowed.
"""

from __future__ import annotations

import csv
import re
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path

from bics import units as sms_units
from messaging.catalogue.links import LINK_RE, as_short_form

ERROR = "error"
WARNING = "warning"

# One unit counter for the product and the BICS sandbox's billing (bics.units).
GSM7_BASIC, GSM7_EXTENSION = sms_units.GSM7_BASIC, sms_units.GSM7_EXTENSION
GSM7_SINGLE, GSM7_MULTI = sms_units.GSM7_SINGLE, sms_units.GSM7_MULTI
UCS2_SINGLE, UCS2_MULTI = sms_units.UCS2_SINGLE, sms_units.UCS2_MULTI

VARIABLE_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")
ANY_BRACES_RE = re.compile(r"\{\{(.*?)\}\}")
MIN_FIXED_CHARS = 6

# Message types of Send Message (SMS): U unicode, N normal, A auto-detect.
MESSAGE_TYPE_NORMAL = "N"

# WhatsApp media limits (Send Whatsapp Message).
MB = 1024 * 1024
WHATSAPP_MEDIA = {
    "image": (5 * MB, ("image/jpeg", "image/png")),
    "audio": (16 * MB, ("audio/aac", "audio/mp4", "audio/amr", "audio/mpeg", "audio/ogg; codecs=opus")),
    "video": (16 * MB, ("video/mp4", "video/3gpp")),
    "document": (100 * MB, None),  # anything with a valid MIME type
}
WHATSAPP_CATEGORIES = ("marketing", "utility", "authentication")
WHATSAPP_LANGUAGES = ("en", "en_US")
WHATSAPP_TYPES = ("text", "JSON", "media", "template")
VIBER_CATEGORIES = ("transactional", "promotional", "session")
# The eleven documented creation methods of Viber templates (Viber, Create Template); "type" is "text" only.
VIBER_METHODS = (
    "transaction_text", "transaction_file", "session_text", "session_file", "session_image",
    "promotional_video", "promotional_image", "promotional_image_text_button",
    "promotional_video_text", "promotional_text_button", "promotional_video_text_button",
)


# --------------------------------------------------------------------------- analysis
@dataclass(frozen=True)
class SmsAnalysis:
    charset: str  # "GSM-7" | "Unicode"
    characters: int  # characters as the user sees them
    units: int  # septets (GSM-7, extension chars count 2) or UTF-16 code units (Unicode)
    parts: int
    per_part: int  # capacity of one part at this length (160/153 or 70/67)
    max_single: int
    unicode_chars: list[str] = field(default_factory=list)  # the characters forcing Unicode
    extension_chars: list[str] = field(default_factory=list)  # GSM-7 chars counting double

    def as_dict(self) -> dict:
        return asdict(self)


def analyse(text: str, message_type: str | None = "A") -> SmsAnalysis:
    """Character set, length and number of SMS parts for ``text`` sent as ``message_type``
    (U, N or A), counted as the BICS sandbox bills it. Tracked links count as their short URL."""
    info = sms_units.count(as_short_form(text), message_type)
    return SmsAnalysis(
        charset=info.charset, characters=info.characters, units=info.units, parts=info.parts,
        per_part=info.per_part, max_single=info.max_single, unicode_chars=info.unicode_chars,
        extension_chars=info.extension_chars,
    )


def variables(content: str) -> list[str]:
    return VARIABLE_RE.findall(content or "")


def fixed_text(content: str) -> str:
    """The content without its variables and whitespace: what the recipient always sees."""
    return re.sub(r"\s+", "", VARIABLE_RE.sub("", content or ""))


# --------------------------------------------------------------------------- rules
@dataclass(frozen=True)
class RuleResult:
    code: str
    level: str
    message: str

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class TemplateFacts:
    """What the rules look at; built from a Template instance or from the admin form's data."""

    channel: str = "sms"  # sms | whatsapp | viber
    content: str = ""
    name: str = ""
    template_type: str = ""  # SMS: T, P, SI, SE
    message_type: str = "A"  # SMS: A, N, U
    sender_name: str = ""
    sender_numeric: bool | None = None  # None: no sender chosen
    has_consent_template: bool = False
    channel_payload: dict = field(default_factory=dict)


def _r(code: str, level: str, message: str) -> RuleResult:
    return RuleResult(code, level, message)


def check_spaces(facts: TemplateFacts) -> list[RuleResult]:
    out = []
    if "  " in facts.content:
        out.append(_r("double-space", ERROR, "Two or more consecutive spaces are not allowed."))
    if facts.content != facts.content.strip():
        out.append(_r("edge-space", ERROR, "The content must not start or end with a space."))
    return out


def check_angle_brackets(facts: TemplateFacts) -> list[RuleResult]:
    if "<" in facts.content or ">" in facts.content:
        return [_r("angle-brackets", ERROR, "The characters < and > are not allowed.")]
    return []


def check_variable_syntax(facts: TemplateFacts) -> list[RuleResult]:
    out = []
    content = facts.content
    for inner in ANY_BRACES_RE.findall(content):
        if LINK_RE.fullmatch("{{" + inner + "}}"):
            continue  # a tracked link (messaging.catalogue.links)
        if not inner.strip():
            out.append(_r("empty-variable", ERROR, "Empty variable {{}}: give it a name, e.g. {{name}}."))
        elif not VARIABLE_RE.fullmatch("{{" + inner + "}}"):
            out.append(_r("bad-variable", ERROR,
                          f"Invalid variable {{{{{inner}}}}}: use letters, digits and _ only."))
    rest = ANY_BRACES_RE.sub("", content)
    if "{" in rest or "}" in rest:
        out.append(_r("unbalanced-braces", ERROR,
                      "Unbalanced braces: variables are written {{name}}, with two braces each side."))
    return out


def check_links_channel(facts: TemplateFacts) -> list[RuleResult]:
    """Tracked links are issued into the SMS text; a WhatsApp or Viber template is registered
    and sent by BICS with its own words and variables, so a link there would reach nobody."""
    if facts.channel != "sms" and LINK_RE.search(facts.content or ""):
        return [_r("link-sms-only", ERROR, "Tracked links {{link:…}} work in SMS templates only: "
                   "write the URL itself, or a {{variable}} for it.")]
    return []


def check_variables_required(facts: TemplateFacts) -> list[RuleResult]:
    # a tracked link is registered at BICS as a variable (catalogue.links.as_bics_body)
    if (facts.channel == "sms" and facts.template_type in ("T", "SI", "SE") and not variables(facts.content)
            and not LINK_RE.search(facts.content)):
        return [_r("variables-required", ERROR,
                   "Transactional and service templates must contain at least one {{variable}}.")]
    return []


def check_fixed_characters(facts: TemplateFacts) -> list[RuleResult]:
    fixed = fixed_text(facts.content)
    if variables(facts.content) and not fixed:
        return [_r("variables-only", ERROR, "A template cannot be made of variables alone.")]
    if len(fixed) < MIN_FIXED_CHARS:
        return [_r("min-fixed-chars", ERROR,
                   f"At least {MIN_FIXED_CHARS} fixed characters are required (has {len(fixed)}).")]
    return []


def check_promotional_sender(facts: TemplateFacts) -> list[RuleResult]:
    if facts.channel == "sms" and facts.template_type == "P" and facts.sender_numeric is False:
        return [_r("promo-numeric-sender", WARNING,
                   f"Promotional templates are sent from numeric sender IDs only; "
                   f"{facts.sender_name or 'this sender'} is alphanumeric.")]
    return []


def check_consent(facts: TemplateFacts) -> list[RuleResult]:
    if facts.channel == "sms" and facts.template_type == "SE" and not facts.has_consent_template:
        return [_r("consent-template", WARNING,
                   "Service-explicit templates should be linked to a consent template, "
                   "or BICS may reject them.")]
    return []


def check_charset(facts: TemplateFacts) -> list[RuleResult]:
    if facts.channel != "sms":
        return []
    info = analyse(facts.content)
    out = []
    if info.unicode_chars and facts.message_type == MESSAGE_TYPE_NORMAL:
        chars = " ".join(info.unicode_chars)
        out.append(_r("replaced-with-question-mark", WARNING,
                      f"Message type is Normal: these characters will be replaced with ? : {chars}"))
    if info.parts > 3:
        out.append(_r("too-long", WARNING,
                      f"{info.parts} SMS parts; BICS caps max_units at 3 per message."))
    return out


def check_unique_variable_names(facts: TemplateFacts) -> list[RuleResult]:
    if facts.channel != "whatsapp":
        return []
    names = variables(facts.content)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        return [_r("duplicate-variable", ERROR,
                   "WhatsApp variable names must differ: " + ", ".join(duplicates))]
    return []


def check_name(facts: TemplateFacts) -> list[RuleResult]:
    if facts.channel in ("whatsapp", "viber") and re.search(r"\s", facts.name or ""):
        return [_r("name-spaces", ERROR, "WhatsApp and Viber template names contain no spaces.")]
    return []


def check_whatsapp_payload(facts: TemplateFacts) -> list[RuleResult]:
    if facts.channel != "whatsapp":
        return []
    p = facts.channel_payload or {}
    out = []
    if p.get("category") not in WHATSAPP_CATEGORIES:
        out.append(_r("wa-category", ERROR, f"Category must be one of {', '.join(WHATSAPP_CATEGORIES)}."))
    if p.get("language") not in WHATSAPP_LANGUAGES:
        out.append(_r("wa-language", ERROR, f"Language must be one of {', '.join(WHATSAPP_LANGUAGES)}."))
    number = str(p.get("number") or "")
    if not re.fullmatch(r"\+?[1-9]\d{6,14}", number):
        out.append(_r("wa-number", ERROR, "Business number with country code is required (E.164)."))
    if p.get("type") not in WHATSAPP_TYPES:
        out.append(_r("wa-type", ERROR, f"Type must be one of {', '.join(WHATSAPP_TYPES)}."))
    if not isinstance(p.get("is_conversation"), bool):
        out.append(_r("wa-is-conversation", ERROR, "is_conversation must be true (service) or false."))
    elif p["is_conversation"] is False and p.get("type") != "template":
        out.append(_r("wa-non-service-type", ERROR, "Non-service templates must have type 'template'."))
    media = p.get("media")
    if media is not None:
        out.extend(_check_media(media))
    buttons = p.get("buttons")
    if buttons is not None and not (
        isinstance(buttons, list) and all(isinstance(b, dict) and b.get("text") for b in buttons)
    ):
        out.append(_r("wa-buttons", ERROR, "Buttons are a list of objects, each with a text."))
    return out


def _check_media(media) -> list[RuleResult]:
    if not isinstance(media, dict) or media.get("kind") not in WHATSAPP_MEDIA:
        return [_r("wa-media", ERROR, f"Media needs a kind among {', '.join(WHATSAPP_MEDIA)}.")]
    limit, mimes = WHATSAPP_MEDIA[media["kind"]]
    out = []
    size = media.get("size")
    if size is not None and (not isinstance(size, int) or size > limit):
        out.append(_r("wa-media-size", ERROR,
                      f"{media['kind'].capitalize()} media is limited to {limit // MB} MB."))
    mime = media.get("mime")
    if mimes and mime and mime not in mimes:
        out.append(_r("wa-media-format", ERROR,
                      f"{media['kind'].capitalize()} must be one of {', '.join(mimes)}."))
    if not media.get("url"):
        out.append(_r("wa-media-url", ERROR, "Media needs a url."))
    return out


def check_viber_payload(facts: TemplateFacts) -> list[RuleResult]:
    if facts.channel != "viber":
        return []
    p = facts.channel_payload or {}
    out = []
    if p.get("category") not in VIBER_CATEGORIES:
        out.append(_r("viber-category", ERROR, f"Category must be one of {', '.join(VIBER_CATEGORIES)}."))
    if p.get("method", "transaction_text") not in VIBER_METHODS:
        out.append(_r("viber-method", ERROR, f"Template method must be one of {', '.join(VIBER_METHODS)}."))
    if p.get("type", "text") != "text":
        out.append(_r("viber-type", ERROR, "The only documented Viber template type is 'text'."))
    message = p.get("message", {})
    if not isinstance(message, dict):
        out.append(_r("viber-message", ERROR, "message must be an object."))
    return out


RULES = (
    check_spaces, check_angle_brackets, check_variable_syntax, check_links_channel, check_variables_required,
    check_fixed_characters, check_promotional_sender, check_consent, check_charset,
    check_unique_variable_names, check_name, check_whatsapp_payload, check_viber_payload,
)


def check(facts: TemplateFacts) -> list[RuleResult]:
    results: list[RuleResult] = []
    for rule in RULES:
        results.extend(rule(facts))
    return results


def errors(results) -> list[RuleResult]:
    return [r for r in results if r.level == ERROR]


def warnings(results) -> list[RuleResult]:
    return [r for r in results if r.level == WARNING]


def price_per_recipient(analysis: SmsAnalysis, unit_price: Decimal | None) -> Decimal | None:
    """Price of one recipient: one unit per SMS part (what BICS bills, `units` in DLRs)."""
    if unit_price is None:
        return None
    return unit_price * max(analysis.parts, 1)


# --------------------------------------------------------------------------- sender IDs
# The "Sender ID Policies" table as data: iso, country, policy text, and our
# classification of the text (dynamic, numeric, short_numeric, alpha, registration, generic).
SENDER_POLICY_FILE = Path(__file__).parent / "data" / "sender_id_policies.csv"


@dataclass(frozen=True)
class SenderPolicy:
    iso: str
    country: str
    policy: str
    kind: str


_policies: dict[str, SenderPolicy] | None = None


def sender_policies() -> dict[str, SenderPolicy]:
    global _policies
    if _policies is None:
        with SENDER_POLICY_FILE.open(newline="", encoding="utf-8") as fh:
            _policies = {row["iso"]: SenderPolicy(**row) for row in csv.DictReader(fh)}
    return _policies


def sender_is_numeric(name: str) -> bool:
    return bool(re.fullmatch(r"\+?\d+", name or ""))


def check_sender(*, name: str, country_code: str) -> list[RuleResult]:
    """Warnings when a sender ID does not suit its country's documented policy."""
    out: list[RuleResult] = []
    numeric = sender_is_numeric(name)
    if not numeric and not re.fullmatch(r"[A-Za-z0-9 .\-]{1,11}", name or ""):
        out.append(_r("sender-format", WARNING,
                      "Alphanumeric sender IDs are at most 11 letters, digits, spaces, dots or dashes."))
    policy = sender_policies().get((country_code or "").upper())
    if policy is None:
        return out
    where = f"{policy.country}: {policy.policy}"
    if policy.kind in ("numeric", "short_numeric") and not numeric:
        out.append(_r("sender-country-numeric", WARNING,
                      f"{where}. An alphanumeric sender ID will be replaced by a numeric one."))
    elif policy.kind == "alpha" and numeric:
        out.append(_r("sender-country-alpha", WARNING, f"{where}. Use an alphanumeric sender ID."))
    elif policy.kind == "registration":
        out.append(_r("sender-country-registration", WARNING,
                      f"{where}. The sender ID must be registered before traffic is delivered."))
    elif policy.kind == "generic":
        out.append(_r("sender-country-generic", WARNING,
                      f"{where}. Your sender ID will be replaced by a generic one."))
    if policy.iso == "IN" and not (not numeric and len(name) == 6 and name.isupper()):
        out.append(_r("sender-india-format", WARNING,
                      "India (TRAI): sender IDs are 6 capital letters."))
    return out
