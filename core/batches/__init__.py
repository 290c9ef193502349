"""The exactly-once batch engine: one claimable batch model, one set of functions, many kinds.

A batch is one request to BICS. Its life::

    pending --claim--> claimed --BICS answered--> sent
                          |  \\--BICS refused (4xx)--> failed
                          |   \\--answer lost (timeout, 5xx after sending)--> unknown
                          \\--worker vanished (claimed_at older than the timeout: sweep)--> unknown
    unknown --reconcile (the kind looks BICS up)--> sent (found: never resent)
        | pending (BICS has none of it, after the grace period) | sent + a new batch for the rest

Every state change is one conditional UPDATE; only the claim token's holder records an answer.
The broker's redelivery is not the recovery path: ``sweep`` and ``reconcile`` are. A kind (a
campaign's send batches, a bulk call's batches) supplies its policy through ``BatchKind``.
The kernel imports no app.
"""

from core.batches.engine import (
    Pipeline,
    Senders,
    claim,
    claim_next,
    finish,
    owned,
    reconcile,
    reconcile_all,
    record_many,
    send,
    send_many,
    sweep,
)
from core.batches.kinds import BatchKind, Claim, Lookup, Skip, SkipAction
from core.batches.models import OPEN_STATES, BatchState, ClaimableBatch
from core.batches.outcomes import Answer, Outcome, outcome_of

__all__ = [
    "OPEN_STATES",
    "Answer",
    "BatchKind",
    "BatchState",
    "Claim",
    "ClaimableBatch",
    "Lookup",
    "Outcome",
    "Pipeline",
    "Senders",
    "Skip",
    "SkipAction",
    "claim",
    "claim_next",
    "finish",
    "outcome_of",
    "owned",
    "reconcile",
    "reconcile_all",
    "record_many",
    "send",
    "send_many",
    "sweep",
]
