"""Marketing keeps the catalogue; Template approvers decide on templates."""

from django.db import migrations

from core.permissions import grant, model_codenames

CATALOGUE = ("sender", "template", "unsubscriber", "blockedtemplate")
READ_ONLY = ("templateapproval", "price", "accountbalance", "syncrun")


def forwards(apps, schema_editor):
    for model in CATALOGUE:
        grant(apps, "Marketing", "messaging", model, model_codenames(model))
    for model in READ_ONLY:
        grant(apps, "Marketing", "messaging", model, model_codenames(model, ("view",)))
    grant(apps, "Template approvers", "messaging", "template",
          ["approve_template", "view_template"],
          names={"approve_template": "Can approve or reject templates"})
    grant(apps, "Template approvers", "messaging", "templateapproval", ["view_templateapproval"])


def backwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name__in=("Marketing", "Template approvers")):
        group.permissions.remove(*group.permissions.filter(content_type__app_label="messaging"))


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0001_initial"),
        ("core", "0001_staff_groups"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
