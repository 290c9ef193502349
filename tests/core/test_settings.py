"""Production settings: refuse to start without a secret key; `check --deploy` is clean."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, **env_overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BICS_"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", **env_overrides)
    # Keep a developer's .env out of it: settings read .env only for unset variables.
    env.setdefault("DATABASE_URL", "sqlite:///:memory:")
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_mode_refuses_to_start_without_secret_key():
    result = run_manage("check", DJANGO_DEBUG="0", DJANGO_SECRET_KEY="", ALLOWED_HOSTS="example.com")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_production_mode_refuses_the_insecure_development_key():
    result = run_manage(
        "check", DJANGO_DEBUG="0", DJANGO_SECRET_KEY="django-insecure-abc", ALLOWED_HOSTS="example.com"
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="k" * 20 + "Zq9!x7_Vb2@Lm4#Np6$Rt8%Ws0^Yu3&",
        ALLOWED_HOSTS="backoffice.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_sqlite_runs_in_wal_mode_with_busy_timeout(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0].lower() == "wal"
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert connection.settings_dict["OPTIONS"]["timeout"] >= 5


def test_postgres_by_database_url_alone():
    import environ

    config = environ.Env.db_url_config("postgres://bics:pw@db.example.com:5432/bics")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    import psycopg  # the driver is installed from requirements.txt

    assert psycopg.__version__


PROBE = """
from django.test import Client
c = Client()
h = c.get('/healthz', HTTP_HOST='backoffice.example.com')
a = c.get('/admin/', HTTP_HOST='backoffice.example.com')
s = c.get('/admin/', HTTP_HOST='backoffice.example.com', secure=True)
print('|'.join(map(str, [h.status_code, a.status_code, a.get('Location'), s.get('Strict-Transport-Security')])))
"""


def test_production_redirects_to_https_except_healthz():
    result = run_manage(
        "shell",
        "-c",
        PROBE,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="k" * 20 + "Zq9!x7_Vb2@Lm4#Np6$Rt8%Ws0^Yu3&",
        ALLOWED_HOSTS="backoffice.example.com",
    )
    assert result.returncode == 0, result.stderr
    health_status, admin_status, location, hsts = result.stdout.strip().splitlines()[-1].split("|")
    assert health_status in ("200", "503")  # answered, not redirected
    assert admin_status == "301" and location.startswith("https://")
    assert "max-age=31536000" in hsts
