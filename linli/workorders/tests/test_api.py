import base64

import pytest

from linli.workorders.choices import Source, State
from linli.workorders.models import Category, WorkOrder
from linli.workorders.services import order_act
from linli.workorders.tests.conftest import a_category, jpeg_bytes

pytestmark = pytest.mark.django_db

BASE = "/api/v1/workorders"
NAME = "钱阿姨"
PHONE = "13912345678"
NOT_FOUND = {"error": {"code": "not_found", "message": "Not found."}}
JSON = "application/json"


def photo_in() -> dict:
    return {
        "name": "site.jpg",
        "content_type": "image/jpeg",
        "data": base64.b64encode(jpeg_bytes()).decode(),
    }


@pytest.fixture
def order(new_order):
    """A resident's report at the first committee's first compound, with reporter data."""
    return new_order(
        actor_key="resident", source=Source.RESIDENT, reporter_name=NAME, reporter_phone=PHONE
    )


def test_the_openapi_document_lists_the_workorder_endpoints(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        f"{BASE}/orders",
        f"{BASE}/orders/{{order_id}}",
        f"{BASE}/orders/{{order_id}}/actions/{{action}}",
        f"{BASE}/categories",
        f"{BASE}/suggest",
    ):
        assert path in paths, path


def test_anonymous_callers_are_refused(client, order):
    assert client.get(f"{BASE}/orders").status_code == 401
    assert client.get(f"{BASE}/orders/{order.pk}").status_code == 401


def test_orders_are_listed_in_scope_without_reporter_data(client_as, users, order):
    body = client_as("worker").get(f"{BASE}/orders").json()
    assert [o["id"] for o in body["results"]] == [order.pk]
    row = body["results"][0]
    assert row["state"] == State.REPORTED and row["category_code"] == order.category.service_code
    assert row["light"] in ("green", "yellow", "red")
    for key in ("dispatcher", "supervisor", "gridworker", "resident"):
        ids = [o["id"] for o in client_as(key).get(f"{BASE}/orders").json()["results"]]
        assert ids == [order.pk], key
    assert client_as("stranger").get(f"{BASE}/orders").json()["count"] == 0
    assert client_as("handler").get(f"{BASE}/orders").json()["count"] == 0


def test_another_committees_order_is_404_everywhere(client_as, order):
    client = client_as("stranger")
    for response in (
        client.get(f"{BASE}/orders/{order.pk}"),
        client.post(
            f"{BASE}/orders/{order.pk}/actions/request_summons",
            {"reason": "多次反映"},
            content_type=JSON,
        ),
        client.get(f"{BASE}/orders/999999"),
    ):
        assert response.status_code == 404
        assert response.json() == NOT_FOUND


def test_no_body_carries_the_reporters_name_or_phone(client_as, users, order):
    secrets = (NAME, PHONE, order.reporter_phone_masked, users["resident"].display_name)
    for key in ("worker", "dispatcher", "resident"):
        client = client_as(key)
        for response in (
            client.get(f"{BASE}/orders"),
            client.get(f"{BASE}/orders/{order.pk}"),
        ):
            text = response.content.decode()
            assert response.status_code == 200
            for secret in secrets:
                assert secret not in text, (key, secret)
            assert "reporter" not in text
        steps = client.get(f"{BASE}/orders/{order.pk}").json()["steps"]
        assert users["resident"].username not in {s["actor_name"] for s in steps}


def test_the_list_filters_and_refuses_unknown_values(client_as, world, users, new_order):
    cover = new_order()
    other = new_order(
        category=Category.objects.exclude(pk=cover.category_id).filter(active=True)[0]
    )
    order_act(actor=users["supervisor"], order=cover, action="register")
    client = client_as("dispatcher")

    def ids(**params):
        response = client.get(f"{BASE}/orders", params)
        assert response.status_code == 200, response.content
        return {o["id"] for o in response.json()["results"]}

    assert ids() == {cover.pk, other.pk}
    assert ids(state=State.REGISTERED) == {cover.pk}
    assert ids(category=other.category.service_code) == {other.pk}
    assert ids(grid=world.grids[0].pk) == {cover.pk, other.pk}
    assert ids(grid=world.grids[-1].pk) == set()
    # `other` was reported on MONDAY (in the past): its clock has run out; `cover` was just
    # registered, so its dispatch clock has only started.
    assert ids(light="red") == {other.pk}
    assert ids(light="green") | ids(light="yellow") == {cover.pk}
    assert ids(state="", category="", light="") == {cover.pk, other.pk}
    for bad in ({"state": "lost"}, {"light": "blue"}, {"page": "0"}, {"grid": "x"}):
        response = client.get(f"{BASE}/orders", bad)
        assert response.status_code == 422, bad
        assert response.json()["error"]["code"] == "invalid"


def test_the_list_and_the_order_are_a_bounded_number_of_queries(
    client_as, world, users, new_order, django_assert_max_num_queries
):
    orders = [new_order(place=world.compounds[i % 2]) for i in range(30)]
    order_act(actor=users["supervisor"], order=orders[0], action="register")
    order_act(
        actor=users["dispatcher"],
        order=orders[0],
        action="dispatch",
        department=world.departments[0],
    )
    client = client_as("dispatcher")
    client.get(f"{BASE}/orders")  # warm the session
    with django_assert_max_num_queries(10):
        body = client.get(f"{BASE}/orders").json()
    assert body["count"] == 30 and len(body["results"]) == 30
    with django_assert_max_num_queries(12):
        detail = client.get(f"{BASE}/orders/{orders[0].pk}").json()
    assert [s["action"] for s in detail["steps"]] == ["report", "register", "dispatch"]


def test_staff_see_who_acted_and_why_the_reporter_sees_the_steps(client_as, users, order):
    order_act(
        actor=users["dispatcher"],
        order=order,
        action="send_verify",
        assignee=users["gridworker"],
        reason="请网格员核实",
    )
    staff = client_as("dispatcher").get(f"{BASE}/orders/{order.pk}").json()
    assert [s["action"] for s in staff["steps"]] == ["report", "send_verify"]
    assert staff["steps"][1]["actor_name"] == users["dispatcher"].username
    assert staff["steps"][1]["reason"] == "请网格员核实"
    assert {a["code"] for a in staff["actions"]} >= {"reject"}
    mine = client_as("resident").get(f"{BASE}/orders/{order.pk}").json()
    assert [s["action"] for s in mine["steps"]] == ["report", "send_verify"]
    assert all(s["actor_name"] == "" and s["reason"] == "" for s in mine["steps"])
    assert mine["actions"] == []


def test_a_resident_reports_at_a_compound_of_their_committee(client_as, world, users):
    category = Category.objects.filter(public=True, active=True, self_governable=False)[0]
    response = client_as("resident").post(
        f"{BASE}/orders",
        {
            "category": category.service_code,
            "description": "楼下路灯不亮了",
            "place_id": world.compounds[0].pk,
            "photos": [photo_in()],
        },
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    order = WorkOrder.objects.get(pk=response.json()["id"])
    assert (order.source, order.reporter, order.place) == (
        Source.RESIDENT,
        users["resident"],
        world.compounds[0],
    )
    assert order.attachments.count() == 1
    elsewhere = client_as("resident").post(
        f"{BASE}/orders",
        {
            "category": category.service_code,
            "description": "别处的路灯",
            "place_id": world.compounds[-1].pk,
        },
        content_type=JSON,
    )
    assert elsewhere.status_code == 422
    assert elsewhere.json()["error"]["details"][0]["loc"] == ["body", "place_id"]


def test_a_grid_worker_reports_by_a_point_on_patrol(client_as, world):
    compound = world.compounds[1]
    response = client_as("gridworker").post(
        f"{BASE}/orders",
        {
            "category": a_category().service_code,
            "description": "井盖缺失",
            "lat": float(compound.lat),
            "lng": float(compound.lng),
        },
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["source"] == Source.PATROL and body["place_id"] == compound.pk


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"category": "NOPE", "description": "x"}, "category"),
        ({"description": "没有地点"}, "place"),
        ({"description": " "}, "description"),
        ({"description": "远处", "lat": 40.0, "lng": 116.4}, "place"),
        (
            {"description": "坏照片", "photos": [{"content_type": "image/jpeg", "data": "@@"}]},
            "photos",
        ),
        ({"description": "x", "urgency": "whenever"}, "urgency"),
        ({"description": "NUL\x00字符"}, "description"),
    ],
)
def test_a_bad_report_is_422_with_details(client_as, world, payload, field):
    body = {"category": a_category().service_code, **payload}
    response = client_as("gridworker").post(f"{BASE}/orders", body, content_type=JSON)
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert any(field in d["loc"] for d in error["details"]), error
    assert not WorkOrder.objects.exists()


def test_who_may_not_report_gets_403(client_as, world):
    response = client_as("dispatcher").post(
        f"{BASE}/orders",
        {
            "category": a_category().service_code,
            "description": "x",
            "place_id": world.compounds[0].pk,
        },
        content_type=JSON,
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def act(client, order, action, **payload):
    return client.post(f"{BASE}/orders/{order.pk}/actions/{action}", payload, content_type=JSON)


def test_actions_run_the_state_machine(client_as, world, users, order):
    dispatcher = client_as("dispatcher")
    response = act(dispatcher, order, "send_verify", assignee_id=users["gridworker"].pk)
    assert response.status_code == 200, response.content
    assert response.json()["state"] == State.VERIFYING
    verified = act(client_as("gridworker"), order, "verify", photos=[photo_in()])
    assert verified.status_code == 200, verified.content
    registered = act(client_as("supervisor"), order, "register", urgency="urgent")
    assert registered.json()["urgency"] == "urgent"
    dispatched = act(
        client_as("dispatcher"),
        order,
        "dispatch",
        department_id=world.departments[0].pk,
        co_department_ids=[world.departments[1].pk],
    )
    assert dispatched.status_code == 200, dispatched.content
    body = dispatched.json()
    assert body["state"] == State.DISPATCHED and body["department_id"] == world.departments[0].pk
    signed = act(client_as("handler"), order, "sign_for")
    assert signed.json()["state"] == State.IN_PROGRESS
    assert [s["action"] for s in signed.json()["steps"]][-1] == "sign_for"


def test_an_action_without_the_permission_is_403(client_as, order):
    response = act(client_as("worker"), order, "send_verify")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_an_invalid_action_is_422_with_details(client_as, users, order):
    dispatcher = client_as("dispatcher")
    missing = act(dispatcher, order, "send_verify")  # no grid worker chosen
    assert missing.status_code == 422
    assert missing.json()["error"]["details"][0]["loc"] == ["body", "assignee"]
    wrong_state = act(client_as("supervisor"), order, "close")
    assert wrong_state.status_code == 422
    reason = act(dispatcher, order, "reject", reject_reason="untrue")
    assert reason.status_code == 422
    assert ["body", "reason"] in [d["loc"] for d in reason.json()["error"]["details"]]
    assert act(dispatcher, order, "fly_away").status_code == 404
    assert WorkOrder.objects.get(pk=order.pk).state == State.REPORTED


def test_a_stale_version_is_a_409_conflict(client_as, users, order):
    first = act(
        client_as("dispatcher"),
        order,
        "send_verify",
        assignee_id=users["gridworker"].pk,
        version=order.version,
    )
    assert first.status_code == 200
    second = act(
        client_as("supervisor"), order, "reject", reason="重复", reject_reason="untrue", version=0
    )
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "conflict"
    assert WorkOrder.objects.get(pk=order.pk).state == State.VERIFYING


def test_categories_for_residents_are_the_public_ones(client_as, db):
    hidden = Category.objects.filter(public=False, active=True).first()
    assert hidden is not None
    resident = {c["service_code"] for c in client_as("resident").get(f"{BASE}/categories").json()}
    staff = {c["service_code"] for c in client_as("dispatcher").get(f"{BASE}/categories").json()}
    assert hidden.service_code not in resident and hidden.service_code in staff
    assert resident < staff


def test_suggest_offers_categories_for_a_description(client_as, db):
    client = client_as("resident")
    response = client.post(f"{BASE}/suggest", {"text": "小区门口的井盖坏了"}, content_type=JSON)
    assert response.status_code == 200
    found = response.json()
    assert 1 <= len(found) <= 3
    public = set(Category.objects.filter(public=True).values_list("service_code", flat=True))
    assert all(s["service_code"] in public and 0 <= s["score"] <= 1 for s in found)
    assert client.post(f"{BASE}/suggest", {"text": "  "}, content_type=JSON).json() == []


def test_a_merged_report_does_not_open_the_original_to_its_reporter(world, users, client_as):
    from linli.workorders.choices import Source
    from linli.workorders.services import order_act, order_report
    from linli.workorders.tests.conftest import MONDAY, a_report

    original = order_report(actor=users["gridworker"], report=a_report(world))
    mine = order_report(actor=users["resident"], report=a_report(world, source=Source.RESIDENT))
    order_act(
        actor=users["dispatcher"],
        order=mine,
        action="reject",
        now=MONDAY,
        reason="重复上报",
        reject_reason="duplicate",
        duplicate_of=original,
    )
    client = client_as("resident")
    assert client.get(f"/api/v1/workorders/orders/{original.pk}").status_code == 404
    assert client.get(f"/orders/{original.pk}/").status_code == 404
    assert client.get(f"/api/v1/workorders/orders/{mine.pk}").status_code == 200


def test_a_suspension_reviewed_in_the_past_is_refused_by_the_api_too(
    client_as, world, users, new_order
):
    import datetime as dt

    from django.utils import timezone

    order = order_act(actor=users["supervisor"], order=new_order(), action="register")
    order = order_act(
        actor=users["dispatcher"], order=order, action="dispatch", department=world.departments[0]
    )
    order = order_act(actor=users["handler"], order=order, action="sign_for")
    url = f"{BASE}/orders/{order.pk}/actions/request_suspension"
    client = client_as("handler")
    for day in (timezone.localdate(), timezone.localdate() - dt.timedelta(days=400)):
        response = client.post(
            url, {"reason": "需大修", "review_on": day.isoformat()}, content_type=JSON
        )
        assert response.status_code == 422, response.content
        assert response.json()["error"]["details"][0]["loc"] == ["body", "review_on"]
    assert WorkOrder.objects.get(pk=order.pk).state == State.IN_PROGRESS
    later = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    response = client.post(url, {"reason": "需大修", "review_on": later}, content_type=JSON)
    assert response.status_code == 200, response.content
    assert response.json()["state"] == State.SUSPENSION_REQUESTED
