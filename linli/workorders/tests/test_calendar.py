"""The working calendar: working days, deadlines in working time, seeding and its warnings.

Dates are 2026's real schedule as the chinese_calendar package (seeded by migration 0003) has
it: Spring Festival 15–23 February with make-up Saturdays 14 and 28 February; National Day
1–7 October with make-up days Sunday 20 September and Saturday 10 October. 2027 has no
schedule in the package, so it exercises the Monday–Friday fallback.
"""

import logging
from datetime import date, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import ProgrammingError, transaction
from django.utils import timezone, translation
from freezegun import freeze_time

from linli.workorders import calendar, checks
from linli.workorders.calendar import (
    SEED_SOURCE,
    add_working_time,
    calendar_reset,
    calendar_seed,
    calendar_warnings,
    fallback_years,
    is_workday,
    missing_years,
    warn_point,
    working_minutes_between,
)
from linli.workorders.choices import DayKind, LimitUnit
from linli.workorders.models import CalendarDay, CalendarYear

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
MINUTES, HOURS, DAYS, NATURAL = (
    LimitUnit.MINUTES,
    LimitUnit.HOURS,
    LimitUnit.DAYS,
    LimitUnit.NATURAL_DAYS,
)


def at(y, m, d, h=0, mi=0):
    return datetime(y, m, d, h, mi, tzinfo=SH)


@pytest.fixture(autouse=True)
def _fresh_calendar():
    calendar_reset()
    yield
    calendar_reset()


# --- The seeded schedule --------------------------------------------------------------------------


def test_the_migration_seeds_every_year_the_package_knows():
    years = list(CalendarYear.objects.values_list("year", flat=True))
    assert years == list(range(2004, 2027))
    assert set(CalendarYear.objects.values_list("source", flat=True)) == {SEED_SOURCE}
    assert CalendarDay.objects.get(date=date(2026, 10, 1)).kind == DayKind.HOLIDAY
    assert CalendarDay.objects.get(date=date(2026, 10, 1)).name == "国庆节"
    assert CalendarDay.objects.get(date=date(2026, 10, 10)).kind == DayKind.MAKEUP


def test_the_seeded_schedule_agrees_with_the_package_for_every_day_of_2026():
    day = date(2026, 1, 1)
    while day.year == 2026:
        assert is_workday(day) == chinese_calendar.is_workday(day), day
        day = date.fromordinal(day.toordinal() + 1)
    assert fallback_years() == frozenset()


def test_working_days_follow_holidays_and_make_up_days():
    assert is_workday(date(2026, 3, 9))  # a plain Monday
    assert not is_workday(date(2026, 3, 7))  # a plain Saturday
    assert not is_workday(date(2026, 10, 1))  # National Day, a Thursday
    assert not is_workday(date(2026, 2, 16))  # Spring Festival, a Monday
    assert is_workday(date(2026, 2, 14))  # make-up Saturday
    assert is_workday(date(2026, 9, 20))  # make-up Sunday
    assert is_workday(at(2026, 10, 10, 23, 30))  # a datetime counts by its Shanghai date


# --- Deadlines in working days --------------------------------------------------------------------


def test_one_working_day_from_friday_afternoon_is_monday_close_of_business():
    assert add_working_time(at(2026, 3, 6, 15), 1, DAYS) == at(2026, 3, 9, 17)


def test_a_report_after_close_of_business_or_at_the_weekend_belongs_to_the_next_working_day():
    assert add_working_time(at(2026, 3, 6, 18), 1, DAYS) == at(2026, 3, 10, 17)
    assert add_working_time(at(2026, 3, 6, 17), 1, DAYS) == at(2026, 3, 10, 17)
    assert add_working_time(at(2026, 3, 7, 10), 1, DAYS) == at(2026, 3, 10, 17)
    assert add_working_time(at(2026, 3, 9, 7), 1, DAYS) == at(2026, 3, 10, 17)
    assert add_working_time(at(2026, 3, 9, 12, 30), 0, DAYS) == at(2026, 3, 9, 17)


def test_working_days_skip_national_day_and_count_its_make_up_saturday():
    start = at(2026, 9, 30, 10)  # Wednesday before the break
    assert add_working_time(start, 1, DAYS) == at(2026, 10, 8, 17)
    assert add_working_time(start, 2, DAYS) == at(2026, 10, 9, 17)
    assert add_working_time(start, 3, DAYS) == at(2026, 10, 10, 17)  # Saturday, worked
    assert add_working_time(start, 4, DAYS) == at(2026, 10, 12, 17)


def test_working_days_over_spring_festival():
    friday = at(2026, 2, 13, 15)
    assert add_working_time(friday, 1, DAYS) == at(2026, 2, 14, 17)  # make-up Saturday
    assert add_working_time(friday, 2, DAYS) == at(2026, 2, 24, 17)  # after the nine days
    # Reported during the break: the count starts from the first working day after it.
    assert add_working_time(at(2026, 2, 18, 10), 1, DAYS) == at(2026, 2, 25, 17)


def test_natural_days_ignore_weekends_holidays_and_working_hours():
    assert add_working_time(at(2026, 3, 6, 15), 3, NATURAL) == at(2026, 3, 9, 15)
    assert add_working_time(at(2026, 9, 30, 22), 2, NATURAL) == at(2026, 10, 2, 22)


# --- Deadlines in working minutes and hours -------------------------------------------------------


def test_minutes_stop_for_lunch():
    assert add_working_time(at(2026, 3, 9, 11, 30), 60, MINUTES) == at(2026, 3, 9, 13, 30)
    assert add_working_time(at(2026, 3, 9, 11), 60, MINUTES) == at(2026, 3, 9, 12)
    assert add_working_time(at(2026, 3, 9, 12, 15), 30, MINUTES) == at(2026, 3, 9, 13, 30)


def test_hours_stop_overnight_and_over_the_weekend():
    assert add_working_time(at(2026, 3, 9, 16, 30), 1, HOURS) == at(2026, 3, 10, 9, 30)
    assert add_working_time(at(2026, 3, 9, 19), 1, HOURS) == at(2026, 3, 10, 10)
    assert add_working_time(at(2026, 3, 6, 16), 2, HOURS) == at(2026, 3, 9, 10)
    assert add_working_time(at(2026, 3, 9, 7), 30, MINUTES) == at(2026, 3, 9, 9, 30)
    # 7 working hours is one full working day.
    assert add_working_time(at(2026, 3, 9, 9), 7, HOURS) == at(2026, 3, 9, 17)


def test_hours_skip_a_holiday_and_use_a_make_up_day():
    assert add_working_time(at(2026, 9, 30, 16), 2, HOURS) == at(2026, 10, 8, 10)
    assert add_working_time(at(2026, 2, 13, 16), 2, HOURS) == at(2026, 2, 14, 10)


def test_working_hours_come_from_the_setting(settings):
    settings.LINLI_WORKING_HOURS = [("08:30", "12:00"), ("13:30", "17:30")]
    assert add_working_time(at(2026, 3, 9, 11, 30), 60, MINUTES) == at(2026, 3, 9, 14)
    assert add_working_time(at(2026, 3, 6, 15), 1, DAYS) == at(2026, 3, 9, 17, 30)


def test_aware_datetimes_in_other_zones_are_read_in_shanghai_time():
    utc_friday_7am = datetime(2026, 3, 6, 7, tzinfo=ZoneInfo("UTC"))  # 15:00 in Shanghai
    assert add_working_time(utc_friday_7am, 1, DAYS) == at(2026, 3, 9, 17)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="aware"):
        add_working_time(datetime(2026, 3, 9, 9), 1, HOURS)  # noqa: DTZ001
    with pytest.raises(ValueError, match="unit"):
        add_working_time(at(2026, 3, 9, 9), 1, "weeks")
    with pytest.raises(ValueError, match="negative"):
        add_working_time(at(2026, 3, 9, 9), -1, HOURS)


# --- Working time between two moments and the yellow light ----------------------------------------


def test_working_minutes_between():
    assert working_minutes_between(at(2026, 3, 9, 11), at(2026, 3, 9, 14)) == 120
    assert working_minutes_between(at(2026, 3, 6, 16), at(2026, 3, 9, 10)) == 120
    assert working_minutes_between(at(2026, 3, 9, 0), at(2026, 3, 10, 0)) == 420
    assert working_minutes_between(at(2026, 9, 30, 16), at(2026, 10, 8, 10)) == 120
    assert working_minutes_between(at(2026, 3, 9, 14), at(2026, 3, 9, 11)) == 0
    assert working_minutes_between(at(2026, 3, 9, 14), at(2026, 3, 9, 14)) == 0
    assert working_minutes_between(at(2026, 3, 7, 9), at(2026, 3, 8, 18)) == 0  # weekend


def test_warn_point_is_at_eighty_percent_of_the_working_time():
    # One working day: 420 minutes; 80 % = 336 → 180 in the morning, 156 after lunch.
    assert warn_point(at(2026, 3, 9, 9), at(2026, 3, 9, 17)) == at(2026, 3, 9, 15, 36)
    # Friday 15:00 + 1 working day: 120 + 420 = 540 minutes; 80 % = 432 → Monday 15:12.
    start = at(2026, 3, 6, 15)
    due = add_working_time(start, 1, DAYS)
    assert warn_point(start, due) == at(2026, 3, 9, 15, 12)
    warn = warn_point(start, due)
    assert working_minutes_between(start, warn) == 432


def test_warn_point_percentage_comes_from_the_setting(settings):
    settings.LINLI_YELLOW_AT_PERCENT = 50
    assert warn_point(at(2026, 3, 6, 15), at(2026, 3, 9, 17)) == at(2026, 3, 9, 11, 30)
    settings.LINLI_YELLOW_AT_PERCENT = 0
    with pytest.raises(ImproperlyConfigured):
        warn_point(at(2026, 3, 6, 15), at(2026, 3, 9, 17))


def test_warn_point_without_working_time_uses_elapsed_time():
    # Saturday 10:00 → Sunday 10:00 (a natural-day limit over a weekend): 80 % of 24 h.
    assert warn_point(at(2026, 3, 7, 10), at(2026, 3, 8, 10)) == at(2026, 3, 8, 5, 12)
    assert warn_point(at(2026, 3, 9, 10), at(2026, 3, 9, 9)) == at(2026, 3, 9, 9)


# --- A year without a schedule --------------------------------------------------------------------


def test_a_year_without_schedule_falls_back_to_weekdays_and_warns_once(caplog):
    caplog.set_level(logging.WARNING, logger="linli.workorders.calendar")
    assert missing_years(2025, 2028) == [2027, 2028]
    # 2026-12-31 is a Thursday; 1 January 2027 will surely be a holiday, but nobody has
    # entered 2027 yet, so it counts as a plain Friday.
    start = at(2026, 12, 31, 10)
    assert add_working_time(start, 1, DAYS) == at(2027, 1, 1, 17)
    assert add_working_time(start, 2, DAYS) == at(2027, 1, 4, 17)
    assert add_working_time(start, 8, HOURS) == at(2027, 1, 1, 11)
    assert not is_workday(date(2027, 1, 2))
    assert fallback_years() == {2027}
    warnings = [r for r in caplog.records if r.name == "linli.workorders.calendar"]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert "2027" in warnings[0].getMessage()


def test_entering_a_year_makes_it_known():
    CalendarYear.objects.create(year=2027, source="国务院办公厅通知")
    CalendarDay.objects.create(date=date(2027, 1, 1), kind=DayKind.HOLIDAY, name="元旦")
    assert missing_years(2026, 2027) == []
    assert add_working_time(at(2026, 12, 31, 10), 1, DAYS) == at(2027, 1, 4, 17)
    assert fallback_years() == frozenset()


# --- Administrators' edits and the cache ----------------------------------------------------------


def test_an_added_day_takes_effect_immediately():
    friday = at(2026, 3, 6, 15)
    assert add_working_time(friday, 1, DAYS) == at(2026, 3, 9, 17)  # warms the cache

    day = CalendarDay.objects.create(date=date(2026, 3, 9), kind=DayKind.HOLIDAY, name="停工")
    assert add_working_time(friday, 1, DAYS) == at(2026, 3, 10, 17)

    CalendarDay.objects.create(date=date(2026, 3, 7), kind=DayKind.MAKEUP, name="调休")
    assert add_working_time(friday, 1, DAYS) == at(2026, 3, 7, 17)

    day.delete()
    CalendarDay.objects.filter(date=date(2026, 3, 7)).delete()
    assert add_working_time(friday, 1, DAYS) == at(2026, 3, 9, 17)


def test_an_edited_day_takes_effect_immediately():
    start = at(2026, 9, 30, 10)
    assert add_working_time(start, 3, DAYS) == at(2026, 10, 10, 17)  # make-up Saturday
    saturday = CalendarDay.objects.get(date=date(2026, 10, 10))
    saturday.kind = DayKind.HOLIDAY  # the make-up day is called off
    saturday.save()
    assert add_working_time(start, 3, DAYS) == at(2026, 10, 12, 17)


def test_a_rolled_back_edit_is_forgotten():
    assert is_workday(date(2026, 3, 9))
    with pytest.raises(RuntimeError), transaction.atomic():
        CalendarDay.objects.create(date=date(2026, 3, 9), kind=DayKind.HOLIDAY)
        assert not is_workday(date(2026, 3, 9))
        raise RuntimeError("the administrator's save failed")
    assert is_workday(date(2026, 3, 9))


def test_a_deadline_costs_at_most_two_queries_and_none_once_loaded(
    django_assert_max_num_queries, django_assert_num_queries
):
    with django_assert_max_num_queries(2):
        add_working_time(at(2026, 9, 30, 10), 10, DAYS)
    with django_assert_num_queries(0):
        add_working_time(at(2026, 9, 30, 10), 10, DAYS)
        warn_point(at(2026, 9, 30, 10), at(2026, 10, 20, 17))
        working_minutes_between(at(2026, 1, 1), at(2026, 12, 31))


# --- Seeding --------------------------------------------------------------------------------------


def test_seeding_again_changes_nothing():
    days = CalendarDay.objects.count()
    result = calendar_seed()
    assert result["unchanged"] == list(range(2004, 2027))
    assert result["created"] == result["updated"] == result["days_created"] == []
    assert CalendarDay.objects.count() == days


def test_seeding_creates_a_missing_year():
    count_2025 = CalendarDay.objects.filter(date__year=2025).count()
    CalendarDay.objects.filter(date__year=2025).delete()
    CalendarYear.objects.filter(year=2025).delete()
    result = calendar_seed(years=[2025, 2030])
    assert result["created"] == [2025]
    assert result["unavailable"] == [2030]
    assert len(result["days_created"]) == count_2025
    assert CalendarYear.objects.get(year=2025).source == SEED_SOURCE
    assert not is_workday(date(2025, 10, 1))


def test_seeding_never_overwrites_a_year_an_administrator_has_edited():
    year = CalendarYear.objects.get(year=2026)
    year.source = "国办发明电〔2025〕7号, corrected by the street office"
    year.save()
    CalendarDay.objects.filter(date=date(2026, 10, 7)).delete()  # declared a working day

    result = calendar_seed(years=[2026])

    assert result["skipped"] == [2026]
    assert result["days_created"] == []
    assert not CalendarDay.objects.filter(date=date(2026, 10, 7)).exists()
    assert is_workday(date(2026, 10, 7))


def test_seeding_an_older_package_version_adds_missing_days_and_keeps_edited_ones():
    CalendarYear.objects.filter(year=2026).update(source="chinese-calendar 1.10.0")
    CalendarDay.objects.filter(date=date(2026, 10, 1)).delete()
    CalendarDay.objects.filter(date=date(2026, 10, 2)).update(kind=DayKind.MAKEUP)

    result = calendar_seed(years=[2026])

    assert result["updated"] == [2026]
    assert result["days_created"] == [date(2026, 10, 1)]
    assert result["conflicts"] == [date(2026, 10, 2)]
    assert CalendarDay.objects.get(date=date(2026, 10, 2)).kind == DayKind.MAKEUP
    assert CalendarYear.objects.get(year=2026).source == SEED_SOURCE
    assert not is_workday(date(2026, 10, 1))


def test_the_seed_command_reports_what_it_did():
    CalendarDay.objects.filter(date__year=2024).delete()
    CalendarYear.objects.filter(year=2024).delete()
    out = StringIO()
    call_command("calendar_seed", "--year", "2024", "--year", "2026", "--year", "2031", stdout=out)
    text = out.getvalue()
    assert "created: 2024" in text
    assert "unchanged (already seeded): 2026" in text
    assert "unavailable (unknown to the package): 2031" in text
    assert CalendarYear.objects.filter(year=2024).exists()


# --- System check and banner ----------------------------------------------------------------------


def _w101(**kwargs):
    return [m for m in checks.check_calendar_years(databases=["default"], **kwargs)]


def test_no_warning_in_the_middle_of_a_known_year():
    with freeze_time("2026-06-15 10:00:00"):
        assert _w101() == []
        assert calendar_warnings() == []


def test_warning_for_next_year_from_november():
    with freeze_time("2026-11-02 10:00:00"), translation.override("en"):
        messages = _w101()
        assert [m.id for m in messages] == ["linli.W101"]
        assert "2027" in messages[0].msg
        assert "State Council" in str(messages[0].hint)
        assert calendar_warnings() == [messages[0].msg]
    with freeze_time("2026-10-31 10:00:00"):
        assert _w101() == []


def test_warning_for_the_current_year_and_silence_once_entered():
    with freeze_time("2027-03-01 10:00:00"):
        assert len(_w101()) == 1
        assert len(calendar_warnings()) == 1
        CalendarYear.objects.create(year=2027, source="国务院办公厅通知")
        assert _w101() == []
        assert calendar_warnings() == []


def test_the_check_is_registered_as_a_database_check():
    # No freeze_time here: run_checks imports the URLs, whose API schemas dislike fake datetimes.
    CalendarYear.objects.filter(year=timezone.localdate().year).delete()
    assert "linli.W101" in {m.id for m in run_checks(databases=["default"])}
    assert "linli.W101" not in {m.id for m in run_checks()}


def test_the_check_says_nothing_before_the_tables_exist(monkeypatch):
    class Broken:
        def using(self, alias):
            raise ProgrammingError('relation "workorders_calendaryear" does not exist')

    monkeypatch.setattr(checks.CalendarYear, "objects", Broken())
    with freeze_time("2027-03-01 10:00:00"):
        assert _w101() == []


def test_bad_working_time_settings_are_reported(settings):
    assert checks.check_working_time_settings() == []
    settings.LINLI_WORKING_HOURS = [("09:00", "12:00"), ("11:00", "17:00")]
    settings.LINLI_YELLOW_AT_PERCENT = 120
    assert [m.id for m in checks.check_working_time_settings()] == ["linli.E101", "linli.E101"]
    settings.LINLI_WORKING_HOURS = [("9am",)]
    with pytest.raises(ImproperlyConfigured):
        calendar.working_hours()
