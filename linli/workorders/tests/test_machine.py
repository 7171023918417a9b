import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from linli.workorders import calendar, services
from linli.workorders.choices import Level, Source, State
from linli.workorders.machine import ACTIONS
from linli.workorders.models import TimeLimit, Transition, WorkOrder
from linli.workorders.services import Conflict, order_act
from linli.workorders.tests.conftest import MONDAY, a_category, photo

pytestmark = pytest.mark.django_db


def at(hours: float) -> dt.datetime:
    return MONDAY + dt.timedelta(hours=hours)


def act(users, order, key, action, when, **params):
    return order_act(actor=users[key], order=order, action=action, now=at(when), **params)


def test_every_step_of_section_5_2_has_an_action():
    steps = {a.step for a in ACTIONS.values()}
    expected = {f"T{n}" for n in range(2, 20)} | {"T12a", "T12b", "T13a", "T15a", "T15b", "T15c"}
    assert expected - {"T16a"} <= steps | {"T1"}
    assert "T16a" in steps


def test_one_order_through_every_level(world, users, new_order):
    department = world.departments[0]
    order = new_order(actor_key="resident", source=Source.RESIDENT)
    assert (order.state, order.level) == (State.REPORTED, Level.STREET)
    assert order.grid == world.grids[0] and order.reporter == users["resident"]
    order = act(users, order, "dispatcher", "send_verify", 0.2, assignee=users["gridworker"])
    with pytest.raises(ValidationError):  # confirming on site needs a photo
        act(users, order, "gridworker", "verify", 0.4)
    order = act(users, order, "gridworker", "verify", 0.4, photos=[photo()])
    order = act(users, order, "supervisor", "register", 0.5, urgency="normal")
    order = act(users, order, "dispatcher", "dispatch", 0.6, department=department)
    assert order.state == State.DISPATCHED and order.handle_due_at > at(0.6)
    first_due = order.handle_due_at
    order = act(users, order, "handler", "sign_for", 1)
    order = act(users, order, "handler", "request_return", 1.5, reason="产权属于物业，非本部门职责")
    order = act(users, order, "dispatcher", "approve_return", 2)
    assert order.state == State.REGISTERED and order.return_count == 1
    assert order.department is None
    order = act(users, order, "dispatcher", "dispatch", 2.5, department=department)
    order = act(users, order, "handler", "sign_for", 3)
    order = act(users, order, "depthead", "request_extension", 4, reason="需采购配件", hours=8)
    order = act(users, order, "supervisor", "approve_extension", 5)
    assert order.extension_hours == 8 and order.handle_due_at > first_due
    order = act(users, order, "handler", "feedback", 6, reason="已更换井盖", photos=[photo()])
    order = act(users, order, "dispatcher", "send_check", 6.5, assignee=users["gridworker"])
    order = act(users, order, "gridworker", "check", 7, passed=False, photos=[photo()])
    with pytest.raises(ValidationError):  # a failed check cannot be closed
        act(users, order, "supervisor", "close", 7.5)
    order = act(users, order, "supervisor", "rework", 7.5, reason="井盖仍有松动")
    assert order.state == State.IN_PROGRESS and order.rework_count == 1
    order = act(users, order, "handler", "feedback", 8, reason="已加固", photos=[photo()])
    order = act(users, order, "dispatcher", "send_check", 8.2, assignee=users["gridworker"])
    order = act(users, order, "gridworker", "check", 8.4, passed=True, photos=[photo()])
    order = act(users, order, "supervisor", "close", 8.6)
    assert order.state == State.CLOSED and order.phase_due_at is None
    with pytest.raises(PermissionDenied):  # only the reporter rates
        act(users, order, "worker", "rate", 9, rating=5)
    order = act(users, order, "resident", "rate", 9, rating=2, comment="修得太慢")
    order = act(users, order, "supervisor", "reopen", 10, reason="居民反映仍有异响")
    assert order.state == State.IN_PROGRESS and order.reopen_count == 1

    log = list(order.transitions.order_by("at", "id"))
    assert [t.action for t in log][:4] == ["report", "send_verify", "verify", "register"]
    assert len(log) == 22
    assert all(t.to_state for t in log) and log[-1].to_state == State.IN_PROGRESS
    assert {t.department_id for t in log if t.action == "request_return"} == {department.pk}
    feedbacks = [t for t in log if t.action == "feedback"]
    assert all("handle_late" in t.data for t in feedbacks)


def test_the_log_refuses_to_be_rewritten(new_order):
    order = new_order()
    step = order.transitions.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        Transition.objects.filter(pk=step.pk).update(reason="rewritten")


def test_two_dispatchers_at_once_exactly_one_wins(world, users, new_order):
    order = new_order()
    order_act(actor=users["supervisor"], order=order, action="register", now=at(1))
    first = WorkOrder.objects.get(pk=order.pk)
    second = WorkOrder.objects.get(pk=order.pk)
    order_act(
        actor=users["dispatcher"],
        order=first,
        action="dispatch",
        now=at(2),
        department=world.departments[0],
    )
    with pytest.raises(Conflict) as caught:
        order_act(
            actor=users["supervisor"],
            order=second,
            action="dispatch",
            now=at(2),
            department=world.departments[1],
        )
    assert "Reload" in str(caught.value) or "刷新" in str(caught.value)
    stored = WorkOrder.objects.get(pk=order.pk)
    assert stored.department == world.departments[0]
    assert stored.transitions.filter(action="dispatch").count() == 1


def test_roles_act_only_on_their_own_orders(world, users, new_order):
    order = new_order()
    with pytest.raises(PermissionDenied):  # the committee does not register for the street
        order_act(actor=users["worker"], order=order, action="register", now=at(1))
    order = order_act(actor=users["supervisor"], order=order, action="register", now=at(1))
    order = order_act(
        actor=users["dispatcher"],
        order=order,
        action="dispatch",
        now=at(2),
        department=world.departments[1],
    )
    with pytest.raises(PermissionDenied):  # addressed to another department
        order_act(actor=users["handler"], order=order, action="sign_for", now=at(3))
    with pytest.raises(ValidationError):  # not possible from this state
        order_act(actor=users["supervisor"], order=order, action="close", now=at(3))


def test_the_committee_settles_its_own_matters_and_escalates_the_rest(world, users, new_order):
    own = new_order(
        actor_key="resident", source=Source.RESIDENT, category=a_category(self_governable=True)
    )
    assert own.level == Level.COMMITTEE
    with pytest.raises(PermissionDenied):  # another committee's worker
        order_act(actor=users["stranger"], order=own, action="self_handle", now=at(1))
    own = order_act(actor=users["worker"], order=own, action="self_handle", now=at(1))
    assert own.state == State.RC_HANDLING and own.phase == "committee"
    own = order_act(
        actor=users["worker"],
        order=own,
        action="escalate",
        now=at(2),
        reason="调解不成，需城管执法",
    )
    assert (own.state, own.level) == (State.REPORTED, Level.STREET)
    other = new_order(actor_key="resident", source=Source.RESIDENT)
    with pytest.raises(ValidationError):  # a broken manhole is not for the committee
        order_act(actor=users["worker"], order=other, action="self_handle", now=at(1))


def _dispatched(world, users, new_order, when):
    order = new_order(when=when)
    order = order_act(actor=users["supervisor"], order=order, action="register", now=when)
    return order_act(
        actor=users["dispatcher"],
        order=order,
        action="dispatch",
        now=when + dt.timedelta(minutes=5),
        department=world.departments[0],
    )


def _return(users, order, when):
    return order_act(
        actor=users["handler"],
        order=order,
        action="request_return",
        now=when,
        reason="不属于本部门",
    )


MINUTE = dt.timedelta(minutes=1)


@pytest.mark.parametrize("signed", [False, True, "late"])
def test_a_return_is_possible_until_the_sign_for_deadline_plus_the_grace(
    world, users, new_order, settings, signed
):
    """T12: "only before the 签收 deadline plus X", X = LINLI_RETURN_GRACE_HOURS working hours,
    whether the department signed for it early, late or not at all."""
    settings.LINLI_RETURN_GRACE_HOURS = 2
    order = _dispatched(world, users, new_order, MONDAY)
    sign_due = order.phase_due_at
    assert order.phase == "sign" and sign_due == calendar.add_working_time(
        order.dispatched_at, *services.time_limit(order.category, order.urgency, "sign")
    )
    deadline = calendar.add_working_time(sign_due, 2, "hours")
    # Monday 09:35 + 2 working hours to sign for (11:35), + 2 more: 14:35 after the lunch hour.
    assert timezone.localtime(deadline).strftime("%a %H:%M") == "Mon 14:35"
    if signed:
        when = sign_due + MINUTE if signed == "late" else order.dispatched_at + MINUTE
        order = order_act(actor=users["handler"], order=order, action="sign_for", now=when)
        assert order.phase == "handle"
    assert services.return_due(order) == deadline
    with pytest.raises(ValidationError) as refused:
        _return(users, order, deadline)  # at the deadline: too late
    assert "14:35" in str(refused.value)
    order.refresh_from_db()
    order = _return(users, order, deadline - MINUTE)  # one minute before: accepted
    assert order.state == State.RETURN_REQUESTED


def test_the_return_window_is_the_logged_deadline_across_a_weekend(
    world, users, new_order, settings
):
    """Dispatched on Friday afternoon: the window runs over the weekend on the working calendar
    (16 working hours after the sign-for deadline), and a later change of the sign-for time
    limit does not move it (the deadline is read from the order's log)."""
    settings.LINLI_RETURN_GRACE_HOURS = 16
    friday = MONDAY + dt.timedelta(days=4, hours=5)  # Friday 14:30
    order = _dispatched(world, users, new_order, friday)
    sign_due = order.phase_due_at
    assert timezone.localtime(sign_due).strftime("%a %H:%M") == "Fri 16:35"
    order = order_act(
        actor=users["handler"], order=order, action="sign_for", now=friday + dt.timedelta(hours=1)
    )
    TimeLimit.objects.filter(phase="sign").update(amount=10)
    deadline = services.return_due(order)
    # Friday 16:35 + 25 working minutes, Monday 7 h, Tuesday 7 h, Wednesday 09:00 + 95 minutes.
    assert timezone.localtime(deadline).strftime("%a %d %H:%M") == "Wed 18 10:35"
    with pytest.raises(ValidationError):
        _return(users, order, deadline)
    order.refresh_from_db()
    assert _return(users, order, deadline - MINUTE).state == State.RETURN_REQUESTED


def test_a_new_dispatch_opens_a_new_return_window(world, users, new_order, settings):
    settings.LINLI_RETURN_GRACE_HOURS = 2
    order = _dispatched(world, users, new_order, MONDAY)
    order = _return(users, order, MONDAY + dt.timedelta(hours=1))
    # Refused from DISPATCHED: in progress without a sign-for step; the first window still holds.
    order = order_act(
        actor=users["supervisor"],
        order=order,
        action="refuse_return",
        now=MONDAY + dt.timedelta(hours=1.5),
        reason="属于贵单位职责",
    )
    first = services.return_due(order)
    assert first == calendar.add_working_time(
        calendar.add_working_time(order.dispatched_at, 2, "hours"), 2, "hours"
    )
    order = _return(users, order, first - MINUTE)
    order = order_act(actor=users["dispatcher"], order=order, action="approve_return", now=first)
    assert services.return_due(order) is None  # not dispatched
    again = first + dt.timedelta(days=1)  # Tuesday 14:35
    order = order_act(
        actor=users["dispatcher"],
        order=order,
        action="dispatch",
        now=again,
        department=world.departments[0],
    )
    order = order_act(actor=users["handler"], order=order, action="sign_for", now=again)
    second = services.return_due(order)
    assert second == calendar.add_working_time(
        calendar.add_working_time(again, 2, "hours"), 2, "hours"
    )
    with pytest.raises(ValidationError):
        _return(users, order, second)
    order.refresh_from_db()
    assert _return(users, order, second - MINUTE).state == State.RETURN_REQUESTED


def test_a_duplicate_is_rejected_with_a_link(world, users, new_order):
    first = new_order()
    second = new_order(when=at(1))
    with pytest.raises(ValidationError):
        order_act(
            actor=users["dispatcher"],
            order=second,
            action="reject",
            now=at(2),
            reason="重复",
            reject_reason="duplicate",
        )
    second = order_act(
        actor=users["dispatcher"],
        order=second,
        action="reject",
        now=at(2),
        reason="重复上报",
        reject_reason="duplicate",
        duplicate_of=first,
    )
    assert second.state == State.REJECTED and second.duplicate_of == first


def test_a_reopened_committee_matter_goes_back_to_the_committee(users, new_order):
    order = new_order(
        actor_key="resident", source=Source.RESIDENT, category=a_category(self_governable=True)
    )
    order = order_act(actor=users["worker"], order=order, action="self_handle", now=at(1))
    order = order_act(
        actor=users["worker"],
        order=order,
        action="rc_close",
        now=at(2),
        reason="已调解",
        photos=[photo()],
    )
    order = order_act(actor=users["resident"], order=order, action="rate", now=at(3), rating=1)
    with pytest.raises(PermissionDenied):  # the street decides a reopening
        order_act(actor=users["worker"], order=order, action="reopen", now=at(4), reason="没解决")
    order = order_act(
        actor=users["supervisor"],
        order=order,
        action="reopen",
        now=at(4),
        reason="居民反映仍未解决",
    )
    assert order.state == State.RC_HANDLING and order.phase == "committee"
    assert order.phase_due_at > at(4)


def _closed(world, users, new_order, **fields):
    order = new_order(**fields)
    steps = [
        ("supervisor", "register", {}),
        ("dispatcher", "dispatch", {"department": world.departments[0]}),
        ("handler", "sign_for", {}),
        ("handler", "feedback", {"reason": "已修复", "photos": [photo()]}),
        ("dispatcher", "send_check", {"assignee": users["gridworker"]}),
        ("gridworker", "check", {"passed": True, "photos": [photo()]}),
        ("supervisor", "close", {}),
    ]
    for n, (key, action, params) in enumerate(steps):
        order = order_act(actor=users[key], order=order, action=action, now=at(n + 1), **params)
    return order


def test_ratings_close_with_the_window_and_a_reopening_gets_fresh_time(world, users, new_order):
    late = _closed(world, users, new_order)
    with pytest.raises(ValidationError):
        order_act(
            actor=users["dispatcher"], order=late, action="rate", now=at(7 + 24 * 30), rating=5
        )
    order = _closed(world, users, new_order)
    order = order_act(actor=users["dispatcher"], order=order, action="rate", now=at(9), rating=1)
    reopened = at(24 * 20)  # long after the first handling deadline
    order = order_act(
        actor=users["supervisor"],
        order=order,
        action="reopen",
        now=reopened,
        reason="居民反映仍未修好",
    )
    assert order.state == State.IN_PROGRESS and order.phase_due_at > reopened
    with pytest.raises(ValidationError):  # archived only by the timer after the window
        order_act(
            actor=users["supervisor"],
            order=_closed(world, users, new_order),
            action="archive",
            now=at(8),
        )


def test_a_summons_is_asked_once_and_its_dispatch_restarts_the_clock(world, users, new_order):
    order = new_order()
    order = order_act(actor=users["supervisor"], order=order, action="register", now=at(0.5))
    order = order_act(
        actor=users["dispatcher"],
        order=order,
        action="dispatch",
        now=at(1),
        department=world.departments[0],
        co_departments=[world.departments[1]],
    )
    order = order_act(
        actor=users["worker"],
        order=order,
        action="request_summons",
        now=at(2),
        reason="涉及多个部门",
    )
    with pytest.raises(ValidationError):
        order_act(
            actor=users["worker"],
            order=order,
            action="request_summons",
            now=at(3),
            reason="再次约请",
        )
    decided = at(24 * 3)
    order = order_act(
        actor=users["supervisor"],
        order=order,
        action="decide_summons",
        now=decided,
        reason="约请会议明确由房管办牵头",
        department=world.departments[0],
    )
    assert order.state == State.DISPATCHED and order.phase_due_at > decided
    assert order.summonses.filter(decided_at__isnull=False).count() == 1


def test_the_committee_closes_its_own_matter_with_a_result_and_a_photo(users, new_order):
    """T3: result and photo required (an errand's result is a paper: no photo needed there)."""
    own = new_order(
        actor_key="resident", source=Source.RESIDENT, category=a_category(self_governable=True)
    )
    own = act(users, own, "worker", "self_handle", 1)
    with pytest.raises(ValidationError) as refused:
        act(users, own, "worker", "rc_close", 2, reason="已调解")
    assert "photos" in refused.value.message_dict
    own = act(users, own, "worker", "rc_close", 2, reason="已调解", photos=[photo()])
    assert own.state == State.CLOSED
    assert own.attachments.filter(transition__action="rc_close").count() == 1


def test_the_district_may_take_an_order_over(world, users, new_order):
    """T18: 提级 by the street's supervisor or by the district platform itself."""
    order = act(users, new_order(), "supervisor", "register", 0.5)
    order = act(users, order, "bureau", "escalate_district", 1, reason="多次督办未果，区级协调")
    assert order.escalated and order.level == Level.DISTRICT
    order = act(users, order, "bureau", "dispatch", 2, department=world.departments[0])
    assert order.state == State.DISPATCHED
    with pytest.raises(PermissionDenied):  # the district may, the street's dispatcher not
        act(users, new_order(), "dispatcher", "escalate_district", 3, reason="区级协调")
