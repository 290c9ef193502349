"""The URL permission matrix: every pattern of the URL resolver (admin included), five roles,
the expected answer from ONE table.

- ``PAGES`` names every non-admin URL and every custom admin view with the answer each role
  gets: ``OK`` (200), ``LOGIN`` (302 to the staff login), ``DENY`` (403), ``NOPE`` (405: the
  view takes POST only), or a code. Roles: anonymous, staff without groups, Marketing,
  Template approvers, superuser.
- The admin's model pages (changelist, add, change, delete, history of every registered
  ModelAdmin) answer by the model permissions (Django's codenames); ``ADMIN_NARROWED`` lists the
  admins that refuse more than that (records nobody adds, edits or deletes by hand) and
  ``ADMIN_WIDENED`` the ones that show more.
- A URL of the resolver that the table does not know fails the test: a new view gets a row.
- Every view that takes POST is also posted without a CSRF token (403), and every URL is read
  with GET by the superuser without changing a row anywhere.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import uuid

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "staff", "marketing", "approver", "superuser")
OK, LOGIN, DENY, NOPE, FOUND = 200, "login", 403, 405, 302
API = 401  # the Verify API answers by its own key, never by the session

# name -> (anonymous, staff without groups, marketing, approver, superuser)
PAGES: dict[str, tuple] = {
    "healthz": (OK, OK, OK, OK, OK),
    # ops
    "ops:home": (LOGIN, OK, OK, OK, OK),
    "ops:sync-runs": (LOGIN, OK, OK, OK, OK),  # every staff user reads the sync runs
    # verify (staff test pages and the key-authenticated API)
    "verify:overview": (LOGIN, DENY, DENY, DENY, OK),
    "verify:send": (LOGIN, DENY, DENY, DENY, OK),
    "verify:detail": (LOGIN, DENY, DENY, DENY, OK),
    "verify:action": (NOPE, NOPE, NOPE, NOPE, NOPE),
    "verify:api-send": (NOPE, NOPE, NOPE, NOPE, NOPE),
    "verify:api-check": (NOPE, NOPE, NOPE, NOPE, NOPE),
    # catalogue
    "messaging:pricing": (LOGIN, DENY, OK, DENY, OK),  # messaging.view_price
    "messaging:template-preview": (LOGIN, DENY, OK, OK, OK),  # messaging.view_template
    # contacts
    "contacts:import_progress": (LOGIN, DENY, OK, DENY, OK),  # contacts.view_contactimport
    "contacts:import_rejections": (LOGIN, DENY, OK, DENY, OK),
    "contacts:segment_preview": (LOGIN, NOPE, NOPE, NOPE, NOPE),
    "contacts:segment_export": (LOGIN, DENY, OK, DENY, OK),  # contacts.view_segment + view_contact
    # voice
    "voice:overview": (LOGIN, DENY, OK, DENY, OK),  # voice.view_call
    "voice:tts": (LOGIN, DENY, OK, DENY, OK),  # voice.add_call
    "voice:click2call": (LOGIN, DENY, OK, DENY, OK),
    "voice:status": (LOGIN, DENY, OK, DENY, OK),  # voice.view_call
    "voice:logs": (LOGIN, DENY, OK, DENY, OK),  # voice.view_calllog
    "voice:recordings": (LOGIN, DENY, OK, DENY, OK),  # voice.view_callrecording
    "voice:pricing": (LOGIN, DENY, OK, DENY, OK),  # voice.view_voiceprice
    # campaigns (the wizard makes and launches campaigns: campaigns.add_campaign)
    "wizard:start": (LOGIN, DENY, OK, DENY, OK),
    "wizard:template-new": (LOGIN, DENY, FOUND, DENY, FOUND),  # no draft yet: back to the first step
    "wizard:audience-count": (LOGIN, DENY, OK, DENY, OK),
    "wizard:audience": (LOGIN, DENY, OK, DENY, OK),
    "wizard:template": (LOGIN, DENY, OK, DENY, OK),
    "wizard:schedule": (LOGIN, DENY, OK, DENY, OK),
    "wizard:preview": (LOGIN, DENY, OK, DENY, OK),
    "wizard:test": (LOGIN, DENY, OK, DENY, OK),
    "wizard:launch": (LOGIN, DENY, OK, DENY, OK),
    "campaigns:list": (LOGIN, DENY, OK, DENY, OK),  # campaigns.view_campaign
    "campaigns:one-off": (LOGIN, DENY, OK, DENY, OK),  # a send permission
    "campaigns:detail": (LOGIN, DENY, OK, DENY, OK),
    "campaigns:progress": (LOGIN, DENY, OK, DENY, OK),
    "campaigns:messages-csv": (LOGIN, DENY, OK, DENY, OK),
    "campaigns:preview": (LOGIN, DENY, OK, DENY, OK),
    # the BICS receiver: authenticated by the webhook's secret, never by a session
    "webhooks:receive": (DENY, DENY, DENY, DENY, DENY),
    # the admin site's own pages
    "admin:index": (LOGIN, OK, OK, OK, OK),
    "admin:login": (OK, FOUND, FOUND, FOUND, FOUND),  # a signed-in user goes to the index
    "admin:logout": (FOUND, NOPE, NOPE, NOPE, NOPE),
    "admin:password_change": (LOGIN, OK, OK, OK, OK),
    "admin:password_change_done": (LOGIN, OK, OK, OK, OK),
    "admin:autocomplete": (LOGIN, DENY, DENY, DENY, DENY),  # without a field to complete
    "admin:jsi18n": (LOGIN, OK, OK, OK, OK),
    "admin:view_on_site": (LOGIN, 404, 404, 404, 404),  # no model here has a public page
    "admin:app_list": (LOGIN, 404, OK, OK, OK),  # the messaging app; 404 when nothing of it shows
    "admin:catch_all": (LOGIN, 404, 404, 404, 404),
    "admin:moved": (301, 301, 301, 301, 301),  # old bookmarks of models that left "messaging"
    "media": (404, 404, 404, 404, 404),  # served by Django only with DEBUG
    # public: a live code redirects (302) and records the click (tests/campaigns/test_tracked_links.py)
    "short-link": (404, 404, 404, 404, 404),
    # custom admin views
    "admin:messaging_template_decide": (LOGIN, DENY, DENY, DENY, DENY),  # a decision is a POST
    "admin:messaging_unsubscriber_import": (LOGIN, DENY, OK, DENY, OK),  # messaging.add_unsubscriber
    "admin:messaging_unsubscriber_export": (LOGIN, DENY, OK, DENY, OK),  # messaging.view_unsubscriber
    "admin:messaging_unsubscriber_clean": (LOGIN, DENY, DENY, DENY, OK),  # superusers only
    "admin:messaging_blockedtemplate_import": (LOGIN, DENY, OK, DENY, OK),
    "admin:messaging_blockedtemplate_export": (LOGIN, DENY, OK, DENY, OK),
    "admin:messaging_blockedtemplate_clean": (LOGIN, DENY, DENY, DENY, OK),
    "admin:voice_voiceunsubscriber_import": (LOGIN, DENY, OK, DENY, OK),
    "admin:voice_voiceunsubscriber_export": (LOGIN, DENY, OK, DENY, OK),
    "admin:voice_voiceunsubscriber_clean": (LOGIN, DENY, DENY, DENY, OK),
    "admin:webhooks_webhook_connect": (LOGIN, DENY, DENY, DENY, OK),  # webhooks.change_webhook
    "admin:auth_user_password_change": (LOGIN, DENY, DENY, DENY, OK),  # auth.change_user
    # pull buttons: POST only (who may press them: tests/catalogue/test_admin.py)
    "admin:campaigns_smartlink_pull": (LOGIN, NOPE, NOPE, NOPE, NOPE),
    "admin:messaging_accountbalance_pull": (LOGIN, NOPE, NOPE, NOPE, NOPE),
    "admin:messaging_blockedtemplate_pull": (LOGIN, NOPE, NOPE, NOPE, NOPE),
    "admin:messaging_price_pull": (LOGIN, NOPE, NOPE, NOPE, NOPE),
    "admin:messaging_sender_pull": (LOGIN, NOPE, NOPE, NOPE, NOPE),
    "admin:messaging_template_pull": (LOGIN, NOPE, NOPE, NOPE, NOPE),
    "admin:messaging_unsubscriber_pull": (LOGIN, NOPE, NOPE, NOPE, NOPE),
    "admin:webhooks_subscription_pull": (LOGIN, NOPE, NOPE, NOPE, NOPE),
    "admin:webhooks_webhook_pull": (LOGIN, NOPE, NOPE, NOPE, NOPE),
}
# Admins that refuse more than the model permissions say: (label, page) pairs.
ADMIN_NARROWED = {
    **{(label, "add"): "written by BICS, the engine or the audit trail" for label in (
        "axes.AccessAttempt", "axes.AccessFailureLog", "axes.AccessLog", "campaigns.DeliveryReport",
        "campaigns.Message", "campaigns.SendBatch", "campaigns.SmartLinkVisit", "messaging.AccountBalance",
        "messaging.Price", "messaging.TemplateApproval", "verify.OtpRequest", "voice.BulkCallBatch",
        "voice.BulkCallRecipient", "voice.CallLog", "voice.CallRecording", "voice.VoicePrice",
        "webhooks.InboundMessage", "webhooks.WebhookEvent", "core.SyncRun", "campaigns.CampaignTestSend",
        "messaging.TemplateEvent", "messaging.OptOutChange", "campaigns.CapExclusion",
    )},
    ("messaging.TemplateApproval", "delete"): "the approval trail is never deleted",
    ("messaging.TemplateEvent", "delete"): "the approval trail is never deleted",
}
ADMIN_WIDENED = {("core.SyncRun", "changelist"), ("core.SyncRun", "change"), ("core.SyncRun", "history")}
ADMIN_PAGES = ("changelist", "add", "change", "delete", "history")
# Views that take POST without the session's CSRF token, by design: their callers are machines
# with their own credential (the webhook's secret, the Verify API key).
CSRF_EXEMPT = {"webhooks:receive", "verify:api-send", "verify:api-check",
               "media"}  # not a view at all without DEBUG (404)
DEBUG_ONLY = {"media"}  # in the URLconf only when it was loaded with DEBUG on
# Patterns without a name, named here for the table.
NAMELESS = {"moved_admin_redirect": "admin:moved", "catch_all_view": "admin:catch_all", "serve": "media"}


# --------------------------------------------------------------------------- the resolver
def _walk(resolver, prefix="", namespace=""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(n for n in (namespace, pattern.namespace) if n)
            yield from _walk(pattern, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), _name(pattern, namespace)


def _name(pattern: URLPattern, namespace: str) -> str:
    if pattern.name:
        return f"{namespace}:{pattern.name}" if namespace else pattern.name
    callback = getattr(pattern.callback, "__name__", "")
    if callback in NAMELESS:
        return NAMELESS[callback]
    if namespace == "admin" and "object_id" in str(pattern.pattern):
        return "admin:object_redirect"  # <object_id>/ -> <object_id>/change/, per model
    return f"unnamed:{pattern.pattern}"


def _admin_model_names() -> dict[str, tuple[type[models.Model], str]]:
    names = {}
    for model in admin.site._registry:
        opts = model._meta
        for page in ADMIN_PAGES:
            names[f"admin:{opts.app_label}_{opts.model_name}_{page}"] = (model, page)
    return names


def test_every_url_of_the_resolver_is_in_the_table():
    admin_names = _admin_model_names()
    unknown = sorted({f"{route}  ({name})" for route, name in _walk(get_resolver())
                      if name not in PAGES and name not in admin_names and name != "admin:object_redirect"})
    assert not unknown, "URLs missing from the permission matrix:\n" + "\n".join(unknown)
    stale = sorted(set(PAGES) - {name for _, name in _walk(get_resolver())} - DEBUG_ONLY)
    assert not stale, f"rows for URLs that no longer exist: {stale}"


# --------------------------------------------------------------------------- objects and users
def _value(field: models.Field, n: int):
    if isinstance(field, models.FileField):
        return ""
    if field.choices:
        return field.choices[0][0]
    simple = [(models.EmailField, f"user{n}@example.com"), (models.URLField, f"https://example.org/{n}"),
              (models.SlugField, f"slug-{n}"), (models.UUIDField, uuid.uuid4()),
              (models.DecimalField, decimal.Decimal("1")), (models.FloatField, 1.0),
              (models.BooleanField, False), (models.DateTimeField, timezone.now()),
              (models.DateField, dt.date.today()), (models.JSONField, {}), (models.BinaryField, b""),
              (models.DurationField, dt.timedelta(seconds=1)), (models.GenericIPAddressField, "127.0.0.1"),
              (models.IntegerField, 1)]
    for kind, value in simple:
        if isinstance(field, kind):
            return value
    if field.name in ("phone", "number", "to", "bridge", "from_number"):
        return f"+3247000{n:04d}"
    return f"x{n}"[: getattr(field, "max_length", None) or 20]


def make_object(model, seen=None):
    """One row of ``model`` with every required field filled (the first one if any exists)."""
    existing = model._default_manager.first()
    if existing is not None:
        return existing
    values = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.null or field.has_default() or getattr(field, "auto_now", False) \
                or getattr(field, "auto_now_add", False) or (field.blank and not field.is_relation
                                                             and isinstance(field, models.CharField | models.TextField)):
            continue
        values[field.name] = make_object(field.related_model) if field.is_relation else _value(field, 1)
    return model._default_manager.create(**values)


@pytest.fixture
def users(django_user_model):
    def staff(name, group=None):
        user = django_user_model.objects.create_user(username=name, password="x", is_staff=True)
        if group:
            user.groups.add(Group.objects.get(name=group))
        return user

    root = django_user_model.objects.create_superuser(username="root", email="root@example.com", password="x")
    return {"anonymous": None, "staff": staff("staff"), "marketing": staff("marketing", "Marketing"),
            "approver": staff("approver", "Template approvers"), "superuser": root}


@pytest.fixture
def objects(users):
    """Rows for every URL argument: one per admin model, plus what the staff pages take."""
    from contacts.models import ContactImport, Segment
    from messaging.campaigns.models import Campaign
    from messaging.webhooks.models import Webhook
    from verify.models import OtpRequest

    rows = {model: make_object(model) for model in admin.site._registry}
    hook = Webhook.objects.first()
    return {
        "admin": rows,
        "pk": {"campaigns": make_object(Campaign).pk, "wizard": make_object(Campaign).pk,
               "contacts:import": make_object(ContactImport).pk, "contacts:segment": make_object(Segment).pk},
        "otp": OtpRequest.objects.create(number="+32470000001", channels=["sms"], status="sent",
                                         bics_id="b-1", requested_by=users["superuser"]),
        "hook": hook,
    }


PULL_KEYS = {"campaigns_smartlink": "visits", "messaging_accountbalance": "pricing", "messaging_blockedtemplate": "bics", "messaging_price": "pricing", "messaging_sender": "bics", "messaging_template": "bics", "messaging_unsubscriber": "bics", "webhooks_subscription": "bics", "webhooks_webhook": "bics"}


def url_of(name: str, objects) -> str:
    """The URL of a table row, its arguments filled from the created objects."""
    special = {
        "verify:detail": lambda: reverse(name, args=[objects["otp"].public_id]),
        "verify:action": lambda: reverse(name, args=[objects["otp"].public_id, "cancel"]),
        "verify:api-check": lambda: reverse(name, args=[objects["otp"].public_id]),
        "webhooks:receive": lambda: reverse(name, args=[objects["hook"].slug]),
        "contacts:import_progress": lambda: reverse(name, args=[objects["pk"]["contacts:import"]]),
        "contacts:import_rejections": lambda: reverse(name, args=[objects["pk"]["contacts:import"]]),
        "contacts:segment_export": lambda: reverse(name, args=[objects["pk"]["contacts:segment"]]),
        "admin:view_on_site": lambda: reverse(name, args=[1, 1]),
        "admin:app_list": lambda: reverse(name, args=["messaging"]),
        "admin:catch_all": lambda: "/admin/no/such/page/",
        "admin:moved": lambda: "/admin/messaging/campaign/",
        "media": lambda: "/media/nothing.txt",
        "short-link": lambda: reverse(name, args=["no-such-code"]),
        "admin:messaging_template_decide": lambda: reverse(name, args=[objects["admin"][_model("messaging.Template")].pk,
                                                                       "approve"]),
        "admin:auth_user_password_change": lambda: reverse(name, args=[objects["admin"][_model("auth.User")].pk]),
        "admin:messaging_unsubscriber_export": lambda: reverse(name, args=["csv"]),
        "admin:messaging_blockedtemplate_export": lambda: reverse(name, args=["csv"]),
        **{f"admin:{model}_pull": (lambda model=model, key=key: reverse(f"admin:{model}_pull", args=[key]))
           for model, key in PULL_KEYS.items()},
    }
    if name in special:
        return special[name]()
    prefix = name.split(":")[0]
    try:
        return reverse(name)
    except Exception:  # noqa: BLE001 - the pattern takes a pk
        return reverse(name, args=[objects["pk"][prefix]])


def _model(label: str):
    from django.apps import apps

    return apps.get_model(label)


def client_for(user, **options) -> Client:
    client = Client(raise_request_exception=False, **options)
    if user is not None:
        client.force_login(user)
    return client


# --------------------------------------------------------------------------- expectations
def admin_expected(model, page: str, user) -> int | str:
    if user is None:
        return LOGIN
    opts = model._meta
    label = opts.label

    def has(action):
        return user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}")

    if (label, page) in ADMIN_WIDENED:
        return OK
    if (label, page) in ADMIN_NARROWED:
        return DENY
    needs = {"changelist": ("view", "change"), "change": ("view", "change"), "history": ("view", "change"),
             "add": ("add",), "delete": ("delete",)}[page]
    return OK if any(has(n) for n in needs) else DENY


def answer(response, *, admin_page: bool) -> int | str:
    if response.status_code == 302:
        location = response["Location"]
        if "/login/" in location and ("next=" in location):
            return LOGIN
        return FOUND
    return response.status_code


def _admin_url(model, page: str, objects) -> str:
    opts = model._meta
    name = f"admin:{opts.app_label}_{opts.model_name}_{page}"
    if page in ("changelist", "add"):
        return reverse(name)
    return reverse(name, args=[objects["admin"][model].pk])


@pytest.mark.parametrize("role", ROLES)
def test_every_url_answers_each_role_as_the_table_says(role, users, objects):
    user = users[role]
    client = client_for(user)
    index = ROLES.index(role)
    wrong = []
    for name, expected in PAGES.items():
        url = url_of(name, objects)
        got = answer(client.get(url), admin_page=name.startswith("admin:"))
        if got != expected[index]:
            wrong.append(f"{name} {url}: expected {expected[index]}, got {got}")
    for model in admin.site._registry:
        for page in ADMIN_PAGES:
            url = _admin_url(model, page, objects)
            expected = admin_expected(model, page, user)
            got = answer(client.get(url), admin_page=True)
            if got != expected:
                wrong.append(f"{model._meta.label} {page} {url}: expected {expected}, got {got}")
    assert not wrong, f"{role}: {len(wrong)} answer(s) differ from the table:\n" + "\n".join(wrong)


# --------------------------------------------------------------------------- state-changing views
def _fingerprint() -> str:
    """A digest of every row of every table the apps own (sessions excepted: a login writes one)."""
    from django.apps import apps

    digest = hashlib.sha256()
    for model in apps.get_models():
        if model._meta.label in ("sessions.Session", "axes.AccessLog", "axes.AccessAttempt"):
            continue
        for row in model._default_manager.order_by("pk").values_list():
            digest.update(repr(row).encode())
    return digest.hexdigest()


def _all_urls(objects) -> list[tuple[str, str]]:
    urls = [(name, url_of(name, objects)) for name in PAGES]
    urls += [(f"{m._meta.label} {page}", _admin_url(m, page, objects))
             for m in admin.site._registry for page in ADMIN_PAGES]
    return urls


def test_get_never_changes_a_row(users, objects):
    client = client_for(users["superuser"])
    changed = []
    for name, url in _all_urls(objects):
        if name == "admin:logout":
            continue
        before = _fingerprint()
        client.get(url)
        if _fingerprint() != before:
            changed.append(f"{name} {url}")
    assert not changed, "GET changed rows:\n" + "\n".join(changed)


def test_post_without_a_csrf_token_is_refused(users, objects):
    client = client_for(users["superuser"], enforce_csrf_checks=True)
    accepted = []
    for name, url in _all_urls(objects):
        if name in CSRF_EXEMPT:
            continue
        before = _fingerprint()
        response = client.post(url, {"name": "forged", "action": "delete_selected", "post": "yes"})
        if response.status_code != 403 or _fingerprint() != before:
            accepted.append(f"{name} {url}: {response.status_code}")
    assert not accepted, "POST without a CSRF token not refused:\n" + "\n".join(accepted)
