from django.apps import AppConfig


class VoiceConfig(AppConfig):
    name = "voice"
    verbose_name = "Voice"

    def ready(self):
        from voice.services.unsubscribers import register_adapters

        register_adapters()
        from voice.jobs import register_jobs

        register_jobs()
        from messaging.webhooks.registry import register

        register(("voice:unsubscription", "voice:message:out"), voice_event)
        from core.admin_actions import contribute_action
        from voice.admin import call_this_contact

        contribute_action("contacts.Contact", call_this_contact)


def voice_event(event) -> dict:
    from voice.services import process_voice_event

    return process_voice_event(event.event_type, event.payload) or {}
