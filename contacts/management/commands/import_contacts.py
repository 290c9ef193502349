from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from contacts.services.imports import ImportRefused, contacts_import_file


class Command(BaseCommand):
    help = (
        "Import contacts from a CSV (UTF-8; comma, semicolon or tab) or XLSX file with a header "
        "row naming a 'phone' column. Prints a summary and each rejected row's reason; exits "
        "with status 1, writing nothing, when the file cannot be read as a whole."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--tag", default="", help="Tag every imported contact with this name.")
        parser.add_argument(
            "--default-country",
            default="",
            help="ISO country (e.g. BE) for numbers written without a country code.",
        )
        parser.add_argument("--user", default="", help="Username recorded as the importer.")
        parser.add_argument(
            "--workers", type=int, default=None, help="Parser processes (default: one per core)."
        )

    def handle(self, *args, **options):
        import os

        import phonenumbers

        path = options["file"]
        if not os.path.isfile(path):
            raise CommandError(f"No such file: {path}")
        country = options["default_country"].strip().upper()
        if country and country not in phonenumbers.SUPPORTED_REGIONS:
            raise CommandError(f"Unknown country {country!r}: give an ISO code such as BE.")
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user {options['user']!r}.")
        try:
            contact_import, result = contacts_import_file(
                path=path,
                default_country=country,
                tag=options["tag"],
                user=user,
                workers=options["workers"],
            )
        except ImportRefused as exc:
            raise CommandError(f"Refused {path}: {exc} Nothing was imported.") from None
        for line, reason in result.rejections:
            self.stdout.write(f"line {line}: rejected: {reason}")
        if result.rejected > len(result.rejections):
            self.stdout.write(
                f"... {result.rejected - len(result.rejections)} more rejected rows are listed "
                f"in the admin (import #{contact_import.pk})."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Import #{contact_import.pk} ({result.description}): {result.rows_read} rows read, "
                f"{result.imported} imported, {result.updated} updated, {result.duplicates} duplicate(s), "
                f"{result.rejected} rejected."
            )
        )
