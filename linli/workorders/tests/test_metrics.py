"""Metrics from the transition log: each figure on a small hand-built log (orders walked through
services.order_act with explicit times), the denominator rule, period boundaries in Shanghai,
scoping, the dashboard, its charts and its export."""

import datetime as dt
import io
import random
import re
import time
from fractions import Fraction

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from linli.accounts.roles import Role
from linli.accounts.services import role_assign, user_create
from linli.conftest import PASSWORD
from linli.workorders.choices import Source
from linli.workorders.metrics import (
    DENOMINATOR_RULE,
    METRIC,
    METRICS,
    TZ,
    Mean,
    MetricsScope,
    Period,
    Rate,
    metrics_compute,
    metrics_scope,
    period_of,
)
from linli.workorders.models import Category, TimeLimit, Transition, WorkOrder
from linli.workorders.services import order_act, order_report, orders_tick
from linli.workorders.tests.conftest import MONDAY, a_category, a_report, photo

pytestmark = pytest.mark.django_db

FEBRUARY = Period(dt.date(2026, 2, 1), "month")
MARCH = Period(dt.date(2026, 3, 1), "month")
APRIL = Period(dt.date(2026, 4, 1), "month")
LATER = dt.datetime(2026, 6, 1, tzinfo=TZ)  # "now" for the figures: every period is over


def h(hours: float, base: dt.datetime = MONDAY) -> dt.datetime:
    return base + dt.timedelta(hours=hours)


def shanghai(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


class Flow:
    """One order walked through the services, one step at a time."""

    def __init__(self, users, order):
        self.users, self.order = users, order

    def __call__(self, key: str, action: str, when: dt.datetime, **params) -> "Flow":
        if action in ("verify", "self_resolve", "check", "rc_close") or (
            action == "feedback" and "photos" not in params
        ):
            params.setdefault("photos", [photo()])
        if action in ("send_verify", "send_check"):
            params.setdefault("assignee", self.users["gridworker"])
        self.order = order_act(
            actor=self.users[key], order=self.order, action=action, now=when, **params
        )
        return self

    @property
    def due(self) -> dt.datetime:
        return self.order.handle_due_at

    def sign(self, when, key="handler"):
        return self(key, "sign_for", when)

    def feedback(self, when, key="handler"):
        return self(key, "feedback", when, reason="已处理完毕")

    def check(self, when, passed=True):
        self("dispatcher", "send_check", when)
        return self("gridworker", "check", when + dt.timedelta(minutes=5), passed=passed)

    def close(self, when):
        return self("supervisor", "close", when)


@pytest.fixture
def handler2(world, users):
    user = user_create(actor=None, username="handler2", password=PASSWORD, display_name="市容所")
    role_assign(
        actor=None,
        user=user,
        role=Role.DEPARTMENT_HANDLER,
        place=world.street,
        department=world.departments[1],
    )
    users["handler2"] = user
    return user


@pytest.fixture
def dispatched(world, users, new_order):
    """A grid worker's report, registered 6 and dispatched 12 minutes later."""

    def make(when=MONDAY, urgency="urgent", department=None, co_departments=(), **report):
        flow = Flow(users, new_order(when=when, **report))
        flow("supervisor", "register", when + dt.timedelta(minutes=6), urgency=urgency)
        flow(
            "dispatcher",
            "dispatch",
            when + dt.timedelta(minutes=12),
            department=department or world.departments[0],
            co_departments=co_departments,
        )
        return flow

    return make


def compute(world, span=MARCH, **options):
    options.setdefault("now", LATER)
    return metrics_compute(place=world.street, start=span.start, end=span.end, **options)


def whole(world, span=MARCH, **options) -> dict:
    rows = compute(world, span, **options)
    assert len(rows) == 1 and rows[0].key == ()
    return rows[0].values


def by_key(rows) -> dict:
    return {row.key: row.values for row in rows}


# --- values -----------------------------------------------------------------------------------


def test_a_rate_is_an_exact_fraction_and_none_without_a_denominator():
    assert Rate(1, 3).value == Fraction(1, 3)
    assert Rate(1, 3).percent == "33.3%"
    assert Rate(0, 0).value is None and Rate(0, 0).percent == "—"
    assert Rate(0, 4).percent == "0.0%"
    assert Mean(90, 1).value == Fraction(3, 2) and Mean(0, 0).text == "—"


def test_periods_start_at_midnight_in_shanghai():
    assert MARCH.start == shanghai(2026, 3, 1)
    assert MARCH.end == APRIL.start
    assert MARCH.start.astimezone(dt.UTC) == dt.datetime(2026, 2, 28, 16, tzinfo=dt.UTC)
    assert period_of("week", dt.date(2026, 3, 11)).first == dt.date(2026, 3, 9)  # Monday
    assert period_of("quarter", dt.date(2026, 5, 20)).label == "2026-Q2"
    assert period_of("year", dt.date(2026, 5, 20)).shift(1).label == "2027"
    assert period_of("day", dt.date(2026, 3, 31)).shift(1).first == dt.date(2026, 4, 1)
    # 00:30 on 1 April in Shanghai is still 31 March in UTC: it belongs to April.
    assert period_of("month", shanghai(2026, 4, 1, 0, 30)) == APRIL
    assert MARCH.shift(-3).label == "2025-12"


# --- intake -----------------------------------------------------------------------------------


def test_intake_reports_validity_registration_verification_on_the_spot(world, users, new_order):
    o1 = Flow(users, new_order())
    o1("supervisor", "register", h(0.5))  # its 1-hour registration limit: on time
    o2 = Flow(users, new_order(actor_key="resident", source=Source.RESIDENT))
    o2("dispatcher", "send_verify", h(0.1))  # 30 working minutes to verify: until 10:06
    o2("gridworker", "verify", h(1))  # 10:30: late
    assert o2.order.phase_due_at == h(2)
    o2("supervisor", "register", h(2))  # exactly on its deadline: on time
    o3 = Flow(users, new_order(actor_key="resident", source=Source.RESIDENT))
    o3("dispatcher", "send_verify", h(0.1))
    o3("dispatcher", "reject", h(0.2), reason="现场不属实", reject_reason="untrue")
    o4 = Flow(users, new_order())
    o4("gridworker", "self_resolve", h(0.1))
    o4("supervisor", "approve_self_resolved", h(0.2))
    o5 = Flow(
        users,
        new_order(
            actor_key="resident",
            source=Source.RESIDENT,
            category=a_category(self_governable=True),
        ),
    )
    o5("worker", "self_handle", h(0.1))
    o5("worker", "rc_close", h(0.2), reason="邻里调解成功")

    values = whole(world)
    assert values["reports"] == 5
    assert values["valid"] == 4  # all but the rejected one
    assert values["valid_rate"] == Rate(4, 5)
    assert values["registered"] == 2
    assert values["register_rate"] == Rate(2, 4)
    assert values["register_on_time_rate"] == Rate(2, 2)
    assert values["register_accurate_rate"] == Rate(2, 2)
    assert values["verify_on_time_rate"] == Rate(1, 2)  # o2 late, o3's rejection in time
    assert values["self_resolved"] == 1
    assert values["self_resolve_rate"] == Rate(1, 4)
    assert values["committee_closed"] == 1


# --- dispatch ---------------------------------------------------------------------------------


def test_dispatch_sign_for_and_returns(world, users, new_order, handler2):
    d0, d1 = world.departments[0], world.departments[1]
    a = Flow(users, new_order())
    a("supervisor", "register", h(0.1), urgency="urgent")
    a("dispatcher", "dispatch", h(0.2), department=d0)  # within 30 minutes
    a.sign(h(1))  # within 2 working hours
    b = Flow(users, new_order())
    b("supervisor", "register", h(0.1), urgency="urgent")
    b("dispatcher", "dispatch", h(1.5), department=d0)  # late
    b("handler", "request_return", h(2), reason="产权属于物业")
    b("dispatcher", "approve_return", h(2.5))
    b("dispatcher", "dispatch", h(3), department=d1)
    b.sign(h(6), key="handler2")  # 15:30, the limit was 15:00
    c = Flow(users, new_order())
    c("supervisor", "register", h(0.1), urgency="urgent")
    c("dispatcher", "dispatch", h(0.3), department=d0)
    c.sign(h(0.5))
    c("handler", "request_return", h(0.6), reason="不属于本部门")
    c("supervisor", "refuse_return", h(0.7), reason="属于本部门职责")
    c.feedback(h(1))
    c.check(h(1.1), passed=False)
    c("supervisor", "rework", h(1.3), reason="仍未修好")

    values = whole(world)
    assert values["dispatched"] == 4
    assert values["dispatch_on_time_rate"] == Rate(3, 4)
    assert values["dispatch_accurate_rate"] == Rate(3, 4)  # b's first dispatch was returned
    assert values["dispatch_accurate_rework_rate"] == Rate(3, 4)  # c went back for rework
    assert values["sign_on_time_rate"] == Rate(2, 4)  # a and c
    assert values["return_rate"] == Rate(2, 4)
    assert values["return_approved_rate"] == Rate(1, 2)
    assert values["reworks"] == 1

    rows = by_key(compute(world, group_by="department"))
    assert set(rows) == {(d0.pk,), (d1.pk,)}
    first, second = rows[(d0.pk,)], rows[(d1.pk,)]
    assert first["dispatched"] == 3 and second["dispatched"] == 1
    assert first["dispatch_accurate_rate"] == Rate(2, 3)
    assert first["sign_on_time_rate"] == Rate(2, 3)
    assert first["return_rate"] == Rate(2, 3)
    assert first["return_approved_rate"] == Rate(1, 2)
    assert first["reworks"] == 1
    assert second["sign_on_time_rate"] == Rate(0, 1)
    assert second["return_approved_rate"].value is None
    # The centre's own steps mean nothing on a department's row.
    assert first["reports"] is None and first["dispatch_on_time_rate"] is None


# --- handling and closing: the denominator rule -----------------------------------------------


@pytest.fixture
def handling(world, users, dispatched):
    """Orders of March (and one each side) with known deadlines; see the test for each."""
    flows = {}
    flows["h1"] = f = dispatched()  # dispatched 09:42, due 14:42
    assert f.due == shanghai(2026, 3, 9, 14, 42)
    f.sign(h(0.5)).feedback(h(1.5)).check(h(1.6)).close(h(2))
    flows["h2"] = f = dispatched()
    f.sign(h(0.5)).feedback(f.due).check(f.due + dt.timedelta(minutes=3)).close(h(5.75))
    flows["h3"] = f = dispatched()
    f.sign(h(0.5))
    f("depthead", "request_extension", h(1), reason="需采购配件", hours=2)
    f("supervisor", "approve_extension", h(1.2))
    assert f.due == shanghai(2026, 3, 9, 16, 42)
    f.feedback(h(7)).check(h(7.03)).close(f.due)
    flows["h4"] = f = dispatched()
    f.sign(h(0.5))
    flows["h5"] = f = dispatched()
    f.sign(h(0.5))
    f("handler", "request_suspension", h(1), reason="需大修", review_on=dt.date(2026, 5, 1))
    f("supervisor", "approve_suspension", h(1.2))
    flows["h6"] = f = dispatched()
    f.sign(h(0.5)).feedback(h(1)).check(h(1.05), passed=False)
    f("supervisor", "rework", h(1.25), reason="井盖仍松动")
    f.feedback(h(6)).check(h(6.05)).close(h(6.25))
    friday = shanghai(2026, 2, 27, 15)
    flows["h7"] = f = dispatched(when=friday, urgency="normal")
    assert MARCH.start <= f.due < MARCH.end
    f.sign(h(0.3, friday)).feedback(h(0.6, friday)).check(h(0.7, friday)).close(h(1, friday))
    tuesday = shanghai(2026, 3, 31, 15)
    flows["h8"] = f = dispatched(when=tuesday, urgency="normal")
    assert APRIL.start <= f.due < APRIL.end
    f.sign(h(0.3, tuesday)).feedback(h(1.2, tuesday)).check(h(1.3, tuesday)).close(h(1.5, tuesday))
    return flows


def test_the_denominator_rule_for_handling_and_closing(world, handling):
    """应处置/应结案: deadline in the period, or handled/closed in it; not suspended at its end;
    not already handled/closed when it began."""
    values = whole(world)
    # h1, h2, h3, h6 (due in March), h4 (due, never handled), h8 (handled in March, due in
    # April); not h5 (suspended at the end of March) nor h7 (due in March, closed in February).
    assert values["due_handle"] == 6
    assert values["due_close"] == 6
    assert values["handled"] == 5
    assert values["handle_rate"] == Rate(5, 6)
    assert values["handle_on_time_rate"] == Rate(4, 6)  # h6's last feedback was late
    assert values["handled_late"] == 1
    assert values["overdue_open"] == 1  # h4
    assert values["extension_rate"] == Rate(1, 6)
    assert values["extension_mean_hours"] == Mean(120, 1)
    assert values["suspended"] == 1
    # Working minutes from dispatch to feedback: 78 + 240 + 348 + 288 + 60.
    assert values["handle_mean_hours"] == Mean(1014, 5)
    assert values["handle_mean_hours"].text == "3.4"
    assert values["check_on_time_rate"] == Rate(6, 6)
    assert values["closed"] == 5
    assert values["close_rate"] == Rate(5, 6)
    # h1 early, h3 exactly on its extended deadline, h8 early; h2 and h6 after the deadline.
    assert values["close_on_time_rate"] == Rate(3, 6)
    assert values["close_late_rate"] == Rate(2, 6)
    assert values["rework_rate"] == Rate(1, 5)
    assert values["reworks"] == 1
    assert values["reopen_rate"] == Rate(0, 5)

    february = whole(world, FEBRUARY)
    assert (february["due_close"], february["closed"]) == (1, 1)  # h7, closed in February
    assert february["close_on_time_rate"] == Rate(1, 1)
    # April: h8's deadline falls in it, but h8 was closed before April began; h5 is still
    # suspended.
    april = whole(world, APRIL)
    assert (april["due_handle"], april["due_close"], april["suspended"]) == (0, 0, 1)


def test_a_rework_or_reopening_brings_a_handled_order_back_into_the_denominator(
    world, users, dispatched
):
    """Fed back in March, due in April: not 应处置 in April, unless April undoes the handling
    (a failed check sent back for rework, or a reopening) and it is then due there."""
    tuesday = shanghai(2026, 3, 31, 15)
    reworked = dispatched(when=tuesday, urgency="normal")
    assert APRIL.start <= reworked.due < APRIL.end
    reworked.sign(h(0.3, tuesday)).feedback(h(1.2, tuesday)).check(h(1.3, tuesday), passed=False)
    reworked("supervisor", "rework", APRIL.start + dt.timedelta(hours=9.5), reason="井盖仍松动")
    settled = dispatched(when=tuesday, urgency="normal")
    settled.sign(h(0.3, tuesday)).feedback(h(1.2, tuesday)).check(h(1.3, tuesday))
    settled.close(h(1.5, tuesday))

    march, april = whole(world, MARCH), whole(world, APRIL)
    assert (march["due_handle"], march["handled"]) == (2, 2)
    # settled stays out of April; reworked is due there, unhandled and overdue.
    assert (april["due_handle"], april["handled"], april["overdue_open"]) == (1, 0, 1)
    assert april["handle_rate"] == Rate(0, 1)
    assert (april["due_close"], april["closed"]) == (1, 0)


def test_exactly_on_the_deadline_is_on_time(world, dispatched):
    f = dispatched()
    f.sign(h(0.5)).feedback(f.due)
    f.check(f.due + dt.timedelta(minutes=1))
    f("supervisor", "close", f.due + dt.timedelta(minutes=10))
    feedback = f.order.transitions.get(action="feedback")
    assert feedback.at == f.due and feedback.data["handle_late"] is False
    values = whole(world)
    assert values["handle_on_time_rate"] == Rate(1, 1)
    assert values["close_on_time_rate"] == Rate(0, 1)  # closed ten minutes after it


def test_a_suspended_order_leaves_the_denominator_and_comes_back_on_resume(world, dispatched):
    f = dispatched()
    f.sign(h(0.5))
    f("handler", "request_suspension", h(1), reason="需大修", review_on=dt.date(2026, 4, 1))
    f("supervisor", "approve_suspension", h(1.2))
    assert whole(world)["due_handle"] == 0 and whole(world)["suspended"] == 1
    f("supervisor", "resume", h(2))  # a fresh handling deadline from now: still in March
    values = whole(world)
    assert (values["due_handle"], values["suspended"], values["overdue_open"]) == (1, 0, 1)


def test_resuming_gives_back_the_handling_time_left_not_a_fresh_clock(world, dispatched):
    from linli.workorders import calendar

    f = dispatched()
    f.sign(h(0.5))
    dispatched_at, due = f.order.dispatched_at, f.due
    f("handler", "request_suspension", h(1), reason="需大修", review_on=dt.date(2026, 4, 1))
    f("supervisor", "approve_suspension", h(1.2))
    left = calendar.working_minutes_between(h(1.2), due)
    assert 0 < left < calendar.working_minutes_between(dispatched_at, due)
    week_later = h(0, MONDAY + dt.timedelta(days=7))
    f("supervisor", "resume", week_later)
    assert f.due == calendar.add_working_time(week_later, left, "minutes")
    # The return window (counted from dispatch) does not reopen.
    assert f.order.dispatched_at == dispatched_at and f.order.handle_left_minutes is None


# --- ratings ----------------------------------------------------------------------------------


def test_follow_up_satisfaction_and_reopening(world, users, dispatched):
    flows = []
    for rating in (5, 4, 3, 1, None):
        f = dispatched()
        f.sign(h(0.5)).feedback(h(1)).check(h(1.1)).close(h(2))
        if rating:
            f("dispatcher", "rate", h(3), rating=rating)
        flows.append(f)
    unhappy = flows[3]
    unhappy("supervisor", "reopen", h(3.5), reason="居民反映未修好")
    unhappy.feedback(h(4)).check(h(4.1)).close(h(4.5))
    unhappy("dispatcher", "rate", h(5), rating=4)
    orders_tick(now=MONDAY + dt.timedelta(days=9))  # the unrated one's window lapses
    assert Transition.objects.filter(action="archive", data__unrated=True).count() == 1

    values = whole(world)
    assert values["rated"] == 5
    assert values["satisfied_rate"] == Rate(3, 5)  # 5, 4 and the second 4
    assert values["fairly_satisfied_rate"] == Rate(1, 5)
    assert values["visit_rate"] == Rate(5, 6)
    assert values["closed"] == 5
    assert values["reopen_rate"] == Rate(1, 5)
    department = by_key(compute(world, group_by="department"))[(world.departments[0].pk,)]
    for code in ("rated", "satisfied_rate", "visit_rate", "reopen_rate", "closed"):
        assert department[code] == values[code]


def test_summons_escalation_and_supervision(world, users, dispatched):
    f = dispatched(co_departments=[world.departments[1]])
    f("worker", "request_summons", h(0.5), reason="涉及多个部门")
    f("supervisor", "escalate_district", h(0.6), reason="街镇无法协调")
    counts = orders_tick(now=h(30))
    assert counts["supervised"] == 1
    values = whole(world)
    assert (values["summons"], values["escalations"], values["supervised"]) == (1, 1, 1)


# --- boundaries -------------------------------------------------------------------------------


def test_no_denominator_gives_none_not_zero(world, new_order):
    assert compute(world) == []
    new_order()
    values = whole(world)
    for code in (
        "dispatch_accurate_rate",
        "handle_rate",
        "close_on_time_rate",
        "satisfied_rate",
        "visit_rate",
        "register_on_time_rate",
    ):
        assert values[code] == Rate(0, 0) and values[code].value is None, code
        assert str(values[code]) == "—"
    assert values["extension_mean_hours"].value is None
    assert values["reports"] == 1 and values["valid_rate"] == Rate(0, 1)


def test_periods_split_at_shanghai_midnight(world, new_order):
    new_order(when=shanghai(2026, 3, 31, 23, 30))  # 15:30 UTC on the 31st
    new_order(when=shanghai(2026, 4, 1, 0, 30))  # 16:30 UTC on the 31st: April in Shanghai
    assert whole(world, MARCH)["reports"] == 1
    assert whole(world, APRIL)["reports"] == 1
    days = compute(world, Period(dt.date(2026, 3, 31), "day"), period="day") + compute(
        world, Period(dt.date(2026, 4, 1), "day"), period="day"
    )
    assert [(r.period.label, r.values["reports"]) for r in days] == [
        ("2026-03-31", 1),
        ("2026-04-01", 1),
    ]
    spread = metrics_compute(
        place=world.street, start=MARCH.start, end=APRIL.end, period="month", now=LATER
    )
    assert [(r.period, r.values["reports"]) for r in spread] == [(MARCH, 1), (APRIL, 1)]


def test_exactly_at_shanghai_midnight_belongs_to_the_new_period(world, users, dispatched):
    """Periods are [start, end): a report, a deadline and a feedback falling exactly on
    00:00 of 1 April in Shanghai (16:00 UTC on 31 March) count in April, never in March."""
    midnight = APRIL.start
    assert midnight.astimezone(dt.UTC) == dt.datetime(2026, 3, 31, 16, tzinfo=dt.UTC)
    category = a_category()
    TimeLimit.objects.update_or_create(
        category=category,
        urgency="normal",
        phase="handle",
        defaults={"amount": 1, "unit": "natural_days"},
    )
    # Dispatched at 00:00 on 31 March with one calendar day: due at 00:00 on 1 April.
    f = dispatched(when=midnight - dt.timedelta(days=1, minutes=12), urgency="normal")
    assert f.order.dispatched_at == midnight - dt.timedelta(days=1)
    assert f.due == midnight
    f.sign(midnight - dt.timedelta(hours=3)).feedback(midnight)
    f.check(midnight + dt.timedelta(minutes=1)).close(midnight + dt.timedelta(minutes=10))
    order_report(actor=users["gridworker"], report=a_report(world, when=midnight))

    march, april = whole(world, MARCH), whole(world, APRIL)
    assert march["reports"] == 1 and april["reports"] == 1  # the dispatched one on the 30th
    assert (march["due_handle"], march["handled"], march["due_close"]) == (0, 0, 0)
    assert (april["due_handle"], april["handled"], april["due_close"]) == (1, 1, 1)
    assert april["handle_on_time_rate"] == Rate(1, 1)  # exactly on the deadline is on time
    assert march["handle_rate"].value is None  # nothing due: no rate, not 0 %
    days = metrics_compute(
        place=world.street,
        start=MARCH.start,
        end=APRIL.end,
        period="day",
        now=LATER,
        codes=["reports", "handled", "dispatched"],
    )
    counted = {r.period.label: r.values for r in days}
    assert counted["2026-03-31"]["dispatched"] == 1 and counted["2026-03-31"]["handled"] == 0
    assert counted["2026-04-01"]["reports"] == 1 and counted["2026-04-01"]["handled"] == 1


def test_months_computed_together_equal_months_computed_alone(world, handling):
    together = metrics_compute(
        place=world.street, start=FEBRUARY.start, end=APRIL.end, period="month", now=LATER
    )
    for row in together:
        alone = compute(world, row.period)
        assert len(alone) == 1
        assert alone[0].values == row.values, row.period


def test_computing_twice_gives_the_same_figures(world, handling):
    first = compute(world, group_by="grid", with_total=True)
    second = compute(world, group_by="grid", with_total=True)
    assert first == second
    assert [r.values for r in first] == [r.values for r in second]


# --- groups and scope -------------------------------------------------------------------------


def test_rows_by_grid_category_major_and_street(world, users, new_order, dispatched):
    component = Category.objects.filter(kind="component", active=True).order_by("service_code")[0]
    event = Category.objects.filter(kind="event", active=True).order_by("service_code")[0]
    dispatched(category=component)
    dispatched(category=event, place=world.compounds[-1])
    new_order(category=event)

    grids = by_key(compute(world, group_by="grid"))
    expected_grids = {(world.grids[0].pk,), (world.grids[-1].pk,)}
    assert set(grids) == expected_grids
    assert grids[(world.grids[0].pk,)]["reports"] == 2
    categories = compute(world, group_by="category")
    assert {r.key: r.values["reports"] for r in categories} == {
        (component.pk,): 1,
        (event.pk,): 2,
    }
    assert {r.label for r in categories} == {
        f"{component.service_code} {component.name}",
        f"{event.service_code} {event.name}",
    }
    majors = by_key(compute(world, group_by="major"))
    assert majors[("component", component.major_code)]["dispatched"] == 1
    assert majors[("event", event.major_code)]["dispatched"] == 1
    streets = compute(world, group_by="street")
    assert [(r.label, r.values["reports"]) for r in streets] == [(world.street.name, 3)]
    # The total of a grouped table is the ungrouped figure.
    rows = compute(world, group_by="category", with_total=True)
    assert rows[0].key == () and rows[0].values == whole(world)


def test_a_department_handler_sees_only_its_own_department(world, users, dispatched, handler2):
    dispatched(department=world.departments[0]).sign(h(1))
    dispatched(department=world.departments[1]).sign(h(1), key="handler2")
    scope = metrics_scope(users["handler"])
    assert scope == MetricsScope(departments=frozenset({world.departments[0].pk}))
    rows = metrics_compute(
        scope=scope, start=MARCH.start, end=MARCH.end, group_by=None, with_total=True, now=LATER
    )
    assert [r.key for r in rows] == [(world.departments[0].pk,)]
    assert rows[0].values["dispatched"] == 1


def test_scopes(world, users):
    assert metrics_scope(users["resident"]) is None
    assert metrics_scope(users["property"]) is None
    assert metrics_scope(users["stranger"]).paths == (world.committees[1].path,)
    assert metrics_scope(users["supervisor"]).paths == (world.street.path,)


def test_another_committee_sees_nothing_of_committee_a(world, users, dispatched):
    dispatched().sign(h(1))  # in committee A's compound
    mine = metrics_scope(users["worker"])
    theirs = metrics_scope(users["stranger"])
    for group_by in (None, "grid", "department", "category"):
        assert (
            metrics_compute(
                scope=theirs, start=MARCH.start, end=MARCH.end, group_by=group_by, now=LATER
            )
            == []
        ), group_by
    assert (
        metrics_compute(scope=mine, start=MARCH.start, end=MARCH.end, now=LATER)[0]["dispatched"]
        == 1
    )


# --- speed ------------------------------------------------------------------------------------


def _a_busy_month(world, orders: int, seed: int = 4) -> None:
    """`orders` orders of March written straight into the log (the metrics read only the log),
    with returns, extensions, late steps and ratings."""
    rng = random.Random(seed)
    categories = list(Category.objects.values_list("pk", flat=True)[:40])
    rows, made = [], []
    for index in range(orders):
        when = shanghai(2026, 3, rng.randint(1, 28), rng.randint(8, 17), rng.randint(0, 59))
        compound = world.compounds[index % len(world.compounds)]
        made.append(
            WorkOrder(
                kind="problem",
                source="patrol",
                level="street",
                state="rated",
                description="-",
                place=compound,
                path=compound.path,
                street=world.street,
                grid=world.grids[index % len(world.grids)],
                category_id=categories[index % len(categories)],
                created_at=when,
                updated_at=when,
            )
        )
    WorkOrder.objects.bulk_create(made)
    for order in made:
        _busy_order(order, rows, rng, world.departments)
    Transition.objects.bulk_create(rows, batch_size=2000)


def _busy_order(order, rows, rng, departments) -> None:
    at, department = order.created_at, rng.choice(departments)

    def log(action, before, after, minutes, dept=None, **data):
        nonlocal at
        at += dt.timedelta(minutes=minutes)
        rows.append(
            Transition(
                order=order,
                action=action,
                from_state=before,
                to_state=after,
                level="street",
                at=at,
                department=dept,
                data=data,
            )
        )

    log("report", "", "reported", 0, source="patrol")
    log("register", "reported", "registered", 30, phase="register", late=rng.random() < 0.1)
    due = at + dt.timedelta(days=3)
    log("dispatch", "registered", "dispatched", 20, department, handle_due=due.isoformat())
    if rng.random() < 0.1:
        log("request_return", "dispatched", "return_requested", 60, department)
        log("approve_return", "return_requested", "registered", 60, department)
        department, due = rng.choice(departments), at + dt.timedelta(days=3)
        log("dispatch", "registered", "dispatched", 20, department, handle_due=due.isoformat())
    log("sign_for", "dispatched", "in_progress", 60, department, late=rng.random() < 0.2)
    if rng.random() < 0.1:
        due += dt.timedelta(hours=8)
        log(
            "approve_extension",
            "",
            "in_progress",
            60,
            department,
            hours=8,
            handle_due=due.isoformat(),
        )
    log("feedback", "in_progress", "feedback", rng.randint(60, 6000), department)
    rows[-1].data["handle_late"] = at > due
    log("send_check", "feedback", "checking", 10, phase="check", late=False)
    log("check", "checking", "checking", 20, phase="check", late=False, passed=True)
    log("close", "checking", "closed", 10)
    log("rate", "closed", "rated", 600, rating=rng.randint(1, 5))


def test_a_month_of_two_thousand_orders_is_quick(world, django_assert_max_num_queries):
    _a_busy_month(world, 2000)
    started = time.process_time()
    with django_assert_max_num_queries(9):
        rows = compute(world, group_by="department", with_total=False)
    took = time.process_time() - started
    assert sum(r.values["dispatched"] for r in rows) >= 2000
    assert took < 1.0, f"{took:.2f} s"
    with django_assert_max_num_queries(9):
        (total,) = compute(world)
    assert total["reports"] == 2000 and total["rated"] > 1900  # a few are rated in April


# --- the dashboard ----------------------------------------------------------------------------

MARCH_QUERY = {"kind": "month", "day": "2026-03-09"}


def test_the_dashboard_needs_a_sign_in_and_a_scope(client, client_as, world):
    url = reverse("workorders:metrics")
    assert client.get(url).status_code == 302
    for name in ("metrics", "metrics_charts", "metrics_export"):
        assert client_as("resident").get(reverse(f"workorders:{name}")).status_code == 404


def test_the_dashboard_shows_the_figures(client_as, world, handling, django_assert_max_num_queries):
    client = client_as("supervisor")
    # Sign-in (4), the figures (8: four counts, suspensions, two for the pass over orders,
    # labels), the session (3); by department the total is its own computation (+7).
    with django_assert_max_num_queries(21):
        client.get(reverse("workorders:metrics"), {**MARCH_QUERY, "group_by": "department"})
    with django_assert_max_num_queries(16):
        response = client.get(reverse("workorders:metrics"), {**MARCH_QUERY, "group_by": "grid"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-period="2026-03"' in html
    total = response.context["rows"][0]
    assert total.key == () and total["close_on_time_rate"] == Rate(3, 6)
    line = re.search(r'<tr data-metric="close_on_time_rate">(.*?)</tr>', html, re.S).group(1)
    assert 'title="3/6"' in line and "50.0%" in line
    assert str(DENOMINATOR_RULE)[:20] in html
    assert (
        "<html"
        not in client.get(
            reverse("workorders:metrics"), MARCH_QUERY, headers={"HX-Request": "true"}
        ).content.decode()
    )


def test_the_charts(client_as, world, handling, django_assert_max_num_queries):
    client = client_as("supervisor")
    with django_assert_max_num_queries(12):
        response = client.get(reverse("workorders:metrics_charts"), MARCH_QUERY)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html and 'data-series="close_on_time_rate"' in html
    trend = response.context["trend"]
    march = dict((month, values) for month, values in trend["table"])[MARCH]
    assert march[0] == Rate(3, 6)
    assert len(trend["table"]) == 12 and trend["table"][-1][0] == MARCH
    assert f'data-key="{world.departments[0].pk}"' in html
    assert 'class="bar-fill w50"' in html  # 3/6 closed on time


def test_a_stranger_sees_nothing_of_committee_a_on_the_dashboard(client_as, world, handling):
    worker = client_as("worker").get(reverse("workorders:metrics"), MARCH_QUERY)
    assert worker.status_code == 200 and worker.context["rows"]
    stranger = client_as("stranger").get(reverse("workorders:metrics"), MARCH_QUERY)
    assert stranger.status_code == 200 and stranger.context["rows"] == []
    export = client_as("stranger").get(reverse("workorders:metrics_export"), MARCH_QUERY)
    sheet = load_workbook(io.BytesIO(export.content)).worksheets[0]
    assert sheet.max_row == 5  # the heading lines and the column titles, no figures
    charts = client_as("stranger").get(reverse("workorders:metrics_charts"), MARCH_QUERY)
    assert charts.context["trend"]["series"][0].points == []


def test_a_department_handler_sees_its_row(client_as, world, handling):
    response = client_as("handler").get(
        reverse("workorders:metrics"), {**MARCH_QUERY, "group_by": "grid"}
    )
    assert response.status_code == 200
    assert [r.key for r in response.context["rows"]] == [(world.departments[0].pk,)]
    assert 'name="group_by"' not in response.content.decode()


def test_the_export_matches_the_page(client_as, world, handling):
    client = client_as("supervisor")
    query = {**MARCH_QUERY, "group_by": "department"}
    page = client.get(reverse("workorders:metrics"), query)
    response = client.get(reverse("workorders:metrics_export"), query)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="metrics-2026-03.xlsx"' in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    lines = list(sheet.iter_rows(values_only=True))
    assert lines[4][1:] == tuple(str(m.label) for m in METRICS)
    html = page.content.decode()
    rows = page.context["rows"]
    assert [line[0] for line in lines[5:]] == [r.label for r in rows]
    cells = {c.coordinate: c for c in sheet[6]}  # the total's line
    for row, line in zip(rows, lines[5:], strict=True):
        for metric, value in zip(METRICS, line[1:], strict=True):
            shown = row.values[metric.code]
            if shown is None or getattr(shown, "value", 0) is None:
                assert value == "—", metric.code
            elif isinstance(shown, Rate):
                assert value == pytest.approx(float(shown.value)), metric.code
                assert shown.percent in html
            elif isinstance(shown, Mean):
                assert value == pytest.approx(float(shown.value)), metric.code
            else:
                assert value == shown, metric.code
    rate_column = 1 + [m.code for m in METRICS].index("close_on_time_rate")
    assert list(cells.values())[rate_column].number_format == "0.0%"
    assert METRIC["close_on_time_rate"].kind == "rate"
