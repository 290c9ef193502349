"""Marketing staff manage contacts, tags, segments and imports."""

from django.db import migrations

from core.permissions import grant, model_codenames

MODELS = ("contact", "identifier", "tag", "segment", "contactimport", "contactimportrejection")


def grant_marketing(apps, schema_editor):
    for model in MODELS:
        grant(apps, "Marketing", "contacts", model, model_codenames(model))


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_initial"), ("core", "0001_staff_groups")]
    operations = [migrations.RunPython(grant_marketing, migrations.RunPython.noop)]
