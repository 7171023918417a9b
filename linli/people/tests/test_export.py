import csv
import io
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from openpyxl import load_workbook

from linli.core.models import AuditEvent
from linli.people.exports import register_export
from linli.people.imports import columns_for, import_commit
from linli.people.models import Organisation, Resident
from linli.people.services import REASON_REQUIRED
from linli.people.tests.data import make_samples

pytestmark = pytest.mark.django_db
DATA = Path(__file__).parent / "data"
CODE = make_samples.COMMITTEE_CODE
KINDS = ["households", "residents", "owners", "organisations"]
SAMPLES = {
    "households": "households.xlsx",
    "residents": "residents_fixed.xlsx",
    "owners": "owners.xlsx",
    "organisations": "organisations.csv",
}


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def committee(world):
    return world.committees[0]


@pytest.fixture
def register(committee):
    """The committee's register, filled from the sample files."""
    for kind in KINDS:
        path = DATA / SAMPLES[kind]
        result = import_commit(
            actor=None,
            committee=committee,
            kind=kind,
            opener=lambda path=path: path.open("rb"),
            file_name=path.name,
        )
        assert result.committed, result.errors
    # A sensitive tag and a formula-looking address, to see how they travel.
    zhou = Resident.objects.get(name="周玉兰")
    zhou.tags.add(*zhou.tags.model.objects.filter(code="disabled"))
    Organisation.objects.filter(name="梧桐合唱团").update(address="=HYPERLINK(1)")
    return committee


def export_rows(actor, committee, kind, file_format="csv", **kwargs):
    out = io.BytesIO()
    register_export(
        actor=actor, committee=committee, kind=kind, out=out, file_format=file_format, **kwargs
    )
    return read_rows(out.getvalue(), file_format)


def read_rows(content: bytes, file_format: str) -> list[list[str]]:
    if file_format == "csv":
        return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def test_exports_are_masked_by_default_and_audited(register, users):
    rows = export_rows(users["worker"], register, "residents", "xlsx")
    header, *body = rows
    assert header == [c.header for c in columns_for("residents")]
    assert len(body) == 7
    ids = [r[header.index("身份证号")] for r in body]
    assert all("********" in i for i in ids)
    assert "138****5678" in [r[header.index("联系电话")] for r in body]
    event = AuditEvent.objects.get(action="people.export")
    assert event.actor_id == users["worker"].pk and event.place_id == register.pk
    assert event.changes == {"kind": "residents", "rows": 7, "revealed": False, "format": "xlsx"}


def test_revealing_needs_permission_and_a_reason(register, users):
    with pytest.raises(PermissionDenied):
        export_rows(users["selfgov"], register, "residents", reveal=True, reason="核对户籍信息")
    with pytest.raises(ValidationError):
        export_rows(users["worker"], register, "residents", reveal=True, reason="  ok ")
    with pytest.raises(PermissionDenied):
        export_rows(None, register, "residents", reveal=True, reason="核对户籍信息")
    assert not AuditEvent.objects.filter(action="people.export").exists()
    header, *body = export_rows(
        users["worker"], register, "residents", reveal=True, reason="核对户籍信息"
    )
    ids = {r[header.index("身份证号")] for r in body}
    assert make_samples.PEOPLE[0][4] in ids
    event = AuditEvent.objects.get(action="people.export")
    assert event.changes["revealed"] is True and event.reason == "核对户籍信息"
    assert make_samples.PEOPLE[0][4] not in str(event.changes)


def test_who_may_export_at_all(register, users):
    for key in ("stranger", "gridworker", "resident", "dispatcher"):
        with pytest.raises(PermissionDenied):
            export_rows(users[key], register, "residents")
    # The street sees the register masked, without the sensitive tags.
    header, *body = export_rows(users["selfgov"], register, "residents")
    zhou = next(r for r in body if r[header.index("姓名")] == "周玉兰")
    assert "残疾人" not in zhou[header.index("标签")]
    header, *body = export_rows(users["worker"], register, "residents")
    zhou = next(r for r in body if r[header.index("姓名")] == "周玉兰")
    assert "残疾人" in zhou[header.index("标签")]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
@pytest.mark.parametrize("kind", KINDS)
def test_export_then_import_changes_nothing(register, users, tmp_path, kind, file_format):
    out = io.BytesIO()
    register_export(
        actor=users["worker"],
        committee=register,
        kind=kind,
        out=out,
        file_format=file_format,
        reveal=True,
        reason="round trip check",
    )
    path = tmp_path / f"{kind}.{file_format}"
    path.write_bytes(out.getvalue())
    result = import_commit(
        actor=users["worker"],
        committee=register,
        kind=kind,
        opener=lambda: path.open("rb"),
        file_name=path.name,
    )
    assert result.ok, result.errors
    assert (result.created, result.updated) == (0, 0)
    assert result.unchanged > 0


def test_text_a_spreadsheet_would_run_is_quoted(register):
    header, *body = export_rows(None, register, "organisations", "csv")
    choir = next(r for r in body if r[header.index("名称")] == "梧桐合唱团")
    assert choir[header.index("地址")] == "'=HYPERLINK(1)"


def test_organisations_export_one_row_per_contact(register):
    header, *body = export_rows(None, register, "organisations")
    names = [r[header.index("名称")] for r in body]
    assert names.count(f"{make_samples.COMPOUNDS[0]}业主委员会") == 2
    assert len(body) == 5


# --- the command line --------------------------------------------------------------------------


def test_the_export_command_masks_unless_an_account_reveals(register, users, tmp_path):
    path = tmp_path / "residents.csv"
    call_command("export", "residents", "--committee", CODE, str(path), stdout=io.StringIO())
    header, *body = read_rows(path.read_bytes(), "csv")
    assert all("********" in r[header.index("身份证号")] for r in body)
    assert AuditEvent.objects.get(action="people.export").actor_id is None

    with pytest.raises(CommandError):
        call_command("export", "residents", "--committee", CODE, str(path), "--reveal")
    with pytest.raises(CommandError):
        call_command(
            "export", "residents", "--committee", CODE, str(path),
            "--as", "worker2", "--reveal", "--reason", "核对户籍信息",
        )  # fmt: skip
    with pytest.raises(CommandError):
        call_command(
            "export", "residents", "--committee", CODE, str(path),
            "--as", "worker", "--reveal", "--reason", "x",
        )  # fmt: skip
    assert AuditEvent.objects.filter(action="people.export").count() == 1

    xlsx = tmp_path / "residents.xlsx"
    out = io.StringIO()
    call_command(
        "export", "residents", "--committee", CODE, str(xlsx),
        "--as", "worker", "--reveal", "--reason", "核对户籍信息", stdout=out,
    )  # fmt: skip
    assert "wrote 7 rows (revealed)" in out.getvalue()
    header, *body = read_rows(xlsx.read_bytes(), "xlsx")
    assert make_samples.PEOPLE[0][4] in {r[header.index("身份证号")] for r in body}
    event = AuditEvent.objects.filter(action="people.export").latest("id")
    assert event.actor_id == users["worker"].pk and event.reason == "核对户籍信息"
    assert not list(tmp_path.glob("*.part"))


# --- the web ---------------------------------------------------------------------------------


def test_a_worker_downloads_an_export(client_as, register):
    client = client_as("worker")
    page = client.get(reverse("people:export")).content.decode()
    assert 'name="reveal"' in page
    response = client.post(
        reverse("people:export"),
        {"kind": "residents", "committee": register.pk, "file_format": "xlsx"},
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    header, *body = read_rows(b"".join(response.streaming_content), "xlsx")
    assert len(body) == 7 and all("********" in r[header.index("身份证号")] for r in body)

    response = client.post(
        reverse("people:export"),
        {"kind": "residents", "committee": register.pk, "file_format": "csv", "reveal": "on"},
    )
    assert response.status_code == 200
    assert _zh(REASON_REQUIRED) in response.content.decode()
    response = client.post(
        reverse("people:export"),
        {
            "kind": "residents",
            "committee": register.pk,
            "file_format": "csv",
            "reveal": "on",
            "reason": "核对户籍信息",
        },
    )
    header, *body = read_rows(b"".join(response.streaming_content), "csv")
    assert make_samples.PEOPLE[0][4] in {r[header.index("身份证号")] for r in body}


def test_the_street_exports_masked_only(client_as, register):
    client = client_as("selfgov")
    page = client.get(reverse("people:export")).content.decode()
    assert 'name="reveal"' not in page
    response = client.post(
        reverse("people:export"),
        {"kind": "residents", "committee": register.pk, "file_format": "csv", "reveal": "on"},
    )
    header, *body = read_rows(b"".join(response.streaming_content), "csv")
    assert all("********" in r[header.index("身份证号")] for r in body)


def test_a_stranger_cannot_export_another_committee(client_as, register):
    client = client_as("stranger")
    page = client.get(reverse("people:export")).content.decode()
    assert register.name not in page
    response = client.post(
        reverse("people:export"),
        {"kind": "residents", "committee": register.pk, "file_format": "csv"},
    )
    assert response.status_code == 200 and "attachment" not in response.get(
        "Content-Disposition", ""
    )
    assert not AuditEvent.objects.filter(action="people.export").exists()
    assert client_as("gridworker").get(reverse("people:export")).status_code == 404


def _zh(message) -> str:
    """A message as the (Chinese-first) pages render it."""
    with translation.override("zh-hans"):
        return escape(str(message))
