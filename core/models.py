"""Shared model pieces. Every record that mirrors a BICS resource inherits `SyncedModel`."""

from django.db import models


class SyncState(models.TextChoices):
    NEVER = "never", "Never synced"
    SYNCED = "synced", "Synced"
    DIRTY = "dirty", "Changed here, not pushed"
    FAILED = "failed", "Sync failed"


class SyncedModel(models.Model):
    # NULL, not "": records not yet at BICS must not collide in unique constraints on bics_id.
    bics_id = models.CharField("BICS id", max_length=64, blank=True, null=True, db_index=True)  # noqa: DJ001
    sync_state = models.CharField(
        max_length=10, choices=SyncState.choices, default=SyncState.NEVER, db_index=True
    )
    synced_at = models.DateTimeField(null=True, blank=True)
    sync_error = models.TextField(blank=True, default="")

    class Meta:
        abstract = True


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
