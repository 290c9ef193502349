"""Contacts (BICS "subscribers"), their identifiers, tags, segments and imports.

Fields mirror the documented request fields of Create Contact, Add Identifier to an Existing
Contact, Create Tag and Create Segment (the "Contacts" chapter). Rules and workflows live in
`contacts.services`; reads in `contacts.selectors`.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from core.models import SyncedModel, TimeStampedModel
from core.states import StateMachine


class Gender(models.TextChoices):
    MALE = "male", "Male"
    FEMALE = "female", "Female"


class Tag(SyncedModel, TimeStampedModel):
    # The documentation shows names with spaces ("premium 1"); uniqueness is ours.
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


def tag_names_property(field: str, doc: str) -> property:
    """Tag *names* of a many-to-many field, readable and settable like a plain field.

    The generic sync (core.sync) compares and assigns ``from_payload`` values as attributes and
    passes them to ``Model(**values)`` (Django accepts properties there). Reading gives the
    sorted names (the pending ones once set); setting only records the names: the sync
    adapter's ``after_pull`` writes them with ``apply_tag_names`` once the record is saved.
    """
    pending = f"_pending_{field}_names"

    def get(self) -> list[str]:
        if pending in self.__dict__:
            return self.__dict__[pending]
        if self.pk is None:
            return []
        return sorted(getattr(self, field).values_list("name", flat=True))

    def set_(self, names) -> None:
        self.__dict__[pending] = sorted({str(n).strip() for n in names or () if str(n).strip()})

    return property(get, set_, doc=doc)


def apply_tag_names(obj, field: str) -> bool:
    """Writes names set through ``tag_names_property`` (creating missing tags); True if any."""
    names = obj.__dict__.pop(f"_pending_{field}_names", None)
    if names is None:
        return False
    existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    tags = [existing.get(name) or Tag.objects.get_or_create(name=name)[0] for name in names]
    getattr(obj, field).set(tags)
    return True


class Contact(SyncedModel, TimeStampedModel):
    identity = models.CharField(
        max_length=128,
        blank=True,
        help_text="BICS identity, without spaces; derived from the phone number when empty.",
    )
    phone = models.CharField(
        max_length=20, unique=True, help_text="E.164 with '+', e.g. +32470123456."
    )
    # Region of the number (ISO 3166-1 alpha-2), derived from `phone`; local only.
    country = models.CharField(max_length=2, blank=True, default="", db_index=True)
    email = models.EmailField(blank=True, default="")
    first_name = models.CharField(max_length=150, blank=True, default="")
    last_name = models.CharField(max_length=150, blank=True, default="")
    company = models.CharField(max_length=200, blank=True, default="")
    postal_code = models.CharField(max_length=32, blank=True, default="")
    birth_date = models.DateField(null=True, blank=True)
    gender = models.CharField(max_length=6, choices=Gender.choices, blank=True, default="")
    attributes = models.JSONField(default=dict, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="contacts")
    source_import = models.ForeignKey(
        "ContactImport",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="created_contacts",
        help_text="The import that created this contact.",
    )

    class Meta:
        ordering = ["-id"]
        # Default ordering is the primary key; filters are country, sync state, tags (the
        # through table) and birth date. Each more index slows the bulk import down.
        indexes = [models.Index(fields=["birth_date"], name="contact_birth_date_idx")]

    def __str__(self):
        name = f"{self.first_name} {self.last_name}".strip()
        return f"{name} ({self.phone})" if name else self.phone

    def clean(self):
        from core.phones import PhoneError, normalise_phone

        if self.phone:
            try:
                self.phone, self.country = normalise_phone(self.phone)
            except PhoneError as exc:
                raise ValidationError({"phone": str(exc)}) from exc
        if self.identity and any(ch.isspace() for ch in self.identity):
            raise ValidationError({"identity": "BICS wants the identity without spaces."})
        if not isinstance(self.attributes, dict):
            raise ValidationError({"attributes": "Attributes must be a JSON object."})

    def save(self, *args, **kwargs):
        if not self.identity and self.phone:
            self.identity = self.phone
        super().save(*args, **kwargs)

    tag_names = tag_names_property("tags", "Names of the contact's tags (as BICS carries them).")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class IdentifierType(models.TextChoices):
    # No enum is documented; "phone" and "email" are the values seen in the identifier samples.
    PHONE = "phone", "Phone"
    EMAIL = "email", "Email"


class Identifier(SyncedModel, TimeStampedModel):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="identifiers")
    type = models.CharField(max_length=32, default=IdentifierType.PHONE)
    value = models.CharField(max_length=255)

    class Meta:
        ordering = ["contact", "type", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "type", "value"], name="identifier_unique_per_contact"
            )
        ]

    def __str__(self):
        return f"{self.type}: {self.value}"


class TagOperator(models.TextChoices):
    ANY = "any", "any of these tags"
    # Not documented at BICS: a segment using it is local only.
    ALL = "all", "all of these tags (local only)"


class Segment(SyncedModel, TimeStampedModel):
    """Tag rules (documented, synced) plus local conditions (ours, never pushed).

    `conditions` is a list of `{"field": ..., "op": ..., "value": ...}`; see
    `contacts.conditions.CONDITION_FIELDS` for what is allowed.
    """

    name = models.CharField(max_length=150, unique=True)
    positive_tags = models.ManyToManyField(
        Tag, verbose_name="tags to include", blank=True, related_name="positive_in_segments")
    positive_tags_operator = models.CharField(
        "include contacts with", max_length=3, choices=TagOperator.choices, default=TagOperator.ANY
    )
    negative_tags = models.ManyToManyField(
        Tag, verbose_name="tags to exclude", blank=True, related_name="negative_in_segments")
    negative_tags_operator = models.CharField(
        "exclude contacts with", max_length=3, choices=TagOperator.choices, default=TagOperator.ANY
    )
    conditions = models.JSONField(default=list, blank=True)
    local_only = models.BooleanField(
        default=False,
        editable=False,
        help_text="Uses rules BICS does not document ('all', field conditions): never pushed.",
    )
    # Last "Get Segment Subscribers" pull, for comparison with the local count.
    remote_subscriber_count = models.PositiveIntegerField("subscribers at BICS", null=True, blank=True, editable=False)
    remote_counted_at = models.DateTimeField("subscribers counted at", null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    positive_tag_names = tag_names_property("positive_tags", "Names of the positive tags.")
    negative_tag_names = tag_names_property("negative_tags", "Names of the negative tags.")

    @property
    def local_only_reasons(self) -> list[str]:
        reasons = []
        if self.positive_tags_operator == TagOperator.ALL:
            reasons.append("positive tags use 'all'")
        if self.negative_tags_operator == TagOperator.ALL:
            reasons.append("negative tags use 'all'")
        if self.conditions:
            reasons.append(f"{len(self.conditions)} field condition(s)")
        return reasons

    def clean(self):
        from contacts.conditions import validate_conditions

        try:
            self.conditions = validate_conditions(self.conditions)
        except ValueError as exc:
            raise ValidationError({"conditions": str(exc)}) from exc

    def save(self, *args, **kwargs):
        self.local_only = bool(self.local_only_reasons)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = set(update_fields) | {"local_only"}
        super().save(*args, **kwargs)


class ImportState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


# A failed import may run again (contacts are upserted by number); a running one only when its
# worker is gone (started longer ago than the task's time limit: the caller's guard). Done is final.
IMPORT_STATES = StateMachine("state", {
    ImportState.QUEUED: {ImportState.RUNNING, ImportState.FAILED},
    ImportState.RUNNING: {ImportState.DONE, ImportState.FAILED, ImportState.RUNNING},
    ImportState.FAILED: {ImportState.RUNNING},
})


class ContactImport(models.Model):
    file = models.FileField(upload_to="contact_imports/%Y/%m/", blank=True)
    original_name = models.CharField("file name", max_length=255, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(
        max_length=8, choices=ImportState.choices, default=ImportState.QUEUED, db_index=True
    )
    default_country = models.CharField(
        max_length=2,
        blank=True,
        default="",
        help_text="ISO country (e.g. BE) for numbers written without a country code.",
    )
    tag = models.CharField(
        max_length=100, blank=True, default="", help_text="Tag every imported contact with this."
    )
    bytes_total = models.PositiveBigIntegerField("file size (bytes)", default=0)
    bytes_read = models.PositiveBigIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0)
    rows_imported = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_duplicate = models.PositiveIntegerField(
        "duplicate rows", default=0, db_default=0,  # rows written by older code (or raw SQL) count none
        help_text="Rows repeating a number seen earlier in the file (the later values win).")
    rows_rejected = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(bytes_read__lte=models.F("bytes_total")) | Q(bytes_total=0),
                name="contactimport_bytes_read_lte_total",
            )
        ]

    def __str__(self):
        return f"Import #{self.pk} {self.original_name}".strip()

    @property
    def percent(self) -> int:
        if self.state == ImportState.DONE:
            return 100
        if not self.bytes_total:
            return 0
        return min(99, int(100 * self.bytes_read / self.bytes_total))


class ContactImportRejection(models.Model):
    contact_import = models.ForeignKey(
        ContactImport, on_delete=models.CASCADE, related_name="rejections"
    )
    line = models.PositiveIntegerField()
    reason = models.CharField(max_length=255)
    raw = models.TextField(blank=True, default="", help_text="The row as read from the file.")

    class Meta:
        ordering = ["contact_import", "line"]
        indexes = [models.Index(fields=["contact_import", "line"], name="rejection_import_line_idx")]

    def __str__(self):
        return f"line {self.line}: {self.reason}"
