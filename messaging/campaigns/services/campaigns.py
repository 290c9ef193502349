"""Campaign life cycle: schedule, launch (audience resolved once, Messages bulk-written),
pause/resume/cancel, the template hook, test and one-off sends.

draft -> scheduled -> (sampling) -> sending -> sent; paused, cancelled, failed on the way.
Every change goes through ``campaign_transition`` (one conditional UPDATE + a
``CampaignTransition`` row with who and when), so two clicks or two workers move a
campaign once. The sending itself is ``messaging.campaigns.services.engine``.
"""

from __future__ import annotations

import logging
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from messaging.campaigns import selectors as sel
from messaging.campaigns import states
from messaging.campaigns.models import Campaign, CampaignTransition, Message, MessageStatus, SendBatch
from messaging.campaigns.services.frequency_caps import frequency_cap_reserve
from messaging.campaigns.services.writer import (  # noqa: F401 - bench imports write_messages here
    audience_statistics_refresh,
    campaign_prepare,
    write_messages,
)
from messaging.campaigns.windows import window_preview
from messaging.catalogue.services.templates import template_usability

log = logging.getLogger(__name__)
State = Campaign.State


class CampaignError(ValueError):
    """A campaign action refused, with a reason for the user."""


class CampaignAlreadyLaunched(CampaignError):
    pass


def max_schedule_days() -> int:
    return int(sel.setting("CAMPAIGN_MAX_SCHEDULE_DAYS", 30))


def cancel_cutoff() -> timedelta:
    return timedelta(minutes=int(sel.setting("CAMPAIGN_CANCEL_CUTOFF_MINUTES", 5)))


# --------------------------------------------------------------------------- transitions
def campaign_transition(*, campaign: Campaign, to: str, from_states, user=None, note: str = "",
                        guard=None, **fields) -> bool:
    """Move ``campaign`` to ``to`` if it is in one of ``from_states`` (and ``guard`` holds), by
    an edge of ``states.CAMPAIGN``: one conditional UPDATE; record who and when."""
    from_states = tuple(from_states)
    undeclared = [s for s in from_states if not states.CAMPAIGN.allows(s, to)]
    if undeclared:
        raise ValueError(f"campaign: no transition {undeclared} -> {to} in states.CAMPAIGN")
    with transaction.atomic():
        left = states.move(states.CAMPAIGN, Campaign, campaign.pk, to=to, sources=from_states, guard=guard,
                           **fields)
        if left is None:
            return False
        CampaignTransition.objects.create(campaign_id=campaign.pk, from_state=left, to_state=to,
                                          by=user if getattr(user, "pk", None) else None, note=note[:2000])
    campaign.state = to
    for key, value in fields.items():
        setattr(campaign, key, left if isinstance(value, F) else value)  # F("state"): the state it left
    return True


def _cutoff_refusal(action: str) -> CampaignError:
    minutes = int(cancel_cutoff().total_seconds() // 60)
    return CampaignError(f"A scheduled campaign cannot be {action} less than {minutes} minutes before it "
                         "starts (nor once its time has come).")


def _inside_cutoff(campaign: Campaign, now: datetime) -> bool:
    return bool(campaign.state == State.SCHEDULED and campaign.scheduled_at
                and campaign.scheduled_at - now < cancel_cutoff())


# --------------------------------------------------------------------------- checks
def usability_problems(campaign: Campaign) -> list[str]:
    problems = list(template_usability(campaign.template))
    if campaign.template.channel != campaign.channel:
        problems.append("The template is for another channel.")
    if campaign.channel == "sms" and not (campaign.sender or campaign.template.sender):
        problems.append("SMS campaigns need a sender ID.")
    return problems


@dataclass
class Preview:
    plan: sel.AudiencePlan
    samples: list[dict]
    estimate: sel.CostEstimate
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # block the launch

    @property
    def can_launch(self) -> bool:
        return not self.problems


def campaign_preview(campaign: Campaign) -> Preview:
    plan = sel.audience_plan(campaign)
    samples = sel.rendered_samples(campaign)
    counted = plan.eligible_by_country if not plan.frequency_capped else None  # the plan's scan, reused
    estimate = sel.cost_estimate(campaign, parts=max(s["parts"] for s in samples), by_country=counted)
    problems = usability_problems(campaign)
    if not plan.eligible:
        problems.append("Nobody to send to: the audience is empty after exclusions.")
    if estimate.exceeds_balance:
        problems.append(f"The estimated cost {estimate.total:.4f} {estimate.currency} exceeds the account "
                        f"balance {estimate.balance:.4f} {estimate.balance_currency}.")
    warnings = sel.dlr_warnings(campaign)
    if estimate.unpriced:
        warnings.append(f"{estimate.unpriced} recipient(s) in countries without a known price "
                        "(pull pricing from BICS).")
    if estimate.balance is None:
        warnings.append("No account balance known yet: the cost was not checked against it.")
    warnings += window_preview(campaign, sel.eligible_contacts(campaign), limit_days=max_schedule_days(),
                               start=max(timezone.now(), campaign.scheduled_at or timezone.now()))  # sending windows
    return Preview(plan, samples, estimate, warnings, problems)


# --------------------------------------------------------------------------- schedule
def user_zone(campaign: Campaign, user=None) -> zoneinfo.ZoneInfo:
    name = campaign.time_zone or getattr(user, "time_zone", "") or timezone.get_current_timezone_name()
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def campaign_schedule(*, campaign: Campaign, at: datetime, user=None, now: datetime | None = None) -> Campaign:
    """Schedule a draft for ``at`` (naive: in the campaign's/user's time zone). The documented
    limits: in the future, at most 30 days ahead."""
    now = now or timezone.now()
    if timezone.is_naive(at):
        at = at.replace(tzinfo=user_zone(campaign, user))
    if at <= now:
        raise CampaignError("The scheduled time is in the past.")
    if at > now + timedelta(days=max_schedule_days()):
        raise CampaignError(f"Campaigns can be scheduled at most {max_schedule_days()} days ahead.")
    problems = usability_problems(campaign)
    if problems:
        raise CampaignError(" ".join(problems))
    if campaign.state == State.SCHEDULED:
        # moving a campaign that is about to start would get round the cancel cut-off
        moved = Campaign.objects.filter(states.cutoff_guard(now, cancel_cutoff()), pk=campaign.pk,
                                        state=State.SCHEDULED).update(scheduled_at=at)
        if not moved:
            campaign.refresh_from_db()
            if campaign.state == State.SCHEDULED:
                raise _cutoff_refusal("moved")
            raise CampaignError(f"This campaign is {campaign.get_state_display().lower()} now: not rescheduled.")
        campaign.scheduled_at = at
        return campaign
    if not campaign_transition(campaign=campaign, to=State.SCHEDULED, from_states=[State.DRAFT], user=user,
                               note=f"for {at.isoformat()}", scheduled_at=at):
        raise CampaignError(f"Only a draft can be scheduled (this one is {campaign.get_state_display().lower()}).")
    return campaign


# --------------------------------------------------------------------------- launch
def template_provider_refresh(*, campaign: Campaign, wait: float = 0.0, sleep=None) -> bool:
    """A pushed template still pending at the provider: pull the templates (up to ``wait``
    seconds) so the launch sees BICS's decision. True when the provider approved it."""
    import time

    from core import sync

    template = campaign.template
    deadline = time.monotonic() + wait
    while template.bics_id and not template.provider_approved:
        try:
            sync.pull("templates")
        except Exception:  # the usability check reports the state
            log.exception("template pull failed")
            return False
        template.refresh_from_db()
        if template.provider_approved or time.monotonic() >= deadline:
            break
        (sleep or time.sleep)(0.5)
    return template.provider_approved


def campaign_launch(*, campaign: Campaign, user=None, now: bool = False, enqueue: bool = True,
                    provider_wait: float | None = None, prepare: bool = True) -> Campaign:
    """Launch: checks, the state change (one short transaction: ``preparing``, the expected
    audience), then the audience written in chunks (``writer.campaign_prepare``: each chunk
    its own transaction; with ``enqueue`` sending is queued after each, so it starts on the
    first chunks). ``prepare=False`` leaves the writing to the ``campaign_prepare`` task. A
    launch that stops half-way is resumed by the beat.

    ``now`` sends immediately even when ``scheduled_at`` lies ahead; without it a draft with a
    future ``scheduled_at`` is scheduled instead. Launching a campaign that is sending, sampling
    or sent raises ``CampaignAlreadyLaunched`` and changes nothing.
    """
    campaign.refresh_from_db()
    if campaign.state in (State.SENDING, State.SAMPLING, State.SENT):
        raise CampaignAlreadyLaunched(f"Campaign {campaign.pk} is already {campaign.get_state_display().lower()}: "
                                      "nothing changed.")
    if campaign.state not in (State.DRAFT, State.SCHEDULED):
        raise CampaignError(f"A {campaign.get_state_display().lower()} campaign cannot be launched.")
    if not now and campaign.scheduled_at and campaign.scheduled_at > timezone.now():
        if campaign.state == State.DRAFT:
            return campaign_schedule(campaign=campaign, at=campaign.scheduled_at, user=user)
        return campaign
    if provider_wait is not None and campaign.template.bics_id and not campaign.template.provider_approved:
        template_provider_refresh(campaign=campaign, wait=provider_wait)
    audience_statistics_refresh()  # PostgreSQL: the counts below are planned on them
    preview = campaign_preview(campaign)
    if preview.problems:
        raise CampaignError(" ".join(preview.problems))
    start = timezone.now()
    first_state = State.SAMPLING if campaign.smart_delivery else State.SENDING
    next_at = start + timedelta(minutes=campaign.smart_delay_minutes) if campaign.smart_delivery else start
    with transaction.atomic():  # the frequency-cap reservation commits with the launch
        if not campaign_transition(campaign=campaign, to=first_state, from_states=[State.DRAFT, State.SCHEDULED],
                                   user=user, note="launched", launched_at=start, next_batch_at=next_at,
                                   template_approval=campaign.template.last_approval, preparing=True,
                                   audience_total=preview.plan.eligible, prepared_count=0, launch_cursor=0,
                                   upload_cursor=0, prepared_beat_at=start, exclusions=preview.plan.exclusions,
                                   estimated_cost=preview.estimate.total):
            raise CampaignAlreadyLaunched("The campaign was launched meanwhile: nothing changed.")
        capped = frequency_cap_reserve(campaign=campaign, eligible=sel.eligible_contacts(campaign))
        if capped:
            Campaign.objects.filter(pk=campaign.pk).update(exclusions={**preview.plan.exclusions, **capped})
    campaign_id = campaign.pk
    if not prepare:  # the campaign_prepare task writes it (queued here unless the caller drives)
        if enqueue:
            transaction.on_commit(lambda: _enqueue_prepare(campaign_id))
        return campaign
    after_chunk = (lambda: transaction.on_commit(lambda: _enqueue_advance(campaign_id))) if enqueue else None
    campaign.audience_size = campaign_prepare(campaign_id, after_chunk=after_chunk)
    campaign.preparing = False
    if enqueue:
        transaction.on_commit(lambda: _enqueue_advance(campaign_id))
    return campaign


def campaign_prepare_resume(campaign_id: int, *, enqueue: bool = True) -> int:
    """Finish the preparation of a launch that stopped (a crash, a restart) from where it
    got; the rows already written stay as they are."""
    after_chunk = (lambda: transaction.on_commit(lambda: _enqueue_advance(campaign_id))) if enqueue else None
    written = campaign_prepare(campaign_id, after_chunk=after_chunk)
    if enqueue:
        transaction.on_commit(lambda: _enqueue_advance(campaign_id))
    return written


def _enqueue_prepare(campaign_id: int) -> None:
    from messaging.campaigns.tasks import campaign_prepare as prepare_task

    prepare_task.delay(campaign_id)


def _enqueue_advance(campaign_id: int) -> None:
    from messaging.campaigns.tasks import campaign_advance

    campaign_advance.delay(campaign_id)


# --------------------------------------------------------------------------- pause, resume, cancel
def campaign_pause(*, campaign: Campaign, user=None, reason: str = "", now: datetime | None = None,
                   force: bool = False) -> bool:
    """Takes effect between batches: a batch in flight finishes, no new one starts. A user
    cannot pause a scheduled campaign inside the cancel cut-off (a paused campaign can be
    cancelled, so that would get round it); ``force``: the system (template hook, send-time
    refusal), which must stop the campaign whatever the time."""
    now = now or timezone.now()
    campaign.refresh_from_db()
    guard = None if force else states.cutoff_guard(now, cancel_cutoff())
    moved = campaign_transition(campaign=campaign, to=State.PAUSED, guard=guard,
                                from_states=[State.SCHEDULED, State.SAMPLING, State.SENDING], user=user,
                                note=reason or "paused", paused_from=F("state"), state_reason=reason)
    if not moved and not force:
        campaign.refresh_from_db()
        if _inside_cutoff(campaign, now):
            raise _cutoff_refusal("paused")
    return moved


def campaign_resume(*, campaign: Campaign, user=None) -> bool:
    campaign.refresh_from_db()
    if campaign.state != State.PAUSED:
        raise CampaignError("Only a paused campaign can be resumed.")
    problems = usability_problems(campaign)
    if problems:
        raise CampaignError(" ".join(problems))
    back = campaign.paused_from or State.SENDING
    moved = campaign_transition(campaign=campaign, to=back, from_states=[State.PAUSED], user=user,
                                note="resumed", paused_from="", state_reason="", next_batch_at=timezone.now())
    if moved and back in Campaign.ACTIVE_STATES:
        transaction.on_commit(lambda: _enqueue_advance(campaign.pk))
    return moved


def campaign_cancel(*, campaign: Campaign, user=None, reason: str = "", now: datetime | None = None,
                    force: bool = False) -> bool:
    """Cancel: pending batches are not sent (a batch in flight finishes). A scheduled campaign
    cannot be cancelled within 5 minutes of its time (the documented limit), checked in the
    UPDATE itself, unless ``force`` (the engine itself, e.g. smart delivery)."""
    now = now or timezone.now()
    campaign.refresh_from_db()
    guard = None if force else states.cutoff_guard(now, cancel_cutoff())
    with transaction.atomic():
        moved = campaign_transition(
            campaign=campaign, to=State.CANCELLED, user=user, note=reason or "cancelled", guard=guard,
            from_states=[State.DRAFT, State.SCHEDULED, State.SAMPLING, State.SENDING, State.PAUSED],
            finished_at=now, state_reason=reason)
        if moved:
            pending = SendBatch.objects.filter(campaign=campaign, state=SendBatch.State.PENDING)
            Message.objects.filter(batch__in=pending, status=MessageStatus.QUEUED).update(
                status=MessageStatus.FAILED, error_description="Not sent: the campaign was cancelled.",
                status_at=now)
            pending.update(state=SendBatch.State.CANCELLED, error="Campaign cancelled.")
    if not moved and not force:
        campaign.refresh_from_db()
        if _inside_cutoff(campaign, now):
            raise _cutoff_refusal("cancelled")
    return moved


def campaign_finish_if_done(campaign_id: int) -> bool:
    open_states = (SendBatch.State.PENDING, SendBatch.State.CLAIMED, SendBatch.State.UNKNOWN)
    campaign = Campaign.objects.get(pk=campaign_id)
    if campaign.state != State.SENDING or campaign.preparing:
        return False  # still preparing: later chunks bring more batches
    if SendBatch.objects.filter(campaign_id=campaign_id, state__in=open_states).exists():
        return False
    any_sent = SendBatch.objects.filter(campaign_id=campaign_id, state=SendBatch.State.SENT).exists()
    return campaign_transition(campaign=campaign, to=State.SENT if any_sent else State.FAILED,
                               from_states=[State.SENDING], note="all batches done", finished_at=timezone.now())


# --------------------------------------------------------------------------- template hook
def campaigns_pause_for_template(*, template, user=None) -> int:
    """The template's content changed (messaging's ``template_content_changed``): pause every
    campaign that uses it and has not finished."""
    paused = 0
    for campaign in Campaign.objects.filter(template=template,
                                            state__in=[State.SCHEDULED, State.SAMPLING, State.SENDING]):
        if campaign_pause(campaign=campaign, user=user, force=True,
                          reason=f"The template \"{template.name}\" was edited and needs a new approval."):
            paused += 1
            notify_owner(campaign=campaign, subject=f"Campaign paused: {campaign.name}",
                         body=f"The template \"{template.name}\" was edited, so the campaign was paused. "
                              "Resume it once the template is approved again.")
    return paused


# --------------------------------------------------------------------------- notification
def notify_owner(*, campaign: Campaign, subject: str, body: str) -> None:
    """Email the owner and leave a note in the admin (the campaign's ``state_reason`` and a
    ``CampaignTransition`` note; the admin shows both)."""
    owner = campaign.owner
    if owner is not None and owner.email:
        url = settings.PUBLIC_BASE_URL.rstrip("/") + f"/campaigns/{campaign.pk}/"
        send_mail(subject, f"{body}\n\n{url}\n", None, [owner.email], fail_silently=True)
    try:
        from django.contrib.admin.models import CHANGE, LogEntry
        from django.contrib.contenttypes.models import ContentType

        if owner is not None:
            LogEntry.objects.create(
                user_id=owner.pk, content_type=ContentType.objects.get_for_model(Campaign),
                object_id=str(campaign.pk), object_repr=str(campaign)[:200], action_flag=CHANGE,
                change_message=subject)
    except Exception:  # a note must not break the engine
        log.exception("campaign %s: admin note failed", campaign.pk)


# --------------------------------------------------------------------------- test and one-off sends
def staff_test_numbers() -> list[str]:
    return list(sel.setting("CAMPAIGN_TEST_NUMBERS", []))


def test_send_max_numbers() -> int:
    return int(sel.setting("CAMPAIGN_TEST_MAX_NUMBERS", 3))


def opt_out_reason(*, channel: str, number: str, sender=None, template=None) -> str:
    """Why ``number`` must not get this one-off send (an opt-out in scope), or ''."""
    from contacts.models import Tag
    from messaging.catalogue.models import Unsubscriber

    scope = sel.opt_out_scope(channel, sender, template,
                              tag_names=Tag.objects.filter(contacts__phone=number).values("name"))
    found = Unsubscriber.objects.filter(channel=channel, number=number).filter(scope).first()
    return f"{number} opted out ({found.get_type_display().lower()})." if found else ""


def test_numbers_problems(numbers: list[str]) -> list[str]:
    """The limits of a test send: the configured staff list (when there is one) and at most
    ``CAMPAIGN_TEST_MAX_NUMBERS`` numbers."""
    problems = []
    if len(numbers) > test_send_max_numbers():
        problems.append(f"A test goes to at most {test_send_max_numbers()} numbers.")
    allowed = set(staff_test_numbers())
    outside = [n for n in numbers if allowed and n not in allowed]
    if outside:
        problems.append(f"Not on the staff test list (CAMPAIGN_TEST_NUMBERS): {', '.join(outside)}.")
    return problems


def campaign_test_send(*, campaign: Campaign, numbers: list[str], user=None) -> list[Message]:
    """Send the first rendered sample to staff numbers (one-off messages, no campaign state
    change). Refused as a whole outside the limits (``test_numbers_problems``); an opted-out
    number is skipped. Recorded with who, when and what came of each number."""
    from core.phones import normalise_phone
    from messaging.campaigns.models import CampaignTestSend

    numbers = [normalise_phone(raw)[0] for raw in numbers]
    problems = usability_problems(campaign) + test_numbers_problems(numbers)
    if problems:
        raise CampaignError(" ".join(problems))
    sample = sel.rendered_samples(campaign, limit=1)[0]
    sender = campaign.sender or campaign.template.sender
    record = CampaignTestSend.objects.create(campaign=campaign, by=user if getattr(user, "pk", None) else None,
                                             numbers=list(numbers))
    sent, results = [], {}
    try:
        for number in numbers:
            refused = opt_out_reason(channel=campaign.channel, number=number, sender=sender,
                                     template=campaign.template)
            if refused:
                results[number] = f"not sent: {refused}"
                continue
            sms = campaign.channel == "sms"  # SMS: the rendered text through Send Message, like the campaign
            message = one_off_send(channel=campaign.channel, number=number, text=sample["test_text"],
                                   template=None if sms else campaign.template, variables=sample["values"],
                                   sender=sender, user=user, label=f"test of campaign {campaign.pk}")
            results[number] = message.status
            sent.append(message)
    finally:
        CampaignTestSend.objects.filter(pk=record.pk).update(results=results)
    if not sent:
        raise CampaignError("The test was sent to nobody: " + " ".join(results.values()))
    return sent


def one_off_send(*, channel: str, number: str, text: str = "", template=None, variables: dict | None = None,
                 sender=None, user=None, options: dict | None = None, label: str = "") -> Message:
    """One message to one number, through a batch of one (same exactly-once path as campaigns).

    SMS free text uses Send Message (options ``type`` U/N/A, ``flash``, ``max_units``, ``port``,
    ``time``); a template with ``variables`` uses Send Template (SMS/WhatsApp/Viber)."""
    import uuid

    from messaging.campaigns.tasks import send_batch

    if template is not None:
        problems = template_usability(template)  # approved here and at BICS, not blocked
        if problems:
            raise CampaignError(" ".join(problems))
    if template is None and sender is None:  # free text: the sender the send would use
        from messaging.catalogue.models import Sender

        sender = Sender.objects.filter(status=Sender.Status.APPROVED).first()
    refused = opt_out_reason(channel=channel, number=number, sender=sender or (template and template.sender),
                             template=template)
    if refused:
        raise CampaignError(f"Not sent: {refused}")
    custom = f"o{uuid.uuid4().hex[:20]}"
    with transaction.atomic():
        batch = SendBatch.objects.create(custom=custom, size=1, text=text,
                                         error="", claimed_by="", group_id="")
        message = Message.objects.create(
            batch=batch, channel=channel, number=number, custom_id=custom, text=text,
            variables={"_template": template.pk if template else None, "_sender": sender.pk if sender else None,
                       "_options": options or {}, "_label": label, **(variables or {})})
    send_batch(batch.pk)  # run here, not queued: the caller shows BICS's answer
    message.refresh_from_db()
    return message
