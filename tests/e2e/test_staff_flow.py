"""The marketing staff's day in a real browser, against a live server and the BICS sandbox:
sender, template, four-eyes approval, contact import with a bad row, segment with a live
count, the campaign wizard (test send and launch), progress to "sent" with a delivery rate.
Screenshots for the README: dashboard, campaign page, template approval page."""

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.management import call_command

from contacts.models import Contact, Tag
from messaging.campaigns.models import Campaign, Message
from messaging.catalogue.models import AccountBalance, Sender, Template
from messaging.catalogue.services.pricing import balance_pull, pricing_pull
from tests.campaigns.conftest import Sandbox

from .axe import assert_accessible

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


def _perms(app_label, *codenames):
    qs = Permission.objects.filter(content_type__app_label=app_label)
    return qs.filter(codename__in=codenames) if codenames else qs


@pytest.fixture
def people(django_user_model):
    """An author (marketing, also an approver: four eyes must still stop her) and an approver.
    Permissions are given directly: transactional tests flush the groups' data migrations."""
    author = django_user_model.objects.create_user(
        "mia", password=PASSWORD, is_staff=True, email="mia@example.com"
    )
    author.user_permissions.add(*_perms("messaging"), *_perms("campaigns"), *_perms("webhooks"), *_perms("contacts"))
    approver = django_user_model.objects.create_user("otto", password=PASSWORD, is_staff=True)
    approver.user_permissions.add(
        *_perms("messaging", "approve_template", "view_template", "view_templateapproval")
    )
    return author, approver


def _select2(page, field_id, text):
    page.click(f"#{field_id} + .select2 .select2-selection")
    page.fill(".select2-container--open .select2-search__field", text)
    page.wait_for_selector(".select2-results__option--highlighted")
    page.keyboard.press("Enter")


def test_staff_flow_from_sender_to_a_sent_campaign(
    browser, page, login, live_server, bics_sandbox, settings, people, screenshot, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    settings.CAMPAIGN_RECONCILE_GRACE = 0
    settings.BICS_RATE_LIMIT_REDIS_URL = ""
    sandbox = Sandbox(bics_sandbox)
    # One recipient's DLR says "invalid destination" (404): a failure with its documented reason.
    sandbox.configure(time_zone=settings.BICS_TIME_ZONE, approval_delay=0, dlr_rules={"32470123458": "404"})
    base = live_server.url
    Tag.objects.create(name="spring")

    # --- the author signs in, creates a sender and a template, submits it
    login(page, username="mia")
    page.goto(f"{base}/admin/messaging/sender/add/")
    page.fill("#id_name", "ACME")
    page.fill("#id_country_code", "BE")
    page.click("input[name=_save]")
    page.wait_for_url(f"{base}/admin/messaging/sender/")
    assert Sender.objects.filter(name="ACME").exists()

    page.goto(f"{base}/admin/messaging/template/add/")
    page.fill("#id_name", "spring_sale")
    page.fill("#id_content", "Hello {{first_name}}, our spring sale starts Monday. Reply STOP to opt out.")
    _select2(page, "id_sender", "ACME")
    page.select_option("#id_template_type", "SI")
    page.click("input[name=_continue]")
    template = Template.objects.get(name="spring_sale")
    page.wait_for_url(f"{base}/admin/messaging/template/{template.pk}/change/")
    page.get_by_role("button", name="Submit for approval").click()
    page.wait_for_selector("text=submit done")
    template.refresh_from_db()
    assert template.approval_state == "submitted"

    # --- four eyes: the author, although an approver, cannot approve her own template
    assert page.get_by_role("button", name="Approve v1").count() == 0
    assert "the author of a template cannot approve" in page.content()
    page.goto(f"{base}/admin/messaging/template/")
    page.check(f"input[name=_selected_action][value='{template.pk}']")
    page.select_option("select[name=action]", "approve")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist .error")
    assert "the author of a template cannot approve" in page.inner_text(".messagelist")
    assert Template.objects.get(pk=template.pk).approval_state == "submitted"

    # --- the approver signs in (another browser context) and approves
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    approver_page = context.new_page()
    approver_page.set_default_timeout(15_000)
    login(approver_page, username="otto")
    approver_page.goto(f"{base}/")
    assert "spring_sale" in approver_page.inner_text("#templates-waiting")
    approver_page.click("#templates-waiting >> text=spring_sale")
    approver_page.wait_for_selector("text=Approve v1")
    screenshot(approver_page, "template-approval")
    approver_page.get_by_role("button", name="Approve v1").click()
    approver_page.wait_for_selector("text=approve done")
    context.close()
    assert Template.objects.get(pk=template.pk).approval_state == "approved"

    # BICS's side: push the sender and template, the sandbox approves them, pull the decision
    call_command("bics_sync", "senders", "--push")
    call_command("bics_sync", "templates", "--push")
    sandbox.tick(3600)
    call_command("bics_sync", "templates", "--pull")
    assert Template.objects.get(pk=template.pk).provider_approved
    pricing_pull()  # the wizard's cost estimate needs prices and the balance
    balance_pull()

    # --- contacts: an import with a bad row shows the row's error
    csv = tmp_path / "spring.csv"
    csv.write_text(
        "phone;first_name\n+32470123456;Anna\n+32470123457;Bruno\n+32470123458;Chloe\nnot-a-number;Bad\n",
        encoding="utf-8",
    )
    page.goto(f"{base}/admin/contacts/contactimport/add/")
    page.set_input_files("#id_file", str(csv))
    page.fill("#id_tag", "spring")  # every imported contact gets this tag
    page.click("input[name=_save]")
    page.wait_for_function(
        "document.querySelector('.import-progress-text') && "
        "document.querySelector('.import-progress-text').textContent.startsWith('done')"
    )
    progress = page.inner_text(".import-progress-text")
    assert "3 imported" in progress and "1 rejected" in progress
    assert page.locator("a.import-rejections").is_visible()
    page.reload()
    assert "line 5" in page.content()  # the bad row and why it was refused
    assert Contact.objects.filter(tags__name="spring").count() == 3

    # --- a segment with its live count
    page.goto(f"{base}/admin/contacts/segment/add/")
    page.select_option("#id_positive_tags_from", label="spring")
    page.click("#id_positive_tags_add")
    page.wait_for_function(
        "document.querySelector('.segment-live-count-text').textContent.startsWith('3 contacts')"
    )
    page.fill("#id_name", "Spring customers")
    page.click("input[name=_save]")
    page.wait_for_url(f"{base}/admin/contacts/segment/")

    # --- the wizard: audience
    page.goto(f"{base}/campaigns/new/")
    assert_accessible(page)
    page.get_by_role("button", name="Next: template").click()
    assert "Give the campaign a name" in page.inner_text("#form-errors") or "required" in page.inner_text(
        "#form-errors"
    )
    page.get_by_label("Campaign name").fill("Spring sale")
    page.get_by_label("Segments").select_option(label="Spring customers")
    page.wait_for_function("document.getElementById('audience-count').textContent.startsWith('3 contacts')")
    page.get_by_role("button", name="Next: template").click()
    # template and variables
    page.wait_for_url(f"{base}/campaigns/new/template/")
    page.get_by_label("Template").select_option(label="SMS · spring_sale")
    page.get_by_role("button", name="Use this template").click()
    page.wait_for_selector("#variables")
    page.select_option("#id_var_first_name_source", "first_name")
    page.fill("#id_var_first_name_value", "friend")
    assert_accessible(page)
    page.get_by_role("button", name="Next: schedule and delivery").click()
    campaign = Campaign.objects.get(name="Spring sale")
    # schedule / batch / smart delivery: a wrong answer first, in plain words
    page.wait_for_url(f"{base}/campaigns/new/{campaign.pk}/schedule/")
    page.check("input[name=when][value=later]")
    page.get_by_role("button", name="Next: preview").click()
    assert "Choose the date and time to send" in page.inner_text("#form-errors")
    page.check("input[name=when][value=now]")
    page.fill("#id_batch_size", "2")
    assert_accessible(page)
    page.get_by_role("button", name="Next: preview").click()
    # preview with counts and cost
    page.wait_for_url(f"{base}/campaigns/new/{campaign.pk}/preview/")
    assert page.inner_text("#eligible") == "3"
    assert not page.inner_text("#estimated-cost").startswith("0.0000")
    assert "Hello Anna, our spring sale" in page.content()
    assert page.locator("#problems").count() == 0, page.inner_text("#problems")
    assert_accessible(page)
    screenshot(page, "wizard-preview")
    page.get_by_role("link", name="Next: test send").click()
    # test send
    page.get_by_label("Numbers").fill("+32470999001")
    page.get_by_role("button", name="Send the test").click()
    page.wait_for_selector("#test-result")
    assert "32470999001" in sandbox.sent_numbers()[0]
    page.get_by_role("link", name="Next: launch").click()
    # launch
    page.get_by_label("Send this campaign to 3 recipients").check()
    page.get_by_role("button", name="Launch now").click()
    page.wait_for_url(f"{base}/campaigns/{campaign.pk}/")

    # --- progress reaches "sent", then the delivery rate appears (the page polls)
    page.wait_for_function("document.getElementById('state').textContent.trim() === 'Sent'", timeout=30_000)
    sandbox.tick(60)
    call_command("poll_dlrs")
    assert not Message.objects.filter(campaign=campaign, status__in=["queued", "submitted"]).exists()
    page.wait_for_function("document.getElementById('rate').textContent.includes('%')", timeout=30_000)
    page.reload()
    screenshot(page, "campaign")

    settings.BALANCE_WARNING_THRESHOLD = (
        float(AccountBalance.objects.latest().balance) + 100
    )  # show the warning
    cache.clear()  # the dashboard caches its aggregates for a minute
    page.goto(f"{base}/")
    page.wait_for_selector("#daily-chart[data-ready='1']")
    assert "Spring sale" not in page.inner_text("#active-campaigns")  # sent: no longer active
    assert page.inner_text("#today-total") == "4"  # the campaign's 3 and the test
    assert "%" in page.inner_text("#delivery-rate")
    assert page.locator("#balance-warning").is_visible()
    failures = page.inner_text("#failures")
    assert "Invalid destination number" in failures and "+32••••••458" in failures  # masked for mia
    assert_accessible(page)
    screenshot(page, "dashboard")
