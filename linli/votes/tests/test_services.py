import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from linli.notices.models import Notification
from linli.people.tests.factories import a_household
from linli.votes import selectors
from linli.votes.electorate import Voter
from linli.votes.models import Ballot, Entitlement, Participation, Vote
from linli.votes.services import (
    AlreadyVoted,
    ballot_cast,
    ballot_confirm,
    ballot_record,
    ballot_reject,
    vote_cancel,
    vote_close,
    vote_open,
    vote_update,
)
from linli.votes.tests.factories import a_vote, adult, an_open_vote, owner_of, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(world, users):
    return register(world, users)


def key(resident) -> str:
    return f"r:{resident.pk}"


# --- setting up ---------------------------------------------------------------------------------


def test_the_owners_matter_decides_the_majority(world, users):
    use = a_vote(world, kind="owners", unit="owner", owners_matter="maintenance_fund_use")
    raise_ = a_vote(world, kind="owners", unit="owner", owners_matter="maintenance_fund_raise")
    assert (use.rule_id, raise_.rule_id) == ("owners_ordinary", "owners_special")
    with pytest.raises(ValidationError) as caught:
        a_vote(world, kind="owners", unit="owner")
    assert "owners_matter" in caught.value.message_dict


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"options": ["甲", "乙"]}, "options"),
        ({"title": "  "}, "title"),
        ({"kind": "election", "rule_id": "", "options": ["甲", "乙"]}, "seats"),
        ({"kind": "budget", "budget": "1000", "options": ["甲", "乙"]}, "options"),
        ({"kind": "poll", "options": ["甲", "乙"]}, "method"),
        ({"kind": "poll", "method": "single", "options": ["甲"]}, "options"),
        ({"unit": "owner"}, "unit"),
        ({"rule_id": "owners_special"}, "rule_id"),
        ({"closes_at": timezone.now() - dt.timedelta(hours=1)}, "closes_at"),
    ],
)
def test_bad_settings_are_refused_field_by_field(world, fields, field):
    with pytest.raises(ValidationError) as caught:
        a_vote(world, **fields)
    assert field in caught.value.message_dict


def test_only_committee_staff_of_the_place_set_votes_up(world, users):
    with pytest.raises(PermissionDenied):
        a_vote(world, actor=users["stranger"])
    with pytest.raises(PermissionDenied):
        a_vote(world, actor=users["resident"])
    assert a_vote(world, actor=users["worker"]).created_by == users["worker"]


def test_a_vote_is_held_in_a_committee_compound_or_building(world):
    with pytest.raises(ValidationError):
        a_vote(world, place=world.street)


# --- opening freezes the electorate -------------------------------------------------------------


def test_opening_freezes_the_electorate_and_notifies(world, users, people):
    vote = an_open_vote(world)
    assert vote.state == "open" and vote.entitled_count == len(people)
    labels = set(Entitlement.objects.filter(vote=vote).values_list("label", flat=True))
    assert labels == {"居***号"} and not any(p.name in labels for p in people)
    assert Notification.objects.filter(user=users["resident"], kind="vote_open").exists()
    # Someone registered afterwards is not on the list and cannot vote.
    newcomer = adult(a_household(world.committees[0], 5), name="新来的")
    newcomer.account = users["director"]
    newcomer.save(update_fields=["account"])
    with pytest.raises(PermissionDenied):
        ballot_cast(actor=users["director"], vote=vote, choice="yes")
    with pytest.raises(ValidationError):
        ballot_record(
            actor=users["worker"],
            vote=vote,
            voter_key=key(newcomer),
            choice="yes",
            channel="meeting",
        )


def test_the_database_refuses_to_change_a_frozen_electorate(world, people):
    vote = an_open_vote(world)
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        Entitlement.objects.create(vote=vote, key="r:999999", label="张*")
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        Entitlement.objects.filter(vote=vote).update(area=Decimal("1"))


def test_secrecy_and_hidden_results_cannot_be_relaxed_once_open(world, people):
    vote = an_open_vote(world, secret=True, hide_results=True)
    with pytest.raises(ValidationError):
        vote_update(actor=None, vote=vote, secret=False)
    with pytest.raises(ValidationError):
        vote_update(actor=None, vote=vote, hide_results=False)
    # Not even behind the services' back: the database refuses it (migration 0002).
    for change in ({"secret": False}, {"hide_results": False}, {"state": "draft"}):
        with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
            Vote.objects.filter(pk=vote.pk).update(**change)
    vote.refresh_from_db()
    assert vote.secret and vote.hide_results and vote.state == "open"
    # A draft may still change.
    draft = a_vote(world, secret=True)
    assert vote_update(actor=None, vote=draft, secret=False).secret is False


def test_an_empty_electorate_does_not_open(world):
    with pytest.raises(ValidationError):
        an_open_vote(world)


def test_a_list_vote_needs_its_voters(world, users, people):
    vote = a_vote(world, unit="list", rule_id="representatives_meeting")
    with pytest.raises(ValidationError):
        vote_open(actor=None, vote=vote)
    voters = [Voter(key=f"u:{users['resident'].pk}", label="钱阿姨", user_id=users["resident"].pk)]
    vote = vote_open(actor=None, vote=vote, voters=voters)
    ballot_cast(actor=users["resident"], vote=vote, choice="yes")
    assert selectors.vote_result(vote=vote)["took_part"] == 1


def test_an_owners_vote_needs_recorded_areas(world):
    owner_of(world, 0, "无面积")
    vote = a_vote(world, kind="owners", unit="owner", owners_matter="property_manager")
    with pytest.raises(ValidationError):
        vote_open(actor=None, vote=vote)


# --- one vote per voter across every channel ----------------------------------------------------


def test_online_then_paper_is_refused(world, users, people):
    vote = an_open_vote(world)
    ballot_cast(actor=users["resident"], vote=vote, choice="yes")
    with pytest.raises(AlreadyVoted):
        ballot_cast(actor=users["resident"], vote=vote, choice="no")
    with pytest.raises(AlreadyVoted):
        ballot_record(
            actor=users["worker"],
            vote=vote,
            voter_key=key(people[0]),
            choice="no",
            channel="paper",
            provenance="第12号表决票",
        )
    assert Participation.objects.filter(vote=vote).count() == 1


def test_a_pending_paper_ballot_blocks_online_until_rejected(world, users, people):
    vote = an_open_vote(world)
    paper = ballot_record(
        actor=users["worker"],
        vote=vote,
        voter_key=key(people[0]),
        choice="no",
        channel="paper",
        provenance="第3号表决票",
    )
    assert paper.state == "pending"
    with pytest.raises(AlreadyVoted):
        ballot_cast(actor=users["resident"], vote=vote, choice="yes")
    assert selectors.vote_result(vote=vote)["took_part"] == 0
    ballot_reject(actor=users["director"], participation=paper, reason="票面无签名")
    assert not Ballot.objects.filter(vote=vote).exists()
    ballot_cast(actor=users["resident"], vote=vote, choice="yes")
    result = selectors.vote_result(vote=vote)
    assert result["took_part"] == 1 and result["facts"]["yes"] == 1


def test_a_second_different_worker_confirms_paper_ballots(world, users, people):
    vote = an_open_vote(world)
    paper = ballot_record(
        actor=users["worker"],
        vote=vote,
        voter_key=key(people[1]),
        choice="yes",
        channel="paper",
        provenance="第7号表决票",
    )
    with pytest.raises(PermissionDenied):
        ballot_confirm(actor=users["worker"], participation=paper)
    with pytest.raises(PermissionDenied):
        ballot_confirm(actor=users["stranger"], participation=paper)
    assert selectors.vote_result(vote=vote)["facts"]["yes"] == 0
    confirmed = ballot_confirm(actor=users["director"], participation=paper)
    assert confirmed.state == "counted" and confirmed.confirmed_by == users["director"]
    assert selectors.vote_result(vote=vote)["facts"]["yes"] == 1
    with pytest.raises(ValidationError):
        ballot_confirm(actor=users["secretary"], participation=paper)
    # The database holds the same line.
    with pytest.raises(IntegrityError), transaction.atomic():
        Participation.objects.filter(pk=paper.pk).update(confirmed_by=users["worker"])


def test_proxies_need_the_proxy_and_the_written_authorisation(world, users, people):
    vote = an_open_vote(world)
    base = {"actor": users["worker"], "vote": vote, "voter_key": key(people[2]), "choice": "yes"}
    with pytest.raises(ValidationError):
        ballot_record(**base, channel="proxy", proxy_name="李四")
    with pytest.raises(ValidationError):
        ballot_record(**base, channel="paper")
    with pytest.raises(ValidationError):
        ballot_record(**base, channel="online")
    proxy = ballot_record(
        **base, channel="proxy", proxy_name="李四", provenance="授权委托书 2025-06-01"
    )
    assert proxy.state == "pending" and proxy.proxy_name == "李四"


def test_meeting_ballots_count_at_once(world, users, people):
    vote = an_open_vote(world)
    ballot_record(
        actor=users["worker"],
        vote=vote,
        voter_key=key(people[3]),
        choice="abstain",
        channel="meeting",
    )
    assert selectors.vote_result(vote=vote)["facts"]["abstain"] == 1


def test_a_household_votes_once_whoever_casts(world, users, people):
    household = people[0].household
    spouse = people[1]
    assert spouse.household_id == household.pk
    spouse.account = users["director"]
    spouse.save(update_fields=["account"])
    vote = an_open_vote(world, unit="household")
    ballot_cast(actor=users["director"], vote=vote, choice="no")
    with pytest.raises(AlreadyVoted):
        ballot_cast(actor=users["resident"], vote=vote, choice="yes")
    assert selectors.vote_result(vote=vote)["facts"] == {
        "entitled": 3,
        "present": 1,
        "yes": 0,
        "no": 1,
        "abstain": 0,
        "mode": "households",
    }


# --- secret votes -------------------------------------------------------------------------------


def test_a_secret_ballot_has_no_path_to_its_voter(world, users, people):
    vote = an_open_vote(world, secret=True)
    participation = ballot_cast(actor=users["resident"], vote=vote, choice="no")
    paper = ballot_record(
        actor=users["worker"],
        vote=vote,
        voter_key=key(people[2]),
        choice="yes",
        channel="paper",
        provenance="第1号",
    )
    ballot_confirm(actor=users["director"], participation=paper)
    ballots = list(Ballot.objects.filter(vote=vote))
    assert len(ballots) == 2
    for ballot in ballots:
        assert ballot.participation_id is None and ballot.pending_key == ""
    assert not Ballot.objects.filter(participation=participation).exists()
    assert Participation.objects.filter(vote=vote).exclude(pending_key="").count() == 0
    # No time, no voter, no channel on a ballot; its key is random.
    names = {f.name for f in Ballot._meta.get_fields()}
    assert names == {
        "id",
        "vote",
        "participation",
        "answer",
        "choice",
        "area",
        "head",
        "counted",
        "pending_key",
    }
    assert all(not f.get_internal_type().startswith("Date") for f in Ballot._meta.concrete_fields)
    assert selectors.my_choice(vote=vote, participation=participation) is None
    # The database refuses a link even behind the services' back.
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        Ballot.objects.filter(pk=ballots[0].pk).update(participation=participation)


def test_an_open_ballot_names_its_voter_for_their_own_page(world, users, people):
    vote = an_open_vote(world)
    participation = ballot_cast(actor=users["resident"], vote=vote, choice="no")
    assert selectors.my_choice(vote=vote, participation=participation) == "no"


def test_secret_owners_ballots_still_count_area_and_heads(world, users):
    owners = [owner_of(world, i, f"业主{i}", area=str(60 + i)) for i in range(4)]
    owners[0].resident = register(world, users, households=1, per_household=1)[0]
    owners[0].save(update_fields=["resident"])
    vote = an_open_vote(
        world, kind="owners", unit="owner", owners_matter="alter_or_rebuild", secret=True
    )
    ballot_cast(actor=users["resident"], vote=vote, choice="yes")
    for owner in owners[1:3]:
        ballot_record(
            actor=users["worker"],
            vote=vote,
            voter_key=f"o:{owner.pk}",
            choice="yes",
            channel="meeting",
        )
    heads = list(Ballot.objects.filter(vote=vote).values_list("head", flat=True))
    assert len(set(heads)) == 3 and not any(h.startswith("o:") for h in heads)
    facts = selectors.vote_result(vote=vote)["facts"]
    assert facts == {
        "total_area": "246.00",
        "total_heads": 4,
        "voted_area": "183.00",
        "voted_heads": 3,
        "yes_area": "183.00",
        "yes_heads": 3,
    }


# --- results ------------------------------------------------------------------------------------


def test_results_are_recomputed_equal_after_a_reload(world, users, people):
    vote = an_open_vote(world)
    ballot_cast(actor=users["resident"], vote=vote, choice="yes")
    for resident, answer in zip(people[2:5], ["yes", "no", "yes"], strict=True):
        ballot_record(
            actor=users["worker"],
            vote=vote,
            voter_key=key(resident),
            choice=answer,
            channel="meeting",
        )
    first = selectors.vote_result(vote=vote)
    again = selectors.vote_result(vote=Vote.objects.get(pk=vote.pk))
    assert first == again
    assert first["facts"]["yes"] == 3 and first["outcome"]["passed"] is True
    assert first["outcome"]["basis"] and first["outcome"]["steps"]


def test_hidden_results_show_only_turnout_until_closed(world, users, people):
    vote = an_open_vote(world, hide_results=True)
    ballot_cast(actor=users["resident"], vote=vote, choice="yes")
    hidden = selectors.vote_result(vote=vote)
    assert hidden["hidden"] and hidden["took_part"] == 1 and "facts" not in hidden
    vote_close(actor=None, vote=vote)
    shown = selectors.vote_result(vote=Vote.objects.get(pk=vote.pk))
    assert not shown["hidden"] and shown["facts"]["yes"] == 1


def test_an_owners_decision_by_double_majority(world, users):
    owners = [owner_of(world, i, f"业主{i}", area="100") for i in range(6)]
    vote = an_open_vote(world, kind="owners", unit="owner", owners_matter="maintenance_fund_use")
    for owner, answer in zip(owners[:5], ["yes", "yes", "yes", "no", "abstain"], strict=True):
        ballot_record(
            actor=users["worker"],
            vote=vote,
            voter_key=f"o:{owner.pk}",
            choice=answer,
            channel="meeting",
        )
    result = selectors.vote_result(vote=vote)
    assert result["outcome"]["quorate"] and result["outcome"]["passed"]
    assert {s["key"] for s in result["outcome"]["steps"]} == {
        "area_participation",
        "head_participation",
        "area_majority",
        "head_majority",
    }
    rows = {r["key"]: r for r in result["counts"]}
    assert rows["yes"]["area"] == "300.00" and rows["yes"]["heads"] == 3


def test_a_meeting_motion_counts_attendees_against_the_base(world, users, people):
    attendees = [Voter(key=key(p), label=p.name, resident_id=p.pk) for p in people[:4]]
    vote = an_open_vote(world, base_count=6, voters=attendees)
    for resident in people[:3]:
        ballot_record(
            actor=users["worker"],
            vote=vote,
            voter_key=key(resident),
            choice="yes",
            channel="meeting",
        )
    facts = selectors.vote_result(vote=vote)["facts"]
    assert facts == {"entitled": 6, "present": 4, "yes": 3, "no": 0, "abstain": 0, "mode": "adults"}
    with pytest.raises(ValidationError):
        an_open_vote(world, base_count=3, voters=attendees)


# --- ballots' shapes ----------------------------------------------------------------------------


@pytest.fixture
def election(world, people):
    return an_open_vote(
        world,
        kind="election",
        title="第十二届居委会选举",
        seats=5,
        options=["甲", "乙", "丙", "丁", "戊", "己"],
    )


def ids(vote):
    return list(vote.options.values_list("pk", flat=True))


def test_an_election_ballot_names_at_most_the_seats(world, users, election):
    options = ids(election)
    with pytest.raises(ValidationError):
        ballot_cast(actor=users["resident"], vote=election, choice=options)
    with pytest.raises(ValidationError):
        ballot_cast(actor=users["resident"], vote=election, choice=[options[0], options[0]])
    ballot_cast(actor=users["resident"], vote=election, choice=options[:5])
    result = selectors.vote_result(vote=election)
    assert result["facts"]["ballots_cast"] == 1
    assert result["facts"]["candidates"][str(options[0])] == 1
    assert result["facts"]["candidates"][str(options[5])] == 0


def test_an_election_needs_more_candidates_than_seats(world, people):
    vote = a_vote(world, kind="election", seats=5, options=["甲", "乙", "丙", "丁", "戊"])
    with pytest.raises(ValidationError):
        vote_open(actor=None, vote=vote)


def test_a_budget_ballot_must_fit_the_budget(world, users, people):
    vote = an_open_vote(
        world,
        kind="budget",
        title="2025年自治金项目",
        budget="10000",
        max_projects=2,
        options=[
            {"label": "楼道照明", "cost": "6000"},
            {"label": "绿化", "cost": "5000"},
            {"label": "座椅", "cost": "3000"},
        ],
    )
    light, green, bench = ids(vote)
    with pytest.raises(ValidationError):
        ballot_cast(actor=users["resident"], vote=vote, choice=[light, green])
    with pytest.raises(ValidationError):
        ballot_cast(actor=users["resident"], vote=vote, choice=[])
    ballot_cast(actor=users["resident"], vote=vote, choice=[light, bench])
    result = selectors.vote_result(vote=vote)
    assert result["named"]["funded"] == ["座椅", "楼道照明"]  # equal votes: cheaper first


@pytest.mark.parametrize(
    ("method", "good", "bad"),
    [
        ("single", lambda o: o[0], [lambda o: [o[0]], lambda o: 999999, lambda o: True]),
        ("multiple", lambda o: o[:2], [lambda o: [], lambda o: [o[0], o[0]], lambda o: "x"]),
        ("ranking", lambda o: [o[2], o[0]], [lambda o: [o[1], o[1]], lambda o: {str(o[0]): 1}]),
        (
            "score",
            lambda o: {str(o[0]): 5, str(o[1]): 0},
            [lambda o: {str(o[0]): 6}, lambda o: {str(o[0]): -1}, lambda o: [o[0]], lambda o: {}],
        ),
    ],
)
def test_poll_ballots_have_their_method_shape(world, users, people, method, good, bad):
    vote = an_open_vote(world, kind="poll", method=method, options=["甲", "乙", "丙"])
    options = ids(vote)
    for make in bad:
        with pytest.raises(ValidationError):
            ballot_cast(actor=users["resident"], vote=vote, choice=make(options))
    ballot_cast(actor=users["resident"], vote=vote, choice=good(options))
    result = selectors.vote_result(vote=vote)
    assert result["took_part"] == 1 and result["outcome"]["winners"]


@pytest.mark.parametrize("garbage", [None, 1, [], {}, "YES", "maybe", ["yes"]])
def test_a_motion_answer_is_yes_no_or_abstain(world, users, people, garbage):
    vote = an_open_vote(world)
    with pytest.raises(ValidationError):
        ballot_cast(actor=users["resident"], vote=vote, choice=garbage)


# --- closing ------------------------------------------------------------------------------------


def test_closing_waits_for_pending_paper_and_then_stops_voting(world, users, people):
    vote = an_open_vote(world)
    paper = ballot_record(
        actor=users["worker"],
        vote=vote,
        voter_key=key(people[1]),
        choice="yes",
        channel="paper",
        provenance="第2号",
    )
    with pytest.raises(ValidationError):
        vote_close(actor=users["director"], vote=vote)
    ballot_confirm(actor=users["director"], participation=paper)
    with pytest.raises(PermissionDenied):
        vote_close(actor=users["stranger"], vote=vote)
    closed = vote_close(actor=users["director"], vote=vote)
    assert closed.state == "closed" and closed.closed_at
    with pytest.raises(ValidationError):
        ballot_cast(actor=users["resident"], vote=closed, choice="yes")
    with pytest.raises(ValidationError):
        vote_close(actor=users["director"], vote=closed)
    assert Notification.objects.filter(user=users["resident"], kind="vote_result").exists()


def test_no_online_vote_after_the_closing_time(world, users, people):
    opened = timezone.now() - dt.timedelta(days=2)
    vote = a_vote(world, closes_at=timezone.now() + dt.timedelta(hours=1))
    vote = vote_open(actor=None, vote=vote, now=opened)
    with pytest.raises(ValidationError):
        ballot_cast(
            actor=users["resident"],
            vote=vote,
            choice="yes",
            now=timezone.now() + dt.timedelta(hours=2),
        )


def test_a_cancelled_vote_takes_no_ballots(world, users, people):
    vote = an_open_vote(world)
    with pytest.raises(ValidationError):
        vote_cancel(actor=None, vote=vote, reason="")
    vote = vote_cancel(actor=None, vote=vote, reason="议题撤回")
    with pytest.raises(ValidationError):
        ballot_cast(actor=users["resident"], vote=vote, choice="yes")
    draft = vote_cancel(actor=None, vote=a_vote(world), reason="重复")
    assert draft.state == "cancelled" and draft.opens_at is None


def test_an_account_votes_for_whom_the_register_links_it_to_now(world, users, people):
    vote = an_open_vote(world)
    people[0].account = None
    people[0].save(update_fields=["account"])
    people[2].account = users["resident"]
    people[2].save(update_fields=["account"])
    participation = ballot_cast(actor=users["resident"], vote=vote, choice="yes")
    assert participation.entitlement.key == key(people[2])
