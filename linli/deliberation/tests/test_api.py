import base64

import pytest

from linli.deliberation import services
from linli.deliberation.choices import CommentState, TopicState
from linli.deliberation.models import Comment, Support, Topic
from linli.deliberation.tests.conftest import jpeg_bytes
from linli.workorders.models import Category

pytestmark = pytest.mark.django_db

BASE = "/api/v1/topics"
JSON = "application/json"
NOT_FOUND = {"error": {"code": "not_found", "message": "Not found."}}


def post(client, url, data=None):
    return client.post(url, data or {}, content_type=JSON)


def test_the_openapi_document_lists_the_topic_endpoints(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        f"{BASE}/",
        f"{BASE}/{{topic_id}}",
        f"{BASE}/{{topic_id}}/support",
        f"{BASE}/{{topic_id}}/comments",
        f"{BASE}/{{topic_id}}/comments/{{comment_id}}/report",
        f"{BASE}/{{topic_id}}/comments/{{comment_id}}/hide",
        f"{BASE}/{{topic_id}}/answer",
        f"{BASE}/{{topic_id}}/merge",
    ):
        assert path in paths, path


def test_anonymous_callers_are_refused(client, raise_topic):
    topic = raise_topic()
    assert client.get(f"{BASE}/").status_code == 401
    assert client.get(f"{BASE}/{topic.pk}").status_code == 401


def test_a_resident_raises_backs_and_comments(world, client_as, users):
    client = client_as("resident")
    photo = {"content_type": "image/jpeg", "data": base64.b64encode(jpeg_bytes()).decode()}
    response = post(
        client,
        f"{BASE}/",
        {
            "title": "增设电动车充电桩",
            "body": "楼道里充电很危险，希望在小区里集中设置充电桩。",
            "category": "safety",
            "compound_id": world.compounds[0].pk,
            "photos": [photo],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["committee_id"] == world.committees[0].pk and body["state"] == "open"
    assert body["can_back"] and not body["backed"] and len(body["photo_urls"]) == 1
    assert body["author_name"] != str(users["resident"])  # masked
    topic_id = body["id"]
    backed = post(client, f"{BASE}/{topic_id}/support").json()
    assert backed["backed"] and backed["support_count"] == 1 and backed["can_withdraw"]
    again = post(client, f"{BASE}/{topic_id}/support")
    assert again.status_code == 422
    assert again.json()["error"]["details"][0]["msg"] == str(services.ALREADY_BACKED)
    withdrawn = client.delete(f"{BASE}/{topic_id}/support").json()
    assert withdrawn["support_count"] == 0 and not withdrawn["backed"]
    comment = post(client, f"{BASE}/{topic_id}/comments", {"body": "希望尽快落实"})
    assert comment.status_code == 201 and comment.json()["mine"]
    reply = post(
        client,
        f"{BASE}/{topic_id}/comments",
        {"body": "同意", "parent_id": comment.json()["id"]},
    )
    assert reply.json()["parent_id"] == comment.json()["id"]
    rows = client.get(f"{BASE}/{topic_id}/comments").json()
    assert [r["text"] for r in rows] == ["希望尽快落实", "同意"]
    listed = client.get(f"{BASE}/").json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == topic_id


def test_raising_is_validated(world, client_as):
    client = client_as("resident")
    short = post(client, f"{BASE}/", {"title": "椅", "body": "短", "category": "other"})
    assert short.status_code == 422
    fields = {d["loc"][-1] for d in short.json()["error"]["details"]}
    assert fields == {"title", "body"}
    elsewhere = post(
        client,
        f"{BASE}/",
        {
            "committee_id": world.committees[1].pk,
            "title": "别的社区",
            "body": "想在别的社区提议题试试看",
            "category": "other",
        },
    )
    assert elsewhere.status_code == 422
    assert post(client, f"{BASE}/", {"title": "x"}).status_code == 422
    bad_photo = post(
        client,
        f"{BASE}/",
        {
            "title": "照片测试的议题",
            "body": "附上一张坏掉的照片看看会怎样",
            "category": "other",
            "photos": [{"content_type": "image/jpeg", "data": "!!!not base64"}],
        },
    )
    assert bad_photo.status_code == 422
    assert (
        client_as("dispatcher")
        .post(
            f"{BASE}/",
            {"title": "调度员的议题", "body": "调度员想提一个议题看看", "category": "other"},
            content_type=JSON,
        )
        .status_code
        == 403
    )
    assert not Topic.objects.exists()


def test_a_sibling_committee_gets_404_on_every_topic_endpoint(client_as, neighbour, raise_topic):
    topic = raise_topic()
    comment = services.comment_post(actor=neighbour(1), topic=topic, body="支持这个提议")
    client = client_as("stranger")
    assert client.get(f"{BASE}/{topic.pk}").json() == NOT_FOUND
    assert client.get(f"{BASE}/{topic.pk}/comments").status_code == 404
    for url in (
        f"{BASE}/{topic.pk}/support",
        f"{BASE}/{topic.pk}/comments",
        f"{BASE}/{topic.pk}/comments/{comment.pk}/report",
        f"{BASE}/{topic.pk}/comments/{comment.pk}/hide",
        f"{BASE}/{topic.pk}/answer",
        f"{BASE}/{topic.pk}/merge",
    ):
        assert post(client, url, {"body": "路过", "reason": "违规内容啊"}).status_code == 404, url
    assert client.delete(f"{BASE}/{topic.pk}/support").status_code == 404
    assert client.get(f"{BASE}/").json()["count"] == 0
    assert Support.objects.count() == 0 and Comment.objects.count() == 1


def test_residents_cannot_moderate_and_staff_can(users, client_as, neighbour, raise_topic):
    duplicate, topic = raise_topic(title="又一个长椅议题"), raise_topic()
    comment = services.comment_post(actor=neighbour(1), topic=topic, body="这是广告链接")
    resident = client_as("resident")
    hide_url = f"{BASE}/{topic.pk}/comments/{comment.pk}/hide"
    assert post(resident, hide_url, {"reason": "商业广告内容"}).status_code == 403
    assert post(resident, f"{BASE}/{topic.pk}/answer", {"kind": "declined"}).status_code == 403
    report = post(resident, f"{BASE}/{topic.pk}/comments/{comment.pk}/report", {"reason": "广告"})
    assert report.status_code == 200 and report.json()["reported"]
    worker = client_as("worker")
    hidden = post(worker, hide_url, {"reason": "商业广告内容"}).json()
    assert hidden["state"] == CommentState.HIDDEN and hidden["text"] == "这是广告链接"
    merged = post(
        worker, f"{BASE}/{duplicate.pk}/merge", {"into_id": topic.pk, "reason": "与已有议题重复"}
    )
    assert merged.status_code == 200, merged.content
    assert merged.json()["id"] == topic.pk
    no_reason = post(worker, f"{BASE}/{topic.pk}/answer", {"kind": "declined"})
    assert no_reason.status_code == 422
    assert post(worker, f"{BASE}/{topic.pk}/answer", {"kind": ""}).status_code == 422
    unknown = post(worker, f"{BASE}/{topic.pk}/answer", {"kind": "referred", "category": "ZZ99"})
    assert unknown.status_code == 422
    category = Category.objects.filter(active=True).first()
    referred = post(
        worker,
        f"{BASE}/{topic.pk}/answer",
        {"kind": "referred", "category": category.service_code, "text": "转交网格中心"},
    ).json()
    assert referred["state"] == TopicState.REFERRED and referred["work_order_id"]
    # client_as signs the one test client in again: now as the resident.
    public = client_as("resident").get(f"{BASE}/{topic.pk}/comments").json()
    assert public[0]["text"] == "商业广告内容"


def test_garbage_is_a_4xx(client_as, raise_topic):
    topic = raise_topic()
    client = client_as("resident")
    assert client.get(f"{BASE}/?state=bogus").status_code == 422
    assert client.get(f"{BASE}/?page=0").status_code == 422
    assert client.get(f"{BASE}/?committee=abc").status_code == 422
    assert client.get(f"{BASE}/99999999999").status_code == 422
    assert client.get(f"{BASE}/abc").status_code in (404, 422)
    assert post(client, f"{BASE}/{topic.pk}/comments", {"body": "x\x00y"}).status_code == 422
    assert post(client, f"{BASE}/{topic.pk}/comments", {"parent_id": 2**31 - 1}).status_code == 422
    response = client.post(f"{BASE}/{topic.pk}/comments", "not json", content_type=JSON)
    assert 400 <= response.status_code < 500


def test_the_list_is_a_bounded_number_of_queries(
    users, client_as, raise_topic, django_assert_max_num_queries
):
    for index in range(30):
        topic = raise_topic(title=f"议题第{index}号的标题")
        if index % 2:
            services.topic_support(actor=users["resident"], topic=topic)
    client = client_as("resident")
    client.get(f"{BASE}/")
    with django_assert_max_num_queries(10):
        body = client.get(f"{BASE}/").json()
    assert body["count"] == 30 and sum(r["backed"] for r in body["results"]) == 15
