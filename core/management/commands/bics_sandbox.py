from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the BICS sandbox server (a fake BICS for development, demos and tests)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=settings.BICS_SANDBOX_PORT)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("sandbox_args", nargs="*", help="further options for python -m bics.sandbox")

    def handle(self, *args, port, host, sandbox_args, **options):
        from bics.sandbox.__main__ import main

        argv = ["--port", str(port), "--host", host]
        if settings.BICS_ROUTES:
            import json

            argv += ["--routes", json.dumps(settings.BICS_ROUTES)]
        main(argv + list(sandbox_args))
