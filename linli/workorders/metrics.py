"""Work-order metrics (WORKORDERS.md §5.3 and §3.4), computed from the transition log alone.

Every figure counts `Transition` rows, or is a ratio of two such counts. The order row is read
only for its fixed dimensions (street, place path, grid, category), which no transition changes;
deadlines, departments, lateness, ratings and hours come from the rows' own facts (`data`, written
by services.order_act: `phase`/`due`/`late` of the phase a step ended, `handle_due` of dispatch,
extension, resume and summons decision, `handle_late` of feedback, `hours`, `rating`, `unrated`).

**Periods** are half-open, [start, end), with boundaries at midnight Asia/Shanghai (`Period`): an
event at 00:30 on 1 April in Shanghai (16:30 UTC on 31 March) belongs to April, one at 23:30 on
31 March to March. A deadline met exactly on the minute is on time (late means strictly after).

**Three kinds of figure.**

1. *Intake* (上报, 有效上报, 立案率, 自行处置率): the orders whose report falls in the period,
   followed through the log as it stands; recent periods move while their orders are verified.
   有效 (valid) = the order reached a state past intake (anything but reported, being verified,
   not accepted).
2. *Steps* (立案数, 按时立案, 核实, 派遣, 签收, 退单, 核查, 返工次数, 约请, 提级, 督办): log rows in the
   period, each judged on its own facts. A dispatch's outcome (returned, reworked, signed for on
   time) is what the log records after that dispatch for the same order and department.
   退单批准率 = returns approved / returns decided (approved + refused) in the period;
   回访率 = ratings / (ratings + rating windows that lapsed unrated) in the period; 挂账数 =
   orders suspended at the end of the period.
3. *Handling and closing* (处置, 结案 and the rates on them), with one denominator rule:

   **应处置 / 应结案 (due) = the orders whose handling deadline in force at the end of the
   period falls in the period, or that were handled (fed back) / closed in the period; excluding
   orders suspended (挂账) at the end of the period, and orders due in the period that had
   already been handled / closed when it began and still were at its end (a rework or a
   reopening in the period makes them due again).**

   The deadline in force is the last one the log sets (dispatch, approved extension, resume
   after suspension, summons decision), cleared by an approved return. These figures, and the
   ratings (rows in the period), read only rows before the period's end, so a past period's
   figures never change.

结案 is the centre's close of a dispatched order (T15b); orders settled by the committee (T3)
and on the spot (T8) are counted apart. A department's row takes the department the row names
(dispatched to, returning, extending, handling) or, for handling, closing and ratings, the
department in charge at the time; intake and the centre's own steps show "—" there.

Every rate is a `Rate` (an exact numerator/denominator pair): `value` is a `Fraction`, or None
when the denominator is 0, shown "—", never 0 %.

Public API: `metrics_compute`, `metrics_scope`, `MetricsScope`, `Period`, `period_of`,
`METRICS`, `GROUP_BY`, `Rate`, `Mean`, `Row`.

Cost: at most eight queries per call whatever the data size (one more per 5,000 orders replayed;
a department table's total is a second call), fewer when `codes` asks for less. Counts are
GROUP BY queries over the period's rows; handling, closing and ratings are one pass over the
rows (of a dozen actions) of the orders touched in the period or due in it, read with
`values_list(...).iterator()`. A month of a street (2,000 orders) takes about half a second on
SQLite.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import groupby
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from linli.core.scoping import under_q
from linli.places.models import Department, Grid, Place
from linli.workorders import calendar, perms
from linli.workorders.choices import CategoryKind, Rating, State
from linli.workorders.models import Category, Transition

TZ = ZoneInfo("Asia/Shanghai")

# No handling deadline lies further than this after the step that set it (limits are days or
# weeks, an extension at most LINLI_EXTENSION_MAX_HOURS): bounds the search for due orders.
MAX_DEADLINE_SPAN = dt.timedelta(days=400)
# Orders replayed per query (bounded lists of ids keep the order index in use).
WALK_CHUNK = 5000
_NEVER = dt.datetime.max.replace(tzinfo=dt.UTC)

PERIOD_KINDS = ("day", "week", "month", "quarter", "year")
PERIOD_LABELS = {
    "day": _("Day"),
    "week": _("Week"),
    "month": _("Month"),
    "quarter": _("Quarter"),
    "year": _("Year"),
}
GROUP_BY = {
    "street": _("Street"),
    "grid": _("Grid"),
    "department": _("Department"),
    "major": _("Major class"),
    "category": _("Minor class"),
}

# Steps that set the handling deadline (data["handle_due"]), and every action the pass over
# orders reads.
DEADLINE_ACTIONS = ("dispatch", "decide_summons", "approve_extension", "resume", "reopen")
WALK_ACTIONS = (
    *DEADLINE_ACTIONS,
    "approve_return",
    "approve_suspension",
    "feedback",
    "rework",
    "close",
    "reopen",
    "rate",
    "archive",
)
INTAKE_STATES = (State.REPORTED, State.VERIFYING, State.REJECTED)
SATISFIED = (Rating.VERY_SATISFIED, Rating.SATISFIED)

ON_TIME = Q(data__late=False) | Q(data__late__isnull=True)


# --- periods ----------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Period:
    """A day, ISO week (Monday first), month, quarter or year in Asia/Shanghai."""

    first: dt.date
    kind: str = "month"

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first, dt.time.min, TZ)

    @property
    def end(self) -> dt.datetime:
        return self.shift(1).start

    @property
    def last(self) -> dt.date:
        return self.shift(1).first - dt.timedelta(days=1)

    def shift(self, n: int) -> Period:
        if self.kind == "day":
            return Period(self.first + dt.timedelta(days=n), "day")
        if self.kind == "week":
            return Period(self.first + dt.timedelta(weeks=n), "week")
        months = {"month": 1, "quarter": 3, "year": 12}[self.kind] * n
        index = self.first.year * 12 + self.first.month - 1 + months
        return Period(dt.date(index // 12, index % 12 + 1, 1), self.kind)

    @property
    def label(self) -> str:
        first = self.first
        if self.kind == "day":
            return first.isoformat()
        if self.kind == "week":
            year, week, _day = first.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == "month":
            return f"{first:%Y-%m}"
        if self.kind == "quarter":
            return f"{first.year}-Q{(first.month - 1) // 3 + 1}"
        return str(first.year)

    def __str__(self) -> str:
        return self.label


def period_of(kind: str, day: dt.date | dt.datetime) -> Period:
    """The period of `kind` containing `day` (an aware datetime is taken in Asia/Shanghai)."""
    if kind not in PERIOD_KINDS:
        raise ValueError(f"unknown period kind {kind!r}")
    if isinstance(day, dt.datetime):
        day = day.astimezone(TZ).date()
    if kind == "day":
        return Period(day, kind)
    if kind == "week":
        return Period(day - dt.timedelta(days=day.weekday()), kind)
    if kind == "month":
        return Period(day.replace(day=1), kind)
    if kind == "quarter":
        return Period(dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1), kind)
    return Period(dt.date(day.year, 1, 1), kind)


def _bounds(start: dt.datetime, end: dt.datetime, period: str | None) -> list[dt.datetime]:
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise ValueError("start and end must be aware datetimes")
    if end <= start:
        raise ValueError("end must be after start")
    if period is None:
        return [start, end]
    bounds = [start]
    current = period_of(period, start)
    while current.end < end:
        current = current.shift(1)
        bounds.append(current.start)
    bounds.append(end)
    return bounds


# --- values -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """An exact rate: numerator / denominator; None when the denominator is 0."""

    numerator: int
    denominator: int

    @property
    def value(self) -> Fraction | None:
        return Fraction(self.numerator, self.denominator) if self.denominator else None

    @property
    def percent(self) -> str:
        value = self.value
        return "—" if value is None else f"{float(value * 100):.1f}%"

    @property
    def fraction(self) -> str:
        return f"{self.numerator}/{self.denominator}"

    def __str__(self) -> str:
        return self.percent


@dataclass(frozen=True)
class Mean:
    """An average in working hours: total working minutes / count; None when count is 0."""

    minutes: int
    count: int

    @property
    def value(self) -> Fraction | None:
        return Fraction(self.minutes, 60 * self.count) if self.count else None

    @property
    def text(self) -> str:
        value = self.value
        return "—" if value is None else f"{float(value):.1f}"

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Metric:
    code: str
    label: Promise
    kind: str  # "count", "rate" or "hours"
    section: str
    formula: Promise
    department: bool = True  # meaningful on a department's row


def _m(code, label, kind, section, formula, department=True) -> Metric:
    return Metric(code, label, kind, section, formula, department)


SECTIONS = {
    "intake": _("Intake"),
    "dispatch": _("Dispatch"),
    "handle": _("Handling"),
    "close": _("Closing"),
    "rating": _("Follow-up and satisfaction"),
    "escalate": _("Summons and escalation"),
}

METRICS: tuple[Metric, ...] = (
    _m("reports", _("Reports"), "count", "intake", _("reports in the period"), False),
    _m(
        "valid",
        _("Valid reports"),
        "count",
        "intake",
        _("of those, orders that got past intake (verified, registered, settled)"),
        False,
    ),
    _m("valid_rate", _("Valid report rate"), "rate", "intake", _("valid / reports"), False),
    _m("registered", _("Registered"), "count", "intake", _("registrations in the period"), False),
    _m(
        "register_rate",
        _("Registration rate"),
        "rate",
        "intake",
        _("valid reports of the period that were registered / valid reports"),
        False,
    ),
    _m(
        "register_on_time_rate",
        _("On-time registration rate"),
        "rate",
        "intake",
        _("registrations within the limit / registrations"),
        False,
    ),
    _m(
        "register_accurate_rate",
        _("Accurate registration rate"),
        "rate",
        "intake",
        _("(registrations − voided after registration) / registrations"),
        False,
    ),
    _m(
        "verify_on_time_rate",
        _("On-time verification rate"),
        "rate",
        "intake",
        _("verifications ended within the limit / verifications ended"),
        False,
    ),
    _m(
        "self_resolved",
        _("Settled on the spot"),
        "count",
        "intake",
        _("valid reports of the period settled on the spot by the grid worker"),
        False,
    ),
    _m(
        "self_resolve_rate",
        _("On-the-spot rate"),
        "rate",
        "intake",
        _("settled on the spot / valid reports"),
        False,
    ),
    _m(
        "committee_closed",
        _("Settled by the committee"),
        "count",
        "intake",
        _("committee closings in the period"),
        False,
    ),
    _m("dispatched", _("Dispatches"), "count", "dispatch", _("dispatches in the period")),
    _m(
        "dispatch_on_time_rate",
        _("On-time dispatch rate"),
        "rate",
        "dispatch",
        _("dispatches within the limit / dispatches"),
        False,
    ),
    _m(
        "dispatch_accurate_rate",
        _("Accurate dispatch rate"),
        "rate",
        "dispatch",
        _("(dispatches − returns approved) / dispatches"),
    ),
    _m(
        "dispatch_accurate_rework_rate",
        _("Accurate dispatch rate (rework basis)"),
        "rate",
        "dispatch",
        _("(dispatches − dispatches sent back for rework) / dispatches"),
    ),
    _m(
        "sign_on_time_rate",
        _("On-time sign-for rate"),
        "rate",
        "dispatch",
        _("dispatches signed for within the limit / dispatches"),
    ),
    _m(
        "return_rate",
        _("Return rate"),
        "rate",
        "dispatch",
        _("dispatches the department asked to return / dispatches"),
    ),
    _m(
        "return_approved_rate",
        _("Return approval rate"),
        "rate",
        "dispatch",
        _("returns approved / returns decided"),
    ),
    _m("due_handle", _("Due for handling"), "count", "handle", _("应处置: see the rule above")),
    _m("handled", _("Handled"), "count", "handle", _("due orders fed back in the period")),
    _m("handle_rate", _("Handling rate"), "rate", "handle", _("handled / due for handling")),
    _m(
        "handle_on_time_rate",
        _("On-time handling rate"),
        "rate",
        "handle",
        _("handled by the deadline / due for handling"),
    ),
    _m(
        "handled_late",
        _("Handled late"),
        "count",
        "handle",
        _("due orders fed back after the deadline"),
    ),
    _m(
        "overdue_open",
        _("Overdue, not handled"),
        "count",
        "handle",
        _("due orders past the deadline and not fed back by the end of the period"),
    ),
    _m(
        "extension_rate",
        _("Extension rate"),
        "rate",
        "handle",
        _("due orders with an approved extension / due for handling"),
    ),
    _m(
        "extension_mean_hours",
        _("Mean extension (working hours)"),
        "hours",
        "handle",
        _("extension hours approved / orders extended"),
    ),
    _m(
        "suspended",
        _("Suspended"),
        "count",
        "handle",
        _("orders suspended (挂账) at the end of the period"),
    ),
    _m(
        "handle_mean_hours",
        _("Mean handling time (working hours)"),
        "hours",
        "handle",
        _("working time from dispatch to feedback / handled"),
    ),
    _m(
        "check_on_time_rate",
        _("On-time check rate"),
        "rate",
        "handle",
        _("checks within the limit / checks"),
        False,
    ),
    _m("due_close", _("Due for closing"), "count", "close", _("应结案: see the rule above")),
    _m("closed", _("Closed"), "count", "close", _("due orders closed in the period")),
    _m("close_rate", _("Closing rate"), "rate", "close", _("closed / due for closing")),
    _m(
        "close_on_time_rate",
        _("On-time closing rate"),
        "rate",
        "close",
        _("closed by the deadline / due for closing"),
    ),
    _m(
        "close_late_rate",
        _("Late closing rate"),
        "rate",
        "close",
        _("closed after the deadline / due for closing"),
    ),
    _m(
        "rework_rate",
        _("Rework rate"),
        "rate",
        "close",
        _("closed orders that had been sent back for rework / closed"),
    ),
    _m("reworks", _("Reworks"), "count", "close", _("rework steps in the period")),
    _m(
        "reopen_rate",
        _("Re-handling rate"),
        "rate",
        "close",
        _("closed orders that had been reopened after a rating / closed"),
    ),
    _m(
        "visit_rate",
        _("Follow-up rate"),
        "rate",
        "rating",
        _("rated / (rated + rating window lapsed)"),
    ),
    _m("rated", _("Ratings"), "count", "rating", _("ratings in the period")),
    _m(
        "satisfied_rate",
        _("Satisfaction rate"),
        "rate",
        "rating",
        _("(very satisfied + satisfied) / ratings"),
    ),
    _m(
        "fairly_satisfied_rate",
        _("Fairly satisfied"),
        "rate",
        "rating",
        _("fairly satisfied / ratings"),
    ),
    _m(
        "summons",
        _("Summons requests"),
        "count",
        "escalate",
        _("约请 requests in the period"),
        False,
    ),
    _m(
        "escalations",
        _("Escalated to the district"),
        "count",
        "escalate",
        _("提级 in the period"),
        False,
    ),
    _m(
        "supervised",
        _("Pressed (督办)"),
        "count",
        "escalate",
        _("督办 in the period"),
        False,
    ),
)
METRIC = {m.code: m for m in METRICS}

DENOMINATOR_RULE = _(
    "Due for handling / closing (应处置 / 应结案): orders whose handling deadline in force at the "
    "end of the period falls in it, or that were handled / closed in it; excluding orders "
    "suspended at the end of the period and orders already handled / closed before it began."
)


@dataclass
class Cell:
    metric: Metric
    value: Any

    @property
    def text(self) -> str:
        if self.value is None:
            return "—"
        return str(self.value)

    @property
    def title(self) -> str:
        return self.value.fraction if isinstance(self.value, Rate) else ""


@dataclass
class Row:
    """One line of the table: a period and a group (key () for the whole scope)."""

    period: Period | None
    start: dt.datetime
    end: dt.datetime
    key: tuple
    label: str
    values: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, code: str):
        return self.values[code]

    @property
    def cells(self) -> list[Cell]:
        return [Cell(m, self.values.get(m.code)) for m in METRICS]


# --- scope ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricsScope:
    """Whose figures: the orders under some place paths, or (for a department's handlers) what
    the log attributes to some departments, wherever the orders are."""

    paths: tuple[str, ...] = ()
    departments: frozenset[int] | None = None

    @property
    def department_only(self) -> bool:
        return not self.paths

    def order_q(self, prefix: str = "order__") -> Q:
        if self.paths:
            condition = Q()
            for path in self.paths:
                condition |= under_q(path, f"{prefix}path")
            return condition
        touched = Transition.objects.filter(department_id__in=self.departments or ()).values(
            "order_id"
        )
        return Q(**{f"{prefix}id__in" if prefix else "id__in": touched})


def metrics_scope(viewer) -> MetricsScope | None:
    """The viewer's figures: by place for whoever sees orders there (committee, grid worker,
    street centre, district); by department for a department's handlers; None for anyone else."""
    from linli.workorders.selectors import department_ids

    if viewer is None or not viewer.is_authenticated:
        return None
    paths = viewer.scope_prefixes(perms.VIEW_ORDERS)
    if paths:
        return MetricsScope(paths=tuple(paths))
    departments = department_ids(viewer)
    if departments:
        return MetricsScope(departments=frozenset(departments))
    return None


# --- computing --------------------------------------------------------------------------------

_KEY_FIELDS = {
    None: (),
    "street": ("order__street_id",),
    "grid": ("order__grid_id",),
    "category": ("order__category_id",),
    "major": ("order__category__kind", "order__category__major_code"),
    "department": ("department_id",),
}

# Which query each metric needs: the intake cohort, registrations, dispatches, the other steps,
# suspensions, the pass over orders, and working time on top of that pass.
_SOURCE = {
    **dict.fromkeys(
        ("reports", "valid", "valid_rate", "register_rate", "self_resolved", "self_resolve_rate"),
        "reports",
    ),
    **dict.fromkeys(
        ("registered", "register_on_time_rate", "register_accurate_rate"), "registrations"
    ),
    **dict.fromkeys(
        (
            "dispatched",
            "dispatch_on_time_rate",
            "dispatch_accurate_rate",
            "dispatch_accurate_rework_rate",
            "sign_on_time_rate",
            "return_rate",
        ),
        "dispatches",
    ),
    **dict.fromkeys(
        (
            "verify_on_time_rate",
            "committee_closed",
            "return_approved_rate",
            "check_on_time_rate",
            "reworks",
            "summons",
            "escalations",
            "supervised",
        ),
        "steps",
    ),
    "suspended": "suspended",
    "handle_mean_hours": "minutes",
}


def _source(code: str) -> str:
    return _SOURCE.get(code, "walk")


def metrics_compute(
    *,
    start: dt.datetime,
    end: dt.datetime,
    place: Place | None = None,
    scope: MetricsScope | None = None,
    group_by: str | None = None,
    period: str | None = None,
    codes: Iterable[str] | None = None,
    with_total: bool = False,
    now: dt.datetime | None = None,
) -> list[Row]:
    """The metrics for [start, end), for the orders under `place` (or in `scope`).

    group_by: None (one row), "street", "grid", "department", "major" or "category" (minor
    class); a department-only scope is always by department, limited to its departments.
    period: None for one period; or a kind ("day" … "year") to split [start, end) at that kind's
    Shanghai boundaries (one row per period and group; the first and last may be partial).
    codes: the metrics wanted (default all, see `METRICS`); only their queries run.
    with_total: also a row for the whole scope (key ()) per period, for a grouped table.
    now: the moment "overdue, not handled" is judged at, for a period not yet over.

    Returns rows for the groups that had anything to count, ordered by period, then the total,
    then label, the "no grid / no category" group last. `Row.values[code]` is an int, a `Rate`, a
    `Mean`, or None where the metric means nothing for the row (intake on a department's row).
    """
    if scope is None:
        if place is None:
            raise ValueError("give a place or a scope")
        scope = MetricsScope(paths=(place.path,))
    if scope.department_only:
        group_by, with_total = "department", False
    if group_by not in _KEY_FIELDS:
        raise ValueError(f"unknown group_by {group_by!r}")
    wanted = tuple(codes) if codes is not None else tuple(METRIC)
    unknown = set(wanted) - set(METRIC)
    if unknown:
        raise ValueError(f"unknown metrics {sorted(unknown)}")
    sources = {_source(code) for code in wanted}
    if "minutes" in sources:
        sources.add("walk")
    bounds = _bounds(start, end, period)
    now = now or timezone.now()
    by_department = group_by == "department"

    raw: dict[tuple[int, tuple], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    _step_counts(raw, scope, bounds, group_by, sources)
    if "suspended" in sources:
        _suspended(raw, scope, bounds, group_by)
    if "walk" in sources:
        _walk(raw, scope, bounds, group_by, now, set(wanted))
    if by_department:
        departments = scope.departments
        raw = {
            k: v
            for k, v in raw.items()
            if k[1][0] is not None and (departments is None or k[1][0] in departments)
        }
    if with_total and group_by is not None:
        if by_department:
            total = metrics_compute(
                start=start, end=end, scope=scope, period=period, codes=wanted, now=now
            )
        else:
            # Every order has one group, so the groups' counts add up to the whole.
            sums: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
            for (pi, _key), counts in raw.items():
                for name, value in counts.items():
                    sums[pi][name] += value
            total = [
                _row(bounds, period, pi, (), str(_("All")), c, wanted, False)
                for pi, c in sums.items()
            ]
    else:
        total = []
    labels = _labels(group_by, {key for _pi, key in raw})
    rows = total + [
        _row(bounds, period, pi, key, labels.get(key, "—"), counts, wanted, by_department)
        for (pi, key), counts in raw.items()
    ]
    rows.sort(key=lambda r: (r.start, r.key != (), None in r.key, r.label))
    return rows


def _row(bounds, period, pi, key, label, counts, wanted, by_department) -> Row:
    values = _values(counts, department=by_department)
    return Row(
        period=period_of(period, bounds[pi]) if period else None,
        start=bounds[pi],
        end=bounds[pi + 1],
        key=key,
        label=label,
        values={code: values[code] for code in wanted},
    )


def _period_index(bounds: list[dt.datetime]):
    if len(bounds) == 2:
        return Value(0, output_field=IntegerField())
    whens = [When(at__lt=bounds[i + 1], then=Value(i)) for i in range(len(bounds) - 2)]
    return Case(*whens, default=Value(len(bounds) - 2), output_field=IntegerField())


def _grouped(rows, bounds, group_by, **aggregates) -> Iterable[tuple[int, tuple, dict]]:
    fields = _KEY_FIELDS[group_by]
    result = rows.annotate(pi=_period_index(bounds)).values("pi", *fields).annotate(**aggregates)
    for entry in result:
        key = tuple(entry[f] for f in fields)
        yield entry["pi"], key, {name: entry[name] for name in aggregates}


def _add(raw, grouped) -> None:
    for pi, key, counts in grouped:
        if not any(counts.values()):  # an aggregate over no rows at all
            continue
        target = raw[(pi, key)]
        for name, value in counts.items():
            target[name] += value or 0


def _same_order(**filters):
    return Transition.objects.filter(order_id=OuterRef("order_id"), **filters)


def _later_same_department(action: str):
    return _same_order(
        action=action, department_id=OuterRef("department_id"), pk__gt=OuterRef("pk")
    )


def _step_counts(raw, scope, bounds, group_by, sources) -> None:
    """The intake cohort and the step counts: GROUP BY queries over the period's rows."""
    rows = Transition.objects.filter(scope.order_q(), at__gte=bounds[0], at__lt=bounds[-1])
    if scope.departments is not None:
        rows = rows.filter(department_id__in=scope.departments)
    rows = rows.order_by()
    by_department = group_by == "department"
    if "reports" in sources and not by_department:
        reports = rows.filter(action="report").annotate(
            is_valid=Exists(_same_order().exclude(to_state__in=INTAKE_STATES)),
            is_registered=Exists(_same_order(action="register")),
            is_self=Exists(_same_order(action="self_resolve")),
        )
        _add(
            raw,
            _grouped(
                reports,
                bounds,
                group_by,
                reports=Count("pk"),
                valid=Count("pk", filter=Q(is_valid=True)),
                valid_registered=Count("pk", filter=Q(is_valid=True, is_registered=True)),
                self_resolved=Count("pk", filter=Q(is_valid=True, is_self=True)),
            ),
        )
    if "registrations" in sources and not by_department:
        registrations = rows.filter(action="register").annotate(
            voided=Exists(_same_order(action="reject"))
        )
        _add(
            raw,
            _grouped(
                registrations,
                bounds,
                group_by,
                registered=Count("pk"),
                registered_on_time=Count("pk", filter=ON_TIME),
                registered_accurate=Count("pk", filter=Q(voided=False)),
            ),
        )
    if "dispatches" in sources:
        dispatches = rows.filter(action="dispatch").annotate(
            returned=Exists(_later_same_department("approve_return")),
            reworked=Exists(_later_same_department("rework")),
            asked_return=Exists(_later_same_department("request_return")),
            signed_on_time=Exists(_later_same_department("sign_for").filter(ON_TIME)),
        )
        _add(
            raw,
            _grouped(
                dispatches,
                bounds,
                group_by,
                dispatched=Count("pk"),
                dispatched_on_time=Count("pk", filter=ON_TIME),
                dispatched_accurate=Count("pk", filter=Q(returned=False)),
                dispatched_no_rework=Count("pk", filter=Q(reworked=False)),
                dispatched_signed_on_time=Count("pk", filter=Q(signed_on_time=True)),
                dispatched_returned=Count("pk", filter=Q(asked_return=True)),
            ),
        )
    if "steps" in sources:
        ended_verification = Q(from_state=State.VERIFYING) & ~Q(to_state=State.VERIFYING)
        _add(
            raw,
            _grouped(
                rows,
                bounds,
                group_by,
                verifications=Count("pk", filter=ended_verification),
                verifications_on_time=Count("pk", filter=ended_verification & ON_TIME),
                checks=Count("pk", filter=Q(action="check")),
                checks_on_time=Count("pk", filter=Q(action="check") & ON_TIME),
                committee_closed=Count("pk", filter=Q(action="rc_close")),
                returns_approved=Count("pk", filter=Q(action="approve_return")),
                returns_refused=Count("pk", filter=Q(action="refuse_return")),
                reworks=Count("pk", filter=Q(action="rework")),
                summons=Count("pk", filter=Q(action="request_summons")),
                escalations=Count("pk", filter=Q(action="escalate_district")),
                supervised=Count("pk", filter=Q(action="supervise")),
            ),
        )


def _suspended(raw, scope, bounds, group_by) -> None:
    """挂账数: orders suspended at the end of each period (one row per suspension overlapping)."""
    fields = _KEY_FIELDS[group_by]
    exit_at = (
        _same_order(from_state=State.SUSPENDED, pk__gt=OuterRef("pk"))
        .exclude(to_state=State.SUSPENDED)
        .order_by("pk")
        .values("at")[:1]
    )
    suspensions = (
        Transition.objects.filter(scope.order_q(), action="approve_suspension", at__lt=bounds[-1])
        .annotate(exit_at=Subquery(exit_at))
        .filter(Q(exit_at__isnull=True) | Q(exit_at__gte=bounds[1]))
        .order_by()
        .values_list("at", "exit_at", *fields)
    )
    for at, left, *key in suspensions.iterator():
        for pi in range(len(bounds) - 1):
            end = bounds[pi + 1]
            if at < end and (left is None or left >= end):
                raw[(pi, tuple(key))]["suspended"] += 1


# --- the pass over orders: handling, closing, ratings -----------------------------------------


@dataclass(slots=True)
class _Events:
    feedback: tuple | None = None  # (late, handle_start, at) of the period's last feedback
    close: tuple | None = None  # (late, reworked before, reopened before) of its last close
    ratings: list = field(default_factory=list)  # (rating, department)
    lapsed: list = field(default_factory=list)  # department


# Metrics read from the pass over orders, and the rows each needs beyond the deadline steps,
# approved returns and suspensions, closes and reopenings.
_HANDLING_CODES = frozenset(
    {
        "due_handle",
        "handled",
        "handle_rate",
        "handle_on_time_rate",
        "handled_late",
        "overdue_open",
        "extension_rate",
        "extension_mean_hours",
        "handle_mean_hours",
    }
)
_RATING_CODES = frozenset({"visit_rate", "rated", "satisfied_rate", "fairly_satisfied_rate"})
_BASE_ACTIONS = (*DEADLINE_ACTIONS, "approve_return", "approve_suspension", "close", "reopen")


def _truthy(value) -> bool:
    # A JSON boolean read as text: 1 on SQLite, "true" on PostgreSQL.
    return value in (True, 1, "1", "true")


def _fact(key: str, text: bool = False):
    fact = KeyTextTransform(key, "data")
    return Cast(fact, CharField()) if text else fact


def _walk(raw, scope, bounds, group_by, now, wanted: set[str]) -> None:
    """Replay the log, up to the end of the range, of every order touched in it (fed back,
    closed, rated, archived) or possibly due in it."""
    handling = bool(wanted & _HANDLING_CODES)
    rating = bool(wanted & _RATING_CODES)
    actions = list(_BASE_ACTIONS)
    touching = ["close"]
    if handling:
        actions += ["feedback", "rework"]
        touching.append("feedback")
    elif "rework_rate" in wanted:
        actions.append("rework")
    if rating:
        actions += ["rate", "archive"]
        touching += ["rate", "archive"]
    start, end = bounds[0], bounds[-1]
    in_scope = scope.order_q()
    touched = Transition.objects.filter(
        in_scope, at__gte=start, at__lt=end, action__in=touching
    ).values_list("order_id", flat=True)
    # A loose pre-selection on the deadline's text (ISO 8601 with the same offset, so its date
    # prefix sorts); _Walker tests the deadline exactly.
    due_soon = (
        Transition.objects.filter(
            in_scope,
            action__in=DEADLINE_ACTIONS,
            at__lt=end,
            at__gte=start - MAX_DEADLINE_SPAN,
        )
        .annotate(due_text=_fact("handle_due", text=True))
        .filter(due_text__gte=(start.astimezone(TZ).date() - dt.timedelta(days=1)).isoformat())
        .values_list("order_id", flat=True)
    )
    # The orders first, then their rows by order (the order index), a chunk at a time.
    orders = sorted(set(touched.order_by().union(due_soon.order_by())))
    order_fields = [f for f in _KEY_FIELDS[group_by] if f.startswith("order__")]
    walker = _Walker(raw, bounds, group_by == "department", now, "handle_mean_hours" in wanted)
    for index in range(0, len(orders), WALK_CHUNK):
        chunk = orders[index : index + WALK_CHUNK]
        rows = (
            Transition.objects.filter(order_id__in=chunk, action__in=actions, at__lt=end)
            .annotate(
                f_due=_fact("handle_due", text=True),
                f_late=_fact("handle_late"),
                f_hours=_fact("hours"),
                f_rating=_fact("rating"),
                f_unrated=_fact("unrated"),
            )
            .order_by("order_id", "pk")
            .values_list(
                "order_id",
                "action",
                "at",
                "department_id",
                "f_due",
                "f_late",
                "f_hours",
                "f_rating",
                "f_unrated",
                *order_fields,
            )
        )
        for _order, batch in groupby(rows.iterator(chunk_size=5000), key=itemgetter(0)):
            walker.order(list(batch))


class _Walker:
    """Replays orders one at a time, adding their facts to `raw[(period index, key)]`."""

    def __init__(self, raw, bounds, by_department: bool, now, minutes: bool):
        self.raw, self.bounds, self.by_department = raw, bounds, by_department
        self.now, self.minutes = now, minutes
        self._dues: dict[str, dt.datetime] = {}

    def _due(self, text) -> dt.datetime | None:
        if not text:
            return None
        due = self._dues.get(text)
        if due is None:
            due = self._dues[text] = dt.datetime.fromisoformat(text)
        return due

    def order(self, rows) -> None:
        """One order's rows, oldest first: its state at each period boundary (a snapshot tuple:
        department, deadline, closed, handled, suspended, extended, extension hours) and what
        happened in each period."""
        bounds = self.bounds
        n = len(bounds) - 1
        department = deadline = handle_start = None
        closed = handled = suspended = extended = reworked = reopened = False
        hours_total = 0
        snapshots: list[tuple] = []
        events: dict[int, _Events] = {}
        j, next_bound = 0, bounds[0]  # boundaries passed; the next one
        deadlines = set()
        for row in rows:
            action, at, row_department, due, late, hours, rating, unrated = row[1:9]
            if at >= next_bound:
                snapshot = (
                    department,
                    deadline,
                    closed,
                    handled,
                    suspended,
                    extended,
                    hours_total,
                )
                while j <= n and at >= bounds[j]:
                    snapshots.append(snapshot)
                    j += 1
                next_bound = bounds[j] if j <= n else _NEVER
            pi = j - 1 if 0 < j <= n else None  # the period this row falls in
            if action in DEADLINE_ACTIONS and (due or action != "reopen"):
                deadline = self._due(due)
                deadlines.add(deadline)
                if action == "approve_extension":
                    extended = True
                    hours_total += int(hours or 0)
                elif action == "reopen":
                    # Handled again, against the fresh handling time the reopening set.
                    closed = handled = False
                    reopened = True
                    handle_start = at
                else:
                    handle_start = at
                    handled = suspended = False
                    if action in ("dispatch", "decide_summons"):
                        # A new dispatch: extensions so far belong to the earlier one.
                        extended, hours_total = False, 0
                    if row_department is not None:
                        department = row_department
            elif action == "approve_return":
                deadline = handle_start = department = None
            elif action == "approve_suspension":
                suspended = True
            elif action == "feedback":
                handled = True
                if pi is not None:
                    happened = events.get(pi) or events.setdefault(pi, _Events())
                    happened.feedback = (_truthy(late), handle_start, at)
            elif action == "rework":
                handled = False
                reworked = True
            elif action == "close":
                if pi is not None:
                    overdue = deadline is not None and at > deadline
                    happened = events.get(pi) or events.setdefault(pi, _Events())
                    happened.close = (overdue, reworked, reopened)
                closed = True
            elif action == "reopen":
                closed = handled = False
                reopened = True
            elif action == "rate":
                if pi is not None and rating is not None:
                    happened = events.get(pi) or events.setdefault(pi, _Events())
                    happened.ratings.append((int(rating), department))
            elif action == "archive" and pi is not None and _truthy(unrated):
                happened = events.get(pi) or events.setdefault(pi, _Events())
                happened.lapsed.append(department)
        if j <= n:
            snapshot = (department, deadline, closed, handled, suspended, extended, hours_total)
            snapshots.extend([snapshot] * (n + 1 - j))
        # The periods to count the order in: those where something happened, and those in
        # which one of its deadlines falls (_period checks it was the one in force).
        periods = set(events)
        for due in deadlines:
            if due is not None and bounds[0] <= due < bounds[-1]:
                periods.add(bisect.bisect_right(bounds, due) - 1)
        order_key = tuple(rows[0][9:])
        for pi in sorted(periods):
            self._period(pi, snapshots[pi], snapshots[pi + 1], events.get(pi), order_key)

    def _period(self, pi, first: tuple, last: tuple, happened, order_key) -> None:
        """Count one order in one period under the denominator rule (module docstring)."""
        bounds = self.bounds
        department, deadline, closed, handled, suspended, extended, hours_total = last
        # Handled / closed before the period and still so at its end: done, not due again. A
        # rework or a reopening in the period undoes that, and the order is due once more.
        done_handling = (first[3] and handled) or (first[2] and closed)
        done_closing = first[2] and closed
        due_in = deadline is not None and bounds[pi] <= deadline < bounds[pi + 1]
        key = (department,) if self.by_department else order_key
        fed_back = happened.feedback if happened else None
        closing = happened.close if happened else None
        if not suspended and (due_in or fed_back or closing):
            counts = self.raw[(pi, key)]
            if (due_in and not done_handling) or fed_back:
                counts["due_handle"] += 1
                if extended:
                    counts["extended"] += 1
                    counts["extension_hours"] += hours_total
                if fed_back:
                    late, handle_start, at = fed_back
                    counts["handled"] += 1
                    counts["handled_late" if late else "handled_on_time"] += 1
                    if self.minutes and handle_start is not None:
                        counts["handle_minutes"] += calendar.working_minutes_between(
                            handle_start, at
                        )
                        counts["handle_timed"] += 1
                elif deadline < min(bounds[pi + 1], self.now):
                    counts["overdue_open"] += 1
            if (due_in and not done_closing) or closing:
                counts["due_close"] += 1
                if closing:
                    late, reworked, reopened = closing
                    counts["closed"] += 1
                    counts["closed_late" if late else "closed_on_time"] += 1
                    counts["closed_reworked"] += reworked
                    counts["closed_reopened"] += reopened
        if happened is None:
            return
        for rating, rated_department in happened.ratings:
            rated = self.raw[(pi, (rated_department,) if self.by_department else order_key)]
            rated["rated"] += 1
            rated["satisfied"] += rating in SATISFIED
            rated["fairly_satisfied"] += rating == Rating.FAIRLY_SATISFIED
        for lapsed_department in happened.lapsed:
            self.raw[(pi, (lapsed_department,) if self.by_department else order_key)]["lapsed"] += 1


# --- values and labels ------------------------------------------------------------------------


def _values(c: dict[str, int], *, department: bool) -> dict[str, Any]:
    def rate(numerator: str, denominator: str | int) -> Rate:
        total = c.get(denominator, 0) if isinstance(denominator, str) else denominator
        return Rate(c.get(numerator, 0), total)

    values: dict[str, Any] = {
        "reports": c.get("reports", 0),
        "valid": c.get("valid", 0),
        "valid_rate": rate("valid", "reports"),
        "registered": c.get("registered", 0),
        "register_rate": rate("valid_registered", "valid"),
        "register_on_time_rate": rate("registered_on_time", "registered"),
        "register_accurate_rate": rate("registered_accurate", "registered"),
        "verify_on_time_rate": rate("verifications_on_time", "verifications"),
        "self_resolved": c.get("self_resolved", 0),
        "self_resolve_rate": rate("self_resolved", "valid"),
        "committee_closed": c.get("committee_closed", 0),
        "dispatched": c.get("dispatched", 0),
        "dispatch_on_time_rate": rate("dispatched_on_time", "dispatched"),
        "dispatch_accurate_rate": rate("dispatched_accurate", "dispatched"),
        "dispatch_accurate_rework_rate": rate("dispatched_no_rework", "dispatched"),
        "sign_on_time_rate": rate("dispatched_signed_on_time", "dispatched"),
        "return_rate": rate("dispatched_returned", "dispatched"),
        "return_approved_rate": rate(
            "returns_approved", c.get("returns_approved", 0) + c.get("returns_refused", 0)
        ),
        "due_handle": c.get("due_handle", 0),
        "handled": c.get("handled", 0),
        "handle_rate": rate("handled", "due_handle"),
        "handle_on_time_rate": rate("handled_on_time", "due_handle"),
        "handled_late": c.get("handled_late", 0),
        "overdue_open": c.get("overdue_open", 0),
        "extension_rate": rate("extended", "due_handle"),
        "extension_mean_hours": Mean(c.get("extension_hours", 0) * 60, c.get("extended", 0)),
        "suspended": c.get("suspended", 0),
        "handle_mean_hours": Mean(c.get("handle_minutes", 0), c.get("handle_timed", 0)),
        "check_on_time_rate": rate("checks_on_time", "checks"),
        "due_close": c.get("due_close", 0),
        "closed": c.get("closed", 0),
        "close_rate": rate("closed", "due_close"),
        "close_on_time_rate": rate("closed_on_time", "due_close"),
        "close_late_rate": rate("closed_late", "due_close"),
        "rework_rate": rate("closed_reworked", "closed"),
        "reworks": c.get("reworks", 0),
        "reopen_rate": rate("closed_reopened", "closed"),
        "visit_rate": rate("rated", c.get("rated", 0) + c.get("lapsed", 0)),
        "rated": c.get("rated", 0),
        "satisfied_rate": rate("satisfied", "rated"),
        "fairly_satisfied_rate": rate("fairly_satisfied", "rated"),
        "summons": c.get("summons", 0),
        "escalations": c.get("escalations", 0),
        "supervised": c.get("supervised", 0),
    }
    if department:
        for metric in METRICS:
            if not metric.department:
                values[metric.code] = None
    return values


_KIND_LETTER = {CategoryKind.COMPONENT: "C", CategoryKind.EVENT: "E"}


def _labels(group_by: str | None, keys: set[tuple]) -> dict[tuple, str]:
    """Names for the group keys (one query)."""
    if group_by is None:
        return {(): str(_("All"))}
    ids = [k[0] for k in keys if k and k[0] is not None]
    labels: dict[tuple, str] = {}
    if group_by == "street":
        labels = {
            (pk,): name for pk, name in Place.objects.filter(pk__in=ids).values_list("pk", "name")
        }
    elif group_by == "grid":
        labels = {
            (pk,): name for pk, name in Grid.objects.filter(pk__in=ids).values_list("pk", "name")
        }
        labels[(None,)] = str(_("Not in a grid"))
    elif group_by == "department":
        labels = {
            (pk,): name
            for pk, name in Department.objects.filter(pk__in=ids).values_list("pk", "name")
        }
    elif group_by == "category":
        labels = {
            (pk,): f"{code} {name}"
            for pk, code, name in Category.objects.filter(pk__in=ids).values_list(
                "pk", "service_code", "name"
            )
        }
        labels[(None,)] = str(_("No category (errands)"))
    elif group_by == "major":
        codes = {k[1] for k in keys if k[1] is not None}
        for kind, major, name in (
            Category.objects.filter(major_code__in=codes)
            .values_list("kind", "major_code", "major_name")
            .distinct()
        ):
            labels[(kind, major)] = f"{_KIND_LETTER.get(kind, '')}{major} {name}"
        labels[(None, None)] = str(_("No category (errands)"))
    return labels
