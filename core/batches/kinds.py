"""The per-kind interface: what a campaign or a bulk call tells the engine."""

from __future__ import annotations

import enum
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Generic, TypeVar

from django.db.models import QuerySet

from core.batches.models import ClaimableBatch
from core.batches.outcomes import Outcome

Request = TypeVar("Request")


@dataclass(frozen=True)
class Claim:
    batch_id: int
    token: uuid.UUID


class SkipAction(enum.Enum):
    DONE = "done"  # nothing (left) to send: the batch counts as sent
    RELEASE = "release"  # not now (paused, refused at send time): back to pending
    FAIL = "fail"  # must never go (its parent stopped): failed


@dataclass(frozen=True)
class Skip:
    """``prepare``'s answer when a claimed batch must not go out now."""

    action: SkipAction
    reason: str = ""


@dataclass
class Lookup:
    """What BICS knows of an ``unknown`` batch: member id -> BICS's item, and the members it
    does not know (they are sent again)."""

    found: dict[int, dict] = field(default_factory=dict)
    missing: list[int] = field(default_factory=list)


class BatchKind(ABC, Generic[Request]):
    """A kind of batch. ``send`` must not touch the database (it runs in a thread pool);
    the other hooks run in the engine's transactions."""

    model: type[ClaimableBatch]

    @abstractmethod
    def claim_timeout(self) -> timedelta:
        """A claim older than this belongs to a dead worker (above the task's time limit)."""

    @abstractmethod
    def reconcile_grace(self) -> timedelta:
        """How long after the claim BICS is given to list what it accepted."""

    @abstractmethod
    def prepare(self, claims: list[Claim]) -> list[Request | Skip]:
        """One request (or a ``Skip``) per claim, in order, read from the database."""

    @abstractmethod
    def send(self, request: Request) -> Any:
        """The HTTP request; raises ``BicsError``. No database access."""

    @abstractmethod
    def on_sent(self, claim: Claim, request: Request, result: Any) -> dict[str, Any]:
        """The batch just became ``sent``: record BICS's answer on the members and return the
        batch's own extra fields (``group_id``, a total...). Not called when a reconciliation
        had already recorded the batch."""

    def weight(self, request: Request) -> int:
        """How many members a request carries (answers are recorded in groups of bounded
        weight, each its own short transaction)."""
        return 1

    def on_sent_many(self, sent: list[tuple[Claim, Request, Any]]) -> dict[int, dict[str, Any]]:
        """``on_sent`` for several batches that just became ``sent`` (claim, request, BICS's
        result each), in one transaction: batch id -> its extra fields. A kind overrides it
        to record the members of all of them in a few set statements."""
        return {claim.batch_id: self.on_sent(claim, request, result) for claim, request, result in sent}

    @abstractmethod
    def on_failed(self, batch_ids: list[int], outcome: Outcome, error: str) -> None:
        """The batches moved to ``failed`` or ``unknown``: mark their members."""

    @abstractmethod
    def lookup(self, batch: ClaimableBatch) -> Lookup:
        """Ask BICS about an ``unknown`` batch's members; raises ``BicsError``."""

    @abstractmethod
    def on_reconciled(self, batch: ClaimableBatch, lookup: Lookup) -> int | None:
        """Record what was found. When some members were found and others not, move those
        to a new pending batch and return its id. When none were found, the batch itself
        goes back to pending (put its members back in line)."""

    @abstractmethod
    def finish_if_done(self, batch_ids: list[int]) -> None:
        """Close the parents of these batches whose batches are all settled."""

    def enqueue(self, batch_ids: list[int]) -> None:  # noqa: B027 - optional hook
        """Queue a task per pending batch (kinds driven by a dispatcher need nothing)."""

    def lost(self, cutoff) -> QuerySet:
        """Pending batches whose task may be lost (queued before ``cutoff`` or never)."""
        return self.model.objects.none()
