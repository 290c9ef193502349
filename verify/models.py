"""OTP requests sent through BICS Verify, and the API clients allowed to ask for them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.states import StateMachine


class Channel(models.TextChoices):
    """The documented Verify channels (Send OTP, `channels`). Failover follows the order given."""

    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"
    ENGAGE = "engage", "Voice (Engage)"
    VIBER = "viber", "Viber"


class OtpStatus(models.TextChoices):
    PENDING = "pending", "Pending (not yet accepted by BICS)"
    SENT = "sent", "Sent"
    SUCCESS = "success", "Verified"
    FAILED = "failed", "Failed (BICS does not know the id)"
    EXPIRED = "expired", "Expired"
    INVALID = "invalid", "Wrong code"
    ALREADY_VERIFIED = "already_verified", "OTP already verified"
    CANCELLED = "cancelled", "Cancelled"
    ERROR = "error", "Send failed"


OPEN_STATUSES = (OtpStatus.PENDING, OtpStatus.SENT)

# Send OTP answers (sent, or error; the sweeper closes a send with no answer as an error);
# a sent request is closed once, by the verification, a search or a cancel, or by expiry.
# Every other status is final.
OTP_STATES = StateMachine("status", {
    OtpStatus.PENDING: {OtpStatus.SENT, OtpStatus.ERROR},
    OtpStatus.SENT: {OtpStatus.SUCCESS, OtpStatus.INVALID, OtpStatus.EXPIRED, OtpStatus.FAILED,
                     OtpStatus.ALREADY_VERIFIED, OtpStatus.CANCELLED},
})


class ApiClient(models.Model):
    """A system allowed to call /verify/api/. The key is shown once and stored hashed."""

    name = models.CharField(max_length=100, unique=True)
    key_prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_salt = models.CharField(max_length=32, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API client"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class OtpRequest(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(max_length=32, help_text="E.164 with +; masked after the retention period")
    number_masked_at = models.DateTimeField(null=True, blank=True)
    channels = models.JSONField(default=list, help_text="Channels in failover order")
    reference = models.CharField(
        max_length=100, blank=True, default="", help_text="The caller's own reference (foreign id)"
    )
    idempotency_key = models.CharField(max_length=100, blank=True, default="")
    bics_id = models.CharField("BICS id", max_length=64, null=True, blank=True, unique=True)
    foreign_id = models.CharField(max_length=100, blank=True, default="")
    status = models.CharField(max_length=20, choices=OtpStatus.choices, default=OtpStatus.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True, help_text="Last search at BICS")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    api_client = models.ForeignKey(
        ApiClient, verbose_name="API client", null=True, blank=True, on_delete=models.PROTECT, related_name="otp_requests"
    )
    verify_attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    last_search = models.JSONField(
        null=True, blank=True, help_text="The last BICS search answer (its `channels` are undocumented)"
    )

    class Meta:
        verbose_name = "OTP request"
        ordering = ["-created_at"]
        permissions = [("view_full_numbers", "Can view full phone numbers in Verify")]
        indexes = [
            models.Index(fields=["-created_at"], name="verify_otp_created_idx"),
            models.Index(fields=["status", "expires_at"], name="verify_otp_status_exp_idx"),
            models.Index(fields=["number", "-created_at"], name="verify_otp_number_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["api_client", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="verify_otp_unique_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        return f"OTP {self.public_id}"

    @property
    def requester(self) -> str:
        if self.api_client_id:
            return f"API: {self.api_client}"
        if self.requested_by_id:
            return f"Staff: {self.requested_by}"
        return "-"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES
