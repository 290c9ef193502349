from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Dashboard, alerts, health, retention: the one app under core that may import the others."""

    name = "core.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self):
        from core.admin_actions import contribute_action
        from core.ops.admin import erase_personal_data

        contribute_action("contacts.Contact", erase_personal_data)
