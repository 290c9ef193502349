"""Shared model pieces. Every record that mirrors a BICS resource inherits `SyncedModel`."""

from django.conf import settings
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


class SyncRun(models.Model):
    """One push or pull requested from the admin or beat, with its outcome (core.sync)."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    resource = models.CharField(max_length=40)
    direction = models.CharField(max_length=4, choices=[("push", "Push"), ("pull", "Pull")])
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    failures = models.JSONField(default=list, blank=True)
    summary = models.TextField(blank=True)
    selection = models.CharField(max_length=64, blank=True,
                                 help_text="Fingerprint of the pushed ids (empty: the whole list).")

    class Meta:
        db_table = "messaging_syncrun"  # the table it had in messaging
        ordering = ["-created_at"]
        constraints = [
            # One push in flight per selection: a second identical request joins it.
            models.UniqueConstraint(fields=["resource", "selection"], name="one_busy_push_per_selection",
                                    condition=models.Q(direction="push", state__in=["queued", "running"])),
        ]

    def __str__(self):
        return f"{self.direction} {self.resource} ({self.state})"


class StoredFile(models.Model):
    """An uploaded file kept in the database (``core.uploads.DatabaseStorage``), so that every
    worker on every machine reads it without a shared disk; its bytes are ``StoredFileChunk``s."""

    name = models.CharField(max_length=255, unique=True)
    size = models.PositiveBigIntegerField(default=0)
    chunk_size = models.PositiveIntegerField()
    complete = models.BooleanField(default=False, help_text="All chunks are written.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class StoredFileChunk(models.Model):
    file = models.ForeignKey(StoredFile, on_delete=models.CASCADE, related_name="chunks")
    seq = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["file", "seq"], name="storedfilechunk_file_seq")]

    def __str__(self):
        return f"{self.file_id}#{self.seq}"
