"""The migration that gives webhooks keyed by their BICS id a random URL key."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("webhooks", "0001_initial")]
AFTER = [("webhooks", "0002_webhook_url_key_not_bics_id")]


def test_webhooks_keyed_by_their_bics_id_get_a_random_key_and_are_pushed_again():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("webhooks", "Webhook")
    keyed = old.objects.create(name="a", uri="https://bo.example.com/webhooks/bics/55/", bics_id="55", slug="55",
                               sync_state="synced")
    fine = old.objects.create(name="b", uri="https://bo.example.com/webhooks/bics/rnd/", bics_id="56", slug="rnd",
                              sync_state="synced")
    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps.get_model("webhooks", "Webhook")
    keyed, fine = new.objects.get(pk=keyed.pk), new.objects.get(pk=fine.pk)
    assert keyed.slug != "55" and len(keyed.slug) >= 16
    assert keyed.uri == f"https://bo.example.com/webhooks/bics/{keyed.slug}/"
    assert keyed.sync_state == "dirty" and "re-register" in keyed.sync_error
    assert (fine.slug, fine.sync_state) == ("rnd", "synced")
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
