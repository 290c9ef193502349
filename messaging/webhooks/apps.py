from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Webhooks and subscriptions at BICS, the receiver, stored events and inbound messages.
    Other apps register their event processors (``registry.register``) in their ``ready()``."""

    name = "messaging.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        from messaging.webhooks import processors
        from messaging.webhooks.sync_adapters import register_all

        register_all()
        processors.register_all()
