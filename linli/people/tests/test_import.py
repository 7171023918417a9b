import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from openpyxl import Workbook

from linli.core.crypto import decrypt_bytes
from linli.core.models import AuditEvent
from linli.core.scoping import path_segment, under_q
from linli.people import forms_import, imports
from linli.people.choices import EventKind
from linli.people.imports import (
    building_key,
    cell_bool,
    cell_date,
    cell_text,
    import_check,
    import_commit,
    room_key,
)
from linli.people.models import (
    Household,
    ImportJob,
    Organisation,
    Owner,
    Ownership,
    Resident,
    ResidentEvent,
    UnitArea,
)
from linli.people.pii import compose_id_number
from linli.people.services import id_lookup_hash
from linli.people.tests.data import make_samples
from linli.people.tests.factories import a_household, a_resident, an_id_number
from linli.places.choices import PlaceKind
from linli.places.models import Place

pytestmark = pytest.mark.django_db
DATA = Path(__file__).parent / "data"
CODE = make_samples.COMMITTEE_CODE
HEADERS = make_samples.FIXED_HEADERS
A, B = make_samples.COMPOUNDS


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def committee(world):
    return world.committees[0]


def _opener(path: Path):
    return lambda: path.open("rb")


def check(committee, kind, path, **kwargs):
    return import_check(
        actor=kwargs.pop("actor", None),
        committee=committee,
        kind=kind,
        opener=_opener(path),
        file_name=path.name,
        **kwargs,
    )


def commit(committee, kind, path, **kwargs):
    return import_commit(
        actor=kwargs.pop("actor", None),
        committee=committee,
        kind=kind,
        opener=_opener(path),
        file_name=path.name,
        **kwargs,
    )


def write_csv(path: Path, headers, rows, encoding="utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, headers, rows) -> Path:
    workbook = Workbook()
    workbook.active.append(headers)
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return path


def person_row(name, number, *, compound=A, building="1号楼", room="101室", **fields):
    values = {
        "phone": "",
        "ethnicity": "汉族",
        "registration": "户籍",
        "residence": "人户一致",
        "relation": "户主",
        "tags": "",
        "date": "",
    }
    values.update(fields)
    return [compound, building, room, name, number, *values.values()]


def register_counts():
    return (
        Resident.objects.count(),
        Household.objects.count(),
        ResidentEvent.objects.count(),
        Place.objects.count(),
    )


# --- reading cells -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (dt.datetime(2020, 1, 2, 0, 0), dt.date(2020, 1, 2)),  # noqa: DTZ001 (as openpyxl reads)
        ("2020-01-02", dt.date(2020, 1, 2)),
        ("2020/1/2", dt.date(2020, 1, 2)),
        ("2020.1.2", dt.date(2020, 1, 2)),
        ("2020年1月2日", dt.date(2020, 1, 2)),
        ("20200102", dt.date(2020, 1, 2)),
        (20200102, dt.date(2020, 1, 2)),
        (43832, dt.date(2020, 1, 2)),  # an Excel serial day number
        ("2020-01-02 00:00:00", dt.date(2020, 1, 2)),
    ],
)
def test_dates_are_read_in_every_usual_form(raw, expected):
    assert cell_date(raw) == expected


def test_numbers_typed_into_excel_come_back_as_text():
    assert cell_text(13812345678.0) == "13812345678"
    assert cell_text(310104820617013) == "310104820617013"
    assert cell_text(72.35) == "72.35"
    assert cell_text("\ufeff 张三\u3000") == "张三"


@pytest.mark.parametrize("name", ["3号楼", "3号", "3幢", "3栋", "3", " 3 号楼", "３号楼"])
def test_building_numbers_are_tolerant(name):
    assert building_key(name) == building_key("3号楼")


@pytest.mark.parametrize(
    ("raw", "expected"), [("是", True), ("√", True), ("否", False), ("×", False)]
)
def test_yes_and_no(raw, expected):
    assert cell_bool(raw) is expected


def test_room_numbers_are_tolerant():
    assert room_key("201") == room_key("201室") == room_key("０２０１")


def test_the_samples_match_the_test_world(committee):
    compounds = Place.objects.filter(parent=committee).values_list("name", flat=True)
    assert sorted(compounds) == sorted(make_samples.COMPOUNDS)
    assert committee.code == CODE and committee.name == "梧桐居民委员会"


# --- the messy file ----------------------------------------------------------------------------


def test_the_messy_file_reports_every_bad_row_with_its_reason(committee):
    result = check(committee, "residents", DATA / "residents_messy.xlsx")
    rows = dict(result.errors)
    assert set(rows) == set(make_samples.EXPECTED_ERRORS)
    for row, reason in make_samples.EXPECTED_ERRORS.items():
        assert reason in rows[row], (row, rows[row])
    assert result.rows == 12  # the empty row is skipped, not counted
    assert (result.created, result.updated) == (7, 0)  # what a clean file would do
    # Privacy: a report names the problem, never the number.
    for _row, message in result.errors:
        assert not re.search(r"\d{8,}", message), message


def test_a_file_with_errors_imports_nothing(committee):
    before = register_counts(), AuditEvent.objects.count()
    result = commit(committee, "residents", DATA / "residents_messy.xlsx")
    assert not result.committed and result.error_count == 5
    assert (register_counts(), AuditEvent.objects.count()) == before


def test_the_fixed_file_commits_and_the_people_are_found(committee):
    result = commit(committee, "residents", DATA / "residents_fixed.xlsx")
    assert result.committed and result.ok
    assert (result.created, result.updated, result.unchanged) == (7, 0, 0)
    for row in make_samples.PEOPLE:
        resident = Resident.objects.get(id_hash=id_lookup_hash(row[4]))
        assert resident.name == row[3]
        assert resident.path.startswith(committee.path)
    wang = Resident.objects.get(id_hash=id_lookup_hash(make_samples.PEOPLE[0][4]))
    assert wang.phone_masked == "138****5678"  # the phone typed as a number
    assert sorted(t.code for t in wang.tags.all()) == ["party_member"]
    chen = Resident.objects.get(name="陈志强")  # the old 15-digit card, upgraded
    assert chen.id_masked == "310104********" + chen.id_masked[-4:]
    assert chen.birth_date == dt.date(1982, 6, 17)
    assert chen.household.place.name == "102室"
    zhou = Resident.objects.get(name="周玉兰")
    assert {t.name for t in zhou.tags.all()} == {"独居老人", "高龄老人"}
    moved_in = {
        e.resident.name: e.date for e in ResidentEvent.objects.filter(kind=EventKind.MOVE_IN)
    }
    assert moved_in["王建国"] == dt.date(2001, 5, 1)
    assert moved_in["陈志强"] == dt.date(2010, 3, 8)
    assert moved_in["刘洋"] == dt.date(2023, 7, 15)
    assert moved_in["赵敏"] == dt.date(2015, 6, 1)
    event = AuditEvent.objects.get(action="people.import.commit")
    assert event.place_id == committee.pk
    assert event.changes["created"] == 7 and event.changes["kind"] == "residents"
    assert len(event.changes["sha256"]) == 64
    assert not re.search(r"\d{15,}", str(event.changes))


def test_importing_the_same_file_again_changes_nothing(committee):
    commit(committee, "residents", DATA / "residents_fixed.xlsx")
    events = ResidentEvent.objects.count()
    stamps = list(Resident.objects.order_by("pk").values_list("updated_at", flat=True))
    again = commit(committee, "residents", DATA / "residents_fixed.xlsx")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 7)
    assert ResidentEvent.objects.count() == events
    assert list(Resident.objects.order_by("pk").values_list("updated_at", flat=True)) == stamps
    # The same people in a CSV saved by Excel in China (GB18030, messy headers) match too.
    gbk = commit(committee, "residents", DATA / "residents_gb18030.csv")
    assert (gbk.created, gbk.updated, gbk.unchanged) == (0, 0, 7)


def test_a_gb18030_csv_imports(committee):
    result = commit(committee, "residents", DATA / "residents_gb18030.csv")
    assert result.committed and result.created == 7
    assert Resident.objects.filter(name="王建国").exists()


def test_a_utf8_csv_without_bom_imports(committee, tmp_path):
    path = write_csv(
        tmp_path / "plain.csv", HEADERS, [person_row("钱多多", an_id_number())], "utf-8"
    )
    assert commit(committee, "residents", path).created == 1
    assert Resident.objects.filter(name="钱多多").exists()


def test_an_updated_value_leaves_masked_history(committee, tmp_path):
    commit(committee, "residents", DATA / "residents_fixed.xlsx")
    rows = [list(r) for r in make_samples.PEOPLE]
    rows[1][5] = "13955556666"  # 李秀英: a new phone
    rows[1][9] = "户主"  # and now the head of the household
    result = commit(committee, "residents", write_xlsx(tmp_path / "v2.xlsx", HEADERS, rows))
    assert (result.created, result.updated, result.unchanged) == (0, 1, 6)
    li = Resident.objects.get(name="李秀英")
    assert li.relation == "head" and li.phone_masked == "139****6666"
    event = li.events.get(kind=EventKind.STATUS)
    assert event.changes["phone"] == ["139****5678", "139****6666"]
    assert event.changes["relation"] == ["spouse", "head"]
    assert "13955556666" not in str(event.changes) and "13912345678" not in str(event.changes)


def test_a_person_listed_in_another_dwelling_is_transferred(committee, tmp_path):
    commit(committee, "residents", DATA / "residents_fixed.xlsx")
    li = Resident.objects.get(name="李秀英")
    old_household = li.household
    rows = [list(r) for r in make_samples.PEOPLE]
    rows[1][2] = "202室"
    result = commit(committee, "residents", write_xlsx(tmp_path / "moved.xlsx", HEADERS, rows))
    assert result.updated == 1
    li.refresh_from_db()
    assert li.household.place.name == "202室" and li.path == li.household.path
    transfers = ResidentEvent.objects.filter(resident=li, kind=EventKind.TRANSFER)
    assert {e.household_id for e in transfers} == {old_household.pk, li.household_id}


def test_every_kind_of_bad_row_is_reported(committee, world, tmp_path):
    elsewhere = an_id_number()
    a_resident(a_household(world.committees[1]), id_number=elsewhere)
    good = an_id_number()
    rows = {
        2: person_row("", an_id_number()),
        3: person_row("吴一", compose_id_number("310104", dt.date(1970, 1, 1), 1)[:-1] + "0"),
        4: person_row("吴二", an_id_number(), phone="12345"),
        5: person_row("吴三", an_id_number(), compound="不存在小区"),
        6: person_row("吴四", an_id_number(), building="7号楼"),
        7: person_row("吴五", an_id_number(), room="909室"),
        8: person_row("吴六", an_id_number(), tags="独居老人、外星人"),
        9: person_row("吴七", an_id_number(), registration="火星户籍"),
        10: person_row("吴八", good),
        11: person_row("吴八", good),
        12: person_row("吴九", an_id_number(), date="2020-13-45"),
        13: person_row("吴十", an_id_number(), date="2999-01-01"),
        14: person_row("冯某", elsewhere),
        15: person_row("吴十一", ""),
        16: person_row("吴十二", an_id_number(), registration=good),  # columns swapped
        17: person_row("吴十三", an_id_number(), date="1979-01-01"),  # born 1980-05-17
    }
    path = write_csv(tmp_path / "bad.csv", HEADERS, rows.values())
    before = register_counts()
    result = commit(committee, "residents", path)
    assert register_counts() == before
    found = dict(result.errors)
    expected = {
        2: "姓名 is missing",
        3: "check character",
        4: "联系电话: Enter a mobile number",
        5: "Unknown compound: 不存在小区",
        6: "Unknown building 7号楼",
        7: "Unknown room 909室",
        8: "Unknown tag: 外星人",
        9: "户籍状态: unknown value 火星户籍",
        11: "already on row 10",
        12: "迁入日期 is not a date",
        13: "迁入日期 is in the future",
        14: "already in the register",
        15: "身份证号 is missing",
        16: "户籍状态: unknown value 310",
        17: "迁入日期: The date cannot be before the person was born",
    }
    assert set(found) == set(expected)
    for row, text in expected.items():
        assert text in found[row], (row, found[row])
    # A number in the wrong column is not echoed back in plain.
    assert good not in found[16] and good not in str(result.as_report())
    assert result.elsewhere == 1
    # Registered elsewhere: said so without saying where.
    second = world.committees[1]
    for name in [second.name, *Place.objects.filter(parent=second).values_list("name", flat=True)]:
        assert name not in found[14]


def test_missing_required_columns_are_one_file_error(committee, tmp_path):
    path = write_csv(
        tmp_path / "no-id.csv", ["小区", "楼栋", "室号", "姓名"], [[A, "1", "101", "某"]]
    )
    result = check(committee, "residents", path)
    assert result.error_count == 1
    (row, message), *_ = result.errors
    assert row == 1 and "Missing required column(s)" in message
    for header in ("身份证号", "户籍状态", "居住状态", "与户主关系"):
        assert header in message


def test_english_headers_under_a_title_row(committee, tmp_path):
    path = tmp_path / "english.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["梧桐居委会居民信息登记表"])  # a title row above the headers
    sheet.append([])
    sheet.append(["Compound", "Building", "Room", "Name", "ID number", "Phone", "Registration",
                  "Residence status", "relation"])  # fmt: skip
    sheet.append([A, 1, 101, "韩梅梅", an_id_number(), "", "registered", "living_registered",
                  "head"])  # fmt: skip
    sheet.append([A, 1, 101, "", "", "", "registered", "living_registered", "head"])
    workbook.save(path)
    result = check(committee, "residents", path)
    assert result.created == 1
    # Spreadsheet row numbers (the header is row 3); the file's own column names.
    assert result.errors == [(5, "Name is missing. ID number is missing.")]


def test_a_mapping_overrides_the_guesses(committee, tmp_path):
    headers = ["甲", "乙", "丙", "丁", "戊", "己", "庚", "辛"]
    row = [A, "1号楼", "101室", "李雷", an_id_number(), "户籍", "人户一致", "户主"]
    path = write_csv(tmp_path / "odd.csv", headers, [row])
    assert not check(committee, "residents", path).ok
    keys = ["compound", "building", "room", "name", "id_number", "registration", "residence"]
    mapping = dict(zip(headers, [*keys, "relation"], strict=True))
    result = commit(committee, "residents", path, mapping=mapping)
    assert result.committed and result.created == 1
    bad = {**mapping, "辛": "name"}
    assert "same field" in check(committee, "residents", path, mapping=bad).errors[0][1]


def test_only_the_committee_may_import(committee, users):
    path = DATA / "residents_fixed.xlsx"
    for key in ("stranger", "gridworker", "selfgov"):
        with pytest.raises(PermissionDenied):
            check(committee, "residents", path, actor=users[key])
    assert check(committee, "residents", path, actor=users["worker"]).ok


# --- households, owners, organisations ---------------------------------------------------------


def test_households_import_creates_missing_dwellings(committee):
    before = Place.objects.filter(kind=PlaceKind.HOUSEHOLD).count()
    result = commit(committee, "households", DATA / "households.xlsx")
    assert result.committed and result.created == 7
    assert Place.objects.filter(kind=PlaceKind.HOUSEHOLD).count() == before + 1
    new = Place.objects.get(name="301室", parent__name="2号楼", parent__parent__name=A)
    assert new.path == new.parent.path + path_segment(new.pk)
    assert new.depth == new.parent.depth + 1
    household = Household.objects.get(place=new)
    assert (household.tenure, household.path) == ("rented", new.path)
    assert Household.objects.get(
        place__name="102室", place__parent__parent__name=B
    ).household_type == ("collective")
    # The new dwelling is in the committee's subtree, so scoping sees it.
    assert Place.objects.filter(under_q(committee.path), pk=new.pk).exists()
    again = commit(committee, "households", DATA / "households.xlsx")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 7)


def test_households_report_unknown_buildings_and_duplicates(committee, tmp_path):
    rows = [[A, "1号楼", "101室"], [A, "1", "101"], [A, "8号楼", "101室"], ["无名小区", "1", "1"]]
    path = write_csv(tmp_path / "h.csv", ["小区", "楼栋", "室号"], rows)
    result = commit(committee, "households", path)
    assert dict(result.errors).keys() == {3, 4, 5}
    assert "already on row 2" in dict(result.errors)[3]
    assert not Household.objects.exists()


def test_owners_import_links_units_owners_and_areas(committee):
    commit(committee, "residents", DATA / "residents_fixed.xlsx")
    result = commit(committee, "owners", DATA / "owners.xlsx")
    assert result.committed and result.created == 4
    wang = Owner.objects.get(name="王建国")
    assert wang.resident.name == "王建国"  # the owner is also a resident
    assert wang.ownerships.count() == 2 and Owner.objects.count() == 3
    shares = dict(Ownership.objects.filter(unit__name="101室").values_list("owner__name", "share"))
    assert {k: str(v) for k, v in shares.items()} == {"王建国": "0.5000", "李秀英": "0.5000"}
    assert not Ownership.objects.get(owner__name="李秀英").votes_for_unit
    areas = {(a.unit.name, a.source): str(a.area) for a in UnitArea.objects.select_related("unit")}
    assert areas == {
        ("101室", "registry"): "72.35",
        ("102室", "survey"): "65.10",
        ("202室", "contract"): "88.00",
    }
    developer = Owner.objects.get(kind="developer")
    assert developer.id_masked.startswith("913101")
    again = commit(committee, "owners", DATA / "owners.xlsx")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)


def test_owner_rows_are_checked(committee, tmp_path):
    number = an_id_number()
    rows = [
        [A, "1号楼", "101室", "个人", "甲", number, "", "0.5", "", "", "70", "产证"],
        [A, "1号楼", "101室", "个人", "甲", number, "", "0.5", "", "", "", ""],  # twice
        [A, "1号楼", "102室", "个人", "乙", number, "", "", "", "", "", ""],  # other name
        [A, "1号楼", "101室", "个人", "丙", an_id_number(), "", "", "", "", "71", "产证"],
        [A, "1号楼", "201室", "个人", "丁", "", "", "", "", "", "", ""],  # no ID
        [A, "1号楼", "202室", "单位", "某公司", "123", "", "1.5", "", "", "-3", ""],
        [A, "2号楼", "101室", "开发商", "某开发商", "", "", "", "也许", "", "80", "估计"],
    ]
    path = write_csv(tmp_path / "o.csv", make_samples.OWNER_HEADERS, rows)
    result = commit(committee, "owners", path)
    found = dict(result.errors)
    assert "already on row 2" in found[3]
    assert "different 业主姓名" in found[4]
    assert "Row 2 gives this unit a different area" in found[5]
    assert "needs an ID number" in found[6]
    assert "credit code" in found[7] and "Floor area" in found[7]
    assert "A share is a fraction" in found[7]
    assert "投票代表: unknown value 也许" in found[8] and "面积来源: unknown value 估计" in found[8]
    assert set(found) == {3, 4, 5, 6, 7, 8}
    assert not Owner.objects.exists()


def test_organisations_import_groups_contacts_by_name(committee):
    result = commit(committee, "organisations", DATA / "organisations.csv")
    assert result.committed and result.created == 4 and result.rows == 5
    owners_committee = Organisation.objects.get(kind="owners_committee")
    assert sorted(c.name for c in owners_committee.contacts.all()) == ["孙美华", "钱国强"]
    manager = Organisation.objects.get(kind="property_manager")
    assert sorted(a.name for a in manager.areas.all()) == sorted([A, B])
    assert manager.credit_code == "91310104MA1FL1234Y"
    assert Organisation.objects.get(kind="social_org").social_org_kind == "social_service"
    again = commit(committee, "organisations", DATA / "organisations.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)


def test_a_social_organisation_needs_its_legal_kind(committee, tmp_path):
    rows = [
        ["社会组织", "", "无类型的社会组织"],
        ["物业", "基金会", "乱填类型的物业"],
        ["火星组织", "", "x"],
    ]
    path = write_csv(tmp_path / "org.csv", ["组织类型", "法人类型", "名称"], rows)
    result = commit(committee, "organisations", path)
    found = dict(result.errors)
    assert "needs its legal kind" in found[2]
    assert "Only social organisations" in found[3]
    assert "unknown value 火星组织" in found[4]
    assert not Organisation.objects.exists()


# --- scale ------------------------------------------------------------------------------------


def _many_rows(count: int, start: int) -> list:
    rooms = [(c, b, r) for c in (A, B) for b in ("1号楼", "2号楼") for r in ("101室", "202室")]
    rows = []
    for i in range(start, start + count):
        compound, building, room = rooms[i % len(rooms)]
        number = compose_id_number("310104", dt.date(1940, 1, 1) + dt.timedelta(days=i), i % 999)
        rows.append(
            person_row(
                f"居民{i}",
                number,
                compound=compound,
                building=building,
                room=room,
                phone=f"139{i:08d}",
                tags="志愿者",
                relation="其他",
            )
        )
    return rows


def test_queries_grow_per_batch_not_per_row(committee, tmp_path):
    small = write_csv(tmp_path / "50.csv", HEADERS, _many_rows(50, 0))
    large = write_csv(tmp_path / "500.csv", HEADERS, _many_rows(500, 1000))
    with CaptureQueriesContext(connection) as q_small:
        assert commit(committee, "residents", small).created == 50
    with CaptureQueriesContext(connection) as q_large:
        assert commit(committee, "residents", large).created == 500
    # PostgreSQL runs the same statements for both; SQLite splits each bulk insert at 999
    # parameters, which adds a few statements, never one per row.
    assert len(q_large) - len(q_small) <= 40, (len(q_small), len(q_large))
    assert len(q_large) < 100


# --- the command line ------------------------------------------------------------------------


def _cli(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


def test_the_command_prints_bad_rows_and_exits_1(committee):
    before = register_counts()
    code, out, err = _cli("residents", str(DATA / "residents_messy.xlsx"), "--committee", CODE)
    assert code == 1
    lines = out.strip().splitlines()
    assert [int(re.match(r"row (\d+): ", line)[1]) for line in lines] == sorted(
        make_samples.EXPECTED_ERRORS
    )
    assert "nothing was imported" in err
    assert register_counts() == before


def test_the_command_imports_a_clean_file_once(committee):
    path = str(DATA / "residents_fixed.xlsx")
    code, out, _ = _cli("residents", path, "--committee", CODE, "--dry-run")
    assert code == 0 and "created 7" in out and not Resident.objects.exists()
    code, out, _ = _cli("residents", path, "--committee", CODE)
    assert code == 0 and "created 7, updated 0" in out
    assert Resident.objects.count() == 7
    code, out, _ = _cli("residents", path, "--committee", CODE)
    assert code == 0 and "created 0, updated 0, unchanged 7" in out


def test_the_command_refuses_an_unknown_committee_or_file_type(committee, tmp_path):
    with pytest.raises(CommandError):
        call_command("import", "residents", str(DATA / "residents.csv"), "--committee", "999")
    odd = tmp_path / "register.xls"
    odd.write_bytes(b"not a workbook")
    code, out, _ = _cli("residents", str(odd), "--committee", CODE)
    assert code == 1 and out.startswith("row 1: Upload an .xlsx or .csv file")


# --- the web: upload → mapping → dry run → report → commit -------------------------------------


def _upload(client, committee, path, kind="residents"):
    with path.open("rb") as stream:
        return client.post(
            reverse("people:import"),
            {"kind": kind, "committee": committee.pk, "file": stream},
        )


def test_a_worker_imports_through_the_web(client_as, committee, users):
    client = client_as("worker")
    assert client.get(reverse("people:import")).status_code == 200
    response = _upload(client, committee, DATA / "residents_messy.xlsx")
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "people:import_job", args=[job.pk]
    )
    # The stored file is ciphertext (it holds plaintext ID numbers).
    assert "王建国".encode() not in job.content_cipher.encode()
    assert decrypt_bytes(job.content_cipher) == (DATA / "residents_messy.xlsx").read_bytes()
    page = client.get(response["Location"]).content.decode()
    assert '<option value="name" selected>' in page  # the guessed mapping, preselected
    assert "disabled" in page  # no commit before a clean dry run

    client.post(reverse("people:import_dry_run", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "validated" and job.report["errors"] == 5
    page = client.get(reverse("people:import_job", args=[job.pk])).content.decode()
    for row in make_samples.EXPECTED_ERRORS:
        assert f"<td>{row}</td>" in page
    response = client.post(reverse("people:import_commit", args=[job.pk]), follow=True)
    assert _zh(imports.NOT_READY) in response.content.decode()
    assert not Resident.objects.exists()
    errors_csv = client.get(reverse("people:import_errors", args=[job.pk]))
    assert errors_csv.content.decode("utf-8-sig").count("\n") == 6

    response = _upload(client, committee, DATA / "residents_fixed.xlsx")
    job = ImportJob.objects.get(file_name="residents_fixed.xlsx")
    client.post(reverse("people:import_dry_run", args=[job.pk]))
    job.refresh_from_db()
    assert (job.status, job.report["errors"], job.report["created"]) == ("validated", 0, 7)
    page = client.get(reverse("people:import_job", args=[job.pk])).content.decode()
    assert _zh("Every row is good.") in page
    client.post(reverse("people:import_commit", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "committed" and job.content_cipher == ""
    assert Resident.objects.count() == 7
    assert ResidentEvent.objects.filter(recorded_by=users["worker"]).count() == 7
    page = client.get(reverse("people:import_job", args=[job.pk])).content.decode()
    assert reverse("people:search") in page
    assert AuditEvent.objects.filter(action="people.import.dry_run", actor_id=users["worker"].pk)
    commit_event = AuditEvent.objects.get(action="people.import.commit")
    assert commit_event.actor_id == users["worker"].pk
    assert commit_event.changes["sha256"] == job.sha256


def test_changing_the_mapping_needs_a_new_dry_run(client_as, committee):
    client = client_as("worker")
    _upload(client, committee, DATA / "residents_fixed.xlsx")
    job = ImportJob.objects.get()
    client.post(reverse("people:import_dry_run", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "validated"
    data = {f"column_{i}": key for i, (_header, key) in enumerate(job.mapping)}
    data["column_10"] = ""  # ignore the tags column
    client.post(reverse("people:import_mapping", args=[job.pk]), data)
    job.refresh_from_db()
    assert job.status == "uploaded" and job.report == {}
    assert job.mapping[10] == ["标签", ""]
    client.post(reverse("people:import_commit", args=[job.pk]))
    assert not Resident.objects.exists()
    client.post(reverse("people:import_dry_run", args=[job.pk]))
    client.post(reverse("people:import_commit", args=[job.pk]))
    assert Resident.objects.count() == 7
    assert not Resident.objects.filter(tags__isnull=False).exists()


def test_the_upload_form_refuses_other_file_types(client_as, committee, tmp_path):
    odd = tmp_path / "register.xls"
    odd.write_bytes(b"old excel")
    response = _upload(client_as("worker"), committee, odd)
    assert response.status_code == 200
    assert _zh(forms_import.BAD_TYPE) in response.content.decode()
    assert not ImportJob.objects.exists()


def test_progress_is_polled_while_a_job_runs(client_as, committee):
    client = client_as("worker")
    _upload(client, committee, DATA / "residents_fixed.xlsx")
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status="validating")
    cache.set(f"linli:import-progress:{job.pk}", (3, 7))
    page = client.get(reverse("people:import_job", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in page
    fragment = client.get(reverse("people:import_progress", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert b'<progress value="3" max="7">' in fragment.content
    ImportJob.objects.filter(pk=job.pk).update(status="validated")
    done = client.get(reverse("people:import_progress", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert done.status_code == 204 and done["HX-Refresh"] == "true"


def test_a_stranger_gets_404_on_another_committees_job(client_as, committee):
    _upload(client_as("worker"), committee, DATA / "residents_fixed.xlsx")
    job = ImportJob.objects.get()
    stranger = client_as("stranger")
    for name in ("import_job", "import_progress", "import_errors", "import_mapping"):
        assert stranger.get(reverse(f"people:{name}", args=[job.pk])).status_code == 404
    for name in ("import_dry_run", "import_commit", "import_mapping"):
        assert stranger.post(reverse(f"people:{name}", args=[job.pk])).status_code == 404
    page = stranger.get(reverse("people:import")).content.decode()
    assert job.file_name not in page and committee.name not in page
    job.refresh_from_db()
    assert job.status == "uploaded"


def test_roles_without_manage_register_cannot_reach_the_import(client_as):
    for key in ("gridworker", "selfgov", "resident"):
        assert client_as(key).get(reverse("people:import")).status_code == 404


def test_uploads_never_committed_are_wiped_after_a_week(client_as, committee):
    client = client_as("worker")
    _upload(client, committee, DATA / "residents_fixed.xlsx")
    _upload(client, committee, DATA / "residents_messy.xlsx")
    old, recent = ImportJob.objects.order_by("pk")
    ImportJob.objects.filter(pk=old.pk).update(
        updated_at=timezone.now() - dt.timedelta(days=8),
        report={"errors": 1, "bad_rows": [[3, "姓名 is missing"]]},
    )
    call_command("import_purge", stdout=io.StringIO())
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.content_cipher == "" and old.status == "failed"
    assert "bad_rows" not in old.report  # the reasons quote the file's cells
    with translation.override("en"), pytest.raises(ValidationError, match="deleted"):
        imports.import_job_start(actor=None, job=old, commit=False)
    assert recent.content_cipher != ""
    assert AuditEvent.objects.filter(action="people.import.purge", object_id=str(old.pk)).exists()
    page = client.get(reverse("people:import_job", args=[old.pk])).content.decode()
    assert 'role="alert"' in page
    assert reverse("people:import_dry_run", args=[old.pk]) not in page


def _zh(message) -> str:
    """A message as the (Chinese-first) pages render it."""
    with translation.override("zh-hans"):
        return escape(translation.gettext(message) if isinstance(message, str) else str(message))
