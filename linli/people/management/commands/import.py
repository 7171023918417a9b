import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from linli.people.choices import ImportKind
from linli.people.imports import committee_by_code, import_check, import_commit, rows_estimate


class Command(BaseCommand):
    help = (
        "Import a spreadsheet (.xlsx or .csv) into a committee's register. Every bad row is "
        "printed as `row N: reason` and the command exits 1 without importing anything; a clean "
        "file is imported in one transaction. Importing the same file again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=ImportKind.values)
        parser.add_argument("file", help="an .xlsx or .csv file with the documented headers")
        parser.add_argument(
            "--committee", required=True, metavar="CODE", help="the committee's 12-digit code"
        )
        parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")

    def handle(self, *args, **options):
        committee = committee_by_code(options["committee"])
        if committee is None:
            raise CommandError(f"no residents' committee with code {options['committee']}")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")

        def opener():
            return path.open("rb")

        run = import_check if options["dry_run"] else import_commit
        result = run(
            actor=None,
            committee=committee,
            kind=options["kind"],
            opener=opener,
            file_name=path.name,
            progress=self._progress if self.stderr.isatty() else None,
            total=rows_estimate(opener=opener, file_name=path.name),
        )
        if self.stderr.isatty():
            self.stderr.write("")
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
            f"{result.rows} rows: created {result.created}, updated {result.updated}, "
            f"unchanged {result.unchanged}"
        )
        if options["dry_run"]:
            self.stdout.write(f"dry run, nothing written. {counts}")
        else:
            self.stdout.write(
                self.style.SUCCESS(f"imported {path.name} into {committee}. {counts}")
            )

    def _progress(self, done: int, total: int) -> None:
        self.stderr.write(f"\r{done}/{total} rows", ending="")
        self.stderr.flush()
