"""Admin: forms name the failing rule, thin actions report results, lists import/export/clean."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from core.models import SyncRun
from messaging.catalogue.models import AccountBalance, Price, Sender, Template, Unsubscriber
from tests import sandbox_helpers as sb

pytestmark = pytest.mark.django_db


def msgs(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_template_form_names_the_failing_rule(client, marketing, sender):
    client.force_login(marketing)
    response = client.post(reverse("admin:messaging_template_add"), {
        "channel": "sms", "name": "bad", "content": "Hi  {{name}}", "sender": sender.pk,
        "template_type": "SI", "message_type": "A", "channel_payload": "{}",
        "approvals-TOTAL_FORMS": 0, "approvals-INITIAL_FORMS": 0,
    })
    assert response.status_code == 200
    text = response.content.decode()
    assert "[double-space]" in text and "[min-fixed-chars]" in text
    assert not Template.objects.exists()


def test_template_form_saves_with_author_and_shows_warnings(client, marketing, sender):
    client.force_login(marketing)
    response = client.post(reverse("admin:messaging_template_add"), {
        "channel": "sms", "name": "promo", "content": "Big sale this weekend in all stores.", "sender": sender.pk,
        "template_type": "P", "message_type": "A", "channel_payload": "{}",
        "approvals-TOTAL_FORMS": 0, "approvals-INITIAL_FORMS": 0,
    }, follow=True)
    template = Template.objects.get()
    assert template.author == marketing and template.approval_state == "draft"
    assert any("promo-numeric-sender" in m for m in msgs(response))


def test_change_page_shows_preview_script_usability_and_diff(client, marketing, make_template):
    template = make_template()
    client.force_login(marketing)
    text = client.get(reverse("admin:messaging_template_change", args=[template.pk])).content.decode()
    assert "messaging/template_preview.js" in text
    assert "Not approved here" in text
    assert "No documented edit" in text or "WhatsApp has no documented edit" in text


def test_submit_approve_reject_actions(client, marketing, approver, make_template):
    a, b = make_template(), make_template()
    url = reverse("admin:messaging_template_changelist")
    client.force_login(marketing)
    client.post(url, {"action": "submit_for_approval", "_selected_action": [a.pk, b.pk]})
    assert set(Template.objects.values_list("approval_state", flat=True)) == {"submitted"}
    # the author's colleague in Marketing has no approve action at all
    page = client.get(url).content.decode()
    assert "Approve (four eyes)" not in page
    client.force_login(approver)
    client.post(url, {"action": "approve", "_selected_action": [a.pk]})
    confirm = client.post(url, {"action": "reject", "_selected_action": [b.pk]})
    assert confirm.status_code == 200 and "reason" in confirm.content.decode()
    client.post(url, {"action": "reject", "_selected_action": [b.pk], "apply": "1", "reason": "Off-brand"})
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.approval_state, b.approval_state, b.rejection_reason) == ("approved", "rejected", "Off-brand")


def test_author_approving_in_admin_gets_the_four_eyes_message(client, make_user, make_template):
    approver_author = make_user("Template approvers")
    approver_author.groups.add(*make_user("Marketing").groups.all())
    template = make_template(author=approver_author, approval_state="submitted")
    client.force_login(approver_author)
    response = client.post(reverse("admin:messaging_template_changelist"),
                           {"action": "approve", "_selected_action": [template.pk]}, follow=True)
    assert any("Four eyes" in m for m in msgs(response))
    template.refresh_from_db()
    assert template.approval_state == "submitted"


def test_push_action_reports_counts_and_records_a_run(client, admin_user, bics_sandbox, sender):
    client.force_login(admin_user)
    response = client.post(reverse("admin:messaging_sender_changelist"),
                           {"action": "push_to_bics", "_selected_action": [sender.pk]}, follow=True)
    assert any("Push senders: 1 created" in m for m in msgs(response))
    run = SyncRun.objects.get()
    assert (run.state, run.counts["created"], run.requested_by) == ("done", 1, admin_user)


def test_push_action_shows_failures_with_reason(client, admin_user, bics_sandbox, sender):
    sb.refuse(bics_sandbox, "sms.senders.create", 422)
    client.force_login(admin_user)
    response = client.post(reverse("admin:messaging_sender_changelist"),
                           {"action": "push_to_bics", "_selected_action": [sender.pk]}, follow=True)
    assert any("1 failed" in m and "sandbox fault" in m for m in msgs(response))
    sender.refresh_from_db()
    assert sender.sync_state == "failed" and "422" in sender.sync_error


def test_pull_action(client, admin_user, bics_sandbox, sender):
    sb.created(bics_sandbox, "sms.senders.create", {"name": "NEWONE", "country_code": "DE", "service": "ENT"})
    client.force_login(admin_user)
    response = client.post(reverse("admin:messaging_sender_changelist"),
                           {"action": "pull_from_bics", "_selected_action": [sender.pk]}, follow=True)
    assert any("Pull senders: 1 created" in m for m in msgs(response))


def test_editing_a_synced_sender_marks_it_dirty(client, admin_user, sender):
    Sender.objects.filter(pk=sender.pk).update(bics_id="1", sync_state="synced")
    client.force_login(admin_user)
    client.post(reverse("admin:messaging_sender_change", args=[sender.pk]),
                {"country_code": "IN", "service": "MKT", "country_notes": ""})
    sender.refresh_from_db()
    assert (sender.service, sender.sync_state, sender.name) == ("MKT", "dirty", "BICSIN")


def test_delete_refused_by_bics_keeps_the_record(client, admin_user, bics_sandbox, sender):
    Sender.objects.filter(pk=sender.pk).update(bics_id="1", sync_state="synced")
    sb.refuse(bics_sandbox, "sms.senders.delete", 422)
    client.force_login(admin_user)
    response = client.post(reverse("admin:messaging_sender_delete", args=[sender.pk]), {"post": "yes"}, follow=True)
    assert not any("deleted successfully" in m for m in msgs(response))
    assert any("BICS refused the delete" in m for m in msgs(response))
    sender.refresh_from_db()
    assert sender.sync_state == "failed" and "422" in sender.sync_error


# --------------------------------------------------------------------------- lists
def test_unsubscriber_csv_import(client, marketing):
    client.force_login(marketing)
    csv = b"number,type,value\n+32470000001,all,\n0032470000002,tag,vip\nnot a number,all,\n+32470000001,all,\n"
    response = client.post(reverse("admin:messaging_unsubscriber_import"),
                           {"file": SimpleUploadedFile("optouts.csv", csv), "channel": "whatsapp"}, follow=True)
    assert sorted(Unsubscriber.objects.values_list("number", flat=True)) == ["+32470000001", "+32470000002"]
    assert set(Unsubscriber.objects.values_list("channel", "iso")) == {("whatsapp", "BE")}
    assert any("2 created, 1 already present, 1 rejected" in m for m in msgs(response))


def test_unsubscriber_xlsx_import_and_wrong_type_for_channel(client, marketing):
    book = openpyxl.Workbook()
    book.active.append(["channel", "receiver", "type", "value"])
    book.active.append(["viber", "380501234567", "category", "promo"])
    book.active.append(["viber", "380501234568", "product", "MKT"])  # product is not a Viber type
    out = io.BytesIO()
    book.save(out)
    client.force_login(marketing)
    response = client.post(reverse("admin:messaging_unsubscriber_import"),
                           {"file": SimpleUploadedFile("o.xlsx", out.getvalue())}, follow=True)
    assert list(Unsubscriber.objects.values_list("number", flat=True)) == ["+380501234567"]
    assert any("row 3" in m and "type" in m for m in msgs(response))


def test_export_csv_and_xlsx(client, marketing, admin_user):
    Unsubscriber.objects.create(channel="sms", number="+32470000001", type="all")
    client.force_login(marketing)  # no core.view_full_numbers: the export is masked
    masked = client.get(reverse("admin:messaging_unsubscriber_export", args=["csv"]))
    assert b"+32470000001" not in masked.content and "+32••••••001".encode() in masked.content
    client.force_login(admin_user)
    csv = client.get(reverse("admin:messaging_unsubscriber_export", args=["csv"]))
    assert csv["Content-Type"] == "text/csv" and b"+32470000001" in csv.content
    xlsx = client.get(reverse("admin:messaging_unsubscriber_export", args=["xlsx"]))
    rows = list(openpyxl.load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert rows[1][:3] == ("sms", "+32470000001", "all")


def test_clean_is_for_superusers_only(client, marketing):
    client.force_login(marketing)
    assert client.get(reverse("admin:messaging_unsubscriber_clean")).status_code == 403


def test_clean_needs_an_export_then_the_typed_phrase(client, admin_user, bics_sandbox):
    Unsubscriber.objects.create(channel="sms", number="+32470000001", type="all")
    Unsubscriber.objects.create(channel="viber", number="+380501234567", type="all")
    url = reverse("admin:messaging_unsubscriber_clean")
    client.force_login(admin_user)
    page = client.get(url).content.decode()
    assert "First download an export" in page
    client.post(url, {"kind": "sms", "confirmation": "CLEAN SMS UNSUBSCRIBERS"})
    assert Unsubscriber.objects.count() == 2  # no export yet: nothing happens
    client.get(reverse("admin:messaging_unsubscriber_export", args=["csv"]))
    response = client.post(url, {"kind": "sms", "confirmation": "clean sms"})
    assert "Type CLEAN SMS UNSUBSCRIBERS exactly" in response.content.decode()
    client.post(url, {"kind": "sms", "confirmation": "CLEAN SMS UNSUBSCRIBERS"})
    assert list(Unsubscriber.objects.values_list("channel", flat=True)) == ["viber"]
    assert sb.request_counts(bics_sandbox)["sms.unsubscribers.clean"] == 1


def test_clean_refused_by_bics_deletes_nothing(client, admin_user, bics_sandbox):
    Unsubscriber.objects.create(channel="sms", number="+32470000001", type="all")
    sb.refuse(bics_sandbox, "sms.unsubscribers.clean", 422)
    client.force_login(admin_user)
    client.get(reverse("admin:messaging_unsubscriber_export", args=["csv"]))
    client.post(reverse("admin:messaging_unsubscriber_clean"), {"kind": "sms", "confirmation": "CLEAN SMS UNSUBSCRIBERS"})
    assert Unsubscriber.objects.count() == 1


def test_blocked_template_import_and_clean(client, admin_user, bics_sandbox):
    client.force_login(admin_user)
    client.post(reverse("admin:messaging_blockedtemplate_import"),
                {"file": SimpleUploadedFile("b.csv", b"template_id,status\n986458,1\n986459,0\n,1\n")})
    from messaging.catalogue.models import BlockedTemplate

    assert BlockedTemplate.objects.count() == 2
    client.get(reverse("admin:messaging_blockedtemplate_export", args=["xlsx"]))
    client.post(reverse("admin:messaging_blockedtemplate_clean"), {"confirmation": "CLEAN BLOCKED TEMPLATES"})
    assert BlockedTemplate.objects.count() == 0


# --------------------------------------------------------------------------- preview, pricing, balance
def test_preview_json_counts_parts_names_rules_and_prices(client, marketing, sender):
    Price.objects.create(channel="sms", iso="IN", service="ENT", price=Decimal("0.0200"), currency="EUR",
                         fetched_at=timezone.now())
    client.force_login(marketing)
    data = client.post(reverse("messaging:template-preview"), {
        "channel": "sms", "content": "Prix {{x}} ✓ " + "a" * 50, "template_type": "SI", "message_type": "N",
        "sender": sender.pk}).json()
    assert data["analysis"]["charset"] == "Unicode" and data["analysis"]["parts"] == 1
    assert data["analysis"]["unicode_chars"] == ["✓"]
    assert "replaced-with-question-mark" in {r["code"] for r in data["rules"]}
    assert (data["price_per_recipient"], data["currency"]) == ("0.020000", "EUR")


def test_preview_needs_staff(client):
    assert client.post(reverse("messaging:template-preview"), {"content": "x"}).status_code == 302


def test_pricing_page_filters(client, marketing):
    now = timezone.now()
    Price.objects.create(channel="sms", iso="BE", country="Belgium", service="ENT", price=Decimal("0.05"), fetched_at=now)
    Price.objects.create(channel="sms", iso="IN", country="India", service="ENT", price=Decimal("0.01"), fetched_at=now)
    client.force_login(marketing)
    text = client.get(reverse("messaging:pricing"), {"iso": "be"}).content.decode()
    assert "Belgium" in text and "India" not in text


def test_pricing_pull_and_balance_on_admin_index(client, admin_user, bics_sandbox):
    sb.configure(bics_sandbox, balance=123.45)  # before the account's first request
    row = sb.listed(bics_sandbox, "sms.pricing.list", **{"filter[iso]": "US", "filter[service]": "ENT"})[0]
    client.force_login(admin_user)
    assert "Pull pricing and balance from BICS" in client.get(reverse("admin:messaging_price_changelist")).content.decode()
    response = client.post(reverse("admin:messaging_price_pull", args=["pricing"]), follow=True)  # no selection
    assert "sync run #" in response.content.decode()
    assert Price.objects.get(channel="sms", iso="US", service="ENT").price == Decimal(row["price"])
    assert AccountBalance.objects.get().balance == Decimal("123.45")
    assert response.status_code == 200
    assert "123.45" in client.get("/admin/").content.decode()


def test_push_action_without_eager_celery_says_queued(client, admin_user, sender, monkeypatch):
    from core import sync_runs as tasks

    monkeypatch.setattr(tasks.run_sync, "delay", lambda *a, **k: None)
    client.force_login(admin_user)
    response = client.post(reverse("admin:messaging_sender_changelist"),
                           {"action": "push_to_bics", "_selected_action": [sender.pk]}, follow=True)
    run = SyncRun.objects.get()
    assert run.state == "queued"
    assert any("queued" in m and f"sync run #{run.pk}" in m for m in msgs(response))


def test_pull_button_of_a_synced_list_needs_no_selection_and_checks_permission(
        client, admin_user, django_user_model, bics_sandbox):
    from django.contrib.auth.models import Permission

    client.force_login(admin_user)
    url = reverse("admin:messaging_sender_pull", args=["bics"])
    assert url in client.get(reverse("admin:messaging_sender_changelist")).content.decode()
    assert client.get(url).status_code == 405  # a pull changes data: POST only
    response = client.post(url, follow=True)
    run = SyncRun.objects.get()
    assert (run.resource, run.direction, run.requested_by) == ("senders", "pull", admin_user)
    assert any(f"sync run #{run.pk}" in m for m in msgs(response))
    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_sender"))
    client.force_login(viewer)
    assert url not in client.get(reverse("admin:messaging_sender_changelist")).content.decode()
    assert client.post(url).status_code == 403
    assert SyncRun.objects.count() == 1


def test_sync_run_records_failures_for_the_admin(bics_sandbox, sender):
    from core.sync_runs import sync_run_start

    sb.refuse(bics_sandbox, "sms.senders.create", 422)
    run = sync_run_start(resource="senders", direction="push")
    assert run.state == "failed" and run.counts["failed"] == 1
    assert "422" in run.failures[0][1]


def test_editing_message_type_of_a_pushed_template_does_not_mark_it_dirty(make_template, marketing):
    from messaging.catalogue.services.templates import template_save

    template = make_template(bics_id="5", sync_state="synced")
    template.message_type = "U"
    template_save(template=template, user=marketing, changed_fields=["message_type"])
    assert Template.objects.get().sync_state == "synced"
    template.content = "Your order {{order}} has shipped."
    template_save(template=template, user=marketing, changed_fields=["content"])
    assert Template.objects.get().sync_state == "dirty"


def test_viber_name_is_read_only_once_pushed(client, admin_user, make_template):
    template = make_template(channel="viber", name="bill", content="Dear {{name}}, your bill is ready.",
                             channel_payload={"category": "transactional"}, bics_id="3")
    client.force_login(admin_user)
    page = client.get(reverse("admin:messaging_template_change", args=[template.pk])).content.decode()
    assert 'name="name"' not in page


def test_decisions_from_the_change_page(client, marketing, approver, make_template):
    template = make_template()
    change = reverse("admin:messaging_template_change", args=[template.pk])
    client.force_login(marketing)
    assert "Submit for approval" in client.get(change).content.decode()
    client.post(reverse("admin:messaging_template_decide", args=[template.pk, "submit"]))
    template.refresh_from_db()
    assert template.approval_state == "submitted"
    client.force_login(approver)
    page = client.get(change).content.decode()
    assert "Approve v1" in page and "Reject" in page
    form = client.post(reverse("admin:messaging_template_decide", args=[template.pk, "reject"]))
    assert "reason" in form.content.decode()
    client.post(reverse("admin:messaging_template_decide", args=[template.pk, "reject"]), {"reason": ""})
    template.refresh_from_db()
    assert template.approval_state == "submitted"
    client.post(reverse("admin:messaging_template_decide", args=[template.pk, "reject"]), {"reason": "Typo"})
    template.refresh_from_db()
    assert (template.approval_state, template.rejection_reason) == ("rejected", "Typo")


def test_author_sees_why_they_cannot_decide(client, make_user, make_template):
    both = make_user("Template approvers")
    template = make_template(author=both, approval_state="submitted")
    client.force_login(both)
    page = client.get(reverse("admin:messaging_template_change", args=[template.pk])).content.decode()
    assert "Four eyes" in page and "Approve v1" not in page
    client.post(reverse("admin:messaging_template_decide", args=[template.pk, "approve"]))
    template.refresh_from_db()
    assert template.approval_state == "submitted"


def test_exporting_a_selection_is_not_a_backup_for_clean(client, admin_user, bics_sandbox):
    u = Unsubscriber.objects.create(channel="sms", number="+32470000001", type="all")
    client.force_login(admin_user)
    client.post(reverse("admin:messaging_unsubscriber_changelist"),
                {"action": "export_csv", "_selected_action": [u.pk]})
    client.post(reverse("admin:messaging_unsubscriber_clean"), {"kind": "sms", "confirmation": "CLEAN SMS UNSUBSCRIBERS"})
    assert Unsubscriber.objects.count() == 1


def test_a_second_push_joins_the_one_in_flight(admin_user, sender, monkeypatch):
    from core import sync_runs as tasks
    from core.sync_runs import sync_run_start

    monkeypatch.setattr(tasks.run_sync, "delay", lambda *a, **k: None)
    first = sync_run_start(resource="senders", direction="push", user=admin_user)
    second = sync_run_start(resource="senders", direction="push", user=admin_user)
    assert first.pk == second.pk and SyncRun.objects.count() == 1


def test_approval_page_shows_the_rendered_message_and_the_changes_first(client, admin_user, make_template):
    from messaging.catalogue.models import TemplateApproval

    template = make_template(content="Hello {{first_name}}, your order {{order}} ships today.", version=2)
    TemplateApproval.objects.create(template=template, version=1, decision="approved", decided_by=admin_user,
                                    content="Hello {{first_name}}, your order ships today.")
    client.force_login(admin_user)
    body = client.get(reverse("admin:messaging_template_change", args=[template.pk])).content.decode()
    review = body.index('id="review-title"')
    assert review < body.index('name="content"') and review < body.index("Channel options (JSON")
    assert "Hello Anna, your order [order] ships today." in body
    assert "<strong>43</strong> characters" in body and "<strong>1</strong> part " in body
    assert 'diff-add">+Hello {{first_name}}, your order {{order}} ships today.</span>' in body
    assert 'diff-del">-Hello {{first_name}}, your order ships today.</span>' in body
    for heading in ("Channel options (JSON: WhatsApp and Viber)</h2>", ">BICS</h2>"):  # folded away
        assert "<details" in body[:body.index(heading)][-300:], heading
