from django.core.management.base import BaseCommand, CommandError

from linli.people.imports import import_jobs_purge


class Command(BaseCommand):
    help = (
        "Delete the stored files of spreadsheet imports that were never committed (they hold "
        "plaintext ID numbers and phones). Run it daily, e.g. from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=7, help="age of the upload [7]")

    def handle(self, *args, **options):
        if options["days"] < 1:
            raise CommandError("--days must be at least 1")
        count = import_jobs_purge(days=options["days"])
        self.stdout.write(f"wiped {count} uncommitted upload(s)")
