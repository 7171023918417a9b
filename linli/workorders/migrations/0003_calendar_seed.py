"""Seed the working calendar with the holiday schedules the chinese_calendar package knows.

Self-contained on purpose (historical models, no app code), so later changes to
linli.workorders.calendar cannot change what this migration did. Years that already have a
CalendarYear, and dates that already have a CalendarDay, are left as they are.
"""

from django.db import migrations


def seed(apps, schema_editor):
    try:
        import chinese_calendar
    except ImportError:  # the calendar can still be entered by hand or with `calendar_seed`
        return
    CalendarYear = apps.get_model("workorders", "CalendarYear")
    CalendarDay = apps.get_model("workorders", "CalendarDay")
    db = schema_editor.connection.alias
    source = f"chinese-calendar {chinese_calendar.__version__}"

    known = {day.year for day in chinese_calendar.holidays}
    years = known - set(CalendarYear.objects.using(db).values_list("year", flat=True))
    taken = set(CalendarDay.objects.using(db).values_list("date", flat=True))
    days = {}
    for day, english in chinese_calendar.holidays.items():
        if day.year in years:
            days[day] = ("holiday", chinese_calendar.Holiday(english).chinese)
    for day, english in chinese_calendar.workdays.items():
        if day.year in years and day.weekday() >= 5:
            days[day] = ("makeup", chinese_calendar.Holiday(english).chinese)

    CalendarYear.objects.using(db).bulk_create(
        [CalendarYear(year=year, source=source) for year in sorted(years)]
    )
    CalendarDay.objects.using(db).bulk_create(
        [
            CalendarDay(date=day, kind=kind, name=name)
            for day, (kind, name) in sorted(days.items())
            if day not in taken
        ]
    )


class Migration(migrations.Migration):
    dependencies = [("workorders", "0002_transition_append_only")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
