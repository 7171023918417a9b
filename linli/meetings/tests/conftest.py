"""Meeting fixtures: a small register in the first committee and meetings over it."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from linli.meetings import services
from linli.meetings.choices import MeetingKind
from linli.people.services import owner_upsert, ownership_set, unit_area_set
from linli.people.tests.factories import a_household, a_resident, a_unit, an_id_number


def adult(household, name, birth, relation="other"):
    return a_resident(household, name=name, id_number=an_id_number(birth=birth), relation=relation)


@pytest.fixture
def adults(world, users):
    """Ten adults in five households of the first committee, plus one child (not entitled);
    the resident persona's account is the first adult."""
    committee = world.committees[0]
    people = []
    for h in range(5):
        household = a_household(committee, h)
        for i in range(2):
            people.append(
                adult(
                    household,
                    f"居民{h}{i}号",
                    dt.date(1960 + h, 1 + i, 10),
                    relation="head" if i == 0 else "spouse",
                )
            )
    adult(a_household(committee, 0), "小朋友", dt.date(2018, 5, 5), relation="child")
    first = people[0]
    first.account = users["resident"]
    first.save(update_fields=["account"])
    return people


def owner_of(world, index: int, name: str, area: str, kind: str = "person"):
    unit = a_unit(world.committees[0], index)
    owner = owner_upsert(
        actor=None,
        committee=world.committees[0],
        kind=kind,
        name=name,
        id_number=an_id_number() if kind == "person" else "",
    )
    ownership_set(actor=None, unit=unit, owner=owner)
    unit_area_set(actor=None, unit=unit, source="registry", area=Decimal(area))
    return owner


def soon(days: int = 10, hours: int = 0) -> dt.datetime:
    return timezone.now() + dt.timedelta(days=days, hours=hours)


def draft(
    world, users, *, kind=MeetingKind.RESIDENTS_MEETING, place=None, actor="worker", **fields
):
    values = {
        "place": place or world.committees[0],
        "kind": kind,
        "title": "2026年度居民会议",
        "starts_at": soon(),
        "ends_at": soon(hours=2),
        "location": "居委会会议室",
    }
    values.update(fields)
    if "starts_at" in fields and "ends_at" not in fields:
        values["ends_at"] = fields["starts_at"] + dt.timedelta(hours=2)
    meeting = services.meeting_create(actor=users[actor] if actor else None, **values)
    services.agenda_add(
        actor=users[actor] if actor else None, meeting=meeting, title="加装电梯方案"
    )
    return meeting


def announced(world, users, *, members=(), **fields):
    meeting = draft(world, users, **fields)
    for label, party in members:
        services.member_add(actor=users["worker"], meeting=meeting, label=label, party=party)
    return services.meeting_announce(actor=users["worker"], meeting=meeting)


def running(world, users, **fields):
    meeting = announced(world, users, **fields)
    return services.meeting_start(actor=users["worker"], meeting=meeting)


def check_in(users, meeting, invitations):
    for invitation in invitations:
        services.meeting_check_in(
            actor=users["worker"], meeting=meeting, invitation=invitation, method="list"
        )
