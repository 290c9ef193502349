"""The ops app keeps what staff and beat rely on: URLs, task names, the erase action."""

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from config.celery import app as celery_app
from config.schedule import PERIODIC_TASKS

pytestmark = pytest.mark.django_db


def test_staff_urls_keep_their_paths():
    assert reverse("ops:home") == "/"
    assert reverse("ops:sync-runs") == "/dashboard/sync-runs.json"
    assert reverse("healthz") == "/healthz"


def test_every_periodic_task_names_a_registered_task():
    celery_app.loader.import_default_modules()
    names = {task for task, _every, _kwargs in PERIODIC_TASKS.values()}
    assert {"core.tasks.check_bics_health", "core.tasks.check_alerts", "core.tasks.purge_old_data"} <= names
    assert names - set(celery_app.tasks) == set()


def _staff(client, *codenames):
    user = User.objects.create_user("clerk", password="pw-clerk-123", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="contacts",
                                                        codename__in=codenames))
    client.force_login(user)
    return client


def _actions(client) -> list[str]:
    response = client.get("/admin/contacts/contact/")
    assert response.status_code == 200
    return list(response.context["action_form"].fields["action"].choices)


def test_the_erase_action_is_offered_to_staff_who_may_delete_contacts(client):
    names = [name for name, _label in _actions(_staff(client, "view_contact", "delete_contact"))]
    assert "erase_personal_data" in names


def test_the_erase_action_is_hidden_from_staff_who_may_not_delete_contacts(client):
    actions = _actions(_staff(client, "view_contact", "change_contact"))
    assert "erase_personal_data" not in [name for name, _label in actions]
