"""Marketing staff place calls and bulk calls, manage sound files and voice opt-outs, and read
the reports and prices (those come from BICS: view only)."""

from django.db import migrations

from core.permissions import grant, model_codenames

MANAGED = ("call", "bulkcall", "soundfile", "voiceunsubscriber")
VIEWED = ("bulkcallbatch", "bulkcallrecipient", "calllog", "callrecording", "voiceprice")


def grant_marketing(apps, schema_editor):
    for model in MANAGED:
        grant(apps, "Marketing", "voice", model, model_codenames(model))
    for model in VIEWED:
        grant(apps, "Marketing", "voice", model, model_codenames(model, actions=("view",)))


class Migration(migrations.Migration):
    dependencies = [("voice", "0001_initial"), ("core", "0001_staff_groups")]
    operations = [migrations.RunPython(grant_marketing, migrations.RunPython.noop)]
