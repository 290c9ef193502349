"""Tracked links in a template: ``{{link:https://…}}``. At launch each recipient gets their own
short URL (``PUBLIC_BASE_URL/s/<code>``, the campaigns app issues the codes); everything that
counts characters, parts or cost counts that short form, never the long URL.

BICS knows nothing of them: an SMS template is registered there (Create SMS Template) with
each link as a plain variable (``as_bics_body``: ``{{link_1}}``, ``{{link_2}}``…), the part that
differs per recipient, as the rendered text sent by Send Message will show it. A pull that
brings that body back keeps the local words (``local_content_of``)."""

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


def as_targets(content: str) -> str:
    """The text with each tracked link replaced by its target (no code, nothing counted)."""
    return LINK_RE.sub(lambda m: m.group(1), content or "")


VARIABLE_NAME_RE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


def as_bics_body(content: str) -> str:
    """The body registered at BICS: each tracked link a variable ``{{link_N}}`` (N from 1, a
    name the template does not use already)."""
    taken = set(VARIABLE_NAME_RE.findall(content or ""))
    names = (f"link_{n}" for n in range(1, 10_000) if f"link_{n}" not in taken)
    return LINK_RE.sub(lambda m: "{{" + next(names) + "}}", content or "")


def local_content_of(body: str, local: str) -> str:
    """What a pulled body means here: the local words when they are what was registered
    (their links rendered as variables), else the body as BICS has it."""
    return local if local and has_links(local) and as_bics_body(local) == body else body
