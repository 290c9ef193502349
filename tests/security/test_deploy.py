"""Production mode: ``check --deploy`` is clean and the security headers are present."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "prod-" + "k9Zx" * 16, "ALLOWED_HOSTS": "backoffice.example.com",
              "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": "sqlite:////tmp/deploy-check.sqlite3",
              "BICS_API_TOKEN": "prod-token-abcdef012345", "LOG_FORMAT": "text"}


def test_check_deploy_is_clean_in_production_mode():
    env = {**os.environ, **PRODUCTION}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by tests/conftest.py for Playwright only
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "prod-token-abcdef012345" not in result.stdout + result.stderr


@pytest.mark.django_db
def test_security_headers_on_pages(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = client.get("/admin/login/", secure=True)
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "max-age=31536000" in response["Strict-Transport-Security"]
    csrf = response.cookies["csrftoken"]  # the login form sets it
    assert csrf["httponly"] is True and csrf["samesite"] == "Lax", csrf.OutputString()


def test_production_settings_harden_cookies_and_https():
    code = ("from django.conf import settings as s; import json; print(json.dumps([s.SESSION_COOKIE_SECURE, "
            "s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0, s.SESSION_COOKIE_HTTPONLY, "
            "s.DEBUG]))")
    env = {**os.environ, **PRODUCTION}
    result = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[true, true, true, true, true, false]", result.stderr[-2000:]
