"""The generic sync service and `bics_sync` against the BICS sandbox over HTTP: what exists
at BICS is made through its API (as the BICS portal would), faults through its control
endpoints."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core import sync
from core.models import SyncState
from messaging.catalogue.models import BlockedTemplate, Sender, Template, Unsubscriber
from tests import sandbox_helpers as sb
from tests.catalogue.conftest import approved_here

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]


def at_bics(sandbox, route="sms.senders.list") -> dict[str, dict]:
    return {item["id"]: item for item in sb.listed(sandbox, route)}


def test_push_creates_then_leaves_synced_records_alone(bics_sandbox, sender):
    result = sync.push("senders")
    assert result.counts()["created"] == 1
    sender.refresh_from_db()
    assert sender.bics_id and sender.sync_state == SyncState.SYNCED and sender.synced_at
    assert sync.push("senders").counts()["unchanged"] == 1


def test_push_updates_dirty_records(bics_sandbox, sender):
    sync.push("senders")
    Sender.objects.filter(pk=sender.pk).update(service="MKT", sync_state=SyncState.DIRTY)
    assert sync.push("senders").counts()["updated"] == 1
    assert at_bics(bics_sandbox)[Sender.objects.get().bics_id]["service"] == "MKT"


def test_refusal_keeps_local_data_and_records_the_reason(bics_sandbox, sender):
    sb.refuse(bics_sandbox, "sms.senders.create", 422)
    result = sync.push("senders")
    assert not result.ok
    sender.refresh_from_db()
    assert (sender.name, sender.bics_id, sender.sync_state) == ("BICSIN", None, SyncState.FAILED)
    assert "422" in sender.sync_error and "sandbox fault" in sender.sync_error
    assert "422" in result.failed[0][1]
    assert at_bics(bics_sandbox) == {}


def test_template_push_waits_for_its_sender(bics_sandbox, make_template):
    approved_here(make_template())
    result = sync.push("templates")
    assert result.failed and "push its sender" in result.failed[0][1]
    sync.push("senders")
    assert sync.push("templates").counts()["created"] == 1


def test_whatsapp_edit_is_delete_plus_create(bics_sandbox, make_template):
    payload = {"category": "utility", "language": "en", "number": "+3225476000", "type": "text",
               "is_conversation": True}
    template = approved_here(make_template(channel="whatsapp", name="wa", content="Hello {{name}}, welcome.",
                                           channel_payload=payload))
    sync.push("templates")
    template.refresh_from_db()
    first_id = template.bics_id
    Template.objects.filter(pk=template.pk).update(content="Hello {{name}}, welcome back.", sync_state="dirty")
    approved_here(template)
    assert sync.push("templates").counts()["updated"] == 1
    template.refresh_from_db()
    assert template.bics_id != first_id
    assert sb.request_counts(bics_sandbox)["whatsapp.templates.delete"] == 1
    assert list(at_bics(bics_sandbox, "whatsapp.templates.list")) == [template.bics_id]


def test_pull_creates_updates_and_reports_unchanged(bics_sandbox):
    sb.created(bics_sandbox, "sms.senders.create", {"name": "ACME", "country_code": "GB", "service": "A2P"})
    assert sync.pull("senders").counts()["created"] == 1
    assert Sender.objects.get().status == Sender.Status.PENDING
    sb.tick(bics_sandbox, 3600)  # BICS approves it
    assert sync.pull("senders").counts()["updated"] == 1
    assert Sender.objects.get().status == Sender.Status.APPROVED
    assert sync.pull("senders").counts()["unchanged"] == 1


def test_pull_links_a_never_pushed_record_instead_of_duplicating(bics_sandbox, sender):
    at = sb.created(bics_sandbox, "sms.senders.create", {"name": "BICSIN", "country_code": "IN", "service": "ENT"})
    sync.pull("senders")
    assert Sender.objects.get().bics_id == at["id"]


def test_pull_never_overwrites_a_dirty_record(bics_sandbox, sender):
    sync.push("senders")
    sender.refresh_from_db()
    Sender.objects.filter(pk=sender.pk).update(service="MKT", sync_state=SyncState.DIRTY)
    sb.api(bics_sandbox, "sms.senders.update", id=sender.bics_id,
           json={"name": "BICSIN", "country_code": "IN", "service": "BNK"}).raise_for_status()
    result = sync.pull("senders")
    assert result.counts()["conflicts"] == 1
    sender.refresh_from_db()
    assert (sender.service, sender.sync_state) == ("MKT", SyncState.DIRTY)


def test_pull_never_deletes_local_opt_outs(bics_sandbox):
    Unsubscriber.objects.create(channel="sms", number="+32470000001", type="all")
    sync.push("unsubscribers")
    sb.api(bics_sandbox, "sms.unsubscribers.clean").raise_for_status()
    assert at_bics(bics_sandbox, "sms.unsubscribers.list") == {}
    sync.pull("unsubscribers")
    assert Unsubscriber.objects.count() == 1


def test_pull_of_unsubscribers_stores_e164_with_plus(bics_sandbox):
    at = sb.created(bics_sandbox, "viber.unsubscribers.create",
                    {"receiver": "380501234567", "type": "category", "value": "promo"})
    sync.pull("unsubscribers")
    u = Unsubscriber.objects.get()
    assert (u.channel, u.number, u.iso) == ("viber", "+380501234567", (at["iso"] or "").upper())


def test_pulled_change_of_approved_template_returns_it_to_draft(bics_sandbox, make_template, approver):
    from messaging.catalogue.services.templates import template_approve, template_submit

    template = make_template()
    sync.push("senders")
    template_submit(template=template, user=template.author)
    template_approve(template=template, user=approver)
    sync.push("templates")
    bics_id = Template.objects.get().bics_id
    sb.api(bics_sandbox, "sms.templates.update", id=bics_id,
           json={"type": at_bics(bics_sandbox, "sms.templates.list")[bics_id]["type"],
                 "body": "Your order {{order}} was changed."}).raise_for_status()
    assert sync.pull("templates").counts()["updated"] == 1
    template.refresh_from_db()
    assert (template.approval_state, template.content) == ("draft", "Your order {{order}} was changed.")


def test_push_delete_asks_bics_first(bics_sandbox):
    blocked = BlockedTemplate.objects.create(template_id="42")
    sync.push("blocked_templates")
    blocked.refresh_from_db()
    sb.refuse(bics_sandbox, "sms.blocked_templates.delete", 422)
    assert sync.push_delete(blocked).failed
    assert BlockedTemplate.objects.filter(pk=blocked.pk, sync_state="failed").exists()
    assert list(at_bics(bics_sandbox, "sms.blocked_templates.list")) == [blocked.bics_id]
    sb.configure(bics_sandbox, faults=[])
    assert sync.push_delete(blocked).deleted
    assert not BlockedTemplate.objects.exists() and not at_bics(bics_sandbox, "sms.blocked_templates.list")


def test_list_failure_is_reported(bics_sandbox):
    sb.refuse(bics_sandbox, "sms.senders.list", 422)
    result = sync.pull("senders")
    assert result.failed and "422" in result.failed[0][1]


def test_result_as_dict_is_serialisable(bics_sandbox, sender):
    import json

    sb.refuse(bics_sandbox, "sms.senders.create", 422)
    data = sync.push("senders").as_dict()
    json.dumps(data)
    assert data["counts"]["failed"] == 1 and "sandbox fault" in data["summary"]


# --------------------------------------------------------------------------- command
def test_command_prints_counts_and_exits_zero(bics_sandbox, sender, capsys):
    call_command("bics_sync", "senders", "--push")
    assert "push senders: created=1" in capsys.readouterr().out


def test_command_exits_non_zero_when_a_record_failed(bics_sandbox, sender):
    sb.refuse(bics_sandbox, "sms.senders.create", 422)
    with pytest.raises(CommandError) as exc:
        call_command("bics_sync", "senders", "--push")
    assert exc.value.returncode == 1


def test_command_rejects_unknown_resource(bics_sandbox):
    with pytest.raises(CommandError, match="unknown resource"):
        call_command("bics_sync", "widgets", "--pull")


def test_command_all_covers_every_messaging_resource(bics_sandbox, capsys):
    call_command("bics_sync", "all", "--pull")
    out = capsys.readouterr().out
    for name in ("senders", "templates", "unsubscribers", "blocked_templates"):
        assert f"pull {name}:" in out


def test_command_exit_code_via_subprocess_style_main(bics_sandbox, sender):
    """CommandError(returncode=1) is what manage.py turns into exit status 1."""
    from django.core.management import ManagementUtility  # noqa: F401

    sb.refuse(bics_sandbox, "sms.senders.create", 422)
    with pytest.raises(SystemExit) as exc:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["manage.py", "bics_sync", "senders", "--push"])
    assert exc.value.code == 1


def test_pull_does_not_overwrite_an_edit_whose_push_failed(bics_sandbox, sender):
    sync.push("senders")
    Sender.objects.filter(pk=sender.pk).update(service="MKT", sync_state=SyncState.DIRTY)
    sb.refuse(bics_sandbox, "sms.senders.update", 422)
    sync.push("senders")
    assert sync.pull("senders").counts()["conflicts"] == 1
    sender.refresh_from_db()
    assert (sender.service, sender.sync_state) == ("MKT", SyncState.FAILED)


def test_unsubscription_event_upserts_without_marking_dirty(db):
    from messaging.catalogue.services.lists import unsubscriber_upsert_from_bics

    first = unsubscriber_upsert_from_bics(channel="sms", payload={"id": "77", "receiver": "32470000001",
                                                                  "type": "all", "value": ""})
    again = unsubscriber_upsert_from_bics(channel="sms", payload={"id": "77", "receiver": "32470000001",
                                                                  "type": "all", "value": ""})
    assert first.pk == again.pk and Unsubscriber.objects.count() == 1
    assert (again.number, again.sync_state, again.bics_id) == ("+32470000001", SyncState.SYNCED, "77")
    local = Unsubscriber.objects.create(channel="viber", number="+380501234567", type="all")
    linked = unsubscriber_upsert_from_bics(channel="viber", payload={"id": "5", "receiver": "380501234567",
                                                                     "type": "all"})
    assert linked.pk == local.pk and linked.bics_id == "5"


def test_create_with_lost_answer_is_linked_not_created_twice(bics_sandbox, sender):
    sb.drop_answer(bics_sandbox, "sms.senders.create")  # BICS creates it; the answer never comes
    result = sync.push("senders")
    assert result.counts()["created"] == 1 and result.ok
    sender.refresh_from_db()
    assert [sender.bics_id] == list(at_bics(bics_sandbox))
    sync.push("senders")
    assert len(at_bics(bics_sandbox)) == 1


def test_create_with_lost_answer_that_never_arrived_fails_for_a_later_retry(bics_sandbox, sender):
    sb.fault(bics_sandbox, kind="drop", routes=["sms.senders.create"], count=1, after=False)  # never processed
    result = sync.push("senders")
    assert result.failed
    sender.refresh_from_db()
    assert sender.bics_id is None and sender.sync_state == SyncState.FAILED
    assert at_bics(bics_sandbox) == {}
    assert sync.push("senders").counts()["created"] == 1  # the later retry


def test_push_delete_of_a_record_already_gone_at_bics_deletes_it_here(bics_sandbox):
    blocked = BlockedTemplate.objects.create(template_id="43")
    sync.push("blocked_templates")
    blocked.refresh_from_db()
    sb.api(bics_sandbox, "sms.blocked_templates.delete", id=blocked.bics_id).raise_for_status()
    assert sb.api(bics_sandbox, "sms.blocked_templates.delete", id=blocked.bics_id).status_code == 404
    assert sync.push_delete(blocked).deleted  # BICS's 404: already gone, nothing to keep
    assert not BlockedTemplate.objects.exists()
