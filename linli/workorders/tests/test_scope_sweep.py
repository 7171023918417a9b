"""Every work-order and Open311 URL, and the orders API, visited with a real order by people of
another committee, another street, another department and another grid: views about the order
answer 404 (exactly like a missing one), lists and boards do not show it, and nobody's POST
moves it. The project-wide sweep (linli/tests/test_url_sweep.py) fills parameters with ids that
name no order; this one uses real ids, so a view that forgot its scope fails here."""

import datetime as dt
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from linli.accounts.roles import Role
from linli.accounts.services import role_assign, user_create
from linli.conftest import PASSWORD
from linli.places.choices import DepartmentKind, PlaceKind
from linli.places.services import department_create, grid_create, place_create
from linli.workorders import hotline_views
from linli.workorders.choices import Source, State
from linli.workorders.models import WorkOrder
from linli.workorders.services import order_act, order_report
from linli.workorders.tests.conftest import a_report, photo

pytestmark = pytest.mark.django_db

API = "/api/v1/workorders"
OUTSIDERS = (
    "stranger",
    "far_dispatcher",
    "far_supervisor",
    "far_handler",
    "handler2",
    "grid2",
    "grid_near",
)


def _workorder_patterns(patterns, namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _workorder_patterns(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and namespace == "workorders:" and entry.name:
            yield f"{namespace}{entry.name}", entry


@pytest.fixture
def outsiders(world, users):
    """People who must learn nothing of an order of committee A, compound 0, department 0."""
    far = place_create(actor=None, kind=PlaceKind.STREET, name="远方街道", parent=world.district)
    far_compound = place_create(
        actor=None,
        kind=PlaceKind.COMPOUND,
        name="远方小区",
        parent=place_create(actor=None, kind=PlaceKind.COMMITTEE, name="远方居委", parent=far),
    )
    far_grid = grid_create(
        actor=None, street=far, code="far-01", name="远方网格", compounds=[far_compound]
    )
    far_department = department_create(
        actor=None, name="远方房管办", kind=DepartmentKind.HOUSING_OFFICE, area=far
    )
    near_grid = next(g for g in world.grids if not g.compounds.filter(pk=world.compounds[0].pk))

    def person(key, role, place, **extra):
        user = user_create(actor=None, username=key, password=PASSWORD, display_name=key)
        role_assign(actor=None, user=user, role=role, place=place, **extra)
        users[key] = user
        return user

    person("far_dispatcher", Role.GRID_DISPATCHER, far)
    person("far_supervisor", Role.GRID_SUPERVISOR, far)
    person("far_handler", Role.DEPARTMENT_HANDLER, far, department=far_department)
    person("grid2", Role.GRID_WORKER, far, grid=far_grid)
    person("handler2", Role.DEPARTMENT_HANDLER, world.street, department=world.departments[1])
    person("grid_near", Role.GRID_WORKER, world.street, grid=near_grid)
    return far


@pytest.fixture
def order(world, users):
    """A resident's report with a photo, dispatched to department 0 and signed for."""
    order = order_report(
        actor=users["resident"],
        report=a_report(
            world,
            source=Source.RESIDENT,
            when=timezone.now() - dt.timedelta(minutes=30),
            reporter_phone="13812345678",
        ),
    )
    for key, action, params in (
        ("dispatcher", "send_verify", {"assignee": users["gridworker"]}),
        ("gridworker", "verify", {"photos": [photo()]}),
        ("supervisor", "register", {}),
        ("dispatcher", "dispatch", {"department": world.departments[0]}),
        ("handler", "sign_for", {}),
    ):
        order = order_act(actor=users[key], order=order, action=action, **params)
    return order


@pytest.fixture
def hotline_token(world, users):
    """A checked 12345 upload of the street's dispatcher (the token of the report pages)."""
    from django.core.cache import cache

    token = "sweep-token"
    cache.set(
        hotline_views._key(token),
        {
            "user": users["dispatcher"].pk,
            "street": world.street.pk,
            "file_name": "12345.csv",
            "cipher": "",
            "report": {"rows": 1, "errors": 0, "bad_rows": []},
        },
        hotline_views.UPLOAD_TTL,
    )
    yield token
    cache.delete(hotline_views._key(token))


def _params(world, order, token) -> dict:
    return {
        "pk": order.pk,
        "attachment_id": order.attachments.order_by("id").first().pk,
        "action": "feedback",
        "token": token,
    }


def _street_params(world) -> dict:
    # The routing pages take the street.
    return {"pk": world.street.pk}


STREET_VIEWS = {"workorders:routing", "workorders:service_items"}


def _reveals(text: str, order: WorkOrder) -> bool:
    return bool(
        re.search(rf'data-order="{order.pk}"', text)
        or reverse("workorders:order", args=[order.pk]) in text
        or re.search(rf'"id":\s*{order.pk}\b', text)
    )


@pytest.mark.parametrize("key", OUTSIDERS)
def test_every_workorder_url_is_404_or_silent_for_an_outsider(
    world, users, client_as, outsiders, order, hotline_token, key
):
    client = client_as(key)
    params = _params(world, order, hotline_token)
    checked = 0
    for name, pattern in _workorder_patterns(get_resolver().url_patterns):
        keys = list(pattern.pattern.regex.groupindex)
        values = _street_params(world) if name in STREET_VIEWS else params
        missing = [k for k in keys if k not in values]
        assert not missing, f"{name}: teach this sweep how to fill {missing}"
        url = reverse(name, kwargs={k: values[k] for k in keys})
        for method in ("get", "post"):
            response = getattr(client, method)(url, {"version": order.version})
            if response.status_code == 405 and method.upper() not in response["Allow"]:
                continue  # refused before any lookup: says nothing
            if keys:
                assert response.status_code == 404, (key, method, name, response.status_code)
            else:
                assert response.status_code in (200, 302, 404, 405), (key, name, method)
                text = response.content.decode("utf-8", "replace")
                assert not _reveals(text, order), (key, method, name)
            checked += 1
    assert checked > 40
    assert WorkOrder.objects.get(pk=order.pk).state == State.IN_PROGRESS


@pytest.mark.parametrize("key", OUTSIDERS)
def test_the_orders_api_is_404_or_silent_for_an_outsider(
    world, users, client_as, outsiders, order, key
):
    client = client_as(key)
    assert client.get(f"{API}/orders/{order.pk}").status_code == 404
    listed = client.get(f"{API}/orders").json()
    assert order.pk not in [o["id"] for o in listed["results"]]
    for action in ("feedback", "request_return", "supervise", "rate", "request_summons"):
        response = client.post(
            f"{API}/orders/{order.pk}/actions/{action}",
            {"reason": "外人操作", "version": order.version},
            content_type="application/json",
        )
        assert response.status_code == 404, (key, action, response.status_code)
    assert WorkOrder.objects.get(pk=order.pk).state == State.IN_PROGRESS


def test_the_sweep_premise_insiders_see_the_order(world, users, client_as, outsiders, order):
    for key in ("worker", "dispatcher", "handler", "gridworker", "resident"):
        assert client_as(key).get(reverse("workorders:order", args=[order.pk])).status_code == 200
        assert client_as(key).get(f"{API}/orders/{order.pk}").status_code == 200
