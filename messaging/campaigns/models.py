"""Models of the campaigns app.

``Campaign`` (what, to whom, when), ``SendBatch`` (the unit of one request to BICS),
``Message`` (one row per recipient, unique ``custom_id``), ``DeliveryReport`` (each raw DLR
received, pulled or pushed) and ``CampaignTransition`` (who moved a campaign, when).
Workflows live in ``messaging.campaigns.services.campaigns`` / ``engine`` / ``dlr``.
"""

from django.conf import settings
from django.db import models

from core.batches.models import ClaimableBatch


class MessageStatus(models.TextChoices):
    """Our status of one message; every documented DLR status maps onto one of these
    (``messaging.campaigns.dlr_codes``)."""

    QUEUED = "queued", "Queued"
    SUBMITTED = "submitted", "Submitted"
    UNKNOWN = "unknown", "Outcome unknown"
    DELIVERED = "delivered", "Delivered"
    READ = "read", "Read"
    FAILED = "failed", "Failed"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"
    # ours, not BICS's: no final report came within CAMPAIGN_DLR_MAX_AGE_HOURS, polling stopped
    UNREPORTED = "unreported", "No final report (gave up)"


FINAL_STATUSES = ("delivered", "read", "failed", "rejected", "expired", "unreported")


class Campaign(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        SAMPLING = "sampling", "Sampling (smart delivery)"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        PAUSED = "paused", "Paused"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    ACTIVE_STATES = ("sampling", "sending")
    FINAL_STATES = ("sent", "cancelled", "failed")

    name = models.CharField(max_length=200)
    channel = models.CharField(max_length=10, choices=[("sms", "SMS"), ("whatsapp", "WhatsApp"),
                                                       ("viber", "Viber")], default="sms")
    sender = models.ForeignKey("messaging.Sender", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="campaigns", help_text="SMS: the sender ID.")
    template = models.ForeignKey("messaging.Template", on_delete=models.PROTECT, related_name="campaigns")
    template_approval = models.ForeignKey(
        "messaging.TemplateApproval", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        editable=False, help_text="The approved version pinned at launch.")
    variable_mapping = models.JSONField(
        default=dict, blank=True,
        help_text='Template variable -> {"field": "first_name" | "attributes.city", "default": "", '
                  '"skip": true (skip the recipient when missing)}.')
    segments = models.ManyToManyField("contacts.Segment", blank=True, related_name="campaigns")
    tags = models.ManyToManyField("contacts.Tag", blank=True, related_name="campaigns")
    upload = models.FileField(
        upload_to="campaigns/uploads/", blank=True,
        help_text="Optional one-off list (CSV): a number column (number, phone, mobile, to, msisdn); "
                  "other columns are values for the template variables.")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="campaigns")
    # schedule
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    scheduled_at = models.DateTimeField(null=True, blank=True, help_text="Empty: send at launch.")
    time_zone = models.CharField(max_length=64, blank=True, default="",
                                 help_text="The user's time zone (schedules are shown and checked in it).")
    batch_size = models.PositiveIntegerField(null=True, blank=True,
                                             help_text="Recipients per request (identical text); default from settings.")
    batch_interval = models.PositiveIntegerField(default=0, help_text="Seconds between batches.")
    # smart delivery
    smart_delivery = models.BooleanField(default=False)
    smart_delay_minutes = models.PositiveIntegerField("smart delivery: delay (minutes)", default=15)
    smart_sample_size = models.PositiveIntegerField("smart delivery: sample size", default=10)
    smart_wait_minutes = models.PositiveIntegerField("smart delivery: wait for the sample (minutes)", default=30, help_text="How long to wait for the sample's DLRs.")
    sample_sent_at = models.DateTimeField("sample sent at", null=True, blank=True, editable=False)
    # progress
    paused_from = models.CharField(max_length=10, blank=True, editable=False)
    next_batch_at = models.DateTimeField(null=True, blank=True, editable=False)
    launched_at = models.DateTimeField(null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True, editable=False)
    audience_size = models.PositiveIntegerField(null=True, blank=True, editable=False)
    exclusions = models.JSONField(default=dict, blank=True, editable=False)
    estimated_cost = models.DecimalField("estimated cost", max_digits=14, decimal_places=4, null=True, blank=True,
                                         editable=False,
                                         help_text="From the price list at launch, in the price list's currency.")
    state_reason = models.TextField("reason for the state", blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False,
                                  help_text="The last unexpected error of the beat tick for this campaign.")
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    # BICS's Send Message takes no validity period: this one is kept here (services.windows).
    validity_hours = models.PositiveIntegerField(
        "validity (hours)", null=True, blank=True,
        help_text="Messages not sent this long after the launch are not sent at all (e.g. a sale that "
                  "ends). Empty: no limit.")
    # Frequency caps count promotional traffic only (frequency_selectors.traffic_kind).
    traffic = models.CharField(max_length=13, blank=True, default="", choices=[
        ("", "From the template (SMS type P, WhatsApp/Viber marketing: promotional)"),
        ("promotional", "Promotional"), ("transactional", "Transactional (no frequency cap)")])
    # launch preparation: the audience is written in chunks by contact key, each its own
    # transaction; these say how far it got, so a restart resumes without duplicating
    preparing = models.BooleanField(default=False, editable=False,
                                    help_text="The audience is still being written (sending may have started).")
    audience_total = models.PositiveIntegerField(null=True, blank=True, editable=False,
                                                 help_text="Recipients expected when the launch was checked.")
    prepared_count = models.PositiveIntegerField(default=0, editable=False)
    launch_cursor = models.BigIntegerField(default=0, editable=False, help_text="Last contact id written.")
    upload_cursor = models.PositiveIntegerField(default=0, editable=False, help_text="Uploaded rows consumed.")
    prepared_beat_at = models.DateTimeField(null=True, blank=True, editable=False,
                                            help_text="Last chunk written (a stale one is resumed by the beat).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "messaging_campaign"
        ordering = ["-id"]
        indexes = [models.Index(fields=["state", "scheduled_at"])]
        permissions = [
            ("send_one_off", "Can send a one-off message (approved template)"),
            ("send_free_text", "Can send a one-off free-text SMS"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL_STATES


class CampaignTransition(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=10)
    to_state = models.CharField(max_length=10)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)

    class Meta:
        db_table = "messaging_campaigntransition"
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["campaign", "at"])]

    def __str__(self):
        return f"{self.campaign_id}: {self.from_state} -> {self.to_state}"


class CampaignTestSend(models.Model):
    """Who sent a campaign's test, when, to which numbers (and what came of each)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="test_sends")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    numbers = models.JSONField(default=list, help_text="The numbers asked for, E.164.")
    results = models.JSONField(default=dict, blank=True, help_text="Number -> status, or why it was not sent.")

    class Meta:
        db_table = "messaging_campaigntestsend"
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["campaign", "at"])]

    def __str__(self):
        return f"test of {self.campaign_id} at {self.at:%Y-%m-%d %H:%M}"


class SendBatch(ClaimableBatch):
    """One request to BICS, a kind of the batch engine (``core.batches``; the campaign kind is
    ``messaging.campaigns.services.send_kind``). Identical text: many numbers in ``to`` under
    the batch's own ``custom``. Personalised text (and every WhatsApp/Viber send): a batch of
    one, whose ``custom`` is the message's ``custom_id``."""

    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="batches")
    number = models.PositiveIntegerField("batch number", default=1)
    custom = models.CharField("custom (our id at BICS)", max_length=64, unique=True)
    text = models.TextField(blank=True, help_text="Identical text of every message of the batch.")
    is_sample = models.BooleanField("smart-delivery sample", default=False)
    size = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "messaging_sendbatch"
        verbose_name_plural = "send batches"
        ordering = ["campaign", "number"]
        indexes = [
            models.Index(fields=["campaign", "state", "number"]),
            models.Index(fields=["state", "claimed_at"]),
        ]

    def __str__(self):
        return f"batch {self.custom} ({self.state})"


class Message(models.Model):
    """One recipient. Indexes are the ones a query needs (each costs every insert of a
    million-row launch): ``custom_id`` (unique: one row per recipient; DLRs by our id),
    (campaign, status) (progress, filters, cancel), (batch, number) (the engine reads a batch;
    DLRs by batch ``custom`` + number), contact (erasure, SET NULL), number (search, erasure),
    and partial ones that stay empty while a launch writes queued rows: BICS's id (DLRs by
    id), and of the submitted messages waiting for a report their time (lag alert, poll
    order) and group (the poll by group)."""

    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="messages",
                                 db_index=False)  # (campaign, status) leads with it
    batch = models.ForeignKey(SendBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages",
                              db_index=False)  # (batch, number) leads with it
    contact = models.ForeignKey("contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    channel = models.CharField(max_length=10, default="sms")
    number = models.CharField(max_length=20, help_text="E.164 with +.")
    custom_id = models.CharField("custom (our id at BICS)", max_length=64, unique=True)
    text = models.TextField(blank=True, help_text="Personalised text (identical text lives on the batch).")
    variables = models.JSONField(default=dict, blank=True)
    is_sample = models.BooleanField("smart-delivery sample", default=False)
    status = models.CharField(max_length=10, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    bics_status = models.CharField("BICS status", max_length=32, blank=True, help_text="The last DLR status as BICS gave it.")
    bics_message_id = models.CharField("BICS message id", max_length=100, blank=True)
    group_id = models.CharField("BICS group id", max_length=64, blank=True)
    parts = models.PositiveSmallIntegerField(default=1)
    price = models.DecimalField("charged", max_digits=12, decimal_places=6, null=True, blank=True, help_text="Credits BICS reported in the delivery report, in the account's currency.")
    error_code = models.CharField(max_length=8, blank=True)
    error_description = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    status_at = models.DateTimeField("status changed at", null=True, blank=True)
    dlr_polled_at = models.DateTimeField(null=True, blank=True, editable=False,
                                         help_text="When its delivery report was last asked for.")

    class Meta:
        db_table = "messaging_message"
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["campaign", "status"]),
            models.Index(fields=["batch", "number"], name="message_batch_number"),
            models.Index(fields=["number"]),
            models.Index(fields=["bics_message_id"], name="message_bics_id",
                         condition=~models.Q(bics_message_id="")),
            models.Index(fields=["submitted_at"], name="message_submitted_waiting",
                         condition=models.Q(status="submitted")),
            models.Index(fields=["group_id"], name="message_group_waiting",
                         condition=models.Q(status="submitted")),
        ]

    def __str__(self):
        return f"{self.number} {self.status}"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


class DeliveryReport(models.Model):
    class Source(models.TextChoices):
        PULL = "pull", "Pulled"
        WEBHOOK = "webhook", "Webhook"
        RECONCILE = "reconcile", "Reconciliation"

    # No index of its own on ``message``: the (message, received_at) index below serves every
    # lookup by message (a message's reports, a campaign's, erasure), and each DLR writes one B-tree less.
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE, related_name="reports",
                                db_index=False)
    channel = models.CharField(max_length=10, default="sms")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.PULL)
    bics_message_id = models.CharField("BICS message id", max_length=100, blank=True)
    cid = models.CharField("CID", max_length=64, blank=True)
    mobile = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=32, blank=True)
    code = models.CharField(max_length=8, blank=True)
    applied = models.BooleanField(default=False, help_text="Did it change the message's status?")
    raw = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "messaging_deliveryreport"
        ordering = ["-received_at", "-pk"]
        indexes = [models.Index(fields=["message", "received_at"])]

    def __str__(self):
        return f"DLR {self.bics_message_id or self.cid} {self.status}"


class SmartLink(models.Model):
    """A smart link created in the BICS portal, named here for a campaign: its visits show
    on the campaign through ``link_id``."""

    link_id = models.CharField("smart-link id", max_length=40, unique=True)
    campaign = models.ForeignKey("campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="smart_links")
    name = models.CharField(max_length=100, blank=True)
    visits_pulled_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "messaging_smartlink"
        ordering = ["link_id"]

    def __str__(self):
        return self.name or f"smart link {self.link_id}"


class SmartLinkVisit(models.Model):
    """A visit of a smart link (fields of the Smart Link webhook)."""

    bics_id = models.CharField("BICS id", max_length=100, unique=True)
    link_id = models.CharField("smart-link id", max_length=40, db_index=True)
    smart_link = models.ForeignKey(SmartLink, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="visits")
    user_agent = models.TextField(blank=True)
    browser = models.CharField(max_length=100, blank=True)
    browser_version = models.CharField(max_length=50, blank=True)
    platform = models.CharField(max_length=50, blank=True)
    device_type = models.CharField(max_length=50, blank=True)
    device_brand = models.CharField(max_length=50, blank=True)
    country = models.CharField(max_length=100, blank=True)
    country_code = models.CharField(max_length=8, blank=True)
    region = models.CharField(max_length=100, blank=True)
    city = models.CharField(max_length=100, blank=True)
    mobile = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=8, default="webhook", choices=[("webhook", "Webhook"), ("pull", "Pulled")])

    class Meta:
        db_table = "messaging_smartlinkvisit"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"visit {self.bics_id} of {self.link_id}"



# --------------------------------------------------------------------------- tracked short links
class ShortLink(models.Model):
    """One recipient's short URL for one ``{{link:…}}`` of a campaign (``/s/<code>``). The code is
    random (no personal data); the message is found by its ``custom_id``, written in the same
    launch (the writer inserts messages without reading their ids back)."""

    code = models.CharField(max_length=16, primary_key=True)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="short_links")
    custom_id = models.CharField("message", max_length=64, db_index=True)
    url = models.URLField(max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "campaigns_shortlink"

    def __str__(self):
        return f"/s/{self.code}"


class LinkClick(models.Model):
    """A visit of a short link: stored in sets by ``short_links.link_clicks_drain`` from the Redis
    list the redirect appends to (by the redirect itself when Redis is unavailable)."""

    link = models.ForeignKey(ShortLink, on_delete=models.CASCADE, related_name="clicks")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    custom_id = models.CharField("message", max_length=64)
    clicked_at = models.DateTimeField()

    class Meta:
        db_table = "campaigns_linkclick"
        indexes = [models.Index(fields=["campaign", "clicked_at"], name="linkclick_campaign_time")]

    def __str__(self):
        return f"click on {self.link_id} at {self.clicked_at:%Y-%m-%d %H:%M}"


class ClickCondition(models.Model):
    """An audience condition of a campaign: only contacts who clicked (or did not click) a link
    of an earlier campaign."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="click_condition")
    source = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+",
                               help_text="The earlier campaign whose links count.")
    clicked = models.BooleanField(default=True, help_text="Checked: clicked. Unchecked: received it, did not click.")

    def __str__(self):
        return f"{'clicked' if self.clicked else 'did not click'} {self.source}"


# --------------------------------------------------------------------------- frequency caps
class FrequencyCap(models.Model):
    """At most ``max_messages`` promotional campaign messages per contact in any ``period_days``
    days, across every campaign and channel. The active row with the lowest id applies."""

    max_messages = models.PositiveIntegerField(default=3)
    period_days = models.PositiveIntegerField(default=7)
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=models.Q(max_messages__gte=1, period_days__gte=1),
                                              name="frequency_cap_positive")]

    def __str__(self):
        return f"at most {self.max_messages} promotional messages per {self.period_days} days"


class CapCounter(models.Model):
    """One row per contact that ever received promotional traffic: locked (``SELECT … FOR
    UPDATE``) while a launch counts and reserves, so two launches at once take turns per
    contact; ``sends`` counts the promotional messages ever reserved for the contact."""

    contact = models.OneToOneField("contacts.Contact", on_delete=models.CASCADE, primary_key=True, related_name="+")
    sends = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"contact {self.contact_id}: {self.sends} promotional"


class PromotionalSend(models.Model):
    """A promotional message reserved for a contact at a launch: what the cap counts."""

    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["contact", "at"], name="promosend_contact_at")]
        constraints = [models.UniqueConstraint(fields=["campaign", "contact"], name="uniq_promosend_campaign_contact")]

    def __str__(self):
        return f"contact {self.contact_id} in campaign {self.campaign_id}"


class CapExclusion(models.Model):
    """A contact the launch left out because of the frequency cap, with the reason."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="cap_exclusions")
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "contact"], name="uniq_capexclusion")]

    def __str__(self):
        return f"contact {self.contact_id} left out of campaign {self.campaign_id}"


# --------------------------------------------------------------------------- sending windows
class SendingWindow(models.Model):
    """When messages may reach recipients of a destination country (blank: every other
    country), per kind of traffic, in the recipient's own time zone. Rows marked ``shipped``
    are defaults shipped with the product, switched off until the customer has checked them:
    they are common practice, not legal advice. Only active rows apply."""

    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2; blank: the default.")
    traffic = models.CharField(max_length=13, choices=[("promotional", "Promotional"),
                                                       ("transactional", "Transactional")])
    opens = models.TimeField(help_text="Local time in the recipient's time zone.")
    closes = models.TimeField(help_text="Local time; messages start before it. 00:00 means midnight (end of day).")
    weekdays = models.CharField(max_length=7, default="0123456",
                                help_text="Allowed days, Monday = 0 … Sunday = 6, e.g. 012345 for Monday to Saturday.")
    skip_dates = models.TextField(blank=True, help_text="Dates never to send on (YYYY-MM-DD), one per line.")
    shipped = models.BooleanField("shipped default", default=False,
                                  help_text="A default shipped with the product: check it; it is not legal advice.")
    active = models.BooleanField(default=True, help_text="Shipped defaults start switched off: review, then switch on.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["traffic", "country"]
        constraints = [models.UniqueConstraint(fields=["country", "traffic"], name="uniq_sending_window")]

    def __str__(self):
        where = self.country or "default"
        return f"{where} {self.traffic}: {self.opens:%H:%M}-{self.closes:%H:%M}"


class BatchWindow(models.Model):
    """The sending window a batch waits for: its recipients' country and time zone, and the
    next opening (the engine claims no batch before it)."""

    batch = models.OneToOneField(SendBatch, on_delete=models.CASCADE, primary_key=True, related_name="window")
    country = models.CharField(max_length=2, blank=True)
    zone = models.CharField(max_length=64)
    opens_at = models.DateTimeField(null=True, blank=True, db_index=True)

    def __str__(self):
        return f"{self.country} {self.zone} from {self.opens_at}"
