from django.apps import AppConfig


class VoiceConfig(AppConfig):
    name = "voice"
    verbose_name = "Voice"

    def ready(self):
        from voice.services.unsubscribers import register_adapters

        register_adapters()
        from messaging.webhooks.registry import register

        register(("voice:unsubscription", "voice:message:out"), voice_event)


def voice_event(event) -> dict:
    from voice.services import process_voice_event

    return process_voice_event(event.event_type, event.payload) or {}
