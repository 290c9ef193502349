from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from contacts.forms import ContactImportForm, SegmentForm, TagActionForm, UntagActionForm
from contacts.models import Contact, ContactImport, Identifier, IdentifierType, ImportState, Segment, Tag
from contacts.selectors import audience_counts, export_rows, segment_contacts, unsubscriber_model
from contacts.services import contacts as contact_services
from contacts.services.exports import csv_lines, masked_rows
from contacts.services.sync import SEGMENT_COUNT_JOB
from core.admin import MaskedNumbersMixin
from core.admin_actions import ContributedActionsMixin
from core.admin_sync import SyncRunActionsMixin
from core.masking import can_view_full_numbers, mask_number, mask_numbers_in_text
from core.models import SyncRun, SyncState
from core.phones import PhoneError, normalise_phone


class SegmentListFilter(admin.SimpleListFilter):
    title = "segment"
    parameter_name = "segment"

    def lookups(self, request, model_admin):
        return [(str(pk), name) for pk, name in Segment.objects.values_list("pk", "name")]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        segment = Segment.objects.filter(pk=self.value()).first()
        if segment is None:
            return queryset.none()
        return queryset.filter(pk__in=segment_contacts(segment).values("pk"))


class TagListFilter(admin.SimpleListFilter):
    title = "tag"
    parameter_name = "tag"

    def lookups(self, request, model_admin):
        return [(str(pk), name) for pk, name in Tag.objects.values_list("pk", "name")[:200]]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        through = Contact.tags.through
        return queryset.filter(
            Exists(through.objects.filter(contact_id=OuterRef("pk"), tag_id=self.value()))
        )


class CountryListFilter(admin.SimpleListFilter):
    """Countries present, from a cached DISTINCT (not a scan of the table on each page)."""

    title = "country of the number"
    parameter_name = "country"
    cache_key = "contacts:admin:countries"

    def lookups(self, request, model_admin):
        from django.core.cache import cache

        countries = cache.get(self.cache_key)
        if countries is None:
            countries = sorted(
                c for c in Contact.objects.order_by().values_list("country", flat=True).distinct() if c
            )
            cache.set(self.cache_key, countries, 600)
        return [(c, c) for c in countries]

    def queryset(self, request, queryset):
        return queryset.filter(country=self.value()) if self.value() else queryset


class IdentifierInline(admin.TabularInline):
    """Identifiers of a contact; staff without `core.view_full_numbers` see them masked and
    read-only (a phone identifier is the number itself)."""

    model = Identifier
    extra = 0
    fields = ("type", "value", "bics_id", "sync_state")
    readonly_fields = ("bics_id", "sync_state")
    masked_fields = ("type", "masked_value", "bics_id", "sync_state")

    def get_fields(self, request, obj=None):
        return self.fields if can_view_full_numbers(request.user) else self.masked_fields

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if can_view_full_numbers(request.user) else self.masked_fields

    def has_add_permission(self, request, obj=None):
        return can_view_full_numbers(request.user) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return can_view_full_numbers(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return can_view_full_numbers(request.user) and super().has_delete_permission(request, obj)

    @admin.display(description="Value")
    def masked_value(self, obj):
        return obj.value if obj.type == IdentifierType.EMAIL else mask_numbers_in_text(obj.value)


class DirtyOnEditMixin:
    """A synced record edited here needs a push again."""

    def save_model(self, request, obj, form, change):
        if change and form.has_changed() and obj.sync_state in (SyncState.SYNCED, SyncState.FAILED):
            obj.sync_state = SyncState.DIRTY
        super().save_model(request, obj, form, change)


@admin.register(Contact)
class ContactAdmin(
    ContributedActionsMixin, MaskedNumbersMixin, SyncRunActionsMixin, DirtyOnEditMixin, admin.ModelAdmin
):
    sync_resource = "contacts"
    # The list and the action checkboxes show the number masked to staff without
    # core.view_full_numbers; searching by the whole number (=phone) stays: it reveals
    # nothing the searcher did not type.
    masked_number_fields = ("phone",)
    list_display = ("phone", "first_name", "last_name", "email", "country", "sync_state", "created_at")
    list_filter = (TagListFilter, SegmentListFilter, "sync_state", CountryListFilter)
    search_fields = ("=phone", "^last_name", "^first_name", "^email")
    search_help_text = "A number in any notation, or the start of a name or email."
    show_full_result_count = False
    list_select_related = ()
    list_per_page = 50
    autocomplete_fields = ("tags",)
    inlines = (IdentifierInline,)
    readonly_fields = ("country", "bics_id", "sync_state", "synced_at", "sync_error", "source_import",
                       "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("phone", "country", "identity", "first_name", "last_name", "email", "company")}),
        ("Details", {"fields": ("postal_code", "birth_date", "gender", "attributes", "tags")}),
        ("BICS", {"fields": ("bics_id", "sync_state", "synced_at", "sync_error")}),
        ("History", {"fields": ("source_import", "created_at", "updated_at")}),
    )
    actions = ("tag_contacts", "untag_contacts", "unsubscribe_contacts", "export_csv", "push_to_bics",
               "pull_from_bics")

    def save_formset(self, request, form, formset, change):
        """An identifier edited here after a sync needs a push again (like its contact)."""
        if formset.model is Identifier:
            for item in formset.forms:
                obj = item.instance
                if obj.pk and item.has_changed() and obj.sync_state in (SyncState.SYNCED, SyncState.FAILED):
                    obj.sync_state = SyncState.DIRTY
        super().save_formset(request, form, formset, change)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if term and sum(ch.isdigit() for ch in term) >= 6:
            try:
                phone, _ = normalise_phone(term)
            except PhoneError:
                phone = None
            if phone:
                return queryset.filter(phone=phone), False
        return super().get_search_results(request, queryset, search_term)

    def _form_action(self, request, queryset, form_class, title, apply):
        form = form_class(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            count = apply(form.cleaned_data)
            self.message_user(request, f"{title}: {count} change(s).", messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "admin/contacts/contact/action_tag.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "form": form,
                "queryset": queryset,
                "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
                "select_across": request.POST.get("select_across") == "1",
                "action": request.POST.get("action"),
                "opts": self.model._meta,
            },
        )

    @admin.action(description="Tag the selected contacts", permissions=["change"])
    def tag_contacts(self, request, queryset):
        return self._form_action(
            request, queryset, TagActionForm, "Tag contacts",
            lambda data: contact_services.contacts_tag(contacts=queryset, tag_names=[data["tag"]]),
        )  # fmt: skip

    @admin.action(description="Remove a tag from the selected contacts", permissions=["change"])
    def untag_contacts(self, request, queryset):
        return self._form_action(
            request, queryset, UntagActionForm, "Untag contacts",
            lambda data: contact_services.contacts_untag(contacts=queryset, tags=[data["tag"]]),
        )  # fmt: skip

    @admin.action(description="Export the selected contacts as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        response = StreamingHttpResponse(
            csv_lines(masked_rows(export_rows(queryset), request.user, columns={0: mask_number})),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = 'attachment; filename="contacts.csv"'
        return response

    @admin.action(description="Add the selected contacts to the SMS unsubscribers", permissions=["change"])
    def unsubscribe_contacts(self, request, queryset):
        if unsubscriber_model() is None:
            self.message_user(request, "Unsubscribers are not available yet.", messages.ERROR)
            return
        added = contact_services.contacts_unsubscribe(contacts=queryset)
        self.message_user(
            request,
            f"{added} new SMS unsubscriber(s) added; push unsubscribers to BICS to apply them there.",
            messages.SUCCESS,
        )


@admin.register(Tag)
class TagAdmin(SyncRunActionsMixin, DirtyOnEditMixin, admin.ModelAdmin):
    sync_resource = "tags"
    actions = ("push_to_bics", "pull_from_bics")
    list_display = ("name", "bics_id", "sync_state", "synced_at")
    list_filter = ("sync_state",)
    search_fields = ("name",)
    readonly_fields = ("bics_id", "sync_state", "synced_at", "sync_error", "created_at", "updated_at")
    show_full_result_count = False


@admin.register(Segment)
class SegmentAdmin(SyncRunActionsMixin, DirtyOnEditMixin, admin.ModelAdmin):
    sync_resource = "segments"
    actions = ("push_to_bics", "pull_from_bics", "compare_with_bics")
    form = SegmentForm
    list_display = ("name", "positive_tags_operator", "negative_tags_operator", "local_only",
                    "remote_subscriber_count", "sync_state", "export_link")
    list_filter = ("local_only", "sync_state")
    search_fields = ("name",)
    filter_horizontal = ("positive_tags", "negative_tags")
    readonly_fields = ("local_only", "audience", "remote_subscriber_count", "remote_counted_at",
                       "bics_id", "sync_state", "synced_at", "sync_error")
    fieldsets = (
        (None, {"fields": ("name",)}),
        ("Contacts with these tags", {"fields": ("positive_tags_operator", "positive_tags")}),
        ("Except contacts with these tags", {"fields": ("negative_tags_operator", "negative_tags")}),
        ("Local conditions", {"fields": ("conditions",)}),
        ("Audience", {"fields": ("local_only", "audience", "remote_subscriber_count", "remote_counted_at")}),
        ("BICS", {"fields": ("bics_id", "sync_state", "synced_at", "sync_error")}),
    )

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.base_fields["conditions"].help_text = SegmentForm.base_fields["conditions"].help_text
        return form

    @admin.display(description="Saved rules match")
    def audience(self, obj):
        if not obj.pk:
            return "-"
        counts = audience_counts(segment_contacts(obj))
        return f"{counts['total']} contacts, {counts['unsubscribed']} unsubscribed"

    @admin.action(description="Count BICS's subscribers (Get Segment Subscribers)", permissions=["view"])
    def compare_with_bics(self, request, queryset):
        pushed = queryset.filter(bics_id__isnull=False)
        for segment in queryset.filter(bics_id__isnull=True):
            self.message_user(request, f"“{segment}” is not at BICS yet: push it first.", messages.WARNING)
        if not pushed.exists():
            return
        run = self.start_sync_run(request, SEGMENT_COUNT_JOB, "pull", pushed)
        if run.state == SyncRun.State.DONE:  # it ran at once (eager Celery): show the figures
            for segment in pushed.all():
                local = segment_contacts(segment).count()
                self.message_user(request, f"“{segment}”: {segment.remote_subscriber_count} subscribers at "
                                  f"BICS, {local} here.", messages.INFO)

    @admin.display(description="Export")
    def export_link(self, obj):
        return format_html('<a href="{}">CSV</a>', reverse("contacts:segment_export", args=[obj.pk]))

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        segment = form.instance
        if segment.local_only:
            self.message_user(
                request,
                f"“{segment}” is local only ({', '.join(segment.local_only_reasons)}): it is used "
                "for campaigns here and is not pushed to BICS.",
                messages.WARNING,
            )


@admin.register(ContactImport)
class ContactImportAdmin(admin.ModelAdmin):
    form = ContactImportForm
    list_display = ("__str__", "state", "created_by", "created_at", "rows_read", "rows_imported",
                    "rows_updated", "rows_duplicate", "rows_rejected")
    list_filter = ("state",)
    list_select_related = ("created_by",)
    show_full_result_count = False
    date_hierarchy = None
    readonly_fields = ("original_name", "created_by", "created_at", "started_at", "finished_at", "state",
                       "rows_read", "rows_imported", "rows_updated", "rows_duplicate", "rows_rejected", "error",
                       "first_rejections")

    def has_change_permission(self, request, obj=None):
        # An import is a record of what happened: its page is read-only (no Save button).
        return False if obj is not None else super().has_change_permission(request, obj)

    def _shown(self, request, names):
        """The rejections' reasons carry the refused number: masked for staff without
        core.view_full_numbers."""
        if can_view_full_numbers(request.user):
            return list(names)
        return ["first_rejections_masked" if n == "first_rejections" else n for n in names]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["file", "default_country", "tag"]
        return self._shown(request, ["original_name", "file", "default_country", "tag", *self.readonly_fields[1:]])

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return tuple(self._shown(request, ("file", "default_country", "tag", *self.readonly_fields)))

    @admin.display(description="First rejected rows")
    def first_rejections(self, obj, mask=None):
        rows = list(obj.rejections.order_by("line")[:20])
        if not rows:
            return "-"
        reasons = [mask(r.reason) if mask else r.reason for r in rows]
        return format_html(
            "<ul>{}</ul>",
            format_html("".join("<li>line {}: {}</li>" for _ in rows),
                        *[v for r, reason in zip(rows, reasons, strict=True) for v in (r.line, reason)]),
        )

    @admin.display(description="First rejected rows")
    def first_rejections_masked(self, obj):
        return self.first_rejections(obj, mask=mask_numbers_in_text)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
            obj.original_name = obj.file.name.rsplit("/", 1)[-1] if obj.file else ""
            obj.state = ImportState.QUEUED
        super().save_model(request, obj, form, change)
        if not change:
            obj.bytes_total = obj.file.size
            obj.save(update_fields=["bytes_total"])
            from contacts.tasks import import_contacts

            transaction.on_commit(lambda: import_contacts.delay(obj.pk))

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(request, f"{obj} is queued; this page shows its progress.", messages.INFO)
        return HttpResponseRedirect(reverse("admin:contacts_contactimport_change", args=[obj.pk]))
