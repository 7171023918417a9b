"""Import of 12345 hotline work orders from a spreadsheet (.xlsx or .csv), street by street.

The street's grid centre (DISPATCH at the street) receives the hotline's orders as a file. The
rules are the register import's (linli.people.imports), whose file reading and cell helpers this
module uses: the header row may sit under a title row, headers are matched by their Chinese or
English names, every bad row is reported as `row N: reason`, and a file with any bad row writes
nothing. A clean file becomes one order per row through `services.order_report`, all in one
transaction, with one audit event holding counts only.

The hotline's own number (工单编号) is the key: a number the street already holds from the hotline
is left alone, so importing the same file again changes nothing. The reporter's phone is
validated, stored encrypted by the service and never repeated in a report.
"""

import datetime as dt
import itertools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.audit import audit_record
from linli.core.scoping import under_q
from linli.people.imports import (
    BAD_DATE,
    COLUMN_ERROR,
    FUTURE_DATE,
    HEADER_SEARCH_ROWS,
    MISSING_COLUMNS,
    MISSING_VALUE,
    NO_HEADER,
    TOO_LONG,
    UNKNOWN_CHOICE,
    Choice,
    Column,
    FileError,
    ImportResult,
    Opener,
    cell_date,
    cell_text,
    header_key,
    sheet_records,
)
from linli.people.pii import SHANGHAI, InvalidIdentifier, cell_echo, normalize_phone
from linli.places.choices import PlaceKind
from linli.places.models import Place
from linli.workorders.choices import Source, Urgency
from linli.workorders.models import Category, WorkOrder
from linli.workorders.perms import DISPATCH
from linli.workorders.services import MAX_DESCRIPTION, Report, order_report

# A guess from the text is taken only when the classifier is at least this sure (its scores run
# from 0 to 1); below it the row is reported, since a wrong category misroutes the order.
GUESS_MIN_SCORE = 0.5
LOOKUP_CHUNK = 500

BAD_DATETIME = _("%(column)s is not a date and time (write it as 2026-03-09 09:30).")
CATEGORY_UNKNOWN = _("Unknown category %(value)s, and none can be told from the text.")
CATEGORY_MISSING = _("Unknown category: the column is empty and none can be told from the text.")
PLACE_NOT_FOUND = _("Place not found in the street: %(value)s.")
PLACE_AMBIGUOUS = _("The place matches several compounds (%(names)s); fill in the compound.")
DUPLICATE_NUMBER = _("The same hotline number is already on row %(row)d.")
DUE_BEFORE_START = _("%(column)s is before %(start)s.")
TOO_MANY_ROWS = _(
    "The file has more than %(max)d orders; split it, or ask the operator to run import_hotline."
)


# --- columns ------------------------------------------------------------------------------------

URGENCY = Choice(
    Urgency,
    {
        Urgency.NORMAL: ("一般", "普通", "正常", "常规"),
        Urgency.PRESSING: ("较急", "急", "加急", "比较紧急"),
        Urgency.URGENT: ("紧急", "特急", "特别紧急", "非常紧急"),
    },
)

COLUMNS: tuple[Column, ...] = (
    Column(
        "external_id",
        "工单编号",
        _("hotline number"),
        ("工单号", "热线工单号", "热线编号", "12345工单编号", "编号", "单号", "number"),
        required=True,
        max_length=64,
    ),
    Column(
        "created_at",
        "受理时间",
        _("received at"),
        ("来电时间", "登记时间", "受理日期", "工单创建时间", "创建时间", "received"),
        required=True,
    ),
    Column(
        "description",
        "诉求内容",
        _("description"),
        ("反映内容", "来电内容", "工单内容", "诉求描述", "问题描述", "内容", "诉求"),
        required=True,
        max_length=MAX_DESCRIPTION,
    ),
    Column(
        "category",
        "问题类别",
        _("category"),
        (
            "小类",
            "问题类别小类",
            "问题分类",
            "诉求分类",
            "事项分类",
            "分类",
            "类别",
            "service code",
        ),
    ),
    Column(
        "address",
        "事发地址",
        _("address"),
        ("地址", "发生地址", "问题地址", "诉求地址", "事发地点", "详细地址"),
        required=True,
        max_length=200,
    ),
    Column("compound", "小区", _("compound"), ("小区名称", "所在小区", "居住小区")),
    Column(
        "urgency",
        "紧急程度",
        _("urgency"),
        ("缓急程度", "紧急度", "缓急", "紧急状态"),
        choice=URGENCY,
    ),
    Column(
        "reporter_name",
        "来电人",
        _("reporter"),
        ("来电人姓名", "诉求人", "反映人", "联系人", "姓名"),
        max_length=64,
    ),
    Column(
        "reporter_phone",
        "联系电话",
        _("phone"),
        ("来电号码", "来电电话", "联系方式", "电话", "手机", "手机号", "手机号码"),
    ),
    Column(
        "due_at",
        "要求办结时间",
        _("due"),
        ("办结时限", "要求完成时间", "办理时限", "截止时间", "要求办结日期"),
    ),
)
COLUMN_KEYS = {c.key: c for c in COLUMNS}
_HEADER_INDEX: dict[str, str] = {}
for _column in COLUMNS:
    for _key in sorted(_column.header_keys()):
        _HEADER_INDEX.setdefault(_key, _column.key)

_BRACKETED = re.compile(r"[(（\[【<《].*?[)）\]】>》]")


def _column_of(header: str) -> str:
    return _HEADER_INDEX.get(header_key(header)) or _HEADER_INDEX.get(
        header_key(_BRACKETED.sub("", header)), ""
    )


# --- cells --------------------------------------------------------------------------------------

_TIME = re.compile(r"(\d{1,2})(?:[:时点](\d{1,2})?(?:[:分](\d{1,2})?(?:\.\d+)?)?秒?)?")
_COMPACT = re.compile(r"(\d{8})(\d{4}|\d{6})")
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)  # noqa: DTZ001 (Excel's serial days are zone-less)


def _local(moment: dt.datetime) -> dt.datetime:
    if timezone.is_naive(moment):
        return moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(SHANGHAI)


def cell_datetime(value: Any) -> dt.datetime:
    """A moment in Asia/Shanghai from a datetime cell, an Excel serial number, ISO text (with or
    without an offset), 2026/3/9 9:30, 2026年3月9日 9时30分, 202603090930 or a date alone
    (midnight), in the years 1900–2999 (a year 1 cannot even be put in UTC). Raises
    ValueError."""
    moment = _cell_datetime(value)
    if not 1900 <= moment.year <= 2999:
        raise ValueError(value)
    return moment


def _cell_datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return _local(value)
    if isinstance(value, dt.date):
        return _local(dt.datetime.combine(value, dt.time()))
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 2958466:  # a serial day number, the fraction being the time of day
            serial = _EXCEL_EPOCH + dt.timedelta(seconds=round(float(value) * 86400))
            return _local(serial)
        value = cell_text(value)  # 20260309 or 202603090930 typed as a number
    text = unicodedata.normalize("NFKC", cell_text(value)).strip()
    try:
        return _local(dt.datetime.fromisoformat(text))
    except ValueError:
        pass
    compact = _COMPACT.fullmatch(text)
    if compact:
        day_text, time_text = compact[1], ":".join(re.findall(r"\d\d", compact[2]))
    else:
        text = re.sub(r"日(?=\d)", "日 ", text).replace("T", " ")
        day_text, _sep, time_text = text.partition(" ")
    day = cell_date(day_text)
    time_text = time_text.replace(" ", "")
    if not time_text:
        return _local(dt.datetime.combine(day, dt.time()))
    match = _TIME.fullmatch(time_text)
    if not match:
        raise ValueError(text)
    hour, minute, second = (int(g or 0) for g in match.groups())
    return _local(dt.datetime.combine(day, dt.time(hour, minute, second)))


def _no_nul(value: Any) -> Any:
    return value.replace("\x00", "") if isinstance(value, str) else value


# --- what the street holds ----------------------------------------------------------------------

_NAME_PARTS = re.compile(r"[/／\\|>＞→\-—–、·,，;；:：\s]+")
_SERVICE_CODE = re.compile(r"[A-Za-z]\d{4}")


def _plain(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


class _Categories:
    """Active categories by service code and by (unambiguous) minor-class name."""

    def __init__(self):
        self.by_code: dict[str, Category] = {}
        by_name: dict[str, list[Category]] = defaultdict(list)
        for category in Category.objects.filter(active=True):
            self.by_code[category.service_code.upper()] = category
            by_name[header_key(category.name)].append(category)
        self.by_name = {name: found[0] for name, found in by_name.items() if len(found) == 1}

    def find(self, raw: str) -> Category | None:
        text = unicodedata.normalize("NFKC", raw).strip()
        found = self.by_code.get(text.upper()) or self.by_name.get(header_key(text))
        if found:
            return found
        code = _SERVICE_CODE.match(text)  # "E0602 暴露垃圾"
        if code and code[0].upper() in self.by_code:
            return self.by_code[code[0].upper()]
        # "市容环境/暴露垃圾": the minor class is usually the last part.
        for part in reversed([p for p in _NAME_PARTS.split(text) if p]):
            found = self.by_code.get(part.upper()) or self.by_name.get(header_key(part))
            if found:
                return found
        return None

    @staticmethod
    def guess(description: str) -> Category | None:
        from linli.workorders import classify

        suggestions = classify.suggest(description, limit=1)
        if suggestions and suggestions[0].score >= GUESS_MIN_SCORE:
            return suggestions[0].category
        return None


class _Compounds:
    """The street's compounds by name, for the compound column or a name inside the address."""

    SUFFIX = "小区"  # often left out: 银杏小区 is written 银杏 3号楼

    def __init__(self, street: Place):
        self.by_name: dict[str, list[Place]] = defaultdict(list)
        compounds = Place.objects.filter(under_q(street.path), kind=PlaceKind.COMPOUND)
        for compound in compounds.order_by("path"):
            name = _plain(compound.name)
            self.by_name[name].append(compound)
            stem = name.removesuffix(self.SUFFIX)
            if stem != name and len(stem) >= 2:
                self.by_name[stem].append(compound)

    def named(self, raw: str) -> list[Place]:
        name = _plain(raw)
        found = self.by_name.get(name) or self.by_name.get(name.removesuffix(self.SUFFIX), [])
        return list(dict.fromkeys(found))

    def in_address(self, address: str) -> list[Place]:
        """The compounds whose name is the longest one found in the address."""
        text = _plain(address)
        hits = [name for name in self.by_name if name in text]
        if not hits:
            return []
        longest = max(map(len, hits))
        found = [c for name in hits if len(name) == longest for c in self.by_name[name]]
        return list(dict.fromkeys(found))


# --- results ------------------------------------------------------------------------------------


@dataclass
class HotlineResult(ImportResult):
    """The register's result, plus how many categories were told from the text."""

    kind: str = "hotline"
    guessed: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "errors": self.error_count,
            "created": self.created,
            "unchanged": self.unchanged,
            "guessed": self.guessed,
        }


@dataclass
class _Row:
    number: int
    external_id: str
    report: Report | None = None
    category_guessed: bool = False
    errors: list = field(default_factory=list)


# --- reading ------------------------------------------------------------------------------------


def _columns(cells: list) -> dict[str, tuple[int, str]]:
    """{field key: (cell index, header as written)} for the cells that name a known column."""
    columns: dict[str, tuple[int, str]] = {}
    for index, cell in enumerate(cells):
        header = cell_text(cell)
        key = _column_of(header) if header else ""
        if key and key not in columns:
            columns[key] = (index, _label(header, key))
    return columns


def _header(
    records: Iterator[tuple[int, list]],
) -> tuple[int, dict[str, tuple[int, str]], Iterator[tuple[int, list]]]:
    """The header row: the first non-empty row naming at least two known columns (a title row
    often sits above it), else the first non-empty row. Returns its number, its columns and the
    rows after it."""
    skipped: list[tuple[int, list]] = []
    for number, cells in records:
        columns = _columns(cells)
        if len(columns) >= 2:
            return number, columns, records
        skipped.append((number, cells))
        if len(skipped) >= HEADER_SEARCH_ROWS:
            break
    if not skipped:
        raise FileError(NO_HEADER)
    (number, cells), rest = skipped[0], skipped[1:]
    return number, _columns(cells), itertools.chain(rest, records)


def _label(header: str, key: str) -> str:
    return re.sub(r"\s+", "", header.replace("*", "")) or COLUMN_KEYS[key].header


class _Reader:
    """One pass over a file: every row parsed and checked against the street."""

    def __init__(self, *, street: Place, file_name: str, max_rows: int | None):
        self.street = street
        self.max_rows = max_rows
        self.now = timezone.now()
        self.result = HotlineResult(file_name=file_name)
        self.labels: dict[str, str] = {}
        self.rows: list[_Row] = []

    def label(self, key: str) -> str:
        return self.labels.get(key) or COLUMN_KEYS[key].header

    def read(self, opener: Opener, file_name: str) -> list[_Row]:
        try:
            header_row, columns, records = _header(sheet_records(opener, file_name))
            missing = [c.header for c in COLUMNS if c.required and c.key not in columns]
            if missing:
                raise FileError(MISSING_COLUMNS % {"columns": "、".join(missing)}, header_row)
            self.labels = {key: label for key, (_index, label) in columns.items()}
            raw_rows = self._raw(records, columns)
        except FileError as exc:
            self.result.error(exc.row, exc.message)
            return []
        self._check(raw_rows)
        for row in self.rows:
            if row.errors:
                self.result.error(row.number, " ".join(map(str, row.errors)))
        return self.rows

    def _raw(self, records, columns) -> list[tuple[int, dict[str, Any]]]:
        raw = []
        for number, cells in records:
            values = {
                # PostgreSQL text cannot hold NUL (a CSV may): dropped like the other channels do.
                key: _no_nul(cells[i]) if i < len(cells) else None
                for key, (i, _h) in columns.items()
            }
            if not any(cell_text(v) for v in values.values()):
                continue
            if self.max_rows is not None and len(raw) >= self.max_rows:
                raise FileError(TOO_MANY_ROWS % {"max": self.max_rows}, number)
            raw.append((number, values))
        self.result.rows = len(raw)
        return raw

    def _check(self, raw_rows) -> None:
        seen: dict[str, int] = {}
        numbers = []
        for number, values in raw_rows:
            external_id = re.sub(r"\s+", "", cell_text(values.get("external_id")))
            row = _Row(number=number, external_id=external_id)
            self.rows.append(row)
            if not external_id:
                row.errors.append(MISSING_VALUE % {"column": self.label("external_id")})
            elif len(external_id) > COLUMN_KEYS["external_id"].max_length:
                row.errors.append(TOO_LONG % {"column": self.label("external_id"), "max": 64})
            elif external_id in seen:
                row.errors.append(DUPLICATE_NUMBER % {"row": seen[external_id]})
            else:
                seen[external_id] = number
                numbers.append(external_id)
        existing = existing_numbers(street=self.street, numbers=numbers)
        categories = _Categories()
        compounds = _Compounds(self.street)
        for row, (_number, values) in zip(self.rows, raw_rows, strict=True):
            if row.external_id in existing and not row.errors:
                self.result.unchanged += 1  # imported before: the number is all that counts
                continue
            self._parse(row, values, categories, compounds)
            if not row.errors:
                self.result.created += 1
                self.result.guessed += row.category_guessed

    def _text(self, row: _Row, values: dict, key: str) -> str:
        value = cell_text(values.get(key))
        column = COLUMN_KEYS[key]
        if column.required and not value:
            row.errors.append(MISSING_VALUE % {"column": self.label(key)})
        if column.max_length and len(value) > column.max_length:
            row.errors.append(TOO_LONG % {"column": self.label(key), "max": column.max_length})
        return value

    def _moment(self, row: _Row, values: dict, key: str) -> dt.datetime | None:
        raw = values.get(key)
        if not cell_text(raw):
            if COLUMN_KEYS[key].required:
                row.errors.append(MISSING_VALUE % {"column": self.label(key)})
            return None
        try:
            moment = cell_datetime(raw)
        except (ValueError, OverflowError):
            message = BAD_DATETIME if key == "created_at" else BAD_DATE
            row.errors.append(message % {"column": self.label(key)})
            return None
        return moment

    def _parse(self, row: _Row, values: dict, categories, compounds) -> None:
        errors = row.errors
        created_at = self._moment(row, values, "created_at")
        if created_at is not None and created_at > self.now:
            errors.append(FUTURE_DATE % {"column": self.label("created_at")})
        due_at = self._moment(row, values, "due_at")
        if due_at is not None and created_at is not None and due_at < created_at:
            errors.append(
                DUE_BEFORE_START
                % {"column": self.label("due_at"), "start": self.label("created_at")}
            )
        description = self._text(row, values, "description")
        address = self._text(row, values, "address")
        reporter_name = self._text(row, values, "reporter_name")

        urgency = Urgency.NORMAL
        raw_urgency = cell_text(values.get("urgency"))
        if raw_urgency:
            urgency = URGENCY.parse(raw_urgency)
            if not urgency:
                errors.append(
                    UNKNOWN_CHOICE
                    % {"column": self.label("urgency"), "value": cell_echo(raw_urgency)}
                )

        phone = ""
        try:
            phone = normalize_phone(cell_text(values.get("reporter_phone")))
        except InvalidIdentifier as exc:  # the message never repeats the number
            errors.append(
                COLUMN_ERROR % {"column": self.label("reporter_phone"), "message": exc.message}
            )

        raw_category = cell_text(values.get("category"))
        category = categories.find(raw_category) if raw_category else None
        if category is None and description:
            category = categories.guess(description)
            row.category_guessed = category is not None
        if category is None:
            if raw_category:
                errors.append(CATEGORY_UNKNOWN % {"value": cell_echo(raw_category)})
            else:
                errors.append(CATEGORY_MISSING)

        place = None
        raw_compound = cell_text(values.get("compound"))
        found = compounds.named(raw_compound) if raw_compound else compounds.in_address(address)
        if len(found) == 1:
            place = found[0]
        elif found:
            names = "、".join(sorted({c.name for c in found}))
            errors.append(PLACE_AMBIGUOUS % {"names": names})
        elif raw_compound or address:
            errors.append(PLACE_NOT_FOUND % {"value": cell_echo(raw_compound or address)})

        if errors:
            return
        row.report = Report(
            source=Source.HOTLINE,
            description=description,
            category=category,
            place=place,
            address=address,
            reporter_name=reporter_name,
            reporter_phone=phone,
            external_id=row.external_id,
            urgency=urgency,
            created_at=created_at,
        )


def existing_numbers(*, street: Place, numbers: list[str]) -> set[str]:
    """The hotline numbers among `numbers` the street already holds."""
    found: set[str] = set()
    orders = WorkOrder.objects.filter(street=street, source=Source.HOTLINE)
    for start in range(0, len(numbers), LOOKUP_CHUNK):
        chunk = numbers[start : start + LOOKUP_CHUNK]
        found.update(orders.filter(external_id__in=chunk).values_list("external_id", flat=True))
    return found


# --- entry points -------------------------------------------------------------------------------


class _Rollback(Exception):
    """Leaves the commit's transaction when a row fails after all."""


def streets_for(*, viewer):
    """The streets whose hotline orders `viewer` may import (the grid centre's dispatchers)."""
    return Place.objects.filter(kind=PlaceKind.STREET).for_viewer(viewer, DISPATCH).order_by("path")


def street_by_code(code: str) -> Place | None:
    return Place.objects.filter(kind=PlaceKind.STREET, code=code.strip()).first()


def _check_actor(actor, street: Place) -> None:
    if actor is not None and not actor.has_perm(DISPATCH, street.path):
        raise PermissionDenied


def hotline_check(
    *, actor, street: Place, opener: Opener, file_name: str, max_rows: int | None = None
) -> HotlineResult:
    """Dry run: check every row and count the orders a commit would create."""
    _check_actor(actor, street)
    reader = _Reader(street=street, file_name=file_name, max_rows=max_rows)
    reader.read(opener, file_name)
    return reader.result


def hotline_commit(
    *,
    actor,
    street: Place,
    opener: Opener,
    file_name: str,
    max_rows: int | None = None,
) -> HotlineResult:
    """Check the whole file; if every row is good, create its new orders in one transaction."""
    _check_actor(actor, street)
    reader = _Reader(street=street, file_name=file_name, max_rows=max_rows)
    rows = reader.read(opener, file_name)
    result = reader.result
    if not result.ok:
        return result
    try:
        with transaction.atomic():
            # One import per street at a time, so two runs of one file cannot both create.
            Place.objects.select_for_update().filter(pk=street.pk).first()
            todo = [row for row in rows if row.report is not None]
            done = existing_numbers(street=street, numbers=[row.external_id for row in todo])
            result.created = result.guessed = 0
            for row in todo:
                if row.external_id in done:
                    result.unchanged += 1
                    continue
                try:
                    order_report(actor=actor, report=row.report)
                except ValidationError as exc:
                    result.error(row.number, " ".join(exc.messages))
                    continue
                result.created += 1
                result.guessed += row.category_guessed
            if not result.ok:
                raise _Rollback
            result.committed = True
            audit_record(
                actor=actor,
                action="workorders.hotline.import",
                place=street,
                changes=result.counts(),
            )
    except _Rollback:
        result.committed = False
        result.created = 0
    return result
