from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self):
        from core.schedule import load_periodic_tasks

        post_migrate.connect(load_periodic_tasks, sender=self)
