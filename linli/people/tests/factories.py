"""Register factories for tests: a household in a world's committee and residents in it."""

import datetime as dt
import itertools

from linli.core.scoping import under_q
from linli.people.pii import compose_id_number
from linli.people.services import household_ensure, resident_create
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
    return resident_create(actor=None, household=household, **values)
