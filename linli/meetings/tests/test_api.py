import pytest

from linli.meetings import services
from linli.meetings.tests.conftest import announced, check_in, draft, running

pytestmark = pytest.mark.django_db

API = "/api/v1/meetings"


def test_list_and_detail_are_scoped(client_as, world, users, adults, django_assert_max_num_queries):
    meeting = announced(world, users, attendance_mode="adults")
    hidden = draft(world, users, title="草稿")
    for n in range(5):
        announced(world, users, attendance_mode="households", title=f"会议{n}")
    client = client_as("resident")
    with django_assert_max_num_queries(12):
        body = client.get(f"{API}/").json()
    titles = [m["title"] for m in body["results"]]
    assert meeting.title in titles and "草稿" not in titles and body["count"] == 6
    detail = client.get(f"{API}/{meeting.pk}").json()
    assert detail["agenda"][0]["title"] == "加装电梯方案"
    assert detail["my_invitation"]["checkin_token"] and detail["can_manage"] is False
    assert client.get(f"{API}/{hidden.pk}").status_code == 404
    stranger = client_as("stranger")
    assert stranger.get(f"{API}/{meeting.pk}").status_code == 404
    assert stranger.get(f"{API}/").json()["count"] == 0
    assert client_as("worker").get(f"{API}/", {"state": "draft"}).json()["count"] == 1


def test_check_in_quorum_and_motions(client_as, world, users, adults):
    meeting = running(world, users, attendance_mode="adults")
    invitations = list(meeting.invitations.order_by("position"))
    client = client_as("worker")
    response = client.post(
        f"{API}/{meeting.pk}/checkin",
        {"token": invitations[0].checkin_token, "method": "qr"},
        content_type="application/json",
    )
    assert response.status_code == 201 and response.json()["method"] == "qr"
    again = client.post(
        f"{API}/{meeting.pk}/checkin",
        {"invitation_id": invitations[0].pk, "method": "list"},
        content_type="application/json",
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_checked_in"
    check_in(users, meeting, invitations[1:6])
    quorum = client.get(f"{API}/{meeting.pk}/quorum").json()
    assert (quorum["present"], quorum["base"], quorum["quorate"]) == (6, 10, True)
    assert quorum["steps"][0]["fraction"] == "1/2"
    motion = services.motion_add(
        actor=users["worker"], agenda_item=meeting.agenda.first(), text="同意"
    )
    motion = services.motion_open_vote(actor=users["worker"], motion=motion)
    services.motion_record_hands(
        actor=users["worker"], motion=motion, choices={i.pk: "yes" for i in invitations[:6]}
    )
    services.motion_close(actor=users["worker"], motion=motion)
    motions = client.get(f"{API}/{meeting.pk}/motions").json()
    assert motions[0]["passed"] is True and motions[0]["resolution_id"]
    resolutions = client_as("resident").get(f"{API}/{meeting.pk}/resolutions").json()
    assert resolutions[0]["passed"] and resolutions[0]["result"]["facts"]["present"] == 6


def test_residents_check_in_only_themselves_by_api(client_as, world, users, adults):
    meeting = running(world, users, attendance_mode="adults")
    client = client_as("resident")
    other = meeting.invitations.exclude(user=users["resident"]).first()
    refused = client.post(
        f"{API}/{meeting.pk}/checkin",
        {"invitation_id": other.pk, "method": "list"},
        content_type="application/json",
    )
    assert refused.status_code == 403
    mine = client.post(
        f"{API}/{meeting.pk}/checkin", {"method": "self"}, content_type="application/json"
    )
    assert mine.status_code == 201 and mine.json()["label"] == ""
    invitations = client.get(f"{API}/invitations/mine").json()
    assert invitations[0]["checked_in"] is True


def test_garbage_is_refused_with_4xx(client_as, world, users, adults):
    meeting = running(world, users, attendance_mode="adults")
    client = client_as("worker")
    assert client.get(f"{API}/abc").status_code in (404, 422)
    assert client.get(f"{API}/99999999999").status_code in (404, 422)
    assert client.get(f"{API}/", {"page": "x", "state": "nope"}).status_code == 422
    bad = client.post(
        f"{API}/{meeting.pk}/checkin", {"method": "teleport"}, content_type="application/json"
    )
    assert bad.status_code == 422
    unknown = client.post(
        f"{API}/{meeting.pk}/checkin", {"token": "nope\x00"}, content_type="application/json"
    )
    assert unknown.status_code == 422
    broken = client.post(f"{API}/{meeting.pk}/checkin", "{", content_type="application/json")
    assert broken.status_code in (400, 422)


def test_openapi_lists_the_meetings_endpoints(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/meetings/{meeting_id}/quorum" in paths
    assert "/api/v1/meetings/{meeting_id}/checkin" in paths
