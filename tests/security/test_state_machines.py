"""One state machine per stateful model (contact import, bulk call, OTP request): the declared
table is pinned here, every transition is tried from every state through the one conditional
UPDATE, and the services that move these records refuse what the table refuses."""

from __future__ import annotations

from datetime import timedelta
from itertools import product

import pytest
from django.utils import timezone

from contacts.models import IMPORT_STATES, ContactImport, ImportState
from core.states import IllegalTransition
from verify.models import OTP_STATES, OtpRequest, OtpStatus
from voice.models import BULK_CALL_STATES, BulkCall

pytestmark = pytest.mark.django_db

Imp, B, Otp = ImportState, BulkCall.State, OtpStatus
EXPECTED = {
    "import": {(Imp.QUEUED, Imp.RUNNING), (Imp.QUEUED, Imp.FAILED), (Imp.RUNNING, Imp.DONE), (Imp.RUNNING, Imp.FAILED),
               (Imp.RUNNING, Imp.RUNNING), (Imp.FAILED, Imp.RUNNING)},
    "bulk_call": {(B.DRAFT, B.SENDING), (B.DRAFT, B.CANCELLED), (B.SENDING, B.SENT), (B.SENDING, B.FAILED),
                  (B.SENDING, B.CANCELLED)},
    "otp": {(Otp.PENDING, Otp.SENT), (Otp.PENDING, Otp.ERROR),
            *((Otp.SENT, closed) for closed in (Otp.SUCCESS, Otp.INVALID, Otp.EXPIRED, Otp.FAILED, Otp.ALREADY_VERIFIED,
                                              Otp.CANCELLED))},
}


def _import(state):
    return ContactImport.objects.create(original_name="x.csv", state=state)


def _bulk(state):
    return BulkCall.objects.create(name="b", bridge="+3225551000", state=state)


def _otp(state):
    return OtpRequest.objects.create(number="+32470000001", channels=["sms"], status=state)


MACHINES = {
    "import": (IMPORT_STATES, ContactImport, ImportState.values, _import),
    "bulk_call": (BULK_CALL_STATES, BulkCall, BulkCall.State.values, _bulk),
    "otp": (OTP_STATES, OtpRequest, OtpStatus.values, _otp),
}


@pytest.mark.parametrize("name", MACHINES)
def test_the_declared_table_is_the_agreed_one(name):
    machine, _, states, _ = MACHINES[name]
    declared = {(s, t) for s, t in product(states, states) if machine.allowed(s, t)}
    assert declared == {(str(s), str(t)) for s, t in EXPECTED[name]}
    assert machine.states <= set(states)


CASES = [(name, source, target) for name, (_, _, states, _) in MACHINES.items()
         for source, target in product(states, states)]


@pytest.mark.parametrize(("name", "source", "target"), CASES)
def test_every_transition_from_every_state(name, source, target):
    machine, model, _, make = MACHINES[name]
    row = make(source)
    allowed = (source, target) in {(str(s), str(t)) for s, t in EXPECTED[name]}
    if not machine.sources(target):  # nothing may ever move there: asking is a programming error
        with pytest.raises(IllegalTransition):
            machine.move(model.objects, row.pk, target)
        return
    assert machine.move(model.objects, row.pk, target) is allowed
    row.refresh_from_db()
    assert getattr(row, machine.field) == (target if allowed else source)


def test_a_move_is_one_conditional_update(django_assert_num_queries):
    row = _bulk(BulkCall.State.DRAFT)
    with django_assert_num_queries(1):
        assert BULK_CALL_STATES.move(BulkCall.objects, row.pk, BulkCall.State.SENDING)
    with django_assert_num_queries(1):
        assert not BULK_CALL_STATES.move(BulkCall.objects, row.pk, BulkCall.State.SENDING)


def test_narrowing_to_an_undeclared_source_is_refused():
    row = _import(ImportState.DONE)
    with pytest.raises(IllegalTransition):
        IMPORT_STATES.move(ContactImport.objects, row.pk, ImportState.RUNNING, only_from=[ImportState.DONE])


# --- the services go through the table ----------------------------------------------------
@pytest.fixture
def contacts_csv(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("phone\n+32470000001\n", encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(("state", "runs"), [(ImportState.QUEUED, True), (ImportState.FAILED, True),
                                             (ImportState.DONE, False), (ImportState.RUNNING, False)])
def test_an_import_runs_only_from_where_the_table_allows(contacts_csv, state, runs):
    from contacts.services.imports import ImportBusy, contacts_import

    item = ContactImport.objects.create(original_name="c.csv", state=state, started_at=timezone.now())
    if runs:
        contacts_import(contact_import=item, path=contacts_csv, workers=0)
        assert ContactImport.objects.get(pk=item.pk).state == ImportState.DONE
    else:
        with pytest.raises(ImportBusy):
            contacts_import(contact_import=item, path=contacts_csv, workers=0)
        assert ContactImport.objects.get(pk=item.pk).state == state


def test_an_import_whose_worker_is_long_gone_is_taken_over(contacts_csv):
    from contacts.services.imports import STALE_AFTER, contacts_import

    item = ContactImport.objects.create(original_name="c.csv", state=ImportState.RUNNING,
                                        started_at=timezone.now() - STALE_AFTER - timedelta(minutes=1))
    contacts_import(contact_import=item, path=contacts_csv, workers=0)
    assert ContactImport.objects.get(pk=item.pk).state == ImportState.DONE


@pytest.mark.parametrize("closed", [OtpStatus.CANCELLED, OtpStatus.EXPIRED, OtpStatus.ERROR])
def test_a_late_verify_answer_does_not_reopen_a_closed_otp(closed):
    from verify.services import apply_verify_status

    otp = _otp(closed)
    apply_verify_status(otp, "success")
    otp.refresh_from_db()
    assert otp.status == closed and otp.verified_at is None


def test_a_send_answer_after_the_sweeper_closed_the_request_does_not_reopen_it():
    from types import SimpleNamespace

    from verify.services import _record_send_answer

    otp = _otp(OtpStatus.ERROR)
    _record_send_answer(otp, SimpleNamespace(status="sent", id="b-1", foreign_id="", expire_at=None))
    otp.refresh_from_db()
    assert otp.status == OtpStatus.ERROR


@pytest.mark.parametrize("state", [BulkCall.State.SENT, BulkCall.State.FAILED, BulkCall.State.CANCELLED])
def test_a_finished_bulk_call_cannot_be_cancelled(state):
    from voice.services.bulk import bulk_call_cancel

    bulk = _bulk(state)
    bulk_call_cancel(bulk)
    bulk.refresh_from_db()
    assert bulk.state == state
