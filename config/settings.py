"""Settings for the BICS back-office, read from the environment (and `.env` when present).

Every value a deployment may change is an environment variable; `.env.example` lists them
with their defaults. Production mode (`DJANGO_DEBUG=0`, the default) refuses to start
without a real `DJANGO_SECRET_KEY`.
"""

import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from core.uploads import storage_backend

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY or SECRET_KEY.startswith("django-insecure"):
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Production mode (DJANGO_DEBUG=0) needs a real secret "
            "key: generate one with `python -c 'import secrets; print(secrets.token_urlsafe(50))'` "
            "and put it in the environment or .env. For local development set DJANGO_DEBUG=1."
        )
    # Development without a key (make run writes one into .env): a random one per process.
    SECRET_KEY = "django-insecure-" + secrets.token_urlsafe(32)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_celery_beat",
    "django_tables2",
    "django_filters",
    "axes",
    "core",
    "core.ops",
    "messaging.catalogue",
    "messaging.webhooks",
    "contacts",
    "messaging.campaigns",
    "voice",
    "verify",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # /s/<code> (tracked short links) answered here: recipients need no session, CSRF, user or lockout
    "messaging.campaigns.views_short_links.ShortLinkMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

if DEBUG:  # runserver serves static files itself; WhiteNoise serves collectstatic output
    MIDDLEWARE.remove("whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# --- Database -------------------------------------------------------------------------------
# SQLite is the embedded default; PostgreSQL by DATABASE_URL alone (psycopg is installed).
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the worker and beat share one file: WAL lets readers run beside the
    # writer, the busy timeout waits for a lock instead of failing, and IMMEDIATE takes the
    # write lock at BEGIN so two writers never deadlock upgrading a read lock.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": env.int("SQLITE_BUSY_TIMEOUT", default=30),
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # Reuse connections: each new one runs the WAL pragmas (costly per webhook delivery).
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Brussels")
USE_I18N = True
USE_TZ = True
# One unambiguous 24-hour date format for the staff ("2026-12-06 22:20"), in TIME_ZONE: the
# locale's formats win over these settings, so config/formats/en/ says the same.
FORMAT_MODULE_PATH = ["config.formats"]
DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = SHORT_DATETIME_FORMAT = "Y-m-d H:i"
TIME_FORMAT = "H:i"
# Tables of the staff pages paginate like the admin's lists.
DJANGO_TABLES2_TEMPLATE = "staff/table.html"

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploads (contact imports, campaign and bulk-call lists): "db" (default: every worker on every
# machine reads them from the database), "s3://bucket/prefix" (django-storages) or "file"
# (MEDIA_ROOT, one machine). See core/uploads.py.
MEDIA_STORAGE = env.str("MEDIA_STORAGE", default="db")
STORAGES = {
    "default": storage_backend(MEDIA_STORAGE, endpoint_url=env.str("AWS_S3_ENDPOINT_URL", default="")),
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")

LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "/"

# --- Cache: Redis when configured (shared by web and workers), else per process -------------
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# --- Email ----------------------------------------------------------------------------------
vars().update(env.email("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="bics-backoffice@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security (production) ------------------------------------------------------------------
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_COOKIE_HTTPONLY = True
# Pages and scripts read the token from the form field, never from the cookie.
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    # TLS ends at the proxy; it tells us the original scheme.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers call /healthz over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- BICS -----------------------------------------------------------------------------------
BICS_API_BASE_URL = env.str("BICS_API_BASE_URL", default="https://eu.cpaas.bics.com/api/v2/")
BICS_API_TOKEN = env.str("BICS_API_TOKEN", default="")
BICS_REFRESH_TOKEN = env.str("BICS_REFRESH_TOKEN", default="")
BICS_ROUTES = env.json("BICS_ROUTES", default={})
BICS_TIME_ZONE = env.str("BICS_TIME_ZONE", default="UTC")  # BICS timestamps carry no zone
BICS_USE_QUERY_TOKEN = env.bool("BICS_USE_QUERY_TOKEN", default=False)
BICS_USE_METHOD_OVERRIDE = env.bool("BICS_USE_METHOD_OVERRIDE", default=False)
BICS_CONNECT_TIMEOUT = env.float("BICS_CONNECT_TIMEOUT", default=3.05)
BICS_READ_TIMEOUT = env.float("BICS_READ_TIMEOUT", default=30.0)
BICS_RETRIES = env.int("BICS_RETRIES", default=3)
BICS_GET_BUDGET_PER_MINUTE = env.int("BICS_GET_BUDGET_PER_MINUTE", default=1000)
# Redis for the shared GET budget; empty means an in-process bucket.
BICS_RATE_LIMIT_REDIS_URL = env.str("BICS_RATE_LIMIT_REDIS_URL", default=CELERY_BROKER_URL)
# Local sandbox used by `make run` when no BICS_API_TOKEN is set.
BICS_SANDBOX_PORT = env.int("BICS_SANDBOX_PORT", default=8099)
BICS_SANDBOX_TOKEN = env.str("BICS_SANDBOX_TOKEN", default="sandbox-local-token")
# With no token in development, talk to the local sandbox that `make run` starts.
BICS_USE_SANDBOX = not BICS_API_TOKEN and DEBUG
if BICS_USE_SANDBOX:
    BICS_API_BASE_URL = env.str(
        "BICS_SANDBOX_URL", default=f"http://127.0.0.1:{BICS_SANDBOX_PORT}/api/v2/"
    )
    BICS_API_TOKEN = BICS_SANDBOX_TOKEN
# How healthz caches its BICS check: every GET spends the account's rate budget.
HEALTHZ_BICS_CACHE_SECONDS = env.int("HEALTHZ_BICS_CACHE_SECONDS", default=60)

PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")

# --- Logging: JSON lines, secrets redacted --------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="json")  # json | text
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "core.logging.RedactSecretsFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["redact"],
        },
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["redact"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.request": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

ADMINS = [tuple(a.split(":", 1)) for a in env.list("DJANGO_ADMINS", default=[]) if ":" in a]

# --- Product thresholds (defaults also in .env.example) -------------------------------------
BALANCE_WARNING_THRESHOLD = env.float("BALANCE_WARNING_THRESHOLD", default=50.0)

# --- Campaigns: the sending engine ----------------------------------------------------------
CAMPAIGN_BATCH_SIZE = env.int("CAMPAIGN_BATCH_SIZE", default=1000)  # numbers per `to` array
CAMPAIGN_CONCURRENCY = env.int("CAMPAIGN_CONCURRENCY", default=8)  # batches in flight per campaign
# A claim older than this belongs to a dead worker (keep above send_batch's hard time limit).
CAMPAIGN_CLAIM_TIMEOUT = env.int("CAMPAIGN_CLAIM_TIMEOUT", default=600)
# Seconds BICS gets to list a send before "not found by cid" means "not sent".
CAMPAIGN_RECONCILE_GRACE = env.int("CAMPAIGN_RECONCILE_GRACE", default=60)
# WhatsApp/Viber have no custom id: a DLR for the number within this window counts as ours.
CAMPAIGN_CHANNEL_RECONCILE_WINDOW = env.int("CAMPAIGN_CHANNEL_RECONCILE_WINDOW", default=600)
CAMPAIGN_DLR_POLL_MAX_GETS = env.int("CAMPAIGN_DLR_POLL_MAX_GETS", default=300)  # of 1000/min
# A submitted message without a final report after this many hours becomes "unreported" (not polled).
CAMPAIGN_DLR_MAX_AGE_HOURS = env.int("CAMPAIGN_DLR_MAX_AGE_HOURS", default=72)
CAMPAIGN_MAX_SCHEDULE_DAYS = env.int("CAMPAIGN_MAX_SCHEDULE_DAYS", default=30)  # documented
CAMPAIGN_CANCEL_CUTOFF_MINUTES = env.int("CAMPAIGN_CANCEL_CUTOFF_MINUTES", default=5)  # documented
CAMPAIGN_TEST_NUMBERS = env.list("CAMPAIGN_TEST_NUMBERS", default=[])  # set: test sends go only to these
CAMPAIGN_TEST_MAX_NUMBERS = env.int("CAMPAIGN_TEST_MAX_NUMBERS", default=3)  # numbers per test send
# Launch preparation: contacts per chunk transaction (identical text / personalised), a pause
# between chunks (leaves SQLite's one write lock to other writers), and after how many seconds
# without a chunk a preparation counts as stopped (the beat resumes it).
CAMPAIGN_LAUNCH_CHUNK = env.int("CAMPAIGN_LAUNCH_CHUNK", default=5000)
CAMPAIGN_LAUNCH_CHUNK_PERSONAL = env.int("CAMPAIGN_LAUNCH_CHUNK_PERSONAL", default=2000)
CAMPAIGN_LAUNCH_CHUNK_PAUSE = env.float("CAMPAIGN_LAUNCH_CHUNK_PAUSE", default=0.0)
CAMPAIGN_PREPARE_STALE = env.int("CAMPAIGN_PREPARE_STALE", default=60)
# Webhook events applied per set (one transaction), and how often a receiving process nudges the drain.
BICS_WEBHOOK_APPLY_SET = env.int("BICS_WEBHOOK_APPLY_SET", default=500)
BICS_WEBHOOK_KICK_SECONDS = env.float("BICS_WEBHOOK_KICK_SECONDS", default=0.5)
# SQLite: each server process appends callbacks to an inbox file of its own and moves them into
# the event table every BICS_WEBHOOK_INBOX_FLUSH_SECONDS (messaging/webhooks/inbox.py).
BICS_WEBHOOK_INBOX = env.bool("BICS_WEBHOOK_INBOX", default=True)
BICS_WEBHOOK_INBOX_DIR = env.str("BICS_WEBHOOK_INBOX_DIR", default="")  # default: beside the database file
BICS_WEBHOOK_INBOX_FLUSH_SECONDS = env.float("BICS_WEBHOOK_INBOX_FLUSH_SECONDS", default=1.0)

# --- Staff experience -----------------------------------------------------------------------
from datetime import timedelta as _timedelta  # noqa: E402

# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username
# from one address, that pair is locked out for AXES_COOLOFF_MINUTES. Axes' backend goes first.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = _timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "core/lockout.html"
# Reverse proxies in front of Django (0: none, REMOTE_ADDR is the client): with N > 0 the client
# address is read from X-Forwarded-For (django-ipware, expecting N proxies).
AXES_IPWARE_PROXY_COUNT = env.int("AXES_IPWARE_PROXY_COUNT", default=0) or None
if AXES_IPWARE_PROXY_COUNT:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
# Session timeout: signed out after SESSION_IDLE_TIMEOUT seconds without a request (0: off),
# and at the latest after SESSION_COOKIE_AGE (above).
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=30 * 60)
MIDDLEWARE.insert(MIDDLEWARE.index("axes.middleware.AxesMiddleware"), "core.middleware.SessionIdleTimeoutMiddleware")
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", default=True)
# Dashboard: how long its aggregates are cached (the balance threshold is BALANCE_WARNING_THRESHOLD).
DASHBOARD_CACHE_SECONDS = env.int("DASHBOARD_CACHE_SECONDS", default=60)

# --- Retention and alerts (core/retention.py, core/alerts.py; beat entries in config/schedule.py)
# Days before personal fields are blanked or masked; rows and counts stay.
RETENTION_MESSAGE_DAYS = env.int("RETENTION_MESSAGE_DAYS", default=365)  # message text, number
RETENTION_DLR_PAYLOAD_DAYS = env.int("RETENTION_DLR_PAYLOAD_DAYS", default=90)  # DeliveryReport.raw, mobile
RETENTION_WEBHOOK_PAYLOAD_DAYS = env.int("RETENTION_WEBHOOK_PAYLOAD_DAYS", default=30)  # WebhookEvent payload
RETENTION_IMPORT_ROWS_DAYS = env.int("RETENTION_IMPORT_ROWS_DAYS", default=30)  # rejected import rows
RETENTION_DELETED_CONTACT_DAYS = env.int("RETENTION_DELETED_CONTACT_DAYS", default=30)  # after a contact is deleted
ALERT_EMAILS = env.list("ALERT_EMAILS", default=[])  # default: DJANGO_ADMINS
ALERT_SYNC_FAILURES = env.int("ALERT_SYNC_FAILURES", default=3)  # consecutive failed runs of one resource
ALERT_DLR_LAG_MINUTES = env.int("ALERT_DLR_LAG_MINUTES", default=60)
ALERT_DLR_LAG_MIN_MESSAGES = env.int("ALERT_DLR_LAG_MIN_MESSAGES", default=10)
ALERT_GET_BUDGET_RATIO = env.float("ALERT_GET_BUDGET_RATIO", default=0.95)  # of BICS_GET_BUDGET_PER_MINUTE
ALERT_TOKEN_EXPIRY_DAYS = env.float("ALERT_TOKEN_EXPIRY_DAYS", default=7)
# The balance alert uses BALANCE_WARNING_THRESHOLD.

# --- Webhooks (messaging/webhooks/)
# HMAC key of the `Signature` header: "id" (the webhook's BICS id, as documented) or "secret".
BICS_WEBHOOK_SIGNATURE_KEY = env.str("BICS_WEBHOOK_SIGNATURE_KEY", default="id")
BICS_WEBHOOK_REQUIRE_SIGNATURE = env.bool("BICS_WEBHOOK_REQUIRE_SIGNATURE", default=False)
BICS_WEBHOOK_NAME = env.str("BICS_WEBHOOK_NAME", default="BICS back-office")  # "Connect this back-office"
BICS_WEBHOOK_SWEEP_AFTER = env.int("BICS_WEBHOOK_SWEEP_AFTER", default=300)  # seconds before a stored event is re-queued
SHORT_LINK_DAYS = env.int("SHORT_LINK_DAYS", default=90)  # a tracked short link (/s/<code>) works this long
# Visits append their click here; the beat drains them to the database. Empty: inserted at once.
SHORT_LINK_CLICKS_REDIS_URL = env.str("SHORT_LINK_CLICKS_REDIS_URL", default=CELERY_BROKER_URL)
BICS_SMART_LINK_PULL_DAYS = env.int("BICS_SMART_LINK_PULL_DAYS", default=30)  # visits pulled this long after a campaign
BICS_WEBHOOK_CACHE_SECONDS = env.float("BICS_WEBHOOK_CACHE_SECONDS", default=5)  # receiver's in-process webhook cache

# Task modules outside an app's tasks.py (the kernel's sync-run task).
CELERY_IMPORTS = ("core.sync_runs",)
