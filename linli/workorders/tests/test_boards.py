import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from linli.accounts.roles import Role
from linli.accounts.services import role_assign, user_create
from linli.places.choices import PlaceKind
from linli.places.services import place_create
from linli.workorders import board_selectors
from linli.workorders.choices import Kind, Level, Source, State
from linli.workorders.models import RoutingRule, Transition, WorkOrder
from linli.workorders.services import order_act, order_report
from linli.workorders.tests.conftest import a_category, a_report, photo

pytestmark = pytest.mark.django_db

INBOX = reverse("workorders:inbox")
TASKS = reverse("workorders:tasks")
CONSOLE = reverse("workorders:console")
BULK = reverse("workorders:console_bulk")
DEPARTMENT = reverse("workorders:department_inbox")
SIGN = reverse("workorders:department_sign")
OVERDUE = reverse("workorders:overdue")
OVERDUE_ACT = reverse("workorders:overdue_act")
DISTRICT = reverse("workorders:district")
MAP = reverse("workorders:map")
MAP_DATA = reverse("workorders:map_data")


def now():
    return timezone.now()


@pytest.fixture
def fresh(world, users):
    """An order reported a few minutes ago (the boards read the real time)."""

    def make(actor_key="gridworker", **fields):
        fields.setdefault("when", now() - dt.timedelta(minutes=5))
        return order_report(
            actor=users[actor_key] if actor_key else None, report=a_report(world, **fields)
        )

    return make


def registered(users, order):
    return order_act(actor=users["supervisor"], order=order, action="register")


def dispatched(world, users, order, department=None, co=()):
    return order_act(
        actor=users["dispatcher"],
        order=registered(users, order),
        action="dispatch",
        department=department or world.departments[0],
        co_departments=list(co),
    )


def many(world, n, *, place=None, state=State.REPORTED, **fields):
    """n plain order rows at once (for query budgets and paging; no log needed there)."""
    place = place or world.compounds[0]
    at = now() - dt.timedelta(hours=1)
    values = {
        "source": Source.PATROL,
        "level": Level.STREET,
        "state": state,
        "category": a_category(),
        "description": "楼道堆物",
        "place": place,
        "path": place.path,
        "street": world.street,
        "grid": world.grids[0],
        "phase": "register",
        "phase_started_at": at,
        "phase_warn_at": at + dt.timedelta(hours=30),
        "phase_due_at": at + dt.timedelta(hours=40),
        "created_at": at,
        "updated_at": at,
    }
    values.update(fields)
    return WorkOrder.objects.bulk_create([WorkOrder(**values) for _ in range(n)])


def shown(response) -> set[int]:
    """Order ids a board page lists (each row carries data-order)."""
    import re

    return {int(pk) for pk in re.findall(r'data-order="(\d+)"', response.content.decode())}


def notes(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- who may open which board -----------------------------------------------------------------

BOARDS = [
    (INBOX, "worker", ["dispatcher", "gridworker", "handler", "resident"]),
    (TASKS, "gridworker", ["worker", "dispatcher", "resident"]),
    (CONSOLE, "dispatcher", ["worker", "stranger", "handler", "gridworker", "resident"]),
    (DEPARTMENT, "handler", ["worker", "dispatcher", "resident"]),
    (OVERDUE, "supervisor", ["dispatcher", "worker", "stranger", "handler", "resident"]),
    (OVERDUE, "bureau", []),
    (DISTRICT, "bureau", ["dispatcher", "supervisor", "worker", "stranger", "resident"]),
    (MAP, "worker", ["handler", "resident", "property"]),
    (MAP_DATA, "dispatcher", ["handler", "resident"]),
]


@pytest.mark.parametrize(("url", "allowed", "refused"), BOARDS)
def test_each_board_opens_for_its_role_and_is_404_for_the_others(
    client, client_as, url, allowed, refused
):
    assert client.get(url).status_code == 302  # anonymous: to the sign-in page
    assert client_as(allowed).get(url).status_code == 200
    for key in refused:
        assert client_as(key).get(url).status_code == 404, key


def test_posts_of_the_boards_are_404_for_other_roles(world, users, client_as, fresh):
    order = fresh()
    client = client_as("stranger")
    assert client.post(BULK, {"op": "dispatch", "ids": [order.pk]}).status_code == 404
    assert client.post(SIGN, {"ids": [order.pk]}).status_code == 404
    assert client.post(OVERDUE_ACT, {"order": order.pk, "action": "supervise"}).status_code == 404
    assert WorkOrder.objects.get(pk=order.pk).state == State.REPORTED


def test_the_home_cards_links_are_the_board_urls():
    # The names the lead adds to the home cards exist.
    for name in ("inbox", "tasks", "console", "department_inbox", "overdue", "district", "map"):
        assert reverse(f"workorders:{name}").startswith("/orders/")


# --- committee inbox --------------------------------------------------------------------------


def test_the_committee_inbox_shows_its_own_orders_and_nothing_to_another_committee(
    world, users, client_as, fresh
):
    own = fresh(
        actor_key="resident", source=Source.RESIDENT, category=a_category(self_governable=True)
    )
    street_level = fresh()
    page = client_as("worker").get(INBOX)
    assert own.pk in shown(page) and street_level.pk not in shown(page)
    area = client_as("worker").get(INBOX, {"tab": "area"})
    assert {own.pk, street_level.pk} <= shown(area)
    assert 'data-state="reported"' in area.content.decode()
    for tab in ("todo", "errands", "area"):
        other = client_as("stranger").get(INBOX, {"tab": tab})
        assert shown(other) == set()
        assert 'data-state="reported"' not in other.content.decode()


def test_the_inbox_hints_at_a_summons_for_orders_with_several_departments(
    world, users, client_as, fresh
):
    plain = dispatched(world, users, fresh())
    shared = dispatched(world, users, fresh(), co=[world.departments[1]])
    page = client_as("worker").get(INBOX, {"tab": "area"}).content.decode()
    row = page.split(f'data-order="{shared.pk}"')[1].split("</tr>")[0]
    assert 'data-hint="summons"' in row
    row = page.split(f'data-order="{plain.pk}"')[1].split("</tr>")[0]
    assert 'data-hint="summons"' not in row


def test_the_inbox_lists_errands_and_filters_the_area_by_state(world, users, client_as, fresh):
    errand = many(world, 1, kind=Kind.ERRAND, level=Level.COMMITTEE, state=State.RC_HANDLING)[0]
    reported = fresh()
    errands = client_as("worker").get(INBOX, {"tab": "errands"})
    assert shown(errands) == {errand.pk}
    filtered = client_as("worker").get(
        INBOX, {"tab": "area", "state": "rc_handling"}, headers={"HX-Request": "true"}
    )
    assert shown(filtered) == {errand.pk} and reported.pk not in shown(filtered)
    assert "<html" not in filtered.content.decode()  # htmx gets the results fragment only


def test_the_inbox_reads_a_bounded_number_of_queries(
    world, users, client_as, django_assert_max_num_queries
):
    client = client_as("worker")
    many(world, 3)
    client.get(INBOX, {"tab": "area"})
    many(world, 80, level=Level.COMMITTEE)
    with django_assert_max_num_queries(13):
        page = client.get(INBOX, {"tab": "area"})
    assert len(shown(page)) == board_selectors.PAGE_SIZE


# --- grid worker's tasks ----------------------------------------------------------------------


def test_the_grid_worker_sees_the_verifications_sent_to_them(world, users, client_as, fresh):
    order = fresh(actor_key="resident", source=Source.RESIDENT)
    order = order_act(
        actor=users["dispatcher"], order=order, action="send_verify", assignee=users["gridworker"]
    )
    elsewhere = fresh(place=world.compounds[-1])  # another grid
    page = client_as("gridworker").get(TASKS)
    body = page.content.decode()
    tasks = body.split('id="recent-title"')[0]
    assert f'data-order="{order.pk}"' in tasks
    assert reverse("workorders:order", args=[order.pk]) in tasks
    assert elsewhere.pk not in shown(page)


def test_the_tasks_page_reads_a_bounded_number_of_queries(
    world, users, client_as, django_assert_max_num_queries
):
    client = client_as("gridworker")
    many(world, 60, state=State.VERIFYING, assignee=users["gridworker"])
    with django_assert_max_num_queries(12):
        page = client.get(TASKS)
    assert len(shown(page)) >= 60


# --- dispatcher console -----------------------------------------------------------------------


def test_the_console_filters_and_suggests_the_routed_department(world, users, client_as, fresh):
    category = a_category()
    grid_order = registered(users, fresh(description="小区门口路灯不亮"))
    other = registered(users, fresh(place=world.compounds[-1], description="路面坑洼"))
    reported = fresh(description="路灯杆倾斜")
    RoutingRule.objects.create(
        street=world.street, category=category, department=world.departments[1]
    )
    RoutingRule.objects.create(
        street=world.street, grid=world.grids[0], category=category, department=world.departments[2]
    )
    client = client_as("dispatcher")
    page = client.get(CONSOLE, {"state": "registered"})
    assert shown(page) == {grid_order.pk, other.pk}
    suggestions = {o.pk: o.suggestion.department for o in page.context["page"].rows}
    assert suggestions == {grid_order.pk: world.departments[2], other.pk: world.departments[1]}
    assert shown(client.get(CONSOLE, {"q": "路灯"})) == {grid_order.pk, reported.pk}
    assert shown(client.get(CONSOLE, {"grid": world.grids[0].pk, "state": "reported"})) == {
        reported.pk
    }
    assert shown(client.get(CONSOLE, {"source": Source.HOTLINE})) == set()
    assert shown(client.get(CONSOLE, {"state": "open", "light": "green"})) == {
        grid_order.pk,
        other.pk,
        reported.pk,
    }
    rejected = order_act(
        actor=users["dispatcher"],
        order=fresh(actor_key="resident", source=Source.RESIDENT),
        action="reject",
        reason="不属实",
        reject_reason="untrue",
    )
    assert rejected.pk not in shown(client.get(CONSOLE))  # open orders unless asked
    everything = client.get(CONSOLE, {"state": "all"})
    assert rejected.pk in shown(everything) and "state=all" in everything.context["base_query"]
    assert shown(client.get(CONSOLE, {"state": "closed"})) == {rejected.pk}
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert shown(client.get(CONSOLE, {"since": tomorrow})) == set()
    # A filter value that does not parse is ignored, never a server error.
    assert client.get(CONSOLE, {"grid": "x", "since": "soon", "page": "-3"}).status_code == 200


def test_bulk_dispatch_reports_what_moved_and_what_failed(world, users, client_as, fresh):
    category = a_category()
    RoutingRule.objects.create(
        street=world.street, category=category, department=world.departments[1]
    )
    ready = [registered(users, fresh()) for _ in range(2)]
    not_yet = fresh()  # REPORTED: cannot be dispatched
    response = client_as("dispatcher").post(
        BULK,
        {
            "op": "dispatch",
            "ids": [*(o.pk for o in ready), not_yet.pk, 999999],
            "next": f"{CONSOLE}?state=registered",
        },
    )
    assert response.status_code == 302 and response["Location"] == f"{CONSOLE}?state=registered"
    for order in ready:
        order.refresh_from_db()
        assert (order.state, order.department) == (State.DISPATCHED, world.departments[1])
    assert WorkOrder.objects.get(pk=not_yet.pk).state == State.REPORTED
    said = notes(response)
    assert any("2" in m for m in said[:1])
    assert any(f"#{not_yet.pk}" in m for m in said)
    assert any("#999999" in m for m in said)


def test_bulk_dispatch_to_a_chosen_department_and_without_a_rule(world, users, client_as, fresh):
    first, second = (registered(users, fresh()) for _ in range(2))
    client = client_as("dispatcher")
    response = client.post(BULK, {"op": "dispatch", "ids": [first.pk]})
    assert WorkOrder.objects.get(pk=first.pk).state == State.REGISTERED  # no rule, nothing chosen
    assert any(f"#{first.pk}" in m for m in notes(response))
    client.post(
        BULK,
        {"op": "dispatch", "ids": [first.pk, second.pk], "department": world.departments[3].pk},
    )
    assert set(
        WorkOrder.objects.filter(pk__in=[first.pk, second.pk]).values_list("department", flat=True)
    ) == {world.departments[3].pk}


def test_bulk_send_for_verification_to_a_grid_worker(world, users, client_as, fresh):
    orders = [fresh(actor_key="resident", source=Source.RESIDENT) for _ in range(2)]
    client = client_as("dispatcher")
    response = client.post(BULK, {"op": "send_verify", "ids": [o.pk for o in orders]})
    assert response.status_code == 302  # no worker chosen: nothing happens
    assert not WorkOrder.objects.filter(state=State.VERIFYING).exists()
    client.post(
        BULK,
        {"op": "send_verify", "ids": [o.pk for o in orders], "assignee": users["gridworker"].pk},
    )
    assert set(
        WorkOrder.objects.filter(pk__in=[o.pk for o in orders]).values_list("state", "assignee")
    ) == {(State.VERIFYING, users["gridworker"].pk)}


def test_a_dispatcher_of_another_street_sees_and_moves_nothing_here(world, users, client, fresh):
    order = registered(users, fresh())
    other = place_create(actor=None, kind=PlaceKind.STREET, name="远方街道", parent=world.district)
    user = user_create(actor=None, username="far", password="Test-pass-123!", display_name="远")
    role_assign(actor=None, user=user, role=Role.GRID_DISPATCHER, place=other)
    client.force_login(user)
    assert shown(client.get(CONSOLE, {"state": "open"})) == set()
    response = client.post(
        BULK, {"op": "dispatch", "ids": [order.pk], "department": world.departments[0].pk}
    )
    assert WorkOrder.objects.get(pk=order.pk).state == State.REGISTERED
    assert response.status_code == 302


def test_the_console_pages_without_counting_the_whole_table(
    world, users, client_as, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr(board_selectors, "COUNT_CAP", 60)
    client = client_as("dispatcher")
    many(world, 3, state=State.REGISTERED)
    client.get(CONSOLE)
    many(world, 120, state=State.REGISTERED)
    with django_assert_max_num_queries(16):
        first = client.get(CONSOLE)
    page = first.context["page"]
    assert len(page.rows) == 50 and page.has_next and page.capped
    assert "60" in first.content.decode()  # "more than 60", not an exact count
    third = client.get(CONSOLE, {"page": 3})
    assert len(third.context["page"].rows) == 23 and not third.context["page"].has_next
    assert not shown(first) & shown(third)


# --- department inbox -------------------------------------------------------------------------


def test_the_department_inbox_signs_for_in_one_tap_or_many(world, users, client_as, fresh):
    mine = [dispatched(world, users, fresh()) for _ in range(3)]
    theirs = dispatched(world, users, fresh(), department=world.departments[1])
    helping = dispatched(
        world, users, fresh(), department=world.departments[1], co=[world.departments[0]]
    )
    client = client_as("handler")
    page = client.get(DEPARTMENT)
    assert shown(page) == {*(o.pk for o in mine), helping.pk}
    assert theirs.pk not in shown(page)
    client.post(SIGN, {"ids": [mine[0].pk]})
    assert WorkOrder.objects.get(pk=mine[0].pk).state == State.IN_PROGRESS
    response = client.post(SIGN, {"ids": [mine[1].pk, mine[2].pk, helping.pk, theirs.pk]})
    states = dict(WorkOrder.objects.values_list("pk", "state"))
    assert states[mine[1].pk] == states[mine[2].pk] == State.IN_PROGRESS
    assert states[helping.pk] == states[theirs.pk] == State.DISPATCHED  # not the lead department
    said = notes(response)
    assert any(f"#{helping.pk}" in m for m in said) and any(f"#{theirs.pk}" in m for m in said)


def test_the_department_inbox_reads_a_bounded_number_of_queries(
    world, users, client_as, django_assert_max_num_queries
):
    client = client_as("handler")
    many(world, 70, state=State.DISPATCHED, department=world.departments[0])
    with django_assert_max_num_queries(13):
        page = client.get(DEPARTMENT)
    assert len(shown(page)) == board_selectors.PAGE_SIZE


# --- overdue board ----------------------------------------------------------------------------


def test_the_overdue_board_presses_a_red_order_with_a_note(world, users, client_as, fresh):
    late = dispatched(world, users, fresh())
    WorkOrder.objects.filter(pk=late.pk).update(
        phase_warn_at=now() - dt.timedelta(hours=3), phase_due_at=now() - dt.timedelta(hours=1)
    )
    on_time = dispatched(world, users, fresh())
    client = client_as("supervisor")
    page = client.get(OVERDUE)
    assert late.pk in shown(page) and on_time.pk not in shown(page)
    tally = page.context["board"].by_department
    assert tally == [
        {
            "department_id": world.departments[0].pk,
            "department__name": world.departments[0].name,
            "red": 1,
            "yellow": 0,
        }
    ]
    refused = client.post(OVERDUE_ACT, {"order": late.pk, "action": "supervise", "reason": ""})
    assert refused.status_code == 302 and notes(refused)  # the note is required: said, no 500
    client.post(OVERDUE_ACT, {"order": late.pk, "action": "supervise", "reason": "请今日内处理"})
    step = Transition.objects.filter(order=late, action="supervise").get()
    assert step.reason == "请今日内处理" and step.actor == users["supervisor"]
    assert client.post(OVERDUE_ACT, {"order": late.pk, "action": "close"}).status_code == 302
    assert WorkOrder.objects.get(pk=late.pk).state == State.DISPATCHED


def test_the_overdue_board_approves_and_refuses_pending_requests(world, users, client_as, fresh):
    order = dispatched(world, users, fresh())
    order = order_act(actor=users["handler"], order=order, action="sign_for")
    order = order_act(
        actor=users["depthead"],
        order=order,
        action="request_extension",
        reason="需采购配件",
        hours=8,
    )
    client = client_as("supervisor")
    page = client.get(OVERDUE)
    (row,) = page.context["board"].pending
    assert row.pk == order.pk and row.request.reason == "需采购配件" and row.can_approve
    client.post(OVERDUE_ACT, {"order": order.pk, "action": "approve_extension"})
    order.refresh_from_db()
    assert order.state == State.IN_PROGRESS and order.extension_hours == 8
    order = order_act(
        actor=users["handler"],
        order=order,
        action="request_suspension",
        reason="需大修",
        review_on=timezone.localdate() + dt.timedelta(days=30),
    )
    client.post(OVERDUE_ACT, {"order": order.pk, "action": "refuse_suspension", "reason": "先处理"})
    assert WorkOrder.objects.get(pk=order.pk).state == State.IN_PROGRESS


def test_the_overdue_board_reads_a_bounded_number_of_queries(
    world, users, client_as, django_assert_max_num_queries
):
    client = client_as("supervisor")
    past = now() - dt.timedelta(hours=2)
    many(world, 60, phase_warn_at=past, phase_due_at=past, department=world.departments[0])
    many(world, 60, state=State.EXTENSION_REQUESTED, department=world.departments[1])
    with django_assert_max_num_queries(15):
        page = client.get(OVERDUE)
    assert len(page.context["board"].pending) == board_selectors.PAGE_SIZE
    assert len(page.context["page"].rows) == board_selectors.PAGE_SIZE


# --- district view ----------------------------------------------------------------------------


def test_the_district_view_counts_per_street_and_lists_escalations(
    world, users, client_as, fresh, django_assert_max_num_queries
):
    late = many(world, 2, phase_due_at=now() - dt.timedelta(hours=1))
    escalated = order_act(
        actor=users["supervisor"], order=fresh(), action="escalate_district", reason="跨街道问题"
    )
    order_act(
        actor=users["dispatcher"],
        order=fresh(actor_key="resident", source=Source.RESIDENT),
        action="reject",
        reason="不属实",
        reject_reason="untrue",
    )
    client = client_as("bureau")
    with django_assert_max_num_queries(13):
        page = client.get(DISTRICT)
    (row,) = page.context["view"].streets
    assert (row.street, row.open, row.overdue) == (world.street, 3, len(late))
    assert shown(page) == {escalated.pk}
    # A committee's worker has no district view.
    assert client_as("worker").get(DISTRICT).status_code == 404


def test_the_district_view_counts_orders_closed_this_month(world, users, client_as, fresh):
    order = fresh(
        category=a_category(self_governable=True), actor_key="worker", source=Source.COMMITTEE
    )
    order = order_act(actor=users["worker"], order=order, action="self_handle")
    order_act(
        actor=users["worker"], order=order, action="rc_close", reason="已调解", photos=[photo()]
    )
    (row,) = client_as("bureau").get(DISTRICT).context["view"].streets
    assert row.closed_this_month == 1 and row.open == 0


# --- map --------------------------------------------------------------------------------------


def test_the_map_data_places_open_orders_at_their_compound_and_stays_in_scope(
    world, users, client_as, fresh, django_assert_max_num_queries
):
    here = fresh()
    pinned = fresh(lat=world.compounds[1].lat, lng=world.compounds[1].lng, place=None)
    other_committee = fresh(place=world.compounds[2])  # the stranger's committee
    client = client_as("worker")
    with django_assert_max_num_queries(10):
        data = client.get(MAP_DATA).json()
    points = {p["id"]: p for p in data["orders"]}
    assert set(points) == {here.pk, pinned.pk}
    assert points[here.pk]["lat"] == float(world.compounds[0].lat)
    assert points[here.pk]["url"] == reverse("workorders:order", args=[here.pk])
    assert points[here.pk]["light"] == "green"
    assert data["total"] == 2 and data["shown"] == 2
    assert other_committee.pk not in points
    stranger = client_as("stranger").get(MAP_DATA).json()
    assert {p["id"] for p in stranger["orders"]} == {other_committee.pk}
    assert {g["open"] for g in stranger["grids"]} == {1}


def test_the_map_is_capped_and_uses_tiles_only_when_configured(
    world, users, client_as, monkeypatch, settings
):
    monkeypatch.setattr(board_selectors, "MAP_CAP", 5)
    many(world, 8)
    client = client_as("dispatcher")
    data = client.get(MAP_DATA).json()
    assert (data["total"], data["shown"]) == (8, 5)
    page = client.get(MAP).content.decode()
    assert 'data-tiles=""' in page and "leaflet/leaflet.js" in page and "js/ordermap.js" in page
    settings.LINLI_MAP_TILE_URL = "https://tiles.example.test/{z}/{x}/{y}.png"
    assert (
        'data-tiles="https://tiles.example.test/{z}/{x}/{y}.png"'
        in client.get(MAP).content.decode()
    )


@pytest.mark.parametrize("bad", ["9" * 30, str(2**63), "-1", "١٢", " 1 ", "1_0", "abc"])
def test_ids_that_cannot_name_an_order_are_ignored_not_a_crash(world, users, client_as, fresh, bad):
    order = registered(users, fresh())
    dispatcher = client_as("dispatcher")
    dispatcher.raise_request_exception = False
    response = dispatcher.post(
        BULK, {"op": "dispatch", "ids": [bad], "department": world.departments[0].pk}
    )
    assert response.status_code == 302
    form = dispatcher.post(
        reverse("workorders:act", args=[order.pk, "dispatch"]),
        {
            "version": order.version,
            "department": world.departments[0].pk,
            "co_departments": [bad],
        },
    )
    assert form.status_code == 200 and form.context["actions"]
    supervisor = client_as("supervisor")
    supervisor.raise_request_exception = False
    pressed = supervisor.post(OVERDUE_ACT, {"order": bad, "action": "supervise", "reason": "催"})
    assert pressed.status_code == 404
    handler = client_as("handler")
    handler.raise_request_exception = False
    assert handler.post(SIGN, {"ids": [bad]}).status_code == 302
    assert WorkOrder.objects.get(pk=order.pk).state == State.REGISTERED
