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


class CampaignHarness:
    """An SMS campaign with identical text: one Send Message per batch, its numbers in ``to``."""

    name = "campaigns"
    route = "sms.messages.send"
    sent_member_state = "submitted"
    failed_member_state = "failed"

    def __init__(self):
        from messaging.campaigns.services.send_kind import KIND

        self.kind = KIND

    def make(self, *, batches: int, size: int = 1):
        from messaging.campaigns.models import Campaign, Message, SendBatch
        from messaging.catalogue.models import Sender, Template

        sender = Sender.objects.create(name="ENGINE", country_code="BE", service="ENT", status=1)
        template = Template.objects.create(name=f"engine_{Template.objects.count()}", channel="sms", sender=sender,
                                           content="Our shop opens on Monday at nine.", template_type="SI",
                                           approval_state="approved", provider_status="1", bics_id="t-engine",
                                           sync_state="synced")
        campaign = Campaign.objects.create(name="engine", channel="sms", template=template, sender=sender,
                                           state=Campaign.State.SENDING, launched_at=timezone.now())
        rows = SendBatch.objects.bulk_create([
            SendBatch(campaign=campaign, number=n + 1, custom=f"c{campaign.pk}-{n + 1}", size=size,
                      text=template.content) for n in range(batches)])
        Message.objects.bulk_create([
            Message(campaign=campaign, batch=batch, number=f"+3248{n:03d}{m:05d}", custom_id=f"{batch.custom}-{m}")
            for n, batch in enumerate(rows) for m in range(size)])
        return campaign

    def batches(self, parent) -> QuerySet:
        return parent.batches.order_by("number", "pk")

    def numbers(self, parent) -> list[str]:
        return sorted(n.lstrip("+") for n in parent.messages.values_list("number", flat=True))

    def member_states(self, parent) -> set[str]:
        return set(parent.messages.values_list("status", flat=True))

    def finished(self, parent) -> bool:
        parent.refresh_from_db()
        return parent.state in ("sent", "failed")

    def send_part(self, claim: Claim, count: int) -> None:
        (request,) = self.kind.prepare([claim])
        kwargs = {**request.kwargs, "to": request.kwargs["to"][:count]}
        self.kind.send(type(request)(request.func, kwargs, request.messages))

    def placed(self, sandbox) -> Counter:
        return Counter(item["number"].lstrip("+") for item in sb.sent_items(sandbox, "sms."))


HARNESSES = {"voice": VoiceHarness, "campaigns": CampaignHarness}
