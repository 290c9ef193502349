"""Both staff groups read the approval trail (nobody writes it but the services)."""

from django.db import migrations

from core.permissions import grant


def forwards(apps, schema_editor):
    for group in ("Marketing", "Template approvers"):
        grant(apps, group, "messaging", "templateevent", ["view_templateevent"])


def backwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name__in=("Marketing", "Template approvers")):
        group.permissions.remove(*group.permissions.filter(codename="view_templateevent"))


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0008_template_fingerprints_and_trail"),
        ("core", "0001_staff_groups"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
