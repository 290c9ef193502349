"""Staff pages of campaigns: list, page (progress JSON + table + CSV), preview/launch, one-off send."""

from __future__ import annotations

from django.contrib import admin
from django.contrib import messages as flash
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.db.models import Count, Q
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django_tables2 import RequestConfig

from contacts.services.exports import csv_lines
from core.bics_time import format_bics_time
from core.masking import can_view_full_numbers, mask_number, number_for
from messaging.campaigns import reports
from messaging.campaigns import selectors as sel
from messaging.campaigns.forms import OneOffForm, ScheduleForm, TestSendForm
from messaging.campaigns.models import Campaign, Message, SmartLinkVisit
from messaging.campaigns.services import campaigns as services
from messaging.campaigns.tables import (
    EXPORT_FIELDS,
    CampaignFilter,
    CampaignTable,
    MessageFilter,
    MessageTable,
)


def _page(request, template: str, context: dict):
    """A staff page: the admin's header, theme and user tools (admin.site.each_context)."""
    return render(request, template, {**admin.site.each_context(request), **context})


@staff_member_required
@permission_required("campaigns.view_campaign", raise_exception=True)
@require_GET
def campaign_list(request):
    qs = Campaign.objects.select_related("template").annotate(
        delivered=Count("messages", filter=Q(messages__status__in=["delivered", "read"])),
        final=Count("messages", filter=Q(messages__status__in=["delivered", "read", "failed", "rejected", "expired"])))
    filterset = CampaignFilter(request.GET, queryset=qs)
    rows = list(filterset.qs.order_by("-id")[:500])
    for row in rows:
        row.rate = round(100 * row.delivered / row.final, 1) if row.final else None
    table = CampaignTable(rows)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    return _page(request, "messaging/campaigns/list.html", {"table": table, "filter": filterset,
                                                              "title": "Campaigns"})


@staff_member_required
@permission_required("campaigns.view_campaign", raise_exception=True)
@require_GET
def campaign_detail(request, pk: int):
    campaign = get_object_or_404(Campaign.objects.select_related("template", "sender", "owner"), pk=pk)
    filterset = MessageFilter(request.GET, queryset=Message.objects.filter(campaign=campaign))
    table = MessageTable(filterset.qs, currency=reports.cost_currency(campaign.channel))
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    return _page(request, "messaging/campaigns/detail.html", {
        "campaign": campaign, "table": table, "filter": filterset, "progress": sel.campaign_progress(campaign),
        "by_country": reports.outcomes_by(campaign, "location"),
        "by_operator": reports.outcomes_by(campaign, "provider"), "cost_note": reports.cost_note(),
        # a campaign already launched has nothing left to preview or launch
        "can_launch": campaign.state in (Campaign.State.DRAFT, Campaign.State.SCHEDULED),
        "transitions": campaign.transitions.select_related("by").all(), "title": campaign.name,
        "smart_link_clicks": SmartLinkVisit.objects.filter(smart_link__campaign=campaign).count()
        if campaign.smart_links.exists() else None})


@staff_member_required
@permission_required("campaigns.view_campaign", raise_exception=True)
@require_GET
def campaign_progress(request, pk: int):
    """The small JSON the campaign page polls while sending."""
    campaign = get_object_or_404(Campaign, pk=pk)
    return JsonResponse(sel.campaign_progress(campaign))


@staff_member_required
@permission_required("campaigns.view_campaign", raise_exception=True)
@require_GET
def campaign_messages_csv(request, pk: int):
    campaign = get_object_or_404(Campaign, pk=pk)
    qs = MessageFilter(request.GET, queryset=Message.objects.filter(campaign=campaign)).qs.order_by("pk")

    whole = can_view_full_numbers(request.user)
    number_at = EXPORT_FIELDS.index("number")

    def rows():
        yield list(EXPORT_FIELDS)
        for row in qs.values_list(*EXPORT_FIELDS).iterator(chunk_size=2000):
            if not whole:
                row = (*row[:number_at], mask_number(row[number_at] or ""), *row[number_at + 1:])
            yield row

    response = StreamingHttpResponse(csv_lines(rows()), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}-messages.csv"'
    return response


@staff_member_required
@permission_required("campaigns.view_campaign", raise_exception=True)
@require_http_methods(["GET", "POST"])
def campaign_preview(request, pk: int):
    """Audience, exclusions, samples, parts, cost and warnings; launch, schedule, test send."""
    campaign = get_object_or_404(Campaign.objects.select_related("template", "sender"), pk=pk)
    schedule_form, test_form = ScheduleForm(prefix="s"), TestSendForm(prefix="t")
    if request.method == "POST":
        action = request.POST.get("action")
        if not request.user.has_perm("campaigns.change_campaign"):
            flash.error(request, "You may not change campaigns.")
            return redirect("campaigns:preview", pk=pk)
        try:
            if action == "launch":
                services.campaign_launch(campaign=campaign, user=request.user, now=True)
                flash.success(request, f"Campaign launched: {campaign.audience_size} recipients.")
                return redirect("campaigns:detail", pk=pk)
            if action == "schedule":
                schedule_form = ScheduleForm(request.POST, prefix="s")
                if schedule_form.is_valid():
                    services.campaign_schedule(campaign=campaign, at=schedule_form.cleaned_data["at"].replace(tzinfo=None),
                                               user=request.user)
                    flash.success(request, f"Scheduled for {campaign.scheduled_at}.")
                    return redirect("campaigns:detail", pk=pk)
            if action == "test":
                test_form = TestSendForm(request.POST, prefix="t")
                if test_form.is_valid():
                    sent = services.campaign_test_send(campaign=campaign, numbers=test_form.cleaned_data["numbers"],
                                                       user=request.user)
                    flash.success(request, "Test sent: " + ", ".join(
                        f"{number_for(request.user, m.number)} {m.status}" for m in sent))
                    return redirect("campaigns:preview", pk=pk)
        except services.CampaignError as exc:
            flash.error(request, str(exc))
    if not test_form.is_bound and services.staff_test_numbers():
        test_form.initial = {"numbers": "\n".join(services.staff_test_numbers())}
    return _page(request, "messaging/campaigns/preview.html", {
        "campaign": campaign, "preview": services.campaign_preview(campaign), "schedule_form": schedule_form,
        "test_form": test_form, "title": f"Preview: {campaign.name}"})


@staff_member_required
@permission_required("campaigns.send_one_off", raise_exception=True)
@require_http_methods(["GET", "POST"])
def one_off(request):
    """Send a single message to one number (``campaigns.send_one_off``; free text also needs
    ``campaigns.send_free_text``); the result and its DLR show below."""
    form = OneOffForm(request.POST or None, user=request.user)
    message = None
    if request.GET.get("message"):
        message = Message.objects.filter(pk=request.GET["message"], campaign__isnull=True).first()
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        options = {k: data.get(k) for k in ("type", "flash", "max_units", "port") if data.get(k) not in (None, "")}
        if data.get("time"):
            options["time"] = format_bics_time(data["time"])
        try:
            message = services.one_off_send(channel=data["channel"], number=data["number"], text=data.get("text") or "",
                                            template=data.get("template"), variables=data["variables"],
                                            sender=data.get("sender"), user=request.user, options=options)
            return redirect(f"{request.path}?message={message.pk}")
        except services.CampaignError as exc:
            form.add_error(None, str(exc))
    if message is not None and message.status == "submitted" and request.GET.get("refresh"):
        from messaging.campaigns.services.dlr import dlr_poll

        dlr_poll(max_gets=5)
        message.refresh_from_db()
    return _page(request, "messaging/campaigns/one_off.html", {
        "form": form, "message": message, "reports": message.reports.all() if message else [],
        "title": "Send one message"})
