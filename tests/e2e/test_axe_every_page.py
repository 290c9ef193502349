"""axe-core on every page a Marketing user or a template approver reaches: the staff pages,
and in the admin every list they see, its first record's form and its add form. The pages
are found by walking the links the user is shown (admin index, navigation bar), so a page
added later is checked without editing this test."""

import os
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlparse

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from contacts.models import ContactImport, ContactImportRejection, Segment, Tag
from core.models import SyncRun
from messaging.campaigns.models import Campaign, DeliveryReport, Message
from messaging.catalogue.models import AccountBalance, Price, Unsubscriber
from tests.campaigns.conftest import make_campaign, make_contacts, make_template, owner, sender  # noqa: F401

from .axe import violations

# In the whole suite these walks run in a pytest process of their own, on their own database
# (tests/e2e/test_walks_isolated.py): after hundreds of transactional tests in one process their
# live server read the groups' grants as they were before the serialized rollback.
WALK_CHILD = bool(os.environ.get("E2E_WALK_CHILD"))
pytestmark = [pytest.mark.skipif(not WALK_CHILD, reason="run by tests/e2e/test_walks_isolated.py"), pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "correct-horse-battery"
# Downloads and JSON answers, not pages; logging out ends the walk.
SKIP = ("/logout/", ".csv", ".json", "/export", "/delete/", "/history/", "password_change", "/decide/")


@pytest.fixture
def records(make_campaign, make_contacts, make_template, owner, sender):  # noqa: F811
    """One record of each kind the two roles see, so that every list has a form to open."""
    now = timezone.now()
    AccountBalance.objects.create(balance=Decimal("42"), currency="EUR", fetched_at=now)
    Price.objects.create(channel="sms", iso="BE", country="Belgium", service="ENT", price=Decimal("0.05"),
                         currency="EUR", fetched_at=now)
    make_contacts(3)
    vip = Tag.objects.create(name="vip")
    segment = Segment.objects.create(name="Belgians")
    segment.positive_tags.add(vip)
    done = ContactImport.objects.create(original_name="contacts.csv", state="done", rows_read=2, rows_imported=1,
                                        rows_rejected=1, created_by=owner)
    ContactImportRejection.objects.create(contact_import=done, line=3, reason="invalid number '12'", raw="12")
    Unsubscriber.objects.create(channel="sms", number="+32470999999", type="all")
    SyncRun.objects.create(resource="senders", direction="pull", state="done", summary="1 updated")
    sent = make_campaign(name="Autumn")
    Campaign.objects.filter(pk=sent.pk).update(state="sent", launched_at=now - timedelta(minutes=5))
    for n, status in enumerate(["delivered", "failed"]):
        message = Message.objects.create(campaign=sent, custom_id=f"a{n}", number=f"+3247000000{n}", status=status,
                                         submitted_at=now - timedelta(minutes=4), status_at=now - timedelta(minutes=n),
                                         bics_status="UNDELIV" if n else "DELIVRD", error_code="404" if n else "")
        DeliveryReport.objects.create(message=message, status=message.bics_status, code=message.error_code,
                                      raw={"location": "Belgium", "provider": "Proximus"})
    make_campaign(name="Draft", template=make_template(usable=False, content="Hi {{first_name}}, new in store."))
    return {"campaign": sent}


def _role(django_user_model, username, group):
    user = django_user_model.objects.create_user(username=username, password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def _links(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "els => els.map(e => e.getAttribute('href'))")


def _walk(page, base: str, start: list[str]) -> dict[str, list]:
    """Visits the start pages, the admin lists linked from the index (their first record and
    their add form), and every page of the navigation bar; axe on each one."""
    seen, found, queue = set(), {}, list(start)
    while queue:
        path = queue.pop(0)
        if not path or path in seen or any(s in path for s in SKIP) or not path.startswith("/"):
            continue
        seen.add(path)
        response = page.goto(base + path)
        assert response.status < 400, f"{path} answered {response.status}"
        page.wait_for_load_state("networkidle")
        problems = violations(page)
        if problems:
            found[path] = problems
        if path == "/admin/":
            queue += [href for href in _links(page, "#content-main a") if href.count("/") == 4 or href.endswith("/add/")]
        if path.count("/") == 4 and path.startswith("/admin/") and not path.endswith("/add/"):
            queue += _links(page, "#result_list tbody tr th a")[:1]
        queue += _links(page, ".staff-nav a")
    return {"seen": sorted(seen), "found": found}


@pytest.mark.parametrize("username, group", [("mia", "Marketing"), ("otto", "Template approvers")])
def test_no_serious_violation_on_any_page_of_the_role(page, live_server, django_user_model, records, username, group):
    _role(django_user_model, username, group)
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/admin/")
    campaign = records["campaign"]
    start = ["/", "/admin/"]  # approvers see neither campaigns nor prices (tests/security/test_url_matrix.py)
    if group == "Marketing":
        draft = Campaign.objects.get(name="Draft")
        start += ["/campaigns/", f"/campaigns/{campaign.pk}/", "/messaging/pricing/", "/campaigns/new/",
                  f"/campaigns/{draft.pk}/preview/", "/campaigns/send/"]
    result = _walk(page, live_server.url, start)
    paths = {urlparse(p).path for p in result["seen"]}
    assert "/admin/messaging/template/" in paths  # both roles read templates
    if group == "Marketing":
        assert {"/admin/contacts/segment/add/", "/admin/contacts/contactimport/add/"} <= paths
        assert any(p.startswith("/admin/contacts/segment/") and p.endswith("/change/") for p in paths)
    assert len(paths) >= (30 if group == "Marketing" else 6), sorted(paths)
    summary = {path: [(v["id"], v["nodes"][:2]) for v in found] for path, found in result["found"].items()}
    assert not summary, summary
