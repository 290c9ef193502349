"""Marketing may send one-off messages of approved templates (``campaigns.send_one_off``).
Free text (``campaigns.send_free_text``) skips the template's four eyes: granted to nobody
here, an administrator gives it to whom it concerns."""

from django.db import migrations

from core.permissions import grant


def forwards(apps, schema_editor):
    grant(apps, "Marketing", "campaigns", "campaign", ["send_one_off"],
          names={"send_one_off": "Can send a one-off message (approved template)"})


def backwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    group = Group.objects.filter(name="Marketing").first()
    if group is not None:
        group.permissions.remove(*group.permissions.filter(content_type__app_label="campaigns",
                                                           codename="send_one_off"))


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0002_trust_one_off_permissions_errors_test_sends"),
        ("messaging", "0007_models_moved_out"),
        ("core", "0001_staff_groups"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
