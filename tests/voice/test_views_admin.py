"""Staff pages and admin flows for voice."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact, Segment, Tag
from tests import sandbox_helpers as sb
from voice.models import (
    BulkCall,
    BulkCallRecipient,
    Call,
    CallLog,
    CallRecording,
    SoundFile,
    VoiceUnsubscriber,
)

pytestmark = pytest.mark.django_db


def test_tts_form_lists_the_voices_and_points_to_bulk_calls(admin_client):
    page = admin_client.get(reverse("voice:tts")).content.decode()
    assert "Hans — German, male" in page and "Geraint — English (Welsh), male" in page
    assert "bulk call on an IVR flow with variables" in page
    assert 'id="tts-length"' in page


def test_tts_form_sends_one_call(admin_client, bics_sandbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("voice:tts"), {
            "bridge": "+3225551000", "to": "+32470000001", "tts_text": "Hello", "voice_id": "Amy",
            "repetitions": "2"})
    assert response.status_code == 302
    call = Call.objects.get()
    assert call.kind == Call.Kind.TTS and call.state == "queued" and call.tts_options == {"iteration": 2}
    assert sb.calls_to(bics_sandbox)["32470000001"] == 1


def test_call_this_contact_from_the_contact_admin(admin_client, bics_sandbox, django_capture_on_commit_callbacks):
    contact = Contact.objects.create(phone="+32470000009", first_name="Bo")
    response = admin_client.post(reverse("admin:contacts_contact_changelist"),
                                 {"action": "call_this_contact", "_selected_action": [contact.pk]})
    assert response.status_code == 302 and response["Location"].endswith(f"?contact={contact.pk}")
    page = admin_client.get(response["Location"]).content.decode()
    assert "+32470000009" in page
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("voice:click2call"), {
            "contact": contact.pk, "bridge": "+3225551000", "from_number": "+32470000100",
            "to": "+32470000009", "attempts": "2", "record": "on"})
    call = Call.objects.get()
    assert call.contact == contact and call.kind == Call.Kind.CLICK2CALL and call.call_id


def test_status_lookup_page(admin_client, bics_sandbox):
    from bics.voice import create_call
    from core.bics import get_client as client

    sb.answered(bics_sandbox, "32470000001")
    create_call(client(), bridge="+3225551000", to="+32470000001", flow_id="1", cid="abc")
    sb.tick(bics_sandbox)
    page = admin_client.get(reverse("voice:status"), {"mobile": "+32470000001"}).content.decode()
    assert "abc" in page and "ANSWER" in page
    assert "Give a call id" in admin_client.get(reverse("voice:status"), {"cid": ""}).content.decode()


def test_call_log_report_pages_and_filters(admin_client):
    now = timezone.now()
    CallLog.objects.bulk_create([CallLog(bics_id=str(i), to=f"+3247000{i:04d}", status="ANSWER" if i % 2 else "BUSY",
                                         end_at=now) for i in range(120)])
    first = admin_client.get(reverse("voice:logs"))
    assert first.status_code == 200
    assert len(first.context["table"].page.object_list) == 50
    third = admin_client.get(reverse("voice:logs"), {"page": 3})
    assert len(third.context["table"].page.object_list) == 20
    busy = admin_client.get(reverse("voice:logs"), {"status": "BUSY"})
    assert busy.context["table"].paginator.count == 60


def test_recordings_are_playable(admin_client):
    CallRecording.objects.create(bics_id="r1", url="https://rec.example/1.mp3", created_at=timezone.now())
    page = admin_client.get(reverse("voice:recordings")).content.decode()
    assert '<audio controls preload="none" src="https://rec.example/1.mp3">' in page


def test_report_pull_for_a_date_range(admin_client, bics_sandbox):
    from datetime import date, timedelta

    from bics.voice import call_status, create_call
    from core.bics import get_client as client

    sb.answered(bics_sandbox, "32470000001")
    placed = create_call(client(), bridge="+3225551000", to="+32470000001", flow_id="1")
    sb.tick(bics_sandbox)
    (status,) = call_status(client(), id=placed.ids[0] if placed.ids else None, mobile="+32470000001")
    day = date.fromisoformat(status.start_at[:10])
    response = admin_client.post(reverse("voice:logs"), {"pull-start": day.isoformat(),
                                                         "pull-end": (day + timedelta(days=1)).isoformat()})
    assert response.status_code == 302
    assert CallLog.objects.get().to == "+32470000001"


def test_launch_a_bulk_call_to_a_segment_from_the_admin(admin_client, bics_sandbox, django_capture_on_commit_callbacks):
    tag = Tag.objects.create(name="vip")
    for n in range(3):
        Contact.objects.create(phone=f"+3247000010{n}", first_name=f"C{n}").tags.add(tag)
    segment = Segment.objects.create(name="VIPs")
    segment.positive_tags.add(tag)
    VoiceUnsubscriber.objects.create(number="+32470000100")
    sb.answered(bics_sandbox, "32470000101", "32470000102")
    response = admin_client.post(reverse("admin:voice_bulkcall_add"), {
        "name": "promo", "mode": "flow_variables", "bridge": "+3225551000", "flow_id": "191",
        "audience_kind": "segment", "segment": segment.pk, "variables": '{"Name": "{first_name}"}',
        "batch_size": "100"})
    assert response.status_code == 302, response.content.decode()[:2000]
    bulk = BulkCall.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("admin:voice_bulkcall_changelist"),
                          {"action": "launch", "_selected_action": [bulk.pk]})
    bulk.refresh_from_db()
    assert bulk.state == BulkCall.State.SENT and bulk.recipients_count == 2 and bulk.excluded_count == 1
    sb.tick(bics_sandbox)  # the sandbox's calls leave QUEUED after its DLR delay
    admin_client.post(reverse("admin:voice_bulkcall_changelist"),
                      {"action": "refresh_statuses", "_selected_action": [bulk.pk]})
    assert set(BulkCallRecipient.objects.values_list("status", flat=True)) == {"ANSWER"}
    page = admin_client.get(reverse("admin:voice_bulkcall_change", args=[bulk.pk])).content.decode()
    assert "ANSWER: 2" in page and "See every recipient" in page
    recipients = admin_client.get(reverse("admin:voice_bulkcallrecipient_changelist"), {"bulk_call__id__exact": bulk.pk})
    assert recipients.status_code == 200


def test_sound_file_admin_checks_the_url(admin_client, bics_sandbox, audio_server):
    bad = admin_client.post(reverse("admin:voice_soundfile_add"), {"name": "x", "url": f"{audio_server}/page.html"})
    assert bad.status_code == 200 and "not audio" in bad.content.decode()
    good = admin_client.post(reverse("admin:voice_soundfile_add"), {"name": "ok", "url": f"{audio_server}/ok.mp3"})
    assert good.status_code == 302
    assert SoundFile.objects.get().bics_id


def test_clean_page_is_for_superusers_only(client, admin_client, bics_sandbox):
    staff = User.objects.create_user("staff", password="x", is_staff=True)
    client.force_login(staff)
    assert client.get(reverse("admin:voice_voiceunsubscriber_clean")).status_code == 403
    VoiceUnsubscriber.objects.create(number="+32470000001")
    wrong = admin_client.post(reverse("admin:voice_voiceunsubscriber_clean"), {"confirmation": "yes"})
    assert wrong.status_code == 200 and VoiceUnsubscriber.objects.exists()
    done = admin_client.post(reverse("admin:voice_voiceunsubscriber_clean"),
                             {"confirmation": "clean voice unsubscribers"})
    assert done.status_code == 302 and not VoiceUnsubscriber.objects.exists()


def test_unsubscriber_import_page(admin_client, bics_sandbox):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = admin_client.post(reverse("admin:voice_voiceunsubscriber_import"),
                                 {"file": SimpleUploadedFile("o.csv", b"32470000005\n")})
    assert response.status_code == 302
    assert VoiceUnsubscriber.objects.filter(number="+32470000005").exists()


def test_overview_and_pricing_pages(admin_client):
    assert admin_client.get(reverse("voice:overview")).status_code == 200
    assert admin_client.get(reverse("voice:pricing")).status_code == 200


def test_demo_seed_is_idempotent_and_local():
    import io

    from voice import demo

    demo.seed(stdout=io.StringIO())
    demo.seed(stdout=io.StringIO())
    assert SoundFile.objects.count() == 1 and Call.objects.count() == 1 and BulkCall.objects.count() == 1
    assert Call.objects.get().state == "draft"
    from voice.services.bulk import bulk_audience

    assert [t.variables["Name"] for t in bulk_audience(BulkCall.objects.get()).targets] == ["Ann", "Bram", "Chloé"]


def test_marketing_can_place_calls_and_read_reports():
    from django.contrib.auth.models import Group

    perms = set(Group.objects.get(name="Marketing").permissions.filter(content_type__app_label="voice")
                .values_list("codename", flat=True))
    assert {"add_call", "add_bulkcall", "change_voiceunsubscriber", "view_calllog", "view_callrecording"} <= perms
    assert "change_calllog" not in perms


def test_demo_tts_call_can_be_viewed_and_sent_from_the_admin(admin_client, bics_sandbox):
    import io

    from voice import demo

    demo.seed(stdout=io.StringIO())
    call = Call.objects.get()
    assert admin_client.get(reverse("admin:voice_call_change", args=[call.pk])).status_code == 200
    admin_client.post(reverse("admin:voice_call_changelist"), {"action": "send_drafts", "_selected_action": [call.pk]})
    call.refresh_from_db()
    assert call.state == "queued"
    assert admin_client.get(reverse("admin:voice_call_change", args=[call.pk])).status_code == 200
    assert [b["options"] for b in sb.sent(bics_sandbox, "voice.tts.create")] == [{"iteration": 2, "voice_id": "Amy"}]


def test_sent_outgoing_call_change_page_is_read_only(admin_client, bics_sandbox):
    from voice.services.calls import call_create, call_send

    call = call_send(call_create(kind=Call.Kind.FLOW, bridge="+3225551000", to="+32470000001", flow_id="1"))
    page = admin_client.get(reverse("admin:voice_call_change", args=[call.pk]))
    assert page.status_code == 200 and call.call_id in page.content.decode()


def test_every_voice_change_page_renders(admin_client):
    from decimal import Decimal

    from voice.models import BulkCallBatch, VoicePrice

    bulk = BulkCall.objects.create(name="b", bridge="+3225551000", flow_id="1")
    batch = BulkCallBatch.objects.create(bulk_call=bulk, number=1)
    objects = [
        SoundFile.objects.create(name="s", url="https://e.org/s.mp3"),
        bulk, batch,
        BulkCallRecipient.objects.create(bulk_call=bulk, batch=batch, to="+32470000001"),
        CallLog.objects.create(bics_id="1", to="+32470000001"),
        CallRecording.objects.create(bics_id="r", url="https://e.org/r.mp3"),
        VoiceUnsubscriber.objects.create(number="+32470000001"),
        VoicePrice.objects.create(iso="BE", price=Decimal("0.1")),
        Call.objects.create(kind=Call.Kind.FLOW, bridge="+3225551000", to="+32470000001", flow_id="1"),
    ]
    for obj in objects:
        opts = obj._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        assert admin_client.get(url).status_code == 200, opts.model_name
