"""The DLR poll applies what it pulls as sets, through the webhook drain's apply function
(``dlr_sets.dlr_apply_set``): each report once, statuses never backwards."""

from __future__ import annotations

import pytest

from messaging.campaigns.models import DeliveryReport, Message
from messaging.campaigns.services import dlr as dlr_module
from messaging.campaigns.services.campaigns import one_off_send
from messaging.campaigns.services.dlr import dlr_poll
from messaging.campaigns.services.dlr_sets import dlr_apply_set

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]
NUMBERS = ["+32470111301", "+32470111302", "+32470111303"]


def test_the_poll_applies_each_pulled_page_as_one_set(sandbox, sender, monkeypatch):
    sandbox.configure(dlr_delay=0.2, dlr_ratios={"delivered": 1.0})
    sent = [one_off_send(channel="sms", number=n, text="Your parcel ships today.", sender=sender) for n in NUMBERS]
    assert {m.status for m in sent} == {"submitted"}
    sandbox.tick(60)
    calls: list[dict] = []
    monkeypatch.setattr(dlr_module, "dlr_apply_set", lambda **kw: calls.append(kw) or dlr_apply_set(**kw))
    counts = dlr_poll()
    assert counts["reports"] == 3 and counts["applied"] == 3
    assert [c["source"] for c in calls] == ["pull"] * len(calls) and sum(len(c["items"]) for c in calls) == 3
    assert set(Message.objects.filter(pk__in=[m.pk for m in sent]).values_list("status", flat=True)) == {"delivered"}
    for message in sent:
        assert list(DeliveryReport.objects.filter(message=message).values_list("applied", "source")) == [(True, "pull")]


def test_a_report_pulled_again_is_stored_and_not_applied(sandbox, sender):
    sandbox.configure(dlr_delay=0.2, dlr_ratios={"failed": 1.0})
    message = one_off_send(channel="sms", number=NUMBERS[0], text="Your parcel ships today.", sender=sender)
    sandbox.tick(60)
    assert dlr_poll()["applied"] == 1
    message.refresh_from_db()
    final = message.status
    assert final in ("failed", "expired", "rejected")
    report = DeliveryReport.objects.get(message=message)
    late = {**report.raw, "status": "DELIVRD", "code": ""}  # a later, contradicting copy
    assert dlr_apply_set(channel="sms", items=[report.raw, late], source="pull") == [(message.pk, False)] * 2
    message.refresh_from_db()
    assert message.status == final  # final: never moves
    assert DeliveryReport.objects.filter(message=message, applied=True).count() == 1
