"""Receiver URL keys are random: a webhook whose key was its BICS id gets a new random key,
its URL is rewritten and it is marked dirty, so that the next push re-registers the URL at
BICS (the admin says so). Then the database refuses a key equal to the BICS id."""

import secrets

import messaging.webhooks.models
from django.db import migrations, models


def _new_slug() -> str:
    return secrets.token_urlsafe(12).replace("-", "x").replace("_", "y").lower()


def rekey(apps, schema_editor):
    Webhook = apps.get_model("webhooks", "Webhook")
    for hook in Webhook.objects.filter(bics_id__isnull=False, slug=models.F("bics_id")):
        old = hook.slug
        hook.slug = _new_slug()
        marker = f"/webhooks/bics/{old}/"
        if marker in hook.uri:
            hook.uri = hook.uri.replace(marker, f"/webhooks/bics/{hook.slug}/")
        hook.sync_state = "dirty"
        hook.sync_error = "Receiver URL changed (its key was the BICS id): push to re-register it at BICS."
        hook.save(update_fields=["slug", "uri", "sync_state", "sync_error"])


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0001_initial")]

    operations = [
        migrations.RunPython(rekey, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="webhook", name="secret",
            field=models.CharField(blank=True, max_length=200, help_text=(
                "Sent by BICS as 'Authorization: Bearer <secret>'. Without a secret every callback is refused: "
                "generate one, save, then push to BICS.")),
        ),
        migrations.AlterField(
            model_name="webhook", name="slug",
            field=models.SlugField(default=messaging.webhooks.models.new_slug,
                                   help_text="Random path segment of our receiver: /webhooks/bics/<slug>/.",
                                   max_length=40, unique=True),
        ),
        migrations.AddConstraint(
            model_name="webhook",
            constraint=models.CheckConstraint(condition=~models.Q(slug=models.F("bics_id")),
                                              name="webhook_url_key_is_not_bics_id"),
        ),
    ]
