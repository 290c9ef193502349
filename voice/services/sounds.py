"""Sound files: check the public URL, then Create Sound File at BICS."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import requests
from django.conf import settings

from core.bics import get_client
from voice.models import RequestState, SoundFile

log = logging.getLogger(__name__)
MAX_SOUND_BYTES = 20 * 1024 * 1024  # ours: the documentation gives no limit


class SoundUrlError(ValueError):
    pass


@dataclass
class SoundCheck:
    content_type: str
    size: int | None
    body: bytes


def sound_url_check(url: str, *, timeout: float | None = None) -> SoundCheck:
    """GET the URL; it must answer 2xx with an ``audio/*`` content type. Returns the bytes.

    A HEAD is not enough (many hosts answer it differently), so the file is fetched, bounded
    by ``MAX_SOUND_BYTES``; the same bytes are then uploaded to BICS.
    """
    if not url.lower().startswith(("http://", "https://")):
        raise SoundUrlError("The URL must start with http:// or https://.")
    timeout = timeout or getattr(settings, "VOICE_SOUND_CHECK_TIMEOUT", 10)
    try:
        with requests.get(url, stream=True, timeout=(3.05, timeout), allow_redirects=True) as resp:
            if not 200 <= resp.status_code < 300:
                raise SoundUrlError(f"The URL answered HTTP {resp.status_code}.")
            content_type = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if not content_type.startswith("audio/"):
                raise SoundUrlError(
                    f"The URL answered with content type {content_type or 'none'!r}, not audio/*.")
            body = b""
            for chunk in resp.iter_content(64 * 1024):
                body += chunk
                if len(body) > MAX_SOUND_BYTES:
                    raise SoundUrlError("The sound file is larger than 20 MB.")
    except requests.RequestException as exc:
        raise SoundUrlError(f"The URL could not be fetched: {type(exc).__name__}.") from exc
    return SoundCheck(content_type, len(body), body)


def sound_file_create(*, name: str, url: str) -> SoundFile:
    """Check ``url``, record it, and create the sound at BICS (multipart ``audio`` + ``name``).

    A refused check raises ``SoundUrlError`` and nothing is stored or sent.
    """
    check = sound_url_check(url)
    sound, _ = SoundFile.objects.get_or_create(url=url, defaults={"name": name})
    sound.name, sound.content_type, sound.size = name, check.content_type, check.size
    sound.save()
    return sound_file_push(sound, body=check.body)


def sound_file_push(sound: SoundFile, *, body: bytes | None = None) -> SoundFile:
    """Create ``sound`` at BICS (again, if it failed before). Idempotent once it has an id."""
    from bics.errors import BicsError

    if sound.bics_id:
        return sound
    if body is None:
        body = sound_url_check(sound.url).body
    filename = sound.url.rstrip("/").rsplit("/", 1)[-1] or "sound.mp3"
    try:
        resp = get_client().call("voice.sound_files.create",
                             files={"audio": (filename, body, sound.content_type or "audio/mpeg")},
                             data={"name": sound.name})
    except BicsError as exc:
        sound.state, sound.error = RequestState.FAILED, str(exc)
        sound.save(update_fields=["state", "error", "updated_at"])
        return sound
    data = resp.data[0] if isinstance(resp.data, list) and resp.data else resp.data
    remote = data.get("id") if isinstance(data, dict) else None
    sound.bics_id = str(remote) if remote is not None else ""
    sound.state, sound.error, sound.raw_response = RequestState.QUEUED, "", resp.raw
    sound.save(update_fields=["bics_id", "state", "error", "raw_response", "updated_at"])
    return sound
