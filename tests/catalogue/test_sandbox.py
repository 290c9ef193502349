"""Push and pull of every messaging model against the BICS sandbox over real HTTP, and the
acceptance round trip: seed_demo -> push all -> empty database -> pull all -> same counts."""

import pytest
from django.core.management import call_command

from core import sync
from core.models import SyncState
from messaging.catalogue.models import (
    BlockedTemplate,
    Channel,
    Sender,
    Template,
    TemplateApproval,
    Unsubscriber,
)

try:
    from bics.sandbox import SandboxServer  # noqa: F401
except ImportError:  # pragma: no cover - until the sandbox lands
    pytest.skip("bics.sandbox.SandboxServer is not available yet", allow_module_level=True)

from tests import sandbox_helpers as sb
from tests.catalogue.conftest import approved_here

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]

WA_PAYLOAD = {"category": "utility", "language": "en", "number": "+3225476000", "type": "text",
              "is_conversation": True}
VIBER_PAYLOAD = {"category": "transactional", "method": "transaction_text", "type": "text"}


def counts():
    return (Sender.objects.count(), Template.objects.count(), Unsubscriber.objects.count(),
            BlockedTemplate.objects.count())


def wipe_local():
    from messaging.campaigns.models import Campaign

    Campaign.objects.all().delete()  # demo campaigns protect their templates
    TemplateApproval.objects.all().delete()
    BlockedTemplate.objects.all().delete()
    Template.objects.all().delete()
    Sender.objects.all().delete()
    Unsubscriber.objects.all().delete()


def push_ok(resource):
    result = sync.push(resource)
    assert result.ok, result.summary()
    return result


def pull_ok(resource):
    result = sync.pull(resource)
    assert result.ok, result.summary()
    return result


def test_senders_push_pull_and_approval_status(bics_sandbox, sender):
    assert push_ok("senders").counts()["created"] == 1
    sender.refresh_from_db()
    assert sender.bics_id and sender.sync_state == SyncState.SYNCED
    sb.tick(bics_sandbox, 3600)
    pull_ok("senders")
    sender.refresh_from_db()
    assert sender.status == Sender.Status.APPROVED
    Sender.objects.filter(pk=sender.pk).update(service="MKT", sync_state=SyncState.DIRTY)
    assert push_ok("senders").counts()["updated"] == 1
    wipe_local()
    assert pull_ok("senders").counts()["created"] == 1
    assert Sender.objects.get().service == "MKT"


def test_sms_template_push_pull(bics_sandbox, make_template):
    template = approved_here(make_template(template_type="T"))
    push_ok("senders")
    sb.tick(bics_sandbox, 3600)
    assert push_ok("templates").counts()["created"] == 1
    Template.objects.filter(pk=template.pk).update(content="Your order {{order}} has shipped.", sync_state="dirty")
    approved_here(template)
    assert push_ok("templates").counts()["updated"] == 1
    wipe_local()
    pull_ok("senders")
    pull_ok("templates")
    pulled = Template.objects.get()
    assert (pulled.channel, pulled.content, pulled.template_type, pulled.sender.name) == (
        "sms", "Your order {{order}} has shipped.", "T", "BICSIN")
    assert pulled.approval_state == "draft"  # four eyes happen here, whatever BICS says


def test_whatsapp_and_viber_templates_push_pull(bics_sandbox, make_template):
    approved_here(make_template(channel=Channel.WHATSAPP, name="wa_update",
                                content="Hello {{name}}, your parcel ships.", channel_payload=WA_PAYLOAD))
    approved_here(make_template(channel=Channel.VIBER, name="viber_bill",
                                content="Dear {{name}}, your bill is ready.", channel_payload=VIBER_PAYLOAD))
    assert push_ok("templates").counts()["created"] == 2
    wipe_local()
    pull_ok("templates")
    wa = Template.objects.get(channel="whatsapp")
    viber = Template.objects.get(channel="viber")
    assert (wa.name, wa.content, wa.channel_payload["category"], wa.channel_payload["is_conversation"]) == (
        "wa_update", "Hello {{name}}, your parcel ships.", "utility", True)
    assert (viber.name, viber.content, viber.channel_payload["category"]) == (
        "viber_bill", "Dear {{name}}, your bill is ready.", "transactional")


def test_unsubscribers_of_every_channel_push_pull(bics_sandbox):
    Unsubscriber.objects.create(channel="sms", number="+32470000001", type="sender", value="BICS")
    Unsubscriber.objects.create(channel="whatsapp", number="+33612345678", type="all")
    Unsubscriber.objects.create(channel="viber", number="+380501234567", type="category", value="promo")
    assert push_ok("unsubscribers").counts()["created"] == 3
    wipe_local()
    pull_ok("unsubscribers")
    assert set(Unsubscriber.objects.values_list("channel", "number", "type", "value")) == {
        ("sms", "+32470000001", "sender", "BICS"), ("whatsapp", "+33612345678", "all", ""),
        ("viber", "+380501234567", "category", "promo")}


def test_blocked_templates_push_pull(bics_sandbox):
    BlockedTemplate.objects.create(template_id="986458", status="1")
    assert push_ok("blocked_templates").counts()["created"] == 1
    wipe_local()
    pull_ok("blocked_templates")
    assert list(BlockedTemplate.objects.values_list("template_id", "status")) == [("986458", "1")]


def test_bics_refusal_keeps_local_data(bics_sandbox, make_template):
    template = approved_here(make_template(content="Your order {{order}} is confirmed."))
    push_ok("senders")
    sb.refuse(bics_sandbox, "sms.templates.create")
    result = sync.push("templates")
    assert [r for r, _ in result.failed] == [template]
    template.refresh_from_db()
    assert template.content == "Your order {{order}} is confirmed."
    assert (template.bics_id, template.sync_state) == (None, SyncState.FAILED)
    assert "422" in template.sync_error


def test_bics_refusal_of_an_update_keeps_the_local_edit(bics_sandbox, sender):
    push_ok("senders")
    Sender.objects.filter(pk=sender.pk).update(service="MKT", sync_state=SyncState.DIRTY)
    sb.refuse(bics_sandbox, "sms.senders.update")
    assert not sync.push("senders").ok
    sender.refresh_from_db()
    assert (sender.service, sender.sync_state) == ("MKT", SyncState.FAILED)
    assert sender.bics_id


def test_pull_walks_every_page(bics_sandbox):
    for n in range(40):  # the sandbox pages by 15
        Unsubscriber.objects.create(channel="sms", number=f"+3247000{n:04d}", type="all")
    push_ok("unsubscribers")
    wipe_local()
    assert pull_ok("unsubscribers").counts()["created"] == 40


def test_pull_conflict_on_dirty_record(bics_sandbox, sender):
    push_ok("senders")
    Sender.objects.filter(pk=sender.pk).update(country_notes="edited", sync_state=SyncState.DIRTY)
    result = sync.pull("senders")
    assert result.counts()["conflicts"] == 1
    assert Sender.objects.get().sync_state == SyncState.DIRTY


def test_pricing_and_balance_pull(bics_sandbox):
    from messaging.catalogue.models import AccountBalance, Price
    from messaging.catalogue.services.pricing import balance_pull, pricing_pull

    seen = pricing_pull()
    assert sum(seen.values()) == Price.objects.count() > 0
    assert balance_pull() is not None and AccountBalance.objects.count() == 1


MESSAGING = ("senders", "templates", "unsubscribers", "blocked_templates")


def sync_all(direction, capsys):
    """`bics_sync all`; other apps' records may fail by their own design, ours must not."""
    from django.core.management.base import CommandError

    try:
        call_command("bics_sync", "all", f"--{direction}")
    except CommandError:
        pass
    out = capsys.readouterr().out
    for resource in MESSAGING:
        line = next(line for line in out.splitlines() if line.startswith(f"{direction} {resource}:"))
        assert "failed=0" in line and "conflicts=0" in line, line


def test_acceptance_seed_push_all_then_pull_all_into_an_empty_database(bics_sandbox, capsys):
    call_command("seed_demo")
    sb.tick(bics_sandbox, 3600)
    sync_all("push", capsys)
    # only the approved words go to BICS; drafts, submitted and rejected ones stay here
    pushed = set(Template.objects.filter(bics_id__isnull=False).values_list("name", flat=True))
    assert pushed == set(Template.objects.filter(approval_state="approved").values_list("name", flat=True))
    assert len(pushed) == 4
    senders, _, unsubscribers, blocked = counts()
    wipe_local()
    assert counts() == (0, 0, 0, 0)
    sync_all("pull", capsys)
    assert counts() == (senders, len(pushed), unsubscribers, blocked)
    assert set(Template.objects.values_list("name", flat=True)) == pushed
    assert not Template.objects.exclude(sync_state=SyncState.SYNCED).exists()


def test_periodic_status_pull_makes_an_approved_template_usable(bics_sandbox, make_template, approver):
    from messaging.catalogue.services.templates import template_approve, template_submit, template_usability
    from messaging.catalogue.tasks import pull_statuses

    template = make_template(template_type="T")
    push_ok("senders")
    template_submit(template=template, user=template.author)
    template_approve(template=template, user=approver)
    push_ok("templates")  # what the approval queued
    template.refresh_from_db()
    assert template_usability(template) == ["Not approved by the provider: pending."]
    sb.tick(bics_sandbox, 3600)
    counts = pull_statuses.delay().get()
    assert counts["templates"]["updated"] == 1 and counts["senders"]["updated"] == 1
    template.refresh_from_db()
    assert (template.provider_state, template.approval_state) == ("approved", "approved")
    assert template_usability(template) == []


def test_dropped_create_answer_is_reconciled_not_duplicated(bics_sandbox, sender):
    sb.drop_answer(bics_sandbox, "sms.senders.create")
    result = push_ok("senders")
    assert result.counts()["created"] == 1
    push_ok("senders")
    wipe_local()
    assert pull_ok("senders").counts()["created"] == 1  # one sender at BICS, not two
