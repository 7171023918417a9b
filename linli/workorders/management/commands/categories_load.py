from django.core.management.base import BaseCommand, CommandError

from linli.workorders.categories import FIXTURE, FixtureError, categories_load


class Command(BaseCommand):
    help = (
        "Load the classification of components and events and the default time limits from the "
        "editable fixture. Idempotent; never deletes (see linli.workorders.categories)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=None, help=f"default: {FIXTURE}")
        parser.add_argument(
            "--update",
            action="store_true",
            help="also rewrite existing categories and default time limits from the file",
        )

    def handle(self, *args, **options):
        try:
            counts = categories_load(options["path"], update=options["update"])
        except FixtureError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"categories: {counts['categories']} in {counts['majors']} major classes, "
            f"{counts['categories_created']} created, {counts['categories_updated']} updated"
        )
        self.stdout.write(
            f"default time limits: {counts['time_limits']}, "
            f"{counts['time_limits_created']} created, {counts['time_limits_updated']} updated"
        )
