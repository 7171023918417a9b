"""The 12345 hotline import: engine, command and pages. Files are written by the tests."""

import csv
import datetime as dt
import io
import logging
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from openpyxl import Workbook

from linli.accounts.roles import Role
from linli.accounts.services import role_assign, user_create
from linli.conftest import PASSWORD
from linli.core.models import AuditEvent
from linli.people import forms_import
from linli.places.choices import PlaceKind
from linli.places.services import place_create
from linli.workorders import hotline
from linli.workorders.choices import Source, State, Urgency
from linli.workorders.hotline import cell_datetime, hotline_check, hotline_commit
from linli.workorders.models import Category, Transition, WorkOrder
from linli.workorders.tests.conftest import MONDAY, SHANGHAI

pytestmark = pytest.mark.django_db

HEADERS = ["工单编号", "受理时间", "诉求内容", "问题类别", "事发地址", "小区", "紧急程度",
           "来电人", "联系电话", "要求办结时间"]  # fmt: skip
PHONES = ["13812345678", "13987654321", "02164381234", "13700001111", "15900002222"]
BAD_PHONE = "1381234567"  # ten digits


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def fixed_rows(world) -> list[list]:
    """Five good orders: code, name, path-like and empty categories; compound column or address."""
    a, b, c = (p.name for p in world.compounds[:3])
    when = MONDAY.replace(tzinfo=None)
    return [
        ["SH2603090001", "2026-03-09 09:30", "3号楼门口的窨井盖碎了，晚上很危险", "C0199",
         "梧桐路12号", a, "紧急", "王先生", PHONES[0], "2026-03-10 17:00"],
        ["SH2603090002", "2026/3/9 10:05", "楼道里堆满了纸箱和旧家具", "楼道堆物",
         "梧桐路20弄", b, "", "", PHONES[1], ""],
        ["SH2603090003", "2026年3月9日 11时20分", "路边有人乱停车，堵住了消防通道",
         "小区管理/占用消防通道", f"漕溪北路88号{c}门口", "", "较急", "李女士", PHONES[2], ""],
        ["SH2603090004", when, "有人在小区里群租，一套房子住了十几个人", "",
         f"{a}2号楼", "", "一般", "", PHONES[3], ""],
        [2603090005, "2026-03-09T14:00:00+08:00", "楼上邻居半夜装修噪音太大", "E0604 噪声扰民",
         "梧桐路30号", c, "", "赵先生", PHONES[4], ""],
    ]  # fmt: skip


def messy_rows(world) -> dict[int, list]:
    """Row number in the file (a title row, then the header on row 2) → a bad row, plus a good
    row 3 that row 12 repeats."""
    good = fixed_rows(world)
    a = world.compounds[0].name

    def bad(**changes):
        row = list(good[1])
        for key, value in changes.items():
            row[HEADERS.index(key)] = value
        return row

    return {
        3: good[0],
        4: bad(工单编号=""),
        5: bad(工单编号="X-4", 受理时间="2026-13-45 10:00"),
        6: bad(工单编号="X-5", 受理时间="2999-01-01 09:00"),
        7: bad(工单编号="X-6", 诉求内容=""),
        8: bad(工单编号="X-7", 问题类别="Z9999", 诉求内容="请回电 谢谢"),
        9: bad(工单编号="X-8", 问题类别="", 诉求内容="我要投诉"),
        10: bad(工单编号="X-9", 小区="火星小区"),
        11: bad(工单编号="X-10", 联系电话=BAD_PHONE),
        12: bad(工单编号=good[0][0]),
        13: bad(工单编号="X-12", 紧急程度="十万火急"),
        14: bad(工单编号="X-13", 小区="", 事发地址="某某路100号"),
        15: bad(工单编号="X-14", 要求办结时间="2026-03-01 09:00"),
        16: bad(工单编号="X-15", 事发地址=""),
        17: bad(工单编号="X-16", 事发地址=f"{a}旁边"),  # both: the compound column wins
    }


EXPECTED = {
    4: "工单编号 is missing",
    5: "受理时间 is not a date and time",
    6: "受理时间 is in the future",
    7: "诉求内容 is missing",
    8: "Unknown category Z9999",
    9: "Unknown category: the column is empty",
    10: "Place not found in the street: 火星小区",
    11: "联系电话: ",
    12: "already on row 3",
    13: "紧急程度: unknown value 十万火急",
    14: "Place not found in the street: 某某路100号",
    15: "要求办结时间 is before 受理时间",
    16: "事发地址 is missing",
}
GOOD_MESSY_ROWS = {3, 17}


def write_xlsx(path, rows, *, title=True):
    workbook = Workbook()
    sheet = workbook.active
    if title:
        sheet.append(["梧桐路街道 12345市民服务热线工单（2026年3月）"])
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def write_csv(path, rows, *, encoding="gb18030"):
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    path.write_bytes(text.getvalue().encode(encoding))
    return path


def opener_of(file_path):
    return lambda: file_path.open("rb")


def check(world, file_path, actor=None):
    return hotline_check(
        actor=actor, street=world.street, opener=opener_of(file_path), file_name=file_path.name
    )


def commit(world, file_path, actor=None):
    return hotline_commit(
        actor=actor, street=world.street, opener=opener_of(file_path), file_name=file_path.name
    )


def another_street_dispatcher(world):
    street = place_create(
        actor=None, kind=PlaceKind.STREET, name="枫林路街道", parent=world.district,
        code="310104091000",
    )  # fmt: skip
    user = user_create(actor=None, username="other-dispatcher", password=PASSWORD)
    role_assign(actor=None, user=user, role=Role.GRID_DISPATCHER, place=street)
    return user


# --- cells --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-03-09 09:30", (2026, 3, 9, 9, 30, 0)),
        ("2026/3/9 9:30:15", (2026, 3, 9, 9, 30, 15)),
        ("2026.3.9 9:05", (2026, 3, 9, 9, 5, 0)),
        ("2026年3月9日9时30分", (2026, 3, 9, 9, 30, 0)),
        ("2026年3月9日 9点", (2026, 3, 9, 9, 0, 0)),
        ("２０２６－０３－０９　０９：３０", (2026, 3, 9, 9, 30, 0)),
        ("2026-03-09T01:30:00Z", (2026, 3, 9, 9, 30, 0)),
        ("2026-03-09", (2026, 3, 9, 0, 0, 0)),
        ("202603090930", (2026, 3, 9, 9, 30, 0)),
        (202603090930, (2026, 3, 9, 9, 30, 0)),
        (46090.5, (2026, 3, 9, 12, 0, 0)),
        (dt.datetime(2026, 3, 9, 9, 30), (2026, 3, 9, 9, 30, 0)),  # noqa: DTZ001
    ],
)
def test_times_are_read_in_every_usual_form_in_shanghai(raw, expected):
    moment = cell_datetime(raw)
    assert moment.tzinfo is not None
    assert moment == dt.datetime(*expected, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    "raw",
    ["2026-13-45 10:00", "2026-03-09 25:00", "明天上午", "9:30", "0001-01-01 00:00", "9999-12-31"],
)
def test_what_is_not_a_time_is_refused(raw):
    with pytest.raises(ValueError):
        cell_datetime(raw)


# --- the engine ---------------------------------------------------------------------------------


def test_a_time_out_of_this_era_is_a_bad_row_not_a_crash(world, users, tmp_path):
    """Year 1 passed the dry run and then broke the import (it cannot be put in UTC)."""
    row = list(fixed_rows(world)[1])
    row[HEADERS.index("受理时间")] = "0001-01-01 00:00"
    file_path = write_csv(tmp_path / "old.csv", [row])
    assert [number for number, _reason in check(world, file_path).errors] == [2]
    result = commit(world, file_path, actor=users["dispatcher"])
    assert not result.committed and not WorkOrder.objects.exists()


def test_nul_characters_in_a_csv_are_dropped(world, users, tmp_path):
    """PostgreSQL text cannot hold NUL: the import writes the text without it."""
    row = list(fixed_rows(world)[1])
    row[HEADERS.index("诉求内容")] = "楼道里堆满了\x00纸箱"
    row[HEADERS.index("来电人")] = "王\x00先生"
    file_path = write_csv(tmp_path / "nul.csv", [row], encoding="utf-8")
    result = commit(world, file_path, actor=users["dispatcher"])
    assert result.committed, result.errors
    order = WorkOrder.objects.get()
    assert order.description == "楼道里堆满了纸箱" and order.reporter_name == "王先生"


def test_a_messy_file_reports_every_bad_row_and_imports_nothing(world, users, tmp_path):
    rows = messy_rows(world)
    file_path = write_xlsx(tmp_path / "messy.xlsx", rows.values())
    result = commit(world, file_path, actor=users["dispatcher"])
    assert not result.committed and not WorkOrder.objects.exists()
    found = dict(result.errors)
    assert set(found) == set(EXPECTED), found
    for row, text in EXPECTED.items():
        assert text in found[row], (row, found[row])
    assert result.rows == len(rows)
    assert not AuditEvent.objects.filter(action="workorders.hotline.import").exists()
    # No phone, good or bad, comes back in the report.
    report = str(result.as_report())
    for phone in [*PHONES, BAD_PHONE]:
        assert phone not in report


def test_a_clean_file_imports_every_order_once(world, users, tmp_path):
    file_path = write_xlsx(tmp_path / "fixed.xlsx", fixed_rows(world))
    dry = check(world, file_path, actor=users["dispatcher"])
    assert (dry.ok, dry.created, dry.unchanged) == (True, 5, 0)
    assert not WorkOrder.objects.exists()

    result = commit(world, file_path, actor=users["dispatcher"])
    assert result.committed and (result.created, result.unchanged) == (5, 0)
    orders = {o.external_id: o for o in WorkOrder.objects.select_related("category", "place")}
    assert set(orders) == {f"SH26030900{i:02d}" for i in range(1, 5)} | {"2603090005"}
    first = orders["SH2603090001"]
    assert first.source == Source.HOTLINE and first.state == State.REPORTED
    assert first.street == world.street and first.place == world.compounds[0]
    assert first.category.service_code == "C0199" and first.urgency == Urgency.URGENT
    assert first.created_at == MONDAY.replace(hour=9, minute=30)
    assert first.reporter_name == "王先生" and first.reporter is None
    # The phone is kept encrypted and masked only.
    assert first.reporter_phone_masked == "138****5678"
    assert PHONES[0] not in first.reporter_phone_cipher
    assert orders["SH2603090002"].category.name == "楼道堆物"
    assert orders["SH2603090002"].urgency == Urgency.NORMAL
    third = orders["SH2603090003"]
    assert third.category.service_code == "E0611" and third.place == world.compounds[2]
    assert third.urgency == Urgency.PRESSING and third.reporter_phone_masked.endswith("1234")
    assert orders["SH2603090004"].place == world.compounds[0]  # named in the address
    assert orders["2603090005"].category.service_code == "E0604"
    assert orders["2603090005"].created_at == MONDAY.replace(hour=14, minute=0)

    # One audit event for the file, with counts only.
    event = AuditEvent.objects.get(action="workorders.hotline.import")
    assert event.actor_id == users["dispatcher"].pk and event.place_id == world.street.pk
    assert event.changes == {"rows": 5, "errors": 0, "created": 5, "unchanged": 0, "guessed": 1}


def test_importing_the_same_file_again_changes_nothing(world, users, tmp_path):
    file_path = write_xlsx(tmp_path / "fixed.xlsx", fixed_rows(world))
    assert commit(world, file_path, actor=users["dispatcher"]).created == 5
    orders, steps = WorkOrder.objects.count(), Transition.objects.count()
    again = commit(world, file_path, actor=users["dispatcher"])
    assert again.committed and (again.created, again.unchanged) == (0, 5)
    assert (WorkOrder.objects.count(), Transition.objects.count()) == (orders, steps)


def test_an_order_number_from_another_channel_or_street_is_not_the_same_order(
    world, users, new_order, tmp_path
):
    new_order(external_id="SH2603090001")  # a grid worker's report that happens to share it
    file_path = write_xlsx(tmp_path / "fixed.xlsx", fixed_rows(world))
    assert commit(world, file_path).created == 5


def test_the_category_is_told_from_the_text_when_the_column_is_empty(world, tmp_path):
    row = fixed_rows(world)[3]
    assert row[HEADERS.index("问题类别")] == ""
    file_path = write_xlsx(tmp_path / "guess.xlsx", [row])
    result = commit(world, file_path)
    assert result.committed and result.guessed == 1
    assert WorkOrder.objects.get().category.service_code == "E0601"  # 群租


def test_an_unknown_category_falls_back_to_the_text(world, tmp_path):
    row = list(fixed_rows(world)[3])
    row[HEADERS.index("问题类别")] = "房屋租赁类"
    result = commit(world, write_xlsx(tmp_path / "odd.xlsx", [row]))
    assert result.committed and result.guessed == 1
    assert WorkOrder.objects.get().category.name == "群租"


def test_a_retired_category_is_unknown(world, tmp_path):
    Category.objects.filter(service_code="E0604").update(active=False)
    row = list(fixed_rows(world)[4])
    row[HEADERS.index("诉求内容")] = "请回电"
    result = check(world, write_xlsx(tmp_path / "retired.xlsx", [row]))
    assert result.errors == [
        (3, "Unknown category E0604 噪声扰民, and none can be told from the text.")
    ]


def test_an_address_naming_two_compounds_asks_for_the_compound(world, tmp_path):
    a, b = world.compounds[0].name, world.compounds[1].name
    row = list(fixed_rows(world)[3])
    row[HEADERS.index("事发地址")] = f"{a}与{b}之间的通道"
    result = check(world, write_xlsx(tmp_path / "two.xlsx", [row]))
    ((number, message),) = result.errors
    assert number == 3 and "several compounds" in message and a in message and b in message


def test_a_compound_of_another_street_is_not_found(world, tmp_path):
    other = place_create(
        actor=None, kind=PlaceKind.STREET, name="枫林路街道", parent=world.district,
        code="310104091000",
    )  # fmt: skip
    committee = place_create(actor=None, kind=PlaceKind.COMMITTEE, name="枫林居委", parent=other)
    place_create(actor=None, kind=PlaceKind.COMPOUND, name="枫林苑", parent=committee)
    row = list(fixed_rows(world)[1])
    row[HEADERS.index("小区")] = "枫林苑"
    result = check(world, write_xlsx(tmp_path / "elsewhere.xlsx", [row]))
    assert result.errors == [(3, "Place not found in the street: 枫林苑.")]


def test_missing_required_columns_are_one_file_error(world, tmp_path):
    file_path = tmp_path / "short.csv"
    file_path.write_text("工单编号,诉求内容\nA1,路灯坏了\n", encoding="utf-8")
    result = check(world, file_path)
    ((row, message),) = result.errors
    assert row == 1 and "Missing required column(s)" in message
    assert "受理时间" in message and "事发地址" in message and "工单编号" not in message


def test_english_headers_are_read_too(world, tmp_path):
    file_path = tmp_path / "english.csv"
    file_path.write_text(
        "Hotline number,Received at,Description,Category,Address,Compound\n"
        f"EN-1,2026-03-09 09:30,楼道里堆满了纸箱,E0603,梧桐路1号,{world.compounds[0].name}\n",
        encoding="utf-8-sig",
    )
    result = commit(world, file_path)
    assert result.committed and result.created == 1


@pytest.mark.parametrize("kind", ["xlsx", "csv-gb18030", "csv-utf8"])
def test_xlsx_and_csv_files_both_import(world, tmp_path, kind):
    rows = fixed_rows(world)
    if kind == "xlsx":
        file_path = write_xlsx(tmp_path / "orders.xlsx", rows, title=False)
    else:
        encoding = "gb18030" if kind == "csv-gb18030" else "utf-8"
        file_path = write_csv(tmp_path / "orders.csv", rows, encoding=encoding)
        assert "工单编号".encode(encoding) in file_path.read_bytes()
    result = commit(world, file_path)
    assert result.committed and result.created == 5
    descriptions = set(WorkOrder.objects.values_list("description", flat=True))
    assert "楼道里堆满了纸箱和旧家具" in descriptions


def test_a_file_too_long_for_the_page_is_refused(world, tmp_path):
    rows = [[f"N{i}", "2026-03-09 09:30", "楼道堆物", "E0603", "某路", world.compounds[0].name]
            + [""] * 4 for i in range(4)]  # fmt: skip
    file_path = write_csv(tmp_path / "long.csv", rows)
    result = hotline_check(
        actor=None, street=world.street, opener=opener_of(file_path), file_name="long.csv",
        max_rows=3,
    )  # fmt: skip
    ((row, message),) = result.errors
    assert row == 5 and "more than 3 orders" in message


def test_only_the_streets_grid_centre_may_import(world, users, tmp_path):
    file_path = write_xlsx(tmp_path / "fixed.xlsx", fixed_rows(world))
    outsider = another_street_dispatcher(world)
    for actor in (outsider, users["worker"], users["gridworker"], users["director"]):
        with pytest.raises(PermissionDenied):
            check(world, file_path, actor=actor)
        with pytest.raises(PermissionDenied):
            commit(world, file_path, actor=actor)
    assert not WorkOrder.objects.exists()
    assert commit(world, file_path, actor=users["supervisor"]).created == 5


# --- the command --------------------------------------------------------------------------------


def _cli(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_hotline", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


def test_the_command_prints_bad_rows_and_exits_1(world, tmp_path, caplog):
    file_path = write_xlsx(tmp_path / "messy.xlsx", messy_rows(world).values())
    with caplog.at_level(logging.DEBUG):
        code, out, err = _cli(str(file_path), "--street", world.street.code)
    assert code == 1
    lines = out.strip().splitlines()
    assert [int(re.match(r"row (\d+): ", line)[1]) for line in lines] == sorted(EXPECTED)
    assert "nothing was imported" in err
    assert not WorkOrder.objects.exists()
    for phone in [*PHONES, BAD_PHONE]:
        assert phone not in out + err + caplog.text


def test_the_command_imports_a_clean_file_once(world, users, tmp_path, caplog):
    file_path = str(write_csv(tmp_path / "fixed.csv", fixed_rows(world)))
    street = world.street.code
    code, out, _ = _cli(file_path, "--street", street, "--dry-run")
    assert code == 0 and "new orders 5" in out and not WorkOrder.objects.exists()
    with caplog.at_level(logging.DEBUG):
        code, out, err = _cli(file_path, "--street", street, "--as", "dispatcher")
    assert code == 0 and "new orders 5" in out
    for phone in PHONES:
        assert phone not in out + err + caplog.text
    assert AuditEvent.objects.get(action="workorders.hotline.import").actor_name == "dispatcher"
    code, out, _ = _cli(file_path, "--street", street)
    assert code == 0 and "new orders 0" in out and "already imported 5" in out
    assert WorkOrder.objects.count() == 5


def test_the_command_refuses_unknown_streets_and_other_accounts(world, users, tmp_path):
    file_path = str(write_csv(tmp_path / "fixed.csv", fixed_rows(world)))
    with pytest.raises(CommandError):
        _cli(file_path, "--street", "999")
    with pytest.raises(CommandError):
        _cli(file_path, "--street", world.street.code, "--as", "worker")
    with pytest.raises(CommandError):
        _cli(file_path, "--street", world.street.code, "--as", "nobody")
    odd = tmp_path / "orders.xls"
    odd.write_bytes(b"old excel")
    code, out, _ = _cli(str(odd), "--street", world.street.code)
    assert code == 1 and out.startswith("row 1: Upload an .xlsx or .csv file")
    assert not WorkOrder.objects.exists()


# --- the pages ----------------------------------------------------------------------------------


def _zh(message) -> str:
    """A message as the (Chinese-first) pages render it."""
    with translation.override("zh-hans"):
        return escape(translation.gettext(message) if isinstance(message, str) else str(message))


def _post_file(client, street, file_path):
    with file_path.open("rb") as stream:
        return client.post(reverse("workorders:hotline"), {"street": street.pk, "file": stream})


def test_a_dispatcher_checks_then_imports_through_the_web(
    world, client_as, tmp_path, django_assert_max_num_queries
):
    client = client_as("dispatcher")
    page = client.get(reverse("workorders:hotline"))
    assert page.status_code == 200 and "工单编号" in page.content.decode()

    response = _post_file(
        client, world.street, write_xlsx(tmp_path / "m.xlsx", messy_rows(world).values())
    )
    assert response.status_code == 302
    report_url = response["Location"]
    with django_assert_max_num_queries(9):
        page = client.get(report_url).content.decode()
    for row in EXPECTED:
        assert f"<td>{row}</td>" in page
    for phone in [*PHONES, BAD_PHONE]:
        assert phone not in page
    token = report_url.rstrip("/").rsplit("/", 1)[1]
    assert reverse("workorders:hotline_commit", args=[token]) not in page
    client.post(reverse("workorders:hotline_commit", args=[token]))
    assert not WorkOrder.objects.exists()
    errors_csv = client.get(reverse("workorders:hotline_errors", args=[token]))
    assert errors_csv.content.decode("utf-8-sig").count("\n") == len(EXPECTED) + 1

    response = _post_file(client, world.street, write_csv(tmp_path / "f.csv", fixed_rows(world)))
    report_url = response["Location"]
    token = report_url.rstrip("/").rsplit("/", 1)[1]
    page = client.get(report_url).content.decode()
    assert _zh("Every row is good.") in page
    assert reverse("workorders:hotline_commit", args=[token]) in page
    assert not WorkOrder.objects.exists()
    response = client.post(reverse("workorders:hotline_commit", args=[token]), follow=True)
    imported = _zh("%(n)d new orders imported; %(old)d were already here.") % {"n": 5, "old": 0}
    assert imported in response.content.decode()
    assert WorkOrder.objects.filter(source=Source.HOTLINE).count() == 5
    # A second click imports nothing more.
    client.post(reverse("workorders:hotline_commit", args=[token]))
    assert WorkOrder.objects.count() == 5
    assert AuditEvent.objects.filter(action="workorders.hotline.import").count() == 1


def test_people_outside_the_streets_grid_centre_get_404(world, users, client_as, client, tmp_path):
    dispatcher = client_as("dispatcher")
    response = _post_file(
        dispatcher, world.street, write_csv(tmp_path / "f.csv", fixed_rows(world))
    )
    token = response["Location"].rstrip("/").rsplit("/", 1)[1]
    for key in ("worker", "stranger", "gridworker", "resident"):
        other = client_as(key)
        assert other.get(reverse("workorders:hotline")).status_code == 404
        assert other.get(reverse("workorders:hotline_report", args=[token])).status_code == 404
        assert other.post(reverse("workorders:hotline_commit", args=[token])).status_code == 404
        assert other.get(reverse("workorders:hotline_errors", args=[token])).status_code == 404
    # Another street's dispatcher sees only their own street and none of this upload.
    client.force_login(another_street_dispatcher(world))
    page = client.get(reverse("workorders:hotline")).content.decode()
    assert "枫林路街道" in page and world.street.name not in page
    assert client.get(reverse("workorders:hotline_report", args=[token])).status_code == 404
    assert client.post(reverse("workorders:hotline_commit", args=[token])).status_code == 404
    response = _post_file(client, world.street, write_csv(tmp_path / "g.csv", fixed_rows(world)))
    assert response.status_code == 200  # the street is not one of theirs: the form refuses it
    assert not WorkOrder.objects.exists()
    client.logout()
    assert client.get(reverse("workorders:hotline")).status_code == 302  # to the login


def test_the_upload_form_refuses_other_file_types(world, client_as, tmp_path):
    odd = tmp_path / "orders.xls"
    odd.write_bytes(b"old excel")
    response = _post_file(client_as("dispatcher"), world.street, odd)
    assert response.status_code == 200
    assert _zh(forms_import.BAD_TYPE) in response.content.decode()


def test_the_columns_are_documented_with_their_chinese_headers():
    assert [c.header for c in hotline.COLUMNS] == HEADERS
