"""Who may vote, read from the register by rule (RULES.md RC-01/RC-02/RC-10, OW-05/OW-06/OW-09).

- **person**: residents aged 18 or more on the day (born on or before the same day 18 years
  earlier, as `people.pii.age_on` counts: someone born on 29 February turns 18 on 1 March of
  a common year), in the register
  (`ResidentStatus.ACTIVE`: moved-out and deceased people are not), who *live* in a household
  under the place (`Residence.LIVING_REGISTERED` 人户一致 or `LIVING_ONLY` 人在户不在:
  RC-10 makes the length of residence irrelevant, so migrants who live here vote). Those only
  registered here but living elsewhere (户在人不在) are left out: they live, and take part,
  where they are. A worker can still give a specific vote an explicit list.
- **household**: one entitlement per household under the place that has at least one such
  adult; any adult member with an account, or the household's resident-role user, may cast it
  (the first one counts).
- **owner**: current owners (ownership not ended, begun by the day) of units under the place.
  A unit's area is its best source: property registry, else survey, else sale contract (OW-05;
  a unit with none counts 0 m²). Heads per OW-06: one per owner however many units (an
  `Owner` is de-duplicated per committee), the developer's unsold or undelivered units together
  one head (they are one `Owner` of kind developer); a co-owned unit counts once, for the
  co-owner flagged `votes_for_unit` (the earliest ownership among the flagged, or among all
  if none is flagged).

One query per kind whatever the size of the place; the owner query takes each unit's best
area with a correlated subquery on UnitArea's (unit, source) index.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, Exists, IntegerField, OuterRef, Q, Subquery, Value, When

from linli.core.scoping import under_q
from linli.people.choices import AREA_SOURCE_PREFERENCE, Residence, ResidentStatus
from linli.people.models import Household, Ownership, Resident, UnitArea
from linli.people.selectors import years_before
from linli.places.models import Place
from linli.votes.choices import VotingUnit

VOTING_AGE = 18
LIVING_HERE = (Residence.LIVING_REGISTERED, Residence.LIVING_ONLY)
NO_REGISTER_FOR_LISTS = (
    "a list electorate is given explicitly (voters=…), not read from the register"
)
ADDRESS_SEPARATOR = " › "


@dataclass(frozen=True)
class Voter:
    """One entitled voter. `label` is the unmasked name (households: the address) for staff;
    it is masked when frozen into an Entitlement."""

    key: str
    label: str
    resident_id: int | None = None
    household_id: int | None = None
    owner_id: int | None = None
    user_id: int | None = None
    area: Decimal | None = None
    head: str | None = None
    address: str = ""


def _address(*names) -> str:
    return ADDRESS_SEPARATOR.join(n for n in names if n)


def adults_living(place_path: str, on: dt.date):
    """Residents of the register who are adults on `on` and live under the place."""
    return Resident.objects.filter(
        under_q(place_path),
        status=ResidentStatus.ACTIVE,
        residence__in=LIVING_HERE,
        birth_date__lte=years_before(on, VOTING_AGE),
    )


def _persons(place: Place, on: dt.date) -> list[Voter]:
    rows = (
        adults_living(place.path, on)
        .order_by("path", "id")
        .values_list(
            "pk",
            "name",
            "household_id",
            "account_id",
            "household__place__parent__parent__name",
            "household__place__parent__name",
            "household__place__name",
        )
    )
    return [
        Voter(
            key=f"r:{pk}",
            label=name,
            resident_id=pk,
            household_id=household_id,
            user_id=account_id,
            address=_address(compound, building, room),
        )
        for pk, name, household_id, account_id, compound, building, room in rows
    ]


def _households(place: Place, on: dt.date) -> list[Voter]:
    adults = adults_living(place.path, on).filter(household=OuterRef("pk"))
    rows = (
        Household.objects.filter(under_q(place.path))
        .filter(Exists(adults))
        .order_by("path")
        .values_list(
            "pk", "place__parent__parent__name", "place__parent__name", "place__name", "address"
        )
    )
    voters = []
    for pk, compound, building, room, address in rows:
        where = _address(compound, building, room) or address
        voters.append(Voter(key=f"h:{pk}", label=where, household_id=pk, address=where))
    return voters


def best_area_subquery(unit_ref: str = "unit"):
    """The area of the unit named by `unit_ref` from its best source (OW-05), for annotate()."""
    rank = Case(
        *[When(source=s, then=Value(i)) for i, s in enumerate(AREA_SOURCE_PREFERENCE)],
        output_field=IntegerField(),
    )
    return Subquery(
        UnitArea.objects.filter(unit=OuterRef(unit_ref))
        .annotate(rank=rank)
        .order_by("rank")
        .values("area")[:1]
    )


def _owners(place: Place, on: dt.date) -> list[Voter]:
    current = (Q(since__isnull=True) | Q(since__lte=on)) & (Q(until__isnull=True) | Q(until__gt=on))
    rows = (
        Ownership.objects.filter(under_q(place.path))
        .filter(current)
        .annotate(best_area=best_area_subquery())
        .order_by("unit_id", "-votes_for_unit", "id")
        .values_list(
            "unit_id",
            "owner_id",
            "owner__name",
            "owner__resident_id",
            "owner__resident__account_id",
            "best_area",
            "unit__parent__parent__name",
            "unit__parent__name",
            "unit__name",
        )
    )
    # Ordered by unit, the voting co-owner first: the first row of each unit decides.
    owners: dict[int, dict] = {}
    seen_units: set[int] = set()
    for unit_id, owner_id, name, resident_id, user_id, area, compound, building, room in rows:
        if unit_id in seen_units:
            continue
        seen_units.add(unit_id)
        entry = owners.setdefault(
            owner_id,
            {
                "name": name,
                "resident_id": resident_id,
                "user_id": user_id,
                "area": Decimal("0.00"),
                "units": [],
            },
        )
        entry["area"] += area or Decimal("0.00")
        entry["units"].append(_address(compound, building, room))
    voters = []
    for owner_id, entry in owners.items():
        units = entry["units"]
        address = units[0] if len(units) == 1 else f"{units[0]} (+{len(units) - 1})"
        key = f"o:{owner_id}"
        voters.append(
            Voter(
                key=key,
                label=entry["name"],
                resident_id=entry["resident_id"],
                owner_id=owner_id,
                user_id=entry["user_id"],
                area=entry["area"],
                head=key,
                address=address,
            )
        )
    voters.sort(key=lambda v: (v.address, v.key))
    return voters


_READERS = {
    VotingUnit.PERSON: _persons,
    VotingUnit.HOUSEHOLD: _households,
    VotingUnit.OWNER: _owners,
}


def electorate(*, place: Place, unit: str, on: dt.date) -> list[Voter]:
    """The entitled voters of `place` for `unit` on the day `on` (see the module docstring)."""
    if unit == VotingUnit.LIST:
        raise ValueError(NO_REGISTER_FOR_LISTS)
    try:
        reader = _READERS[unit]
    except KeyError:
        raise ValueError(f"unknown voting unit {unit!r}") from None
    return reader(place, on)
