"""The messaging catalogue: senders, templates (with their approvals), unsubscribers, blocked
templates, prices, the account balance, and the record of sync runs.

Field names follow the API where it has one (the SMS and WhatsApp/Viber chapters; the full document
wins). ``bics_*`` fields are BICS's values we only mirror. Workflows live in
``messaging.services``; models hold data, constraints and small derived properties.
"""

import hashlib
import json

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import SyncedModel, TimeStampedModel
from messaging.catalogue import rules


class Channel(models.TextChoices):
    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"
    VIBER = "viber", "Viber"


class ServiceCode(models.TextChoices):
    """SMS product codes (the documentation's "Products/Services" list)."""

    ENT = "ENT", "ENT · SMS A2P Enterprise"
    BNK = "BNK", "BNK · SMS A2P Banking"
    MKT = "MKT", "MKT · SMS A2P Marketing"
    GMS = "GMS", "GMS · Global mobile number (SMS)"
    A2P = "A2P", "A2P · SMS A2P"
    DIR = "DIR", "DIR · SMS A2P Direct"


# --------------------------------------------------------------------------- senders
class Sender(SyncedModel, TimeStampedModel):
    class Status(models.IntegerChoices):  # View All Senders: status values
        PENDING = 0, "Pending"
        APPROVED = 1, "Approved"
        REJECTED = 2, "Rejected"

    class Kind(models.TextChoices):
        ALPHANUMERIC = "alphanumeric", "Alphanumeric"
        NUMERIC = "numeric", "Numeric"

    name = models.CharField("sender ID", max_length=20, help_text="Cannot be changed at BICS once created.")
    country_code = models.CharField(max_length=2, help_text="ISO 3166 alpha-2, e.g. BE, IN.")
    service = models.CharField(max_length=4, choices=ServiceCode.choices, default=ServiceCode.ENT)
    sender_type = models.CharField(max_length=12, choices=Kind.choices, editable=False)
    status = models.PositiveSmallIntegerField(choices=Status.choices, null=True, blank=True,
                                              help_text="BICS approval status.")
    entity_name = models.CharField(max_length=200, blank=True, help_text="DLT entity (India).")
    entity_id = models.CharField("entity / DLT id", max_length=64, blank=True)
    open_status = models.CharField(max_length=32, blank=True)
    purpose = models.CharField(max_length=200, blank=True)
    country_notes = models.TextField(blank=True)
    bics_created_at = models.DateTimeField("created at BICS", null=True, blank=True)
    bics_updated_at = models.DateTimeField("updated at BICS", null=True, blank=True)

    class Meta:
        ordering = ["name", "country_code"]
        constraints = [
            models.UniqueConstraint(fields=["name", "country_code", "service"], name="uniq_sender"),
        ]
        indexes = [models.Index(fields=["status"])]

    def __str__(self):
        return f"{self.name} ({self.country_code} {self.service})"

    def save(self, *args, **kwargs):
        self.country_code = (self.country_code or "").upper()
        self.sender_type = (
            self.Kind.NUMERIC if rules.sender_is_numeric(self.name) else self.Kind.ALPHANUMERIC
        )
        super().save(*args, **kwargs)

    @property
    def is_numeric(self) -> bool:
        return rules.sender_is_numeric(self.name)

    def policy_warnings(self):
        return rules.check_sender(name=self.name, country_code=self.country_code)


# --------------------------------------------------------------------------- templates
def content_hash_of(*, channel, name, content, sender_id, sender_name, template_type, message_type,
                    is_english, consent_template_id, channel_payload) -> str:
    """The fingerprint of one version: every field that is sent to BICS or shown to recipients.
    An approval is of one fingerprint; any other fingerprint needs a new approval."""
    version = {
        "channel": channel, "name": name, "content": content or "", "sender": [sender_id, sender_name or ""],
        "template_type": template_type or "", "message_type": message_type or "", "is_english": bool(is_english),
        "consent_template": consent_template_id, "channel_payload": channel_payload or {},
    }
    text = json.dumps(version, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class Template(SyncedModel, TimeStampedModel):
    """One model for every channel, so there is one approval workflow.

    ``content`` is the text with ``{{variables}}`` (SMS ``body``, the WhatsApp payload text,
    the Viber message text). ``channel_payload`` holds what WhatsApp (category, language,
    number, type, is_conversation, media, buttons...) or Viber (category, method, type,
    message) add; it is validated by ``messaging.catalogue.rules``. A campaign pins the approved version:
    ``TemplateApproval`` rows keep the approved content.
    """

    class TemplateType(models.TextChoices):  # Create Template: template types
        TRANSACTIONAL = "T", "Transactional"
        PROMOTIONAL = "P", "Promotional"
        SERVICE_IMPLICIT = "SI", "Service implicit"
        SERVICE_EXPLICIT = "SE", "Service explicit"

    class MessageType(models.TextChoices):  # Send Message: message types
        AUTO = "A", "Auto-detect"
        NORMAL = "N", "Normal (GSM-7; other characters become ?)"
        UNICODE = "U", "Unicode"

    class Approval(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Waiting for approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.SMS)
    name = models.CharField(max_length=100)
    alias = models.CharField(max_length=100, blank=True, help_text="Given by BICS; used to send.")
    content = models.TextField(help_text="Variables as {{name}}.")
    sender = models.ForeignKey(Sender, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="templates", help_text="SMS only.")
    template_type = models.CharField(max_length=2, choices=TemplateType.choices, blank=True,
                                     help_text="SMS only.")
    message_type = models.CharField(max_length=1, choices=MessageType.choices, default=MessageType.AUTO,
                                    help_text="SMS encoding used when sending.")
    is_english = models.BooleanField("English text", default=True, help_text="SMS: tells BICS the text is in English (is_english) when the template is edited.")
    consent_template = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="+", help_text="SMS service-explicit templates.")
    channel_payload = models.JSONField("channel options (JSON)", default=dict, blank=True)
    # our four-eyes workflow
    approval_state = models.CharField(max_length=10, choices=Approval.choices, default=Approval.DRAFT)
    rejection_reason = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    last_edited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+", help_text="Who last changed the words, here or by a pull.")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    content_hash = models.CharField(max_length=64, blank=True, editable=False,
                                    help_text="Fingerprint of this version (every field sent or shown).")
    submitted_hash = models.CharField(max_length=64, blank=True, editable=False)
    approved_hash = models.CharField(max_length=64, blank=True, editable=False,
                                     help_text="The fingerprint that was approved; any other needs a new approval.")
    # the provider's side
    provider_status = models.CharField(max_length=16, blank=True,
                                       help_text="BICS/provider status as returned by the API.")
    bics_sender_id = models.CharField("BICS sender id", max_length=64, blank=True)
    body_length = models.PositiveIntegerField(null=True, blank=True)
    bics_created_at = models.DateTimeField("created at BICS", null=True, blank=True)
    bics_updated_at = models.DateTimeField("updated at BICS", null=True, blank=True)

    # The content fields: changing one of them needs a new approval.
    CONTENT_FIELDS = ("content", "channel_payload", "sender_id", "template_type", "name")

    class Meta:
        ordering = ["channel", "name"]
        permissions = [("approve_template", "Can approve or reject templates")]
        constraints = [
            models.UniqueConstraint(fields=["channel", "name"], name="uniq_template_name"),
            models.CheckConstraint(
                condition=~Q(approval_state="rejected") | ~Q(rejection_reason=""),
                name="template_rejection_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["approval_state"]), models.Index(fields=["channel", "provider_status"])]

    def __str__(self):
        return f"{self.get_channel_display()} · {self.name}"

    def compute_content_hash(self) -> str:
        sender = self.sender if self.sender_id else None
        return content_hash_of(
            channel=self.channel, name=self.name, content=self.content, sender_id=self.sender_id,
            sender_name=sender.name if sender else "", template_type=self.template_type,
            message_type=self.message_type, is_english=self.is_english,
            consent_template_id=self.consent_template_id, channel_payload=self.channel_payload)

    def save(self, *args, **kwargs):
        # The fingerprint always describes the saved words, whoever saves them.
        self.content_hash = self.compute_content_hash()
        if self._state.adding:  # a row written straight in a state (fixtures, data loads) is in it for these words
            if self.approval_state in (self.Approval.SUBMITTED, self.Approval.APPROVED):
                self.submitted_hash = self.submitted_hash or self.content_hash
            if self.approval_state == self.Approval.APPROVED:
                self.approved_hash = self.approved_hash or self.content_hash
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "content_hash"}
        super().save(*args, **kwargs)

    @property
    def approval_current(self) -> bool:
        """Approved here, and the approval is of these exact words."""
        return (self.approval_state == self.Approval.APPROVED and bool(self.approved_hash)
                and self.approved_hash == self.compute_content_hash())

    # provider status: SMS like senders (0 pending, 1 approved, 2 rejected);
    # WhatsApp and Viber: 1 approved, 2 pending, 3 rejected (View All Templates of each channel).
    PROVIDER_LABELS = {
        Channel.SMS: {"0": "pending", "1": "approved", "2": "rejected"},
        Channel.WHATSAPP: {"1": "approved", "2": "pending", "3": "rejected"},
        Channel.VIBER: {"1": "approved", "2": "pending", "3": "rejected"},
    }

    @property
    def provider_state(self) -> str:
        if not self.bics_id:
            return "not pushed"
        return self.PROVIDER_LABELS.get(self.channel, {}).get(self.provider_status, self.provider_status or "unknown")

    @property
    def provider_approved(self) -> bool:
        if self.channel == Channel.WHATSAPP and self.channel_payload.get("is_conversation") is True \
                and self.bics_id:
            return True  # service templates need no approval from Meta (WhatsApp, Create Template)
        return self.provider_state == "approved"

    def facts(self) -> rules.TemplateFacts:
        sender = self.sender
        return rules.TemplateFacts(
            channel=self.channel, content=self.content or "", name=self.name or "",
            template_type=self.template_type, message_type=self.message_type,
            sender_name=sender.name if sender else "",
            sender_numeric=sender.is_numeric if sender else None,
            has_consent_template=self.consent_template_id is not None,
            channel_payload=self.channel_payload or {},
        )

    def rule_results(self):
        return rules.check(self.facts())

    def clean(self):
        from django.core.exceptions import ValidationError

        errs = [str(r) for r in rules.errors(self.rule_results())]
        if self.channel == Channel.SMS and not self.sender_id:
            errs.append("[sender-required] SMS templates need an approved sender ID.")
        if errs:
            raise ValidationError({"content": errs})

    @property
    def last_approval(self):
        return self.approvals.filter(decision=TemplateApproval.Decision.APPROVED).order_by("-decided_at").first()


class TemplateApproval(models.Model):
    """One decision on one version: who, when, and the exact content decided on.

    An approved row is what a campaign pins (``content``, ``channel_payload``, ``sender_name``).
    """

    class Decision(models.TextChoices):
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="approvals")
    version = models.PositiveIntegerField()
    decision = models.CharField(max_length=10, choices=Decision.choices)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField(blank=True)
    content = models.TextField()
    channel_payload = models.JSONField(default=dict, blank=True)
    sender_name = models.CharField(max_length=20, blank=True)
    template_type = models.CharField(max_length=2, blank=True)
    content_hash = models.CharField(max_length=64, blank=True, help_text="Fingerprint of the version decided on.")

    class Meta:
        ordering = ["-decided_at"]
        indexes = [models.Index(fields=["template", "-decided_at"])]

    def __str__(self):
        return f"{self.template} v{self.version} {self.decision}"


class TemplateEvent(models.Model):
    """The approval trail: every submit, decision, void, pull and push of a template, with who,
    when and the fingerprint of the version it concerned. Written by the services only; it
    outlives the template (``template_label`` keeps its name)."""

    class Action(models.TextChoices):
        SUBMIT = "submit", "Submitted"
        APPROVE = "approve", "Approved"
        REJECT = "reject", "Rejected"
        VOID = "void", "Approval voided"
        PULL = "pull", "Pulled from BICS"
        PUSH = "push", "Pushed to BICS"

    template = models.ForeignKey(Template, null=True, on_delete=models.SET_NULL, related_name="events")
    template_label = models.CharField(max_length=120)
    action = models.CharField(max_length=8, choices=Action.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", help_text="Empty: the system (a scheduled pull or push).")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    version = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["template", "-at"])]

    def __str__(self):
        return f"{self.template_label} v{self.version} {self.action}"


# --------------------------------------------------------------------------- opt-outs
class Unsubscriber(SyncedModel, TimeStampedModel):
    """An opt-out at BICS, per channel, with the documented scope.

    ``type`` (create/edit enum): SMS and WhatsApp ``tag``, ``product``, ``sender``, ``all``;
    Viber ``tag``, ``category``, ``account``, ``all`` (Create Unsubscriber of each channel). ``value`` is the tag,
    product code, sender... for that type; blank for ``all``. ``number`` is E.164 with ``+``
    (BICS's ``receiver`` without it).
    """

    class Type(models.TextChoices):
        TAG = "tag", "Tag"
        PRODUCT = "product", "Product (SMS, WhatsApp)"
        SENDER = "sender", "Sender (SMS, WhatsApp)"
        CATEGORY = "category", "Category (Viber)"
        ACCOUNT = "account", "Account (Viber)"
        ALL = "all", "All"

    TYPES_BY_CHANNEL = {
        Channel.SMS: ("tag", "product", "sender", "all"),
        Channel.WHATSAPP: ("tag", "product", "sender", "all"),
        Channel.VIBER: ("tag", "category", "account", "all"),
    }

    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.SMS)
    number = models.CharField(max_length=20, help_text="E.164 with +, e.g. +32470123456.")
    type = models.CharField(max_length=10, choices=Type.choices, default=Type.ALL)
    value = models.CharField(max_length=100, blank=True)
    iso = models.CharField("country", max_length=2, blank=True)
    bics_created_at = models.DateTimeField("created at BICS", null=True, blank=True)

    class Meta:
        ordering = ["channel", "number"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "number", "type", "value"], name="uniq_unsubscriber"),
        ]
        indexes = [models.Index(fields=["number"])]

    def __str__(self):
        scope = f"{self.type}={self.value}" if self.value else self.type
        return f"{self.get_channel_display()} {self.number} ({scope})"

    def clean(self):
        from django.core.exceptions import ValidationError

        from core.phones import normalise_phone

        errors = {}
        allowed = self.TYPES_BY_CHANNEL.get(self.channel, ())
        if self.type not in allowed:
            errors["type"] = f"{self.get_channel_display()} opt-outs use one of: {', '.join(allowed)}."
        try:
            self.number, iso = normalise_phone(self.number)
            self.iso = self.iso or iso
        except ValueError as exc:
            errors["number"] = str(exc)
        if errors:
            raise ValidationError(errors)


class BlockedTemplate(SyncedModel, TimeStampedModel):
    """A template ID on the BICS block list (SMS only, Blocked Templates).

    ``status`` "1"/"0" is undocumented in meaning; we read "0" as inactive and anything else
    (the documented sample even sends "9") as blocking.
    """

    template_id = models.CharField("BICS template id", max_length=64)
    status = models.CharField(max_length=2, default="1", help_text='"1" blocked, "0" inactive.')
    local_template = models.ForeignKey(Template, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="blocks", help_text="The local template, when we know it.")

    class Meta:
        ordering = ["template_id"]
        indexes = [models.Index(fields=["template_id"])]

    def __str__(self):
        return f"Blocked template {self.template_id}"

    @property
    def is_blocking(self) -> bool:
        return self.status != "0"


# --------------------------------------------------------------------------- pricing
class Price(models.Model):
    """One row of View Pricing, per channel (pull only). Response fields are not documented;
    we keep the raw item too."""

    channel = models.CharField(max_length=10, choices=Channel.choices)
    iso = models.CharField("country code", max_length=2)
    country = models.CharField(max_length=100, blank=True)
    service = models.CharField(max_length=8, blank=True)
    subservice = models.CharField(max_length=16, blank=True)
    price = models.DecimalField("unit price", max_digits=12, decimal_places=6)
    currency = models.CharField(max_length=3, blank=True)
    status = models.CharField(max_length=2, blank=True)
    raw = models.JSONField("as pulled from BICS", default=dict, blank=True)
    fetched_at = models.DateTimeField()

    class Meta:
        ordering = ["channel", "iso", "service"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "iso", "service", "subservice"], name="uniq_price"),
        ]
        indexes = [models.Index(fields=["iso", "service"])]

    def __str__(self):
        return f"{self.channel} {self.iso} {self.service} {self.price} {self.currency}"


class AccountBalance(models.Model):
    """Each pulled balance (latest first); the admin index shows the latest."""

    balance = models.DecimalField(max_digits=14, decimal_places=4)
    currency = models.CharField(max_length=3, blank=True)
    raw = models.JSONField("as pulled from BICS", default=dict, blank=True)
    fetched_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-fetched_at"]
        get_latest_by = "fetched_at"

    def __str__(self):
        return f"{self.balance} {self.currency}"
