"""Template workflow: save with rules, four-eyes approval of one exact version, the approval
trail, usability.

The states and the only ways between them (``TRANSITIONS``); each transition is one
conditional UPDATE, so two requests racing on one template cannot both win:

    submit   draft | rejected              -> submitted
    approve  submitted                     -> approved
    reject   submitted                     -> rejected
    void     submitted | approved | rejected -> draft   (the words changed, here or by a pull)

Four eyes as an invariant: the approver (or rejecter) of a version is never its author, its
last editor or its submitter, and approves one fingerprint (``Template.content_hash``: every
field sent or shown). Any change of the words afterwards voids the approval. Every step is a
``TemplateEvent`` (the trail); decisions also keep a ``TemplateApproval`` with the exact content,
which is what campaigns pin. An approval queues the push to BICS; nothing else may push a
template that is not approved for its current words.
"""

from __future__ import annotations

import difflib
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from core.models import SyncState
from messaging.catalogue import rules
from messaging.catalogue.models import BlockedTemplate, Template, TemplateApproval, TemplateEvent
from messaging.catalogue.signals import template_content_changed

log = logging.getLogger(__name__)

APPROVE_PERMISSION = "messaging.approve_template"
# Fields BICS holds: changing one here marks a pushed template dirty.
SYNCED_FIELDS = {"name", "content", "sender", "template_type", "is_english", "channel_payload"}
# Written only by the transitions below, never by a save of the form.
WORKFLOW_FIELDS = {"approval_state", "rejection_reason", "version", "author", "submitted_by", "submitted_at",
                   "submitted_hash", "approved_hash"}

S = Template.Approval
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({S.DRAFT, S.REJECTED}), S.SUBMITTED),
    "approve": (frozenset({S.SUBMITTED}), S.APPROVED),
    "reject": (frozenset({S.SUBMITTED}), S.REJECTED),
    "void": (frozenset({S.SUBMITTED, S.APPROVED, S.REJECTED}), S.DRAFT),
}


def transition(template_pk: int, name: str, *, where: Q | None = None, **values) -> bool:
    """Apply transition ``name`` in one conditional UPDATE; False when the template is not in
    one of its source states (or ``where`` does not hold) any more."""
    sources, target = TRANSITIONS[name]
    condition = Q(pk=template_pk, approval_state__in=sources) & (where or Q())
    return bool(Template.objects.filter(condition).update(approval_state=target, updated_at=timezone.now(),
                                                          **values))


def _trail(template: Template, action: str, user=None, *, note: str = "", content_hash: str | None = None):
    return TemplateEvent.objects.create(
        template=template, template_label=str(template)[:120], action=action,
        actor=user if user is not None and user.is_authenticated else None, version=template.version,
        content_hash=template.content_hash if content_hash is None else content_hash, note=note)


def _content_snapshot(template: Template) -> dict:
    return {
        "content": template.content,
        "channel_payload": template.channel_payload or {},
        "sender_name": template.sender.name if template.sender_id else "",
        "template_type": template.template_type,
        "content_hash": template.content_hash,
    }


def _state_label(template_pk: int) -> str:
    current = Template.objects.filter(pk=template_pk).first()
    return current.get_approval_state_display().lower() if current else "deleted"


# --------------------------------------------------------------------------- save / edit / void
@transaction.atomic
def template_void(*, template: Template, user=None, fields: list[str] | None = None) -> bool:
    """The words of ``template`` changed (already saved): its submission, approval or rejection
    no longer applies. Back to draft as a new version; campaigns are told. True when voided."""
    before = Template.objects.filter(pk=template.pk).values_list("approval_state", flat=True).first()
    if not transition(template.pk, "void", version=F("version") + 1, approved_hash="", submitted_hash="",
                      submitted_at=None):
        return False
    template.refresh_from_db()
    _trail(template, TemplateEvent.Action.VOID, user,
           note=f"{', '.join(fields or ['the words'])} changed while {before}")
    if before in (S.APPROVED, S.SUBMITTED):
        transaction.on_commit(lambda: template_content_changed.send(
            sender=Template, template=template, fields=list(fields or []), user=user))
    return True


def template_content_updated(*, template: Template, fields: list[str], user=None) -> bool:
    """The content of ``template`` changed (already saved, e.g. by a pull): void what applied."""
    return template_void(template=template, user=user, fields=fields)


@transaction.atomic
def template_save(*, template: Template, user, changed_fields: list[str] | None = None) -> Template:
    """Save from the admin or an API: rules checked, author and last editor set, workflow
    fields left to the transitions, a change of the words voids what applied to the old ones."""
    template.full_clean()
    if template.pk is None:
        template.author = template.author or user
        template.last_edited_by = user
        template.approval_state, template.approved_hash, template.submitted_hash = S.DRAFT, "", ""
        template.save()
        return template
    old_hash = Template.objects.filter(pk=template.pk).values_list("content_hash", flat=True).get()
    words_changed = template.compute_content_hash() != old_hash
    if words_changed:
        template.last_edited_by = user
    if template.bics_id and set(changed_fields or ()) & SYNCED_FIELDS:
        template.sync_state = SyncState.DIRTY
    editable = [f.name for f in Template._meta.concrete_fields
                if not f.primary_key and f.name not in WORKFLOW_FIELDS and f.name != "created_at"]
    template.save(update_fields=editable)
    if words_changed:
        changed = sorted(set(changed_fields or ()) - WORKFLOW_FIELDS) or ["content"]
        template_content_updated(template=template, fields=changed, user=user)
    template.refresh_from_db()
    return template


# --------------------------------------------------------------------------- approval
def can_decide(user, template: Template) -> str | None:
    """Why ``user`` may not approve/reject ``template`` (None when they may)."""
    if user is None or not user.is_authenticated:
        return "You must be signed in."
    if not user.has_perm(APPROVE_PERMISSION):
        return "Only template approvers may approve or reject templates."
    if template.author_id is not None and template.author_id == user.pk:
        return "Four eyes: the author of a template cannot approve or reject it."
    if template.last_edited_by_id is not None and template.last_edited_by_id == user.pk:
        return "Four eyes: you last changed these words, so another approver must decide."
    if template.submitted_by_id is not None and template.submitted_by_id == user.pk:
        return "Four eyes: you submitted this version, so another approver must decide."
    return None


def _four_eyes_q(user) -> Q:
    """The same rule as ``can_decide``, inside the UPDATE that records the decision."""
    q = Q()
    for field in ("author", "last_edited_by", "submitted_by"):
        q &= Q(**{f"{field}__isnull": True}) | ~Q(**{f"{field}_id": user.pk})
    return q


def approvers():
    User = get_user_model()
    return User.objects.filter(is_active=True).filter(
        Q(is_superuser=True)
        | Q(user_permissions__codename="approve_template", user_permissions__content_type__app_label="messaging")
        | Q(groups__permissions__codename="approve_template",
            groups__permissions__content_type__app_label="messaging")
    ).distinct()


def _notify_approvers(template: Template, submitted_by) -> int:
    barred = {template.author_id, template.last_edited_by_id, template.submitted_by_id}
    recipients = [u.email for u in approvers() if u.email and u.pk not in barred]
    if not recipients:
        return 0
    url = settings.PUBLIC_BASE_URL.rstrip("/") + reverse("admin:messaging_template_change", args=[template.pk])
    body = (
        f"{submitted_by} submitted the {template.get_channel_display()} template "
        f"\"{template.name}\" (version {template.version}) for approval.\n\n"
        f"{template.content}\n\nChanges since the last approved version:\n{template_diff(template) or '(first version)'}"
        f"\n\nReview it: {url}\n"
    )
    return send_mail(f"Template waiting for approval: {template.name}", body, None, recipients,
                     fail_silently=True)


def _rule_errors(template: Template) -> None:
    errors = rules.errors(template.rule_results())
    if errors:
        raise ValidationError([str(e) for e in errors])


@transaction.atomic
def template_submit(*, template: Template, user) -> Template:
    if not (user.has_perm("messaging.change_template") or user.has_perm(APPROVE_PERMISSION)):
        raise PermissionDenied("You may not submit templates.")
    current = Template.objects.select_related("sender").get(pk=template.pk)
    if current.approval_state not in TRANSITIONS["submit"][0]:
        raise ValidationError(f"Only draft or rejected templates can be submitted (this one is "
                              f"{current.get_approval_state_display().lower()}).")
    _rule_errors(current)
    if not transition(current.pk, "submit", where=Q(content_hash=current.content_hash), submitted_by=user,
                      submitted_at=timezone.now(), submitted_hash=current.content_hash, rejection_reason=""):
        raise ValidationError(f"The template changed meanwhile (it is {_state_label(current.pk)}): reload it.")
    current.refresh_from_db()
    _trail(current, TemplateEvent.Action.SUBMIT, user)
    transaction.on_commit(lambda: _notify_approvers(current, user))
    return current


def _decision_target(template: Template, user, content_hash: str | None, verb: str) -> Template:
    """The template as it is now, after the checks every decision shares."""
    current = Template.objects.select_related("sender").get(pk=template.pk)
    denied = can_decide(user, current)
    if denied:
        raise PermissionDenied(denied)
    if current.approval_state != S.SUBMITTED:
        raise ValidationError(f"Only templates waiting for approval can be {verb}.")
    seen = content_hash or template.content_hash
    if current.content_hash != seen or current.submitted_hash != seen:
        raise ValidationError("The template changed since you opened it: read the new version before deciding.")
    return current


@transaction.atomic
def template_approve(*, template: Template, user, content_hash: str | None = None,
                     push: bool = True) -> TemplateApproval:
    """Approve the version the approver saw (``content_hash``; default: the one ``template``
    was loaded with). The approval queues the push to BICS (``push=False``: the demo data, seeded
    before any worker or broker runs, is pushed by staff)."""
    current = _decision_target(template, user, content_hash, "approved")
    _rule_errors(current)
    seen = current.content_hash
    if not transition(current.pk, "approve", where=Q(content_hash=seen, submitted_hash=seen) & _four_eyes_q(user),
                      approved_hash=seen, rejection_reason=""):
        raise ValidationError(f"The template changed meanwhile (it is {_state_label(current.pk)}): reload it.")
    current.refresh_from_db()
    decision = TemplateApproval.objects.create(
        template=current, version=current.version, decision=TemplateApproval.Decision.APPROVED,
        decided_by=user, **_content_snapshot(current))
    _trail(current, TemplateEvent.Action.APPROVE, user)
    if push:
        transaction.on_commit(lambda: template_push_queue(template=current, user=user))
    return decision


@transaction.atomic
def template_reject(*, template: Template, user, reason: str, content_hash: str | None = None) -> TemplateApproval:
    reason = (reason or "").strip()
    if not reason:
        denied = can_decide(user, template)
        if denied:
            raise PermissionDenied(denied)
        raise ValidationError("A rejection needs a reason.")
    current = _decision_target(template, user, content_hash, "rejected")
    seen = current.content_hash
    if not transition(current.pk, "reject", where=Q(content_hash=seen) & _four_eyes_q(user),
                      rejection_reason=reason):
        raise ValidationError(f"The template changed meanwhile (it is {_state_label(current.pk)}): reload it.")
    current.refresh_from_db()
    decision = TemplateApproval.objects.create(
        template=current, version=current.version, decision=TemplateApproval.Decision.REJECTED,
        decided_by=user, reason=reason, **_content_snapshot(current))
    _trail(current, TemplateEvent.Action.REJECT, user, note=reason)
    return decision


# --------------------------------------------------------------------------- BICS side
def push_refusal(template: Template) -> str | None:
    """Why ``template`` must not go to BICS now (None: it may). Only the approved words go."""
    if template.approval_current:
        return None
    return {
        S.DRAFT: "a draft is not pushed: submit it and have a Template approver approve it (approval pushes it)",
        S.SUBMITTED: "waiting for approval by a Template approver (approval pushes it)",
        S.REJECTED: "rejected here: edit it and submit it again",
    }.get(template.approval_state, "changed since its approval: submit it again")


def template_push_queue(*, template: Template, user=None):
    """Queue the push of one approved template (a sync run, like the admin's push)."""
    from core.sync_runs import sync_run_start

    return sync_run_start(resource="templates", direction="push", user=user, ids=[template.pk],
                          model_label=Template._meta.label)


def template_pushed(*, template: Template, action: str, user=None) -> None:
    """BICS accepted a create (or edit) of ``template``: on the trail."""
    _trail(template, TemplateEvent.Action.PUSH, user, note=f"{action} at BICS, id {template.bics_id}")


def template_pulled(*, template: Template, changed: list[str], created: bool, user=None) -> None:
    """A pull created or changed ``template``. Its words came from BICS, brought in by ``user``
    (None for a scheduled pull): that user is its last editor, so cannot approve them."""
    words = [f for f in changed if f in ("content", "channel_payload", "sender", "template_type", "name",
                                         "is_english")]
    if not (created or words):
        return
    Template.objects.filter(pk=template.pk).update(last_edited_by=user)
    template.last_edited_by = user
    _trail(template, TemplateEvent.Action.PULL, user,
           note="created from BICS" if created else f"changed at BICS: {', '.join(words)}")
    if words and not created:
        template_content_updated(template=template, fields=words, user=user)


# --------------------------------------------------------------------------- reading
def template_diff(template: Template) -> str:
    """Unified diff of the content against the last approved version ('' when none)."""
    last = template.last_approval
    if last is None:
        return ""
    lines = difflib.unified_diff(
        last.content.splitlines(), (template.content or "").splitlines(),
        fromfile=f"approved v{last.version}", tofile=f"current v{template.version}", lineterm="")
    diff = "\n".join(lines)
    if (last.channel_payload or {}) != (template.channel_payload or {}):
        diff += f"\nchannel payload: {last.channel_payload} -> {template.channel_payload}"
    return diff


def blocking_entries(template: Template):
    if not template.bics_id:
        return BlockedTemplate.objects.none()
    return BlockedTemplate.objects.filter(Q(template_id=template.bics_id) | Q(local_template=template)).exclude(status="0")


def template_usability(template: Template) -> list[str]:
    """Why ``template`` cannot be used to send (empty list: usable).

    Three conditions (DESIGN.md): approved here for its current words (four eyes), approved by
    the provider, and matching no blocked template.
    """
    reasons = []
    if template.approval_state != S.APPROVED:
        reasons.append(f"Not approved here: {template.get_approval_state_display().lower()}.")
    elif not template.approval_current:
        reasons.append("Not approved here: changed since its approval.")
    if template.bics_id and template.sync_state != SyncState.SYNCED:
        reasons.append("Not at BICS in this version yet: push pending.")  # BICS holds older words
    if not template.provider_approved:
        reasons.append(f"Not approved by the provider: {template.provider_state}.")
    blocked = list(blocking_entries(template)[:1])
    if blocked:
        reasons.append(f"Matches a blocked template at BICS ({blocked[0].template_id}).")
    return reasons


def template_next_step(template: Template) -> str | None:
    """Why ``template`` cannot be sent yet and what happens next, for the people choosing one
    (None: usable)."""
    if not template.approval_current:
        refusal = push_refusal(template)
        return refusal[0].upper() + refusal[1:] + "."
    if not template.bics_id or template.sync_state != SyncState.SYNCED:
        if template.sync_state == SyncState.FAILED:
            return f"Approved here; the push to BICS failed ({template.sync_error}): push it again."
        return "Approved here, not yet at BICS: push pending."
    if not template.provider_approved:
        if template.provider_state == "rejected":
            return "Rejected by the provider at BICS: edit it and submit it again."
        return f"Approved here; waiting for the provider's approval at BICS ({template.provider_state})."
    blocked = list(blocking_entries(template)[:1])
    if blocked:
        return f"Blocked at BICS (template {blocked[0].template_id}): remove it from the blocked templates first."
    return None


def templates_for_choice(channel: str) -> tuple[list[Template], list[tuple[Template, str]]]:
    """The templates of ``channel`` one can send now, and the others with their next step."""
    usable, waiting = [], []
    for template in Template.objects.filter(channel=channel).select_related("sender").order_by("name"):
        step = template_next_step(template)
        if step is None:
            usable.append(template)
        else:
            waiting.append((template, step))
    return usable, waiting
