"""Background work of the work orders: the timer (reminders, supervision, archiving).

`linli workorders_tick` runs it (from cron every few minutes, or `--enqueue` to hand it to the
RQ worker); with the immediate backend (demo, tests) an enqueued task runs at once.
"""

from django_tasks import task

from linli.workorders import services


@task()
def orders_tick() -> dict:
    return services.orders_tick()
