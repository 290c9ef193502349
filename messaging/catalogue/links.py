"""Tracked links in a template: ``{{link:https://…}}``. At launch each recipient gets their own
short URL (``PUBLIC_BASE_URL/s/<code>``, the campaigns app issues the codes); everything that
counts characters, parts or cost counts that short form, never the long URL."""

from __future__ import annotations

import re

from django.conf import settings

LINK_RE = re.compile(r"\{\{\s*link:\s*(https?://[^\s{}]+?)\s*\}\}")
CODE_BYTES = 8  # secrets.token_urlsafe(8): 64 random bits (a collision among a million links: ~1e-7)
CODE_LENGTH = 11  # base64 of 8 bytes, no padding


def short_url(code: str) -> str:
    return f"{str(getattr(settings, 'PUBLIC_BASE_URL', '')).rstrip('/')}/s/{code}"


def has_links(content: str) -> bool:
    return bool(LINK_RE.search(content or ""))


def links_of(content: str) -> list[str]:
    return LINK_RE.findall(content or "")


def as_short_form(content: str) -> str:
    """The text as a recipient will see it, with a placeholder code of the real length (what
    the character, part and cost counts measure)."""
    return LINK_RE.sub(lambda m: short_url("A" * CODE_LENGTH), content or "")
