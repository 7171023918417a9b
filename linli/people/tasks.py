"""Background work of the register: the spreadsheet import jobs. No logic here (people.imports).

With the immediate backend (demo, tests) a task runs when it is enqueued; in production an RQ
worker runs it and the job page polls its progress.
"""

from django_tasks import task

from linli.people import imports


@task()
def import_job_validate(job_id: int, actor_id: int | None) -> None:
    imports.import_job_run(job_id=job_id, actor_id=actor_id, commit=False)


@task()
def import_job_commit(job_id: int, actor_id: int | None) -> None:
    imports.import_job_run(job_id=job_id, actor_id=actor_id, commit=True)
