from django.core.management.base import BaseCommand

from linli.projects import services, tasks


class Command(BaseCommand):
    help = (
        "Warn committees, once per payment, of fund-project payments not published on their "
        "board within the street's disclosure days. Run it daily, e.g. from cron; --enqueue "
        "hands it to the background worker."
    )

    def add_arguments(self, parser):
        parser.add_argument("--enqueue", action="store_true", help="run it on the worker")

    def handle(self, *args, **options):
        if options["enqueue"]:
            result = tasks.disclosures_remind.enqueue()
            self.stdout.write(f"enqueued {result.id}")
            return
        counts = services.disclosures_remind()
        self.stdout.write(", ".join(f"{k} {v}" for k, v in counts.items()))
