"""Cache invalidation only: the working calendar reloads when its rows change."""

from django.db.models.signals import post_delete, post_migrate, post_save
from django.dispatch import receiver

from linli.workorders.calendar import calendar_changed, calendar_reset
from linli.workorders.models import CalendarDay, CalendarYear


@receiver(post_save, sender=CalendarDay, dispatch_uid="workorders_calendar_day_saved")
@receiver(post_delete, sender=CalendarDay, dispatch_uid="workorders_calendar_day_deleted")
@receiver(post_save, sender=CalendarYear, dispatch_uid="workorders_calendar_year_saved")
@receiver(post_delete, sender=CalendarYear, dispatch_uid="workorders_calendar_year_deleted")
def calendar_rows_changed(sender, using=None, **kwargs) -> None:
    calendar_changed(using=using)


# `migrate` and `flush` (transactional tests) change rows without model signals.
@receiver(post_migrate, dispatch_uid="workorders_calendar_migrated")
def calendar_migrated(sender, **kwargs) -> None:
    calendar_reset()
