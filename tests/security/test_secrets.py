"""The BICS token and webhook secrets never appear in logs, error pages, the admin, /healthz
or exception reports. Captured logs (every logger, DEBUG) are grepped for them."""

from __future__ import annotations

import logging

import pytest
import requests
from django.test import Client

pytestmark = pytest.mark.django_db
TOKEN = "tok-SECRET-0a1b2c3d4e5f6a7b8c9d"


def leaked(text: str) -> bool:
    return TOKEN in text or TOKEN[4:] in text


def test_token_not_in_healthz_admin_or_logs_while_bics_fails(settings, caplog, admin_client):
    settings.BICS_API_TOKEN = TOKEN
    settings.BICS_API_BASE_URL = "http://127.0.0.1:9/api/v2/"  # nothing listens: errors everywhere
    settings.BICS_RETRIES = 0
    caplog.set_level(logging.DEBUG)
    pages = [Client().get("/healthz"), admin_client.get("/admin/"), admin_client.get("/admin/messaging/sender/"),
             admin_client.get("/admin/messaging/accountbalance/")]
    for page in pages:
        assert not leaked(page.content.decode(errors="replace")), page.wsgi_request.path
    assert not leaked(caplog.text)


def test_token_not_in_client_errors_or_logs_against_the_sandbox(bics_sandbox, settings, caplog):
    from bics.errors import BicsError
    from core.bics import get_client

    caplog.set_level(logging.DEBUG)
    root = bics_sandbox.url.split("/api/v2/")[0]
    requests.post(root + "/_sandbox/config", json={"faults": [{"kind": "error", "status": 500}]},
                  timeout=5).raise_for_status()
    settings.BICS_API_TOKEN = TOKEN
    settings.BICS_USE_QUERY_TOKEN = True  # the worst case: the token in the URL
    try:
        from bics import account

        with pytest.raises(BicsError) as info:
            account.get_balance(get_client())
        assert not leaked(str(info.value)) and not leaked(repr(info.value))
    finally:
        requests.post(root + "/_sandbox/config", json={"faults": []}, timeout=5)
    assert not leaked(caplog.text)


def test_logging_filter_redacts_tokens_in_messages_and_arguments(settings, caplog):
    from core.logging import RedactSecretsFilter

    settings.BICS_API_TOKEN = TOKEN
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "calling %s with Bearer %s and secret=%s",
                               ("https://x/api?access_token=" + TOKEN, TOKEN, "whsec-abcdef123456"), None)
    RedactSecretsFilter().filter(record)
    text = record.getMessage()
    assert not leaked(text) and "whsec-abcdef123456" not in text


def test_500_page_shows_no_settings_or_token(settings, client):
    settings.DEBUG = False
    settings.BICS_API_TOKEN = TOKEN
    response = client.get("/no-such-page-xyz/")
    assert response.status_code == 404
    assert not leaked(response.content.decode())


def test_exception_reporter_hides_the_token(settings, rf):
    """The technical 500 page (DEBUG) and the error e-mails cleanse settings matching TOKEN/SECRET."""
    import sys

    from django.views.debug import ExceptionReporter

    settings.BICS_API_TOKEN = TOKEN
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        reporter = ExceptionReporter(rf.get("/"), *sys.exc_info())
        html, text = reporter.get_traceback_html(), reporter.get_traceback_text()
    assert not leaked(html) and not leaked(text)
