"""Template workflow: save with rules, four-eyes approval, usability.

draft -> submitted -> approved | rejected. Only users with ``messaging.approve_template``
decide; never the author; a rejection needs a reason; every decision is a
``TemplateApproval`` row holding the exact content decided on. Editing the content of an
approved (or submitted) template returns it to draft and sends ``template_content_changed``.
"""

from __future__ import annotations

import difflib
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from core.models import SyncState
from messaging.catalogue import rules
from messaging.catalogue.models import BlockedTemplate, Template, TemplateApproval
from messaging.catalogue.signals import template_content_changed

log = logging.getLogger(__name__)

APPROVE_PERMISSION = "messaging.approve_template"
# Fields BICS holds: changing one here marks a pushed template dirty.
SYNCED_FIELDS = {"name", "content", "sender", "template_type", "is_english", "channel_payload"}


def _content_snapshot(template: Template) -> dict:
    return {
        "content": template.content,
        "channel_payload": template.channel_payload or {},
        "sender_name": template.sender.name if template.sender_id else "",
        "template_type": template.template_type,
    }


# --------------------------------------------------------------------------- save / edit
@transaction.atomic
def template_content_updated(*, template: Template, fields: list[str], user=None) -> bool:
    """The content of ``template`` changed (already saved). Back to draft when it was
    approved or waiting; tell the campaigns. Returns True when the state changed."""
    if template.approval_state not in (Template.Approval.APPROVED, Template.Approval.SUBMITTED):
        return False
    Template.objects.filter(pk=template.pk).update(
        approval_state=Template.Approval.DRAFT, version=template.version + 1, submitted_at=None)
    template.approval_state = Template.Approval.DRAFT
    template.version += 1
    template.submitted_at = None
    transaction.on_commit(lambda: template_content_changed.send(
        sender=Template, template=template, fields=fields, user=user))
    return True


@transaction.atomic
def template_save(*, template: Template, user, changed_fields: list[str] | None = None) -> Template:
    """Save from the admin or an API: rules checked, author set, content change handled,
    a synced record marked dirty."""
    template.full_clean()
    is_new = template.pk is None
    if is_new and template.author_id is None and user is not None:
        template.author = user
    content_fields = {"content", "channel_payload", "sender", "template_type", "name"}
    content_changed = not is_new and bool(content_fields & set(changed_fields or ()))
    if not is_new and template.bics_id and set(changed_fields or ()) & SYNCED_FIELDS:
        template.sync_state = SyncState.DIRTY
    if template.approval_state == Template.Approval.REJECTED and content_changed:
        template.approval_state = Template.Approval.DRAFT
    template.save()
    if content_changed:
        template_content_updated(template=template, fields=sorted(content_fields & set(changed_fields)), user=user)
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
    return None


def approvers():
    User = get_user_model()
    return User.objects.filter(is_active=True).filter(
        Q(is_superuser=True)
        | Q(user_permissions__codename="approve_template", user_permissions__content_type__app_label="messaging")
        | Q(groups__permissions__codename="approve_template",
            groups__permissions__content_type__app_label="messaging")
    ).distinct()


def _notify_approvers(template: Template, submitted_by) -> int:
    recipients = [u.email for u in approvers() if u.email and u.pk != template.author_id]
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


@transaction.atomic
def template_submit(*, template: Template, user) -> Template:
    template = Template.objects.select_for_update().get(pk=template.pk)
    if template.approval_state not in (Template.Approval.DRAFT, Template.Approval.REJECTED):
        raise ValidationError(f"Only draft or rejected templates can be submitted (this one is "
                              f"{template.get_approval_state_display().lower()}).")
    if not (user.has_perm("messaging.change_template") or user.has_perm(APPROVE_PERMISSION)):
        raise PermissionDenied("You may not submit templates.")
    errors = rules.errors(template.rule_results())
    if errors:
        raise ValidationError([str(e) for e in errors])
    template.approval_state = Template.Approval.SUBMITTED
    template.submitted_at = timezone.now()
    template.rejection_reason = ""
    template.save(update_fields=["approval_state", "submitted_at", "rejection_reason", "updated_at"])
    transaction.on_commit(lambda: _notify_approvers(template, user))
    return template


@transaction.atomic
def template_approve(*, template: Template, user) -> TemplateApproval:
    template = Template.objects.select_for_update().select_related("sender").get(pk=template.pk)
    reason = can_decide(user, template)
    if reason:
        raise PermissionDenied(reason)
    if template.approval_state != Template.Approval.SUBMITTED:
        raise ValidationError("Only templates waiting for approval can be approved.")
    errors = rules.errors(template.rule_results())
    if errors:
        raise ValidationError([str(e) for e in errors])
    template.approval_state = Template.Approval.APPROVED
    template.rejection_reason = ""
    template.save(update_fields=["approval_state", "rejection_reason", "updated_at"])
    return TemplateApproval.objects.create(
        template=template, version=template.version, decision=TemplateApproval.Decision.APPROVED,
        decided_by=user, **_content_snapshot(template))


@transaction.atomic
def template_reject(*, template: Template, user, reason: str) -> TemplateApproval:
    template = Template.objects.select_for_update().select_related("sender").get(pk=template.pk)
    denied = can_decide(user, template)
    if denied:
        raise PermissionDenied(denied)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("A rejection needs a reason.")
    if template.approval_state != Template.Approval.SUBMITTED:
        raise ValidationError("Only templates waiting for approval can be rejected.")
    template.approval_state = Template.Approval.REJECTED
    template.rejection_reason = reason
    template.save(update_fields=["approval_state", "rejection_reason", "updated_at"])
    return TemplateApproval.objects.create(
        template=template, version=template.version, decision=TemplateApproval.Decision.REJECTED,
        decided_by=user, reason=reason, **_content_snapshot(template))


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

    Three conditions (DESIGN.md): approved here (four eyes), approved by the provider, and
    matching no blocked template.
    """
    reasons = []
    if template.approval_state != Template.Approval.APPROVED:
        reasons.append(f"Not approved here: {template.get_approval_state_display().lower()}.")
    if not template.provider_approved:
        reasons.append(f"Not approved by the provider: {template.provider_state}.")
    blocked = list(blocking_entries(template)[:1])
    if blocked:
        reasons.append(f"Matches a blocked template at BICS ({blocked[0].template_id}).")
    return reasons
