"""The classification of components and events, loaded from an editable fixture.

`fixtures/categories.json` is our own format (not Django's dumpdata), meant to be edited by hand:

    {"note": "...", "time_limits": [{"phase", "urgency", "amount", "unit", "source"}, ...],
     "majors": [{"kind": "component" | "event", "code": "01", "name": "公用设施",
                 "defaults": {<minor fields shared by the class>},
                 "minors": [{"code": "01", "name": "上水井盖", "examples": ["...", ...],
                             "description", "self_governable", "public", "active",
                             "duplicate_radius_m", "duplicate_window_days",
                             "register_condition", "close_condition"}, ...]}, ...]}

A minor's service code is the kind's letter (C or E), the major code and the minor code. Loading
is idempotent and never deletes: a missing category is created, an existing one (same service
code) is left alone unless `update=True`, which rewrites the fields the fixture gives. Retire a
class with `"active": false`; changing a code makes a new category. Migration 0004 seeds the same
file with its own frozen copy of this logic.
"""

import json
import re
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from linli.core.audit import audit_record
from linli.workorders.choices import CategoryKind, LimitUnit, Phase, Urgency
from linli.workorders.models import Category, TimeLimit

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "categories.json"
KIND_LETTER = {CategoryKind.COMPONENT: "C", CategoryKind.EVENT: "E"}

# Fields a minor (or its major's "defaults") may set, with the model default when neither does.
MINOR_FIELDS: dict[str, Any] = {
    "description": "",
    "self_governable": False,
    "public": True,
    "duplicate_radius_m": 100,
    "duplicate_window_days": 7,
    "register_condition": "",
    "close_condition": "",
}
# Set only when the fixture says so, so an update does not undo a retirement made in the admin.
OPTIONAL_FIELDS = ("active",)

_CODE = re.compile(r"^\d{2}$")


class FixtureError(ValueError):
    """The fixture cannot be loaded; nothing was written. (For administrators running the
    command, so in English like the rest of the command's output.)"""

    def __init__(self, problem: str):
        super().__init__(f"the category file is not valid: {problem}")


def fixture_read(path: Path | str | None = None) -> dict:
    try:
        with open(path or FIXTURE, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, json.JSONDecodeError) as error:
        raise FixtureError(str(error)) from None
    if not isinstance(data, dict) or not isinstance(data.get("majors"), list):
        raise FixtureError('expected an object with a "majors" list')
    return data


def fixture_categories(data: dict) -> list[dict[str, Any]]:
    """The fixture's minor classes as Category field dicts, checked, in file order."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for major in data["majors"]:
        kind, major_code = major.get("kind"), major.get("code")
        if kind not in KIND_LETTER:
            raise FixtureError(f"unknown kind {kind!r} in major class {major_code!r}")
        if not isinstance(major_code, str) or not _CODE.match(major_code):
            raise FixtureError(f"major code {major_code!r} must be a two-digit string")
        defaults = {**MINOR_FIELDS, **major.get("defaults", {})}
        for minor in major.get("minors", []):
            minor_code = minor.get("code")
            if not isinstance(minor_code, str) or not _CODE.match(minor_code):
                raise FixtureError(f"minor code {minor_code!r} in {major_code} must be two digits")
            service_code = f"{KIND_LETTER[kind]}{major_code}{minor_code}"
            if service_code in seen:
                raise FixtureError(f"service code {service_code} appears twice")
            seen.add(service_code)
            if not minor.get("name"):
                raise FixtureError(f"{service_code} has no name")
            row = {
                "service_code": service_code,
                "kind": kind,
                "major_code": major_code,
                "major_name": major["name"],
                "minor_code": minor_code,
                "name": minor["name"],
                "examples": "\n".join(e.strip() for e in minor.get("examples", []) if e.strip()),
            }
            for name in MINOR_FIELDS:
                row[name] = minor.get(name, defaults[name])
            for name in OPTIONAL_FIELDS:
                if name in minor:
                    row[name] = minor[name]
            rows.append(row)
    return rows


def fixture_time_limits(data: dict) -> list[dict[str, Any]]:
    """The default (category-less) time limits, checked."""
    rows = []
    for item in data.get("time_limits", []):
        row = {name: item.get(name) for name in ("phase", "urgency", "amount", "unit")}
        if (
            row["phase"] not in Phase.values
            or row["urgency"] not in Urgency.values
            or row["unit"] not in LimitUnit.values
            or not isinstance(row["amount"], int)
            or row["amount"] <= 0
        ):
            raise FixtureError(f"bad time limit {item!r}")
        rows.append(row)
    if len({(r["phase"], r["urgency"]) for r in rows}) != len(rows):
        raise FixtureError("a phase and urgency has two time limits")
    return rows


@transaction.atomic
def categories_load(path: Path | str | None = None, *, update: bool = False) -> dict[str, int]:
    """Load the classification fixture and the default time limits; return counts.

    Creates what is missing; with `update`, also rewrites the fixture's fields of existing rows.
    Never deletes.
    """
    data = fixture_read(path)
    category_rows = fixture_categories(data)
    limit_rows = fixture_time_limits(data)
    counts = {
        "majors": len(data["majors"]),
        "categories": len(category_rows),
        "categories_created": 0,
        "categories_updated": 0,
        "time_limits": len(limit_rows),
        "time_limits_created": 0,
        "time_limits_updated": 0,
    }

    existing = {c.service_code: c for c in Category.objects.all()}
    for row in category_rows:
        category = existing.get(row["service_code"])
        if category is None:
            category = Category(**row)
            _clean(category, row["service_code"])
            category.save(force_insert=True)
            counts["categories_created"] += 1
        elif update:
            changed = [name for name, value in row.items() if getattr(category, name) != value]
            if changed:
                for name in changed:
                    setattr(category, name, row[name])
                _clean(category, row["service_code"])
                category.save(update_fields=changed)
                counts["categories_updated"] += 1

    limits = {(t.phase, t.urgency): t for t in TimeLimit.objects.filter(category__isnull=True)}
    for row in limit_rows:
        limit = limits.get((row["phase"], row["urgency"]))
        if limit is None:
            TimeLimit.objects.create(category=None, **row)
            counts["time_limits_created"] += 1
        elif update and (limit.amount, limit.unit) != (row["amount"], row["unit"]):
            limit.amount, limit.unit = row["amount"], row["unit"]
            limit.save(update_fields=["amount", "unit"])
            counts["time_limits_updated"] += 1

    written = {k: v for k, v in counts.items() if k.endswith(("_created", "_updated")) and v}
    if written:
        audit_record(actor=None, action="workorders.categories.load", changes=written)
    return counts


def _clean(category: Category, service_code: str) -> None:
    try:
        category.full_clean(validate_unique=False)
    except ValidationError as error:
        raise FixtureError(f"{service_code}: {error.messages}") from None
