import datetime as dt
from decimal import Decimal

import pytest

from linli.people.services import ownership_end, ownership_set, resident_move_out
from linli.people.tests.factories import a_household, a_unit
from linli.votes.electorate import electorate
from linli.votes.tests.factories import TODAY, adult, owner_of

pytestmark = pytest.mark.django_db


def keys(voters):
    return sorted(v.key for v in voters)


def test_adults_are_those_18_or_older_on_the_day(world):
    committee = world.committees[0]
    household = a_household(committee, 0)
    eighteen_today = adult(household, name="满十八", birth=dt.date(2007, 6, 2))
    eighteen_tomorrow = adult(household, name="差一天", birth=dt.date(2007, 6, 3))
    voters = electorate(place=committee, unit="person", on=TODAY)
    assert keys(voters) == [f"r:{eighteen_today.pk}"]
    assert voters[0].label == "满十八" and voters[0].household_id == household.pk
    later = electorate(place=committee, unit="person", on=TODAY + dt.timedelta(days=1))
    assert keys(later) == sorted([f"r:{eighteen_today.pk}", f"r:{eighteen_tomorrow.pk}"])


def test_born_on_29_february_is_adult_on_1_march_of_a_common_year(world):
    # As people.pii.age_on counts it: the birthday has not come while 29 February has not.
    household = a_household(world.committees[0], 0)
    leap = adult(household, name="闰年生", birth=dt.date(2008, 2, 29))
    on = dt.date(2026, 3, 1)
    assert keys(electorate(place=world.committees[0], unit="person", on=on)) == [f"r:{leap.pk}"]
    assert electorate(place=world.committees[0], unit="person", on=on - dt.timedelta(days=1)) == []


def test_moved_out_and_living_elsewhere_do_not_vote(world):
    committee = world.committees[0]
    household = a_household(committee, 0)
    stays = adult(household, name="在住")
    migrant = adult(household, name="来沪", residence="living_only", registration="migrant")
    adult(household, name="户在人不在", residence="registered_only")
    gone = adult(household, name="已迁出")
    resident_move_out(actor=None, resident=gone, date=dt.date(2024, 1, 1))
    voters = electorate(place=committee, unit="person", on=TODAY)
    assert keys(voters) == sorted([f"r:{stays.pk}", f"r:{migrant.pk}"])


def test_only_people_under_the_place_vote(world):
    first, second = world.committees[:2]
    here = adult(a_household(first, 0), name="本居委")
    adult(a_household(second, 0), name="隔壁居委")
    assert keys(electorate(place=first, unit="person", on=TODAY)) == [f"r:{here.pk}"]
    compound = a_unit(first, 0).parent.parent
    assert keys(electorate(place=compound, unit="person", on=TODAY)) == [f"r:{here.pk}"]
    other_compound = next(c for c in world.compounds if c.parent_id == first.pk and c != compound)
    assert electorate(place=other_compound, unit="person", on=TODAY) == []


def test_one_entitlement_per_household_with_an_adult_living_there(world):
    committee = world.committees[0]
    family = a_household(committee, 0)
    adult(family, name="父亲")
    adult(family, name="母亲")
    minors_only = a_household(committee, 1)
    adult(minors_only, name="小孩", birth=dt.date(2015, 1, 1))
    emptied = a_household(committee, 2)
    resident_move_out(actor=None, resident=adult(emptied, name="搬走"), date=dt.date(2024, 1, 1))
    voters = electorate(place=committee, unit="household", on=TODAY)
    assert keys(voters) == [f"h:{family.pk}"]
    assert "›" in voters[0].label and voters[0].resident_id is None


def test_area_comes_from_the_best_source(world):
    a = owner_of(world, 0, "登记簿", area="90.00", source="registry")
    owner_of(world, 0, "登记簿", area="95.00", source="survey")
    owner_of(world, 0, "登记簿", area="99.00", source="contract")
    b = owner_of(world, 1, "实测", area="80.50", source="survey")
    owner_of(world, 1, "实测", area="82.00", source="contract")
    c = owner_of(world, 2, "合同", area="70.25", source="contract")
    d = owner_of(world, 3, "无面积")
    areas = {v.key: v.area for v in electorate(place=world.committees[0], unit="owner", on=TODAY)}
    assert areas == {
        f"o:{a.pk}": Decimal("90.00"),
        f"o:{b.pk}": Decimal("80.50"),
        f"o:{c.pk}": Decimal("70.25"),
        f"o:{d.pk}": Decimal("0.00"),
    }


def test_heads_one_per_owner_developer_together_co_owned_unit_once(world):
    committee = world.committees[0]
    single = owner_of(world, 0, "一套业主", area="50")
    same = owner_of(world, 2, "张三", area="70")
    ownership_set(actor=None, unit=a_unit(committee, 3), owner=same)  # second unit, no area
    developer = owner_of(world, 4, "开发商", area="100", kind="developer")
    ownership_set(actor=None, unit=a_unit(committee, 5), owner=developer)
    ownership_set(actor=None, unit=a_unit(committee, 6), owner=developer)
    # A co-owned unit: the co-owner flagged to vote counts it, the other is no voter.
    voting = owner_of(world, 7, "共有甲", area="88", share="0.5", votes_for_unit=False)
    other = owner_of(world, 7, "共有乙", share="0.5", votes_for_unit=True)
    voters = {v.key: v for v in electorate(place=committee, unit="owner", on=TODAY)}
    assert f"o:{voting.pk}" not in voters
    assert voters[f"o:{other.pk}"].area == Decimal("88.00")
    assert voters[f"o:{same.pk}"].area == Decimal("70.00")
    assert voters[f"o:{same.pk}"].address.endswith("(+1)")
    assert voters[f"o:{developer.pk}"].area == Decimal("100.00")
    assert voters[f"o:{single.pk}"].area == Decimal("50.00")
    heads = [v.head for v in voters.values()]
    assert len(heads) == len(set(heads)) == len(voters) == 4


def test_co_owners_none_flagged_the_earliest_votes(world):
    first = owner_of(world, 0, "甲", area="60", votes_for_unit=False)
    owner_of(world, 0, "乙", votes_for_unit=False)
    voters = electorate(place=world.committees[0], unit="owner", on=TODAY)
    assert keys(voters) == [f"o:{first.pk}"]


def test_ended_or_future_ownerships_do_not_count(world):
    committee = world.committees[0]
    sold = owner_of(world, 0, "已卖", area="60")
    ownership_end(actor=None, ownership=sold.ownerships.get(), date=dt.date(2025, 1, 1))
    owner_of(world, 1, "未来", area="60", since=dt.date(2025, 7, 1))
    current = owner_of(world, 2, "现业主", area="60", since=dt.date(2025, 1, 1))
    assert keys(electorate(place=committee, unit="owner", on=TODAY)) == [f"o:{current.pk}"]


def test_one_query_per_kind(world, django_assert_num_queries):
    committee = world.committees[0]
    for index in range(4):
        household = a_household(committee, index)
        adult(household, name=f"甲{index}")
        owner_of(world, index, f"业主{index}", area="60")
    for unit in ("person", "household", "owner"):
        with django_assert_num_queries(1):
            assert len(electorate(place=committee, unit=unit, on=TODAY)) == 4


def test_a_list_electorate_is_given_not_read(world):
    with pytest.raises(ValueError):
        electorate(place=world.committees[0], unit="list", on=TODAY)
    with pytest.raises(ValueError):
        electorate(place=world.committees[0], unit="martians", on=TODAY)
