"""Participation rate (利益勾连): each channel counts, a household once, only in the period and
only the place's own records; the profile's minimum is met exactly at the boundary."""

import datetime as dt
import itertools
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from linli.accounts.roles import Role
from linli.accounts.services import role_assign, user_create
from linli.conftest import PASSWORD
from linli.core.scoping import under_q
from linli.deliberation import services as deliberation
from linli.deliberation.choices import TopicCategory
from linli.demo.register import populate_register
from linli.funds.models import FundProfile
from linli.funds.participation import participation_check, participation_rate
from linli.meetings import services as meetings
from linli.meetings.tests.conftest import running
from linli.people.choices import ResidentStatus
from linli.people.models import Household, Resident
from linli.votes.services import ballot_cast, ballot_record
from linli.votes.tests.factories import an_open_vote

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
_numbers = itertools.count(1)


@pytest.fixture
def register(world):
    populate_register(world, seed=11, residents=100)
    return world


def occupied(place) -> list[Household]:
    ids = (
        Resident.objects.filter(under_q(place.path), status=ResidentStatus.ACTIVE)
        .values_list("household", flat=True)
        .distinct()
    )
    return list(Household.objects.filter(pk__in=ids).order_by("path"))


def member(household: Household, *, role: bool = True):
    """A new account for a resident of `household`: linked to their register record and, when
    `role`, holding the resident role at the dwelling (as deliberation needs)."""
    n = next(_numbers)
    user = user_create(
        actor=None, username=f"member{n}", password=PASSWORD, display_name=f"住户{n}号"
    )
    if role:
        role_assign(actor=None, user=user, role=Role.RESIDENT, place=household.place)
    resident = household.members.filter(status=ResidentStatus.ACTIVE, account=None).first()
    resident.account = user
    resident.save(update_fields=["account"])
    return user


def raise_topic(user, committee, now=None):
    return deliberation.topic_raise(
        actor=user,
        committee=committee,
        title="小花园增设休息长椅",
        body="小花园里没有地方坐，老人散步累了只能站着，建议增设几张长椅。",
        category=TopicCategory.FACILITIES,
        now=now,
    )


def today():
    return timezone.localdate()


def this_month(place):
    return participation_rate(place=place, start=today() - dt.timedelta(days=30), end=today())


def test_each_channel_counts_and_a_household_counts_once(register, users):
    committee = register.committees[0]
    homes = occupied(committee)
    before = this_month(committee)
    assert before.households_total == len(homes) > 8
    assert before.households_took_part == 0 and before.rate == 0

    # Topics: raising, backing and commenting each count a household.
    raiser, backer, commenter = (member(h) for h in homes[1:4])
    topic = raise_topic(raiser, committee)
    deliberation.topic_support(actor=backer, topic=topic)
    deliberation.comment_post(actor=commenter, topic=topic, body="同意，小区里老人很多。")
    # Meetings: a household checked in at a residents' meeting (one invitation per household).
    meeting = running(register, users, attendance_mode="households")
    invitation = meeting.invitations.get(household=homes[4])
    meetings.meeting_check_in(
        actor=users["worker"], meeting=meeting, invitation=invitation, method="list"
    )
    # Votes: a person voting online (through their register record) and a household whose
    # ballot a worker recorded at a meeting.
    voter = member(homes[5], role=False)
    ballot_cast(actor=voter, vote=an_open_vote(register), choice="yes")
    by_household = an_open_vote(register, unit="household")
    ballot_record(
        actor=users["worker"],
        vote=by_household,
        voter_key=f"h:{homes[6].pk}",
        choice="yes",
        channel="meeting",
    )
    # The raiser's household also checks in and votes: still one household.
    meetings.meeting_check_in(
        actor=users["worker"],
        meeting=meeting,
        invitation=meeting.invitations.get(household=homes[1]),
        method="list",
    )
    ballot_record(
        actor=users["worker"],
        vote=by_household,
        voter_key=f"h:{homes[1].pk}",
        choice="no",
        channel="meeting",
    )

    result = this_month(committee)
    assert result.by_channel == {"topics": 3, "meetings": 2, "votes": 3, "volunteering": None}
    assert result.households_took_part == 6
    assert result.rate == Fraction(6, len(homes))
    assert result.not_recorded == ("volunteering",)
    # A compound of the committee: the committee-wide meeting and votes count for its own
    # households, and only those are in its denominator.
    compound = homes[1].place.parent.parent
    inside = [h for h in homes if h.path.startswith(compound.path)]
    part = this_month(compound)
    assert part.households_total == len(inside)
    assert part.households_took_part == len([h for h in homes[1:7] if h in inside])


def test_outside_the_period_is_not_counted_in_shanghai_dates(register):
    committee = register.committees[0]
    home = occupied(committee)[1]
    # 23:30 in Shanghai on 1 March is still 1 March there (15:30 UTC).
    late = dt.datetime(2025, 3, 1, 23, 30, tzinfo=SHANGHAI)
    raise_topic(member(home), committee, now=late)

    def took_part(start, end):
        rate = participation_rate(place=committee, start=start, end=end)
        return rate.households_took_part

    assert took_part(dt.date(2025, 3, 1), dt.date(2025, 3, 1)) == 1
    assert took_part(dt.date(2025, 2, 1), dt.date(2025, 2, 28)) == 0
    assert took_part(dt.date(2025, 3, 2), dt.date(2025, 3, 31)) == 0
    assert took_part(today() - dt.timedelta(days=30), today()) == 0


def test_another_committees_records_are_not_counted(register, users):
    first, second = register.committees[0], register.committees[1]
    theirs = occupied(second)[0]
    raise_topic(member(theirs), second)
    assert this_month(first).households_took_part == 0
    assert this_month(second).households_took_part == 1
    # Someone living in the first committee who takes part in the second committee's vote
    # (an explicit list) does not make their household count for the first.
    from linli.votes.electorate import Voter

    ours = occupied(first)[0]
    user = member(ours, role=False)
    vote = an_open_vote(
        register,
        place=second,
        unit="list",
        rule_id="representatives_meeting",
        voters=[Voter(key=f"u:{user.pk}", label="外来代表", user_id=user.pk)],
    )
    ballot_cast(actor=user, vote=vote, choice="yes")
    assert this_month(first).households_took_part == 0


def test_no_households_means_no_rate(world):
    empty = world.committees[0]  # no register filled in
    result = this_month(empty)
    assert result.households_total == 0 and result.rate is None
    assert result.meets(None) and result.meets(Decimal("0"))
    assert not result.meets(Decimal("0.01"))


def test_the_minimum_is_met_exactly_at_the_boundary(register):
    committee = register.street  # a street: enough households for twenty
    homes = occupied(committee)
    first = register.committees[0]
    assert all(h.path.startswith(first.path) for h in homes[:7])
    # Twenty occupied households: everyone else has moved out.
    Resident.objects.filter(under_q(committee.path)).exclude(household__in=homes[:20]).update(
        status=ResidentStatus.MOVED_OUT
    )
    on = today() + dt.timedelta(days=1)
    profile = FundProfile.objects.create(
        street=register.street, year=on.year, min_participation_rate=Decimal("0.35")
    )
    # One household fewer than 35% of 20: 6/20 = 30% fails, with the figures.
    for home in homes[:6]:
        raise_topic(member(home), first)
    check = participation_check(place=committee, on=on, profile=profile)
    assert (check.result.households_took_part, check.result.households_total) == (6, 20)
    assert not check.meets
    assert check.message == "参与率 6/20 = 30%，低于规定的 35%。"

    # Exactly 35%: 7/20 meets (以上 is inclusive).
    raise_topic(member(homes[6]), first)
    check = participation_check(place=committee, on=on, profile=profile)
    assert (check.result.households_took_part, check.result.households_total) == (7, 20)
    assert check.meets
    assert check.message == "参与率 7/20 = 35%，达到规定的 35%。"
    assert check.result.meets(Fraction(7, 20)) and not check.result.meets(Fraction(71, 200))

    # A rate that does not divide evenly is shown rounded down, never up to the minimum.
    profile.min_participation_rate = Decimal("0.3700")
    Resident.objects.filter(household=homes[19]).update(status=ResidentStatus.MOVED_OUT)
    check = participation_check(place=committee, on=on, profile=profile)
    assert check.result.rate == Fraction(7, 19) and check.meets is False
    assert check.message == "参与率 7/19 = 36.8%，低于规定的 37%。"

    profile.min_participation_rate = None
    check = participation_check(place=committee, on=on, profile=profile)
    assert check.meets and "未设最低要求" in check.message


def test_the_twelve_months_before_the_day(register):
    committee = register.committees[0]
    home = occupied(committee)[1]
    raise_topic(member(home), committee, now=dt.datetime(2024, 6, 1, 9, 0, tzinfo=SHANGHAI))
    profile = FundProfile(street=register.street, year=2025)

    def took_part(on):
        return participation_check(place=committee, on=on, profile=profile).result

    assert took_part(dt.date(2025, 6, 1)).households_took_part == 1  # 2024-06-01 … 2025-05-31
    assert took_part(dt.date(2025, 6, 2)).households_took_part == 0
    assert took_part(dt.date(2024, 6, 1)).households_took_part == 0  # the day itself is not in
    assert took_part(dt.date(2025, 6, 1)).period == (dt.date(2024, 6, 1), dt.date(2025, 5, 31))


def test_one_query_whatever_the_size(register, users, django_assert_max_num_queries):
    committee = register.committees[0]
    for home in occupied(committee)[1:6]:
        raise_topic(member(home), committee)
    with django_assert_max_num_queries(1):
        small = this_month(committee)
    with django_assert_max_num_queries(1):
        whole = this_month(register.street)
    assert small.households_took_part == whole.households_took_part == 5
    assert whole.households_total > small.households_total
