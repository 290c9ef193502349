"""The migration that makes bulk call batches a kind of the batch engine keeps the table and
its rows: ``claims`` becomes ``attempts`` with its values, ``claimed_by`` starts empty."""

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("voice", "0003_batch_enqueued_at")]
AFTER = [("voice", "0004_bulkcallbatch_claimable")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def latest_schema_afterwards():
    yield
    executor = MigrationExecutor(connection)
    migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_batches_keep_their_rows_and_claim_counts(latest_schema_afterwards):
    old = migrate(BEFORE)
    BulkCall, Batch = old.get_model("voice", "BulkCall"), old.get_model("voice", "BulkCallBatch")
    bulk = BulkCall.objects.create(name="before", bridge="+3225551000", state="sending")
    token = uuid.uuid4()
    Batch.objects.create(bulk_call_id=bulk.pk, number=1, state="claimed", claims=3, claim_token=token,
                         group_id="g-1")
    Batch.objects.create(bulk_call_id=bulk.pk, number=2, state="sent", claims=1)
    table = Batch._meta.db_table
    new = migrate(AFTER)
    Batch = new.get_model("voice", "BulkCallBatch")
    assert Batch._meta.db_table == table
    rows = list(Batch.objects.order_by("number").values_list("number", "state", "attempts", "claimed_by",
                                                               "claim_token", "group_id"))
    assert rows == [(1, "claimed", 3, "", token, "g-1"), (2, "sent", 1, "", None, "")]
