"""Background work of the topics: archiving quiet topics.

`linli topics_archive` runs it (daily from cron, or `--enqueue` to hand it to the worker); with
the immediate backend (demo, tests) an enqueued task runs at once.
"""

from django_tasks import task

from linli.deliberation import services


@task()
def topics_archive() -> dict:
    return services.topics_archive()
