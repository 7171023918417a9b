"""Background work of the notices: relaying notifications to the configured senders."""

from django_tasks import task

from linli.notices import services


@task()
def notifications_deliver(notification_ids: list[int]) -> dict:
    return services.notifications_deliver(notification_ids=notification_ids)
