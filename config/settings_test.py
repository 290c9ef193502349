"""Settings for the test suite: production settings with test-only values pinned.

The values that must not leak in from a developer's `.env` are set before the base
settings read the environment.
"""

import os

os.environ["DJANGO_DEBUG"] = "1"  # Django's test runner switches DEBUG off again at run time
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-0123456789-abcdefghijklmnop")
os.environ["BICS_API_TOKEN"] = ""
os.environ["BICS_REFRESH_TOKEN"] = ""
os.environ["BICS_ROUTES"] = "{}"
os.environ["CELERY_BROKER_URL"] = "memory://"
os.environ["CACHE_URL"] = "locmemcache://"
os.environ["BICS_RATE_LIMIT_REDIS_URL"] = ""
os.environ["EMAIL_URL"] = "consolemail://"
os.environ["LOG_FORMAT"] = "text"
os.environ["DATABASE_URL"] = os.environ.get("TEST_DATABASE_URL", "sqlite:///var/dev-test.sqlite3")

from .settings import *  # noqa: E402,F403
from .settings import BASE_DIR, DATABASES  # noqa: E402

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so Celery workers and live servers started by tests see the data;
    # one per test process, so parallel runs never share it.
    (BASE_DIR / "var").mkdir(exist_ok=True)
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("TEST_SQLITE_NAME", str(BASE_DIR / "var" / f"test-{os.getpid()}.sqlite3"))
    }

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
BICS_USE_SANDBOX = False
BICS_API_BASE_URL = "http://127.0.0.1:9/api/v2/"  # tests point this at their sandbox
STORAGES = {
    "default": {"BACKEND": "core.uploads.DatabaseStorage"},  # as in production: no shared disk
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Callbacks go to the event table at once (a test reads it right after posting, whatever the
# broker's state); tests/webhooks/test_inbox.py turns the inbox on, and the drain moves it
# there (no flush thread beside the tests unless a test asks for one).
BICS_WEBHOOK_INBOX = False
BICS_WEBHOOK_INBOX_FLUSH_SECONDS = 0
