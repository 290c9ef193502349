"""Admin for the messaging catalogue: declarative options, thin actions calling services."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from core.admin import MaskedNumbersMixin
from core.admin_base import ReadOnlyAdmin
from core.admin_pull import PullButton, PullButtonsMixin, start_sync_pull
from core.admin_sync import SYNC_FIELDS, SyncedAdmin
from core.masking import can_view_full_numbers
from messaging.catalogue import rules
from messaging.catalogue.forms import (
    WHATSAPP_EDIT_NOTE,
    CleanConfirmForm,
    ImportForm,
    RejectForm,
    TemplateAdminForm,
)
from messaging.catalogue.models import (
    AccountBalance,
    BlockedTemplate,
    Price,
    Sender,
    Template,
    TemplateApproval,
    TemplateEvent,
    Unsubscriber,
)
from messaging.catalogue.services import lists
from messaging.catalogue.services import templates as template_services
from messaging.catalogue.services.pricing import PRICING_JOB

EXPORT_SESSION_KEY = "messaging-export-{}"
EXPORT_VALID_SECONDS = 3600


class ListAdminMixin:
    """Export (CSV/XLSX), import and the superuser-only "Clean" for opt-out style lists."""

    export_name = ""
    clean_kinds: tuple[str, ...] = ("",)  # channels (unsubscribers) or "" (blocked templates)

    def export_file(self, request, queryset, fmt):
        raise NotImplementedError

    def import_rows(self, rows, form):
        raise NotImplementedError

    def clean_list(self, user, kind, confirmation):
        raise NotImplementedError

    def clean_phrase(self, kind):
        raise NotImplementedError

    def _export(self, request, queryset, fmt, *, whole_list=False):
        content, content_type = self.export_file(request, queryset, fmt)
        if whole_list:  # only an export of everything is a backup before "Clean"
            request.session[EXPORT_SESSION_KEY.format(self.export_name)] = timezone.now().timestamp()
        response = HttpResponse(content, content_type=content_type)
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="{self.export_name}-{stamp}.{fmt}"'
        return response

    @admin.action(description="Export selected as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        return self._export(request, queryset, "csv")

    @admin.action(description="Export selected as XLSX", permissions=["view"])
    def export_xlsx(self, request, queryset):
        return self._export(request, queryset, "xlsx")

    def get_urls(self):
        opts = self.model._meta
        name = f"{opts.app_label}_{opts.model_name}"
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name=f"{name}_import"),
            path("export/<str:fmt>/", self.admin_site.admin_view(self.export_all_view), name=f"{name}_export"),
            path("clean/", self.admin_site.admin_view(self.clean_view), name=f"{name}_clean"),
            *super().get_urls(),
        ]

    def export_all_view(self, request, fmt):
        if not self.has_view_permission(request) or fmt not in ("csv", "xlsx"):
            raise PermissionDenied
        return self._export(request, self.model._default_manager.all(), fmt, whole_list=True)

    def import_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None, channel_choice=self.clean_kinds != ("",))
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                rows = lists.read_rows(upload)
            except ValidationError as exc:
                form.add_error("file", exc)
            else:
                result = self.import_rows(rows, form)
                level = messages.WARNING if result.errors else messages.SUCCESS
                self.message_user(request, f"Import: {result.summary()}. Push to BICS to send them.", level)
                return HttpResponseRedirect(reverse(f"admin:{self.model._meta.app_label}_"
                                                    f"{self.model._meta.model_name}_changelist"))
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "title": f"Import {self.model._meta.verbose_name_plural}"}
        return TemplateResponse(request, "admin/messaging/import.html", context)

    def clean_view(self, request):
        if not request.user.is_superuser:
            raise PermissionDenied("Only superusers may clean a list at BICS.")
        exported_at = request.session.get(EXPORT_SESSION_KEY.format(self.export_name))
        exported = bool(exported_at and timezone.now().timestamp() - exported_at < EXPORT_VALID_SECONDS)
        kinds = list(self.clean_kinds)
        form = CleanConfirmForm(request.POST or None, kinds=kinds)
        if request.method == "POST" and exported and form.is_valid():
            kind = form.cleaned_data.get("kind", "")
            try:
                deleted = self.clean_list(request.user, kind, form.cleaned_data["confirmation"])
            except (ValidationError, PermissionDenied) as exc:
                form.add_error("confirmation", str(exc.messages[0] if hasattr(exc, "messages") else exc))
            except Exception as exc:  # BICS refused: nothing local was deleted
                self.message_user(request, f"BICS refused the clean; nothing was deleted: {exc}", messages.ERROR)
            else:
                request.session.pop(EXPORT_SESSION_KEY.format(self.export_name), None)
                self.message_user(request, f"Cleaned at BICS; {deleted} local records deleted.", messages.SUCCESS)
                return HttpResponseRedirect(reverse(f"admin:{self.model._meta.app_label}_"
                                                    f"{self.model._meta.model_name}_changelist"))
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request), "opts": opts, "form": form, "exported": exported,
            "phrases": [self.clean_phrase(k) for k in kinds],
            "export_csv": reverse(f"admin:{opts.app_label}_{opts.model_name}_export", args=["csv"]),
            "export_xlsx": reverse(f"admin:{opts.app_label}_{opts.model_name}_export", args=["xlsx"]),
            "title": f"Clean {opts.verbose_name_plural} at BICS",
        }
        return TemplateResponse(request, "admin/messaging/clean.html", context)


# --------------------------------------------------------------------------- senders
@admin.register(Sender)
class SenderAdmin(SyncedAdmin):
    sync_resource = "senders"
    synced_form_fields = ("country_code", "service")
    list_display = ("name", "country_code", "service", "sender_type", "status", "entity_id", "sync_state")
    list_filter = ("status", "service", "sender_type", "sync_state", "country_code")
    search_fields = ("name", "entity_name", "entity_id", "bics_id")
    readonly_fields = ("sender_type", "status", "entity_name", "entity_id", "open_status", "purpose",
                       "country_policy", "bics_created_at", "bics_updated_at")
    fields = ("name", "country_code", "service", "country_notes", "country_policy", "sender_type", "status",
              "entity_name", "entity_id", "open_status", "purpose", "bics_created_at", "bics_updated_at",
              *SYNC_FIELDS)

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "name") if obj and obj.bics_id else fields  # cannot change at BICS (Sender ID)

    @admin.display(description="Country policy")
    def country_policy(self, obj):
        if obj is None or not obj.pk:
            return "-"
        policy = rules.sender_policies().get(obj.country_code)
        warnings = obj.policy_warnings()
        text = f"{policy.country}: {policy.policy}" if policy else "No documented policy for this country."
        return format_html("{}<ul>{}</ul>", text, format_html_join("", "<li>{}</li>", ((str(w),) for w in warnings)))

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        for warning in obj.policy_warnings():
            self.message_user(request, str(warning), messages.WARNING)


# --------------------------------------------------------------------------- templates
class TemplateApprovalInline(admin.TabularInline):
    model = TemplateApproval
    extra = 0
    can_delete = False
    fields = ("version", "decision", "decided_by", "decided_at", "reason", "content")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Template)
class TemplateAdmin(SyncedAdmin):
    form = TemplateAdminForm
    sync_resource = "templates"
    synced_form_fields = ("name", "content", "sender", "template_type", "is_english", "channel_payload")
    list_display = ("name", "channel", "template_type", "approval_state", "approval_note", "provider_state",
                    "sender", "author", "version", "sync_state")
    list_filter = ("channel", "approval_state", "template_type", "provider_status", "sync_state")
    search_fields = ("name", "alias", "content", "bics_id")
    list_select_related = ("sender", "author")
    autocomplete_fields = ("sender", "consent_template")
    inlines = [TemplateApprovalInline]
    actions = ["submit_for_approval", "approve", "reject", "push_to_bics", "pull_from_bics"]
    readonly_fields = ("approval_state", "rejection_reason", "version", "author", "last_edited_by", "submitted_by",
                       "submitted_at", "content_hash", "approved_hash", "alias",
                       "provider_status", "body_length", "bics_sender_id", "bics_created_at",
                       "bics_updated_at", "usability", "diff_with_approved", "approval_trail")
    fieldsets = (  # the review box above (change_form.html) comes first; the rarely read parts fold away
        (None, {"fields": ("channel", "name", "content", "sender", "template_type", "message_type",
                           "is_english", "consent_template")}),
        ("Approval", {"fields": ("approval_state", "rejection_reason", "version", "author", "last_edited_by",
                                 "submitted_by", "submitted_at", "usability", "diff_with_approved",
                                 "approval_trail")}),
        ("Fingerprints of the approved words", {"fields": ("content_hash", "approved_hash"), "classes": ("collapse",)}),
        ("Channel options (JSON: WhatsApp and Viber)", {"fields": ("channel_payload",), "classes": ("collapse",)}),
        ("BICS", {"fields": ("alias", "provider_status", "body_length", "bics_sender_id", "bics_created_at",
                             "bics_updated_at", *SYNC_FIELDS), "classes": ("collapse",)}),
    )

    change_form_template = "admin/messaging/template/change_form.html"

    class Media:
        js = ("messaging/template_preview.js",)
        css = {"all": ("messaging/template_preview.css",)}

    @admin.display(description="Note")
    def approval_note(self, obj):
        if obj.approval_state == Template.Approval.REJECTED:
            return f"Rejected: {obj.rejection_reason}"
        if obj.approval_state == Template.Approval.SUBMITTED and obj.submitted_at:
            return f"Waiting since {obj.submitted_at:%Y-%m-%d %H:%M}"
        return ""

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and obj.bics_id and obj.channel == "viber":
            return (*fields, "name")  # "The template name that has been created (unchangeable)" (Edit Template)
        return fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and obj.channel == "whatsapp":
            name, options = fieldsets[0]
            fieldsets = ((name, {**options, "description": WHATSAPP_EDIT_NOTE}), *fieldsets[1:])
        return fieldsets

    @admin.display(description="Usable to send?")
    def usability(self, obj):
        if obj is None or not obj.pk:
            return "-"
        reasons = template_services.template_usability(obj)
        if not reasons:
            return "Yes: approved here, approved by the provider, not blocked."
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((r,) for r in reasons)))

    @admin.display(description="Changes since the last approved version")
    def diff_with_approved(self, obj):
        if obj is None or not obj.pk:
            return "-"
        diff = template_services.template_diff(obj)
        return format_html("<pre class=\"template-diff\">{}</pre>", diff) if diff else "No approved version to compare."

    @admin.display(description="Approval trail")
    def approval_trail(self, obj):
        """Read-only by construction: a table, not a formset (the services write the trail)."""
        if obj is None or not obj.pk:
            return "-"
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>v{}</td><td><code>{}</code></td>"
                                    "<td>{}</td></tr>",
                                ((e.at, e.get_action_display(), e.actor or "system", e.version, e.content_hash[:12],
                                  e.note) for e in obj.events.select_related("actor")[:50]))
        return format_html("<table class=\"approval-trail\"><thead><tr><th>When</th><th>What</th><th>Who</th>"
                           "<th>Version</th><th>Fingerprint</th><th>Note</th></tr></thead><tbody>{}</tbody></table>",
                           rows) if rows else "Nothing yet."

    def save_model(self, request, obj, form, change):
        template_services.template_save(template=obj, user=request.user, changed_fields=form.changed_data)
        for warning in rules.warnings(obj.rule_results()):
            self.message_user(request, str(warning), messages.WARNING)

    def _decide(self, request, queryset, service, **kwargs):
        done = 0
        for template in queryset:
            try:
                service(template=template, user=request.user, **kwargs)
                done += 1
            except (PermissionDenied, ValidationError) as exc:
                text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                self.message_user(request, f"{template}: {text}", messages.ERROR)
        return done

    @admin.action(description="Submit for approval", permissions=["change"])
    def submit_for_approval(self, request, queryset):
        done = self._decide(request, queryset, template_services.template_submit)
        if done:
            self.message_user(request, f"{done} template(s) submitted; approvers were notified.", messages.SUCCESS)

    @admin.action(description="Approve (four eyes)", permissions=["approve"])
    def approve(self, request, queryset):
        done = self._decide(request, queryset, template_services.template_approve)
        if done:
            self.message_user(request, f"{done} template(s) approved.", messages.SUCCESS)

    @admin.action(description="Reject with a reason…", permissions=["approve"])
    def reject(self, request, queryset):
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done = self._decide(request, queryset, template_services.template_reject,
                                reason=form.cleaned_data["reason"])
            if done:
                self.message_user(request, f"{done} template(s) rejected.", messages.SUCCESS)
            return None
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "queryset": queryset, "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                   "title": "Reject templates"}
        return TemplateResponse(request, "admin/messaging/template/reject.html", context)

    def has_approve_permission(self, request):
        return request.user.has_perm(template_services.APPROVE_PERMISSION)

    # -- decisions from the change page (where the approver reads the diff)
    def get_urls(self):
        return [
            path("<int:pk>/decide/<str:decision>/", self.admin_site.admin_view(self.decide_view),
                 name="messaging_template_decide"),
            *super().get_urls(),
        ]

    def decide_view(self, request, pk, decision):
        template = self.get_object(request, str(pk))
        if template is None or decision not in ("submit", "approve", "reject") or request.method != "POST":
            raise PermissionDenied
        change_url = reverse("admin:messaging_template_change", args=[pk])
        if decision == "reject" and "reason" not in request.POST:
            form = RejectForm()
            context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                       "queryset": [template], "title": "Reject template", "single": True,
                       "content_hash": request.POST.get("content_hash") or template.content_hash}
            return TemplateResponse(request, "admin/messaging/template/reject.html", context)
        if decision == "reject":
            form = RejectForm(request.POST)
            if not form.is_valid():
                context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                           "queryset": [template], "title": "Reject template", "single": True,
                           "content_hash": request.POST.get("content_hash") or template.content_hash}
                return TemplateResponse(request, "admin/messaging/template/reject.html", context)
        service = {"submit": template_services.template_submit, "approve": template_services.template_approve,
                   "reject": template_services.template_reject}[decision]
        kwargs = {"reason": form.cleaned_data["reason"]} if decision == "reject" else {}
        if decision != "submit" and request.POST.get("content_hash"):
            kwargs["content_hash"] = request.POST["content_hash"]  # the version the approver read
        if self._decide(request, [template], service, **kwargs):
            self.message_user(request, f"{template}: {decision} done.", messages.SUCCESS)
        return HttpResponseRedirect(change_url)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            reason = template_services.can_decide(request.user, obj)
            context.update(
                can_submit=obj.approval_state in ("draft", "rejected") and self.has_change_permission(request, obj),
                can_decide=obj.approval_state == "submitted" and reason is None,
                decide_blocked=reason if obj.approval_state == "submitted" else "",
            )
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(TemplateApproval)
class TemplateApprovalAdmin(ReadOnlyAdmin):
    list_display = ("template", "version", "decision", "decided_by", "decided_at", "content_hash")
    list_filter = ("decision", "template__channel")
    search_fields = ("template__name", "content", "reason", "content_hash")
    list_select_related = ("template", "decided_by")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TemplateEvent)
class TemplateEventAdmin(ReadOnlyAdmin):
    """The approval trail: read-only for everyone, superusers included."""

    list_display = ("at", "template_label", "action", "actor", "version", "content_hash", "note")
    list_filter = ("action",)
    search_fields = ("template_label", "content_hash", "note", "actor__username")
    list_select_related = ("actor",)
    date_hierarchy = "at"

    def has_delete_permission(self, request, obj=None):
        return False


# --------------------------------------------------------------------------- lists
@admin.register(Unsubscriber)
class UnsubscriberAdmin(MaskedNumbersMixin, ListAdminMixin, SyncedAdmin):
    sync_resource = "unsubscribers"
    synced_form_fields = ("number", "type", "value")
    export_name = "unsubscribers"
    clean_kinds = ("sms", "whatsapp", "viber")
    change_list_template = "admin/messaging/list_change_list.html"
    list_display = ("number", "channel", "type", "value", "iso", "sync_state", "synced_at")
    list_filter = ("channel", "type", "sync_state", "iso")
    search_fields = ("number", "value", "bics_id")
    readonly_fields = ("bics_created_at",)
    actions = ["push_to_bics", "pull_from_bics", "export_csv", "export_xlsx"]

    def export_file(self, request, queryset, fmt):
        return lists.unsubscribers_export(
            queryset=queryset, fmt=fmt, mask_numbers=not can_view_full_numbers(request.user)
        )

    def import_rows(self, rows, form):
        return lists.unsubscribers_import(rows=rows, channel=form.cleaned_data.get("channel"))

    def clean_list(self, user, kind, confirmation):
        return lists.unsubscribers_clean(channel=kind, user=user, confirmation=confirmation)

    def clean_phrase(self, kind):
        return lists.clean_phrase("unsubscribers", kind)


@admin.register(BlockedTemplate)
class BlockedTemplateAdmin(ListAdminMixin, SyncedAdmin):
    sync_resource = "blocked_templates"
    synced_form_fields = ("template_id", "status")
    export_name = "blocked-templates"
    change_list_template = "admin/messaging/list_change_list.html"
    list_display = ("template_id", "status", "local_template", "sync_state", "synced_at")
    list_filter = ("status", "sync_state")
    search_fields = ("template_id", "bics_id", "local_template__name")
    list_select_related = ("local_template",)
    autocomplete_fields = ("local_template",)
    actions = ["push_to_bics", "pull_from_bics", "export_csv", "export_xlsx"]

    def export_file(self, request, queryset, fmt):
        return lists.blocked_templates_export(queryset=queryset, fmt=fmt)

    def import_rows(self, rows, form):
        return lists.blocked_templates_import(rows=rows)

    def clean_list(self, user, kind, confirmation):
        return lists.blocked_templates_clean(user=user, confirmation=confirmation)

    def clean_phrase(self, kind):
        return lists.clean_phrase("blocked templates")


PULL_PRICING = PullButton("pricing", "Pull pricing and balance from BICS", start_sync_pull(PRICING_JOB))


@admin.register(Price)
class PriceAdmin(PullButtonsMixin, ReadOnlyAdmin):
    list_display = ("channel", "iso", "country", "service", "subservice", "price", "currency", "status", "fetched_at")
    list_filter = ("channel", "service", "status")
    search_fields = ("iso", "country", "service")
    pull_buttons = (PULL_PRICING,)


@admin.register(AccountBalance)
class AccountBalanceAdmin(PullButtonsMixin, ReadOnlyAdmin):
    pull_buttons = (PULL_PRICING,)
    list_display = ("balance", "currency", "fetched_at")
