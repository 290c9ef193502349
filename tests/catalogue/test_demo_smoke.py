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
