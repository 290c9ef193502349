"""The project-wide permission to see phone numbers whole (lists and exports mask them
otherwise). Granted to nobody by default; superusers have it."""

from django.db import migrations


def create(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_type, _ = ContentType.objects.get_or_create(app_label="core", model="staff")
    Permission.objects.get_or_create(
        codename="view_full_numbers",
        content_type=content_type,
        defaults={"name": "Can view full phone numbers"},
    )


def remove(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(codename="view_full_numbers", content_type__app_label="core").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_staff_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create, remove)]
