"""The working calendar: which days are working days, and deadlines counted in working time.

Rules (all wall-clock times are Asia/Shanghai; datetimes passed in must be aware):

- **Working day.** Monday to Friday, except a `CalendarDay` of kind *holiday*; plus any
  `CalendarDay` of kind *make-up* (调休: a Saturday or Sunday worked in exchange). Entered days
  always apply. A year without a `CalendarYear` row has an unknown schedule: it falls back to
  Monday–Friday, is recorded (`fallback_years()`), and logs one WARNING per year and process on
  the logger ``linli.workorders.calendar``. Nothing ever fails for want of a schedule.
- **Working hours.** `settings.LINLI_WORKING_HOURS`, by default 09:00–12:00 and 13:00–17:00.
  The end of the last span (17:00) is *close of business*.
- **Units** (`LimitUnit`): minutes and hours count working time only (the clock stops for
  lunch, nights, weekends and holidays); days count whole working days and end at close of
  business; natural days are plain calendar days. See `add_working_time`.
- **Yellow light.** `warn_point`: when `settings.LINLI_YELLOW_AT_PERCENT` (80) per cent of the
  working time between the start and the deadline has passed.

The calendar is read from the database once (two small queries) and kept in the process. Saving
or deleting a `CalendarDay` or `CalendarYear` clears it (signals in `signals.py`), again after
the transaction commits, and tells other processes through a version key in Django's cache
(shared when Redis is configured); a process also reloads after `_MAX_AGE` seconds at the latest.
"""

from __future__ import annotations

import logging
import threading
import time as monotonic_clock
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.workorders.choices import DayKind, LimitUnit
from linli.workorders.models import CalendarDay, CalendarYear

logger = logging.getLogger(__name__)  # "linli.workorders.calendar"

TZ = ZoneInfo("Asia/Shanghai")
SEED_SOURCE_PREFIX = "chinese-calendar"
SEED_SOURCE = f"{SEED_SOURCE_PREFIX} {chinese_calendar.__version__}"

_VERSION_KEY = "linli:workorders:calendar:version"
_MAX_AGE = 300.0  # seconds; a backstop when processes share no cache
# A computation that meets this many days in a row without a working day gives up (a
# calendar with every day marked as a holiday would otherwise loop for ever).
_MAX_IDLE_DAYS = 366 * 2


@dataclass(frozen=True)
class WorkingCalendar:
    """The holiday schedule as loaded from the database."""

    known_years: frozenset[int]
    holidays: frozenset[date]
    makeup_days: frozenset[date]
    version: str | None = None
    loaded_at: float = field(default=0.0, compare=False)

    def is_workday(self, day: date) -> bool:
        if day.year not in self.known_years:
            _note_fallback(day.year)
        if day in self.makeup_days:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5


# --- The in-process cache -------------------------------------------------------------------------

_lock = threading.Lock()
_cached: WorkingCalendar | None = None
_fallback_years: set[int] = set()
# Per thread: this thread wrote calendar rows in a transaction that has not ended yet, so it must
# read its own (uncommitted) rows and must not publish them to other threads.
_thread = threading.local()


def calendar_reset() -> None:
    """Forget the loaded calendar and the years already warned about (tests call this)."""
    global _cached
    with _lock:
        _cached = None
        _fallback_years.clear()
    _thread.pending_edit = False


def calendar_changed(*, using: str | None = None) -> None:
    """Calendar rows were written: reload here now, everywhere once the transaction commits."""
    calendar_reset()
    _bump_version()
    if transaction.get_connection(using).in_atomic_block:
        _thread.pending_edit = True
        transaction.on_commit(_committed, using=using)


def _committed() -> None:
    # Other threads and processes may have reloaded between the write and the commit and kept
    # the old rows: make them all reload once more.
    calendar_reset()
    _bump_version()


def _bump_version() -> None:
    try:
        cache.set(_VERSION_KEY, uuid.uuid4().hex, None)
    except Exception:  # a cache outage must not break an administrator's save
        logger.exception("could not publish the calendar version")


def _shared_version() -> str | None:
    try:
        return cache.get(_VERSION_KEY)
    except Exception:
        return None


def _reading_own_writes() -> bool:
    if not getattr(_thread, "pending_edit", False):
        return False
    if transaction.get_connection().in_atomic_block:
        return True
    _thread.pending_edit = False  # the transaction ended (committed or rolled back)
    return False


def _load(version: str | None) -> WorkingCalendar:
    holidays, makeups = set(), set()
    for day, kind in CalendarDay.objects.values_list("date", "kind"):
        (makeups if kind == DayKind.MAKEUP else holidays).add(day)
    return WorkingCalendar(
        known_years=frozenset(CalendarYear.objects.values_list("year", flat=True)),
        holidays=frozenset(holidays),
        makeup_days=frozenset(makeups),
        version=version,
        loaded_at=monotonic_clock.monotonic(),
    )


def calendar_get() -> WorkingCalendar:
    """The current calendar: from the process cache, or loaded with two queries."""
    global _cached
    if _reading_own_writes():
        return _load(None)
    version = _shared_version()
    with _lock:
        current = _cached
    if (
        current is not None
        and current.version == version
        and monotonic_clock.monotonic() - current.loaded_at < _MAX_AGE
    ):
        return current
    loaded = _load(version)
    with _lock:
        _cached = loaded
    return loaded


def _note_fallback(year: int) -> None:
    with _lock:
        if year in _fallback_years:
            return
        _fallback_years.add(year)
    logger.warning(
        "No holiday schedule for %s: counting Monday to Friday as working days. "
        "Enter the year under Admin > Calendar days.",
        year,
    )


def fallback_years() -> frozenset[int]:
    """Years whose Monday–Friday fallback was used in this process since the last reset."""
    with _lock:
        return frozenset(_fallback_years)


def missing_years(start_year: int, end_year: int) -> list[int]:
    """The years from start_year to end_year (inclusive) that have no `CalendarYear`."""
    known = calendar_get().known_years
    return [year for year in range(start_year, end_year + 1) if year not in known]


# --- Working hours --------------------------------------------------------------------------------


def working_hours() -> list[tuple[time, time]]:
    """`settings.LINLI_WORKING_HOURS` as sorted, non-overlapping (start, end) times.

    Raises ImproperlyConfigured when the setting is malformed (system check linli.E101).
    """
    raw = settings.LINLI_WORKING_HOURS
    spans: list[tuple[time, time]] = []
    try:
        for start, end in raw:
            spans.append((time.fromisoformat(start), time.fromisoformat(end)))
    except (TypeError, ValueError):
        raise ImproperlyConfigured(
            f'LINLI_WORKING_HOURS must be a list of ("HH:MM", "HH:MM") pairs, got {raw!r}'
        ) from None
    spans.sort()
    if not spans:
        raise ImproperlyConfigured("LINLI_WORKING_HOURS is empty.")
    previous_end = time.min
    for index, (start, end) in enumerate(spans):
        if start >= end or (index and start < previous_end):
            raise ImproperlyConfigured(
                f"LINLI_WORKING_HOURS spans must be increasing and must not overlap: {raw!r}"
            )
        previous_end = end
    return spans


def yellow_at_percent() -> int:
    percent = settings.LINLI_YELLOW_AT_PERCENT
    if not isinstance(percent, int) or not 0 < percent <= 100:
        raise ImproperlyConfigured(
            f"LINLI_YELLOW_AT_PERCENT must be an integer from 1 to 100, got {percent!r}"
        )
    return percent


# --- Working-time arithmetic ----------------------------------------------------------------------


def _in_tz(moment: datetime) -> datetime:
    if timezone.is_naive(moment):
        raise ValueError(f"an aware datetime is required, got {moment!r}")
    return moment.astimezone(TZ)


class Clock:
    """Working-time arithmetic over one calendar and one set of working hours."""

    def __init__(self, calendar: WorkingCalendar, hours: list[tuple[time, time]]):
        self.calendar = calendar
        self.hours = hours

    def spans(self, day: date) -> list[tuple[datetime, datetime]]:
        if not self.calendar.is_workday(day):
            return []
        return [
            (datetime.combine(day, start, TZ), datetime.combine(day, end, TZ))
            for start, end in self.hours
        ]

    def close_of_business(self, day: date) -> datetime:
        return datetime.combine(day, self.hours[-1][1], TZ)

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The moment `amount` of working time after `start`; with a zero amount, the first
        working moment at or after `start`. A span's end counts as inside it (due at 12:00)."""
        remaining = amount
        day = start.date()
        idle = 0
        while True:
            spans = self.spans(day)
            for span_start, span_end in spans:
                if span_end <= start:
                    continue
                begin = max(span_start, start)
                available = span_end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
            idle = 0 if spans else idle + 1
            if idle > _MAX_IDLE_DAYS:
                raise ValueError(f"no working day in the {_MAX_IDLE_DAYS} days after {day}")
            day += timedelta(days=1)

    def between(self, a: datetime, b: datetime) -> timedelta:
        total = timedelta(0)
        day = a.date()
        while day <= b.date():
            for span_start, span_end in self.spans(day):
                low, high = max(span_start, a), min(span_end, b)
                if high > low:
                    total += high - low
            day += timedelta(days=1)
        return total

    def next_workday(self, day: date) -> date:
        for _step in range(_MAX_IDLE_DAYS):
            day += timedelta(days=1)
            if self.calendar.is_workday(day):
                return day
        raise ValueError(f"no working day in the {_MAX_IDLE_DAYS} days after {day}")


def clock_get() -> Clock:
    """A snapshot of the calendar and working hours for many computations in a row (the demo,
    metrics): the module functions re-check the cache on every call, a Clock does not."""
    return Clock(calendar_get(), working_hours())


def is_workday(day: date) -> bool:
    """Whether `day` is a working day (a datetime is taken at its Asia/Shanghai date)."""
    if isinstance(day, datetime):
        day = _in_tz(day).date()
    return calendar_get().is_workday(day)


def add_working_time(start: datetime, amount: int, unit: str) -> datetime:
    """The deadline `amount` `unit`s (a `LimitUnit`) after `start`, as an aware Asia/Shanghai
    datetime.

    - ``minutes`` / ``hours``: working time only. A start outside working hours (at night, at
      lunch, on a weekend or holiday) starts at the next working moment; the deadline may fall on
      the end of a span (11:00 + 60 minutes → 12:00, not 13:00).
      Monday 11:30 + 60 minutes → Monday 13:30; Monday 16:30 + 1 hour → Tuesday 09:30.
    - ``days``: N working days, the start's own day not counted (期间开始之日不计算在内).
      The start's working day is the day of the first working moment at or after the start (a
      report after close of business, or on a weekend, belongs to the next working day); the
      deadline is close of business on the N-th working day after it.
      Friday 15:00 + 1 day → Monday 17:00; Friday 18:00 + 1 day → Tuesday 17:00;
      Saturday 10:00 + 1 day → Tuesday 17:00; 0 days → close of business of the start's
      working day.
    - ``natural_days``: plain calendar days, same wall-clock time (Friday 15:00 + 3 → Monday
      15:00), holidays and working hours ignored.
    """
    if amount < 0:
        raise ValueError(f"amount must not be negative, got {amount}")
    start = _in_tz(start)
    if unit == LimitUnit.NATURAL_DAYS:
        return start + timedelta(days=amount)
    if unit == LimitUnit.MINUTES:
        return clock_get().add(start, timedelta(minutes=amount))
    if unit == LimitUnit.HOURS:
        return clock_get().add(start, timedelta(hours=amount))
    if unit == LimitUnit.DAYS:
        clock = clock_get()
        day = clock.add(start, timedelta(0)).date()
        for _step in range(amount):
            day = clock.next_workday(day)
        return clock.close_of_business(day)
    raise ValueError(f"unknown time-limit unit {unit!r}")


def working_minutes_between(a: datetime, b: datetime) -> int:
    """Whole working minutes from `a` to `b` (0 if b <= a)."""
    a, b = _in_tz(a), _in_tz(b)
    if b <= a:
        return 0
    return int(clock_get().between(a, b).total_seconds() // 60)


def warn_point(start: datetime, due: datetime) -> datetime:
    """When the yellow light comes on: LINLI_YELLOW_AT_PERCENT (80) % of the working time from
    `start` to `due` has passed (to the second).

    If there is no working time between them (a window outside working hours, e.g. a
    natural-day limit over a weekend), the same share of the plain elapsed time is used. A `due`
    at or before `start` is returned as it is.
    """
    start, due = _in_tz(start), _in_tz(due)
    if due <= start:
        return due
    percent = yellow_at_percent()
    clock = clock_get()
    working = int(clock.between(start, due).total_seconds())
    if working == 0:
        elapsed = int((due - start).total_seconds())
        return start + timedelta(seconds=elapsed * percent // 100)
    return clock.add(start, timedelta(seconds=working * percent // 100))


# --- Warnings for administrators ------------------------------------------------------------------


def years_to_check(today: date) -> list[int]:
    """The current year, and the next one from November (when its schedule is due)."""
    return [today.year, today.year + 1] if today.month >= 11 else [today.year]


def schedule_missing_message(year: int) -> str:
    return str(
        _(
            "No holiday schedule for %(year)s: deadlines in %(year)s count Monday to Friday only. "
            "Enter it under Admin › Calendar days."
        )
        % {"year": year}
    )


def schedule_missing_hint(year: int) -> str:
    return str(
        _(
            "The State Council publishes each next year's schedule late in the year. Enter its "
            "holidays and make-up working days as calendar days, then add %(year)s under "
            "Calendar years."
        )
        % {"year": year}
    )


def calendar_warnings(today: date | None = None) -> list[str]:
    """Messages for administrators (the same as system check linli.W101): one per year, of the
    current year and (in November and December) the next, that has no holiday schedule."""
    today = today or timezone.localdate()
    known = calendar_get().known_years
    return [schedule_missing_message(year) for year in years_to_check(today) if year not in known]


# --- Seeding from the chinese_calendar package ----------------------------------------------------


def seed_years_available() -> range:
    """The years the installed chinese_calendar package knows."""
    years = [day.year for day in chinese_calendar.holidays]
    return range(min(years), max(years) + 1)


def seed_days(year: int) -> dict[date, tuple[str, str]]:
    """The package's exceptions for `year`: date → (kind, name). Every holiday day is kept
    (weekend ones too, so the whole break shows); make-up days are the weekend working days."""
    days: dict[date, tuple[str, str]] = {}
    for day, english in chinese_calendar.holidays.items():
        if day.year == year:
            days[day] = (DayKind.HOLIDAY, chinese_calendar.Holiday(english).chinese)
    for day, english in chinese_calendar.workdays.items():
        if day.year == year and day.weekday() >= 5:
            days[day] = (DayKind.MAKEUP, chinese_calendar.Holiday(english).chinese)
    return days


@transaction.atomic
def calendar_seed(years: Iterable[int] | None = None) -> dict[str, list]:
    """Enter holiday schedules from the chinese_calendar package (default: every year it knows).

    Idempotent and additive; an administrator's work is never overwritten:
    - a year with no `CalendarYear` is created with its days (``created``);
    - a year seeded by this package version is left alone (``unchanged``), so days an
      administrator deleted or changed there stay that way;
    - a year seeded by another package version gets the days it lacks and the new source
      (``updated``);
    - a year whose source does not start with "chinese-calendar" was entered or taken over by
      an administrator and is left alone (``skipped``). To protect a seeded year you corrected,
      change its source (e.g. to the notice's number);
    - an existing day is never changed; where it differs from the package it is listed in
      ``conflicts``;
    - years the package does not know are listed in ``unavailable``.
    """
    available = seed_years_available()
    wanted = sorted(set(available if years is None else years))
    result: dict[str, list] = {
        "created": [],
        "updated": [],
        "unchanged": [],
        "skipped": [],
        "unavailable": [],
        "days_created": [],
        "conflicts": [],
    }
    existing = {row.year: row for row in CalendarYear.objects.filter(year__in=wanted)}
    new_days: list[CalendarDay] = []
    for year in wanted:
        if year not in available:
            result["unavailable"].append(year)
            continue
        row = existing.get(year)
        if row is not None and row.source == SEED_SOURCE:
            result["unchanged"].append(year)
            continue
        if row is not None and not row.source.startswith(SEED_SOURCE_PREFIX):
            result["skipped"].append(year)
            continue
        if row is None:
            CalendarYear.objects.create(year=year, source=SEED_SOURCE)
            result["created"].append(year)
        else:
            row.source = SEED_SOURCE
            row.save(update_fields=["source", "updated_at"])
            result["updated"].append(year)
        package = seed_days(year)
        present = dict(
            CalendarDay.objects.filter(date__year=year).values_list("date", "kind").iterator()
        )
        for day, (kind, name) in sorted(package.items()):
            if day not in present:
                new_days.append(CalendarDay(date=day, kind=kind, name=name))
            elif present[day] != kind:
                result["conflicts"].append(day)
    CalendarDay.objects.bulk_create(new_days)
    result["days_created"] = [day.date for day in new_days]
    if new_days or result["created"] or result["updated"]:
        calendar_changed()
    return result
