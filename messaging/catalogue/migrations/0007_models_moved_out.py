"""Campaigns, webhooks and sync runs left the messaging app (label ``messaging``) for the
``campaigns`` and ``webhooks`` apps and the kernel (``core``).

* State only: the models leave messaging's state (their new apps' first migrations added them
  there); no table is touched, each keeps its ``messaging_*`` name by ``Meta.db_table``.
* Their content types are renamed in place (``app_label`` updated, never recreated), so the
  permissions, the groups' grants, admin log entries and generic relations that point at
  them keep pointing right.
"""

from django.db import migrations

MOVED_MODELS = {
    "campaign": "campaigns", "campaigntransition": "campaigns", "sendbatch": "campaigns", "message": "campaigns",
    "deliveryreport": "campaigns", "smartlink": "campaigns", "smartlinkvisit": "campaigns",
    "webhook": "webhooks", "subscription": "webhooks", "webhookevent": "webhooks", "inboundmessage": "webhooks",
    "syncrun": "core",
}


def _move(apps, moves):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model, (old, new) in moves.items():
        if not ContentType.objects.filter(app_label=old, model=model).exists():
            continue
        # A row under the new label can only have been made by post_migrate before this ran: it
        # holds nothing worth keeping next to the old row's permissions and grants.
        ContentType.objects.filter(app_label=new, model=model).delete()
        ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def forwards(apps, schema_editor):
    _move(apps, {model: ("messaging", label) for model, label in MOVED_MODELS.items()})


def backwards(apps, schema_editor):
    _move(apps, {model: (label, "messaging") for model, label in MOVED_MODELS.items()})


# Children before parents, so no state model points at one already removed.
STATE_DELETES = ["DeliveryReport", "Message", "SendBatch", "CampaignTransition", "SmartLinkVisit", "SmartLink",
                 "Campaign", "InboundMessage", "WebhookEvent", "Subscription", "Webhook", "SyncRun"]


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0006_marketing_campaign_permissions"),
        ("campaigns", "0001_initial"),
        ("webhooks", "0001_initial"),
        ("core", "0003_syncrun_from_messaging"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name) for name in STATE_DELETES]),
        migrations.RunPython(forwards, backwards),
    ]
