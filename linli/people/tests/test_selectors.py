import datetime as dt
from decimal import Decimal

import pytest
from django.http import Http404

from linli.people import selectors
from linli.people.models import Tag
from linli.people.services import resident_move_out
from linli.people.tests.factories import (
    a_household,
    a_resident,
    a_unit,
    an_id_number,
    an_organisation,
    an_owner,
    residents_in,
)

pytestmark = pytest.mark.django_db


def test_search_finds_by_exact_id_including_a_lowercase_x(world, users):
    number = an_id_number(birth=dt.date(1961, 3, 2))
    while not number.endswith("X"):
        number = an_id_number(birth=dt.date(1961, 3, 2))
    household = a_household(world.committees[0])
    target = a_resident(household, name="王建国", id_number=number)
    a_resident(household, name="王建民")
    result = selectors.resident_search(viewer=users["worker"], q=number.lower())
    assert result.lookup == selectors.LOOKUP_ID
    assert [r.pk for r in result.page] == [target.pk]


def test_search_finds_by_phone_typed_with_spaces_and_country_code(world, users):
    household = a_household(world.committees[0])
    target = a_resident(household, name="赵丽", phone="13955556666")
    a_resident(household, name="钱多", phone="13900000000")
    for typed in ("139 5555 6666", "+86 139-5555-6666"):
        result = selectors.resident_search(viewer=users["worker"], q=typed)
        assert result.lookup == selectors.LOOKUP_PHONE
        assert [r.pk for r in result.page] == [target.pk]


def test_search_by_name_part_stays_in_the_committee(world, users):
    mine = a_resident(a_household(world.committees[0]), name="孙悟空")
    theirs = a_resident(a_household(world.committees[1]), name="孙悟净")
    worker = selectors.resident_search(viewer=users["worker"], q="孙悟")
    assert worker.lookup == selectors.LOOKUP_NAME
    assert [r.pk for r in worker.page] == [mine.pk]
    stranger = selectors.resident_search(viewer=users["stranger"], q="孙悟")
    assert [r.pk for r in stranger.page] == [theirs.pk]
    # The street office sees both committees.
    street = selectors.resident_search(viewer=users["selfgov"], q="孙悟")
    assert {r.pk for r in street.page} == {mine.pk, theirs.pk}


def test_grid_worker_sees_only_the_grid_compounds_without_sensitive_tags(world, users):
    grid_compounds = {c.path for c in world.grids[0].compounds.all()}
    inside = a_resident(
        a_household(world.committees[0]), name="网格内", tags=["disabled", "elderly_alone"]
    )
    outside = a_resident(a_household(world.committees[1]), name="网格外")
    assert any(inside.path.startswith(p) for p in grid_compounds)
    result = selectors.resident_search(viewer=users["gridworker"])
    assert [r.pk for r in result.page] == [inside.pk]
    assert [t.code for t in result.page[0].visible_tags] == ["elderly_alone"]
    # The sensitive tag neither filters nor shows for them.
    refused = selectors.resident_search(viewer=users["gridworker"], tag="disabled")
    assert refused.tag_refused and refused.tag is None
    assert "disabled" not in {t.code for t in selectors.tags_visible(viewer=users["gridworker"])}
    with pytest.raises(Http404):
        selectors.resident_get(viewer=users["gridworker"], pk=outside.pk)
    # The committee's own worker sees and filters by it.
    assert [
        r.pk for r in selectors.resident_search(viewer=users["worker"], tag="disabled").page
    ] == [inside.pk]
    worker_view = selectors.resident_get(viewer=users["worker"], pk=inside.pk)
    assert {t.code for t in worker_view.visible_tags} == {"disabled", "elderly_alone"}


def test_search_filters_status_and_place(world, users):
    first = a_household(world.committees[0], index=0)
    other_building = a_household(world.committees[0], index=5)
    stays = a_resident(first, name="留下")
    left = a_resident(first, name="搬走")
    elsewhere = a_resident(other_building, name="另一栋")
    resident_move_out(actor=None, resident=left, date=dt.date(2024, 6, 1))
    worker = users["worker"]
    active = selectors.resident_search(viewer=worker)
    assert {r.pk for r in active.page} == {stays.pk, elsewhere.pk}
    moved = selectors.resident_search(viewer=worker, status="moved_out")
    assert [r.pk for r in moved.page] == [left.pk]
    everyone = selectors.resident_search(viewer=worker, status=selectors.STATUS_ALL)
    assert everyone.page.paginator.count == 3
    building = first.place.parent
    in_building = selectors.resident_search(viewer=worker, place=building)
    assert [r.pk for r in in_building.page] == [stays.pk]


def test_search_pages_fifty_in_a_stable_order(world, users):
    household = a_household(world.committees[0])
    residents_in(household, 55)
    first = selectors.resident_search(viewer=users["worker"], page=1)
    second = selectors.resident_search(viewer=users["worker"], page=2)
    assert len(first.page) == 50 and len(second.page) == 5
    ids = [r.pk for r in first.page] + [r.pk for r in second.page]
    assert len(set(ids)) == 55
    assert [r.pk for r in selectors.resident_search(viewer=users["worker"]).page] == ids[:50]


def test_search_rows_carry_the_address(world, users):
    household = a_household(world.committees[0])
    a_resident(household)
    (row,) = selectors.resident_search(viewer=users["worker"]).page
    room = household.place
    assert row.address == f"{room.parent.parent.name} › {room.parent.name} › {room.name}"


def test_household_detail_lists_members_history_and_owners(world, users):
    household = a_household(world.committees[0])
    head = a_resident(household, name="户主")
    gone = a_resident(household, name="已搬走", relation="child")
    resident_move_out(actor=None, resident=gone, date=dt.date(2024, 2, 1))
    an_owner(household.place, name="甲", share="0.5", area="88.5", source="contract")
    an_owner(household.place, name="乙", share="50%", area="86.2", source="registry")
    detail = selectors.household_detail(viewer=users["worker"], pk=household.pk)
    assert [m.pk for m in detail.members] == [head.pk, gone.pk]
    assert detail.members[1].status == "moved_out"
    assert detail.history[0].event.kind == "move_out"
    assert {(o.owner_name, o.share) for o in detail.owners} == {
        ("甲", Decimal("0.5")),
        ("乙", Decimal("0.5")),
    }
    # The registry's area beats the sale contract's.
    assert detail.area.area == Decimal("86.20") and detail.area.source == "registry"
    with pytest.raises(Http404):
        selectors.household_detail(viewer=users["stranger"], pk=household.pk)


def test_compound_occupancy_counts_per_building(world, users):
    compound = world.compounds[0]
    first = a_household(world.committees[0], index=0)
    second = a_household(world.committees[0], index=1)
    other_building = a_household(world.committees[0], index=4)
    residents_in(first, 3)
    residents_in(second, 1, start=dt.date(1990, 1, 1))
    a_household(world.committees[0], index=2)  # a record without anyone living there
    number = an_id_number()
    owner = an_owner(first.place, name="多套业主", id_number=number, area="70")
    an_owner(second.place, name="多套业主", id_number=number, area="50", source="survey")
    an_owner(other_building.place, name="别栋业主", area="60")
    occupancy = selectors.place_occupancy(viewer=users["worker"], place=compound)
    rows = {row.place.pk: row for row in occupancy.buildings}
    building = rows[first.place.parent_id]
    assert (building.dwellings, building.households, building.residents) == (4, 2, 4)
    assert building.owners == 1  # one owner of two flats counts once
    assert building.area == Decimal("120.00")
    assert rows[other_building.place.parent_id].owners == 1
    assert occupancy.totals.owners == 2 and occupancy.totals.dwellings == 8
    assert owner.ownerships.count() == 2


def test_building_occupancy_lists_each_dwelling(world, users):
    household = a_household(world.committees[0], index=0, tenure="rented")
    residents_in(household, 2)
    an_owner(household.place, name="房东", share="1", area="55.5", source="survey")
    building = household.place.parent
    occupancy = selectors.place_occupancy(viewer=users["worker"], place=building)
    assert len(occupancy.dwellings) == 4
    row = occupancy.dwellings[0]
    assert row.place == household.place and row.size == 2
    assert row.household.tenure == "rented"
    assert [(o.owner_name, o.share) for o in row.owners] == [("房东", Decimal("1"))]
    assert row.area.area == Decimal("55.50") and row.area.source == "survey"
    assert occupancy.dwellings[1].household is None and occupancy.dwellings[1].size == 0
    with pytest.raises(Http404):
        selectors.place_occupancy(viewer=users["worker"], place=world.committees[0])


def test_organisation_directory_filters_and_scopes(world, users):
    compound = world.compounds[0]
    committee = world.committees[0]
    serving = an_organisation(committee, areas=[compound])
    team = an_organisation(
        committee, kind="activity_team", name="夕阳红合唱队", areas=[world.compounds[1]]
    )
    an_organisation(world.committees[1], name="外委业委会")
    page = selectors.organisation_directory(viewer=users["worker"])
    assert {o.pk for o in page} == {serving.pk, team.pk}
    teams = selectors.organisation_directory(viewer=users["worker"], kind="activity_team")
    assert [o.pk for o in teams] == [team.pk]
    here = selectors.organisation_directory(viewer=users["worker"], place=compound)
    assert [o.pk for o in here] == [serving.pk]
    assert selectors.organisation_get(viewer=users["worker"], pk=serving.pk).contacts.count() == 1
    with pytest.raises(Http404):
        selectors.organisation_get(viewer=users["stranger"], pk=serving.pk)


def test_age_bands_are_counted_from_the_birth_date_on_the_day(world, users):
    today = dt.date(2026, 3, 1)
    household = a_household(world.committees[0])
    births = {
        dt.date(2020, 3, 1): "0-6",  # 6 today
        dt.date(2019, 3, 1): "7-17",  # 7 today
        dt.date(2019, 3, 2): "0-6",  # 7 tomorrow
        dt.date(1946, 3, 2): "60-79",  # 80 tomorrow
        dt.date(1946, 3, 1): "80+",
    }
    for birth in births:
        a_resident(household, id_number=an_id_number(birth=birth), date=dt.date(2025, 1, 1))
    profile = selectors.community_profile(
        viewer=users["worker"], place=world.committees[0], today=today
    )
    counts = {bar.key: bar.count for bar in profile.age_bands}
    assert counts == {"0-6": 2, "7-17": 1, "18-34": 0, "35-59": 0, "60-79": 1, "80+": 1}
    assert profile.residents == 5 and profile.households == 1


def test_years_before_handles_the_leap_day():
    assert selectors.years_before(dt.date(2024, 2, 29), 1) == dt.date(2023, 2, 28)
    assert selectors.years_before(dt.date(2024, 2, 29), 4) == dt.date(2020, 2, 29)


def test_profile_counts_statuses_tags_owners_and_organisations(world, users):
    committee = world.committees[0]
    household = a_household(committee)
    a_resident(household, registration="migrant", residence="living_only", tags=["disabled"])
    a_resident(household, tags=["elderly_alone"])
    gone = a_resident(household, tags=["elderly_alone"])
    resident_move_out(actor=None, resident=gone, date=dt.date(2024, 1, 1))
    an_owner(household.place, area="90", source="contract")
    an_organisation(committee)
    profile = selectors.community_profile(viewer=users["worker"], place=committee)
    assert profile.residents == 2
    assert {b.key: b.count for b in profile.registration}["migrant"] == 1
    assert {b.key: b.count for b in profile.residence}["living_only"] == 1
    assert {b.key: b.count for b in profile.tags} == {"disabled": 1, "elderly_alone": 1}
    assert profile.owners == 1 and profile.owned_area == Decimal("90.00")
    assert {b.key: b.count for b in profile.organisations}["owners_committee"] == 1
    # The street office sees the same counts without the sensitive tag.
    street = selectors.community_profile(viewer=users["selfgov"], place=committee)
    assert {b.key for b in street.tags} == {"elderly_alone"}
    assert Tag.objects.get(code="disabled").sensitive


def test_register_places_are_scoped(world, users):
    assert [p.pk for p in selectors.register_roots(viewer=users["worker"])] == [
        world.committees[0].pk
    ]
    assert len(selectors.register_roots(viewer=users["gridworker"])) == 2
    assert selectors.register_roots(viewer=users["dispatcher"]) == []
    with pytest.raises(Http404):
        selectors.register_place_get(viewer=users["stranger"], pk=world.compounds[0].pk)
    unit = a_unit(world.committees[0])
    assert selectors.dwelling_household(viewer=users["worker"], pk=unit.pk) == (unit, None)
