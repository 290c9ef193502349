"""Voice (Engage): calls, bulk calls, sound files, call logs, recordings, opt-outs, pricing.

Numbers are stored in E.164 with '+'; the BICS client writes them as digits on the wire.
Documented call statuses (Voice › Call Status) live in ``status``; our own life cycle of a request
(queued at BICS, refused, outcome unknown) lives in ``state``: BICS documents no
queued/ringing value.
"""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q

from core.batches.models import ClaimableBatch
from core.models import SyncedModel, TimeStampedModel
from core.states import StateMachine
from voice.data.voice_ids import VOICE_CHOICES


class CallStatus(models.TextChoices):
    """The documented call statuses (Voice › Call Status)."""

    ANSWER = "ANSWER", "Answered"
    BUSY = "BUSY", "Busy"
    NOANSWER = "NOANSWER", "No answer"
    CANCEL = "CANCEL", "Cancelled by the caller"
    CONGESTION = "CONGESTION", "Congestion (number not recognised)"
    CHANUNAVAIL = "CHANUNAVAIL", "Channel unavailable"
    RECEIVED = "RECEIVED", "Received, not forwarded"
    MISSED = "MISSED", "Missed"
    COMPLETED = "COMPLETED", "Completed (second leg answered)"


class RetryInterval(models.IntegerChoices):
    """Retry interval in minutes: default 0 (no retry) plus the documented enum (Create Outgoing Call, `interval`)."""

    NONE = 0, "No retry"
    M5 = 5, "5 minutes"
    M15 = 15, "15 minutes"
    M30 = 30, "30 minutes"
    M45 = 45, "45 minutes"
    M60 = 60, "60 minutes"


class RequestState(models.TextChoices):
    """Our side of a call request (not a BICS status)."""

    DRAFT = "draft", "Not sent"
    QUEUED = "queued", "Accepted by BICS"
    FAILED = "failed", "Refused by BICS"
    UNKNOWN = "unknown", "Outcome unknown (reconcile before resending)"


class SoundFile(TimeStampedModel):
    """A sound at a public URL; created at BICS (Create Sound File).

    BICS has no list operation for sounds, so this table is our list. ``bics_id`` is "the id
    parameter in response", usable as an audio source.
    """

    name = models.CharField(max_length=150)
    url = models.URLField("public URL", max_length=500, unique=True,
                          help_text="http(s), publicly reachable; it must answer with an audio/* content type.")
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(null=True, blank=True)
    bics_id = models.CharField("BICS id", max_length=64, blank=True, db_index=True)
    state = models.CharField(max_length=10, choices=RequestState.choices, default=RequestState.DRAFT)
    error = models.TextField(blank=True)
    raw_response = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Call(TimeStampedModel):
    """One outgoing call: IVR flow, audio, variables, text-to-speech or Click2Call."""

    class Kind(models.TextChoices):
        FLOW = "flow", "IVR flow id"
        AUDIO_FILE = "audio_file", "Audio file (URL)"
        AUDIO_ID = "audio_id", "Audio id (uploaded sound)"
        FLOW_VARIABLES = "flow_variables", "IVR flow id with variables"
        TTS = "tts", "Text to speech"
        CLICK2CALL = "click2call", "Click-to-call"

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.FLOW)
    bridge = models.CharField(max_length=20, help_text="Bridge (DID) number, E.164 with +.")
    to = models.CharField(max_length=32, db_index=True, help_text="Recipient, E.164 with + (Click2Call: the IVR flow).")
    from_number = models.CharField("from", max_length=20, blank=True, help_text="Click2Call: called first.")
    name = models.CharField("campaign name", max_length=150, blank=True)
    flow_id = models.CharField(max_length=50, blank=True)
    variables = models.JSONField(default=dict, blank=True)
    sound_file = models.ForeignKey(SoundFile, null=True, blank=True, on_delete=models.PROTECT, related_name="calls")
    audio_url = models.URLField("audio URL", max_length=500, blank=True)
    interval = models.PositiveSmallIntegerField(choices=RetryInterval.choices, default=RetryInterval.NONE)
    webhook_id = models.CharField(max_length=64, blank=True)
    # Text to speech
    tts_text = models.TextField("text", blank=True)
    voice_id = models.CharField(max_length=20, choices=VOICE_CHOICES, blank=True)
    tts_options = models.JSONField("TTS options", default=dict, blank=True)
    # Click2Call
    record = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=2, validators=[MaxValueValidator(2)])
    duration_limit = models.CharField(max_length=10, blank=True, help_text='Minutes; blank = "none".')
    mid = models.CharField(max_length=64, blank=True)
    # Our request and BICS's answer
    custom_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False,
                                 help_text="Our id for the call (Call Status `cid`).")
    state = models.CharField(max_length=10, choices=RequestState.choices, default=RequestState.DRAFT, db_index=True)
    status = models.CharField(max_length=12, choices=CallStatus.choices, blank=True, db_index=True)
    call_id = models.CharField("BICS call id", max_length=64, blank=True, db_index=True)
    api_message = models.CharField("API message", max_length=255, blank=True)
    error = models.TextField(blank=True)
    duration = models.PositiveIntegerField(null=True, blank=True, help_text="Seconds, including ring time.")
    billing = models.PositiveIntegerField(null=True, blank=True, help_text="Billable seconds.")
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    hangup_by = models.CharField(max_length=50, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    contact = models.ForeignKey("contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    raw_request = models.JSONField(null=True, blank=True)
    raw_response = models.JSONField(null=True, blank=True)
    last_event = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["-created_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(attempts__lte=2), name="voice_call_attempts_lte_2"),
            models.CheckConstraint(condition=Q(interval__in=[0, 5, 15, 30, 45, 60]), name="voice_call_interval_enum"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} to {self.to}"


class BulkCall(TimeStampedModel):
    """A bulk outgoing call (Create Bulk Outgoing Calls) sent in batches."""

    class Mode(models.TextChoices):
        SAME_AUDIO = "same_audio", "Same audio file for everyone"
        AUDIO_PER_RECIPIENT = "audio_per_recipient", "A different audio file per recipient"
        FLOW_VARIABLES = "flow_variables", "IVR flow with variables per recipient"

    class AudienceKind(models.TextChoices):
        SEGMENT = "segment", "A segment"
        TAGS = "tags", "Contacts with any of the tags"
        UPLOAD = "upload", "An uploaded list"

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    name = models.CharField("campaign name", max_length=150)
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.FLOW_VARIABLES)
    bridge = models.CharField(max_length=20, help_text="Bridge (DID) number, E.164 with +.")
    flow_id = models.CharField(max_length=50, blank=True, help_text="IVR flow (Engage › Studio).")
    sound_file = models.ForeignKey(SoundFile, null=True, blank=True, on_delete=models.PROTECT, related_name="bulk_calls")
    audio_url = models.URLField("audio URL", max_length=500, blank=True, help_text="Same-audio mode: a public http(s) URL.")
    webhook_id = models.CharField(max_length=64, blank=True)
    audience_kind = models.CharField(max_length=10, choices=AudienceKind.choices, default=AudienceKind.SEGMENT)
    segment = models.ForeignKey("contacts.Segment", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    tags = models.ManyToManyField("contacts.Tag", blank=True, related_name="+")
    upload = models.FileField(upload_to="voice/bulk/%Y/%m/", blank=True,
                              help_text="CSV: number[,audio URL][,variable columns...] with a header row.")
    variables = models.JSONField(default=dict, blank=True,
                                 help_text='Variables for every recipient, e.g. {"Name": "{first_name}"}; contact fields in braces.')
    batch_size = models.PositiveIntegerField(default=100)
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT, db_index=True)
    group_id = models.CharField(max_length=64, blank=True, help_text="BICS group id of the first batch.")
    total = models.PositiveIntegerField(null=True, blank=True, help_text="Numbers BICS queued (sum of `total`).")
    recipients_count = models.PositiveIntegerField(default=0)
    excluded_count = models.PositiveIntegerField(default=0, help_text="Voice unsubscribers left out.")
    estimated_cost = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.name



# Launch once (draft -> sending); the engine finishes it (sent, or failed when no batch went
# out); cancel stops a draft or a sending one. Sent, failed and cancelled are final.
BULK_CALL_STATES = StateMachine("state", {
    BulkCall.State.DRAFT: {BulkCall.State.SENDING, BulkCall.State.CANCELLED},
    BulkCall.State.SENDING: {BulkCall.State.SENT, BulkCall.State.FAILED, BulkCall.State.CANCELLED},
})


class BulkCallBatch(ClaimableBatch):
    """One Create Bulk Outgoing Calls request: a kind of the batch engine (``core.batches``)."""

    bulk_call = models.ForeignKey(BulkCall, on_delete=models.CASCADE, related_name="batches")
    number = models.PositiveIntegerField()
    total = models.PositiveIntegerField(null=True, blank=True)
    api_message = models.CharField("API message", max_length=255, blank=True)
    raw_response = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["bulk_call", "number"]
        constraints = [models.UniqueConstraint(fields=["bulk_call", "number"], name="uniq_voice_batch_number")]
        indexes = [models.Index(fields=["state", "claimed_at"])]
        verbose_name_plural = "bulk call batches"

    def __str__(self):
        return f"{self.bulk_call} batch {self.number}"


class BulkCallRecipient(models.Model):
    bulk_call = models.ForeignKey(BulkCall, on_delete=models.CASCADE, related_name="recipients")
    batch = models.ForeignKey(BulkCallBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="recipients")
    to = models.CharField(max_length=20)
    contact = models.ForeignKey("contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    audio_url = models.URLField("audio URL", max_length=500, blank=True)
    variables = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=RequestState.choices, default=RequestState.DRAFT, db_index=True)
    status = models.CharField(max_length=12, choices=CallStatus.choices, blank=True, db_index=True)
    call_id = models.CharField("BICS call id", max_length=64, blank=True, db_index=True)
    duration = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["bulk_call", "pk"]
        constraints = [models.UniqueConstraint(fields=["bulk_call", "to"], name="uniq_voice_bulk_recipient")]

    def __str__(self):
        return self.to


class CallLog(models.Model):
    """A row of the Call Logs Report, pulled on a schedule or on demand."""

    bics_id = models.CharField("BICS id", max_length=64, unique=True)
    caller_id = models.CharField(max_length=32, blank=True)
    to = models.CharField(max_length=32, blank=True, db_index=True)
    bridge = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=12, blank=True, db_index=True)
    start_at = models.DateTimeField(null=True, blank=True)
    end_at = models.DateTimeField(null=True, blank=True, db_index=True)
    duration = models.PositiveIntegerField(null=True, blank=True)
    billing = models.PositiveIntegerField(null=True, blank=True)
    hangup_by = models.CharField(max_length=50, blank=True)
    country = models.CharField(max_length=10, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    pulled_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-end_at", "-pk"]
        indexes = [models.Index(fields=["-end_at", "-id"])]

    def __str__(self):
        return f"{self.to} {self.status}"


class CallRecording(models.Model):
    """A row of the Call Recordings Report."""

    bics_id = models.CharField("BICS id", max_length=64, unique=True)
    call_id = models.CharField(max_length=64, blank=True, db_index=True)
    url = models.URLField("URL", max_length=500, blank=True)
    duration = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(null=True, blank=True, db_index=True)
    raw = models.JSONField(default=dict, blank=True)
    pulled_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["-created_at", "-id"])]

    def __str__(self):
        return f"Recording {self.bics_id}"


class VoiceUnsubscriber(SyncedModel, TimeStampedModel):
    """An Engage (voice) opt-out (Voice › Unsubscribers). Synced through ``core.sync`` ("voice_unsubscribers")."""

    class Type(models.TextChoices):
        TAG = "tag", "Tag"
        PRODUCT = "product", "Product"
        SENDER = "sender", "Sender"
        ALL = "all", "All"

    number = models.CharField(max_length=20, help_text="E.164 with +, e.g. +32470123456.")
    type = models.CharField(max_length=10, choices=Type.choices, default=Type.ALL)
    value = models.CharField(max_length=100, blank=True)
    iso = models.CharField("country", max_length=2, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["number", "type", "value"], name="uniq_voice_unsubscriber")]
        indexes = [models.Index(fields=["number"])]

    def __str__(self):
        scope = f"{self.type}={self.value}" if self.value else self.type
        return f"{self.number} ({scope})"


class VoicePrice(models.Model):
    """View Pricing (Engage); fields picked (the data node is collapsed)."""

    iso = models.CharField("country", max_length=2, db_index=True)
    country = models.CharField(max_length=100, blank=True)
    service = models.CharField(max_length=20, blank=True)
    subservice = models.CharField(max_length=20, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=6)
    currency = models.CharField(max_length=3, blank=True)
    status = models.CharField(max_length=2, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    pulled_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["iso", "service", "subservice"]
        constraints = [models.UniqueConstraint(fields=["iso", "service", "subservice"], name="uniq_voice_price")]

    def __str__(self):
        return f"{self.iso} {self.service}/{self.subservice}: {self.price} {self.currency}"
