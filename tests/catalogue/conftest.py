"""Builders for catalogue tests: users per role, senders, templates. BICS is the sandbox over
HTTP (``bics_sandbox``, tests/sandbox_helpers.py)."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth.models import Group

from messaging.catalogue.models import Channel, Sender, Template


@pytest.fixture
def make_user(django_user_model):
    counter = itertools.count()

    def make(group=None, **extra):
        user = django_user_model.objects.create_user(
            username=f"user{next(counter)}", email=f"u{next(counter)}@example.com", password="x",
            is_staff=True, **extra)
        if group:
            user.groups.add(Group.objects.get(name=group))
        return django_user_model.objects.get(pk=user.pk)

    return make


@pytest.fixture
def marketing(make_user):
    return make_user("Marketing")


@pytest.fixture
def approver(make_user):
    return make_user("Template approvers")


@pytest.fixture
def sender(db):
    return Sender.objects.create(name="BICSIN", country_code="IN", service="ENT")


def approved_here(template: Template) -> Template:
    """Mark ``template`` approved here for its current words (as an approval leaves it), without
    the approval's queued push: for tests of the sync itself."""
    template.refresh_from_db()
    Template.objects.filter(pk=template.pk).update(approval_state="approved",
                                                   approved_hash=template.compute_content_hash())
    template.refresh_from_db()
    return template


@pytest.fixture
def make_template(sender, marketing):
    counter = itertools.count()

    def make(**kw):
        kw.setdefault("channel", Channel.SMS)
        kw.setdefault("name", f"template_{next(counter)}")
        kw.setdefault("content", "Your order {{order}} is confirmed.")
        kw.setdefault("template_type", "SI")
        if kw["channel"] == Channel.SMS:
            kw.setdefault("sender", sender)
        kw.setdefault("author", marketing)
        return Template.objects.create(**kw)

    return make
