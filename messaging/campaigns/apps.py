from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    """Campaigns, send batches, messages, delivery reports, smart links, the wizard, the
    engine's policy and DLR polling."""

    name = "messaging.campaigns"
    label = "campaigns"
    verbose_name = "Campaigns"

    def ready(self):
        from messaging.campaigns import receivers

        receivers.connect()
