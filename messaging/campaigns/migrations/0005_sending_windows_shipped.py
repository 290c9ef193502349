"""Sending windows shipped with the product, switched off: common practice, to be checked by
the customer for their own traffic and countries before switching them on (defaults, not
legal advice)."""

import datetime

from django.db import migrations

SHIPPED = [
    # country, traffic, opens, closes, weekdays (Monday = 0)
    ("", "promotional", (8, 0), (21, 0), "012345"),
    ("", "transactional", (0, 0), (0, 0), "0123456"),
    ("FR", "promotional", (8, 0), (20, 0), "012345"),
    ("DE", "promotional", (8, 0), (20, 0), "012345"),
    ("US", "promotional", (8, 0), (21, 0), "0123456"),
]


def ship(apps, schema_editor):
    window = apps.get_model("campaigns", "SendingWindow")
    for country, traffic, opens, closes, weekdays in SHIPPED:
        window.objects.get_or_create(country=country, traffic=traffic, defaults={
            "opens": datetime.time(*opens), "closes": datetime.time(*closes), "weekdays": weekdays, "shipped": True, "active": False})


def unship(apps, schema_editor):
    apps.get_model("campaigns", "SendingWindow").objects.filter(shipped=True).delete()


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0004_sending_windows")]

    operations = [migrations.RunPython(ship, unship)]
