"""Retention purge, erasure on request, and the operational alerts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from core.ops import alerts, retention
from messaging.campaigns.models import DeliveryReport, Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(make_campaign, audience):
    """A campaign with 3 messages and a DLR each, all created 400 days ago."""
    audience(3)
    campaign = make_campaign()
    from contacts.models import Contact

    old = timezone.now() - timedelta(days=400)
    for i, contact in enumerate(Contact.objects.order_by("pk")):
        m = Message.objects.create(campaign=campaign, contact=contact, number=contact.phone, custom_id=f"c{i}",
                                   text=f"Hello {contact.first_name}", status="delivered")
        DeliveryReport.objects.create(message=m, mobile=contact.phone[1:], status="DELIVRD", raw={"mobile": "x"})
    Message.objects.update(created_at=old)
    DeliveryReport.objects.update(received_at=old)
    return campaign


def test_purge_masks_old_messages_and_blanks_dlr_payloads_keeping_counts(sent):
    before = Message.objects.filter(campaign=sent, status="delivered").count()
    result = retention.retention_purge()
    assert result.counts["messages"] == 3 and result.counts["delivery_reports"] == 3
    assert all(n.endswith("…") and len(n) == 5 for n in Message.objects.values_list("number", flat=True))
    assert set(Message.objects.values_list("text", flat=True)) == {""}
    assert all(r == {} for r in DeliveryReport.objects.values_list("raw", flat=True))
    assert Message.objects.filter(campaign=sent, status="delivered").count() == before
    assert retention.retention_purge().counts == {}  # idempotent


def test_purge_leaves_recent_data(sent, settings):
    settings.RETENTION_MESSAGE_DAYS = 500
    settings.RETENTION_DLR_PAYLOAD_DAYS = 500
    settings.RETENTION_DELETED_CONTACT_DAYS = 500
    assert retention.retention_purge().counts == {}
    assert not Message.objects.filter(number__endswith="…").exists()


def test_erasure_removes_the_contacts_data_everywhere_and_keeps_counts(sent):
    from contacts.models import Contact, ContactImport, ContactImportRejection
    from verify.models import OtpRequest

    contact = Contact.objects.order_by("pk").first()
    phone = contact.phone
    imp = ContactImport.objects.create(file="x.csv") if "file" in {f.name for f in ContactImport._meta.fields} \
        else ContactImport.objects.create()
    ContactImportRejection.objects.create(contact_import=imp, line=2, reason="dup", raw=f"{phone},Ann")
    OtpRequest.objects.create(number=phone)
    total = Message.objects.filter(campaign=sent).count()
    result = retention.contact_erase(contact=contact)
    assert result.counts["messages"] == 1
    assert not Contact.objects.filter(phone=phone).exists()
    assert Message.objects.filter(campaign=sent).count() == total
    assert not Message.objects.filter(number=phone).exists()
    assert not DeliveryReport.objects.filter(mobile__in=[phone, phone[1:]]).exists()
    assert not ContactImportRejection.objects.filter(raw__contains=phone[1:]).exists()
    assert not OtpRequest.objects.filter(number=phone).exists()
    others = Contact.objects.count()
    assert others == 2 and Message.objects.filter(number__startswith="+3248").count() == 2


def test_erase_action_is_registered_on_the_contact_admin_for_deleters(admin_client):
    from contacts.models import Contact

    contact = Contact.objects.create(phone="+32470123456", first_name="Ann")
    response = admin_client.post("/admin/contacts/contact/", {"action": "erase_personal_data",
                                                              "_selected_action": [contact.pk]}, follow=True)
    assert response.status_code == 200
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert "erased" in response.content.decode()


def test_alerts_balance_dlr_lag_sync_failures_stored_and_mailed_once(settings, sent):
    from core.models import SyncRun
    from messaging.catalogue.models import AccountBalance

    settings.ALERT_EMAILS = ["ops@example.com"]
    settings.BALANCE_WARNING_THRESHOLD = 50
    settings.ALERT_DLR_LAG_MIN_MESSAGES = 2
    AccountBalance.objects.create(balance=Decimal("12.5"), currency="EUR", fetched_at=timezone.now())
    Message.objects.update(status="submitted", submitted_at=timezone.now() - timedelta(hours=3))
    for _ in range(3):
        SyncRun.objects.create(resource="templates", direction="pull", state="failed")
    keys = {a.key for a in alerts.alerts_check()}
    assert keys >= {"balance", "dlr_lag", "sync_failures"}
    assert {a["key"] for a in alerts.active_alerts()} == keys
    assert len(mail.outbox) == 1 and "12.5" in mail.outbox[0].body and "templates (pull)" in mail.outbox[0].body
    alerts.alerts_check()
    assert len(mail.outbox) == 1  # not mailed again while it lasts
    AccountBalance.objects.create(balance=Decimal("500"), currency="EUR", fetched_at=timezone.now())
    assert "balance" not in {a.key for a in alerts.alerts_check()}


def test_alert_token_close_to_expiry(settings):
    import base64
    import json
    import time

    payload = base64.urlsafe_b64encode(json.dumps({"exp": int(time.time()) + 3600}).encode()).rstrip(b"=").decode()
    settings.BICS_API_TOKEN = f"eyJhbGciOiJSUzI1NiJ9.{payload}.c2lnbmF0dXJl"
    alert = alerts.check_token_expiry()
    assert alert is not None and "expires in 0 d" in alert.message
    assert settings.BICS_API_TOKEN not in alert.message


def test_alert_exhausted_get_budget(settings):
    from core.bics import get_client

    settings.BICS_GET_BUDGET_PER_MINUTE = 5
    settings.BICS_API_TOKEN = "budget-test-token-123"
    bucket = get_client().rate_limiter
    for _ in range(5):
        bucket.try_acquire()
    alert = alerts.check_get_budget()
    assert alert is not None and "5 of 5" in alert.message


def test_purge_blanks_old_webhook_payloads_and_erasure_finds_the_number_in_them():
    from contacts.models import Contact
    from messaging.webhooks.models import WebhookEvent

    old = timezone.now() - timedelta(days=40)
    WebhookEvent.objects.create(received_at=old, event_type="sms:message:status", dedupe_key="a",
                                payload={"mobile": "32470000009"}, raw={"payload": {"mobile": "32470000009"}})
    recent = WebhookEvent.objects.create(received_at=timezone.now(), event_type="sms:message:status",
                                         dedupe_key="b", payload={"mobile": "32470000008"}, raw={})
    assert retention.retention_purge().counts.get("webhook_events") == 1
    assert WebhookEvent.objects.get(dedupe_key="a").payload == {}
    contact = Contact.objects.create(phone="+32470000008", first_name="Eve")
    retention.contact_erase(contact=contact)
    recent.refresh_from_db()
    assert "32470000008" not in str(recent.payload)


def test_erasure_blanks_inbound_messages_of_the_contact():
    from contacts.models import Contact
    from messaging.webhooks.models import InboundMessage

    contact = Contact.objects.create(phone="+32470000007", first_name="Zoe")
    InboundMessage.objects.create(channel="sms", from_number="+32470000007", text="STOP please, Zoe",
                                  received_at=timezone.now())
    result = retention.contact_erase(contact=contact)
    assert result.counts["inbound_messages"] == 1
    assert not InboundMessage.objects.filter(text__contains="Zoe").exists()
    assert not InboundMessage.objects.filter(from_number="+32470000007").exists()


def test_smart_link_visitor_numbers_are_erased_and_purged():
    from contacts.models import Contact
    from messaging.campaigns.models import SmartLinkVisit

    contact = Contact.objects.create(phone="+32470000008")
    SmartLinkVisit.objects.create(bics_id="v-1", link_id="L", mobile="32470000008", created_at=timezone.now())
    old = SmartLinkVisit.objects.create(bics_id="v-2", link_id="L", mobile="32470000009",
                                        created_at=timezone.now() - timedelta(days=400))
    assert retention.contact_erase(contact=contact).counts["smart_link_visits"] == 1
    assert not SmartLinkVisit.objects.filter(mobile="32470000008").exists()
    retention.retention_purge()
    old.refresh_from_db()
    assert old.mobile != "32470000009" and old.mobile.startswith("3247")
    assert SmartLinkVisit.objects.count() == 2  # counts kept


def test_webhook_purge_finds_the_last_old_event_by_pk_and_blanks_in_ranges():
    """No index on received_at: the boundary is searched by pk (gaps included), old events are
    blanked in pk ranges, recent ones keep their payload, and a second purge finds nothing."""
    from messaging.webhooks.models import WebhookEvent

    now = timezone.now()
    for i in range(40):
        WebhookEvent.objects.create(received_at=now - timedelta(days=40 if i < 23 else 1), event_type="sms:dlr",
                                    dedupe_key=f"k{i}", payload={"mobile": "32470000001"}, raw={"n": i})
    pks = list(WebhookEvent.objects.order_by("pk").values_list("pk", flat=True))
    WebhookEvent.objects.filter(pk__in=[pks[5], pks[21], pks[22], pks[30]]).delete()  # gaps at the boundary
    before = now - timedelta(days=30)
    assert retention._last_pk_before(WebhookEvent, "received_at", before) == pks[20]
    assert retention._last_pk_before(WebhookEvent, "received_at", now - timedelta(days=50)) is None
    result = retention.PurgeResult()
    retention._purge_webhook_events(before, result, chunk=4)
    assert result.counts == {"webhook_events": 20}
    blanked = set(WebhookEvent.objects.filter(payload={}, raw={}).values_list("pk", flat=True))
    assert blanked == set(pks[:21]) - {pks[5]}
    assert WebhookEvent.objects.exclude(payload={}).count() == 16
    again = retention.PurgeResult()
    retention._purge_webhook_events(before, again, chunk=4)
    assert again.counts == {}
