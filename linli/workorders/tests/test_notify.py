"""Reporters are told what came of their reports (WORKORDERS.md §5.2 T7; issue 4 item 6)."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from linli.notices.choices import NotificationKind
from linli.notices.models import Notification
from linli.workorders.choices import RejectReason, Source, State
from linli.workorders.services import order_act
from linli.workorders.tests.conftest import MONDAY, a_category, photo

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
RESULT = "已更换井盖并加固"


def at(hours: float) -> dt.datetime:
    return MONDAY + dt.timedelta(hours=hours)


def act(users, order, key, action, when, **params):
    return order_act(actor=users[key], order=order, action=action, now=at(when), **params)


def notes(user=None):
    rows = Notification.objects.order_by("id")
    return list(rows.filter(user=user) if user is not None else rows)


def page(order) -> str:
    return reverse("workorders:order", args=[order.pk])


def text(note) -> str:
    return f"{note.title} {note.body}"


def resident_order(new_order, when=MONDAY):
    return new_order(actor_key="resident", source=Source.RESIDENT, reporter_phone=PHONE, when=when)


def walk_to_checked(world, users, order, start=0.0):
    """Verify, register, dispatch, sign for, report handled, send for check, pass the check."""
    order = act(
        users, order, "dispatcher", "send_verify", start + 0.1, assignee=users["gridworker"]
    )
    order = act(users, order, "gridworker", "verify", start + 0.2, photos=[photo()])
    order = act(users, order, "supervisor", "register", start + 0.3)
    order = act(
        users, order, "dispatcher", "dispatch", start + 0.4, department=world.departments[0]
    )
    order = act(users, order, "handler", "sign_for", start + 0.5)
    order = act(users, order, "handler", "feedback", start + 1, reason=RESULT, photos=[photo()])
    order = act(users, order, "dispatcher", "send_check", start + 1.1, assignee=users["gridworker"])
    return act(users, order, "gridworker", "check", start + 1.2, passed=True, photos=[photo()])


def assert_private(note, *users):
    """No phone (whole or masked), no account name, no display name of anyone else."""
    body = text(note)
    assert PHONE not in body and PHONE[-4:] not in body
    for user in users:
        assert user.get_username() not in body
        assert not user.display_name or user.display_name not in body


def test_a_rejection_tells_the_reporter_why(users, new_order):
    order = resident_order(new_order)
    assert notes() == []  # reporting itself says nothing
    order = act(
        users,
        order,
        "dispatcher",
        "reject",
        1,
        reason="现场核实无此问题",
        reject_reason=RejectReason.UNTRUE,
    )
    [note] = notes()
    assert note.user == users["resident"]
    assert note.kind == NotificationKind.WORK_ORDER
    assert note.url == reverse("workorders:order", args=[order.pk]) == f"/orders/{order.pk}/"
    assert f"#{order.pk}" in note.title
    with translation.override("zh-hans"):
        assert str(RejectReason.UNTRUE.label) in note.body
    assert "现场核实无此问题" in note.body
    assert_private(note, users["dispatcher"])


def test_the_text_is_in_the_site_language_not_the_workers(users, new_order, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    order = resident_order(new_order)
    with translation.override("en"):  # a dispatcher using the English interface
        act(users, order, "dispatcher", "reject", 1, reason="不属实", reject_reason="untrue")
    [note] = notes()
    with translation.override("zh-hans"):
        label = str(RejectReason.UNTRUE.label)
    assert label != "Not true on site" and label in note.body


def test_a_merge_tells_the_duplicate_reporter_and_the_outcome_reaches_everyone(
    world, users, new_order
):
    original = resident_order(new_order)
    duplicate = new_order(actor_key="property", source=Source.PROPERTY, when=at(0.05))
    by_phone = new_order(  # a 12345 caller: no account, nobody to notify in the app
        actor_key="dispatcher", source=Source.HOTLINE, when=at(0.06), reporter_phone=PHONE
    )
    act(
        users,
        by_phone,
        "dispatcher",
        "reject",
        0.07,
        reason="同一井盖",
        reject_reason=RejectReason.DUPLICATE,
        duplicate_of=original,
    )
    duplicate = act(
        users,
        duplicate,
        "dispatcher",
        "reject",
        0.08,
        reason="同一井盖",
        reject_reason=RejectReason.DUPLICATE,
        duplicate_of=by_phone,  # merged into a merged one: still told the outcome
    )
    [merged] = notes()
    assert merged.user == users["property"]
    assert f"#{duplicate.pk}" in merged.title and f"#{by_phone.pk}" in merged.title
    assert merged.url == page(duplicate)
    assert_private(merged, users["resident"], users["dispatcher"])

    original = walk_to_checked(world, users, original)
    assert len(notes()) == 1  # the steps in between say nothing
    original = act(users, original, "supervisor", "close", 2)
    assert original.state == State.CLOSED
    mine = notes(users["resident"])
    theirs = notes(users["property"])[1:]
    assert len(mine) == 1 and len(theirs) == 1 and len(notes()) == 3
    assert RESULT in mine[0].body and mine[0].url == page(original)
    assert theirs[0].url == page(duplicate)
    assert f"#{original.pk}" in theirs[0].body and "2026-03-09" in theirs[0].body
    # Somebody else's report: the reporter of the duplicate learns that it is fixed and when,
    # not what the other report's result text says, nor who reported it.
    assert RESULT not in text(theirs[0])
    assert_private(theirs[0], users["resident"], users["supervisor"], users["handler"])
    assert_private(mine[0], users["property"], users["supervisor"], users["handler"])


def test_rejecting_the_original_tells_the_merged_reporters_too(users, new_order):
    original = resident_order(new_order)
    duplicate = new_order(actor_key="property", source=Source.PROPERTY, when=at(0.05))
    act(users, duplicate, "dispatcher", "reject", 0.1, reason="重复", reject_reason="duplicate",
        duplicate_of=original)  # fmt: skip
    act(users, original, "dispatcher", "reject", 1, reason="王先生家门口已修好",
        reject_reason="untrue")  # fmt: skip
    [_merged, rejected] = notes(users["property"])
    assert f"#{original.pk}" in rejected.body
    assert "王先生" not in text(rejected)  # the original's free-text reason stays there
    [own] = notes(users["resident"])
    assert "王先生家门口已修好" in own.body


def test_a_committee_settlement_is_an_outcome_too(users, new_order):
    order = new_order(
        actor_key="resident", source=Source.RESIDENT, category=a_category(self_governable=True)
    )
    order = act(users, order, "worker", "self_handle", 0.5)
    act(users, order, "worker", "rc_close", 3, reason="已清理楼道堆物", photos=[photo()])
    [note] = notes(users["resident"])
    assert "已清理楼道堆物" in note.body and f"#{order.pk}" in note.title


def test_a_reopening_is_told_and_a_failed_step_tells_nothing(world, users, new_order):
    order = walk_to_checked(world, users, resident_order(new_order))
    order = act(users, order, "gridworker", "check", 1.3, passed=False, photos=[photo()])
    with pytest.raises(ValidationError):  # a failed check cannot be closed
        act(users, order, "supervisor", "close", 1.4)
    assert notes() == []
    order = act(users, order, "supervisor", "rework", 1.5, reason="仍有松动")
    assert notes() == []  # rework is between the grid centre and the department
    order = act(users, order, "handler", "feedback", 2, reason=RESULT, photos=[photo()])
    order = act(users, order, "dispatcher", "send_check", 2.1, assignee=users["gridworker"])
    order = act(users, order, "gridworker", "check", 2.2, passed=True, photos=[photo()])
    order = act(users, order, "supervisor", "close", 2.3)
    order = act(users, order, "resident", "rate", 3, rating=1)
    assert len(notes()) == 1  # the close; rating is the reporter's own step
    order = act(users, order, "supervisor", "reopen", 4, reason="居民反映仍有异响，重办")
    assert order.state == State.IN_PROGRESS
    reopened = notes()[-1]
    assert reopened.user == users["resident"] and f"#{order.pk}" in reopened.title
    assert "居民反映仍有异响" in reopened.body and len(notes()) == 2


def test_orders_without_a_reporting_account_notify_nobody(world, users, new_order):
    patrol = new_order()  # a grid worker's own find: the worker is not its "reporter"
    act(users, patrol, "dispatcher", "reject", 1, reason="不属实", reject_reason="untrue")
    hotline = new_order(actor_key="dispatcher", source=Source.HOTLINE, reporter_phone=PHONE)
    act(users, hotline, "dispatcher", "reject", 1, reason="不属实", reject_reason="untrue")
    assert notes() == []


def test_an_inactive_reporter_is_not_notified(users, new_order):
    order = resident_order(new_order)
    users["resident"].is_active = False
    users["resident"].save(update_fields=["is_active"])
    order.refresh_from_db()
    act(users, order, "dispatcher", "reject", 1, reason="不属实", reject_reason="untrue")
    assert notes() == []
