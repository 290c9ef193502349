"""What a send attempt came to, and the one map from BICS errors to it."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from bics.errors import (
    BicsError,
    BicsOutcomeUnknown,
    BicsRateLimited,
    BicsServerError,
    BicsTransportError,
)

SERVICE_UNAVAILABLE = 503


class Outcome(enum.Enum):
    SENT = "sent"  # BICS answered: accepted
    FAILED = "failed"  # BICS refused it: never processed, never to be retried as is
    RETRY = "retry"  # not processed (rate limited, did not leave, 503): give the batch back
    UNKNOWN = "unknown"  # may have been processed: reconcile before anything is resent


def outcome_of(exc: BicsError) -> Outcome:
    """The client raises ``BicsRateLimited``/``BicsTransportError`` only when the request did
    not leave or was refused before processing; a 503 is "unavailable: not processed"; any
    other 5xx may follow processing, so its outcome is unknown; a 4xx is a refusal."""
    if isinstance(exc, BicsOutcomeUnknown):
        return Outcome.UNKNOWN
    if isinstance(exc, BicsRateLimited | BicsTransportError):
        return Outcome.RETRY
    if isinstance(exc, BicsServerError):
        return Outcome.RETRY if exc.http_status == SERVICE_UNAVAILABLE else Outcome.UNKNOWN
    return Outcome.FAILED


@dataclass(frozen=True)
class Answer:
    """The result of one request: BICS's answer (``result``) or what went wrong."""

    outcome: Outcome
    result: Any = None
    error: str = ""
