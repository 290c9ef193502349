"""Four eyes as an invariant: the approver of a version is never its author, last editor or
submitter; an approval is of one exact version and any change voids it; the trail records each
step; the template state machine allows exactly its declared transitions."""

import queue

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from core.sync_runs import sync_run_start
from messaging.catalogue.models import Channel, Template, TemplateEvent
from messaging.catalogue.services import templates as services
from tests import sandbox_helpers as sb

pytestmark = pytest.mark.django_db

A = Template.Approval


@pytest.fixture
def editing_approver(make_user):
    """A Template approver who may also change templates."""
    user = make_user("Template approvers")
    user.user_permissions.add(Permission.objects.get(codename="change_template"))
    return type(user).objects.get(pk=user.pk)


def approved(template, approver):
    services.template_submit(template=template, user=template.author)
    services.template_approve(template=template, user=approver)
    template.refresh_from_db()
    return template


# --------------------------------------------------------------------------- who may decide
def test_an_approver_who_edits_someone_elses_words_cannot_approve_them(make_template, approver, editing_approver,
                                                                      make_user):
    template = approved(make_template(), approver)
    template.content = "Your order {{order}} is confirmed. Pay now at evil.example."
    template = services.template_save(template=template, user=editing_approver, changed_fields=["content"])
    assert (template.approval_state, template.last_edited_by) == (A.DRAFT, editing_approver)
    services.template_submit(template=template, user=editing_approver)
    with pytest.raises(PermissionDenied, match="Four eyes: you last changed"):
        services.template_approve(template=template, user=editing_approver)
    services.template_approve(template=template, user=make_user("Template approvers"))  # a third person may


def test_the_submitter_cannot_approve_what_they_submitted(make_template, approver):
    template = make_template()
    template = services.template_submit(template=template, user=approver)
    assert template.submitted_by == approver
    with pytest.raises(PermissionDenied, match="Four eyes: you submitted"):
        services.template_approve(template=template, user=approver)
    with pytest.raises(PermissionDenied, match="Four eyes: you submitted"):
        services.template_reject(template=template, user=approver, reason="no")


def test_the_four_eyes_rule_holds_inside_the_update_itself(make_template, approver):
    """Even past the first check (a decision racing an edit), the UPDATE refuses a barred user."""
    template = make_template()
    template = services.template_submit(template=template, user=template.author)
    Template.objects.filter(pk=template.pk).update(last_edited_by=approver)  # the edit that raced in
    assert not services.transition(template.pk, "approve", where=services._four_eyes_q(approver))
    assert Template.objects.get(pk=template.pk).approval_state == A.SUBMITTED


@pytest.mark.sandbox
def test_a_pulled_template_bars_its_puller_and_its_submitter(bics_sandbox, approver, make_user):
    response = sb.api(bics_sandbox, "whatsapp.templates.create", json={
        "name": "portal_made", "category": "utility", "language": "en", "number": "3225476000", "type": "text",
        "is_conversation": True, "payload": {"body": "Hello {{name}}, your code is ready."}})
    assert response.status_code < 300, response.text
    run = sync_run_start(resource="templates", direction="pull", user=approver)
    assert run.state == "done", run.summary
    pulled = Template.objects.get(channel=Channel.WHATSAPP, name="portal_made")
    assert (pulled.author, pulled.last_edited_by, pulled.approval_state) == (None, approver, A.DRAFT)
    assert TemplateEvent.objects.filter(template=pulled, action="pull", actor=approver).exists()
    services.template_submit(template=pulled, user=approver)
    with pytest.raises(PermissionDenied, match="Four eyes"):
        services.template_approve(template=pulled, user=approver)
    second, third = make_user("Template approvers"), make_user("Template approvers")
    pulled.refresh_from_db()
    Template.objects.filter(pk=pulled.pk).update(last_edited_by=None)  # a scheduled pull: nobody
    pulled.refresh_from_db()
    services.template_void(template=pulled, user=None, fields=["content"])
    services.template_submit(template=pulled, user=second)
    with pytest.raises(PermissionDenied, match="you submitted"):
        services.template_approve(template=pulled, user=second)
    services.template_approve(template=pulled, user=third)


# --------------------------------------------------------------------------- one exact version
def test_an_approval_is_of_the_version_the_approver_read(make_template, approver, marketing):
    template = services.template_submit(template=make_template(), user=marketing)
    read = template.content_hash
    template.content = "Your order {{order}} ships today."
    services.template_save(template=template, user=marketing, changed_fields=["content"])
    services.template_submit(template=template, user=marketing)
    with pytest.raises(ValidationError, match="changed since you opened it"):
        services.template_approve(template=template, user=approver, content_hash=read)
    assert Template.objects.get(pk=template.pk).approval_state == A.SUBMITTED


@pytest.mark.parametrize(("field", "value"), [
    ("message_type", "U"), ("is_english", False), ("channel_payload", {"language": "fr"}), ("name", "renamed"),
])
def test_any_change_of_what_is_sent_voids_the_approval(make_template, approver, marketing, field, value):
    template = approved(make_template(), approver)
    setattr(template, field, value)
    template = services.template_save(template=template, user=marketing, changed_fields=[field])
    assert (template.approval_state, template.approved_hash, template.version) == (A.DRAFT, "", 2)
    assert "Not approved here: draft." in services.template_usability(template)
    void = TemplateEvent.objects.get(template=template, action="void")
    assert (void.actor, void.version, void.content_hash) == (marketing, 2, template.content_hash)


def test_words_changed_behind_the_services_are_not_approved(make_template, approver):
    template = approved(make_template(), approver)
    Template.objects.filter(pk=template.pk).update(content="Something else {{order}} entirely.")
    template.refresh_from_db()
    assert not template.approval_current
    assert "Not approved here: changed since its approval." in services.template_usability(template)


def test_a_save_of_a_stale_form_cannot_write_the_approval_state(make_template, approver, marketing):
    stale_form = make_template()
    template = approved(Template.objects.get(pk=stale_form.pk), approver)
    stale_form.is_english = True  # nothing that is sent changes; the object still says "draft"
    services.template_save(template=stale_form, user=marketing, changed_fields=[])
    template.refresh_from_db()
    assert (template.approval_state, template.approved_hash) == (A.APPROVED, template.content_hash)


# --------------------------------------------------------------------------- the trail
def test_the_trail_records_submit_reject_void_approve_with_who_and_which_version(make_template, approver,
                                                                                  marketing):
    template = make_template()
    services.template_submit(template=template, user=marketing)
    services.template_reject(template=template, user=approver, reason="Typo")
    first = template.content_hash
    template.refresh_from_db()
    template.content = "Your order {{order}} is now confirmed."
    services.template_save(template=template, user=marketing, changed_fields=["content"])
    template = services.template_submit(template=template, user=marketing)
    services.template_approve(template=template, user=approver)
    trail = list(TemplateEvent.objects.filter(template=template).order_by("at", "pk")
                 .values_list("action", "actor__username", "version", "content_hash"))
    second = Template.objects.get(pk=template.pk).content_hash
    assert trail == [
        ("submit", marketing.username, 1, first), ("reject", approver.username, 1, first),
        ("void", marketing.username, 2, second), ("submit", marketing.username, 2, second),
        ("approve", approver.username, 2, second)]
    assert TemplateEvent.objects.get(action="reject").note == "Typo"


def test_the_trail_is_read_only_in_the_admin_even_for_superusers(client, admin_user, make_template, marketing):
    template = make_template()
    event = services.template_submit(template=template, user=marketing).events.get()
    client.force_login(admin_user)
    assert client.get(reverse("admin:messaging_templateevent_changelist")).status_code == 200
    assert client.get(reverse("admin:messaging_templateevent_add")).status_code == 403
    assert client.post(reverse("admin:messaging_templateevent_delete", args=[event.pk]), {"post": "yes"}
                       ).status_code == 403
    client.post(reverse("admin:messaging_templateevent_change", args=[event.pk]), {"note": "forged"})
    assert TemplateEvent.objects.get(pk=event.pk).note == ""
    page = client.get(reverse("admin:messaging_template_change", args=[template.pk])).content.decode()
    assert "Approval trail" in page and event.content_hash[:12] in page


# --------------------------------------------------------------------------- the state machine
STATES = [A.DRAFT, A.SUBMITTED, A.APPROVED, A.REJECTED]
ALLOWED = {  # (transition, from) -> to; every other pair is refused
    ("submit", A.DRAFT): A.SUBMITTED, ("submit", A.REJECTED): A.SUBMITTED,
    ("approve", A.SUBMITTED): A.APPROVED, ("reject", A.SUBMITTED): A.REJECTED,
    ("void", A.SUBMITTED): A.DRAFT, ("void", A.APPROVED): A.DRAFT, ("void", A.REJECTED): A.DRAFT,
}


def test_the_declared_table_is_the_one_tested():
    declared = {(name, source): target for name, (sources, target) in services.TRANSITIONS.items()
                for source in sources}
    assert declared == ALLOWED


@pytest.mark.parametrize("name", sorted(services.TRANSITIONS))
@pytest.mark.parametrize("state", STATES)
def test_every_transition_from_every_state(make_template, name, state):
    template = make_template()
    Template.objects.filter(pk=template.pk).update(approval_state=state, rejection_reason="Typo")
    moved = services.transition(template.pk, name)
    after = Template.objects.get(pk=template.pk).approval_state
    assert moved == ((name, state) in ALLOWED)
    assert after == ALLOWED.get((name, state), state)


@pytest.mark.parametrize("state", STATES)
def test_every_decision_through_the_services_from_every_state(make_template, approver, marketing, state):
    template = make_template()
    Template.objects.filter(pk=template.pk).update(approval_state=state, rejection_reason="Typo",
                                                   submitted_hash=template.content_hash)
    steps = {"submit": lambda t: services.template_submit(template=t, user=marketing),
             "approve": lambda t: services.template_approve(template=t, user=approver),
             "reject": lambda t: services.template_reject(template=t, user=approver, reason="No")}
    for name, step in steps.items():
        Template.objects.filter(pk=template.pk).update(approval_state=state, rejection_reason="Typo")
        fresh = Template.objects.get(pk=template.pk)
        if (name, state) in ALLOWED:
            step(fresh)
        else:
            with pytest.raises(ValidationError):
                step(fresh)
        assert Template.objects.get(pk=template.pk).approval_state == ALLOWED.get((name, state), state)


def test_approvers_and_marketing_read_the_trail_on_the_template_page(client, make_template, marketing, approver):
    template = make_template()
    event = services.template_submit(template=template, user=marketing).events.get()
    for user in (marketing, approver):
        client.force_login(user)
        page = client.get(reverse("admin:messaging_template_change", args=[template.pk])).content.decode()
        assert "Approval trail" in page and event.content_hash[:12] in page, user
        assert client.get(reverse("admin:messaging_templateevent_changelist")).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_racing_decisions_on_one_version_record_exactly_one(django_user_model):
    """Everything made here: an earlier flush (another transactional test) removed the staff groups."""
    from messaging.catalogue.models import Sender, TemplateApproval
    from tests.concurrency import race

    approve = Permission.objects.get(codename="approve_template")
    change = Permission.objects.get(codename="change_template")
    author = django_user_model.objects.create_user(username="author", is_staff=True)
    author.user_permissions.add(change)
    deciders = queue.SimpleQueue()
    for n in range(6):
        user = django_user_model.objects.create_user(username=f"approver{n}", is_staff=True)
        user.user_permissions.add(approve)
        deciders.put(django_user_model.objects.get(pk=user.pk))
    sender = Sender.objects.create(name="BICSIN", country_code="IN", service="ENT")
    template = Template.objects.create(channel=Channel.SMS, name="raced", sender=sender, template_type="SI",
                                       content="Your order {{order}} is confirmed.", author=author)
    template = services.template_submit(template=template, user=django_user_model.objects.get(pk=author.pk))

    def decide():
        user = deciders.get()
        try:
            if user.pk % 2:
                services.template_approve(template=template, user=user)
            else:
                services.template_reject(template=template, user=user, reason="No")
        except ValidationError:
            return []
        return [user.pk]

    assert len(race(decide)) == 1
    assert TemplateApproval.objects.filter(template=template).count() == 1
    assert TemplateEvent.objects.filter(template=template, action__in=["approve", "reject"]).count() == 1
