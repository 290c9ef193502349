"""Push tied to approval, the WhatsApp delete + create that cannot get stuck, and a second push
that never drops its selection; against the BICS sandbox over HTTP."""

import pytest
from django.urls import reverse

from core import sync
from core.models import SyncRun, SyncState
from core.sync_runs import selection_key, sync_run_start
from messaging.catalogue.models import Channel, Template, TemplateEvent
from messaging.catalogue.services import templates as services
from tests import sandbox_helpers as sb
from tests.catalogue.conftest import approved_here

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]

WA_PAYLOAD = {"category": "utility", "language": "en", "number": "+3225476000", "type": "text",
              "is_conversation": True}


def creates(sandbox, route="sms.templates.create") -> int:
    return sb.request_counts(sandbox).get(route, 0)


def bics_templates(sandbox, route="whatsapp.templates.list") -> list[dict]:
    response = sb.api(sandbox, route)
    response.raise_for_status()
    return response.json()["data"]


def wa_template(make_template, **kw):
    return make_template(channel=Channel.WHATSAPP, name=kw.pop("name", "wa_parcel"),
                         content=kw.pop("content", "Hi {{name}}, your parcel ships today."),
                         channel_payload=WA_PAYLOAD, **kw)


# --------------------------------------------------------------------------- push tied to approval
@pytest.mark.parametrize("state", ["draft", "submitted", "rejected"])
def test_a_template_not_approved_here_is_never_pushed(bics_sandbox, make_template, sender, state):
    sync.push("senders")
    template = make_template()
    Template.objects.filter(pk=template.pk).update(approval_state=state, rejection_reason="Typo")
    result = sync.push("templates")
    assert [(r.pk, reason) for r, reason in result.skipped] == [(template.pk, services.push_refusal(
        Template.objects.get(pk=template.pk)))]
    assert not result.created and creates(bics_sandbox) == 0
    template.refresh_from_db()
    assert template.bics_id is None


def test_approved_words_changed_behind_the_service_are_not_pushed(bics_sandbox, make_template, sender):
    sync.push("senders")
    template = approved_here(make_template())
    Template.objects.filter(pk=template.pk).update(content="Your order {{order}} is free.")  # no service
    result = sync.push("templates")
    assert result.skipped and "changed since its approval" in result.skipped[0][1]
    assert creates(bics_sandbox) == 0


def test_the_approval_queues_the_push_of_that_version(bics_sandbox, make_template, sender, approver,
                                                      django_capture_on_commit_callbacks):
    sync.push("senders")
    template = make_template()
    template = services.template_submit(template=template, user=template.author)
    with django_capture_on_commit_callbacks(execute=True):
        services.template_approve(template=template, user=approver)
    run = SyncRun.objects.get(direction="push", resource="templates")
    assert (run.state, run.requested_by, run.counts["created"]) == ("done", approver, 1)
    template.refresh_from_db()
    assert template.bics_id and template.sync_state == SyncState.SYNCED
    assert sb.last_body(bics_sandbox, "sms.templates.create")["body"] == template.content
    push = TemplateEvent.objects.get(template=template, action="push")
    assert (push.actor, push.content_hash) == (approver, template.approved_hash)


# --------------------------------------------------------------------------- the wizard's choice
def test_wizard_offers_only_usable_templates_and_says_what_the_others_wait_for(client, make_template, approver,
                                                                               sender, marketing):
    from contacts.models import Tag

    ready = make_template(name="ready")
    Template.objects.filter(pk=ready.pk).update(bics_id="b1", provider_status="1", sync_state="synced")
    approved_here(ready)
    make_template(name="draft_one")
    waiting = make_template(name="waiting_one")
    Template.objects.filter(pk=waiting.pk).update(approval_state="submitted")
    rejected = make_template(name="rejected_one")
    Template.objects.filter(pk=rejected.pk).update(approval_state="rejected", rejection_reason="Typo")
    approved_here(make_template(name="not_pushed"))
    at_provider = approved_here(make_template(name="at_provider"))
    Template.objects.filter(pk=at_provider.pk).update(bics_id="b2", provider_status="0", sync_state="synced")
    client.force_login(marketing)
    tag = Tag.objects.create(name="audience")
    client.post(reverse("wizard:start"), {"name": "Spring", "channel": "sms", "tags": [tag.pk]})
    body = client.get(reverse("wizard:template-new")).content.decode()
    offered = {name for name in ("ready", "draft_one", "waiting_one", "rejected_one", "not_pushed", "at_provider")
               if f"{name}</option>" in body}
    assert offered == {"ready"}
    for name, step in [("waiting_one", "Waiting for approval by a Template approver"),
                       ("draft_one", "A draft is not pushed: submit it"),
                       ("rejected_one", "Rejected here: edit it and submit it again"),
                       ("not_pushed", "Approved here, not yet at BICS: push pending."),
                       ("at_provider", "waiting for the provider&#x27;s approval at BICS (pending)")]:
        assert f'{name}</span>: <span class="template-next-step">' in body
        assert step in body.split(f"{name}</span>", 1)[1].split("</li>", 1)[0], name


# --------------------------------------------------------------------------- WhatsApp: delete + create
def pushed_whatsapp(make_template):
    template = approved_here(wa_template(make_template))
    assert sync.push("templates").counts()["created"] == 1
    template.refresh_from_db()
    return template


def edited_and_reapproved(template):
    Template.objects.filter(pk=template.pk).update(content="Hi {{name}}, your parcel ships tomorrow.",
                                                   sync_state="dirty")
    return approved_here(template)


def test_whatsapp_edit_whose_delete_answer_was_lost_goes_on_to_create(bics_sandbox, make_template):
    template = pushed_whatsapp(make_template)
    old_id = template.bics_id
    edited_and_reapproved(template)
    sb.drop_answer(bics_sandbox, "whatsapp.templates.delete")  # deleted at BICS; the retry gets 404
    result = sync.push("templates")
    assert result.ok and result.counts()["updated"] == 1, result.summary()
    template.refresh_from_db()
    assert template.sync_state == SyncState.SYNCED and template.bics_id != old_id
    at_bics = bics_templates(bics_sandbox)
    assert [(str(t["id"]), t["payload"]["body"]) for t in at_bics] == [
        (template.bics_id, "Hi {{name}}, your parcel ships tomorrow.")]


def stale(template, sandbox):
    """What the lost delete left before: failed, holding an id BICS deleted."""
    assert sb.api(sandbox, "whatsapp.templates.delete", id=template.bics_id).status_code < 300
    Template.objects.filter(pk=template.pk).update(sync_state="failed", sync_error="404 not found")
    template.refresh_from_db()
    return template


def test_a_template_failed_with_a_stale_id_is_repaired_by_the_next_push(bics_sandbox, make_template):
    template = stale(edited_and_reapproved(pushed_whatsapp(make_template)), bics_sandbox)
    result = sync.push("templates")
    assert result.ok, result.summary()
    template.refresh_from_db()
    assert template.sync_state == SyncState.SYNCED
    assert [str(t["id"]) for t in bics_templates(bics_sandbox)] == [template.bics_id]


def test_a_pull_forgets_a_stale_id_so_the_next_push_creates(bics_sandbox, make_template):
    template = stale(edited_and_reapproved(pushed_whatsapp(make_template)), bics_sandbox)
    assert sync.pull("templates").ok
    template.refresh_from_db()
    assert (template.bics_id, template.sync_state) == (None, SyncState.FAILED)
    assert "gone at BICS" in template.sync_error
    assert sync.push("templates").counts()["created"] == 1
    template.refresh_from_db()
    assert [str(t["id"]) for t in bics_templates(bics_sandbox)] == [template.bics_id]


# --------------------------------------------------------------------------- a second push
def queued_push(*ids):
    """A push in flight (queued, its worker not started yet)."""
    return SyncRun.objects.create(resource="templates", direction="push", selection=selection_key(list(ids)))


def test_a_push_of_other_templates_is_a_run_of_its_own_and_is_pushed(bics_sandbox, make_template, sender):
    sync.push("senders")
    a, b = approved_here(make_template(name="a")), approved_here(make_template(name="b"))
    in_flight = queued_push(a.pk)
    run = sync_run_start(resource="templates", direction="push", ids=[b.pk], model_label="messaging.Template")
    assert run.pk != in_flight.pk and run.state == "done" and run.counts["created"] == 1
    b.refresh_from_db()
    assert b.bics_id and b.sync_state == SyncState.SYNCED


def test_a_push_of_the_same_templates_joins_the_one_in_flight(bics_sandbox, make_template, sender):
    a, b = approved_here(make_template(name="a")), approved_here(make_template(name="b"))
    in_flight = queued_push(a.pk, b.pk)
    run = sync_run_start(resource="templates", direction="push", ids=[b.pk, a.pk], model_label="messaging.Template")
    assert run.pk == in_flight.pk
    assert creates(bics_sandbox) == 0  # nothing pushed twice: the run in flight does it
