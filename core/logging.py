"""Log redaction: the BICS token, webhook secrets and any `access_token` never reach a log."""

import logging
import re

_PATTERNS = [
    re.compile(r"(access_token=)[^&\s'\"]+", re.IGNORECASE),
    re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE),
    re.compile(r"((?:refresh_token|secret|token)[\"']?\s*[:=]\s*[\"']?)[^\s,'\"&}]+", re.IGNORECASE),
]
REDACTED = "[REDACTED]"


def _known_secrets() -> list[str]:
    try:
        from django.conf import settings

        values = [settings.BICS_API_TOKEN, getattr(settings, "BICS_REFRESH_TOKEN", "")]
    except Exception:  # settings not configured (e.g. bics used on its own)
        return []
    return [v for v in values if v and len(v) >= 6]


def redact(text: str) -> str:
    for secret in _known_secrets():
        text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Rewrites the record's message (and arguments) with secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
