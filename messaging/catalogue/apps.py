from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    """Senders, templates and their approval, unsubscribers, blocked templates, prices and the
    balance. The label stays ``messaging``: tables, permissions and admin URLs keep it."""

    name = "messaging.catalogue"
    label = "messaging"
    verbose_name = "Messaging"

    def ready(self):
        from messaging.catalogue.sync_adapters import register_all

        register_all()
        from core.sync_runs import register_job
        from messaging.catalogue.services.pricing import PRICING_JOB, pricing_and_balance_pull

        register_job(PRICING_JOB, "pull", pricing_and_balance_pull)
