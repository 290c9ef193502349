"""The Celery app. Periodic jobs are declared once, in `config/schedule.py`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("bics_backoffice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    # Work is idempotent in the services, so a task is acknowledged only once it is done.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_soft_time_limit=300,
    task_time_limit=360,
    task_default_queue="default",
    # Separate queues let sends and webhook processing scale on their own workers.
    task_routes={
        "messaging.tasks.send_batch": {"queue": "sends"},
        "messaging.tasks.process_webhook_event": {"queue": "webhooks"},
        "messaging.tasks.drain_webhook_events": {"queue": "webhooks"},
        "voice.tasks.*": {"queue": "sends"},
        "*.tasks.sync_*": {"queue": "sync"},
    },
    broker_connection_retry_on_startup=True,
    # The database sweeper, not the broker's visibility timeout, recovers lost work; a long
    # timeout keeps Redis from re-delivering long countdowns.
    broker_transport_options={"visibility_timeout": 12 * 3600},
    task_ignore_result=True,
)
app.autodiscover_tasks()
