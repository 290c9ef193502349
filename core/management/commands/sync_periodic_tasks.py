from django.core.management.base import BaseCommand

from core.schedule import load_periodic_tasks


class Command(BaseCommand):
    help = "Load the periodic jobs of config/schedule.py into django-celery-beat (keeps admin edits)."

    def handle(self, *args, **options):
        created = load_periodic_tasks()
        self.stdout.write(f"{created} periodic task(s) created.")
