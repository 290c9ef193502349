"""Users of the permission matrix: anonymous, marketing, approver, superuser."""

import pytest
from django.contrib.auth.models import Group

ROLES = ["anonymous", "marketing", "approver", "superuser"]


@pytest.fixture
def user_for(django_user_model):
    def make(role: str):
        if role == "anonymous":
            return None
        if role == "superuser":
            return django_user_model.objects.create_superuser(username="root", email="root@example.com",
                                                              password="x")
        user = django_user_model.objects.create_user(username=role, email=f"{role}@example.com", password="x",
                                                     is_staff=True)
        group = {"marketing": "Marketing", "approver": "Template approvers"}[role]
        user.groups.add(Group.objects.get(name=group))
        return user

    return make


@pytest.fixture
def client_as(client, user_for):
    def make(role: str):
        user = user_for(role)
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def make_template_for_security(django_user_model):
    """A submitted SMS template written by someone else (so an approver may decide on it)."""
    from messaging.catalogue.models import Channel, Sender, Template

    def make():
        author = django_user_model.objects.create_user(username="author", password="x", is_staff=True)
        author.groups.add(Group.objects.get(name="Marketing"))
        sender = Sender.objects.create(name="ACME", country_code="BE", service="ENT", status=1)
        return Template.objects.create(name="promo_1", channel=Channel.SMS, sender=sender, template_type="SI",
                                       content="Hello {{first_name}}, our shop opens on Monday.", author=author,
                                       approval_state="submitted")

    return make
