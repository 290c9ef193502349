"""`manage.py bics_sync <resource|all> --push|--pull`: the generic sync from the command line.

Prints the counts per resource and every failure or conflict; exits 1 when any record
failed (conflicts are reported but are not failures: the local edit is kept on purpose).
"""

from django.core.management.base import BaseCommand, CommandError

from core import sync


class Command(BaseCommand):
    help = "Push local records to BICS or pull BICS's records here (resource or 'all')."

    def add_arguments(self, parser):
        parser.add_argument("resource", help="one of the registered resources, or 'all'")
        direction = parser.add_mutually_exclusive_group(required=True)
        direction.add_argument("--push", action="store_const", const="push", dest="direction")
        direction.add_argument("--pull", action="store_const", const="pull", dest="direction")

    def handle(self, *args, resource, direction, **options):
        known = sync.resources()
        if resource != "all" and resource not in known:
            raise CommandError(f"unknown resource {resource!r}; known: all, {', '.join(known)}")
        failed = 0
        for name in known if resource == "all" else [resource]:
            result = sync.push(name) if direction == "push" else sync.pull(name)
            counts = result.counts()
            self.stdout.write(f"{direction} {name}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
            for record, reason in result.failed:
                self.stderr.write(f"  failed {sync.label(record)}: {reason}")
            for record, reason in result.conflicts:
                self.stdout.write(f"  conflict {sync.label(record)}: {reason}")
            for record, reason in result.skipped:
                self.stdout.write(f"  skipped {sync.label(record)}: {reason}")
            failed += counts["failed"]
        if failed:
            raise CommandError(f"{failed} record(s) failed", returncode=1)
        self.stdout.write(self.style.SUCCESS("done"))
