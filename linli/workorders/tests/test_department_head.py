"""T13 延期 is the department head's (WORKORDERS.md §5.2: DEPT (DM)); handlers do the rest."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from linli.accounts.roles import ROLE_PERMS, ROLE_PLACE_KINDS, Role
from linli.accounts.services import role_assign, user_create
from linli.conftest import PASSWORD
from linli.workorders import perms, services
from linli.workorders.choices import State
from linli.workorders.machine import ACTIONS
from linli.workorders.services import order_act
from linli.workorders.tests.conftest import a_report, photo

pytestmark = pytest.mark.django_db

API = "/api/v1/workorders/orders"
JSON = "application/json"
EXTENSION = {"reason": "需采购配件", "hours": 8}


@pytest.fixture
def order(world, users):
    """Reported a few minutes ago, dispatched to department 0 (department 1 helps), signed for."""
    report = a_report(world, when=timezone.now() - dt.timedelta(minutes=5))
    order = services.order_report(actor=users["gridworker"], report=report)
    order = order_act(actor=users["supervisor"], order=order, action="register")
    order = order_act(
        actor=users["dispatcher"],
        order=order,
        action="dispatch",
        department=world.departments[0],
        co_departments=[world.departments[1]],
    )
    return order_act(actor=users["handler"], order=order, action="sign_for")


@pytest.fixture
def other_head(world, users):
    """The head of department 1: a co-department of `order`, not its lead."""
    user = user_create(actor=None, username="depthead2", password=PASSWORD, display_name="孙科长")
    role_assign(
        actor=None,
        user=user,
        role=Role.DEPARTMENT_HEAD,
        place=world.street,
        department=world.departments[1],
    )
    users["depthead2"] = user
    return user


def state_of(order) -> str:
    order.refresh_from_db()
    return order.state


def page_url(order):
    return reverse("workorders:order", args=[order.pk])


def act_url(order, action="request_extension"):
    return reverse("workorders:act", args=[order.pk, action])


def offered(client, order) -> set[str]:
    return {a["action"].code for a in client.get(page_url(order)).context["actions"]}


def api_extend(client, order):
    return client.post(f"{API}/{order.pk}/actions/request_extension", EXTENSION, content_type=JSON)


def api_actions(client, order) -> set[str]:
    return {a["code"] for a in client.get(f"{API}/{order.pk}").json()["actions"]}


def test_the_head_holds_everything_a_handler_does_and_the_extension():
    handler, head = ROLE_PERMS[Role.DEPARTMENT_HANDLER], ROLE_PERMS[Role.DEPARTMENT_HEAD]
    assert head == handler | {perms.REQUEST_EXTENSION}
    assert perms.REQUEST_EXTENSION not in handler
    assert ROLE_PLACE_KINDS[Role.DEPARTMENT_HEAD] == ROLE_PLACE_KINDS[Role.DEPARTMENT_HANDLER]
    spec = ACTIONS["request_extension"]
    assert spec.perm == perms.REQUEST_EXTENSION and spec.department_only
    # Every other department action stays the handlers' (and so the heads').
    others = [a for a in ACTIONS.values() if a.department_only and a is not spec]
    assert {a.code for a in others} == {"sign_for", "request_return", "request_suspension",
                                        "feedback"}  # fmt: skip
    assert all(a.perm == perms.HANDLE_DEPARTMENT for a in others)


def test_a_handler_may_not_ask_for_more_time_the_head_may(world, users, order):
    with pytest.raises(PermissionDenied) as refused:
        order_act(actor=users["handler"], order=order, action="request_extension", **EXTENSION)
    assert str(refused.value) == str(services.EXTENSION_HEAD_ONLY)
    order.refresh_from_db()
    assert order.state == State.IN_PROGRESS and not order.transitions.filter(
        action="request_extension"
    )
    order = order_act(actor=users["depthead"], order=order, action="request_extension", **EXTENSION)
    assert order.state == State.EXTENSION_REQUESTED and order.pending["hours"] == 8
    step = order.transitions.get(action="request_extension")
    assert step.actor == users["depthead"] and step.role == Role.DEPARTMENT_HEAD
    assert step.department == world.departments[0]
    order = order_act(actor=users["supervisor"], order=order, action="approve_extension")
    # The handler still reports it handled; the head may do a handler's work as well.
    order = order_act(
        actor=users["depthead"], order=order, action="feedback", reason="已更换", photos=[photo()]
    )
    assert order.state == State.FEEDBACK and order.extension_hours == 8


def test_the_head_may_sign_for_and_return_like_a_handler(world, users):
    report = a_report(world, when=timezone.now() - dt.timedelta(minutes=5))
    order = services.order_report(actor=users["gridworker"], report=report)
    order = order_act(actor=users["supervisor"], order=order, action="register")
    order = order_act(
        actor=users["dispatcher"], order=order, action="dispatch", department=world.departments[0]
    )
    order = order_act(actor=users["depthead"], order=order, action="sign_for")
    order = order_act(
        actor=users["depthead"], order=order, action="request_return", reason="非本部门职责"
    )
    assert order.state == State.RETURN_REQUESTED


def test_the_head_of_another_department_may_not(world, users, order, other_head, client_as):
    # A co-department's head sees the order but may not ask for the lead department's time.
    assert not services.can_act(other_head, order, ACTIONS["request_extension"])
    with pytest.raises(PermissionDenied) as refused:
        order_act(actor=other_head, order=order, action="request_extension", **EXTENSION)
    assert str(refused.value) == ""  # not the lead department: no head-only hint
    client = client_as("depthead2")
    assert "request_extension" not in offered(client, order)
    assert client.post(act_url(order), {"version": order.version, **EXTENSION}).status_code == 403
    response = api_extend(client, order)
    assert response.status_code == 403
    # An order that is not addressed to department 1 at all: 404, as for any other action.
    order.co_departments.clear()
    assert client.get(page_url(order)).status_code == 404
    assert client.post(act_url(order), {"version": order.version, **EXTENSION}).status_code == 404
    response = api_extend(client, order)
    assert response.status_code == 404
    assert state_of(order) == State.IN_PROGRESS


def test_the_order_page_offers_the_form_only_to_the_head(users, order, client_as):
    handler = client_as("handler")
    assert "request_extension" not in offered(handler, order)
    assert {"feedback", "request_return", "request_suspension"} <= offered(handler, order)
    response = handler.post(act_url(order), {"version": order.version, **EXTENSION})
    assert response.status_code == 403
    assert response.context["denied"] == str(services.EXTENSION_HEAD_ONLY)
    assert "data-denied" in response.content.decode()
    assert state_of(order) == State.IN_PROGRESS

    head = client_as("depthead")
    page = head.get(page_url(order))
    assert 'id="act-request_extension"' in page.content.decode()
    assert {"request_extension", "feedback"} <= offered(head, order)
    response = head.post(act_url(order), {"version": order.version, **EXTENSION})
    assert response.status_code == 302
    assert state_of(order) == State.EXTENSION_REQUESTED


def test_the_api_lists_and_runs_the_extension_only_for_the_head(users, order, client_as):
    handler = client_as("handler")
    assert "request_extension" not in api_actions(handler, order)
    assert "feedback" in api_actions(handler, order)
    response = api_extend(handler, order)
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "forbidden" and error["message"] == str(services.EXTENSION_HEAD_ONLY)

    head = client_as("depthead")
    assert {"request_extension", "feedback"} <= api_actions(head, order)
    response = api_extend(head, order)
    assert response.status_code == 200, response.content
    assert response.json()["state"] == State.EXTENSION_REQUESTED


def test_the_head_works_from_the_department_inbox(users, order, client_as):
    inbox = client_as("depthead").get(reverse("workorders:department_inbox"))
    assert inbox.status_code == 200
    assert order.pk in [row.pk for row in inbox.context["page"].rows]


@pytest.mark.parametrize("role", [Role.DEPARTMENT_HANDLER, Role.DEPARTMENT_HEAD])
def test_a_department_role_needs_a_department_of_its_street(world, users, role):
    from django.core.exceptions import ValidationError

    from linli.accounts.services import role_assign

    with pytest.raises(ValidationError) as caught:
        role_assign(actor=None, user=users["worker"], role=role, place=world.street)
    assert "department" in caught.value.error_dict
