import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contacts.models import Contact, ContactImport, ImportState, Segment, Tag
from core.models import SyncState

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:contacts_contact_changelist"


@pytest.fixture
def contacts():
    vip = Tag.objects.create(name="vip")
    anna = Contact.objects.create(phone="+32470123456", country="BE", first_name="Anna", last_name="Peeters")
    hugo = Contact.objects.create(phone="+33612345678", country="FR", first_name="Hugo", email="hugo@example.com")
    anna.tags.add(vip)
    return vip, anna, hugo


def listed(response):
    return {c.phone for c in response.context["cl"].result_list}


def test_search_by_number_in_any_notation(admin_client, contacts):
    response = admin_client.get(reverse(CHANGELIST), {"q": "0032 470 12 34 56"})
    assert listed(response) == {"+32470123456"}


def test_search_by_name_or_email(admin_client, contacts):
    assert listed(admin_client.get(reverse(CHANGELIST), {"q": "peet"})) == {"+32470123456"}
    assert listed(admin_client.get(reverse(CHANGELIST), {"q": "hugo@"})) == {"+33612345678"}


def test_filter_by_tag_and_segment(admin_client, contacts):
    vip, anna, hugo = contacts
    assert listed(admin_client.get(reverse(CHANGELIST), {"tag": vip.pk})) == {anna.phone}
    segment = Segment.objects.create(name="not vip")
    segment.negative_tags.add(vip)
    assert listed(admin_client.get(reverse(CHANGELIST), {"segment": segment.pk})) == {hugo.phone}


def test_changelist_does_not_count_the_whole_table(contacts):
    from django.contrib import admin

    model_admin = admin.site._registry[Contact]
    assert model_admin.show_full_result_count is False


def test_bulk_tag_and_untag_actions(admin_client, contacts):
    vip, anna, hugo = contacts
    Contact.objects.filter(pk=hugo.pk).update(sync_state=SyncState.SYNCED, bics_id="b1")
    url = reverse(CHANGELIST)
    data = {"action": "tag_contacts", "_selected_action": [anna.pk, hugo.pk]}
    form_page = admin_client.post(url, data)
    assert form_page.status_code == 200 and b"Tag contacts" in form_page.content
    response = admin_client.post(url, {**data, "apply": "1", "tag": "spring"})
    assert response.status_code == 302
    assert set(Tag.objects.get(name="spring").contacts.all()) == {anna, hugo}
    hugo.refresh_from_db()
    assert hugo.sync_state == SyncState.DIRTY
    admin_client.post(url, {"action": "untag_contacts", "_selected_action": [anna.pk], "apply": "1", "tag": vip.pk})
    assert not anna.tags.filter(name="vip").exists()


def test_bulk_add_to_unsubscribers(admin_client, contacts):
    from contacts.selectors import unsubscriber_model

    Unsubscriber = unsubscriber_model()
    _, anna, hugo = contacts
    url = reverse(CHANGELIST)
    admin_client.post(url, {"action": "unsubscribe_contacts", "_selected_action": [anna.pk, hugo.pk]})
    admin_client.post(url, {"action": "unsubscribe_contacts", "_selected_action": [anna.pk]})
    assert sorted(Unsubscriber.objects.values_list("number", flat=True)) == [anna.phone, hugo.phone]


def test_editing_a_synced_contact_marks_it_dirty(admin_client, contacts):
    _, anna, _ = contacts
    Contact.objects.filter(pk=anna.pk).update(sync_state=SyncState.SYNCED, bics_id="b1")
    url = reverse("admin:contacts_contact_change", args=[anna.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    data = {
        "phone": "+32 470 12 34 56", "identity": anna.phone, "first_name": "Annie", "last_name": "Peeters",
        "email": "", "company": "", "postal_code": "", "birth_date": "", "gender": "", "attributes": "{}",
        "tags": [], "identifiers-TOTAL_FORMS": "0", "identifiers-INITIAL_FORMS": "0",
    }  # fmt: skip
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    anna.refresh_from_db()
    assert (anna.first_name, anna.sync_state, anna.phone) == ("Annie", SyncState.DIRTY, "+32470123456")


def test_editing_a_synced_identifier_inline_marks_it_dirty(admin_client, contacts):
    from contacts.models import Identifier

    _, anna, _ = contacts
    Contact.objects.filter(pk=anna.pk).update(sync_state=SyncState.SYNCED, bics_id="b1")
    email = Identifier.objects.create(contact=anna, type="email", value="anna@example.com", bics_id="i1",
                                      sync_state=SyncState.SYNCED)  # fmt: skip
    url = reverse("admin:contacts_contact_change", args=[anna.pk])
    data = {
        "phone": anna.phone, "identity": anna.phone, "first_name": "Anna", "last_name": "Peeters",
        "email": "", "company": "", "postal_code": "", "birth_date": "", "gender": "", "attributes": "{}",
        "tags": [], "identifiers-TOTAL_FORMS": "1", "identifiers-INITIAL_FORMS": "1",
        "identifiers-MIN_NUM_FORMS": "0", "identifiers-MAX_NUM_FORMS": "1000",
        "identifiers-0-id": str(email.pk), "identifiers-0-contact": str(anna.pk),
        "identifiers-0-type": "email", "identifiers-0-value": "anna@example.org",
    }  # fmt: skip
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    email.refresh_from_db()
    assert (email.value, email.sync_state) == ("anna@example.org", SyncState.DIRTY)


def test_adding_a_contact_with_an_invalid_number_is_refused(admin_client):
    data = {"phone": "+32 12", "attributes": "{}", "identifiers-TOTAL_FORMS": "0", "identifiers-INITIAL_FORMS": "0"}
    response = admin_client.post(reverse("admin:contacts_contact_add"), data)
    assert response.status_code == 200
    assert "phone" in response.context["adminform"].form.errors


def test_upload_runs_the_import_and_shows_progress(
    admin_client, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("people.csv", b"phone;first_name\n+32470123456;Anna\nbad;x\n", "text/csv")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post(
            reverse("admin:contacts_contactimport_add"), {"file": upload, "default_country": "", "tag": "fair"}
        )
    assert len(callbacks) == 1  # the Celery task is queued once the upload is committed
    item = ContactImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:contacts_contactimport_change", args=[item.pk])
    assert (item.state, item.rows_imported, item.rows_rejected) == (ImportState.DONE, 1, 1)
    assert item.original_name == "people.csv"
    page = admin_client.get(response["Location"])
    assert page.status_code == 200
    assert reverse("contacts:import_progress", args=[item.pk]).encode() in page.content
    progress = admin_client.get(reverse("contacts:import_progress", args=[item.pk])).json()
    assert progress["state"] == "done" and progress["percent"] == 100 and progress["rejected"] == 1
    rejected = admin_client.get(reverse("contacts:import_rejections", args=[item.pk]))
    text = b"".join(rejected.streaming_content).decode("utf-8").lstrip("\ufeff")
    assert text.splitlines()[1].startswith("3,invalid number 'bad'")
    assert Tag.objects.get(name="fair").contacts.count() == 1


def test_refused_upload_shows_the_reason_and_stores_nothing(admin_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("people.csv", "phone\n+3247012345é\n".encode("latin-1"), "text/csv")
    response = admin_client.post(reverse("admin:contacts_contactimport_add"), {"file": upload})
    assert response.status_code == 200
    assert "not UTF-8" in str(response.context["adminform"].form.errors)
    assert ContactImport.objects.count() == 0 and Contact.objects.count() == 0
    assert not list(tmp_path.rglob("*.csv"))


def test_segment_editor_renders_live_count_and_export(admin_client):
    segment = Segment.objects.create(name="All")
    page = admin_client.get(reverse("admin:contacts_segment_change", args=[segment.pk]))
    assert page.status_code == 200
    assert reverse("contacts:segment_preview").encode() in page.content
    assert reverse("contacts:segment_export", args=[segment.pk]).encode() in page.content


def test_saving_a_local_only_segment_warns(admin_client):
    tag = Tag.objects.create(name="vip")
    response = admin_client.post(
        reverse("admin:contacts_segment_add"),
        {
            "name": "Belgian VIPs", "positive_tags_operator": "any", "positive_tags": [tag.pk],
            "negative_tags_operator": "any", "conditions": '[{"field": "country", "op": "eq", "value": "be"}]',
        },  # fmt: skip
        follow=True,
    )
    segment = Segment.objects.get()
    assert segment.local_only and segment.conditions == [{"field": "country", "op": "eq", "value": "BE"}]
    assert "local only" in response.content.decode()


def test_export_selected_contacts_escapes_formula_cells(admin_client, contacts):
    _, anna, hugo = contacts
    Contact.objects.filter(pk=anna.pk).update(first_name="=HYPERLINK(1)")
    response = admin_client.post(reverse(CHANGELIST), {"action": "export_csv", "_selected_action": [anna.pk]})
    text = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    lines = text.splitlines()
    assert lines[0].startswith("phone,first_name")
    assert lines[1].startswith("'+32470123456,'=HYPERLINK(1),Peeters")
    assert len(lines) == 2


def test_filter_by_country(admin_client, contacts):
    _, anna, hugo = contacts
    assert listed(admin_client.get(reverse(CHANGELIST), {"country": "FR"})) == {hugo.phone}
