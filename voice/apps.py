from django.apps import AppConfig


class VoiceConfig(AppConfig):
    name = "voice"
    verbose_name = "Voice"

    def ready(self):
        from voice.services.unsubscribers import register_adapters

        register_adapters()
