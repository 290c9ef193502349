import logging

from core.logging import RedactSecretsFilter, redact


def test_known_token_is_redacted(settings):
    settings.BICS_API_TOKEN = "abcdef123456secret"
    assert "abcdef123456secret" not in redact("calling with abcdef123456secret")


def test_access_token_query_and_bearer_header_are_redacted():
    text = redact("GET https://x/api/v2/auth/me?access_token=38e896f5&x=1 Authorization: Bearer eyJhbGciOi.x.y")
    assert "38e896f5" not in text and "eyJhbGciOi" not in text
    assert "x=1" in text


def test_filter_rewrites_message_args_and_traceback(settings):
    settings.BICS_API_TOKEN = "tok-0123456789"
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, "token %s", ("tok-0123456789",), None)
    try:
        raise RuntimeError("failed with tok-0123456789")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    assert RedactSecretsFilter().filter(record)
    assert "tok-0123456789" not in record.getMessage()
    assert "tok-0123456789" not in record.exc_text
