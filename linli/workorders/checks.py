"""System checks of the working calendar (ids linli.E101, linli.W101)."""

from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, router
from django.utils import timezone

from linli.workorders.calendar import (
    schedule_missing_hint,
    schedule_missing_message,
    working_hours,
    years_to_check,
    yellow_at_percent,
)
from linli.workorders.models import CalendarYear


def _applies(app_configs) -> bool:
    return app_configs is None or any(config.label == "workorders" for config in app_configs)


@register()
def check_working_time_settings(app_configs=None, **kwargs):
    if not _applies(app_configs):
        return []
    errors = []
    for reader in (working_hours, yellow_at_percent):
        try:
            reader()
        except ImproperlyConfigured as error:
            errors.append(Error(str(error), id="linli.E101"))
    return errors


@register(Tags.database)
def check_calendar_years(app_configs=None, databases=None, **kwargs):
    """linli.W101: the current year, or from November the next, has no holiday schedule.

    A database check: it runs with `migrate` and `manage.py check --database default`, not with
    every command. Before the tables exist (or without a database) it says nothing.
    """
    alias = router.db_for_read(CalendarYear)
    if not _applies(app_configs) or not databases or alias not in databases:
        return []
    needed = years_to_check(timezone.localdate())
    try:
        known = set(
            CalendarYear.objects.using(alias).filter(year__in=needed).values_list("year", flat=True)
        )
    except DatabaseError:
        return []
    return [
        Warning(schedule_missing_message(year), hint=schedule_missing_hint(year), id="linli.W101")
        for year in needed
        if year not in known
    ]
