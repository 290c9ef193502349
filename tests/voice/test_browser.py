"""Voice in a real browser: the TTS length preview, and the acceptance path — launch a bulk
call (flow with variables) to a segment from the admin and watch per-recipient statuses."""

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_tts_text_length_preview_counts_while_typing(page, login, live_server):
    login(page, username="root", is_superuser=True)
    page.goto(f"{live_server.url}/voice/tts/")
    page.fill("#id_tts_text", 'Hello <break time="1s"/> world')
    page.wait_for_selector("#tts-length >> text=1 pause(s)")
    assert page.inner_text("#tts-length").startswith("30 characters (12 spoken")
    assert "bulk call on an IVR flow with variables" in page.inner_text("#content-main")


def test_launch_a_bulk_call_to_a_segment_and_watch_statuses(page, login, live_server, bics_sandbox, tmp_path):
    from contacts.models import Contact, Segment, Tag
    from tests import sandbox_helpers as sb
    from voice.models import BulkCall

    sb.answered(bics_sandbox, "32470000800", "32470000801", "32470000802")

    tag = Tag.objects.create(name="vip")
    for n in range(3):
        Contact.objects.create(phone=f"+3247000080{n}", first_name=f"C{n}").tags.add(tag)
    segment = Segment.objects.create(name="VIPs")
    segment.positive_tags.add(tag)
    bulk = BulkCall.objects.create(name="Spring", bridge="+3225551000", flow_id="191", segment=segment,
                                   audience_kind=BulkCall.AudienceKind.SEGMENT, variables={"Name": "{first_name}"})
    login(page, username="root", is_superuser=True)
    page.goto(f"{live_server.url}/admin/voice/bulkcall/")
    page.check(f"input[name=_selected_action][value='{bulk.pk}']")
    page.select_option("select[name=action]", "launch")
    page.click("button[name=index]")
    page.wait_for_selector("text=3 recipient(s) in 1 batch(es)")
    sb.tick(bics_sandbox)  # the sandbox's calls leave QUEUED after its DLR delay
    page.check(f"input[name=_selected_action][value='{bulk.pk}']")
    page.select_option("select[name=action]", "refresh_statuses")
    page.click("button[name=index]")
    page.wait_for_selector("text=3 recipient(s) updated")
    page.goto(f"{live_server.url}/admin/voice/bulkcall/{bulk.pk}/change/")
    assert "ANSWER: 3" in page.inner_text("#content-main")
    page.screenshot(path=str(tmp_path / "bulk.png"), full_page=True)
