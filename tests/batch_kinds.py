"""Harnesses that let one test suite (tests/core/test_batches.py) run against every kind of
the batch engine. A harness makes a parent (a bulk call, a campaign) with batches of
recipients, and reads back what the engine cannot know generically.

To add a kind: implement ``BatchKindHarness`` and list it in ``HARNESSES``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Protocol

from django.db.models import QuerySet
from django.utils import timezone

from core.batches import BatchKind, Claim
from tests import sandbox_helpers as sb


class BatchKindHarness(Protocol):
    name: str
    kind: BatchKind
    route: str  # the BICS operation one batch calls (for faults)
    sent_member_state: str  # a member's state once BICS accepted its batch
    failed_member_state: str  # ... once BICS refused it

    def make(self, *, batches: int, size: int = 1) -> Any:
        """A parent ready to send, with ``batches`` pending batches of ``size`` recipients."""

    def batches(self, parent) -> QuerySet:
        """The parent's batches, in sending order (the scope ``claim_next`` is given)."""

    def numbers(self, parent) -> list[str]:
        """Every recipient's number, digits only (as the sandbox records them)."""

    def member_states(self, parent) -> set[str]:
        ...

    def finished(self, parent) -> bool:
        """The parent closed itself (every batch settled)."""

    def send_part(self, claim: Claim, count: int) -> None:
        """Send the first ``count`` recipients of a claimed batch straight to BICS, recording
        nothing (a worker that died half-way through)."""

    def placed(self, sandbox) -> Counter:
        """What the sandbox received: number -> times."""


class VoiceHarness:
    name = "voice"
    route = "voice.bulk_calls.create"
    sent_member_state = "queued"
    failed_member_state = "failed"

    def __init__(self):
        from voice.services.bulk_batches import KIND

        self.kind = KIND

    def make(self, *, batches: int, size: int = 1):
        from voice.models import BulkCall, BulkCallBatch, BulkCallRecipient

        bulk = BulkCall.objects.create(name="engine", bridge="+3225551000", flow_id="1",
                                       state=BulkCall.State.SENDING, launched_at=timezone.now())
        rows = BulkCallBatch.objects.bulk_create([BulkCallBatch(bulk_call=bulk, number=n + 1) for n in range(batches)])
        BulkCallRecipient.objects.bulk_create([
            BulkCallRecipient(bulk_call=bulk, batch=batch, to=f"+3247{n:03d}{m:05d}")
            for n, batch in enumerate(rows) for m in range(size)])
        return bulk

    def batches(self, parent) -> QuerySet:
        return parent.batches.order_by("number")

    def numbers(self, parent) -> list[str]:
        return sorted(to.lstrip("+") for to in parent.recipients.values_list("to", flat=True))

    def member_states(self, parent) -> set[str]:
        return set(parent.recipients.values_list("state", flat=True))

    def finished(self, parent) -> bool:
        parent.refresh_from_db()
        return parent.state in ("sent", "failed")

    def send_part(self, claim: Claim, count: int) -> None:
        (request,) = self.kind.prepare([claim])
        body = {**request.body, "payload": request.body["payload"][:count]}
        self.kind.send(type(request)(request.bulk_call_id, body))

    def placed(self, sandbox) -> Counter:
        return sb.calls_to(sandbox)


HARNESSES = {"voice": VoiceHarness}
