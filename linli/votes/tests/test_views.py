import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from linli.accounts.services import role_assign, user_create
from linli.conftest import PASSWORD
from linli.people.tests.factories import a_unit
from linli.votes.models import Participation, Vote
from linli.votes.services import ballot_cast, ballot_record, vote_close
from linli.votes.tests.factories import a_vote, an_open_vote, owner_of, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(world, users):
    return register(world, users)


@pytest.fixture
def vote(world, people):
    return an_open_vote(world, title="是否同意加装电梯")


def url(name, vote, *args):
    return reverse(f"votes:{name}", args=[vote.pk, *args])


# --- the resident's phone view -------------------------------------------------------------------


def test_a_resident_sees_the_open_vote_and_votes_in_two_taps(client_as, vote):
    client = client_as("resident")
    page = client.get(reverse("votes:mine")).content.decode()
    assert "是否同意加装电梯" in page and f'data-vote="{vote.pk}"' in page
    ballot = client.get(url("vote", vote)).content.decode()
    assert 'name="answer"' in ballot and "hx-post" in ballot
    response = client.post(url("vote", vote), {"answer": "yes"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "data-voted" in response.content.decode()
    assert "<html" not in response.content.decode()  # htmx gets the fragment only
    assert Participation.objects.get(vote=vote).channel == "online"
    # Voting again is refused, plainly.
    again = client.post(url("vote", vote), {"answer": "no"})
    assert again.status_code == 302
    assert Participation.objects.filter(vote=vote).count() == 1
    assert "data-voted" in client.get(reverse("votes:mine")).content.decode()


def test_without_htmx_the_ballot_posts_and_redirects(client_as, vote):
    response = client_as("resident").post(url("vote", vote), {"answer": "abstain"})
    assert response.status_code == 302 and response["Location"] == url("vote", vote)


@pytest.mark.parametrize(
    "data", [{}, {"answer": "maybe"}, {"answer": "x" * 5000}, {"answers": "1"}]
)
def test_garbage_ballots_get_a_4xx_and_no_vote(client_as, vote, data):
    response = client_as("resident").post(url("vote", vote), data)
    assert 400 <= response.status_code < 500
    assert not Participation.objects.filter(vote=vote).exists()


def test_an_election_ballot_of_too_many_candidates_is_refused(client_as, world, people):
    vote = an_open_vote(
        world, kind="election", seats=5, options=["甲", "乙", "丙", "丁", "戊", "己"]
    )
    ids = [str(pk) for pk in vote.options.values_list("pk", flat=True)]
    client = client_as("resident")
    assert client.post(url("vote", vote), {"answers": ids}).status_code == 422
    assert client.post(url("vote", vote), {"answers": ids[:5]}).status_code == 302


def test_a_resident_of_another_committee_gets_404(world, client, vote):
    other = user_create(actor=None, username="neighbour", password=PASSWORD)
    role_assign(actor=None, user=other, role="resident", place=a_unit(world.committees[1], 0))
    client.force_login(other)
    assert client.get(url("vote", vote)).status_code == 404
    assert client.get(url("result", vote)).status_code == 404
    assert client.post(url("vote", vote), {"answer": "yes"}).status_code == 404
    assert f'data-vote="{vote.pk}"' not in client.get(reverse("votes:mine")).content.decode()


def test_drafts_are_for_staff_only(client_as, world, people):
    draft = a_vote(world)
    assert client_as("resident").get(url("vote", draft)).status_code == 404
    assert client_as("worker").get(url("vote", draft)).status_code == 200


# --- every view: 404 for a sibling committee ----------------------------------------------------


def test_every_vote_view_is_404_for_a_sibling_committee(client_as, users, vote):
    paper = ballot_record(
        actor=users["worker"],
        vote=vote,
        voter_key=vote.entitlements.order_by("id").last().key,
        choice="yes",
        channel="paper",
        provenance="第1号",
    )
    client = client_as("stranger")
    for name, args in [
        ("vote", []),
        ("result", []),
        ("export", []),
        ("edit", []),
        ("open", []),
        ("close", []),
        ("cancel", []),
        ("record", []),
        ("pending", []),
        ("confirm", [paper.pk]),
        ("reject", [paper.pk]),
    ]:
        for method in ("get", "post"):
            response = getattr(client, method)(url(name, vote, *args))
            assert response.status_code in (404, 405), (name, method, response.status_code)
            if response.status_code == 405:
                assert method == "get"
    assert "是否同意加装电梯" not in client.get(reverse("votes:manage")).content.decode()
    paper.refresh_from_db()
    assert paper.state == "pending"


def test_oversight_sees_but_cannot_manage(client_as, vote):
    client = client_as("selfgov")
    assert client.get(url("vote", vote)).status_code == 200
    assert client.get(url("result", vote)).status_code == 200
    assert client.get(reverse("votes:manage")).status_code == 200
    assert client.get(url("record", vote)).status_code == 404
    assert client.post(url("close", vote)).status_code == 404
    assert Vote.objects.get(pk=vote.pk).state == "open"


# --- staff pages ---------------------------------------------------------------------------------


def test_a_worker_sets_up_opens_and_closes_a_vote(client_as, world, people):
    client = client_as("worker")
    assert client.get(reverse("votes:create")).status_code == 200
    response = client.post(
        reverse("votes:create"),
        {
            "place": world.committees[0].pk,
            "kind": "poll",
            "method": "single",
            "title": "活动室开放时间",
            "unit": "person",
            "options": "上午\n下午\n晚上",
            "score_max": "5",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    vote = Vote.objects.get(title="活动室开放时间")
    assert vote.rule_id == "poll_single" and vote.options.count() == 3
    edit = client.post(
        url("edit", vote),
        {
            "kind": "poll",
            "method": "multiple",
            "title": "活动室开放时间",
            "unit": "person",
            "options": "上午\n下午",
            "score_max": "5",
        },
    )
    assert edit.status_code == 302
    vote.refresh_from_db()
    assert vote.method == "multiple" and vote.options.count() == 2
    client.post(url("open", vote))
    assert Vote.objects.get(pk=vote.pk).state == "open"
    assert client.get(url("edit", vote)).status_code == 302  # no longer a draft
    client.post(url("close", vote))
    assert Vote.objects.get(pk=vote.pk).state == "closed"


def test_a_bad_form_shows_errors_not_a_500(client_as, world):
    client = client_as("worker")
    response = client.post(
        reverse("votes:create"),
        {
            "place": world.committees[0].pk,
            "kind": "election",
            "title": "选举",
            "unit": "person",
            "options": "甲\n乙",
            "score_max": "5",
        },
    )
    assert response.status_code == 200 and "has-error" in response.content.decode()
    assert client.post(reverse("votes:create"), {"place": "x", "kind": "?"}).status_code == 200
    assert (
        client.post(reverse("votes:create"), {"place": world.committees[1].pk}).status_code == 200
    )
    assert not Vote.objects.exists()


def test_paper_ballots_are_recorded_and_confirmed_by_a_second_worker(
    client_as, users, vote, people
):
    worker = client_as("worker")
    search = worker.get(url("record", vote), {"q": "居"}).content.decode()
    key = f"r:{people[2].pk}"
    assert f'data-voter="{key}"' in search
    assert worker.get(url("record", vote), {"voter": key}).status_code == 200
    response = worker.post(
        url("record", vote),
        {"voter_key": key, "channel": "paper", "provenance": "第8号表决票", "b-answer": "no"},
    )
    assert response.status_code == 302
    paper = Participation.objects.get(vote=vote, entitlement__key=key)
    assert paper.state == "pending"
    page = worker.get(url("pending", vote)).content.decode()
    assert f'data-participation="{paper.pk}"' in page
    worker.post(url("confirm", vote, paper.pk))
    paper.refresh_from_db()
    assert paper.state == "pending"  # the recorder cannot confirm
    client_as("director").post(url("confirm", vote, paper.pk))
    paper.refresh_from_db()
    assert paper.state == "counted" and paper.confirmed_by == users["director"]
    duplicate = worker.post(
        url("record", vote),
        {"voter_key": key, "channel": "meeting", "b-answer": "yes"},
    )
    assert duplicate.status_code == 409


def test_a_rejected_paper_ballot_frees_the_voter(client_as, users, vote, people):
    paper = ballot_record(
        actor=users["worker"],
        vote=vote,
        voter_key=f"r:{people[0].pk}",
        choice="no",
        channel="paper",
        provenance="第9号",
    )
    client_as("worker").post(url("reject", vote, paper.pk), {"reason": "重复投票"})
    paper.refresh_from_db()
    assert paper.state == "rejected" and paper.note == "重复投票"
    assert client_as("resident").post(url("vote", vote), {"answer": "yes"}).status_code == 302
    assert Participation.objects.filter(vote=vote, state="counted").count() == 1


def test_the_result_page_shows_the_arithmetic_and_its_basis(client_as, users, vote):
    ballot_cast(actor=users["resident"], vote=vote, choice="yes")
    page = client_as("resident").get(url("result", vote)).content.decode()
    assert 'data-step="quorum"' in page and 'data-step="majority"' in page
    assert "城市居民委员会组织法" in page and "data-basis" in page
    assert "data-unverified" in page  # the 2025 revision's numbers are not verified


def test_hidden_results_show_turnout_only(client_as, users, world, people):
    vote = an_open_vote(world, hide_results=True)
    ballot_cast(actor=users["resident"], vote=vote, choice="yes")
    page = client_as("worker").get(url("result", vote)).content.decode()
    assert "data-hidden" in page and 'data-step="majority"' not in page


def test_a_secret_vote_export_names_no_one(client_as, users, world, people):
    vote = an_open_vote(world, secret=True)
    ballot_cast(actor=users["resident"], vote=vote, choice="yes")
    vote_close(actor=None, vote=vote)
    response = client_as("worker").get(url("export", vote))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    cells = " ".join(
        str(v) for s in book for row in s.iter_rows(values_only=True) for v in row if v
    )
    assert "是否同意加装电梯" in cells
    assert all(p.name not in cells and p.name[0] + "*" not in cells for p in people)
    assert len(book.sheetnames) == 1


def test_an_open_vote_export_lists_masked_voters(client_as, users, vote, people):
    ballot_cast(actor=users["resident"], vote=vote, choice="yes")
    response = client_as("worker").get(url("export", vote))
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    cells = " ".join(
        str(v) for s in book for row in s.iter_rows(values_only=True) for v in row if v
    )
    assert "居***号" in cells and people[0].name not in cells


def test_a_resident_cannot_export_or_record(client_as, vote):
    client = client_as("resident")
    assert client.get(url("export", vote)).status_code == 404
    assert client.get(url("record", vote)).status_code == 404
    assert client.get(url("pending", vote)).status_code == 404
    assert client.get(reverse("votes:manage")).status_code == 404
    assert client.get(reverse("votes:create")).status_code == 404


# --- query budgets -------------------------------------------------------------------------------


def test_list_pages_have_a_query_budget(
    client_as, users, world, people, django_assert_max_num_queries
):
    for index in range(6):
        v = an_open_vote(world, title=f"第{index}号议题")
        ballot_cast(actor=users["resident"], vote=v, choice="yes")
    owner_of(world, 0, "业主", area="90")
    resident = client_as("resident")
    resident.get(reverse("votes:mine"))
    with django_assert_max_num_queries(12):  # however many votes
        resident.get(reverse("votes:mine"))
    worker = client_as("worker")
    worker.get(reverse("votes:manage"))
    with django_assert_max_num_queries(12):
        worker.get(reverse("votes:manage"))


def test_the_vote_and_result_pages_have_a_query_budget(
    client_as, users, world, people, django_assert_max_num_queries
):
    vote = an_open_vote(world, kind="poll", method="ranking", options=["甲", "乙", "丙"])
    ids = list(vote.options.values_list("pk", flat=True))
    ballot_cast(actor=users["resident"], vote=vote, choice=ids)
    worker = client_as("worker")
    for name in ("vote", "result", "pending", "record"):
        worker.get(url(name, vote))
        with django_assert_max_num_queries(20):
            assert worker.get(url(name, vote)).status_code == 200


def test_the_set_up_form_asks_the_kind_first_then_its_fields(client_as):
    client = client_as("worker")
    first = client.get(reverse("votes:create")).content.decode()
    assert "?kind=owners" in first and 'name="title"' not in first
    owners = client.get(reverse("votes:create"), {"kind": "owners"}).content.decode()
    assert 'name="owners_matter"' in owners and 'name="seats"' not in owners
    election = client.get(reverse("votes:create"), {"kind": "election"}).content.decode()
    assert 'name="seats"' in election and 'name="owners_matter"' not in election
    assert 'value="owner"' not in election  # owners do not elect the committee


@pytest.mark.parametrize(
    "query",
    [{"q": "x" * 500}, {"voter": "r:99999999999999999999"}, {"q": "'; DROP"}, {"voter": ""}],
)
def test_garbage_on_the_ballot_entry_page_is_harmless(client_as, vote, query):
    assert client_as("worker").get(url("record", vote), query).status_code == 200


def test_garbage_ids_are_404(client_as, vote):
    client = client_as("worker")
    assert client.get("/votes/99999999999/").status_code == 404
    assert client.post(f"/votes/{vote.pk}/ballots/99999999999/confirm/").status_code == 404
