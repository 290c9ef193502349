import csv

from django.contrib import admin, messages
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from core.admin_base import ReadOnlyAdmin
from core.masking import mask_number
from verify import ratelimit, services
from verify.conf import can_view_full_numbers, number_for
from verify.models import ApiClient, OtpRequest


@admin.register(OtpRequest)
class OtpRequestAdmin(ReadOnlyAdmin):
    """Read-only history of OTP requests; numbers masked without `verify.view_full_numbers`."""

    change_list_template = "admin/verify/otprequest/change_list.html"
    list_filter = ("status", ("created_at", admin.DateFieldListFilter), "api_client")
    list_select_related = ("api_client", "requested_by")
    actions = ("search_at_bics", "cancel_at_bics", "reset_number_limit", "export_csv")

    def _number_column(self, request):
        """A display function bound to this request's right to see full numbers.

        Per request, never stored on the (shared) ModelAdmin, so threads cannot mix users.
        """
        column = getattr(request, "_verify_number_column", None)
        if column is None:
            full = can_view_full_numbers(request.user)

            def number(obj):
                return obj.number if full else mask_number(obj.number)

            number.short_description = "Number"
            request._verify_number_column = column = number
        return column

    def get_list_display(self, request):
        return ("short_id", self._number_column(request), "status", "channels_display", "requester",
                "created_at", "expires_at")

    def get_fields(self, request, obj=None):
        return (
            "public_id", self._number_column(request), "channels_display", "status", "reference",
            "foreign_id", "bics_id", "requester", "created_at", "expires_at", "verified_at",
            "cancelled_at", "verify_attempts", "checked_at", "last_search", "last_error",
            "number_masked_at",
        )

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def get_search_fields(self, request):
        # Searching by (part of) a number would reveal masked digits.
        return ("=number", "reference", "=public_id") if can_view_full_numbers(request.user) else (
            "reference", "=public_id")

    # Not added here (sends go through services: the "send test OTP" page or the API).

    def has_manage_permission(self, request):
        return request.user.has_perm("verify.add_otprequest")

    @admin.display(description="Id")
    def short_id(self, obj):
        return str(obj.public_id)[:8]

    @admin.display(description="Channels")
    def channels_display(self, obj):
        return " → ".join(obj.channels or [])

    @admin.action(description="Ask BICS for the status (search)", permissions=["manage"])
    def search_at_bics(self, request, queryset):
        done, failed = 0, []
        for otp in queryset.exclude(bics_id=None)[:100]:
            try:
                services.otp_search(otp=otp)
                done += 1
            except services.VerifyError as exc:
                failed.append(f"{str(otp.public_id)[:8]}: {exc}")
        self.message_user(request, f"{done} request(s) refreshed from BICS.")
        for line in failed[:10]:
            self.message_user(request, line, level=messages.ERROR)

    @admin.action(description="Cancel at BICS", permissions=["manage"])
    def cancel_at_bics(self, request, queryset):
        cancelled, failed = 0, []
        for otp in queryset.filter(status="sent")[:100]:
            try:
                cancelled += services.otp_cancel(otp=otp)
            except services.VerifyError as exc:
                failed.append(f"{str(otp.public_id)[:8]}: {exc}")
        self.message_user(request, f"{cancelled} request(s) cancelled.")
        for line in failed[:10]:
            self.message_user(request, line, level=messages.ERROR)

    @admin.action(description="Reset the hourly limit for these numbers", permissions=["manage"])
    def reset_number_limit(self, request, queryset):
        numbers = set(queryset.filter(number_masked_at=None).values_list("number", flat=True))
        for number in numbers:
            ratelimit.reset_number(number)
        self.message_user(request, f"Hourly limit reset for {len(numbers)} number(s).")

    @admin.action(description="Export as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="otp-requests-{stamp}.csv"'
        writer = csv.writer(response)
        writer.writerow(["id", "number", "channels", "status", "reference", "requester",
                         "created_at", "expires_at", "verified_at", "cancelled_at"])
        for otp in queryset.select_related("api_client", "requested_by").iterator():
            writer.writerow([
                otp.public_id, number_for(request.user, otp.number), " ".join(otp.channels or []),
                otp.status, otp.reference, otp.requester, otp.created_at, otp.expires_at or "",
                otp.verified_at or "", otp.cancelled_at or "",
            ])
        return response


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    """Keys are generated on "add" and shown once on the next page; only a hash is kept."""

    list_display = ("name", "key_prefix", "is_active", "created_by", "created_at", "last_used_at",
                    "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "=key_prefix")
    readonly_fields = ("key_prefix", "created_by", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke", "issue_new_key")

    @admin.display(boolean=True, description="Active")
    def is_active(self, obj):
        return obj.is_active

    def get_fields(self, request, obj=None):
        return ("name",) if obj is None else ("name", *self.readonly_fields)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
            obj._raw_key = services.api_client_set_key(client=obj)  # saves
        else:
            super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        raw_key = getattr(obj, "_raw_key", None)
        if not raw_key:
            return super().response_add(request, obj, post_url_continue)
        return self._show_key_once(request, obj, raw_key)

    def _show_key_once(self, request, obj, raw_key):
        # Rendered once, never stored, never put in a message cookie.
        context = {**self.admin_site.each_context(request), "client": obj, "raw_key": raw_key,
                   "title": "API key created", "opts": self.opts}
        response = TemplateResponse(request, "admin/verify/apiclient/key_created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Issue a new key (the old one stops working)", permissions=["change"])
    def issue_new_key(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one client.", level=messages.WARNING)
            return None
        client = queryset.get()
        if not client.is_active:
            self.message_user(request, "This client is revoked.", level=messages.WARNING)
            return None
        return self._show_key_once(request, client, services.api_client_set_key(client=client))

    @admin.action(description="Revoke the selected keys", permissions=["change"])
    def revoke(self, request, queryset):
        revoked = sum(services.api_client_revoke(client=client) for client in queryset)
        self.message_user(request, f"{revoked} key(s) revoked.")
