import pytest

from linli.votes.models import Participation, Vote
from linli.votes.services import ballot_cast, ballot_record
from linli.votes.tests.factories import a_vote, an_open_vote, register

pytestmark = pytest.mark.django_db

BASE = "/api/v1/votes"
JSON = "application/json"
NOT_FOUND = {"error": {"code": "not_found", "message": "Not found."}}


@pytest.fixture
def people(world, users):
    return register(world, users)


@pytest.fixture
def vote(world, people):
    return an_open_vote(world, title="是否同意加装电梯")


def test_the_openapi_document_lists_the_vote_endpoints(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        f"{BASE}/",
        f"{BASE}/manage",
        f"{BASE}/{{vote_id}}",
        f"{BASE}/{{vote_id}}/ballots",
        f"{BASE}/{{vote_id}}/result",
        f"{BASE}/{{vote_id}}/open",
        f"{BASE}/{{vote_id}}/close",
        f"{BASE}/{{vote_id}}/voters",
        f"{BASE}/{{vote_id}}/record",
        f"{BASE}/{{vote_id}}/ballots/{{participation_id}}/confirm",
        f"{BASE}/{{vote_id}}/ballots/{{participation_id}}/reject",
    ):
        assert path in paths, path


def test_anonymous_callers_are_refused(client, vote):
    assert client.get(f"{BASE}/").status_code == 401
    assert client.get(f"{BASE}/{vote.pk}").status_code == 401


def test_a_resident_lists_votes_casts_once_and_reads_the_result(client_as, vote):
    client = client_as("resident")
    rows = client.get(f"{BASE}/").json()
    assert [(r["id"], r["can_vote"], r["voted"]) for r in rows] == [(vote.pk, True, False)]
    detail = client.get(f"{BASE}/{vote.pk}").json()
    assert detail["can_vote"] and detail["options"] == [] and detail["participation"] is None
    cast = client.post(f"{BASE}/{vote.pk}/ballots", {"choice": "yes"}, content_type=JSON)
    assert cast.status_code == 201 and cast.json()["participation"]["channel"] == "online"
    again = client.post(f"{BASE}/{vote.pk}/ballots", {"choice": "no"}, content_type=JSON)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_voted"
    detail = client.get(f"{BASE}/{vote.pk}").json()
    assert detail["my_choice"] == "yes" and not detail["can_vote"]
    result = client.get(f"{BASE}/{vote.pk}/result").json()
    assert result["took_part"] == 1 and result["facts"]["yes"] == 1
    assert result["outcome"]["basis"] and {s["key"] for s in result["steps"]} == {
        "quorum",
        "majority",
    }


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"choice": "maybe"},
        {"choice": True},
        {"choice": 1.5},
        {"choice": ["yes"]},
        {"choice": {"a": "b"}},
        {"choice": "yes\x00"},
    ],
)
def test_garbage_ballots_are_422(client_as, vote, body):
    response = client_as("resident").post(f"{BASE}/{vote.pk}/ballots", body, content_type=JSON)
    assert response.status_code == 422
    assert not Participation.objects.filter(vote=vote).exists()


def test_not_json_is_4xx(client_as, vote):
    client = client_as("resident")
    response = client.post(f"{BASE}/{vote.pk}/ballots", "not json", content_type=JSON)
    assert 400 <= response.status_code < 500


def test_someone_not_on_the_list_gets_403(client_as, vote):
    response = client_as("worker").post(
        f"{BASE}/{vote.pk}/ballots", {"choice": "yes"}, content_type=JSON
    )
    assert response.status_code == 403


def test_another_committees_vote_is_404_everywhere(client_as, users, vote, people):
    paper = ballot_record(
        actor=users["worker"],
        vote=vote,
        voter_key=f"r:{people[1].pk}",
        choice="yes",
        channel="paper",
        provenance="第1号",
    )
    client = client_as("stranger")
    for method, path, body in [
        ("get", f"{BASE}/{vote.pk}", None),
        ("get", f"{BASE}/{vote.pk}/result", None),
        ("get", f"{BASE}/{vote.pk}/voters", None),
        ("post", f"{BASE}/{vote.pk}/ballots", {"choice": "yes"}),
        ("post", f"{BASE}/{vote.pk}/open", {}),
        ("post", f"{BASE}/{vote.pk}/close", {}),
        (
            "post",
            f"{BASE}/{vote.pk}/record",
            {"voter_key": f"r:{people[2].pk}", "choice": "yes", "channel": "meeting"},
        ),
        ("post", f"{BASE}/{vote.pk}/ballots/{paper.pk}/confirm", {}),
        ("post", f"{BASE}/{vote.pk}/ballots/{paper.pk}/reject", {"reason": "无效"}),
        ("get", f"{BASE}/999999", None),
    ]:
        if method == "get":
            response = client.get(path)
        else:
            response = client.post(path, body, content_type=JSON)
        assert response.status_code == 404, (path, response.status_code)
        assert response.json() == NOT_FOUND
    assert client.get(f"{BASE}/manage").json()["count"] == 0
    assert client.get(f"{BASE}/").json() == []
    paper.refresh_from_db()
    assert paper.state == "pending"


def test_staff_set_up_open_record_confirm_and_close(client_as, world, people):
    worker = client_as("worker")
    created = worker.post(
        f"{BASE}/",
        {
            "place_id": world.committees[0].pk,
            "kind": "owners",
            "title": "续聘物业",
            "unit": "owner",
            "owners_matter": "property_manager",
        },
        content_type=JSON,
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["rule_id"] == "owners_ordinary" and body["state"] == "draft"
    # No owners with areas: the rule cannot decide, so the vote does not open.
    refused = worker.post(f"{BASE}/{body['id']}/open", {}, content_type=JSON)
    assert refused.status_code == 422
    motion = worker.post(
        f"{BASE}/",
        {
            "place_id": world.committees[0].pk,
            "kind": "motion",
            "title": "议题",
            "unit": "person",
            "rule_id": "residents_meeting",
        },
        content_type=JSON,
    ).json()
    opened = worker.post(f"{BASE}/{motion['id']}/open", {}, content_type=JSON).json()
    assert opened["state"] == "open" and opened["entitled_count"] == len(people)
    voters = worker.get(f"{BASE}/{motion['id']}/voters", {"q": "居"}).json()
    assert len(voters) == len(people) and all("*" in v["label"] for v in voters)
    recorded = worker.post(
        f"{BASE}/{motion['id']}/record",
        {"voter_key": voters[0]["key"], "choice": "no", "channel": "proxy"},
        content_type=JSON,
    )
    assert recorded.status_code == 422
    recorded = worker.post(
        f"{BASE}/{motion['id']}/record",
        {
            "voter_key": voters[0]["key"],
            "choice": "no",
            "channel": "proxy",
            "proxy_name": "李四",
            "provenance": "授权委托书",
        },
        content_type=JSON,
    )
    assert recorded.status_code == 201 and recorded.json()["state"] == "pending"
    pid = recorded.json()["id"]
    same = worker.post(f"{BASE}/{motion['id']}/ballots/{pid}/confirm", {}, content_type=JSON)
    assert same.status_code == 403
    closing = worker.post(f"{BASE}/{motion['id']}/close", {}, content_type=JSON)
    assert closing.status_code == 422  # a ballot still awaits confirmation
    confirmed = client_as("director").post(
        f"{BASE}/{motion['id']}/ballots/{pid}/confirm", {}, content_type=JSON
    )
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "counted"
    closed = worker.post(f"{BASE}/{motion['id']}/close", {}, content_type=JSON).json()
    assert closed["state"] == "closed"
    listed = worker.get(f"{BASE}/manage", {"state": "closed"}).json()
    assert [v["id"] for v in listed["results"]] == [motion["id"]]


def test_a_resident_cannot_use_staff_endpoints(client_as, world, vote):
    client = client_as("resident")
    assert client.post(f"{BASE}/{vote.pk}/close", {}, content_type=JSON).status_code == 404
    assert client.get(f"{BASE}/{vote.pk}/voters").status_code == 404
    body = {"place_id": world.committees[0].pk, "kind": "motion", "title": "x", "unit": "person"}
    assert client.post(f"{BASE}/", body, content_type=JSON).status_code == 404
    assert Vote.objects.count() == 1


def test_a_secret_vote_detail_never_shows_a_choice(client_as, users, world, people):
    vote = an_open_vote(world, secret=True)
    ballot_cast(actor=users["resident"], vote=vote, choice="no")
    detail = client_as("resident").get(f"{BASE}/{vote.pk}").json()
    assert detail["participation"] and detail["my_choice"] is None


def test_poll_results_are_json_with_string_keys(client_as, users, world, people):
    vote = an_open_vote(world, kind="poll", method="score", options=["甲", "乙"])
    first, second = vote.options.values_list("pk", flat=True)
    client = client_as("resident")
    body = {"choice": {str(first): 4, str(second): 2}}
    assert client.post(f"{BASE}/{vote.pk}/ballots", body, content_type=JSON).status_code == 201
    result = client.get(f"{BASE}/{vote.pk}/result").json()
    assert result["outcome"]["winners"] == [str(first)]
    assert {c["key"]: c["count"] for c in result["counts"]} == {str(first): 4, str(second): 2}


def test_drafts_are_not_listed_to_residents(client_as, world, people):
    draft = a_vote(world)
    assert client_as("resident").get(f"{BASE}/{draft.pk}").status_code == 404


def test_the_list_endpoints_have_a_query_budget(
    client_as, users, world, people, django_assert_max_num_queries
):
    for index in range(5):
        vote = an_open_vote(world, title=f"议题{index}")
        ballot_cast(actor=users["resident"], vote=vote, choice="yes")
    resident = client_as("resident")
    resident.get(f"{BASE}/")
    with django_assert_max_num_queries(11):
        assert len(resident.get(f"{BASE}/").json()) == 5
    worker = client_as("worker")  # the same test client, signed in again
    worker.get(f"{BASE}/manage")
    with django_assert_max_num_queries(10):
        assert worker.get(f"{BASE}/manage").json()["count"] == 5
