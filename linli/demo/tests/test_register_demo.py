"""The demo register: realistic, deterministic, and shaped exactly like the services' writes."""

import dataclasses
import io
from collections import Counter
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, F, Q

from linli.core.crypto import decrypt, keyed_hash
from linli.core.models import AuditEvent
from linli.demo.builder import TEST_SIZE, build_street, personas_for
from linli.demo.register import (
    CREDIT_CODE_CHARS,
    CREDIT_CODE_WEIGHTS,
    PERSONA_PHONE,
    REFERENCE_DATE,
    _Planner,
    populate_register,
)
from linli.people.choices import (
    EventKind,
    OrganisationKind,
    OwnerKind,
    Registration,
    Relation,
    Residence,
    ResidentStatus,
    SocialOrgKind,
)
from linli.people.models import (
    Household,
    Organisation,
    OrganisationContact,
    Owner,
    Ownership,
    Resident,
    ResidentEvent,
    UnitArea,
)
from linli.people.pii import age_on, mask_id_number, mask_phone, parse_id_number
from linli.people.services import effective_area
from linli.places.choices import PlaceKind

pytestmark = pytest.mark.django_db

# The tests' street with taller buildings: ~150 dwellings for ~300 people.
REGISTER_SIZE = dataclasses.replace(TEST_SIZE, floors=(5, 5), units_per_floor=(2, 3), residents=300)


def _build(seed: int = 11):
    world = build_street(seed=seed, size=REGISTER_SIZE)
    counts = populate_register(world, seed=seed, residents=REGISTER_SIZE.residents)
    return world, counts


@pytest.fixture
def register(db):
    return _build()


def _fingerprint() -> dict:
    return {
        "people": list(
            Resident.objects.order_by("path", "id").values_list(
                "name", "id_hash", "birth_date", "gender", "relation", "phone_hash", "status"
            )
        ),
        "owners": list(Owner.objects.order_by("path", "id").values_list("name", "id_hash")),
        "organisations": list(
            Organisation.objects.order_by("path", "id").values_list("name", "kind")
        ),
    }


def _in_a_throwaway_world(seed: int) -> dict:
    """Build a street and its register, note who lives there, and roll it all back."""
    with transaction.atomic():
        _build(seed)
        fingerprint = _fingerprint()
        transaction.set_rollback(True)
    return fingerprint


def test_the_same_seed_gives_the_same_people(db):
    first = _in_a_throwaway_world(11)
    second = _in_a_throwaway_world(11)
    assert len(first["people"]) >= 300
    assert first == second
    assert _in_a_throwaway_world(12)["people"] != first["people"]


def test_counts_are_returned_and_audited_once(register):
    world, counts = register
    assert counts["active"] == Resident.objects.filter(status=ResidentStatus.ACTIVE).count()
    assert counts["residents"] == Resident.objects.count()
    assert 300 <= counts["active"] <= 306  # the last household may overshoot a little
    assert counts["households"] + counts["vacant"] == Household.objects.count()
    event = AuditEvent.objects.get(action="demo.register.build")
    assert event.place_id == world.street.pk and event.changes == counts


def test_every_id_number_is_valid_unique_and_matches_birth_and_gender(register):
    residents = list(Resident.objects.all())
    hashes = [r.id_hash for r in residents]
    assert len(set(hashes)) == len(hashes)
    for resident in residents:
        number = decrypt(resident.id_cipher)
        parsed = parse_id_number(number)
        assert (parsed.birth_date, parsed.gender) == (resident.birth_date, resident.gender)
        assert resident.id_hash == keyed_hash(number)
        assert resident.id_masked == mask_id_number(number)
        phone = decrypt(resident.phone_cipher)
        assert resident.phone_masked == mask_phone(phone)
        if phone:
            assert len(phone) == 11 and phone[:2] in ("13", "15", "18", "19")
    for owner in Owner.objects.filter(kind=OwnerKind.PERSON):
        parse_id_number(decrypt(owner.id_cipher))


def test_registration_and_id_regions_agree(register):
    residents = list(Resident.objects.all())
    by_registration = Counter(r.registration for r in residents)
    assert by_registration[Registration.REGISTERED] > by_registration[Registration.MIGRANT] > 0
    for resident in residents:
        region = resident.id_masked[:2]
        if resident.registration == Registration.MIGRANT:
            assert resident.residence == Residence.LIVING_ONLY
        if resident.registration == Registration.OVERSEAS:
            assert region in ("81", "82")
        if resident.residence == Residence.REGISTERED_ONLY:
            assert resident.registration == Registration.REGISTERED


def test_every_row_sits_on_its_places_path(register):
    assert not Household.objects.exclude(path=F("place__path")).exists()
    assert not Household.objects.exclude(place__kind=PlaceKind.HOUSEHOLD).exists()
    assert not Resident.objects.exclude(path=F("household__path")).exists()
    assert not ResidentEvent.objects.exclude(path=F("household__path")).exists()
    assert not Owner.objects.exclude(path=F("committee__path")).exists()
    assert not Ownership.objects.exclude(path=F("unit__path")).exists()
    assert not UnitArea.objects.exclude(path=F("unit__path")).exists()
    assert not Organisation.objects.exclude(path=F("committee__path")).exists()
    for owner in Owner.objects.select_related("committee"):
        assert owner.committee.kind == PlaceKind.COMMITTEE
        assert not owner.ownerships.exclude(unit__path__startswith=owner.path).exists()
    for household in Household.objects.select_related("place__parent__parent"):
        place = household.place
        assert household.address == f"{place.parent.parent.name}{place.parent.name}{place.name}"


def test_every_resident_moved_in_once_and_history_matches_status(register):
    residents = Resident.objects.annotate(
        move_ins=Count("events", filter=Q(events__kind=EventKind.MOVE_IN))
    )
    for resident in residents:
        assert resident.move_ins == 1
        move_in = resident.events.get(kind=EventKind.MOVE_IN)
        assert resident.birth_date <= move_in.date <= REFERENCE_DATE
        assert move_in.changes["name"] == [None, resident.name]
        for event in resident.events.exclude(kind=EventKind.MOVE_IN):
            assert move_in.date <= event.date <= REFERENCE_DATE
        if resident.status == ResidentStatus.ACTIVE:
            assert resident.status_date is None
        else:
            kind = {"moved_out": EventKind.MOVE_OUT, "deceased": EventKind.DEATH}[resident.status]
            last = resident.events.get(kind=kind)
            assert last.date == resident.status_date
            assert last.changes == {"status": ["active", resident.status]}
    statuses = Counter(Resident.objects.values_list("status", flat=True))
    assert statuses[ResidentStatus.MOVED_OUT] + statuses[ResidentStatus.DECEASED] > 0
    for transfer in ResidentEvent.objects.filter(kind=EventKind.TRANSFER):
        old, new = transfer.changes["household"]
        assert transfer.household_id in (old, new)
        assert transfer.resident.household_id == new


def test_households_are_families_with_consistent_ages(register):
    for household in Household.objects.prefetch_related("members"):
        living = [m for m in household.members.all() if m.status == ResidentStatus.ACTIVE]
        if not living:
            continue
        heads = [m for m in living if m.relation == Relation.HEAD]
        assert len(heads) == 1 and 1 <= len(living) <= 6
        head = heads[0]
        assert age_on(head.birth_date, REFERENCE_DATE) >= 18
        for member in living:
            gap = (head.birth_date - member.birth_date).days / 365.25
            if member.relation == Relation.SPOUSE:
                assert abs(gap) <= 8 and member.gender != head.gender
            elif member.relation == Relation.CHILD:
                assert -52 <= gap <= -18
            elif member.relation == Relation.GRANDCHILD:
                assert gap <= -40
            elif member.relation == Relation.PARENT:
                assert gap >= 18


def test_the_age_pyramid_is_an_old_central_districts():
    # Plan 3,000 households in memory (no database): the demo's shares, not a tiny sample's.
    planner = _Planner(2026)
    people = [p for _ in range(3000) for p in planner.household().members]
    ages = [age_on(p.birth, REFERENCE_DATE) for p in people]
    assert 0.28 <= sum(a >= 60 for a in ages) / len(ages) <= 0.38
    assert 0.09 <= sum(a < 18 for a in ages) / len(ages) <= 0.15
    assert 0.03 <= sum(a >= 80 for a in ages) / len(ages) <= 0.07
    migrants = [p for p in people if p.registration == Registration.MIGRANT]
    assert 0.3 <= len(migrants) / len(people) <= 0.45
    working = [p for p in migrants if 20 <= age_on(p.birth, REFERENCE_DATE) <= 55]
    assert len(working) / len(migrants) >= 0.6
    births = Counter(p.birth.month for p in people)
    assert len(births) == 12 and min(births.values()) > len(people) / 12 * 0.7


def test_age_shares_of_the_small_register_are_sane(register):
    active = list(Resident.objects.filter(status=ResidentStatus.ACTIVE))
    ages = [age_on(r.birth_date, REFERENCE_DATE) for r in active]
    assert 0.2 <= sum(a >= 60 for a in ages) / len(ages) <= 0.5
    assert 0.04 <= sum(a < 18 for a in ages) / len(ages) <= 0.22
    assert sum(a >= 80 for a in ages) / len(ages) <= 0.15
    assert Counter(r.gender for r in active).keys() == {"M", "F"}


def test_tags_follow_the_people(register):
    for resident in Resident.objects.prefetch_related("tags", "household__members"):
        codes = {t.code for t in resident.tags.all()}
        age = age_on(resident.birth_date, REFERENCE_DATE)
        if resident.status != ResidentStatus.ACTIVE:
            assert not codes
            continue
        assert ("elderly_80" in codes) == (age >= 80)
        living = [
            m
            for m in resident.household.members.all()
            if m.status == ResidentStatus.ACTIVE and m.residence != Residence.REGISTERED_ONLY
        ]
        if "elderly_alone" in codes:
            assert age >= 60 and living == [resident]
        if "empty_nest" in codes:
            assert all(age_on(m.birth_date, REFERENCE_DATE) >= 60 for m in living)
        if "veteran" in codes:
            assert resident.gender == "M" and age >= 40
    tagged = set(Resident.tags.through.objects.values_list("tag__code", flat=True))
    assert {"elderly_80", "empty_nest", "party_member", "special_care"} <= tagged


def test_owners_units_and_areas(register):
    units = Ownership.objects.values("unit").annotate(
        n=Count("id"), voters=Count("id", filter=Q(votes_for_unit=True))
    )
    assert all(u["voters"] == 1 for u in units)
    joint = [u["unit"] for u in units if u["n"] == 2]
    assert joint
    for unit in joint:
        shares = sorted(Ownership.objects.filter(unit=unit).values_list("share", flat=True))
        assert shares == [Decimal("0.5"), Decimal("0.5")]
    # Owner-occupiers are the household's head, linked to the resident record by the same ID.
    for owner in Owner.objects.filter(resident__isnull=False).select_related("resident"):
        assert owner.id_hash == owner.resident.id_hash and owner.name == owner.resident.name
    assert Owner.objects.annotate(n=Count("ownerships")).filter(n__gt=1).exists()
    developers = list(Owner.objects.filter(kind=OwnerKind.DEVELOPER))
    assert developers
    for developer in developers:
        code = decrypt(developer.id_cipher)
        assert len(code) == 18 and developer.name.endswith("置业有限公司")
        total = sum(
            CREDIT_CODE_CHARS.index(c) * w
            for c, w in zip(code[:17], CREDIT_CODE_WEIGHTS, strict=True)
        )
        assert (total + CREDIT_CODE_CHARS.index(code[17])) % 31 == 0
        unsold = Household.objects.filter(place__ownerships__owner=developer)
        assert unsold.exists() and not unsold.exclude(tenure="vacant").exists()
    # Every dwelling has a floor area; some from two sources, where the registry wins.
    dwellings = Household.objects.values_list("place", flat=True)
    with_area = set(UnitArea.objects.values_list("unit", flat=True))
    assert set(dwellings) == with_area
    by_unit: dict[int, list] = {}
    for area in UnitArea.objects.all():
        by_unit.setdefault(area.unit_id, []).append(area)
    for areas in by_unit.values():
        assert Decimal(35) <= effective_area(areas).area <= Decimal(140)
    doubled = UnitArea.objects.values("unit").annotate(n=Count("id")).filter(n=2)
    assert doubled.exists()
    for row in doubled:
        areas = list(UnitArea.objects.filter(unit=row["unit"]))
        best = effective_area(areas)
        assert best.source == min(
            (a.source for a in areas), key=["registry", "survey", "contract"].index
        )


def test_organisations_of_every_kind_with_contacts(register):
    world, _ = register
    kinds = Counter(Organisation.objects.values_list("kind", flat=True))
    assert set(kinds) == set(OrganisationKind.values)
    social = set(
        Organisation.objects.filter(kind="social_org").values_list("social_org_kind", flat=True)
    )
    assert social == set(SocialOrgKind.values)
    for organisation in Organisation.objects.prefetch_related("contacts", "areas"):
        contacts = list(organisation.contacts.all())
        assert 1 <= len(contacts) <= 2 and organisation.responsibilities
        for contact in contacts:
            assert contact.phone_hash == keyed_hash(decrypt(contact.phone_cipher))
            assert contact.phone_masked
        for area in organisation.areas.all():
            assert area.kind == PlaceKind.COMPOUND and area.path.startswith(organisation.path)
        if organisation.kind == OrganisationKind.OWNERS_COMMITTEE:
            assert [a.name + "业主委员会" for a in organisation.areas.all()] == [organisation.name]
    for committee in world.committees:
        mine = Counter(
            Organisation.objects.filter(committee=committee).values_list("kind", flat=True)
        )
        assert mine[OrganisationKind.PROPERTY_MANAGER] >= 1
        assert 2 <= mine[OrganisationKind.RESIDENT_UNIT] <= 4
        assert 3 <= mine[OrganisationKind.ACTIVITY_TEAM] <= 6
    assert OrganisationContact.objects.count() >= Organisation.objects.count()


def test_the_resident_persona_lives_with_her_husband_in_the_first_household(register):
    world, _ = register
    persona = next(p for p in personas_for(world) if p.key == "resident")
    household = Household.objects.get(place=persona.place)
    head = household.members.get(relation=Relation.HEAD)
    assert head.name.startswith("钱") and head.gender == "F"
    assert 66 <= age_on(head.birth_date, REFERENCE_DATE) <= 70
    assert decrypt(head.phone_cipher) == PERSONA_PHONE
    assert head.registration == Registration.REGISTERED
    voters = Ownership.objects.filter(unit=persona.place)
    assert {o.owner.resident_id for o in voters} >= {head.pk}
    assert voters.get(votes_for_unit=True).owner.resident_id == head.pk


def test_the_world_fixture_keeps_an_empty_register(world):
    assert not Resident.objects.exists() and not Household.objects.exists()


def test_the_demo_command_fills_the_register_once(monkeypatch, tmp_path, settings):
    monkeypatch.setattr("linli.demo.management.commands.demo.DEMO_SIZE", REGISTER_SIZE)
    accounts = tmp_path / "accounts.json"
    out = io.StringIO()
    call_command("demo", accounts_file=str(accounts), stdout=out)
    assert "Register filled in" in out.getvalue()
    people = Resident.objects.count()
    assert people >= REGISTER_SIZE.residents
    out = io.StringIO()
    call_command("demo", accounts_file=str(accounts), stdout=out)
    assert "already loaded" in out.getvalue() and Resident.objects.count() == people
    assert AuditEvent.objects.filter(action="demo.register.build").count() == 1
