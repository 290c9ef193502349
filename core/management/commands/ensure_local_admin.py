import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the local admin user once and print its login; later runs say it exists."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username, **options):
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            self.stdout.write(
                f"Local admin '{username}' exists. Forgot the password? "
                f"Run: .venv/bin/python manage.py changepassword {username}"
            )
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        bar = "=" * 60
        self.stdout.write(
            self.style.SUCCESS(
                f"{bar}\nLocal admin created (shown once):\n"
                f"  user:     {username}\n  password: {password}\n"
                f"  login at: http://127.0.0.1:{os.environ.get('PORT', '8000')}/admin/\n{bar}"
            )
        )
