"""`make run`'s script: a quiet start with a short summary, e-mails to a file, PORT honoured."""

import importlib.util
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import call_command

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "devrun.py"


@pytest.fixture(scope="module")
def devrun():
    spec = importlib.util.spec_from_file_location("devrun", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_summary_names_the_address_the_user_the_password_and_the_logs(devrun):
    settings = SimpleNamespace(BICS_USE_SANDBOX=True, BICS_SANDBOX_PORT=8099, BICS_API_BASE_URL="",
                               EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend")
    text = devrun.summary(settings, "8080", "s3cret", "balance 1000.00 EUR, 50 prices")
    assert "http://127.0.0.1:8080/" in text and "admin / s3cret" in text
    assert "var/log/run.log" in text and "var/log/mail/" in text and "balance 1000.00 EUR" in text
    assert len(text.splitlines()) <= 10
    again = devrun.summary(settings, "8000", "", "x")
    assert "changepassword admin" in again and "s3cret" not in again


def test_console_e_mails_go_to_a_file_and_other_backends_are_kept(devrun):
    console = SimpleNamespace(EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend")
    assert devrun.child_env(console)["EMAIL_URL"].startswith("filemail://")
    assert devrun.child_env(console)["EMAIL_URL"].endswith("var/log/mail")
    smtp = SimpleNamespace(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend")
    assert "filemail" not in devrun.child_env(smtp).get("EMAIL_URL", "")


def test_only_warnings_and_errors_reach_the_terminal(devrun):
    assert devrun.LOUD.search('{"level": "ERROR", "message": "boom"}')
    assert not devrun.LOUD.search('{"level": "INFO", "message": "Task succeeded"}')
    assert devrun.NOISE.search("WARNING: This is a development server.")


@pytest.mark.django_db
def test_local_admin_login_line_honours_port(monkeypatch):
    monkeypatch.setenv("PORT", "8123")
    out = StringIO()
    call_command("ensure_local_admin", stdout=out)
    assert "login at: http://127.0.0.1:8123/admin/" in out.getvalue()
