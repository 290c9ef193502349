"""The permission matrix: every admin page and action, every staff page, four roles.

Expected outcomes come from the roles' permissions (not from what the admin chooses to show),
plus hard rules: anonymous is always sent to the login page; marketing never manages users,
groups or the periodic tasks, and never approves a template; approvers approve."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from .conftest import ROLES

pytestmark = pytest.mark.django_db

MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label)
STAFF_ONLY = {"auth.User", "auth.Group", "django_celery_beat.PeriodicTask", "django_celery_beat.CrontabSchedule",
              "django_celery_beat.IntervalSchedule", "django_celery_beat.ClockedSchedule",
              "django_celery_beat.SolarSchedule"}
STAFF_PAGES = ["/", "/campaigns/", "/campaigns/send/", "/voice/", "/voice/tts/",
               "/voice/click2call/", "/voice/status/", "/voice/reports/logs/", "/voice/reports/recordings/",
               "/voice/pricing/", "/verify/", "/verify/send/", "/messaging/pricing/", "/messaging/templates/preview/",
               "/contacts/segments/preview.json"]


# ModelAdmins whose has_*_permission deliberately differ from the model permissions.
WIDENED = {"core.SyncRun"}  # every staff user may read the sync runs
# Records written by BICS, the engine or the audit trail: nobody adds them by hand.
READ_ONLY = {"axes.AccessAttempt", "axes.AccessFailureLog", "axes.AccessLog", "campaigns.DeliveryReport",
             "campaigns.Message", "campaigns.SendBatch", "campaigns.SmartLinkVisit", "messaging.AccountBalance",
             "messaging.Price", "messaging.TemplateApproval", "verify.OtpRequest", "voice.BulkCallBatch",
             "voice.BulkCallRecipient", "voice.CallLog", "voice.CallRecording", "voice.VoicePrice",
             "webhooks.InboundMessage", "webhooks.WebhookEvent", "campaigns.CampaignTestSend",
             "messaging.TemplateEvent", "messaging.OptOutChange", "campaigns.CapExclusion"}


def perm(user, model, action: str) -> bool:
    return bool(user) and user.has_perm(f"{model._meta.app_label}.{action}_{model._meta.model_name}")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_admin_changelist_and_add_page_follow_the_permissions(client_as, user_for, role, model):
    client = client_as(role)
    user = None if role == "anonymous" else _user(client)
    opts = model._meta
    for kind, needs in (("changelist", ("view", "change")), ("add", ("add",))):
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_{kind}")
        response = client.get(url)
        if role == "anonymous":
            assert response.status_code == 302 and "/admin/login/" in response["Location"], url
            continue
        model_admin = admin.site._registry[model]
        request = response.wsgi_request
        # the ModelAdmin's own has_*_permission may widen (SyncRun: readable by all staff) or narrow
        allowed = (model_admin.has_view_or_change_permission(request) if kind == "changelist"
                   else model_admin.has_add_permission(request))
        if model._meta.label not in WIDENED:
            refused = kind == "add" and model._meta.label in READ_ONLY
            assert allowed == (any(perm(user, model, n) for n in needs) and not refused), (role, url)
        assert response.status_code == (200 if allowed else 403), (role, url, response.status_code)
        if role != "superuser" and model._meta.label in STAFF_ONLY:
            assert response.status_code == 403, f"{role} reaches {url}"


def _user(client):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(pk=client.session["_auth_user_id"])


def _actions(model_admin) -> list[tuple[str, list[str]]]:
    out = []
    for action in model_admin.actions or []:
        func = action if callable(action) else getattr(model_admin, action)
        out.append((func.__name__, list(getattr(func, "allowed_permissions", []) or [])))
    return out


ACTIONS = [(m, name, perms) for m in MODELS for name, perms in _actions(admin.site._registry[m])]


@pytest.mark.parametrize("role", ["marketing", "approver", "superuser"])
@pytest.mark.parametrize(("model", "name", "perms"), ACTIONS,
                         ids=[f"{m._meta.label}.{n}" for m, n, _ in ACTIONS])
def test_admin_action_is_offered_only_with_its_permissions(user_for, role, model, name, perms):
    user = user_for(role)
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/admin/")
    request.user = user
    offered = name in model_admin.get_actions(request)
    if role == "marketing" and "approve" in perms:
        assert not offered, "marketing must never approve or reject templates"
    if not model_admin.has_view_or_change_permission(request):
        # Django lists actions without checking the page: the changelist itself answers 403
        # (test above), so nothing can be run from it.
        assert role != "superuser"
        return
    assert model._meta.label not in STAFF_ONLY or role == "superuser"
    expected = all(getattr(model_admin, f"has_{p}_permission")(request) for p in perms)
    assert offered == expected, (role, name, perms)


@pytest.mark.parametrize("role", ["anonymous", "marketing"])
def test_an_action_not_offered_cannot_be_forced_by_post(client_as, role, make_template_for_security):
    template = make_template_for_security()
    client = client_as(role)
    response = client.post(reverse("admin:messaging_template_changelist"),
                           {"action": "approve", "_selected_action": [template.pk]})
    assert response.status_code in (302, 403)
    template.refresh_from_db()
    assert template.approval_state != "approved"


def test_approver_can_approve_a_submitted_template(client_as, make_template_for_security):
    template = make_template_for_security()
    client = client_as("approver")
    client.post(reverse("admin:messaging_template_changelist"),
                {"action": "approve", "_selected_action": [template.pk]})
    template.refresh_from_db()
    assert template.approval_state == "approved"


def test_marketing_cannot_delete_users(client_as, django_user_model):
    victim = django_user_model.objects.create_user(username="victim", password="x")
    client = client_as("marketing")
    response = client.post(reverse("admin:auth_user_changelist"),
                           {"action": "delete_selected", "_selected_action": [victim.pk], "post": "yes"})
    assert response.status_code == 403
    assert django_user_model.objects.filter(pk=victim.pk).exists()


@pytest.mark.parametrize("url", STAFF_PAGES)
@pytest.mark.parametrize("role", ROLES)
def test_staff_pages_need_a_staff_login(client_as, role, url):
    response = client_as(role).get(url)
    if role == "anonymous":
        assert response.status_code in (302, 401, 403), url
        if response.status_code == 302:
            assert "login" in response["Location"], response["Location"]
    else:
        assert response.status_code in (200, 302, 400, 403, 405), (url, response.status_code)
        assert response.status_code != 500


def test_healthz_is_public_and_says_nothing_secret(client, settings):
    settings.BICS_API_TOKEN = "healthz-secret-token-123456"
    response = client.get("/healthz")
    assert response.status_code in (200, 503)
    assert b"healthz-secret-token-123456" not in response.content
