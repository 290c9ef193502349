from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_local_admin_is_created_once_and_its_password_printed():
    out = StringIO()
    call_command("ensure_local_admin", stdout=out)
    password = out.getvalue().split("password:")[1].split()[0]
    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser and user.check_password(password)
    again = StringIO()
    call_command("ensure_local_admin", stdout=again)
    assert "exists" in again.getvalue() and password not in again.getvalue()


def test_periodic_tasks_are_loaded_and_admin_timing_is_kept():
    from django_celery_beat.models import PeriodicTask

    from config.schedule import PERIODIC_TASKS
    from core.schedule import load_periodic_tasks

    names = set(PeriodicTask.objects.values_list("name", flat=True))
    assert set(PERIODIC_TASKS) <= names  # loaded by the post-migrate hook
    task = PeriodicTask.objects.get(name="Check BICS health")
    task.interval.every = 999
    task.interval.save()
    assert load_periodic_tasks() == 0
    task.refresh_from_db()
    assert task.interval.every == 999


def test_seed_demo_is_idempotent():
    call_command("seed_demo", stdout=StringIO())
    from django.apps import apps

    counts = {m._meta.label: m.objects.count() for m in apps.get_models()}
    call_command("seed_demo", stdout=StringIO())
    assert counts == {m._meta.label: m.objects.count() for m in apps.get_models()}
