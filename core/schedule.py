"""Loads `config.schedule.PERIODIC_TASKS` into django-celery-beat."""

import json

from config.schedule import PERIODIC_TASKS


def load_periodic_tasks(**kwargs) -> int:
    """Create the periodic jobs that are missing; keep the timing of existing ones.

    Returns how many were created. Safe to run on every migrate.
    """
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    created = 0
    for name, (task, every, task_kwargs) in PERIODIC_TASKS.items():
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=every, period=IntervalSchedule.SECONDS
        )
        PeriodicTask.objects.create(
            name=name, task=task, interval=interval, kwargs=json.dumps(task_kwargs)
        )
        created += 1
    return created
