"""Reads of the place tree, always on behalf of a viewer."""

from collections import defaultdict

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q
from django.db.models.functions import Substr
from django.shortcuts import get_object_or_404

from linli.core.scoping import covers, under_q
from linli.places.models import Department, Grid, Place
from linli.places.perms import VIEW_PLACE

CHILDREN_PER_PAGE = 50


def place_get(*, viewer, pk: int) -> Place:
    """The place, if the viewer may see it; 404 otherwise (out of scope looks like absent)."""
    return get_object_or_404(Place.objects.for_viewer(viewer, VIEW_PLACE), pk=pk)


def viewer_roots(*, viewer) -> list[Place]:
    prefixes = viewer.scope_prefixes(VIEW_PLACE)
    return list(Place.objects.filter(path__in=prefixes).order_by("path"))


def place_children_page(*, viewer, place: Place, page: int | str | None) -> Page:
    children = Place.objects.for_viewer(viewer, VIEW_PLACE).filter(parent=place).order_by("path")
    return Paginator(children, CHILDREN_PER_PAGE).get_page(page)


def place_breadcrumbs(*, viewer, place: Place) -> list[tuple[Place, bool]]:
    """Ancestors from the top, each with whether the viewer may open it."""
    ancestors = Place.objects.filter(pk__in=place.ancestor_ids()).order_by("path")
    prefixes = viewer.scope_prefixes(VIEW_PLACE)
    return [(a, covers(prefixes, a.path)) for a in ancestors]


def subtree_counts(*, prefixes: list[str]) -> dict[str, dict[str, int]]:
    """For each path prefix, how many places of each kind lie strictly under it.

    One grouped query per distinct prefix length (at most the depth of the tree).
    """
    by_length: dict[int, list[str]] = defaultdict(list)
    for prefix in set(prefixes):
        by_length[len(prefix)].append(prefix)
    result: dict[str, dict[str, int]] = {p: {} for p in prefixes}
    for length, group in by_length.items():
        condition = Q()
        for prefix in group:
            condition |= under_q(prefix)
        rows = (
            Place.objects.filter(condition)
            .exclude(path__in=group)
            .annotate(root=Substr("path", 1, length))
            .values("root", "kind")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in rows:
            result[row["root"]][row["kind"]] = row["n"]
    return result


def place_grids(*, place: Place) -> list[Grid]:
    if place.kind == "street":
        return list(place.street_grids.annotate(n_compounds=Count("compounds")).order_by("code"))
    if place.kind == "compound":
        return list(place.grids.order_by("code"))
    return []


def place_departments(*, place: Place) -> list[Department]:
    return list(Department.objects.filter(area=place).order_by("name"))
