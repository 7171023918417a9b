import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from linli.people.tests.factories import a_household, a_resident
from linli.workorders.choices import Level, State
from linli.workorders.models import ServiceItem, WorkOrder
from linli.workorders.services import errand_create, order_act, orders_tick
from linli.workorders.tests.conftest import MONDAY

pytestmark = pytest.mark.django_db


def test_yellow_then_red_then_archived(world, users, new_order):
    order = new_order()
    assert order.phase == "register" and order.phase_warn_at < order.phase_due_at
    before_warn = order.phase_warn_at - dt.timedelta(minutes=1)
    assert orders_tick(now=before_warn) == {"reminded": 0, "supervised": 0, "archived": 0}
    assert orders_tick(now=order.phase_warn_at)["reminded"] == 1
    assert orders_tick(now=order.phase_warn_at)["reminded"] == 0  # once per phase
    late = order.phase_due_at + dt.timedelta(minutes=1)
    assert orders_tick(now=late)["supervised"] == 1
    order.refresh_from_db()
    log = list(order.transitions.values_list("action", flat=True))
    assert log == ["report", "remind", "supervise"]
    supervise = order.transitions.get(action="supervise")
    assert supervise.data["late"] is True and supervise.actor is None
    # A rejected order is archived once the rating window has passed.
    order_act(
        actor=users["dispatcher"],
        order=order,
        action="reject",
        now=late,
        reason="不属实",
        reject_reason="untrue",
    )
    assert orders_tick(now=late + dt.timedelta(days=8))["archived"] == 1
    order.refresh_from_db()
    assert order.state == State.ARCHIVED


def test_an_errand_is_a_committee_order_with_its_own_time_limit(world, users):
    item = ServiceItem.objects.create(
        street=world.street, code="YL01", name="养老金资格认证", limit_days=3
    )
    resident = a_resident(a_household(world.committees[0]))
    with pytest.raises(PermissionDenied):
        errand_create(
            actor=users["stranger"],
            service_item=item,
            beneficiary=resident,
            description="老人行动不便，代办养老金资格认证",
        )
    with pytest.raises(ValidationError):
        errand_create(actor=users["worker"], service_item=item, beneficiary=None, description="x")
    order = errand_create(
        actor=users["worker"],
        service_item=item,
        beneficiary=resident,
        description="老人行动不便，代办养老金资格认证",
        when=MONDAY,
    )
    assert (order.state, order.level, order.kind) == (State.RC_HANDLING, Level.COMMITTEE, "errand")
    # Three working days from Monday morning: due at the close of Thursday.
    assert order.phase_due_at.date() == dt.date(2026, 3, 12)
    order = order_act(
        actor=users["worker"],
        order=order,
        action="rc_close",
        now=MONDAY + dt.timedelta(days=1),
        reason="已办结，认证通过",
    )
    order = order_act(
        actor=users["worker"],
        order=order,
        action="rate",
        now=MONDAY + dt.timedelta(days=2),
        rating=5,
    )
    assert order.state == State.RATED
    assert order.transitions.get(action="rate").data["by_phone"] is True
    assert WorkOrder.objects.get(pk=order.pk).beneficiary == resident
