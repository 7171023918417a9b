"""Vote factories: a small register in the first committee and votes over it."""

import datetime as dt
from decimal import Decimal

from linli.people.models import Resident
from linli.people.services import owner_upsert, ownership_set, unit_area_set
from linli.people.tests.factories import a_household, a_resident, a_unit, an_id_number
from linli.votes.services import vote_create, vote_open

# A day with the 2018 residents' committee law in force, and the owners' rules of the Civil Code.
TODAY = dt.date(2025, 6, 2)


def adult(household, name="王建国", birth=dt.date(1970, 3, 4), **fields) -> Resident:
    return a_resident(household, name=name, id_number=an_id_number(birth=birth), **fields)


def register(world, users, households: int = 3, per_household: int = 2) -> list[Resident]:
    """Adults in the first households of the first committee; the resident persona is the
    first person of the first household (its account)."""
    committee = world.committees[0]
    people = []
    for h in range(households):
        household = a_household(committee, h)
        for i in range(per_household):
            people.append(
                adult(
                    household,
                    name=f"居民{h}{i}号",
                    birth=dt.date(1960 + h, 1 + i, 10),
                    relation="head" if i == 0 else "spouse",
                )
            )
    first = people[0]
    first.account = users["resident"]
    first.save(update_fields=["account"])
    return people


def owner_of(world, index: int, name: str, *, area=None, source="registry", kind="person", **kw):
    """An owner of the index-th dwelling of the first committee (with its area, when given)."""
    unit = a_unit(world.committees[0], index)
    ident = kw.pop("id_number", None) or (an_id_number() if kind == "person" else "")
    owner = owner_upsert(
        actor=None, committee=world.committees[0], kind=kind, name=name, id_number=ident
    )
    ownership_set(actor=None, unit=unit, owner=owner, **kw)
    if area is not None:
        unit_area_set(actor=None, unit=unit, source=source, area=Decimal(area))
    return owner


def a_vote(world, *, actor=None, place=None, **fields):
    values = {
        "place": place or world.committees[0],
        "kind": "motion",
        "title": "是否同意加装电梯",
        "rule_id": "residents_meeting",
        "unit": "person",
    }
    values.update(fields)
    return vote_create(actor=actor, **values)


def an_open_vote(world, *, voters=None, now=None, **fields):
    vote = a_vote(world, **fields)
    return vote_open(actor=None, vote=vote, voters=voters, now=now)
