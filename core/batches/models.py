"""The abstract claimable batch: the columns the engine reads and writes."""

from __future__ import annotations

from django.db import models


class BatchState(models.TextChoices):
    PENDING = "pending", "Pending"
    CLAIMED = "claimed", "Claimed by a worker"
    SENT = "sent", "Sent"
    FAILED = "failed", "Refused by BICS"
    UNKNOWN = "unknown", "Outcome unknown (to reconcile)"
    CANCELLED = "cancelled", "Cancelled"


OPEN_STATES = (BatchState.PENDING, BatchState.CLAIMED, BatchState.UNKNOWN)


class ClaimableBatch(models.Model):
    """One request to BICS, claimed by one worker and sent at most once.

    Concrete models add their parent (campaign, bulk call), their own fields and an index on
    ``(state, claimed_at)`` for the sweeper.
    """

    State = BatchState

    state = models.CharField(max_length=10, choices=BatchState.choices, default=BatchState.PENDING)
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    claimed_by = models.CharField(max_length=200, blank=True, help_text="host:pid:thread of the last claim.")
    attempts = models.PositiveIntegerField(default=0, help_text="Claims so far.")
    sent_at = models.DateTimeField(null=True, blank=True)
    group_id = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True, help_text="Last time a task was queued for it.")

    class Meta:
        abstract = True
