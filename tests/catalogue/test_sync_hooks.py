"""core.sync hooks other apps rely on: after_pull on create, after_push, push_many (against
the BICS sandbox over HTTP)."""

import pytest

from core import sync
from messaging.catalogue.models import Sender
from messaging.catalogue.sync_adapters import SenderAdapter
from tests import sandbox_helpers as sb

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]


class Recording(SenderAdapter):
    resource = "senders_hooks"

    def __init__(self):
        self.pulled, self.pushed = [], []

    def after_pull(self, obj, changed):
        self.pulled.append((obj.name, sorted(changed)[:2], obj._bics_item["id"]))

    def after_push(self, obj, data, *, action):
        self.pushed.append((obj.name, action, data["id"]))


def test_after_pull_runs_on_create_with_the_raw_item(bics_sandbox):
    item = sb.created(bics_sandbox, "sms.senders.create", {"name": "ACME", "country_code": "GB", "service": "A2P"})
    adapter = Recording()
    sync.pull_item(adapter, item, sync.SyncResult(), set())
    assert adapter.pulled == [("ACME", ["bics_created_at", "bics_updated_at"], item["id"])]


def test_after_push_sees_the_response(bics_sandbox, sender):
    adapter = Recording()
    result = sync.SyncResult()
    sync.push_one(adapter, sender, result)
    assert adapter.pushed == [("BICSIN", "create", Sender.objects.get().bics_id)]


def test_push_many_replaces_the_loop(bics_sandbox, sender, monkeypatch):
    seen = []

    class Bulk(SenderAdapter):
        resource = "bulk_senders"

        def push_many(self, queryset, result):
            seen.append(list(queryset))
            result.created.extend(queryset)

    sync.register(Bulk())
    try:
        assert sync.push("bulk_senders").counts()["created"] == 1
        assert seen == [[sender]]
    finally:
        sync.registry().pop("bulk_senders")


def test_skip_push_is_reported_but_not_a_failure(bics_sandbox, sender):
    class LocalOnly(SenderAdapter):
        resource = "local_senders"

        def skip_push(self, obj):
            return "stays here"

    sync.register(LocalOnly())
    try:
        result = sync.push("local_senders")
        assert result.ok and result.counts()["skipped"] == 1 and "stays here" in result.summary()  # the reason is named
        assert sb.request_counts(bics_sandbox) == {}
    finally:
        sync.registry().pop("local_senders")
