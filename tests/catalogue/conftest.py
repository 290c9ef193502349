"""Builders for messaging tests: users per role, senders, templates, a fake BICS client."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth.models import Group

from bics.errors import BicsValidationError
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


class FakeResponse:
    def __init__(self, data):
        self.data = data


class FakeBics:
    """In-memory stand-in for BicsClient.call/iterate: one dict of items per resource prefix."""

    def __init__(self):
        self.items: dict[str, dict[str, dict]] = {}
        self.ids = itertools.count(1000)
        self.refuse: dict[str, str] = {}  # route -> message (a 422)
        self.lose_answer: set[str] = set()  # routes processed, then the answer is lost
        self.calls: list[tuple] = []

    def _store(self, route):
        return self.items.setdefault(route.rsplit(".", 1)[0], {})

    def call(self, route, *, path_params=None, params=None, json=None, **_):
        self.calls.append((route, path_params, json))
        if route in self.refuse:
            raise BicsValidationError(route, 422, "error", 422, self.refuse[route])
        action = route.rsplit(".", 1)[1]
        store = self._store(route)
        if action == "create":
            item = {"id": str(next(self.ids)), **(json or {})}
            store[item["id"]] = item
            if route in self.lose_answer:
                from bics.errors import BicsOutcomeUnknown

                raise BicsOutcomeUnknown(route, None, None, None, "read timed out")
            return FakeResponse(item)
        if action == "update":
            store[path_params["id"]].update(json or {})
            return FakeResponse(store[path_params["id"]])
        if action == "delete":
            store.pop(path_params["id"], None)
            return FakeResponse([])
        if action == "clean":
            store.clear()
            return FakeResponse([])
        if action == "get" and route == "account.balance.get":
            return FakeResponse({"balance": "123.45", "currency": "EUR"})
        if action == "list":
            return FakeResponse(list(store.values()))
        raise AssertionError(route)

    def iterate(self, route, *, params=None, **_):
        if route in self.refuse:
            raise BicsValidationError(route, 422, "error", 422, self.refuse[route])
        yield from list(self._store(route).values())


@pytest.fixture
def fake_bics(monkeypatch):
    fake = FakeBics()
    monkeypatch.setattr("core.sync.get_client", lambda: fake)
    return fake
