"""The campaign wizard: audience -> template and variables -> schedule / batch / smart
delivery -> preview (counts and cost) -> test send -> launch.

The audience waits in the session until a template is chosen (a campaign needs one); from
then on the wizard edits a draft ``Campaign``. Every rule is the campaign services': this
module only collects answers, calls ``campaign_preview``, ``campaign_test_send`` and
``campaign_launch``, and turns their refusals into plain messages.
"""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from core.masking import number_for
from messaging.campaigns import selectors as sel
from messaging.campaigns.forms import TestSendForm
from messaging.campaigns.frequency_selectors import template_traffic_kind, traffic_kind
from messaging.campaigns.models import Campaign
from messaging.campaigns.services import campaigns as services
from messaging.campaigns.services.writer import default_batch_size
from messaging.campaigns.wizard.click_condition import click_initial, click_save
from messaging.campaigns.wizard.forms import AudienceForm, ScheduleStepForm, TemplateStepForm
from messaging.catalogue.models import Template
from messaging.catalogue.services.templates import template_next_step

SESSION_KEY = "campaign_wizard"
STEPS = [
    ("audience", "Audience"),
    ("template", "Template and variables"),
    ("schedule", "Schedule and delivery"),
    ("preview", "Preview"),
    ("test", "Test send"),
    ("launch", "Launch"),
]


def _render(request, step: str, context: dict, campaign: Campaign | None = None):
    names = [s for s, _ in STEPS]
    current = names.index(step)
    steps = [
        {
            "key": key,
            "label": label,
            "number": i + 1,
            "current": key == step,
            "done": i < current,
            "url": _step_url(key, campaign)
            if (campaign or key in ("audience", "template")) and i <= current
            else "",
        }
        for i, (key, label) in enumerate(STEPS)
    ]
    title = f"New campaign: step {current + 1} of {len(STEPS)}, {STEPS[current][1].lower()}"
    if campaign is not None and campaign.template_id:  # the summary's kind of traffic
        context = {"traffic": traffic_kind(campaign), **context}
    return render(
        request,
        f"messaging/wizard/{step}.html",
        {"title": title, "steps": steps, "step": step, "campaign": campaign, **context},
    )


def _step_url(step: str, campaign: Campaign | None) -> str:
    if campaign is None:
        return reverse("wizard:start") if step == "audience" else reverse("wizard:template-new")
    return reverse(f"wizard:{step}", args=[campaign.pk])


def _draft(request, pk: int) -> Campaign:
    campaign = get_object_or_404(Campaign.objects.select_related("template", "sender"), pk=pk)
    if not request.user.has_perm("campaigns.change_campaign"):
        raise PermissionDenied("You may not change campaigns.")
    return campaign


def _not_a_draft(request, campaign: Campaign):
    if campaign.state != Campaign.State.DRAFT:
        flash.info(
            request, f"This campaign is {campaign.get_state_display().lower()}: the wizard only edits drafts."
        )
        return redirect("campaigns:detail", pk=campaign.pk)
    return None


# --------------------------------------------------------------------------- 1. audience
@staff_member_required
@require_http_methods(["GET", "POST"])
def audience(request, pk: int | None = None):
    campaign = _draft(request, pk) if pk else None
    if campaign is None and not request.user.has_perm("campaigns.add_campaign"):
        raise PermissionDenied("You may not create campaigns.")
    if campaign is not None and (response := _not_a_draft(request, campaign)):
        return response
    if campaign is not None:
        initial = {
            "name": campaign.name,
            "channel": campaign.channel,
            "segments": list(campaign.segments.all()),
            "tags": list(campaign.tags.all()),
            "click_condition": click_initial(campaign),  # wizard.click_condition
        }
    else:
        initial = request.session.get(SESSION_KEY) or {}
    form = AudienceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if campaign is None:
            request.session[SESSION_KEY] = {
                "name": data["name"],
                "channel": data["channel"],
                "segments": [s.pk for s in data["segments"]],
                "tags": [t.pk for t in data["tags"]],
                "click_condition": data.get("click_condition", ""),  # wizard.click_condition
            }
            return redirect("wizard:template-new")
        channel_changed = campaign.channel != data["channel"]
        campaign.name, campaign.channel = data["name"], data["channel"]
        campaign.save(update_fields=["name", "channel", "updated_at"])
        campaign.segments.set(data["segments"])
        campaign.tags.set(data["tags"])
        click_save(campaign, data.get("click_condition"))  # wizard.click_condition
        if channel_changed:
            flash.warning(request, "The channel changed: choose a template of the new channel.")
        return redirect("wizard:template", pk=campaign.pk)
    return _render(request, "audience", {"form": form}, campaign)


@staff_member_required
@permission_required("campaigns.add_campaign", raise_exception=True)
@require_http_methods(["GET"])
def audience_count(request):
    """Live count for the audience step: contacts in any chosen segment or tag (each once), and
    how many of them have a valid number. Opt-outs depend on the template: the preview counts them."""
    from django.db.models import Exists, OuterRef, Q

    from contacts.models import Contact, Segment
    from contacts.selectors import segment_contacts

    segment_ids = [int(v) for v in request.GET.getlist("segments") if v.isdigit()]
    tag_ids = [int(v) for v in request.GET.getlist("tags") if v.isdigit()]
    q = Q(pk__in=[])
    for segment in Segment.objects.filter(pk__in=segment_ids):
        q |= Q(pk__in=segment_contacts(segment).values("pk"))
    if tag_ids:
        through = Contact.tags.through
        q |= Q(Exists(through.objects.filter(contact_id=OuterRef("pk"), tag_id__in=tag_ids)))
    contacts = Contact.objects.filter(q)
    total = contacts.count()
    valid = contacts.exclude(sel.invalid_q()).count() if total else 0
    return JsonResponse({"total": total, "valid": valid})


# --------------------------------------------------------------------------- 2. template and variables
def _chosen_template(request, channel: str, fallback: Template | None) -> Template | None:
    raw = request.POST.get("template") or request.GET.get("template")
    if raw and str(raw).isdigit():
        chosen = Template.objects.filter(pk=raw, channel=channel).select_related("sender").first()
        return chosen if chosen is not None and template_next_step(chosen) is None else None
    return fallback if fallback is not None and fallback.channel == channel else None


def _variables(template: Template | None) -> list[str]:
    if template is None:
        return []
    last = template.last_approval
    content = last.content if last else template.content
    seen: dict[str, None] = {}
    for name in sel.VAR_RE.findall(content or ""):
        seen.setdefault(name, None)
    return list(seen)


@staff_member_required
@require_http_methods(["GET", "POST"])
def template_step(request, pk: int | None = None):
    campaign = _draft(request, pk) if pk else None
    if campaign is not None and (response := _not_a_draft(request, campaign)):
        return response
    if campaign is None and not request.user.has_perm("campaigns.add_campaign"):
        raise PermissionDenied
    pending = request.session.get(SESSION_KEY) if campaign is None else None
    if campaign is None and not pending:
        flash.info(request, "Start with the audience.")
        return redirect("wizard:start")
    channel = campaign.channel if campaign else pending["channel"]
    template = _chosen_template(request, channel, campaign.template if campaign else None)
    variables = _variables(template)
    mapping = (
        campaign.variable_mapping
        if campaign and campaign.template_id == getattr(template, "pk", None)
        else {}
    )
    # "Use this template", or "Next" with a template whose variable fields were not on the page yet.
    unanswered = bool(variables) and not any(f"var_{name}_source" in request.POST for name in variables)
    choosing = request.method == "POST" and (request.POST.get("action") == "choose" or unanswered)
    data = request.POST if request.method == "POST" and not choosing else None
    initial = {"template": template, "sender": campaign.sender if campaign else None}
    form = TemplateStepForm(data, initial=initial, channel=channel, variables=variables, mapping=mapping)
    if choosing and template is not None and variables:
        flash.info(
            request, f'Template "{template.name}" chosen: now say where each variable\'s value comes from.'
        )
    elif data is not None and form.is_valid():
        chosen = form.cleaned_data["template"]
        if _variables(chosen) != variables:  # the template changed under the variable fields
            form = TemplateStepForm(
                None, initial={"template": chosen}, channel=channel, variables=_variables(chosen), mapping={}
            )
            flash.warning(request, "This template has other variables: say where their values come from.")
        else:
            campaign = _save_template_step(request, campaign, pending, form.cleaned_data)
            return redirect("wizard:schedule", pk=campaign.pk)
    return _render(
        request,
        "template",
        {
            "form": form,
            "template": template,
            "channel": channel,
            "channel_label": dict(Campaign._meta.get_field("channel").choices)[channel],
        },
        campaign,
    )


@transaction.atomic
def _save_template_step(request, campaign: Campaign | None, pending: dict | None, data: dict) -> Campaign:
    from contacts.models import Segment, Tag

    template = data["template"]
    sender = data.get("sender") or (template.sender if template.channel == "sms" else None)
    if campaign is None:
        campaign = Campaign.objects.create(
            name=pending["name"],
            channel=pending["channel"],
            template=template,
            sender=sender,
            owner=request.user,
            variable_mapping=data["variable_mapping"],
        )
        campaign.segments.set(Segment.objects.filter(pk__in=pending["segments"]))
        campaign.tags.set(Tag.objects.filter(pk__in=pending["tags"]))
        click_save(campaign, pending.get("click_condition"))  # wizard.click_condition
        request.session.pop(SESSION_KEY, None)
    else:
        campaign.template, campaign.sender = template, sender
        campaign.variable_mapping = data["variable_mapping"]
        campaign.save(update_fields=["template", "sender", "variable_mapping", "updated_at"])
    return campaign


# --------------------------------------------------------------------------- 3. schedule and delivery
@staff_member_required
@require_http_methods(["GET", "POST"])
def schedule(request, pk: int):
    from django.utils import timezone

    campaign = _draft(request, pk)
    if response := _not_a_draft(request, campaign):
        return response
    zone = services.user_zone(campaign, request.user)
    initial = {
        "when": "later" if campaign.scheduled_at else "now",
        "at": timezone.localtime(campaign.scheduled_at, zone).replace(tzinfo=None)
        if campaign.scheduled_at
        else None,
        "batch_size": campaign.batch_size,
        "batch_interval": campaign.batch_interval,
        "smart_delivery": campaign.smart_delivery,
        "smart_sample_size": campaign.smart_sample_size,
        "smart_wait_minutes": campaign.smart_wait_minutes,
        "traffic": campaign.traffic,
        "validity_hours": campaign.validity_hours,
    }
    form = ScheduleStepForm(
        request.POST or None, initial=initial, zone=zone, max_days=services.max_schedule_days(),
        template_traffic=template_traffic_kind(campaign),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        campaign.scheduled_at = data["at"]
        campaign.time_zone = campaign.time_zone or str(zone)
        campaign.batch_size = data["batch_size"]
        campaign.batch_interval = data["batch_interval"] or 0
        campaign.smart_delivery = data["smart_delivery"]
        campaign.smart_sample_size = data["smart_sample_size"] or campaign.smart_sample_size
        campaign.smart_wait_minutes = data["smart_wait_minutes"] or campaign.smart_wait_minutes
        campaign.traffic = data["traffic"] or ""
        campaign.validity_hours = data["validity_hours"]
        campaign.save(
            update_fields=[
                "traffic",
                "validity_hours",
                "scheduled_at",
                "time_zone",
                "batch_size",
                "batch_interval",
                "smart_delivery",
                "smart_sample_size",
                "smart_wait_minutes",
                "updated_at",
            ]
        )
        return redirect("wizard:preview", pk=campaign.pk)
    return _render(
        request,
        "schedule",
        {"form": form, "zone": zone, "default_batch": default_batch_size()},
        campaign,
    )


# --------------------------------------------------------------------------- 4. preview
@staff_member_required
@require_http_methods(["GET"])
def preview(request, pk: int):
    campaign = _draft(request, pk)
    if response := _not_a_draft(request, campaign):
        return response
    result = services.campaign_preview(campaign)
    samples = [{**s, "shown": number_for(request.user, s["number"])} for s in result.samples]
    return _render(
        request,
        "preview",
        {"preview": result, "samples": samples, "identical": sel.is_identical(campaign)},
        campaign,
    )


# --------------------------------------------------------------------------- 5. test send
@staff_member_required
@require_http_methods(["GET", "POST"])
def test_send(request, pk: int):
    campaign = _draft(request, pk)
    if response := _not_a_draft(request, campaign):
        return response
    form = TestSendForm(request.POST or None, initial={"numbers": "\n".join(services.staff_test_numbers())})
    sent = []
    if request.method == "POST" and form.is_valid():
        try:
            messages = services.campaign_test_send(
                campaign=campaign, numbers=form.cleaned_data["numbers"], user=request.user
            )
        except services.CampaignError as exc:
            form.add_error(None, f"The test was not sent: {exc}")
        else:
            sent = [
                {
                    # the user has just typed these numbers: masking them would hide nothing
                    "number": m.number,
                    "status": m.get_status_display(),
                    "error": m.error_description,
                }
                for m in messages
            ]
            request.session[f"{SESSION_KEY}:tested:{campaign.pk}"] = True
    tested = bool(request.session.get(f"{SESSION_KEY}:tested:{campaign.pk}"))
    return _render(request, "test", {"form": form, "sent": sent, "tested": tested}, campaign)


# --------------------------------------------------------------------------- 6. launch
@staff_member_required
@require_http_methods(["GET", "POST"])
def launch(request, pk: int):
    campaign = _draft(request, pk)
    if response := _not_a_draft(request, campaign):
        return response
    error = ""
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            error = "Tick the box to confirm that the campaign may go out."
        else:
            wait = 3.0 if campaign.template.bics_id and not campaign.template.provider_approved else None
            try:
                services.campaign_launch(campaign=campaign, user=request.user, provider_wait=wait)
            except services.CampaignError as exc:
                error = f"The campaign was not launched: {exc}"
            else:
                request.session.pop(f"{SESSION_KEY}:tested:{campaign.pk}", None)
                if campaign.state == Campaign.State.SCHEDULED:
                    flash.success(
                        request, f"Campaign scheduled for {campaign.scheduled_at:%Y-%m-%d %H:%M %Z}."
                    )
                else:
                    flash.success(request, f"Campaign launched: {campaign.audience_size} recipients.")
                return redirect("campaigns:detail", pk=campaign.pk)
    result = services.campaign_preview(campaign)
    tested = bool(request.session.get(f"{SESSION_KEY}:tested:{campaign.pk}"))
    return _render(request, "launch", {"preview": result, "error": error, "tested": tested}, campaign)
