"""Four eyes: who may submit, approve and reject; what each decision records."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from messaging.catalogue.models import BlockedTemplate, Channel, Template, TemplateApproval
from messaging.catalogue.services import templates as services
from messaging.catalogue.signals import template_content_changed

pytestmark = pytest.mark.django_db


def submitted(make_template, **kw):
    template = make_template(**kw)
    return services.template_submit(template=template, user=template.author)


def test_marketing_user_submits_and_approvers_are_emailed(make_template, approver, django_capture_on_commit_callbacks):
    template = make_template()
    with django_capture_on_commit_callbacks(execute=True):
        services.template_submit(template=template, user=template.author)
    template.refresh_from_db()
    assert template.approval_state == Template.Approval.SUBMITTED
    assert [m.to for m in mail.outbox] == [[approver.email]]
    assert template.name in mail.outbox[0].subject


def test_submit_refuses_content_breaking_a_rule(make_template):
    template = make_template(content="Your order  {{order}} is confirmed.")
    with pytest.raises(ValidationError, match="double-space"):
        services.template_submit(template=template, user=template.author)


def test_marketing_user_cannot_approve(make_template, make_user):
    template = submitted(make_template)
    other_marketer = make_user("Marketing")
    with pytest.raises(PermissionDenied, match="approvers"):
        services.template_approve(template=template, user=other_marketer)


def test_author_cannot_approve_own_template_even_as_approver(make_template, approver):
    template = submitted(make_template, author=approver)
    with pytest.raises(PermissionDenied, match="Four eyes"):
        services.template_approve(template=template, user=approver)
    with pytest.raises(PermissionDenied, match="Four eyes"):
        services.template_reject(template=template, user=approver, reason="no")


def test_superuser_author_cannot_approve_own_template(make_template, make_user):
    boss = make_user(is_superuser=True)
    template = submitted(make_template, author=boss)
    with pytest.raises(PermissionDenied, match="Four eyes"):
        services.template_approve(template=template, user=boss)


def test_superuser_who_is_not_the_author_may_approve(make_template, make_user):
    boss = make_user(is_superuser=True)
    template = submitted(make_template)
    decision = services.template_approve(template=template, user=boss)
    assert decision.decided_by == boss


def test_approver_approves_and_the_content_is_recorded(make_template, approver):
    template = submitted(make_template)
    decision = services.template_approve(template=template, user=approver)
    template.refresh_from_db()
    assert template.approval_state == Template.Approval.APPROVED
    assert (decision.decision, decision.version, decision.content, decision.sender_name) == (
        "approved", 1, template.content, "BICSIN")
    assert decision.decided_at is not None


def test_rejection_needs_a_reason(make_template, approver):
    template = submitted(make_template)
    with pytest.raises(ValidationError, match="reason"):
        services.template_reject(template=template, user=approver, reason="  ")
    services.template_reject(template=template, user=approver, reason="Wrong brand name")
    template.refresh_from_db()
    assert (template.approval_state, template.rejection_reason) == ("rejected", "Wrong brand name")
    assert TemplateApproval.objects.get(template=template).reason == "Wrong brand name"


def test_only_submitted_templates_are_decided(make_template, approver):
    template = make_template()
    with pytest.raises(ValidationError):
        services.template_approve(template=template, user=approver)


def test_editing_an_approved_template_returns_it_to_draft_and_signals(make_template, approver,
                                                                       django_capture_on_commit_callbacks):
    template = submitted(make_template)
    services.template_approve(template=template, user=approver)
    template.refresh_from_db()
    received = []

    def listener(sender, template, fields, user, **kw):
        received.append((template.pk, fields))

    template_content_changed.connect(listener)
    try:
        template.content = "Your order {{order}} has shipped."
        with django_capture_on_commit_callbacks(execute=True):
            services.template_save(template=template, user=template.author, changed_fields=["content"])
    finally:
        template_content_changed.disconnect(listener)
    template.refresh_from_db()
    assert (template.approval_state, template.version) == ("draft", 2)
    assert received == [(template.pk, ["content"])]
    # the approved version stays on record for campaigns that pinned it
    assert template.last_approval.content == "Your order {{order}} is confirmed."
    assert "-Your order {{order}} is confirmed." in services.template_diff(template)
    assert "+Your order {{order}} has shipped." in services.template_diff(template)


def test_usability_names_each_missing_condition(make_template, approver):
    template = make_template()
    reasons = services.template_usability(template)
    assert any("Not approved here" in r for r in reasons)
    assert any("provider" in r for r in reasons)
    services.template_submit(template=template, user=template.author)
    services.template_approve(template=template, user=approver)
    template.refresh_from_db()
    Template.objects.filter(pk=template.pk).update(bics_id="77", provider_status="1", sync_state="synced")
    template.refresh_from_db()
    assert services.template_usability(template) == []
    BlockedTemplate.objects.create(template_id="77", status="1")
    assert services.template_usability(template) == ["Matches a blocked template at BICS (77)."]
    BlockedTemplate.objects.update(status="0")
    assert services.template_usability(template) == []


def test_whatsapp_service_template_needs_no_meta_approval(make_template):
    template = make_template(channel=Channel.WHATSAPP, name="svc", content="Hello {{name}}, welcome.",
                             channel_payload={"is_conversation": True}, bics_id="9", provider_status="2")
    assert template.provider_approved


def test_marketing_group_cannot_approve_but_approvers_group_can(marketing, approver):
    assert not marketing.has_perm("messaging.approve_template")
    assert marketing.has_perm("messaging.change_template")
    assert approver.has_perm("messaging.approve_template")
    assert not approver.has_perm("messaging.change_template")
