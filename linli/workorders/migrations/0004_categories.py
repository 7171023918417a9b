"""Seed the classification of components and events and the default time limits from
fixtures/categories.json.

Self-contained on purpose (historical models, a frozen field list, no app code), so later
changes to linli.workorders.categories or new fixture keys cannot change what this migration
does. It only creates what is missing; `manage.py categories_load --update` brings existing rows
in line with an edited fixture. Reversing leaves the rows in place: orders may refer to them and
administrators may have edited them.
"""

import json
from pathlib import Path

from django.db import migrations

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "categories.json"
LETTER = {"component": "C", "event": "E"}
FIELDS = {
    "description": "",
    "self_governable": False,
    "public": True,
    "duplicate_radius_m": 100,
    "duplicate_window_days": 7,
    "register_condition": "",
    "close_condition": "",
    "active": True,
}


def seed(apps, schema_editor):
    Category = apps.get_model("workorders", "Category")
    TimeLimit = apps.get_model("workorders", "TimeLimit")
    db = schema_editor.connection.alias
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))

    taken = set(Category.objects.using(db).values_list("service_code", flat=True))
    new = []
    for major in data["majors"]:
        defaults = {**FIELDS, **{k: v for k, v in major.get("defaults", {}).items() if k in FIELDS}}
        for minor in major["minors"]:
            service_code = LETTER[major["kind"]] + major["code"] + minor["code"]
            if service_code in taken:
                continue
            taken.add(service_code)
            new.append(
                Category(
                    service_code=service_code,
                    kind=major["kind"],
                    major_code=major["code"],
                    major_name=major["name"],
                    minor_code=minor["code"],
                    name=minor["name"],
                    examples="\n".join(e.strip() for e in minor.get("examples", []) if e.strip()),
                    **{name: minor.get(name, default) for name, default in defaults.items()},
                )
            )
    Category.objects.using(db).bulk_create(new)

    have = set(
        TimeLimit.objects.using(db)
        .filter(category__isnull=True)
        .values_list("phase", "urgency")
    )
    TimeLimit.objects.using(db).bulk_create(
        TimeLimit(category=None, phase=t["phase"], urgency=t["urgency"], amount=t["amount"],
                  unit=t["unit"])
        for t in data.get("time_limits", [])
        if (t["phase"], t["urgency"]) not in have
    )


class Migration(migrations.Migration):
    dependencies = [("workorders", "0003_calendar_seed")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
