import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from linli.workorders.hotline import hotline_check, hotline_commit, street_by_code


class Command(BaseCommand):
    help = (
        "Import a 12345 hotline file (.xlsx or .csv) into a street's work orders. Every bad row "
        "is printed as `row N: reason` and the command exits 1 without importing anything; a "
        "clean file is imported in one transaction. A hotline number the street already holds is "
        "left alone, so importing the same file again creates nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="an .xlsx or .csv file with the documented headers")
        parser.add_argument(
            "--street", required=True, metavar="CODE", help="the street's 12-digit code"
        )
        parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
        parser.add_argument(
            "--as",
            dest="username",
            metavar="USERNAME",
            help="import as this account (it must dispatch at the street); default: the system",
        )

    def handle(self, *args, **options):
        street = street_by_code(options["street"])
        if street is None:
            raise CommandError(f"no street with code {options['street']}")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        actor = None
        if options["username"]:
            actor = get_user_model().objects.filter(username=options["username"]).first()
            if actor is None or not actor.is_active:
                raise CommandError(f"no active account {options['username']}")

        def opener():
            return path.open("rb")

        run = hotline_check if options["dry_run"] else hotline_commit
        try:
            result = run(actor=actor, street=street, opener=opener, file_name=path.name)
        except PermissionDenied:
            raise CommandError(
                f"{options['username']} may not dispatch work orders in {street.name}"
            ) from None
        for row, message in result.errors:
            self.stdout.write(f"row {row}: {message}")
        if not result.ok:
            if result.error_count > len(result.errors):
                self.stdout.write(f"… and {result.error_count - len(result.errors)} more bad rows")
            self.stderr.write(
                f"{result.error_count} bad row(s) in {result.rows}: nothing was imported."
            )
            sys.exit(1)
        counts = (
            f"{result.rows} rows: new orders {result.created} "
            f"(category told from the text: {result.guessed}), already imported {result.unchanged}"
        )
        if options["dry_run"]:
            self.stdout.write(f"dry run, nothing written. {counts}")
        else:
            self.stdout.write(
                self.style.SUCCESS(f"imported {path.name} into {street.name}. {counts}")
            )
