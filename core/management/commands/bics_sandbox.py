import json

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the BICS sandbox server (a fake BICS for development, demos and tests)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=settings.BICS_SANDBOX_PORT)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "sandbox_args", nargs="*", help="further options of `python -m bics.sandbox` (after --)"
        )

    def handle(self, *args, port, host, sandbox_args, **options):
        from bics.sandbox.server import main

        # Route overrides and the BICS time zone hold on both sides.
        argv = ["--port", str(port), "--host", host, "--time-zone", settings.BICS_TIME_ZONE]
        if settings.BICS_ROUTES:
            argv += ["--routes", json.dumps(settings.BICS_ROUTES)]
        main(argv + list(sandbox_args))
