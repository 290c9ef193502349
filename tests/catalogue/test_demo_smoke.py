import pytest
from django.core.management import call_command

from messaging.catalogue.models import BlockedTemplate, Sender, Template, Unsubscriber

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent():
    call_command("seed_demo")
    counts = (Sender.objects.count(), Template.objects.count(), Unsubscriber.objects.count(),
              BlockedTemplate.objects.count())
    call_command("seed_demo")
    assert counts == (Sender.objects.count(), Template.objects.count(), Unsubscriber.objects.count(),
                      BlockedTemplate.objects.count())
    states = set(Template.objects.values_list("approval_state", flat=True))
    assert states == {"draft", "submitted", "approved", "rejected"}
    assert set(Unsubscriber.objects.values_list("channel", flat=True)) == {"sms", "whatsapp", "viber"}


def test_seed_demo_queues_no_push_before_the_worker_and_broker_run(settings, django_capture_on_commit_callbacks):
    """`make run` seeds before Redis and the worker start: an approval's push queued then failed
    ("Not queued: … connection refused") and a fresh install opened on a sync-failure alert."""
    from core.models import SyncRun

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"  # nothing listens there
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo")
    assert Template.objects.filter(approval_state="approved").exists()
    assert not SyncRun.objects.exists()
