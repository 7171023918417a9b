"""Background work of fund projects: warning committees of accounts not published in time.

`linli projects_tick` runs it (daily from cron, or `--enqueue` to hand it to the worker); with the
immediate backend (demo, tests) an enqueued task runs at once.
"""

from django_tasks import task

from linli.projects import services


@task()
def disclosures_remind() -> dict:
    return services.disclosures_remind()
