"""Voice services: everything that writes or talks to BICS. See each module."""

from voice.services.events import process_voice_event

__all__ = ["process_voice_event"]
