import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from linli.accounts.services import token_issue
from linli.notices.choices import ObjectionState
from linli.notices.models import Notice, Notification, Objection
from linli.notices.services import notify, objection_answer, objection_file
from linli.notices.tests.conftest import ID_NUMBER, MOBILE, PASSWORD

pytestmark = pytest.mark.django_db

BASE = "/api/v1/notices"
JSON = "application/json"
NOT_FOUND = {"error": {"code": "not_found", "message": "Not found."}}
SHANGHAI = ZoneInfo("Asia/Shanghai")
OBJECTION_TEXT = "3号楼的表决户数统计有误"


@pytest.fixture
def notice(publish, users):
    notice = publish()
    first = objection_file(actor=users["resident"], notice=notice, text=OBJECTION_TEXT)
    objection_answer(actor=users["worker"], objection=first, answer="经核对，统计无误。")
    return notice


def test_the_openapi_document_lists_the_notice_endpoints(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        f"{BASE}/boards/{{board_id}}",
        f"{BASE}/boards/{{board_id}}/archive",
        f"{BASE}/notices/{{notice_id}}",
        f"{BASE}/notices/{{notice_id}}/objections",
        f"{BASE}/notifications",
        f"{BASE}/notifications/read",
        f"{BASE}/places/{{place_id}}/notices",
        f"{BASE}/manage/notices",
        f"{BASE}/manage/notices/{{notice_id}}/withdraw",
        f"{BASE}/manage/objections",
        f"{BASE}/manage/objections/{{objection_id}}/answer",
    ):
        assert path in paths, path
    board = paths[f"{BASE}/boards/{{board_id}}"]["get"]
    assert "security" not in board or board["security"] in ([], [{}])


def test_the_board_is_public_and_carries_nothing_personal(client, notice, users, committee):
    response = client.get(f"{BASE}/boards/{committee.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["place"] == {"id": committee.pk, "kind": "committee", "name": committee.name}
    (row,) = body["notices"]
    assert row["id"] == notice.pk and row["objection_count"] == 1 and row["answered_count"] == 1
    assert row["window_open"] is True and row["withdrawn"] is False
    detail = client.get(f"{BASE}/notices/{notice.pk}").json()
    assert [a["answer"] for a in detail["answers"]] == ["经核对，统计无误。"]
    for text in (
        response.content.decode(),
        client.get(f"{BASE}/notices/{notice.pk}").content.decode(),
    ):
        for secret in (OBJECTION_TEXT, users["resident"].display_name, "author"):
            assert secret not in text
    archive = client.get(f"{BASE}/boards/{committee.pk}/archive").json()
    assert archive["count"] == 0 and archive["results"] == []


def test_public_garbage_and_non_boards(client, world, notice):
    assert client.get(f"{BASE}/boards/{world.city.pk}").json() == NOT_FOUND
    assert client.get(f"{BASE}/boards/{world.city.pk}").status_code == 404
    assert client.get(f"{BASE}/notices/999999").status_code == 404
    for url in (
        f"{BASE}/boards/abc",
        f"{BASE}/boards/0",
        f"{BASE}/boards/99999999999999999999",
        f"{BASE}/notices/-1",
        f"{BASE}/boards/{world.committees[0].pk}/archive?page=0",
        f"{BASE}/boards/{world.committees[0].pk}/archive?page=x",
    ):
        response = client.get(url)
        assert response.status_code == 422, url
        assert response.json()["error"]["code"] == "invalid"


def test_objections_through_the_api(client, client_as, publish, users):
    notice = publish()
    url = f"{BASE}/notices/{notice.pk}/objections"
    assert client.post(url, {"text": OBJECTION_TEXT}, content_type=JSON).status_code == 401
    response = client_as("stranger").post(url, {"text": OBJECTION_TEXT}, content_type=JSON)
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    resident = client_as("resident")
    response = resident.post(url, {"text": "短"}, content_type=JSON)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["loc"] == ["body", "text"]
    response = resident.post(url, {"text": OBJECTION_TEXT}, content_type=JSON)
    assert response.status_code == 201, response.content
    assert response.json()["state"] == "open" and response.json()["text"] == OBJECTION_TEXT
    assert resident.post(url, {"text": OBJECTION_TEXT}, content_type=JSON).status_code == 422
    for bad in ({"text": 5}, {"text": ["a"]}, {"text": "abc\x00def"}):
        assert resident.post(url, bad, content_type=JSON).status_code == 422, bad
    assert resident.post(url, "not json", content_type=JSON).status_code in (400, 422)
    assert (
        resident.post(f"{BASE}/notices/999999/objections", {"text": "x"}, content_type=JSON).json()
        == NOT_FOUND
    )


def test_objection_window_through_the_api(client_as, publish):
    with freeze_time(dt.datetime(2026, 3, 9, 10, 0, tzinfo=SHANGHAI)):
        notice = publish(window_days=1)
    client = client_as("resident")
    url = f"{BASE}/notices/{notice.pk}/objections"
    with freeze_time(dt.datetime(2026, 3, 10, 23, 59, tzinfo=SHANGHAI)):
        assert client.post(url, {"text": OBJECTION_TEXT}, content_type=JSON).status_code == 201
    with freeze_time(dt.datetime(2026, 3, 11, 0, 0, tzinfo=SHANGHAI)):
        response = client.post(url, {"text": "另一条异议的内容"}, content_type=JSON)
    assert response.status_code == 422


def test_notifications_through_the_api(client, client_as, users):
    for i in range(3):
        notify(users=[users["resident"]], kind="vote_open", title=f"表决{i}开始")
    (theirs,) = notify(users=[users["worker"]], kind="other", title="给社工")
    assert client.get(f"{BASE}/notifications").status_code == 401
    api = client_as("resident")
    body = api.get(f"{BASE}/notifications").json()
    assert body["count"] == 3 and body["unread"] == 3
    assert [n["title"] for n in body["results"]] == ["表决2开始", "表决1开始", "表决0开始"]
    first = body["results"][-1]["id"]
    response = api.post(
        f"{BASE}/notifications/read", {"ids": [first, theirs.pk]}, content_type=JSON
    )
    assert response.json() == {"marked": 1, "unread": 2}
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert api.get(f"{BASE}/notifications?unread=true").json()["count"] == 2
    assert api.post(f"{BASE}/notifications/read", {}, content_type=JSON).json() == {
        "marked": 2,
        "unread": 0,
    }
    for bad in ({"ids": "all"}, {"ids": [0]}, {"ids": ["x"]}):
        assert api.post(f"{BASE}/notifications/read", bad, content_type=JSON).status_code == 422
    assert api.get(f"{BASE}/notifications?page=0").status_code == 422


def test_a_bearer_token_reads_notifications(client, users):
    notify(users=[users["resident"]], kind="other", title="令牌读取")

    class Request:
        META = {"REMOTE_ADDR": "127.0.0.1"}

    _, key = token_issue(request=Request(), username="resident", password=PASSWORD)
    response = client.get(f"{BASE}/notifications", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200 and response.json()["count"] == 1


def test_staff_publish_through_the_api(client_as, committee, world):
    url = f"{BASE}/places/{committee.pk}/notices"
    data = {"kind": "budget", "title": "2026年自治金项目预算公示", "body": "预算合计 12,000 元。"}
    worker = client_as("worker")
    response = worker.post(url, data, content_type=JSON)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["kind"] == "budget" and created["window_open"] is True
    assert created["place_id"] == committee.pk and created["objection_count"] == 0
    response = worker.post(url, {**data, "body": f"经办人 {ID_NUMBER}"}, content_type=JSON)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["loc"] == ["body", "body"]
    response = worker.post(url, {**data, "title": f"联系 {MOBILE}"}, content_type=JSON)
    assert response.json()["error"]["details"][0]["loc"] == ["body", "title"]
    for bad in (
        {},
        {**data, "kind": "gossip"},
        {**data, "window_days": 0},
        {**data, "window_days": 91},
        {**data, "window_days": "many"},
        {**data, "starts_at": "yesterday"},
        {**data, "starts_at": "2001-01-01T00:00:00+08:00"},
        {**data, "title": 12},
    ):
        assert worker.post(url, bad, content_type=JSON).status_code == 422, bad
    assert Notice.objects.count() == 1
    for key in ("stranger", "resident", "gridworker"):
        response = client_as(key).post(url, data, content_type=JSON)
        assert response.json() == NOT_FOUND, key
    building = world.compounds[0].children.first()
    worker = client_as("worker")
    assert (
        worker.post(f"{BASE}/places/{building.pk}/notices", data, content_type=JSON).status_code
        == 404
    )
    assert Notice.objects.count() == 1


def test_staff_lists_answer_and_withdraw_through_the_api(
    client_as, notice, publish, users, django_assert_max_num_queries
):
    objection_file(actor=users["director"], notice=notice, text="另一条待答复的异议")
    worker = client_as("worker")
    worker.get(f"{BASE}/manage/notices")

    def counted(url, budget=10):
        with django_assert_max_num_queries(budget) as captured:
            response = worker.get(url)
        assert response.status_code == 200
        return response.json(), len(captured)

    body, few = counted(f"{BASE}/manage/notices")
    assert body["results"][0]["open_count"] == 1 and body["results"][0]["objection_count"] == 2
    open_ones, few_objections = counted(f"{BASE}/manage/objections")
    (row,) = open_ones["results"]
    assert row["author_name"] == users["director"].display_name and row["state"] == "open"
    for i in range(12):
        more = publish(title=f"更多公告{i}")
        objection_file(actor=users["resident"], notice=more, text="我有异议的内容")
    assert counted(f"{BASE}/manage/notices")[1] == few
    assert counted(f"{BASE}/manage/objections?state=all")[1] == few_objections
    assert worker.get(f"{BASE}/manage/objections?state=lost").status_code == 422
    answer_url = f"{BASE}/manage/objections/{row['id']}/answer"
    withdraw_url = f"{BASE}/manage/notices/{notice.pk}/withdraw"
    stranger = client_as("stranger")  # the same test client, signed in as someone else
    assert stranger.get(f"{BASE}/manage/notices").json()["count"] == 0
    assert stranger.get(f"{BASE}/manage/objections?state=all").json()["count"] == 0
    assert stranger.post(answer_url, {"answer": "外人答复"}, content_type=JSON).json() == NOT_FOUND
    assert stranger.post(withdraw_url, {"reason": "撤回"}, content_type=JSON).json() == NOT_FOUND
    worker = client_as("worker")
    url = answer_url
    assert worker.post(url, {"answer": f"请联系{MOBILE}"}, content_type=JSON).status_code == 422
    response = worker.post(url, {"answer": "已纳入下次会议讨论。"}, content_type=JSON)
    assert response.status_code == 200 and response.json()["state"] == "answered"
    assert Objection.objects.get(pk=row["id"]).state == ObjectionState.ANSWERED
    url = withdraw_url
    assert worker.post(url, {}, content_type=JSON).status_code == 422
    response = worker.post(url, {"reason": "更正后重新公示"}, content_type=JSON)
    assert response.status_code == 200 and response.json()["withdrawn"] is True
    board = client_as("resident").get(f"{BASE}/notices/{notice.pk}").json()
    assert board["withdrawn"] and board["withdraw_reason"] == "更正后重新公示"
    assert board["window_open"] is False


def test_the_public_board_api_has_a_fixed_query_budget(
    client, publish, committee, users, django_assert_max_num_queries
):
    def count():
        with django_assert_max_num_queries(5) as captured:
            assert client.get(f"{BASE}/boards/{committee.pk}").status_code == 200
        return len(captured)

    publish()
    few = count()
    for i in range(15):
        objection_file(
            actor=users["resident"], notice=publish(title=f"公告{i}"), text="异议内容五字"
        )
    assert count() == few
