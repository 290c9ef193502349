"""The bad-input corpus (tests/data/bad/cases.json, one case per entry): every case gets a
clear error naming the problem, and nothing is half-written.

Entry points: contact imports (files refused whole / rows rejected one by one), CSV exports
(formula injection), BICS responses that are malformed or truncated (a local HTTP server
serves the corpus file to the real client), the template admin form, the Verify JSON API,
campaign schedules, management commands. Huge files and lines are generated at run time."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

CORPUS = Path(__file__).resolve().parents[1] / "data" / "bad"
CASES = json.loads((CORPUS / "cases.json").read_text())


# Gaps found by the corpus, each with its fix written in NEEDS-reliability.md (other owners'
# code); they turn into passes as the fixes land (xfail is not strict).
KNOWN_GAPS: dict[str, str] = {}  # none open


def by_entry(*entries):
    chosen = [c for c in CASES if c["entry"] in entries]
    params = [pytest.param(c, id=c["id"], marks=[pytest.mark.xfail(reason=KNOWN_GAPS[c["id"]], strict=False)]
                           if c["id"] in KNOWN_GAPS else []) for c in chosen]
    return pytest.mark.parametrize("case", params)


def named(problem: str, text: str) -> bool:
    return problem.lower() in text.lower()


def test_the_corpus_covers_every_entry_point_with_at_least_50_cases():
    assert len(CASES) >= 50
    assert {c["entry"] for c in CASES} >= {"import_refused", "import_row", "formula_export", "api_response",
                                           "template_form", "verify_api", "schedule", "command"}


# --------------------------------------------------------------------------- imports
@pytest.mark.django_db
@by_entry("import_refused")
def test_import_refuses_the_whole_file_and_writes_nothing(case):
    from contacts.models import Contact
    from contacts.services.imports import ImportRefused, contacts_import_file

    with pytest.raises(ImportRefused) as info:
        contacts_import_file(path=str(CORPUS / case["file"]), workers=0)
    assert named(case["expect"], str(info.value)), str(info.value)
    assert Contact.objects.count() == 0


@pytest.mark.django_db
@by_entry("import_row")
def test_import_rejects_the_bad_row_with_its_reason_and_keeps_the_good_ones(case):
    from contacts.models import Contact, ContactImportRejection
    from contacts.services.imports import contacts_import_file

    contact_import, result = contacts_import_file(path=str(CORPUS / case["file"]), workers=0)
    assert result.rejected == 1, (result, list(ContactImportRejection.objects.values_list("reason", flat=True)))
    reason = ContactImportRejection.objects.get(contact_import=contact_import).reason
    assert named(case["expect"], reason), reason
    assert Contact.objects.count() == case["good"]


@pytest.mark.django_db
@by_entry("import_generated")
def test_generated_huge_inputs_are_refused_or_rejected_by_name(case, tmp_path):
    from contacts.models import Contact, ContactImportRejection
    from contacts.services.imports import ImportRefused, contacts_import_file

    path = tmp_path / "huge.csv"
    with open(path, "wb") as fh:
        fh.write(b"phone,first_name\n+32470123456,Ann\n")
        if case["generate"] == "huge_line":
            fh.write(b"+32470123457," + b"x" * (3 << 20) + b"\n")
        else:  # 30 MB of good rows, then one Latin-1 byte at the very end
            row = b"+32470123458,Bob\n"
            fh.write(row * (30 * (1 << 20) // len(row)))
            fh.write(b"+32470123459,Chlo\xe9\n")
    try:
        _, result = contacts_import_file(path=str(path), workers=0)
    except ImportRefused as exc:
        assert named(case["expect"], str(exc)) or "too large" in str(exc).lower(), str(exc)
        assert Contact.objects.count() == 0
        return
    reasons = list(ContactImportRejection.objects.values_list("reason", flat=True))
    assert result.rejected >= 1 and any("long" in r or "large" in r for r in reasons), reasons


@pytest.mark.django_db
@by_entry("formula_export")
def test_formula_injection_is_kept_as_text_and_escaped_in_exports(case):
    from contacts.models import Contact
    from contacts.services.exports import csv_lines
    from contacts.services.imports import contacts_import_file

    contacts_import_file(path=str(CORPUS / case["file"]), workers=0)
    contact = Contact.objects.get()
    assert contact.first_name == case["expect"]  # stored as typed
    exported = "".join(csv_lines([[contact.phone, contact.first_name]], bom=False))
    assert ",'" + case["expect"][:1] in exported.replace('"', ""), exported
    assert "'" + contact.phone in exported  # +32… is escaped too: no =+ formula in Excel


# --------------------------------------------------------------------------- BICS responses
class _Canned(BaseHTTPRequestHandler):
    status, ctype, body = 200, "application/json", b""

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(self.status)
        self.send_header("Content-Type", self.ctype)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def canned():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Canned)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


@by_entry("api_response")
def test_malformed_or_truncated_bics_answer_raises_a_clear_bics_error(case, canned):
    from bics import account, sms
    from bics.client import BicsClient
    from bics.errors import BicsError

    _Canned.status, _Canned.ctype = case["status"], case["content_type"]
    _Canned.body = (CORPUS / case["file"]).read_bytes()
    client = BicsClient(f"http://127.0.0.1:{canned.server_port}/api/v2/", token="t0ken-for-corpus", retries=0)
    with pytest.raises(BicsError) as info:
        if case["call"] == "sms.send_message":
            sms.send_message(client, to=["32470123456"], message="Hello there", sender="ACME", service="ENT",
                             custom="corpus-1")
        else:
            account.get_balance(client)
    text = str(info.value)
    assert text and "Traceback" not in text
    assert named(case["expect"], text) or named(str(case["status"]), text), text


# --------------------------------------------------------------------------- admin form
@pytest.mark.django_db
@by_entry("template_form")
def test_template_form_names_the_broken_variable_and_saves_nothing(case):
    from messaging.catalogue.forms import TemplateAdminForm
    from messaging.catalogue.models import Sender, Template

    sender = Sender.objects.create(name="ACME", country_code="BE", service="ENT", status=1)
    form = TemplateAdminForm(data={"channel": "sms", "name": "bad_tpl", "sender": sender.pk, "template_type": "SI",
                                   "message_type": "A", "content": (CORPUS / case["file"]).read_text(),
                                   "channel_payload": "{}"})
    assert not form.is_valid()
    text = " ".join(str(e) for errors in form.errors.values() for e in errors)
    assert named(case["expect"], text), text
    assert not Template.objects.exists()


# --------------------------------------------------------------------------- Verify JSON API
@pytest.mark.django_db
@by_entry("verify_api")
def test_verify_api_answers_400_naming_the_problem(case, client):
    from verify.models import OtpRequest
    from verify.services import api_client_create

    created = api_client_create(name="corpus")
    raw_key = created[1] if isinstance(created, tuple) else created.raw_key
    body = ("{\"number\": \"" + "9" * (2 << 20) + "\"}").encode() if case.get("generate") else \
        (CORPUS / case["file"]).read_bytes()
    response = client.post("/verify/api/otp/", body, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    assert response.status_code == 400, response.content[:300]
    payload = response.json()
    assert named(case["expect"], payload["error"] + " " + payload["detail"]), payload
    assert not OtpRequest.objects.exists()


# --------------------------------------------------------------------------- schedules
@pytest.mark.django_db
@by_entry("schedule")
def test_schedule_outside_the_window_is_refused_and_the_draft_stays(case, django_user_model):
    from contacts.models import Tag
    from messaging.campaigns.models import Campaign
    from messaging.campaigns.services.campaigns import CampaignError, campaign_schedule
    from messaging.catalogue.models import Channel, Sender, Template

    owner = django_user_model.objects.create_user(username="o", password="x", is_staff=True)
    sender = Sender.objects.create(name="ACME", country_code="BE", service="ENT", status=1)
    template = Template.objects.create(name="t1", channel=Channel.SMS, sender=sender, template_type="SI",
                                       content="Hello {{first_name}}, our shop opens on Monday.", author=owner)
    campaign = Campaign.objects.create(name="c", template=template, owner=owner, channel=Channel.SMS, sender=sender)
    campaign.tags.add(Tag.objects.create(name="a"))
    with pytest.raises(CampaignError) as info:
        campaign_schedule(campaign=campaign, at=timezone.now() + timedelta(days=case["days"]), user=owner)
    assert named(case["expect"], str(info.value)), str(info.value)
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.DRAFT and campaign.scheduled_at is None


# --------------------------------------------------------------------------- commands
@pytest.mark.django_db
@by_entry("command")
def test_management_command_fails_with_a_clear_message(case):
    from contacts.models import Contact

    args = [str(CORPUS / "imports" / "latin1.csv") if a == "@latin1" else a for a in case["args"]]
    with pytest.raises(CommandError) as info:
        call_command(*args)
    assert named(case["expect"], str(info.value)), str(info.value)
    assert Contact.objects.count() == 0
