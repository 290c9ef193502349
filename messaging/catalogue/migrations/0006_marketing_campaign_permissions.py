"""Marketing creates and runs campaigns: view/add/change/delete_campaign (0002 granted the
catalogue before campaigns existed; the wizard checks add_campaign / change_campaign)."""

from django.db import migrations

from core.permissions import grant, model_codenames


def forwards(apps, schema_editor):
    grant(apps, "Marketing", "messaging", "campaign", model_codenames("campaign"))


def backwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    group = Group.objects.filter(name="Marketing").first()
    if group is not None:
        group.permissions.remove(*group.permissions.filter(
            content_type__app_label="messaging", codename__in=model_codenames("campaign")))


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0005_campaign_upload"),
        ("core", "0001_staff_groups"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
