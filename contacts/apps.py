from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = "Contacts"

    def ready(self):
        from contacts.sync_adapters import register_all

        register_all()
