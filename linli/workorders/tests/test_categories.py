import io
import json
import re

import pytest
from django.core.management import call_command

from linli.workorders.categories import (
    FixtureError,
    categories_load,
    fixture_categories,
    fixture_read,
    fixture_time_limits,
)
from linli.workorders.choices import LimitUnit, Phase, Urgency
from linli.workorders.models import Category, TimeLimit

MAJORS, MINORS, LIMITS = 12, 94, 21


def _snapshot():
    categories = list(Category.objects.order_by("service_code").values())
    limits = list(TimeLimit.objects.order_by("phase", "urgency").values())
    return categories, limits


def test_the_fixture_holds_both_kinds_with_string_codes():
    data = fixture_read()
    rows = fixture_categories(data)
    assert (len(data["majors"]), len(rows)) == (MAJORS, MINORS)
    majors = {(m["kind"], m["code"]): m["name"] for m in data["majors"]}
    assert [majors["component", f"0{i}"] for i in range(1, 7)] == [
        "公用设施",
        "道路交通",
        "市容环境",
        "园林绿化",
        "房屋土地",
        "其他设施",
    ]
    assert [majors["event", f"0{i}"] for i in range(1, 7)] == [
        "市容环境",
        "宣传广告",
        "施工管理",
        "突发事件",
        "街面秩序",
        "小区管理",
    ]
    codes = [row["service_code"] for row in rows]
    assert len(set(codes)) == len(codes)
    for row in rows:
        assert re.fullmatch(r"\d{2}", row["major_code"]), row["service_code"]
        assert re.fullmatch(r"\d{2}", row["minor_code"]), row["service_code"]
        letter = "C" if row["kind"] == "component" else "E"
        assert row["service_code"] == letter + row["major_code"] + row["minor_code"]
        assert 3 <= len(row["examples"].splitlines()) <= 8, row["service_code"]
        assert row["register_condition"] and row["close_condition"], row["service_code"]
    by_code = {row["service_code"]: row for row in rows}
    assert by_code["C0101"]["name"] == "上水井盖" and not by_code["C0101"]["public"]
    assert by_code["E0605"]["name"] == "邻里纠纷" and by_code["E0605"]["self_governable"]
    assert not by_code["E0602"]["self_governable"]  # 违法搭建 goes to the street


def test_the_fixture_has_one_default_limit_per_phase_and_urgency():
    limits = fixture_time_limits(fixture_read())
    assert len(limits) == LIMITS == len(Phase.values) * len(Urgency.values)
    table = {(t["phase"], t["urgency"]): (t["amount"], t["unit"]) for t in limits}
    assert table["verify", "normal"] == (30, LimitUnit.MINUTES)
    assert table["handle", "urgent"] == (4, LimitUnit.HOURS)
    assert table["handle", "pressing"] == (1, LimitUnit.DAYS)
    assert table["handle", "normal"] == (5, LimitUnit.DAYS)
    assert table["committee", "normal"] == (5, LimitUnit.DAYS)


@pytest.mark.django_db
def test_the_migration_seeded_the_database_like_the_loader():
    assert Category.objects.count() == MINORS
    assert TimeLimit.objects.filter(category__isnull=True).count() == LIMITS
    manhole = Category.objects.get(service_code="C0101")
    assert (manhole.kind, manhole.major_code, manhole.minor_code) == ("component", "01", "01")
    assert manhole.major_name == "公用设施" and manhole.duplicate_radius_m == 30
    # The migration's frozen copy of the loading logic gives what the loader would.
    counts = categories_load(update=True)
    assert counts["categories_updated"] == counts["time_limits_updated"] == 0


@pytest.mark.django_db
def test_loading_twice_changes_nothing():
    TimeLimit.objects.all().delete()
    Category.objects.all().delete()
    counts = categories_load()
    assert counts == {
        "majors": MAJORS,
        "categories": MINORS,
        "categories_created": MINORS,
        "categories_updated": 0,
        "time_limits": LIMITS,
        "time_limits_created": LIMITS,
        "time_limits_updated": 0,
    }
    before = _snapshot()
    again = categories_load()
    assert again["categories_created"] == again["time_limits_created"] == 0
    assert _snapshot() == before


@pytest.mark.django_db
def test_update_rewrites_fixture_fields_but_keeps_a_retirement_and_never_deletes():
    lamp = Category.objects.get(service_code="C0118")
    Category.objects.filter(pk=lamp.pk).update(name="灯", examples="", active=False)
    TimeLimit.objects.filter(category=None, phase="handle", urgency="normal").update(amount=9)
    local = Category.objects.create(
        kind="event",
        major_code="07",
        major_name="本地",
        minor_code="01",
        name="本地事项",
        service_code="E0701",
    )

    assert categories_load()["categories_updated"] == 0  # without update, edits stay
    assert Category.objects.get(pk=lamp.pk).name == "灯"

    counts = categories_load(update=True)
    assert (counts["categories_updated"], counts["time_limits_updated"]) == (1, 1)
    lamp.refresh_from_db()
    assert lamp.name == "路灯" and "闪个不停" in lamp.examples
    assert lamp.active is False  # the fixture does not say, so the admin's choice stands
    limit = TimeLimit.objects.get(category=None, phase="handle", urgency="normal")
    assert (limit.amount, limit.unit) == (5, LimitUnit.DAYS)
    assert Category.objects.filter(pk=local.pk).exists()


@pytest.mark.django_db
def test_a_bad_fixture_is_refused_whole(tmp_path):
    data = fixture_read()
    data["majors"][0]["minors"][0]["code"] = 1  # a number loses the leading zero
    data["majors"][-1]["minors"].append({"code": "98", "name": "新事项", "examples": ["x"]})
    path = tmp_path / "categories.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(FixtureError, match="two digits"):
        categories_load(path)
    assert not Category.objects.filter(service_code="E0698").exists()

    data["majors"][0]["minors"][0]["code"] = "02"  # now C0102 twice
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(FixtureError, match="C0102 appears twice"):
        categories_load(path)


@pytest.mark.django_db
def test_the_command_prints_counts():
    out = io.StringIO()
    call_command("categories_load", stdout=out)
    assert "categories: 94 in 12 major classes, 0 created, 0 updated" in out.getvalue()
    assert "default time limits: 21, 0 created, 0 updated" in out.getvalue()
