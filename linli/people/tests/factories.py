"""Register factories for tests: a household in a world's committee and residents in it."""

import contextlib
import datetime as dt
import itertools

from linli.core.scoping import under_q
from linli.people.pii import InvalidIdentifier, compose_id_number, parse_id_number
from linli.people.services import (
    committee_of,
    household_ensure,
    organisation_upsert,
    owner_upsert,
    ownership_set,
    resident_create,
    unit_area_set,
)
from linli.places.choices import PlaceKind
from linli.places.models import Place

_sequence = itertools.count(100)


def a_unit(committee: Place, index: int = 0) -> Place:
    units = Place.objects.filter(under_q(committee.path), kind=PlaceKind.HOUSEHOLD).order_by("path")
    return units[index]


def a_household(committee: Place, index: int = 0, **fields):
    return household_ensure(actor=None, unit=a_unit(committee, index), **fields)


def an_id_number(birth=dt.date(1980, 5, 17), male=True) -> str:
    seq = next(_sequence) % 500 * 2 + (1 if male else 0)
    return compose_id_number("310104", birth, seq)


def a_resident(household, **overrides):
    values = {
        "name": "张小明",
        "id_number": an_id_number(),
        "phone": "13812345678",
        "ethnicity": "汉族",
        "registration": "registered",
        "residence": "living_registered",
        "relation": "head",
        "date": dt.date(2020, 1, 1),
    }
    values.update(overrides)
    if "date" not in overrides:  # moved in, or born into the household
        with contextlib.suppress(InvalidIdentifier):
            values["date"] = max(values["date"], parse_id_number(values["id_number"]).birth_date)
    return resident_create(actor=None, household=household, **values)


def residents_in(household, count: int, *, start=dt.date(1950, 1, 1), **overrides):
    """`count` residents of one household with distinct birth dates (so distinct ID numbers)."""
    return [
        a_resident(
            household,
            name=f"居民{i:03d}",
            id_number=an_id_number(birth=start + dt.timedelta(days=97 * i), male=i % 2 == 0),
            relation="head" if i == 0 else "other",
            **overrides,
        )
        for i in range(count)
    ]


def an_owner(unit: Place, *, name="李业主", share=None, area=None, source="registry", **fields):
    """An owner of a unit (created or found in the unit's committee), optionally its area."""
    values = {"kind": "person", "id_number": an_id_number(), "phone": "13700001111"}
    values.update(fields)
    owner = owner_upsert(actor=None, committee=committee_of(unit), name=name, **values)
    ownership_set(actor=None, unit=unit, owner=owner, share=share)
    if area is not None:
        unit_area_set(actor=None, unit=unit, source=source, area=area)
    return owner


def an_organisation(committee: Place, **overrides):
    values = {
        "kind": "owners_committee",
        "name": f"{committee.name[:2]}业主委员会",
        "contacts": [("王主任", "主任", "13912345678")],
    }
    values.update(overrides)
    return organisation_upsert(actor=None, committee=committee, **values)
