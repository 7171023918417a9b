from django.core.management.base import BaseCommand

from linli.workorders import services, tasks


class Command(BaseCommand):
    help = (
        "Run the work-order timers: a reminder at the yellow light (80 % of a phase's working "
        "time), supervision (督办) at the red light, archiving after the rating window. Run it "
        "every few minutes, e.g. from cron; --enqueue hands it to the background worker."
    )

    def add_arguments(self, parser):
        parser.add_argument("--enqueue", action="store_true", help="run it on the worker")

    def handle(self, *args, **options):
        if options["enqueue"]:
            result = tasks.orders_tick.enqueue()
            self.stdout.write(f"enqueued {result.id}")
            return
        counts = services.orders_tick()
        self.stdout.write(", ".join(f"{k} {v}" for k, v in counts.items()))
