"""The generic sync service and `bics_sync` with an in-memory BICS (the sandbox tests cover HTTP)."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core import sync
from core.models import SyncState
from messaging.catalogue.models import BlockedTemplate, Sender, Template, Unsubscriber

pytestmark = pytest.mark.django_db


def test_push_creates_then_leaves_synced_records_alone(fake_bics, sender):
    result = sync.push("senders")
    assert result.counts()["created"] == 1
    sender.refresh_from_db()
    assert sender.bics_id and sender.sync_state == SyncState.SYNCED and sender.synced_at
    assert sync.push("senders").counts()["unchanged"] == 1


def test_push_updates_dirty_records(fake_bics, sender):
    sync.push("senders")
    Sender.objects.filter(pk=sender.pk).update(service="MKT", sync_state=SyncState.DIRTY)
    assert sync.push("senders").counts()["updated"] == 1
    assert fake_bics.items["sms.senders"][Sender.objects.get().bics_id]["service"] == "MKT"


def test_refusal_keeps_local_data_and_records_the_reason(fake_bics, sender):
    fake_bics.refuse["sms.senders.create"] = "The name has already been taken."
    result = sync.push("senders")
    assert not result.ok
    sender.refresh_from_db()
    assert (sender.name, sender.bics_id, sender.sync_state) == ("BICSIN", None, SyncState.FAILED)
    assert "already been taken" in sender.sync_error
    assert "already been taken" in result.failed[0][1]


def test_template_push_waits_for_its_sender(fake_bics, make_template):
    make_template()
    result = sync.push("templates")
    assert result.failed and "push its sender" in result.failed[0][1]
    sync.push("senders")
    assert sync.push("templates").counts()["created"] == 1


def test_whatsapp_edit_is_delete_plus_create(fake_bics, make_template):
    payload = {"category": "utility", "language": "en", "number": "+3225476000", "type": "text",
               "is_conversation": True}
    template = make_template(channel="whatsapp", name="wa", content="Hello {{name}}, welcome.",
                             channel_payload=payload)
    sync.push("templates")
    template.refresh_from_db()
    first_id = template.bics_id
    Template.objects.filter(pk=template.pk).update(content="Hello {{name}}, welcome back.", sync_state="dirty")
    assert sync.push("templates").counts()["updated"] == 1
    template.refresh_from_db()
    assert template.bics_id != first_id
    assert ("whatsapp.templates.delete", {"id": first_id}, None) in fake_bics.calls
    assert list(fake_bics.items["whatsapp.templates"]) == [template.bics_id]


def test_pull_creates_updates_and_reports_unchanged(fake_bics):
    fake_bics.items["sms.senders"] = {"1": {"id": "1", "name": "ACME", "country_code": "gb", "service": "A2P",
                                            "status": "0"}}
    assert sync.pull("senders").counts()["created"] == 1
    fake_bics.items["sms.senders"]["1"]["status"] = "1"
    assert sync.pull("senders").counts()["updated"] == 1
    assert Sender.objects.get().status == Sender.Status.APPROVED
    assert sync.pull("senders").counts()["unchanged"] == 1


def test_pull_links_a_never_pushed_record_instead_of_duplicating(fake_bics, sender):
    fake_bics.items["sms.senders"] = {"5": {"id": "5", "name": "BICSIN", "country_code": "IN", "service": "ENT"}}
    sync.pull("senders")
    assert Sender.objects.get().bics_id == "5"


def test_pull_never_overwrites_a_dirty_record(fake_bics, sender):
    sync.push("senders")
    sender.refresh_from_db()
    Sender.objects.filter(pk=sender.pk).update(service="MKT", sync_state=SyncState.DIRTY)
    fake_bics.items["sms.senders"][sender.bics_id]["service"] = "BNK"
    result = sync.pull("senders")
    assert result.counts()["conflicts"] == 1
    sender.refresh_from_db()
    assert (sender.service, sender.sync_state) == ("MKT", SyncState.DIRTY)


def test_pull_never_deletes_local_opt_outs(fake_bics):
    Unsubscriber.objects.create(channel="sms", number="+32470000001", type="all")
    sync.push("unsubscribers")
    fake_bics.items["sms.unsubscribers"].clear()
    sync.pull("unsubscribers")
    assert Unsubscriber.objects.count() == 1


def test_pull_of_unsubscribers_stores_e164_with_plus(fake_bics):
    fake_bics.items["viber.unsubscribers"] = {"3": {"id": "3", "receiver": "380501234567", "type": "category",
                                                    "value": "promo", "iso": "ua"}}
    sync.pull("unsubscribers")
    u = Unsubscriber.objects.get()
    assert (u.channel, u.number, u.iso) == ("viber", "+380501234567", "UA")


def test_pulled_change_of_approved_template_returns_it_to_draft(fake_bics, make_template, approver):
    from messaging.catalogue.services.templates import template_approve, template_submit

    template = make_template()
    sync.push("senders")
    sync.push("templates")
    template_submit(template=template, user=template.author)
    template_approve(template=template, user=approver)
    fake_bics.items["sms.templates"][Template.objects.get().bics_id]["body"] = "Your order {{order}} was changed."
    assert sync.pull("templates").counts()["updated"] == 1
    template.refresh_from_db()
    assert (template.approval_state, template.content) == ("draft", "Your order {{order}} was changed.")


def test_push_delete_asks_bics_first(fake_bics):
    blocked = BlockedTemplate.objects.create(template_id="42")
    sync.push("blocked_templates")
    blocked.refresh_from_db()
    fake_bics.refuse["sms.blocked_templates.delete"] = "locked"
    assert sync.push_delete(blocked).failed
    assert BlockedTemplate.objects.filter(pk=blocked.pk, sync_state="failed").exists()
    del fake_bics.refuse["sms.blocked_templates.delete"]
    assert sync.push_delete(blocked).deleted
    assert not BlockedTemplate.objects.exists() and not fake_bics.items["sms.blocked_templates"]


def test_list_failure_is_reported(fake_bics):
    fake_bics.refuse["sms.senders.list"] = "down"
    result = sync.pull("senders")
    assert result.failed and "down" in result.failed[0][1]


def test_result_as_dict_is_serialisable(fake_bics, sender):
    import json

    fake_bics.refuse["sms.senders.create"] = "nope"
    data = sync.push("senders").as_dict()
    json.dumps(data)
    assert data["counts"]["failed"] == 1 and "nope" in data["summary"]


# --------------------------------------------------------------------------- command
def test_command_prints_counts_and_exits_zero(fake_bics, sender, capsys):
    call_command("bics_sync", "senders", "--push")
    assert "push senders: created=1" in capsys.readouterr().out


def test_command_exits_non_zero_when_a_record_failed(fake_bics, sender):
    fake_bics.refuse["sms.senders.create"] = "nope"
    with pytest.raises(CommandError) as exc:
        call_command("bics_sync", "senders", "--push")
    assert exc.value.returncode == 1


def test_command_rejects_unknown_resource(fake_bics):
    with pytest.raises(CommandError, match="unknown resource"):
        call_command("bics_sync", "widgets", "--pull")


def test_command_all_covers_every_messaging_resource(fake_bics, capsys):
    call_command("bics_sync", "all", "--pull")
    out = capsys.readouterr().out
    for name in ("senders", "templates", "unsubscribers", "blocked_templates"):
        assert f"pull {name}:" in out


def test_command_exit_code_via_subprocess_style_main(fake_bics, sender):
    """CommandError(returncode=1) is what manage.py turns into exit status 1."""
    from django.core.management import ManagementUtility  # noqa: F401

    fake_bics.refuse["sms.senders.create"] = "nope"
    with pytest.raises(SystemExit) as exc:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["manage.py", "bics_sync", "senders", "--push"])
    assert exc.value.code == 1


def test_pull_does_not_overwrite_an_edit_whose_push_failed(fake_bics, sender):
    sync.push("senders")
    Sender.objects.filter(pk=sender.pk).update(service="MKT", sync_state=SyncState.DIRTY)
    fake_bics.refuse["sms.senders.update"] = "nope"
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


def test_create_with_lost_answer_is_linked_not_created_twice(fake_bics, sender):
    fake_bics.lose_answer.add("sms.senders.create")
    result = sync.push("senders")
    assert result.counts()["created"] == 1 and result.ok
    sender.refresh_from_db()
    assert sender.bics_id == next(iter(fake_bics.items["sms.senders"]))
    fake_bics.lose_answer.clear()
    sync.push("senders")
    assert len(fake_bics.items["sms.senders"]) == 1


def test_create_with_lost_answer_that_never_arrived_fails_for_a_later_retry(fake_bics, sender):
    from bics.errors import BicsOutcomeUnknown

    def lost(route, **kw):
        raise BicsOutcomeUnknown(route, None, None, None, "connection dropped")

    fake_bics.call = lost
    result = sync.push("senders")
    assert result.failed and "connection dropped" in result.failed[0][1]
    sender.refresh_from_db()
    assert sender.bics_id is None and sender.sync_state == SyncState.FAILED
