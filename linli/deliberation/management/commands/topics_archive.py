from django.core.management.base import BaseCommand

from linli.deliberation import services, tasks


class Command(BaseCommand):
    help = (
        "Archive topics with no activity for their committee's archive period (default 60 "
        "days): open topics that never gathered enough backing, declined and done ones. Run it "
        "daily, e.g. from cron; --enqueue hands it to the background worker."
    )

    def add_arguments(self, parser):
        parser.add_argument("--enqueue", action="store_true", help="run it on the worker")

    def handle(self, *args, **options):
        if options["enqueue"]:
            result = tasks.topics_archive.enqueue()
            self.stdout.write(f"enqueued {result.id}")
            return
        counts = services.topics_archive()
        self.stdout.write(", ".join(f"{k} {v}" for k, v in counts.items()))
