"""Staff pages: TTS and click-to-call forms (prices beside), status lookup, reports."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django_tables2 import RequestConfig

from voice import forms as voice_forms
from voice.data.voice_ids import VOICES
from voice.models import Call
from voice.selectors import call_logs, price_rows, recordings
from voice.tables import CallLogFilter, CallLogTable, RecordingFilter, RecordingTable

REPORT_PAGE_SIZE = 50


def _send_later(call: Call) -> None:
    from voice.tasks import send_call

    transaction.on_commit(lambda: send_call.delay(call.pk))


@staff_member_required
@permission_required("voice.view_call", raise_exception=True)
def overview(request):
    return render(request, "voice/overview.html", {"title": "Voice"})


@staff_member_required
@permission_required("voice.add_call", raise_exception=True)
def tts_call(request):
    from voice.services.calls import CallNotSendable, call_create

    form = voice_forms.TtsCallForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            call = call_create(kind=Call.Kind.TTS, bridge=form.cleaned_data["bridge"], to=form.cleaned_data["to"],
                               tts_text=form.cleaned_data["tts_text"], voice_id=form.cleaned_data["voice_id"] or "",
                               tts_options=form.options(), created_by=request.user)
        except CallNotSendable as exc:
            form.add_error(None, str(exc))
        else:
            _send_later(call)
            messages.success(request, f"Text-to-speech call to {call.to} is being sent.")
            return redirect(reverse("admin:voice_call_change", args=[call.pk]))
    return render(request, "voice/form.html", {
        "title": "Text-to-speech call", "form": form, "prices": price_rows()[:30], "submit": "Call",
        "intro": voice_forms.TTS_MANY_RECIPIENTS, "voices": VOICES, "length_preview": True})


@staff_member_required
@permission_required("voice.add_call", raise_exception=True)
def click2call(request):
    from contacts.models import Contact
    from voice.services.calls import CallNotSendable, call_create

    contact = None
    contact_id = request.GET.get("contact") or request.POST.get("contact")
    if contact_id:
        contact = get_object_or_404(Contact, pk=contact_id)
    initial = {"to": contact.phone} if contact else {}
    form = voice_forms.Click2CallForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            call = call_create(kind=Call.Kind.CLICK2CALL, bridge=data["bridge"], from_number=data["from_number"],
                               to=data["to"], record=data["record"], attempts=data["attempts"],
                               duration_limit=data["duration_limit"], mid=data["mid"],
                               webhook_id=data["webhook_id"], contact=contact, created_by=request.user)
        except CallNotSendable as exc:
            form.add_error(None, str(exc))
        else:
            _send_later(call)
            messages.success(request, "Click-to-call started.")
            return redirect(reverse("admin:voice_call_change", args=[call.pk]))
    return render(request, "voice/form.html", {
        "title": f"Call {contact}" if contact else "Click-to-call", "form": form, "prices": price_rows()[:30],
        "submit": "Call", "contact": contact,
        "intro": "BICS calls 'From' first, then connects the IVR flow (or number) in 'To'."})


@staff_member_required
@permission_required("voice.view_call", raise_exception=True)
def status_lookup(request):
    from bics.errors import BicsError
    from voice.services.calls import call_status_lookup

    form = voice_forms.StatusLookupForm(request.GET or None)
    results, error = None, ""
    if request.GET and form.is_valid():
        data = form.cleaned_data
        try:
            results = call_status_lookup(id=data["call_id"] or None, cid=data["cid"] or None,
                                         date=data["date"], mobile=data["mobile"] or None)
        except BicsError as exc:
            error = str(exc)
    return render(request, "voice/status.html", {"title": "Call status", "form": form, "results": results,
                                                 "error": error})


def _report(request, *, title, queryset, filterset_class, table_class, kind):
    from voice.tasks import pull_call_reports

    pull_form = voice_forms.DateRangeForm(request.POST or None, prefix="pull")
    if request.method == "POST" and pull_form.is_valid():
        start, end = pull_form.cleaned_data["start"], pull_form.cleaned_data["end"]
        pull_call_reports.delay(start.isoformat(), end.isoformat())
        messages.success(request, f"Pulling call logs and recordings from {start} to {end}.")
        return redirect(request.path)
    filterset = filterset_class(request.GET or None, queryset=queryset)
    table = table_class(filterset.qs)
    RequestConfig(request, paginate={"per_page": REPORT_PAGE_SIZE}).configure(table)
    return render(request, "voice/report.html", {"title": title, "filter": filterset, "table": table,
                                                 "pull_form": pull_form, "kind": kind})


@staff_member_required
@permission_required("voice.view_calllog", raise_exception=True)
def call_log_report(request):
    return _report(request, title="Call logs", queryset=call_logs(), filterset_class=CallLogFilter,
                   table_class=CallLogTable, kind="logs")


@staff_member_required
@permission_required("voice.view_callrecording", raise_exception=True)
def recording_report(request):
    return _report(request, title="Call recordings", queryset=recordings(), filterset_class=RecordingFilter,
                   table_class=RecordingTable, kind="recordings")


@staff_member_required
@permission_required("voice.view_voiceprice", raise_exception=True)
def pricing(request):
    return render(request, "voice/pricing.html", {"title": "Voice pricing", "prices": price_rows()})
