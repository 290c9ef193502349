"""Bulk calls against the BICS sandbox over HTTP: audiences, exclusions, request bodies, the
launch, cost and progress, and the voice sweeper (stale claims, lost tasks). The engine's own
exactly-once cases run for this kind in tests/core/test_batches.py."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from contacts.models import Contact, Segment, Tag
from core.bics import get_client as client
from tests import sandbox_helpers as sb
from voice.models import BulkCall, BulkCallBatch, RequestState, VoicePrice, VoiceUnsubscriber
from voice.services.bulk import BulkCallError, bulk_audience, bulk_call_launch, bulk_progress
from voice.services.bulk_batches import (
    batch_body,
    batch_claim,
    batch_claim_next,
    batch_send,
    bulk_sweep,
    claim_timeout,
)

pytestmark = pytest.mark.django_db
BRIDGE = "+3225551000"
PHONES = ["+32470000001", "+32470000002", "+32470000003", "+32470000004", "+32470000005"]


@pytest.fixture
def vip():
    tag = Tag.objects.create(name="vip")
    for n, phone in enumerate(PHONES):
        contact = Contact.objects.create(phone=phone, first_name=f"Ann{n}")
        contact.tags.add(tag)
    return tag


def make_bulk(tag, **kw):
    bulk = BulkCall.objects.create(**{"name": "spring", "bridge": BRIDGE, "flow_id": "191",
                                      "mode": BulkCall.Mode.FLOW_VARIABLES,
                                      "audience_kind": BulkCall.AudienceKind.TAGS, "batch_size": 2,
                                      "variables": {"Name": "{first_name}"}, **kw})
    bulk.tags.add(tag)
    return bulk


def later():
    return timezone.now() + claim_timeout() + timedelta(seconds=1)


def bulk_body(sandbox) -> dict:
    return sb.last_body(sandbox, "voice.bulk_calls.create")


def assert_everyone_called_once(sandbox, phones=PHONES):
    counts = sb.calls_to(sandbox)
    assert {p.lstrip("+"): counts[p.lstrip("+")] for p in phones} == {p.lstrip("+"): 1 for p in phones}


def test_flow_with_variables_over_tags_sends_each_recipient_once(bics_sandbox, vip):
    bulk = bulk_call_launch(make_bulk(vip), enqueue=False)
    assert bulk.recipients_count == 5 and bulk.batches.count() == 3
    for batch in bulk.batches.all():
        assert batch_send(batch.pk) == BulkCallBatch.State.SENT
    bulk.refresh_from_db()
    assert bulk.state == BulkCall.State.SENT and bulk.total == 5 and bulk.group_id
    assert_everyone_called_once(bics_sandbox)
    body = bulk_body(bics_sandbox)
    assert body["flow_id"] == 191 and body["name"] == "spring" and body["bridge"] == "3225551000"
    assert body["payload"][0]["variables"]["Name"].startswith("Ann")
    assert set(bulk.recipients.values_list("state", flat=True)) == {RequestState.QUEUED}


def test_launch_through_celery_sends_every_batch(bics_sandbox, vip, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        bulk = bulk_call_launch(make_bulk(vip))
    bulk.refresh_from_db()
    assert bulk.state == BulkCall.State.SENT
    assert_everyone_called_once(bics_sandbox)


def test_voice_unsubscribers_are_excluded(bics_sandbox, vip):
    VoiceUnsubscriber.objects.create(number=PHONES[0], type="all")
    VoiceUnsubscriber.objects.create(number=PHONES[1], type="tag", value="vip")
    bulk = bulk_call_launch(make_bulk(vip), enqueue=False)
    assert bulk.recipients_count == 3 and bulk.excluded_count == 2
    for batch in bulk.batches.all():
        batch_send(batch.pk)
    called = sb.calls_to(bics_sandbox)
    assert called[PHONES[0][1:]] == 0 and called[PHONES[1][1:]] == 0
    assert_everyone_called_once(bics_sandbox, PHONES[2:])


def test_segment_audience(bics_sandbox, vip):
    segment = Segment.objects.create(name="VIPs")
    segment.positive_tags.add(vip)
    bulk = BulkCall.objects.create(name="seg", bridge=BRIDGE, flow_id="5", segment=segment,
                                   audience_kind=BulkCall.AudienceKind.SEGMENT)
    assert {t.to for t in bulk_audience(bulk).targets} == set(PHONES)


def test_uploaded_list_with_audio_per_recipient(bics_sandbox):
    bulk = BulkCall.objects.create(name="up", bridge=BRIDGE, mode=BulkCall.Mode.AUDIO_PER_RECIPIENT,
                                   audience_kind=BulkCall.AudienceKind.UPLOAD)
    bulk.upload.save("list.csv", ContentFile(
        "number,audio\n+32470000001,https://x.example/a.mp3\n32470000002,https://x.example/b.mp3\n"
        "+32470000001,https://x.example/dup.mp3\nnot-a-number,https://x.example/c.mp3\n"))
    audience = bulk_audience(bulk)
    assert [(t.to, t.audio_url) for t in audience.targets] == [
        ("+32470000001", "https://x.example/a.mp3"), ("+32470000002", "https://x.example/b.mp3")]
    assert audience.duplicates == 1 and audience.invalid == ["not-a-number"]
    bulk = bulk_call_launch(bulk, enqueue=False)
    batch_send(bulk.batches.get().pk)
    body = bulk_body(bics_sandbox)
    assert body["payload"] == [{"to": "32470000001", "audio": "https://x.example/a.mp3"},
                               {"to": "32470000002", "audio": "https://x.example/b.mp3"}]


def test_same_audio_mode_sends_the_audio_once(bics_sandbox, vip):
    bulk = bulk_call_launch(make_bulk(vip, mode=BulkCall.Mode.SAME_AUDIO, flow_id="",
                                      audio_url="https://x.example/same.mp3", batch_size=10), enqueue=False)
    batch_send(bulk.batches.get().pk)
    body = bulk_body(bics_sandbox)
    assert body["audio"] == "https://x.example/same.mp3" and "flow_id" not in body
    assert all(set(item) == {"to"} for item in body["payload"])


def test_a_bulk_call_launches_once(bics_sandbox, vip):
    bulk = bulk_call_launch(make_bulk(vip), enqueue=False)
    with pytest.raises(BulkCallError, match="already launched"):
        bulk_call_launch(BulkCall.objects.get(pk=bulk.pk), enqueue=False)


def test_a_batch_is_claimed_by_one_worker_only(bics_sandbox, vip):
    bulk = bulk_call_launch(make_bulk(vip), enqueue=False)
    batch = bulk.batches.first()
    assert batch_claim(batch.pk) is not None
    assert batch_claim(batch.pk) is None
    assert batch_send(batch.pk) is None
    assert sb.calls_to(bics_sandbox) == {}


def test_claim_next_walks_the_pending_batches(bics_sandbox, vip):
    bulk = bulk_call_launch(make_bulk(vip), enqueue=False)
    claimed = [batch_claim_next(bulk_call_id=bulk.pk) for _ in range(4)]
    assert [c is not None for c in claimed] == [True, True, True, False]
    assert len({c.batch_id for c in claimed[:3]}) == 3


def test_worker_dies_after_claiming_before_sending(bics_sandbox, vip, django_capture_on_commit_callbacks):
    bulk = bulk_call_launch(make_bulk(vip), enqueue=False)
    first, *others = bulk.batches.order_by("number")
    assert batch_claim(first.pk)  # ... and the worker dies here
    for batch in others:
        batch_send(batch.pk)
    assert bulk_sweep()["stale"] == 0  # too early: the claim may still be alive
    with django_capture_on_commit_callbacks(execute=True):
        result = bulk_sweep(now=later())
    assert result["stale"] == 1
    first.refresh_from_db()
    assert first.state == BulkCallBatch.State.SENT and first.attempts == 2
    assert_everyone_called_once(bics_sandbox)
    bulk.refresh_from_db()
    assert bulk.state == BulkCall.State.SENT


def test_worker_dies_after_bics_accepted_the_batch(bics_sandbox, vip, django_capture_on_commit_callbacks):
    bulk = bulk_call_launch(make_bulk(vip), enqueue=False)
    batch = bulk.batches.order_by("number").first()
    assert batch_claim(batch.pk)
    client().call("voice.bulk_calls.create", json=batch_body(batch))  # sent, then the worker dies
    with django_capture_on_commit_callbacks(execute=True):
        bulk_sweep(now=later())
    batch.refresh_from_db()
    assert batch.state == BulkCallBatch.State.SENT
    assert set(batch.recipients.values_list("state", flat=True)) == {RequestState.QUEUED}
    assert all(batch.recipients.values_list("call_id", flat=True))
    for other in bulk.batches.exclude(pk=batch.pk):
        batch_send(other.pk)
    assert_everyone_called_once(bics_sandbox)


def test_worker_dies_half_way_only_the_unknown_recipients_go_again(bics_sandbox, vip,
                                                                   django_capture_on_commit_callbacks):
    bulk = bulk_call_launch(make_bulk(vip, batch_size=5), enqueue=False)
    batch = bulk.batches.get()
    assert batch_claim(batch.pk)
    body = batch_body(batch)
    body["payload"] = body["payload"][:2]
    client().call("voice.bulk_calls.create", json=body)  # two went out, then the worker died
    with django_capture_on_commit_callbacks(execute=True):
        bulk_sweep(now=later())
    assert bulk.batches.count() == 2
    assert set(bulk.batches.values_list("state", flat=True)) == {BulkCallBatch.State.SENT}
    assert_everyone_called_once(bics_sandbox)


def test_lost_answer_is_reconciled_not_resent(bics_sandbox, vip, django_capture_on_commit_callbacks):
    bulk = bulk_call_launch(make_bulk(vip, batch_size=5), enqueue=False)
    batch = bulk.batches.get()
    sb.drop_answer(bics_sandbox, "voice.bulk_calls.create")
    assert batch_send(batch.pk) == BulkCallBatch.State.UNKNOWN
    with django_capture_on_commit_callbacks(execute=True):
        assert bulk_sweep()["reconciled"] == 1  # Call Status lists every recipient already
    batch.refresh_from_db()
    assert batch.state == BulkCallBatch.State.SENT
    assert_everyone_called_once(bics_sandbox)


def test_refused_batch_fails_its_recipients(bics_sandbox, vip):
    bulk = bulk_call_launch(make_bulk(vip, batch_size=5), enqueue=False)
    sb.refuse(bics_sandbox, "voice.bulk_calls.create", 422)
    assert batch_send(bulk.batches.get().pk) == BulkCallBatch.State.FAILED
    bulk.refresh_from_db()
    assert bulk.state == BulkCall.State.FAILED
    assert set(bulk.recipients.values_list("state", flat=True)) == {RequestState.FAILED}


def test_cost_estimate_and_progress(bics_sandbox, vip):
    VoicePrice.objects.create(iso="BE", service="VOICE", subservice="OBD", price=Decimal("0.05"), currency="EUR")
    bulk = bulk_call_launch(make_bulk(vip), enqueue=False)
    assert bulk.estimated_cost == Decimal("0.25")
    batch_send(bulk.batches.first().pk)
    progress = bulk_progress(bulk)
    assert progress["by_state"] == {"queued": 2, "draft": 3}
    assert progress["batches"] == {"sent": 1, "pending": 2}


def test_flow_mode_needs_a_flow_id(vip):
    with pytest.raises(BulkCallError, match="flow id"):
        bulk_call_launch(make_bulk(vip, flow_id=""), enqueue=False)


def test_refresh_statuses_fills_per_recipient_outcomes(bics_sandbox, vip):
    from voice.services.bulk import bulk_refresh_statuses

    sb.answered(bics_sandbox, *PHONES)
    bulk = bulk_call_launch(make_bulk(vip, batch_size=5), enqueue=False)
    batch_send(bulk.batches.get().pk)
    assert bulk_refresh_statuses(bulk) == 5  # call ids known, still QUEUED at BICS
    assert set(bulk.recipients.values_list("status", flat=True)) == {""}
    assert all(bulk.recipients.values_list("call_id", flat=True))
    sb.tick(bics_sandbox, 60)
    assert bulk_refresh_statuses(bulk) == 5
    assert set(bulk.recipients.values_list("status", flat=True)) == {"ANSWER"}


def test_sweeper_requeues_a_lost_pending_batch_once_per_timeout(bics_sandbox, vip, django_capture_on_commit_callbacks):
    from unittest import mock

    bulk = bulk_call_launch(make_bulk(vip, batch_size=5), enqueue=False)
    BulkCall.objects.filter(pk=bulk.pk).update(launched_at=timezone.now() - claim_timeout() * 2)
    with mock.patch("voice.tasks.send_bulk_batch.delay") as delay:
        assert bulk_sweep()["requeued"] == 1
        assert bulk_sweep()["requeued"] == 0  # just queued: not again before the timeout
        assert bulk_sweep(now=later())["requeued"] == 1
    assert delay.call_count == 2


def test_audience_summary_counts_in_the_database(bics_sandbox, vip):
    from voice.services.bulk import bulk_audience_summary

    VoicePrice.objects.create(iso="BE", service="VOICE", subservice="OBD", price=Decimal("0.05"), currency="EUR")
    VoiceUnsubscriber.objects.create(number=PHONES[0])
    summary = bulk_audience_summary(make_bulk(vip))
    assert (summary.reachable, summary.excluded) == (4, 1)
    assert summary.estimate.total == Decimal("0.20") and summary.estimate.currency == "EUR"


def test_draft_change_page_shows_audience_and_cost(admin_client, vip):
    from django.urls import reverse

    bulk = make_bulk(vip)
    page = admin_client.get(reverse("admin:voice_bulkcall_change", args=[bulk.pk])).content.decode()
    assert "5 call(s), 0 voice unsubscriber(s) left out; no price pulled yet" in page
