from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "Add idempotent demo data: every app with a `demo.seed(stdout)` function adds its part."

    def handle(self, *args, **options):
        seeded = 0
        for config in apps.get_app_configs():
            try:
                module = import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            with transaction.atomic():
                module.seed(stdout=self.stdout)
            seeded += 1
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({seeded} apps seeded)."))
