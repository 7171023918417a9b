import itertools

from django.db import models
from django.utils.translation import gettext_lazy as _


class PlaceKind(models.TextChoices):
    CITY = "city", _("City")
    DISTRICT = "district", _("District")
    STREET = "street", _("Street / town")
    COMMITTEE = "committee", _("Residents' committee")
    COMPOUND = "compound", _("Compound")
    BUILDING = "building", _("Building")
    HOUSEHOLD = "household", _("Household")


# The tree is strict: each kind sits directly under exactly one kind.
KIND_ORDER = [k.value for k in PlaceKind]
PARENT_KIND = {child: parent for parent, child in itertools.pairwise(KIND_ORDER)}
CHILD_KIND = {parent: child for child, parent in PARENT_KIND.items()}

# Official codes: GB/T 2260 six digits for the city (first two digits + 0000) and districts;
# the 12-digit statistical division code for streets and committees.
CODE_LENGTH = {
    PlaceKind.CITY: 6,
    PlaceKind.DISTRICT: 6,
    PlaceKind.STREET: 12,
    PlaceKind.COMMITTEE: 12,
}

# How many leading digits of the parent's code a child's code repeats.
CODE_PREFIX_LENGTH = {PlaceKind.DISTRICT: 2, PlaceKind.STREET: 6, PlaceKind.COMMITTEE: 9}


class DepartmentKind(models.TextChoices):
    HOUSING_OFFICE = "housing_office", _("Housing office")
    CITY_MANAGEMENT = "city_management", _("City management")
    MARKET_REGULATION = "market_regulation", _("Market regulation")
    POLICE_STATION = "police_station", _("Police station")
    GREENING_SANITATION = "greening_sanitation", _("Greening and sanitation")
    CIVIL_AFFAIRS = "civil_affairs", _("Civil affairs")
    OTHER = "other", _("Other")


def level_path(path: str, kind: str) -> str:
    """The path of the ancestor of kind `kind` of the place at `path` (the tree is strict, so each
    kind sits at a fixed depth: a household's committee is the first four segments)."""
    from linli.core.scoping import SEGMENT_WIDTH

    depth = KIND_ORDER.index(kind) + 1
    if len(path) < depth * SEGMENT_WIDTH:
        raise ValueError(f"a path of {len(path)} digits has no {kind} ancestor")
    return path[: depth * SEGMENT_WIDTH]
