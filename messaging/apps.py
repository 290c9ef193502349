from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self):
        from messaging.sync_adapters import register_all
        from messaging.sync_webhooks import register_all as register_webhooks

        register_all()
        register_webhooks()
