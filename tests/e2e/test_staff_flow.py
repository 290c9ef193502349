"""The acceptance walk of the staff's day, in a real browser on a fresh database, against a
live server and the BICS sandbox: the local admin creates a Marketing user and a template
approver in the admin; the Marketing user creates a sender and a template, pulls prices and
the balance with the list's button, imports 201 rows (a duplicate, two bad rows, then bad
uploads), builds a segment; four eyes stop her approving her own template, the approver
approves it; the wizard (searchable audience, test send, launch), the delivery reports on the
campaign page, masked numbers on the dashboard. axe-core runs on every page on the way.
Screenshots for the README: dashboard, campaign page, template approval page, wizard preview.

The only steps outside the browser are BICS's own side (the sandbox's clock approving the
template and delivering) and the beat's DLR poll, which no one clicks."""

import os
import re

import pytest
from django.core.cache import cache
from django.core.management import call_command

from contacts.models import Contact
from messaging.campaigns.models import Campaign, Message
from messaging.catalogue.models import AccountBalance, Template
from tests.campaigns.conftest import Sandbox

from .axe import assert_accessible

# In the whole suite these walks run in a pytest process of their own, on their own database
# (tests/e2e/test_walks_isolated.py): after hundreds of transactional tests in one process their
# live server read the groups' grants as they were before the serialized rollback.
WALK_CHILD = bool(os.environ.get("E2E_WALK_CHILD"))
pytestmark = [pytest.mark.skipif(not WALK_CHILD, reason="run by tests/e2e/test_walks_isolated.py"), pytest.mark.e2e, pytest.mark.sandbox, pytest.mark.slow,
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "correct-horse-battery"
BOUNCE = "+32470123458"  # its DLR says 404 "invalid destination"


def visit(page, url):
    """Open a page and check it with axe-core (no serious or critical violation)."""
    page.goto(url)
    page.wait_for_load_state("networkidle")
    assert_accessible(page)


def _select2(page, field_id, text):
    """Pick ``text`` in one of the admin's autocomplete widgets (single or multiple)."""
    box = page.locator(f"#{field_id} + .select2")
    box.locator(".select2-selection").click()
    search = page.locator(".select2-container--open .select2-search__field").first
    search.fill(text)
    page.wait_for_selector(".select2-results__option--highlighted")
    page.keyboard.press("Enter")


def create_user(page, base, username, groups):
    """The local admin adds a staff user through the admin's own forms."""
    visit(page, f"{base}/admin/auth/user/add/")
    page.fill("#id_username", username)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("input[name=_continue]")
    page.wait_for_selector("#id_is_staff")
    page.check("#id_is_staff")
    for group in groups:
        page.select_option("#id_groups_from", label=group)
        page.click("#id_groups_add")
    page.click("input[name=_save]")
    page.wait_for_url(f"{base}/admin/auth/user/")


def sign_in(page, base, username):
    page.goto(f"{base}/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/admin/")
    assert_accessible(page)


def sender_and_template(page, base):
    visit(page, f"{base}/admin/messaging/sender/add/")
    page.fill("#id_name", "ACME")
    page.fill("#id_country_code", "BE")
    page.click("input[name=_save]")
    page.wait_for_url(f"{base}/admin/messaging/sender/")
    visit(page, f"{base}/admin/messaging/template/add/")
    page.fill("#id_name", "spring_sale")
    page.fill("#id_content", "Hello {{first_name}}, our spring sale starts Monday. Reply STOP to opt out.")
    _select2(page, "id_sender", "ACME")
    page.select_option("#id_template_type", "SI")
    page.click("input[name=_continue]")
    template = Template.objects.get(name="spring_sale")
    page.wait_for_url(f"{base}/admin/messaging/template/{template.pk}/change/")
    assert_accessible(page)
    page.get_by_role("button", name="Submit for approval").click()
    page.wait_for_selector("text=submit done")
    return template


def four_eyes(page, base, template):
    """The author, although an approver, cannot approve her own template."""
    assert page.get_by_role("button", name="Approve v1").count() == 0
    assert "the author of a template cannot approve" in page.content()
    visit(page, f"{base}/admin/messaging/template/")
    page.check(f"input[name=_selected_action][value='{template.pk}']")
    page.select_option("select[name=action]", "approve")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist .error")
    assert "the author of a template cannot approve" in page.inner_text(".messagelist")
    assert Template.objects.get(pk=template.pk).approval_state == "submitted"


def approve(browser, base, screenshot):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, base, "otto")
    visit(page, f"{base}/")
    assert "spring_sale" in page.inner_text("#templates-waiting")
    page.click("#templates-waiting >> text=spring_sale")
    page.wait_for_selector("text=Approve v1")
    assert_accessible(page)
    review = page.inner_text(".template-review")
    assert "Hello Anna, our spring sale starts Monday" in review and "First version" in review
    screenshot(page, "template-approval")
    page.get_by_role("button", name="Approve v1").click()
    page.wait_for_selector("text=approve done")
    context.close()


def push_and_pull(page, base, sandbox, template):
    """Push the sender and the template with the lists' actions; BICS approves; pull the
    decision, the prices and the balance with the lists' buttons (no selection needed)."""
    for lst in ("sender", "template"):
        visit(page, f"{base}/admin/messaging/{lst}/")
        page.check("#action-toggle")
        page.select_option("select[name=action]", "push_to_bics")
        page.click("button[name=index]")
        page.wait_for_selector(".messagelist .success")
    sandbox.tick(3600)  # BICS's side: the provider approves the template
    visit(page, f"{base}/admin/messaging/template/")
    page.get_by_role("button", name="Pull the whole list from BICS").click()
    page.wait_for_selector(".messagelist")
    assert Template.objects.get(pk=template.pk).provider_approved
    visit(page, f"{base}/admin/messaging/price/")  # an empty list: the button needs no selection
    page.get_by_role("button", name="Pull pricing and balance from BICS").click()
    page.wait_for_selector(".messagelist .success:has-text(\"Pull of pricing\")")
    assert_accessible(page)
    assert page.locator("#result_list tbody tr").count() > 0


def csv_of_201_rows(path):
    rows = ["+32470123456;Anna", "+32470123457;Bruno", f"{BOUNCE};Chloe"]
    rows += [f"+3247100{n:04d};Guest{n}" for n in range(195)]
    rows += ["+32 470 12 34 56;Anna", "not-a-number;Bad", "+999 1234 5678;Nowhere"]  # duplicate, 2 bad
    assert len(rows) == 201
    path.write_text("phone;first_name\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def import_contacts(page, base, tmp_path):
    visit(page, f"{base}/admin/contacts/contactimport/add/")
    bad = tmp_path / "latin1.csv"
    bad.write_bytes("phone;first_name\n+32470000001;Chlo\xe9\n".encode("latin-1"))
    page.set_input_files("#id_file", str(bad))
    page.click("input[name=_save]")
    page.wait_for_selector(".errorlist")
    assert "UTF-8" in page.inner_text(".errorlist") or "byte" in page.inner_text(".errorlist")
    assert_accessible(page)
    page.set_input_files("#id_file", str(csv_of_201_rows(tmp_path / "spring.csv")))
    page.fill("#id_tag", "spring")  # every imported contact gets this tag
    page.click("input[name=_save]")
    page.wait_for_function(
        "document.querySelector('.import-progress-text') && "
        "document.querySelector('.import-progress-text').textContent.startsWith('Done')"
    )
    progress = page.inner_text(".import-progress-text")
    assert "198 imported" in progress and "1 duplicate," in progress and "2 rejected" in progress, progress
    assert "0 updated" in progress
    page.reload()
    assert_accessible(page)
    content = page.content()
    assert "line 201" in content and "line 202" in content  # the bad rows and why
    assert "invalid country code" in content
    assert Contact.objects.filter(tags__name="spring").count() == 198


def segment(page, base):
    visit(page, f"{base}/admin/contacts/segment/add/")
    page.select_option("#id_positive_tags_from", label="spring")
    page.click("#id_positive_tags_add")
    page.wait_for_function(
        "document.querySelector('.segment-live-count-text').textContent.startsWith('198 contacts')"
    )
    assert_accessible(page)
    page.fill("#id_name", "Spring customers")
    page.click("input[name=_save]")
    page.wait_for_url(f"{base}/admin/contacts/segment/")


def wizard_to_preview(page, base, screenshot):
    visit(page, f"{base}/campaigns/new/")
    page.get_by_role("button", name="Next: template").click()
    assert "Choose at least one segment or tag" in page.inner_text("#form-errors")
    page.get_by_label("Campaign name").fill("Spring sale")
    _select2(page, "id_segments", "Spring")  # searchable: no Ctrl-click
    page.wait_for_function("document.getElementById('audience-count').textContent.startsWith('198 contacts')")
    assert_accessible(page)
    page.get_by_role("button", name="Next: template").click()
    page.wait_for_url(f"{base}/campaigns/new/template/")
    page.get_by_label("Template").select_option(label="SMS · spring_sale")
    page.get_by_role("button", name="Use this template").click()
    page.wait_for_selector("#variables")
    page.select_option("#id_var_first_name_source", "first_name")
    page.fill("#id_var_first_name_value", "friend")
    assert_accessible(page)
    page.get_by_role("button", name="Next: schedule and delivery").click()
    campaign = Campaign.objects.get(name="Spring sale")
    page.wait_for_url(f"{base}/campaigns/new/{campaign.pk}/schedule/")
    page.check("input[name=when][value=later]")
    page.get_by_role("button", name="Next: preview").click()
    assert "Choose the date and time to send" in page.inner_text("#form-errors")
    page.check("input[name=when][value=now]")
    page.fill("#id_batch_size", "50")
    assert_accessible(page)
    page.get_by_role("button", name="Next: preview").click()
    page.wait_for_url(f"{base}/campaigns/new/{campaign.pk}/preview/")
    assert page.inner_text("#eligible") == "198"
    cost = page.inner_text("#estimated-cost")
    assert cost.endswith(" EUR") and not cost.startswith("0.0000"), cost  # a cost, with its currency
    assert "Hello Anna, our spring sale" in page.content()
    assert page.locator("#problems").count() == 0, page.inner_text("#problems")
    assert_accessible(page)
    screenshot(page, "wizard-preview")
    return campaign


def send_test_and_launch(page, base, sandbox, campaign):
    page.get_by_role("link", name="Next: test send").click()
    page.get_by_label("Numbers").fill("+32470999001")
    page.get_by_role("button", name="Send the test").click()
    page.wait_for_selector("#test-result")
    assert "+32470999001" in page.inner_text("#test-result")  # just typed: not masked
    assert_accessible(page)
    assert "32470999001" in sandbox.sent_numbers()[0]
    page.get_by_role("link", name="Next: launch").click()
    assert_accessible(page)
    page.get_by_label("Send this campaign to 198 recipients").check()
    page.get_by_role("button", name="Launch now").click()
    page.wait_for_url(f"{base}/campaigns/{campaign.pk}/")


def delivery_reports(page, base, sandbox, campaign, screenshot):
    page.wait_for_function("document.getElementById('state').textContent.trim() === 'Sent'", timeout=30_000)
    assert page.get_by_role("link", name="Preview and launch").count() == 0  # already sent
    sandbox.tick(60)  # BICS delivers
    call_command("poll_dlrs")  # the beat's DLR poll
    assert not Message.objects.filter(campaign=campaign, status__in=["queued", "submitted"]).exists()
    page.wait_for_function("document.getElementById('rate').textContent.includes('%')", timeout=30_000)
    page.reload()
    page.wait_for_selector("#status-chart[data-ready='1']")
    assert_accessible(page)
    by_country = page.inner_text("section[aria-labelledby=outcomes-country]")
    assert "Belgium" in by_country and "%" in by_country
    assert "404" in page.inner_text("#reasons")  # the bounce, with its documented reason
    assert "EUR" in page.inner_text(".kpi-row")
    page.select_option("#id_status", "failures")
    page.get_by_role("button", name="Filter").click()
    failed = Message.objects.filter(campaign=campaign, status__in=["failed", "rejected", "expired"]).count()
    assert 0 < page.locator("table.campaign-table tbody tr").count() == min(failed, 50)
    assert_accessible(page)
    page.goto(f"{base}/campaigns/{campaign.pk}/")
    screenshot(page, "campaign")


def test_acceptance_walk_on_a_fresh_database(browser, page, live_server, bics_sandbox, settings, screenshot,
                                             tmp_path, django_user_model):
    settings.MEDIA_ROOT = tmp_path
    settings.CAMPAIGN_RECONCILE_GRACE = 0
    settings.BICS_RATE_LIMIT_REDIS_URL = ""
    sandbox = Sandbox(bics_sandbox)
    sandbox.configure(time_zone=settings.BICS_TIME_ZONE, approval_delay=0, dlr_rules={BOUNCE.lstrip("+"): "404"})
    base = live_server.url
    django_user_model.objects.create_superuser("admin", password=PASSWORD)  # what `make run` creates

    sign_in(page, base, "admin")
    create_user(page, base, "mia", ["Marketing", "Template approvers"])  # four eyes must still stop her
    create_user(page, base, "otto", ["Template approvers"])
    page.context.clear_cookies()

    sign_in(page, base, "mia")
    template = sender_and_template(page, base)
    four_eyes(page, base, template)
    approve(browser, base, screenshot)
    assert Template.objects.get(pk=template.pk).approval_state == "approved"
    push_and_pull(page, base, sandbox, template)
    import_contacts(page, base, tmp_path)
    segment(page, base)
    campaign = wizard_to_preview(page, base, screenshot)
    send_test_and_launch(page, base, sandbox, campaign)
    delivery_reports(page, base, sandbox, campaign, screenshot)

    settings.BALANCE_WARNING_THRESHOLD = float(AccountBalance.objects.latest().balance) + 100  # show the warning
    cache.clear()  # the dashboard caches its aggregates for a minute
    visit(page, f"{base}/")
    page.wait_for_selector("#daily-chart[data-ready='1']")
    assert "Spring sale" not in page.inner_text("#active-campaigns")  # sent: no longer active
    assert page.inner_text("#today-total") == "199"  # the campaign's 198 and the test
    assert page.locator("#balance-warning").is_visible()
    failures = page.inner_text("#failures")
    assert "+32••••••" in failures and not re.search(r"\+32\d{9}", failures)  # masked for mia
    screenshot(page, "dashboard")
