from django.core.management.base import BaseCommand

from linli.workorders.calendar import SEED_SOURCE, calendar_seed, seed_years_available


class Command(BaseCommand):
    help = (
        "Enter holidays and make-up working days from the chinese_calendar package. Idempotent; "
        "never overwrites a year an administrator has entered (see calendar_seed)."
    )

    def add_arguments(self, parser):
        available = seed_years_available()
        parser.add_argument(
            "--year",
            type=int,
            action="append",
            dest="years",
            metavar="YEAR",
            help=f"seed only this year (repeatable); default: {available[0]}–{available[-1]}",
        )

    def handle(self, *args, **options):
        result = calendar_seed(years=options["years"])

        def years(key: str) -> str:
            return ", ".join(str(year) for year in result[key]) or "none"

        self.stdout.write(f"source: {SEED_SOURCE}")
        self.stdout.write(f"created: {years('created')}")
        self.stdout.write(f"updated (older package version): {years('updated')}")
        self.stdout.write(f"unchanged (already seeded): {years('unchanged')}")
        self.stdout.write(f"skipped (entered by an administrator): {years('skipped')}")
        self.stdout.write(f"unavailable (unknown to the package): {years('unavailable')}")
        self.stdout.write(f"days created: {len(result['days_created'])}")
        for day in result["conflicts"]:
            self.stdout.write(
                self.style.WARNING(f"kept {day}: the entered day differs from the package")
            )
        if result["unavailable"]:
            self.stdout.write(
                self.style.WARNING(
                    "Enter unavailable years by hand under Admin › Calendar days and Calendar years."
                )
            )
