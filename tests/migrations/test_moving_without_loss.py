"""Moving without loss: a database at the schema of the single ``messaging`` app (before it
was split into the catalogue, campaigns and webhooks apps and SyncRun went to the kernel),
filled with a row in every model, permissions, group grants, an admin log entry and a beat
row, migrates to the new schema with every row, id, permission, grant and task name intact.
Runs on SQLite here and on the throwaway PostgreSQL cluster below."""

from __future__ import annotations

import datetime
import decimal
import itertools
import uuid

import pytest
from django.db import connection, models
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("messaging", "0006_marketing_campaign_permissions"), ("core", "0002_view_full_numbers"),
          ("campaigns", None), ("webhooks", None)]
OLD_MESSAGING = ["Sender", "Template", "TemplateApproval", "Unsubscriber", "BlockedTemplate", "Price",
                 "AccountBalance", "SyncRun", "Campaign", "CampaignTransition", "SendBatch", "Message",
                 "DeliveryReport", "Webhook", "Subscription", "WebhookEvent", "InboundMessage", "SmartLink",
                 "SmartLinkVisit"]
NEW_HOME = {"SyncRun": "core", "Campaign": "campaigns", "CampaignTransition": "campaigns", "SendBatch": "campaigns",
            "Message": "campaigns", "DeliveryReport": "campaigns", "SmartLink": "campaigns",
            "SmartLinkVisit": "campaigns", "Webhook": "webhooks", "Subscription": "webhooks",
            "WebhookEvent": "webhooks", "InboundMessage": "webhooks"}
MARKETING_GRANTS = [("add", "campaign"), ("change", "campaign"), ("view", "syncrun"), ("change", "template")]
APPROVER_GRANTS = [("approve", "template"), ("view", "template")]
SUPPORT_GRANTS = [("view", "webhookevent"), ("change", "campaign"), ("view", "syncrun"), ("view", "sender")]
_counter = itertools.count(1)


def _value(field: models.Field):
    """A valid value for a required field; unique where the field is unique."""
    n = next(_counter)
    if field.choices:
        return field.choices[0][0]
    if isinstance(field, models.URLField):
        return f"https://example.com/{n}"
    if isinstance(field, (models.CharField, models.TextField)):
        return f"v{n}"[: field.max_length or 40]
    if isinstance(field, models.BooleanField):
        return False
    if isinstance(field, (models.IntegerField, models.DecimalField, models.FloatField)):
        return decimal.Decimal(n) if isinstance(field, models.DecimalField) else n
    if isinstance(field, models.DateTimeField):
        return timezone.now().replace(microsecond=0)
    if isinstance(field, models.DateField):
        return datetime.date.today()
    if isinstance(field, models.UUIDField):
        return uuid.uuid4()
    if isinstance(field, models.JSONField):
        return {"n": n}
    raise AssertionError(f"no value for {field!r}")


def _fill(model, made: dict) -> models.Model:
    values = {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        if field.is_relation and field.related_model is model:
            continue  # a nullable link to its own kind
        if field.is_relation:
            values[field.attname] = made[field.related_model._meta.label_lower].pk
        elif field.null or field.has_default() or getattr(field, "auto_now", False) \
                or getattr(field, "auto_now_add", False) or isinstance(field, models.FileField):
            continue
        else:
            values[field.attname] = _value(field)
    obj = model._default_manager.create(**values)
    made[model._meta.label_lower] = obj
    return obj


def _ordered(old_apps) -> list:
    """Every model of interest, parents before the models that point at them."""
    wanted = [old_apps.get_model("messaging", name) for name in OLD_MESSAGING]
    wanted += [old_apps.get_model("contacts", name) for name in ("Contact", "Tag", "Segment")]
    out, seen = [], set()

    def visit(model):
        if model._meta.label_lower in seen:
            return
        seen.add(model._meta.label_lower)
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is not model:
                visit(field.related_model)
        out.append(model)

    for model in wanted:
        visit(model)
    return out


def _rows(model) -> list[dict]:
    return list(model._default_manager.order_by("pk").values())


def _seed(old_apps) -> dict:
    made: dict = {}
    for model in _ordered(old_apps):
        if model._meta.label_lower not in made:
            _fill(model, made)
    campaign = made["messaging.campaign"]
    campaign.tags.add(made["contacts.tag"])
    campaign.segments.add(made["contacts.segment"])
    ContentType = old_apps.get_model("contenttypes", "ContentType")
    Permission = old_apps.get_model("auth", "Permission")
    for name in OLD_MESSAGING:  # what post_migrate made at the old schema: four permissions each
        content_type, _ = ContentType.objects.get_or_create(app_label="messaging", model=name.lower())
        for action in ("add", "change", "delete", "view"):
            Permission.objects.get_or_create(content_type=content_type, codename=f"{action}_{name.lower()}",
                                             defaults={"name": f"Can {action} {name}"})
    template_type = ContentType.objects.get(app_label="messaging", model="template")
    Permission.objects.get_or_create(content_type=template_type, codename="approve_template",
                                     defaults={"name": "Can approve or reject templates"})
    Group = old_apps.get_model("auth", "Group")
    # The staff groups and their grants as the old migrations left them (a transactional test
    # before this one may have flushed them).
    for name, grants in (("Marketing", MARKETING_GRANTS), ("Template approvers", APPROVER_GRANTS),
                         ("Support", SUPPORT_GRANTS)):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*[Permission.objects.get(content_type__app_label="messaging", codename=f"{a}_{m}")
                                for a, m in grants])
    group = Group.objects.get(name="Support")
    user = old_apps.get_model("auth", "User").objects.create(username="support", is_staff=True)
    user.groups.add(group)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="messaging", codename="view_message"))
    from django.contrib.admin.models import LogEntry  # apps the split leaves alone: today's models
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    LogEntry.objects.create(
        user_id=user.pk, content_type_id=ContentType.objects.get(app_label="messaging", model="campaign").pk,
        object_id=str(campaign.pk), object_repr="campaign", action_flag=2, change_message="[]")
    every = IntervalSchedule.objects.create(every=60, period="seconds")
    for task in ("messaging.tasks.poll_dlrs", "messaging.tasks.run_sync", "messaging.tasks.pull_pricing",
                 "messaging.tasks.sweep_webhook_events"):
        PeriodicTask.objects.create(
            name=f"kept: {task}", task=task, interval=every, enabled=True)
    return made


def _snapshot(old_apps) -> dict:
    ContentType = old_apps.get_model("contenttypes", "ContentType")
    Permission = old_apps.get_model("auth", "Permission")
    Group = old_apps.get_model("auth", "Group")
    from django_celery_beat.models import PeriodicTask

    return {
        "rows": {name: _rows(old_apps.get_model("messaging", name)) for name in OLD_MESSAGING},
        "content_types": {ct.model: ct.pk for ct in ContentType.objects.filter(app_label="messaging")},
        "permissions": {(p.pk, p.content_type.model, p.codename)
                        for p in Permission.objects.filter(content_type__app_label="messaging")},
        "grants": {(g.name, p.pk) for g in Group.objects.all() for p in g.permissions.all()},
        "campaign_tags": list(old_apps.get_model("messaging", "Campaign").objects.values_list("pk", "tags", "segments")),
        "beat": set(PeriodicTask.objects.values_list("name", "task")),
    }


def _migrate(executor: MigrationExecutor, targets) -> None:
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_a_database_at_the_old_schema_migrates_without_loss():
    executor = MigrationExecutor(connection)
    _migrate(executor, BEFORE)
    old_apps = executor.loader.project_state(BEFORE[:2]).apps
    assert "campaigns" not in {m._meta.app_label for m in old_apps.get_models()}
    made = _seed(old_apps)
    before = _snapshot(old_apps)
    assert set(before["rows"]) == set(OLD_MESSAGING) and all(before["rows"].values())

    executor = MigrationExecutor(connection)
    _migrate(executor, executor.loader.graph.leaf_nodes())

    from django.apps import apps
    from django.contrib.admin.models import LogEntry
    from django.contrib.auth.models import Group, Permission, User
    from django.contrib.contenttypes.models import ContentType
    from django_celery_beat.models import PeriodicTask

    for name in OLD_MESSAGING:  # every row, every id, every value, read through the new models
        model = apps.get_model(NEW_HOME.get(name, "messaging"), name)
        assert model._meta.db_table == f"messaging_{name.lower()}"
        old_rows = before["rows"][name]  # columns added by later migrations are not compared
        assert [{key: row[key] for key in old_rows[0]} for row in _rows(model)] == old_rows, name
    campaign_model = apps.get_model("campaigns", "Campaign")
    assert list(campaign_model.objects.values_list("pk", "tags", "segments")) == before["campaign_tags"]

    for model_name, pk in before["content_types"].items():  # renamed in place, never recreated
        content_type = ContentType.objects.get(pk=pk)
        assert content_type.app_label == NEW_HOME.get(content_type.model_class().__name__, "messaging")
        assert content_type.model == model_name
    assert not ContentType.objects.filter(app_label="messaging", model__in=[m.lower() for m in NEW_HOME]).exists()
    after_permissions = {(p.pk, p.content_type.model, p.codename)
                         for p in Permission.objects.filter(pk__in=[pk for pk, _, _ in before["permissions"]])}
    assert after_permissions == before["permissions"]
    assert before["grants"] <= {(g.name, p.pk) for g in Group.objects.all() for p in g.permissions.all()}

    user = User.objects.get(username="support")
    for perm in ("webhooks.view_webhookevent", "campaigns.change_campaign", "core.view_syncrun",
                 "messaging.view_sender", "campaigns.view_message"):
        assert user.has_perm(perm), perm
    marketing = Group.objects.get(name="Marketing")
    marketing_perms = {f"{p.content_type.app_label}.{p.codename}" for p in marketing.permissions.all()}
    assert {"campaigns.add_campaign", "campaigns.change_campaign", "core.view_syncrun",
            "messaging.change_template", "campaigns.send_one_off"} <= marketing_perms
    assert "campaigns.send_free_text" not in marketing_perms
    approvers = {f"{p.content_type.app_label}.{p.codename}"
                 for p in Group.objects.get(name="Template approvers").permissions.all()}
    assert "messaging.approve_template" in approvers

    entry = LogEntry.objects.get(object_repr="campaign")
    assert entry.get_edited_object() == campaign_model.objects.get(pk=made["messaging.campaign"].pk)

    from config.celery import app

    app.loader.import_default_modules()
    beat = set(PeriodicTask.objects.filter(name__startswith="kept: ").values_list("name", "task"))
    assert beat == {row for row in before["beat"] if row[0].startswith("kept: ")}
    for _name, task in beat:
        assert task in app.tasks, task


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db
def test_the_migration_test_on_postgresql():
    from tests.concurrency import on_postgresql, run_on_postgresql

    if on_postgresql():
        return
    result = run_on_postgresql([__file__, "-k", "old_schema"], name="moving")
    assert "1 passed" in result.stdout


def test_every_task_keeps_the_name_it_had_and_old_admin_bookmarks_redirect(admin_client):
    from config.celery import app
    from config.schedule import PERIODIC_TASKS

    app.loader.import_default_modules()
    names = {"campaign_advance", "campaigns_tick", "poll_dlrs", "process_webhook_event", "pull_pricing",
             "pull_smart_link_visits", "pull_statuses", "run_sync", "send_batch", "sweep_webhook_events"}
    assert {f"messaging.tasks.{name}" for name in names} <= set(app.tasks)
    assert all(task in app.tasks for task, _every, _kwargs in PERIODIC_TASKS.values())
    for model, label in NEW_HOME.items():
        old = admin_client.get(f"/admin/messaging/{model.lower()}/1/change/")
        assert (old.status_code, old["Location"]) == (301, f"/admin/{label}/{model.lower()}/1/change/")
    assert admin_client.get("/admin/messaging/template/").status_code == 200  # the catalogue's own pages stay
