"""Numbers are masked in lists and exports for staff without core.view_full_numbers."""

import pytest
from django.contrib.auth.models import Group, Permission

from messaging.catalogue.models import Unsubscriber

pytestmark = pytest.mark.django_db

NUMBER = "+32470123456"


@pytest.fixture
def marketing_user(django_user_model):
    user = django_user_model.objects.create_user("marketer", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="Marketing"))
    return user


@pytest.fixture
def unsubscriber():
    return Unsubscriber.objects.create(channel="sms", type="all", number=NUMBER)


def test_marketing_sees_the_number_masked_in_the_unsubscriber_list(client, marketing_user, unsubscriber):
    client.force_login(marketing_user)
    page = client.get("/admin/messaging/unsubscriber/").content.decode()
    assert NUMBER not in page
    assert "+32" in page and "456" in page


def test_marketing_export_is_masked(client, marketing_user, unsubscriber):
    client.force_login(marketing_user)
    response = client.post(
        "/admin/messaging/unsubscriber/",
        {"action": "export_csv", "_selected_action": [unsubscriber.pk]},
    )
    assert response.status_code == 200
    assert NUMBER not in response.content.decode()


def test_the_permission_shows_the_whole_number(client, marketing_user, unsubscriber):
    marketing_user.user_permissions.add(Permission.objects.get(codename="view_full_numbers", content_type__app_label="core"))
    client.force_login(marketing_user)
    assert NUMBER in client.get("/admin/messaging/unsubscriber/").content.decode()
