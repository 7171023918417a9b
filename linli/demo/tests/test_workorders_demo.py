"""The demo's work orders: what the services would have written, consistent, deterministic, fast."""

import datetime as dt
import itertools
import random
import time
from collections import Counter, defaultdict

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from linli.demo.register import populate_register
from linli.demo.workorders import (
    SYSTEM,
    TZ,
    Deadlines,
    Engine,
    Order,
    _Actor,
    _ceil_tick,
    _Sim,
    _Staff,
    populate_orders,
)
from linli.workorders import calendar, services
from linli.workorders.choices import (
    CLOSED_STATES,
    Kind,
    LimitUnit,
    Phase,
    RejectReason,
    Source,
    State,
    Urgency,
)
from linli.workorders.models import (
    Category,
    RoutingRule,
    ServiceItem,
    Summons,
    Transition,
    WorkOrder,
)
from linli.workorders.selectors import distance_m
from linli.workorders.tests.conftest import jpeg_bytes

pytestmark = pytest.mark.django_db

# A Wednesday afternoon; the year before it has a known holiday schedule.
TODAY = dt.datetime(2026, 6, 17, 16, 30, tzinfo=TZ)
MONDAY = dt.datetime(2026, 3, 9, 9, 30, tzinfo=TZ)
SMALL = 300
CLOSING = {"close", "rc_close", "approve_self_resolved"}


def _photo():
    return SimpleUploadedFile("site.jpg", jpeg_bytes(), content_type="image/jpeg")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def year(world, users):
    """The tests' street with its register, accounts and a small year of orders."""
    populate_register(world, seed=7, residents=100)
    counts = populate_orders(world, seed=7, size=SMALL, today=TODAY)
    return world, counts


def _logs() -> dict[int, list[Transition]]:
    logs = defaultdict(list)
    for step in Transition.objects.order_by("id"):
        logs[step.order_id].append(step)
    return logs


# --- the generated year ----------------------------------------------------------------------


def test_every_order_is_explained_by_its_log(year):
    _, counts = year
    orders = {o.pk: o for o in WorkOrder.objects.all()}
    logs = _logs()
    assert counts["orders"] == len(orders) == SMALL
    assert counts["transitions"] == sum(len(steps) for steps in logs.values())
    for pk, order in orders.items():
        steps = logs[pk]
        assert steps[0].action == "report" and steps[0].from_state == ""
        assert steps[0].at == order.created_at
        for before, after in itertools.pairwise(steps):
            assert after.from_state == before.to_state, (pk, after.action)
            assert after.at >= before.at, (pk, after.action)
        assert steps[-1].to_state == order.state
        assert steps[-1].level == order.level
        assert order.version == len(steps) - 1
        assert order.created_at <= order.updated_at <= TODAY
        actions = Counter(s.action for s in steps)
        assert order.rework_count == actions["rework"]
        assert order.return_count == actions["approve_return"]
        assert order.reopen_count == actions["reopen"]
        hours = sum(s.data["hours"] for s in steps if s.action == "approve_extension")
        assert order.extension_hours == hours
        closings = [s for s in steps if s.action in CLOSING]
        if order.state in (State.CLOSED, State.RATED) or (
            order.state == State.ARCHIVED and steps[-2].to_state != State.REJECTED
        ):
            assert closings and order.closed_at == closings[-1].at
        if order.state in (State.REJECTED, State.ARCHIVED) and not closings:
            assert actions["reject"] == 1
        if order.state == State.RATED:
            assert order.rating == steps[-1].data["rating"]
        rejected = [s for s in steps if s.action == "reject"]
        if rejected and rejected[0].data["reject_reason"] == RejectReason.DUPLICATE:
            assert order.duplicate_of_id == rejected[0].data["duplicate_of"]
            assert orders[order.duplicate_of_id].created_at <= order.created_at
        else:
            assert order.duplicate_of_id is None
        if order.state in CLOSED_STATES or order.state == State.SUSPENDED:
            assert order.phase == "" and order.phase_due_at is None
        else:
            assert order.phase and order.phase_due_at and order.phase_warn_at
        if order.department_id is not None:
            sent = [s for s in steps if s.action in ("dispatch", "decide_summons")]
            assert sent[-1].department_id == order.department_id


def test_the_year_looks_like_a_street(year):
    world, counts = year
    orders = WorkOrder.objects.all()
    sources = Counter(orders.values_list("source", flat=True))
    assert sources[Source.PATROL] > sources[Source.RESIDENT] > sources[Source.PROPERTY]
    assert sources[Source.HOTLINE] > sources[Source.COMMITTEE]
    actions = Counter(Transition.objects.values_list("action", flat=True))
    for action in ("verify", "dispatch", "feedback", "close", "rate", "archive", "remind"):
        assert actions[action] > 0, action
    assert counts["open"] > 0 and counts["archived"] > SMALL // 2
    assert orders.filter(kind=Kind.ERRAND, beneficiary__isnull=False).exists()
    ratings = [
        d["rating"] for d in Transition.objects.filter(action="rate").values_list("data", flat=True)
    ]
    assert sum(r >= 4 for r in ratings) >= 0.75 * len(ratings)
    first = orders.order_by("created_at").first().created_at
    assert TODAY - dt.timedelta(days=366) <= first < TODAY - dt.timedelta(days=330)
    for order in orders.exclude(lat=None).select_related("place"):
        assert distance_m(order.lat, order.lng, order.place.lat, order.place.lng) <= 81
    assert not orders.filter(source=Source.HOTLINE).exclude(lat=None).exists()
    # 明责派单: every category has its street-wide route; the catalogue is there.
    routed = set(
        RoutingRule.objects.filter(street=world.street, grid=None).values_list(
            "category", flat=True
        )
    )
    assert routed == set(Category.objects.filter(active=True).values_list("pk", flat=True))
    assert RoutingRule.objects.filter(street=world.street, grid__isnull=False).exists()
    assert RoutingRule.objects.filter(category__name="群租").get().co_departments.exists()
    assert ServiceItem.objects.filter(street=world.street, name="养老金资格认证").exists()
    dispatched = Transition.objects.filter(action="dispatch")
    assert {d for d in dispatched.values_list("department", flat=True)} <= {
        d.pk for d in world.departments
    }
    # More time is asked by the lead department's head (T13, DM); 钱科长 is 房管办's.
    asked = Transition.objects.filter(action="request_extension")
    assert asked.exists() and set(asked.values_list("role", flat=True)) == {"department_head"}
    heads = _Staff(world, random.Random(7)).heads
    assert heads[world.departments[0].pk].get_username() == "depthead"


def test_deadlines_are_the_calendars(year):
    orders = {o.pk: o for o in WorkOrder.objects.select_related("category", "service_item")}
    checked = Counter()

    def limits(order, phase):
        if order.kind == Kind.ERRAND and phase == Phase.COMMITTEE:
            return [(order.service_item.limit_days, LimitUnit.DAYS)]
        # The supervisor may raise the urgency at registration: any urgency's limit.
        return [services.time_limit(order.category, u, phase) for u in Urgency.values]

    for pk, steps in _logs().items():
        order = orders[pk]
        # The first clock, from the report to the step that ends it.
        left = next((s for s in steps[1:] if s.data.get("due")), None)
        if left is not None:
            due = dt.datetime.fromisoformat(left.data["due"])
            phase = left.data["phase"]
            assert due in {
                calendar.add_working_time(steps[0].at, *lim) for lim in limits(order, phase)
            }
            checked["first"] += 1
        for step in steps:
            if step.action == "dispatch":
                limit = services.time_limit(order.category, order.urgency, Phase.HANDLE)
                due = calendar.add_working_time(step.at, *limit)
                assert dt.datetime.fromisoformat(step.data["handle_due"]) == due
                checked["dispatch"] += 1
            if step.action == "approve_extension":
                before = dt.datetime.fromisoformat(step.data["due"])
                due = calendar.add_working_time(before, step.data["hours"], LimitUnit.HOURS)
                assert dt.datetime.fromisoformat(step.data["handle_due"]) == due
                checked["extension"] += 1
        if order.state not in CLOSED_STATES and order.phase:
            start = order.phase_started_at
            if order.phase == Phase.HANDLE:
                assert order.phase_due_at == order.handle_due_at
                assert start == order.dispatched_at
            else:
                dues = {
                    calendar.add_working_time(start, *lim) for lim in limits(order, order.phase)
                }
                assert order.phase_due_at in dues
            assert order.phase_warn_at == calendar.warn_point(start, order.phase_due_at)
            checked["open"] += 1
    assert checked["first"] > SMALL * 0.9
    assert checked["dispatch"] > SMALL / 2 and checked["open"] > 0


def test_returns_are_asked_within_the_window(year, settings):
    """T12 as services.return_due: before the sign-for deadline (read from the log) plus the
    grace, in working hours."""
    returns = 0
    for steps in _logs().values():
        sign_due = None
        for step in steps:
            if step.action in ("dispatch", "decide_summons"):
                sign_due = None
            elif (
                sign_due is None
                and step.from_state == State.DISPATCHED
                and step.data.get("phase") == Phase.SIGN
            ):
                sign_due = dt.datetime.fromisoformat(step.data["due"])
            if step.action == "request_return":
                grace = settings.LINLI_RETURN_GRACE_HOURS
                assert step.at < calendar.add_working_time(sign_due, grace, LimitUnit.HOURS)
                returns += 1
    assert returns > 0


def test_deadlines_match_the_calendar_everywhere(db):
    """Deadlines' snapshot arithmetic against the public functions, on awkward moments."""
    deadlines = Deadlines()
    rng = random.Random(3)
    start = dt.datetime(
        2025, 9, 20, 0, 0, tzinfo=TZ
    )  # National Day, the year's end, Spring Festival
    for _ in range(600):
        moment = start + dt.timedelta(minutes=rng.randrange(200 * 24 * 60))
        amount = rng.choice([0, 1, 2, 5, 30, 90])
        unit = rng.choice(list(LimitUnit))
        due = calendar.add_working_time(moment, amount, unit)
        assert deadlines.add(moment, amount, unit) == due, (moment, amount, unit)
        assert deadlines.warn(moment, due) == calendar.warn_point(moment, due), (moment, due)


def test_the_same_seed_gives_the_same_year(world):
    def fingerprint(seed: int):
        with transaction.atomic():
            populate_orders(world, seed=seed, size=120, today=TODAY)
            orders = list(
                WorkOrder.objects.order_by("created_at", "id").values_list(
                    "source", "category__service_code", "state", "created_at", "updated_at",
                    "lat", "urgency", "department__name", "rating", "description",
                )
            )  # fmt: skip
            steps = list(
                Transition.objects.order_by("order__created_at", "id").values_list(
                    "action", "to_state", "at", "actor_name", "data"
                )
            )
            transaction.set_rollback(True)
        return orders, steps

    first = fingerprint(11)
    assert fingerprint(11) == first
    assert fingerprint(12) != first


def test_a_small_year_is_quick(world):
    started = time.process_time()
    populate_orders(world, seed=5, size=SMALL, today=TODAY)
    assert time.process_time() - started < 2.5


# --- the generator writes what the services write ------------------------------------------------


class Twin:
    """One order walked through the services and through the demo's Engine at the same times."""

    def __init__(self, world, users, *, reporter: str | None, **report):
        self.users = users
        self.departments = {d.pk: d for d in world.departments}
        report = {"description": "楼道里堆满杂物", "place": world.compounds[0], **report}
        self.order = services.order_report(
            actor=users[reporter] if reporter else None,
            report=services.Report(photos=[_photo()], **report),
        )
        self.engine = Engine(categories={c.pk: c for c in Category.objects.all()}, item_days={})
        o = self.order
        self.sim = _Sim(
            Order(
                id=o.pk, kind=o.kind, source=o.source, category_id=o.category_id,
                urgency=o.urgency, place=o.place, place_id=o.place_id, path=o.path,
                street_id=o.street_id, grid_id=o.grid_id, created_at=o.created_at,
            )
        )  # fmt: skip
        self.engine.report(self.sim, self.actor(reporter), o.created_at)

    def actor(self, key: str | None) -> _Actor:
        if key is None:
            return SYSTEM
        user = self.users[key]
        return _Actor(user, user.get_username(), user.audit_role(self.order.place))

    def act(self, key: str, action: str, at: dt.datetime, reason: str = "", **params):
        ours = dict(params)
        theirs = dict(params)
        if "assignee" in params:
            theirs["assignee"] = ours["assignee"] = self.users[params["assignee"]]
        if "department" in params:
            theirs["department"] = self.departments[params["department"]]
        if "co_departments" in params:
            theirs["co_departments"] = [self.departments[d] for d in params["co_departments"]]
        if "duplicate_of" in params:
            theirs["duplicate_of"] = WorkOrder.objects.get(pk=params["duplicate_of"])
        spec_photos = action in ("verify", "feedback", "check", "self_resolve", "rc_close")
        self.order = services.order_act(
            actor=self.users[key],
            order=self.order,
            action=action,
            reason=reason,
            photos=[_photo()] if spec_photos else (),
            now=at,
            **theirs,
        )
        self.engine.act(self.sim, action, at, self.actor(key), reason, **ours)
        self.assert_same()  # after every step, not only at the end

    def tick(self, at: dt.datetime):
        """The timer at `at` (a five-minute mark)."""
        assert at == _ceil_tick(at)
        services.orders_tick(now=at)
        self.order.refresh_from_db()
        o = self.sim.o
        if o.state in CLOSED_STATES:
            self.engine.archive(self.sim, at)
        else:
            self.engine.timers(self.sim, at + dt.timedelta(seconds=1))

    def assert_same(self):
        self.engine.finish(self.sim)
        theirs = [
            (s.action, s.from_state, s.to_state, s.level, s.actor_id, s.actor_name, s.role,
             s.department_id, s.at, s.reason, _facts(s.data))
            for s in Transition.objects.filter(order=self.order).order_by("id")
        ]  # fmt: skip
        ours = [
            (a, f, t, lv, ac.user.pk if ac.user else None, ac.name, ac.role, d, at, r, _facts(data))
            for a, f, t, lv, ac, d, at, r, data in self.sim.rows
        ]
        assert ours == theirs
        self.order.refresh_from_db()
        for field in WorkOrder._meta.concrete_fields:
            if field.attname in ("description", "address", "lat", "lng"):
                continue
            if field.attname in ("reporter_phone_cipher", "reporter_phone_masked"):
                continue
            mine, real = getattr(self.sim.o, field.attname), getattr(self.order, field.attname)
            assert mine == real, field.attname
        assert sorted(self.sim.co) == sorted(self.order.co_departments.values_list("pk", flat=True))


def _facts(data: dict) -> dict:
    """The log's facts with moments compared as moments (offsets may differ)."""
    return {
        k: dt.datetime.fromisoformat(v) if k in ("due", "handle_due") and v else v
        for k, v in data.items()
    }


def at(hours: float) -> dt.datetime:
    return MONDAY + dt.timedelta(hours=hours)


def a_category(*, self_governable: bool = False) -> Category:
    return Category.objects.filter(self_governable=self_governable, active=True).order_by(
        "service_code"
    )[0]


def test_a_long_walk_matches_the_services(world, users):
    lead, other = world.departments[0].pk, world.departments[1].pk
    twin = Twin(world, users, reporter="resident", source=Source.RESIDENT,
                category=a_category(), created_at=MONDAY)  # fmt: skip
    twin.act("dispatcher", "send_verify", at(0.2), assignee="gridworker")
    twin.act("gridworker", "verify", at(0.4))
    twin.act("supervisor", "register", at(0.5), urgency="normal")
    twin.act("dispatcher", "dispatch", at(0.6), department=lead, co_departments=[other])
    twin.tick(_ceil_tick(twin.order.phase_warn_at))  # the yellow light: a reminder
    twin.tick(_ceil_tick(twin.order.phase_due_at))  # the red light: supervision
    twin.act("handler", "sign_for", at(3.5))
    twin.act("handler", "request_return", at(4), reason="产权属于物业")
    twin.act("dispatcher", "approve_return", at(4.5))
    twin.act("dispatcher", "dispatch", at(5), department=lead)
    twin.act("handler", "sign_for", at(5.2))
    twin.act("depthead", "request_extension", at(6), reason="需采购配件", hours=8)
    twin.act("supervisor", "approve_extension", at(7))
    twin.act("handler", "feedback", at(8), reason="已更换")
    twin.act("dispatcher", "send_check", at(8.1), assignee="gridworker")
    twin.act("gridworker", "check", at(8.2), passed=False)
    twin.act("supervisor", "rework", at(8.3), reason="仍有松动")
    twin.act("handler", "feedback", at(26), reason="已加固")
    twin.act("dispatcher", "send_check", at(26.1), assignee="gridworker")
    twin.act("gridworker", "check", at(26.2), passed=True)
    twin.act("supervisor", "close", at(26.3))
    twin.act("resident", "rate", at(30), rating=2, comment="太慢")
    twin.act("supervisor", "reopen", at(48), reason="居民反映仍有异响")
    twin.act("handler", "feedback", at(50), reason="已更换整套")
    twin.act("dispatcher", "send_check", at(50.1), assignee="gridworker")
    twin.act("gridworker", "check", at(50.2), passed=True)
    twin.act("supervisor", "close", at(50.3))
    twin.act("dispatcher", "rate", at(51), rating=5)
    twin.assert_same()
    twin.tick(_ceil_tick(twin.order.updated_at + dt.timedelta(days=7)))
    assert twin.order.state == State.ARCHIVED
    twin.assert_same()


def test_the_committee_path_matches_the_services(world, users):
    twin = Twin(world, users, reporter="resident", source=Source.RESIDENT,
                category=a_category(self_governable=True), created_at=MONDAY)  # fmt: skip
    twin.act("worker", "self_handle", at(0.3))
    twin.act("worker", "escalate", at(20), reason="需职能部门介入")
    twin.act("dispatcher", "send_verify", at(20.2), assignee="gridworker")
    twin.act("dispatcher", "reject", at(20.5), reason="现场核实无此问题", reject_reason="untrue")
    twin.assert_same()
    twin.tick(_ceil_tick(twin.order.updated_at + dt.timedelta(days=7)))
    twin.assert_same()

    settled = Twin(world, users, reporter="resident", source=Source.RESIDENT,
                   category=a_category(self_governable=True), created_at=at(1))  # fmt: skip
    settled.act("worker", "self_handle", at(1.5))
    settled.act("worker", "rc_close", at(30), reason="已调解")
    settled.act("resident", "rate", at(40), rating=4)
    settled.assert_same()


def test_the_district_path_matches_the_services(world, users):
    lead, other = world.departments[0].pk, world.departments[1].pk
    first = Twin(world, users, reporter="gridworker", source=Source.PATROL,
                 category=a_category(), created_at=MONDAY)  # fmt: skip
    first.act("gridworker", "self_resolve", at(0.1))
    first.act("supervisor", "approve_self_resolved", at(0.5))
    first.assert_same()

    twin = Twin(world, users, reporter="gridworker", source=Source.PATROL,
                category=a_category(), created_at=at(0.2))  # fmt: skip
    twin.act("supervisor", "register", at(0.4))
    twin.act("supervisor", "escalate_district", at(0.6), reason="跨街道事项")
    twin.act("bureau", "dispatch", at(1), department=lead, co_departments=[other])
    twin.act("handler", "sign_for", at(1.5))
    twin.act("handler", "request_suspension", at(2), reason="需列入计划",
             review_on=dt.date(2026, 4, 20))  # fmt: skip
    twin.act("bureau", "approve_suspension", at(3))
    twin.act("bureau", "resume", at(24 * 42))
    twin.act("worker", "request_summons", at(24 * 42 + 1), reason="涉及多个部门")
    twin.act("bureau", "decide_summons", at(24 * 43), reason="议定由房管办牵头",
             department=lead, co_departments=[other], venue="会议室")  # fmt: skip
    twin.act("handler", "sign_for", at(24 * 43 + 1))
    twin.assert_same()
    summons = Summons.objects.get(order=twin.order)
    assert summons.decided_at == at(24 * 43)

    duplicate = Twin(world, users, reporter=None, source=Source.HOTLINE,
                     category=a_category(), created_at=at(0.3))  # fmt: skip
    duplicate.act("dispatcher", "reject", at(0.7), reason="重复", reject_reason="duplicate",
                  duplicate_of=twin.order.pk)  # fmt: skip
    duplicate.assert_same()


def test_new_orders_come_after_the_demo_ones(year, users):
    world, _ = year
    top = WorkOrder.objects.order_by("-pk").first().pk
    order = services.order_report(
        actor=users["gridworker"],
        report=services.Report(
            source=Source.PATROL,
            description="井盖缺失",
            category=a_category(),
            place=world.compounds[0],
            photos=[_photo()],
        ),
    )
    assert order.pk > top
