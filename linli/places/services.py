"""Writes to the place tree. Each writes its audit event in the same transaction."""

import uuid

from django.db import transaction

from linli.core.audit import audit_record, diff
from linli.places.models import Department, Grid, Place


def _snapshot(place: Place) -> dict:
    return {"kind": place.kind, "name": place.name, "code": place.code, "parent": place.parent_id}


@transaction.atomic
def place_create(*, actor, kind: str, name: str, parent: Place | None, code: str = "") -> Place:
    place = Place(
        kind=kind, name=name, code=code, parent=parent, path=f"new-{uuid.uuid4().hex}", depth=0
    )
    place.full_clean(exclude=["path", "depth"])
    place.save()
    place.assign_path()
    place.save(update_fields=["path", "depth"])
    audit_record(
        actor=actor,
        action="places.place.create",
        obj=place,
        place=place,
        changes=diff({}, _snapshot(place)),
    )
    return place


@transaction.atomic
def place_update(*, actor, place: Place, name: str, code: str) -> Place:
    """Rename or recode a place. Moving a place to another parent is not offered."""
    before = _snapshot(Place.objects.select_for_update().get(pk=place.pk))
    place.name, place.code = name, code
    place.full_clean(exclude=["path", "depth"])
    place.save(update_fields=["name", "code"])
    audit_record(
        actor=actor,
        action="places.place.update",
        obj=place,
        place=place,
        changes=diff(before, _snapshot(place)),
    )
    return place


@transaction.atomic
def grid_create(*, actor, street: Place, code: str, name: str, compounds: list[Place]) -> Grid:
    grid = Grid(street=street, code=code, name=name)
    grid.full_clean()
    grid.save()
    grid.compounds.set(compounds)
    audit_record(
        actor=actor,
        action="places.grid.create",
        obj=grid,
        place=street,
        changes={"compounds": [c.name for c in compounds]},
    )
    return grid


@transaction.atomic
def department_create(*, actor, name: str, kind: str, area: Place, phone: str = "") -> Department:
    department = Department(name=name, kind=kind, area=area, phone=phone)
    department.full_clean()
    department.save()
    audit_record(
        actor=actor,
        action="places.department.create",
        obj=department,
        place=area,
        changes=diff({}, {"name": name, "kind": kind}),
    )
    return department
