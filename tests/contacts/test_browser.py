"""The contacts pages in a real browser: the segment editor's live count, the import progress."""

import pytest

from contacts.models import Contact, ContactImport, Tag

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_segment_editor_counts_matching_contacts_before_saving(page, login, live_server):
    vip, news = Tag.objects.create(name="vip"), Tag.objects.create(name="news")
    for n in range(5):
        contact = Contact.objects.create(phone=f"+3247000000{n}", country="BE" if n < 3 else "FR")
        contact.tags.add(news)
        if n % 2 == 0:
            contact.tags.add(vip)
    login(page, username="root", is_superuser=True)
    page.goto(f"{live_server.url}/admin/contacts/segment/add/")
    count = page.locator(".segment-live-count-text")
    page.wait_for_function("document.querySelector('.segment-live-count-text').textContent.includes('5 contacts')")
    page.select_option("#id_positive_tags_from", label="vip")
    page.click("#id_positive_tags_add")
    page.wait_for_function("document.querySelector('.segment-live-count-text').textContent.startsWith('3 contacts')")
    page.click("button.segment-condition-add")  # a condition row: country equals ...
    page.fill(".segment-condition .c-value", "BE")
    page.wait_for_function("document.querySelector('.segment-live-count-text').textContent.startsWith('2 contacts')")
    assert "Local only" in count.text_content()
    page.fill("#id_name", "Belgian VIPs")
    page.click("input[name=_save]")
    page.wait_for_url(f"{live_server.url}/admin/contacts/segment/")
    assert "local only" in page.content()
    from contacts.models import Segment

    segment = Segment.objects.get(name="Belgian VIPs")
    assert segment.conditions == [{"field": "country", "op": "eq", "value": "BE"}]
    assert segment.local_only
    # The saved conditions come back as rows.
    page.goto(f"{live_server.url}/admin/contacts/segment/{segment.pk}/change/")
    assert page.locator(".segment-condition .c-value").input_value() == "BE"
    page.wait_for_function("document.querySelector('.segment-live-count-text').textContent.startsWith('2 contacts')")


def test_import_page_shows_progress_until_done(page, login, live_server, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    path = tmp_path / "people.csv"
    path.write_text("phone;first_name\n+32470123456;Anna\n0470;Bad\n", encoding="utf-8")
    login(page, username="root", is_superuser=True)
    page.goto(f"{live_server.url}/admin/contacts/contactimport/add/")
    page.set_input_files("#id_file", str(path))
    page.click("input[name=_save]")
    page.wait_for_function(
        "document.querySelector('.import-progress-text') && "
        "document.querySelector('.import-progress-text').textContent.startsWith('Done')"
    )
    text = page.locator(".import-progress-text").text_content()
    assert "1 imported" in text and "1 rejected" in text
    assert page.locator("progress").get_attribute("value") == "100" or page.evaluate(
        "document.querySelector('progress').value"
    ) == 100
    assert page.locator("a.import-rejections").is_visible()
    assert ContactImport.objects.get().state == "done"
