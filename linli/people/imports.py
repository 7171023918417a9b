"""Spreadsheet import of the community register: households, residents, owners, organisations.

The engine has no HTTP in it; the `linli import` command, the web job pages and the background
tasks all call `import_check` (dry run) or `import_commit`.

- Files are read as streams: xlsx through openpyxl's read-only mode, csv with its encoding
  detected (UTF-8 with or without BOM, else GB18030, which is what Excel in China saves).
- The header row is the first non-empty row; headers are matched to fields by their Chinese or
  English names after dropping spaces, `*` and punctuation, or by an explicit mapping.
- Rows are handled in batches of BATCH: each batch costs a fixed number of queries whatever its
  size, and only compact per-row state (the keyed hashes already seen) outlives a batch, so a
  file of 100,000 rows imports in flat memory.
- A commit first validates the whole file; if any row is bad nothing is written. Otherwise a
  second pass writes everything in one transaction, with the same ResidentEvent history the
  services leave, and one audit event for the whole commit.
- Records are matched by natural keys (households by dwelling, residents by ID hash, owners by
  committee + ID hash, ownerships by unit + owner, unit areas by unit + source, organisations by
  committee + name), so importing the same file again changes nothing.

Row numbers in reports are the spreadsheet's own; messages never repeat an ID number or phone.
"""

import codecs
import csv
import datetime as dt
import hashlib
import io
import re
import unicodedata
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import IO, Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from linli.core.audit import audit_record
from linli.core.crypto import decrypt_bytes, encrypt_bytes, keyed_hash
from linli.core.scoping import path_segment, under_q
from linli.people.choices import (
    AreaSource,
    EventKind,
    HouseholdType,
    ImportKind,
    ImportStatus,
    OrganisationKind,
    OwnerKind,
    Registration,
    Relation,
    Residence,
    ResidentStatus,
    SocialOrgKind,
    Tenure,
)
from linli.people.models import (
    Household,
    ImportJob,
    Organisation,
    Owner,
    Ownership,
    Resident,
    ResidentEvent,
    Tag,
    UnitArea,
)
from linli.people.perms import MANAGE_REGISTER
from linli.people.pii import InvalidIdentifier, cell_echo, normalize_phone, parse_id_number
from linli.people.services import (
    BEFORE_BIRTH,
    DUPLICATE_ELSEWHERE,
    DUPLICATE_PERSON,
    changes_between,
    organisation_upsert,
    organisation_values_clean,
    parse_area,
    parse_share,
    pii_assign,
    resident_snapshot,
    resident_values_clean,
    tag_index_load,
)
from linli.places.choices import PlaceKind
from linli.places.models import Place

BATCH = 1000
DATE_KEYS = frozenset({"move_in_date", "since"})
HEADER_SEARCH_ROWS = 10
MAX_ERRORS_KEPT = 100_000  # a report keeps this many bad rows; the count is always exact

EXPIRED = _(
    "This upload was never imported and its file has been deleted after %(days)d days. "
    "Upload it again to import it."
)
UNSUPPORTED_TYPE = _("Upload an .xlsx or .csv file (save an older .xls file as .xlsx first).")
UNREADABLE = _("The file cannot be read as an .xlsx workbook or a CSV file.")
NO_HEADER = _("The file is empty: no header row was found.")
MISSING_COLUMNS = _("Missing required column(s): %(columns)s.")
DUPLICATE_MAPPING = _("Two columns are mapped to the same field: %(column)s.")
UNKNOWN_FIELD = _("Unknown field in the column mapping: %(value)s.")
MISSING_VALUE = _("%(column)s is missing.")
COLUMN_ERROR = _("%(column)s: %(message)s")
TOO_LONG = _("%(column)s is longer than %(max)d characters.")
UNKNOWN_CHOICE = _("%(column)s: unknown value %(value)s.")
BAD_DATE = _("%(column)s is not a date (write it as 2020-01-31).")
FUTURE_DATE = _("%(column)s is in the future.")
UNKNOWN_COMPOUND = _("Unknown compound: %(value)s.")
UNKNOWN_BUILDING = _("Unknown building %(value)s in %(compound)s.")
UNKNOWN_ROOM = _(
    "Unknown room %(value)s in %(compound)s %(building)s; run the households import first."
)
DUPLICATE_DWELLING = _("The same dwelling is already on row %(row)d.")
DUPLICATE_IN_FILE = _("The same person (same ID number) is already on row %(row)d.")
NOT_ACTIVE = _(
    "This person is recorded as moved out or deceased; record the return on their page instead."
)
OWNER_CONFLICT = _("Same owner as row %(row)d but with a different %(column)s.")
DUPLICATE_OWNERSHIP = _("This owner of this unit is already on row %(row)d.")
AREA_CONFLICT = _("Row %(row)d gives this unit a different area from the same source.")
AREA_SOURCE_WITHOUT_AREA = _("An area source is given without an area.")
ID_REQUIRED_FOR_PERSON = _("A person owner needs an ID number.")
BAD_CREDIT_CODE = _("A unified social credit code has 18 letters and digits.")
ORGANISATION_CONFLICT = _("Same organisation as row %(row)d but with a different %(column)s.")
CONTACT_INCOMPLETE = _("A contact needs a name.")
FILE_CHANGED = _("The file changed while it was being imported; nothing was written.")
FAILED = _("The import stopped unexpectedly; nothing was written. Try again or tell the operator.")

TAG_SEPARATORS = re.compile(r"[、,，;；/\s]+")
_BRACKETED = re.compile(r"[(（\[【<《].*?[)）\]】>》]")
_BUILDING_FORM = re.compile(r"(\d+)\s*(?:号楼|号|幢|栋|楼|座|#)?")
_ROOM_FORM = re.compile(r"(\d+)\s*(?:室|号|房)?")
_DATE_FORM = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_CREDIT_CODE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}")
_CJK_SPACES = re.compile(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])")
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060"), None)


class FileError(Exception):
    """The file as a whole cannot be imported (unreadable, no header, missing columns)."""

    def __init__(self, message, row: int = 1):
        super().__init__(str(message))
        self.message = message
        self.row = row


class _RowError(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


# --- cells --------------------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def _folded(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def header_key(text: Any) -> str:
    """Comparable form of a header or choice label: case-folded letters and digits only, so
    spaces, `*`, underscores and (full-width) punctuation do not matter."""
    return _folded(str(text or ""))


def cell_text(value: Any) -> str:
    """A cell as text: numbers typed into Excel come back as floats (13812345678.0)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).translate(_INVISIBLE).replace("\u3000", " ").strip()
    if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@"):
        text = text[1:]  # exports quote text that a spreadsheet would run as a formula
    return text


def cell_date(value: Any) -> dt.date:
    """datetime cells, Excel serial numbers, 2020-01-02, 2020/1/2, 2020.1.2, 2020年1月2日,
    20200102. Raises ValueError."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 19000101 <= value <= 29991231 and float(value).is_integer():
            value = str(int(value))  # 20200102 typed as a number
        elif 1 <= value < 2958466:  # Excel's serial day numbers (1900 date system)
            return dt.date(1899, 12, 30) + dt.timedelta(days=int(value))
        else:
            raise ValueError(value)
    text = unicodedata.normalize("NFKC", cell_text(value)).split(" ")[0]
    match = _DATE_FORM.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
    if not match:
        raise ValueError(text)
    return dt.date(int(match[1]), int(match[2]), int(match[3]))


def cell_bool(value: Any) -> bool:
    text = cell_text(value).casefold()
    key = header_key(text) or text  # √ and × are not letters
    if key in {"是", "y", "yes", "true", "1", "√", "✓", "对"}:
        return True
    if key in {"否", "n", "no", "false", "0", "×", "✗", "x", "不是"}:
        return False
    raise ValueError(key)


def building_key(name: str) -> str:
    """3号楼, 3号, 3幢, 3栋 and 3 are the same building."""
    text = unicodedata.normalize("NFKC", name).replace(" ", "")
    match = _BUILDING_FORM.fullmatch(text)
    return match[1].lstrip("0") or "0" if match else text


def room_key(name: str) -> str:
    """201 and 201室 are the same room."""
    text = unicodedata.normalize("NFKC", name).replace(" ", "")
    match = _ROOM_FORM.fullmatch(text)
    return match[1].lstrip("0") or "0" if match else text.removesuffix("室")


def _split_list(value: Any) -> list[str]:
    return [t for t in TAG_SEPARATORS.split(cell_text(value)) if t]


# --- column specs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """Values of a choice field with the Chinese words a spreadsheet may use (first = the one
    exports write). The code values and the English labels are accepted too."""

    choices: type
    words: dict[str, tuple[str, ...]]

    def parse(self, value: Any) -> str:
        return self._index.get(header_key(cell_text(value)), "")

    def word(self, value: str) -> str:
        return self.words[value][0] if value in self.words else value

    @cached_property
    def _index(self) -> dict[str, str]:
        index = {}
        with translation.override("en"):
            for value, label in self.choices.choices:
                index[header_key(value)] = value
                index[header_key(str(label))] = value
        for value, words in self.words.items():
            for word in words:
                index[header_key(word)] = value
        return index


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the Chinese header exports write
    label: Any  # readable English label (translatable), also accepted as a header
    aliases: tuple[str, ...] = ()
    required: bool = False
    max_length: int | None = None
    choice: Choice | None = None

    def header_keys(self) -> set[str]:
        with translation.override("en"):
            english = str(self.label)
        return {header_key(h) for h in (self.key, self.header, english, *self.aliases)}


REGISTRATION = Choice(
    Registration,
    {
        Registration.REGISTERED: ("户籍", "本市户籍", "沪籍", "户籍人口", "上海户籍"),
        Registration.MIGRANT: ("来沪", "来沪人员", "外来人口", "非沪籍", "外省市"),
        Registration.OVERSEAS: ("境外", "境外人员", "港澳台", "外籍"),
    },
)
RESIDENCE = Choice(
    Residence,
    {
        Residence.LIVING_REGISTERED: ("人户一致", "人户同在", "人在户在"),
        Residence.LIVING_ONLY: ("人在户不在",),
        Residence.REGISTERED_ONLY: ("户在人不在",),
    },
)
RELATION = Choice(
    Relation,
    {
        Relation.HEAD: ("户主", "本人"),
        Relation.SPOUSE: ("配偶", "妻子", "丈夫", "妻", "夫"),
        Relation.CHILD: ("子女", "儿子", "女儿", "子", "女", "长子", "长女", "次子", "次女"),
        Relation.PARENT: ("父母", "父亲", "母亲", "父", "母"),
        Relation.GRANDCHILD: ("孙子女", "孙子", "孙女", "外孙", "外孙子", "外孙女"),
        Relation.GRANDPARENT: ("祖父母", "祖父", "祖母", "外祖父", "外祖母"),
        Relation.SIBLING: ("兄弟姐妹", "兄", "弟", "姐", "妹", "哥哥", "弟弟", "姐姐", "妹妹"),
        Relation.CHILD_IN_LAW: ("儿媳女婿", "儿媳", "女婿", "媳妇"),
        Relation.TENANT: ("租户", "租客", "承租人"),
        Relation.OTHER: ("其他",),
    },
)
HOUSEHOLD_TYPE = Choice(
    HouseholdType,
    {HouseholdType.FAMILY: ("家庭户",), HouseholdType.COLLECTIVE: ("集体户",)},
)
TENURE = Choice(
    Tenure,
    {
        Tenure.OWNER_OCCUPIED: ("自住", "自有自住"),
        Tenure.RENTED: ("出租", "租赁"),
        Tenure.VACANT: ("空置", "空关"),
        Tenure.OTHER: ("其他",),
    },
)
OWNER_KIND = Choice(
    OwnerKind,
    {
        OwnerKind.PERSON: ("个人", "自然人"),
        OwnerKind.ORGANISATION: ("单位", "法人", "机构"),
        OwnerKind.DEVELOPER: ("开发商", "开发企业"),
    },
)
AREA_SOURCE = Choice(
    AreaSource,
    {
        AreaSource.REGISTRY: ("不动产登记", "产证", "房产证", "登记"),
        AreaSource.SURVEY: ("实测", "测绘"),
        AreaSource.CONTRACT: ("合同", "购房合同", "预售合同"),
    },
)
ORGANISATION_KIND = Choice(
    OrganisationKind,
    {
        OrganisationKind.OWNERS_COMMITTEE: ("业主委员会", "业委会"),
        OrganisationKind.PROPERTY_MANAGER: ("物业服务企业", "物业公司", "物业"),
        OrganisationKind.RESIDENT_UNIT: ("驻区单位",),
        OrganisationKind.SOCIAL_ORG: ("社会组织",),
        OrganisationKind.ACTIVITY_TEAM: ("群众活动团队", "活动团队", "团队"),
    },
)
SOCIAL_ORG_KIND = Choice(
    SocialOrgKind,
    {
        SocialOrgKind.SOCIAL_GROUP: ("社会团体",),
        SocialOrgKind.SOCIAL_SERVICE: ("社会服务机构", "民办非企业单位", "民非"),
        SocialOrgKind.FOUNDATION: ("基金会",),
    },
)

_PLACE_COLUMNS = (
    Column(
        "compound",
        "小区",
        _("compound"),
        ("小区名称", "所在小区", "居住小区", "小区名"),
        required=True,
    ),
    Column(
        "building",
        "楼栋",
        _("building"),
        ("楼号", "幢", "幢号", "楼", "栋", "栋号", "楼栋号"),
        required=True,
    ),
    Column("room", "室号", _("room"), ("房号", "门牌", "门牌号", "室", "房间号"), required=True),
)
_PHONE_ALIASES = ("手机", "手机号", "手机号码", "电话", "电话号码", "联系方式")

COLUMNS: dict[str, tuple[Column, ...]] = {
    ImportKind.HOUSEHOLDS: (
        *_PLACE_COLUMNS,
        Column("household_type", "户别", _("household type"), ("户类型",), choice=HOUSEHOLD_TYPE),
        Column(
            "tenure",
            "房屋使用",
            _("tenure"),
            ("使用情况", "房屋使用情况", "房屋状况"),
            choice=TENURE,
        ),
        Column("address", "地址", _("address"), ("门牌地址", "详细地址"), max_length=200),
        Column("note", "备注", _("note"), max_length=200),
    ),
    ImportKind.RESIDENTS: (
        *_PLACE_COLUMNS,
        Column("name", "姓名", _("name"), ("名字",), required=True, max_length=64),
        Column(
            "id_number",
            "身份证号",
            _("ID number"),
            ("公民身份号码", "身份证号码", "身份证", "证件号码", "证件号"),
            required=True,
        ),
        Column("phone", "联系电话", _("phone"), _PHONE_ALIASES),
        Column("ethnicity", "民族", _("ethnicity")),
        Column(
            "registration",
            "户籍状态",
            _("registration status"),
            ("户籍", "户籍类型", "人口类型"),
            required=True,
            choice=REGISTRATION,
        ),
        Column(
            "residence",
            "居住状态",
            _("residence status"),
            ("人户状态", "人户情况"),
            required=True,
            choice=RESIDENCE,
        ),
        Column(
            "relation",
            "与户主关系",
            _("relation to household head"),
            ("与户主的关系", "关系", "户主关系"),
            required=True,
            choice=RELATION,
        ),
        Column("tags", "标签", _("tags"), ("人员标签", "特殊标签", "人员类别")),
        Column("move_in_date", "迁入日期", _("move-in date"), ("入住日期", "迁入时间")),
    ),
    ImportKind.OWNERS: (
        *_PLACE_COLUMNS,
        Column("owner_kind", "业主类型", _("owner kind"), ("产权人类型",), choice=OWNER_KIND),
        Column(
            "name",
            "业主姓名",
            _("name"),
            ("产权人", "产权人姓名", "业主", "业主名称", "姓名", "名称"),
            required=True,
            max_length=100,
        ),
        Column(
            "id_number",
            "证件号码",
            _("ID number"),
            ("身份证号", "公民身份号码", "身份证号码", "统一社会信用代码", "证件号"),
        ),
        Column("phone", "联系电话", _("phone"), _PHONE_ALIASES),
        Column("share", "产权份额", _("share"), ("份额", "占比", "产权比例")),
        Column(
            "votes_for_unit",
            "投票代表",
            _("votes for the unit"),
            ("是否投票人", "表决代表", "投票人"),
        ),
        Column("since", "取得日期", _("since"), ("登记日期", "产权取得日期")),
        Column("area", "建筑面积", _("floor area"), ("面积", "房屋面积")),
        Column("area_source", "面积来源", _("area source"), choice=AREA_SOURCE),
    ),
    ImportKind.ORGANISATIONS: (
        Column(
            "kind",
            "组织类型",
            _("kind"),
            ("类型", "类别", "组织类别"),
            required=True,
            choice=ORGANISATION_KIND,
        ),
        Column(
            "social_org_kind",
            "法人类型",
            _("legal kind"),
            ("社会组织类型", "登记类型"),
            choice=SOCIAL_ORG_KIND,
        ),
        Column(
            "name",
            "名称",
            _("name"),
            ("组织名称", "单位名称", "团队名称"),
            required=True,
            max_length=120,
        ),
        Column("credit_code", "统一社会信用代码", _("unified social credit code"), ("信用代码",)),
        Column("address", "地址", _("address"), ("办公地址",), max_length=200),
        Column(
            "office_phone",
            "办公电话",
            _("office phone"),
            ("电话", "单位电话"),
            max_length=32,
        ),
        Column("responsibilities", "职责清单", _("responsibilities"), ("职责",)),
        Column("areas", "服务小区", _("area served"), ("服务范围",)),
        Column("contact_name", "联系人", _("contact"), ("联系人姓名",), max_length=64),
        Column("contact_title", "联系人职务", _("contact title"), ("职务",), max_length=64),
        Column("contact_phone", "联系人电话", _("contact phone"), ("联系人手机",)),
    ),
}


def columns_for(kind: str) -> tuple[Column, ...]:
    return COLUMNS[ImportKind(kind)]


def mapping_guess(*, kind: str, headers: list[str]) -> list[tuple[str, str]]:
    """Pairs of (header, field key or '' to ignore), in the file's order; a field goes to the
    first header that names it."""
    index: dict[str, str] = {}
    for column in columns_for(kind):
        for key in column.header_keys():
            index.setdefault(key, column.key)
    taken: set[str] = set()
    pairs = []
    for header in headers:
        key = index.get(header_key(header)) or index.get(header_key(_BRACKETED.sub("", header)))
        if key and key not in taken:
            taken.add(key)
            pairs.append((header, key))
        else:
            pairs.append((header, ""))
    return pairs


# --- reading ------------------------------------------------------------------------------------

Opener = Callable[[], IO[bytes]]


def _file_type(file_name: str) -> str:
    name = file_name.lower()
    if name.endswith(".xlsx") or name.endswith(".xlsm"):
        return "xlsx"
    if name.endswith(".csv") or name.endswith(".txt"):
        return "csv"
    raise FileError(UNSUPPORTED_TYPE)


def _xlsx_records(opener: Opener) -> Iterator[tuple[int, list]]:
    from openpyxl import load_workbook

    with opener() as stream:
        try:
            workbook = load_workbook(stream, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise FileError(UNREADABLE) from exc
        try:
            sheet = workbook.worksheets[0]
            # Files not written by Excel often carry wrong dimensions; read every row instead.
            sheet.reset_dimensions()
            for number, row in enumerate(sheet.iter_rows(min_row=1, values_only=True), 1):
                yield number, list(row)
        finally:
            workbook.close()


def _csv_encoding(opener: Opener) -> str:
    with opener() as stream:
        head = stream.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        decoder = codecs.getincrementaldecoder("utf-8")()
        chunk = head
        try:
            while chunk:
                decoder.decode(chunk)
                chunk = stream.read(1 << 20)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8"


def _csv_records(opener: Opener) -> Iterator[tuple[int, list]]:
    encoding = _csv_encoding(opener)
    with opener() as stream:
        text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
        first = text.readline()
        delimiter = "\t" if first.count("\t") > first.count(",") else ","
        lines = iter([first]) if first else iter(())
        reader = csv.reader(_chain(lines, text), delimiter=delimiter)
        try:
            yield from enumerate(reader, 1)
        except csv.Error as exc:
            raise FileError(UNREADABLE) from exc


def _chain(*iterables: Iterable) -> Iterator:
    for iterable in iterables:
        yield from iterable


def sheet_records(opener: Opener, file_name: str) -> Iterator[tuple[int, list]]:
    """(row number, cells) of the first sheet's non-empty rows."""
    reader = _xlsx_records if _file_type(file_name) == "xlsx" else _csv_records
    for number, cells in reader(opener):
        if any(cell_text(c) for c in cells):
            yield number, cells


def _header(
    records: Iterator[tuple[int, list]], kind: str, mapping: dict[str, str] | None
) -> tuple[int, list[str], Iterator[tuple[int, list]]]:
    """The header row: the first non-empty row naming at least two known columns (a title row
    such as 居民信息登记表 often sits above it), else the first non-empty row. Returns its number,
    its headers (as written, trimmed) and the rows after it."""
    skipped: list[tuple[int, list]] = []
    for number, cells in records:
        headers = [cell_text(c) for c in cells]
        named = sum(bool(k) for _h, k in mapping_guess(kind=kind, headers=headers))
        if mapping:
            named += sum(bool(mapping.get(h)) for h in headers)
        if named >= 2:
            return number, headers, records
        skipped.append((number, cells))
        if len(skipped) >= HEADER_SEARCH_ROWS:
            break
    if not skipped:
        raise FileError(NO_HEADER)
    (number, cells), rest = skipped[0], skipped[1:]
    return number, [cell_text(c) for c in cells], _chain(rest, records)


def sheet_headers(*, opener: Opener, file_name: str, kind: str) -> tuple[int, list[str]]:
    """The header row's number and its headers (as written, trimmed)."""
    number, headers, _rest = _header(sheet_records(opener, file_name), kind, None)
    return number, headers


def rows_estimate(*, opener: Opener, file_name: str) -> int:
    """A cheap upper estimate of the data rows, for progress bars."""
    try:
        file_type = _file_type(file_name)
    except FileError:
        return 0
    if file_type == "xlsx":
        from openpyxl import load_workbook

        try:
            with opener() as stream:
                workbook = load_workbook(stream, read_only=True)
                rows = workbook.worksheets[0].max_row or 0
                workbook.close()
        except (zipfile.BadZipFile, KeyError, ValueError, OSError):
            return 0
        return max(rows - 1, 0)
    lines = 0
    with opener() as stream:
        while chunk := stream.read(1 << 20):
            lines += chunk.count(b"\n")
    return max(lines - 1, 0)


def file_sha256(opener: Opener) -> str:
    digest = hashlib.sha256()
    with opener() as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class _Plan:
    header_row: int
    columns: list[tuple[int, Column, str]]  # (cell index, column, header as written)

    @cached_property
    def present(self) -> set[str]:
        return {c.key for _, c, _ in self.columns}

    def label(self, key: str) -> str:
        for _index, column, header in self.columns:
            if column.key == key:
                return _CJK_SPACES.sub("", header.replace("*", "")).strip() or column.header
        return next(c.header for c in COLUMNS_BY_KEY[key])


COLUMNS_BY_KEY: dict[str, list[Column]] = defaultdict(list)
for _columns in COLUMNS.values():
    for _column in _columns:
        COLUMNS_BY_KEY[_column.key].append(_column)


def _plan(kind: str, header_row: int, headers: list[str], mapping: dict[str, str] | None) -> _Plan:
    by_key = {c.key: c for c in columns_for(kind)}
    guessed = dict(mapping_guess(kind=kind, headers=headers))
    plan = _Plan(header_row=header_row, columns=[])
    used: set[str] = set()
    for index, header in enumerate(headers):
        if not header:
            continue
        key = mapping[header] if mapping is not None and header in mapping else guessed[header]
        if not key:
            continue
        if key not in by_key:
            raise FileError(UNKNOWN_FIELD % {"value": key})
        if key in used:
            raise FileError(DUPLICATE_MAPPING % {"column": by_key[key].header})
        used.add(key)
        plan.columns.append((index, by_key[key], header))
    missing = [c.header for c in by_key.values() if c.required and c.key not in used]
    if missing:
        raise FileError(MISSING_COLUMNS % {"columns": "、".join(missing)})
    return plan


def _data_rows(
    opener: Opener, file_name: str, kind: str, mapping: dict[str, str] | None
) -> tuple[_Plan, Iterator[tuple[int, dict[str, Any]]]]:
    header_row, headers, records = _header(sheet_records(opener, file_name), kind, mapping)
    try:
        plan = _plan(kind, header_row, headers, mapping)
    except FileError as exc:
        exc.row = header_row
        raise

    def rows():
        # Cells become text once here; dates stay as read (a datetime or an Excel day number).
        for number, cells in records:
            values = {}
            for index, column, _header in plan.columns:
                cell = cells[index] if index < len(cells) else None
                values[column.key] = cell if column.key in DATE_KEYS else cell_text(cell)
            if any(v if isinstance(v, str) else cell_text(v) for v in values.values()):
                yield number, values

    return plan, rows()


# --- results ------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    """What an import found (dry run) or did (commit). `errors` are (row, message) pairs; row is
    the header row for problems with the file as a whole."""

    kind: str
    file_name: str = ""
    rows: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    error_count: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # People found in another committee's register: each match tells the importer that the ID
    # number exists elsewhere, so the count goes into the audit event of every run.
    elsewhere: int = 0
    committed: bool = False

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def error(self, row: int, message: Any) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append((row, str(message)))

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "errors": self.error_count,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "elsewhere": self.elsewhere,
        }

    def as_report(self) -> dict:
        return {**self.counts(), "committed": self.committed, "bad_rows": self.errors}


# --- places under the committee -----------------------------------------------------------------


@dataclass
class _Dwelling:
    place_id: int | None  # None: to be created by the households import
    path: str
    building_id: int
    name: str


class _PlaceIndex:
    """The committee's compounds, buildings and dwellings by the names a spreadsheet uses."""

    def __init__(self, committee: Place):
        self.committee = committee
        self.compounds: dict[str, int] = {}
        self.buildings: dict[tuple[int, str], tuple[int, str]] = {}
        self.rooms: dict[tuple[int, str], tuple[int, str]] = {}
        rows = Place.objects.filter(
            under_q(committee.path),
            kind__in=[PlaceKind.COMPOUND, PlaceKind.BUILDING, PlaceKind.HOUSEHOLD],
        ).values_list("id", "kind", "name", "parent_id", "path")
        for pk, kind, name, parent_id, path in rows.iterator(chunk_size=5000):
            if kind == PlaceKind.COMPOUND:
                self.compounds[name.strip()] = pk
            elif kind == PlaceKind.BUILDING:
                self.buildings[(parent_id, building_key(name))] = (pk, path)
            else:
                self.rooms[(parent_id, room_key(name))] = (pk, path)

    def dwelling(self, values: dict, *, create: bool = False) -> _Dwelling:
        compound = values.get("compound", "")
        building = values.get("building", "")
        room = values.get("room", "")
        compound_id = self.compounds.get(compound)
        if compound_id is None:
            raise _RowError(UNKNOWN_COMPOUND % {"value": cell_echo(compound)})
        found = self.buildings.get((compound_id, building_key(building)))
        if found is None:
            raise _RowError(UNKNOWN_BUILDING % {"value": cell_echo(building), "compound": compound})
        building_id, building_path = found
        dwelling = self.rooms.get((building_id, room_key(room)))
        if dwelling is not None:
            return _Dwelling(dwelling[0], dwelling[1], building_id, room)
        if not create:
            raise _RowError(
                UNKNOWN_ROOM
                % {"value": cell_echo(room), "compound": compound, "building": cell_echo(building)}
            )
        key = room_key(room)
        name = f"{key}室" if key.isdigit() else room
        return _Dwelling(None, building_path, building_id, name)

    def compound_ids(self, names: list[str]) -> list[int]:
        ids = []
        for name in names:
            if name not in self.compounds:
                raise _RowError(UNKNOWN_COMPOUND % {"value": cell_echo(name)})
            ids.append(self.compounds[name])
        return ids

    def dwellings_create(self, dwellings: list[_Dwelling]) -> None:
        """Insert new household places in bulk; paths come from the new ids."""
        places = [
            Place(
                kind=PlaceKind.HOUSEHOLD,
                name=d.name,
                parent_id=d.building_id,
                path=f"new-{uuid.uuid4().hex}",
                depth=len(d.path) // 10,
            )
            for d in dwellings
        ]
        Place.objects.bulk_create(places, batch_size=BATCH)
        for place, dwelling in zip(places, dwellings, strict=True):
            place.path = dwelling.path + path_segment(place.pk)
            dwelling.place_id, dwelling.path = place.pk, place.path
            self.rooms[(dwelling.building_id, room_key(dwelling.name))] = (place.pk, place.path)
        Place.objects.bulk_update(places, ["path"], batch_size=BATCH)


# --- the run ------------------------------------------------------------------------------------


class _Handler:
    """One kind's row logic. `batch` validates a batch (and writes it when `write`)."""

    def __init__(self, *, run: "_Run"):
        self.run = run
        self.committee = run.committee
        self.places = run.places
        self.result = run.result
        self.columns = {c.key: c for c in columns_for(run.kind)}
        self.plan: _Plan

    def text(self, values: dict, key: str, errors: list) -> str:
        value = values.get(key, "")
        column = self.columns[key]
        if column.required and not value:
            errors.append(MISSING_VALUE % {"column": self.plan.label(key)})
        if column.max_length and len(value) > column.max_length:
            errors.append(TOO_LONG % {"column": self.plan.label(key), "max": column.max_length})
        return value

    def choice(self, values: dict, key: str, errors: list, default: str = "") -> str:
        column = self.columns[key]
        raw = values.get(key, "")
        if not raw:
            if column.required:
                errors.append(MISSING_VALUE % {"column": self.plan.label(key)})
            return default
        value = column.choice.parse(raw)
        if not value:
            errors.append(
                UNKNOWN_CHOICE % {"column": self.plan.label(key), "value": cell_echo(raw)}
            )
        return value

    def date(self, values: dict, key: str, errors: list) -> dt.date | None:
        raw = values.get(key)
        if not cell_text(raw):
            return None
        try:
            day = cell_date(raw)
        except ValueError:
            errors.append(BAD_DATE % {"column": self.plan.label(key)})
            return None
        if day > self.run.today:
            errors.append(FUTURE_DATE % {"column": self.plan.label(key)})
        return day

    def phone(self, values: dict, key: str, errors: list) -> str:
        try:
            return normalize_phone(values.get(key, ""))
        except InvalidIdentifier as exc:
            errors.append(COLUMN_ERROR % {"column": self.plan.label(key), "message": exc.message})
            return ""

    def dwelling(self, values: dict, errors: list, *, create: bool = False) -> _Dwelling | None:
        try:
            return self.places.dwelling(values, create=create)
        except _RowError as exc:
            errors.append(exc.message)
            return None

    def batch(self, rows: list[tuple[int, dict]], write: bool) -> None:
        raise NotImplementedError

    def finish(self, write: bool) -> None:
        """Called after the last batch."""


class _Run:
    def __init__(self, *, kind: str, committee: Place, actor, file_name: str):
        self.kind = ImportKind(kind)
        self.committee = committee
        self.actor = actor
        self.today = timezone.localdate()
        self.recorded_by = actor if getattr(actor, "is_authenticated", False) else None
        self.result = ImportResult(kind=self.kind, file_name=file_name)
        self.places = _PlaceIndex(committee)
        self.handler = HANDLERS[self.kind](run=self)

    def go(
        self,
        *,
        opener: Opener,
        file_name: str,
        mapping: dict[str, str] | None,
        write: bool,
        progress: Callable[[int, int], None] | None,
        progress_offset: int = 0,
        progress_total: int = 0,
    ) -> ImportResult:
        try:
            plan, rows = _data_rows(opener, file_name, self.kind, mapping)
        except FileError as exc:
            self.result.error(exc.row, exc.message)
            return self.result
        self.handler.plan = plan
        batch: list[tuple[int, dict]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                self._batch(batch, write, progress, progress_offset, progress_total)
                batch = []
        if batch:
            self._batch(batch, write, progress, progress_offset, progress_total)
        self.handler.finish(write)
        if progress:
            done = progress_offset + self.result.rows
            progress(done, max(progress_total, done))
        return self.result

    def _batch(self, batch, write, progress, offset, total) -> None:
        self.result.rows += len(batch)
        self.handler.batch(batch, write)
        if progress:
            done = offset + self.result.rows
            progress(done, max(total, done))


# --- households ---------------------------------------------------------------------------------

_HOUSEHOLD_FIELDS = ("household_type", "tenure", "address", "note")


class _Households(_Handler):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen: dict[tuple[int, str], int] = {}

    def batch(self, rows, write):
        present = self.plan.present
        parsed = []
        for number, values in rows:
            errors: list = []
            dwelling = self.dwelling(values, errors, create=True)
            fields = {}
            for key in ("household_type", "tenure"):
                if key in present:
                    default = (
                        HouseholdType.FAMILY if key == "household_type" else Tenure.OWNER_OCCUPIED
                    )
                    fields[key] = self.choice(values, key, errors, default=default)
            for key in ("address", "note"):
                if key in present:
                    fields[key] = self.text(values, key, errors)
            if dwelling is not None:
                seen_key = (dwelling.building_id, room_key(dwelling.name))
                first = self.seen.setdefault(seen_key, number)
                if first != number:
                    errors.append(DUPLICATE_DWELLING % {"row": first})
            if errors:
                self.result.error(number, " ".join(map(str, errors)))
                continue
            parsed.append((dwelling, fields))
        existing = {
            h.place_id: h
            for h in Household.objects.filter(
                place_id__in=[d.place_id for d, _ in parsed if d.place_id]
            )
        }
        new_places, to_create, to_update, changed_fields = [], [], [], set()
        for dwelling, fields in parsed:
            household = existing.get(dwelling.place_id) if dwelling.place_id else None
            if household is None:
                self.result.created += 1
                if dwelling.place_id is None:
                    new_places.append(dwelling)
                to_create.append((dwelling, fields))
                continue
            changed = {k for k, v in fields.items() if getattr(household, k) != v}
            if changed:
                self.result.updated += 1
                for key in changed:
                    setattr(household, key, fields[key])
                changed_fields |= changed
                to_update.append(household)
            else:
                self.result.unchanged += 1
        if not write:
            return
        if new_places:
            self.places.dwellings_create(new_places)
        Household.objects.bulk_create(
            [Household(place_id=d.place_id, path=d.path, **f) for d, f in to_create],
            batch_size=BATCH,
        )
        if to_update:
            now = timezone.now()
            for household in to_update:
                household.updated_at = now
            Household.objects.bulk_update(
                to_update, [*sorted(changed_fields), "updated_at"], batch_size=BATCH
            )


# --- residents ----------------------------------------------------------------------------------

_STATUS_FIELDS = {"registration", "residence", "relation", "tags"}
# What comparing a stored resident with a row reads: plain values, not model instances (most
# rows of a re-import are unchanged), and never the ciphertexts.
_RESIDENT_FIELDS = (
    "id",
    "household_id",
    "path",
    "status",
    "name",
    "ethnicity",
    "registration",
    "residence",
    "relation",
    "id_masked",
    "phone_hash",
    "phone_masked",
)


@dataclass
class _Person:
    number: int
    dwelling: _Dwelling
    values: dict  # clean values from resident_values_clean
    digest: str
    move_in: dt.date | None


class _Residents(_Handler):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen: dict[bytes, int] = {}  # ID hash (16 bytes) -> first row
        self.note = str(_("Spreadsheet import"))
        self.tag_index = tag_index_load()
        self.tag_codes = dict(Tag.objects.values_list("pk", "code"))
        # place id -> (household id, path), for the committee's dwellings (not per row).
        self.households: dict[int, tuple[int, str]] = {
            place_id: (pk, path)
            for place_id, pk, path in Household.objects.filter(under_q(self.committee.path))
            .values_list("place_id", "pk", "path")
            .iterator(chunk_size=5000)
        }

    def _parse(self, number: int, values: dict) -> _Person | None:
        present = self.plan.present
        errors: list = []
        dwelling = self.dwelling(values, errors)
        reported = set()
        raw = {}
        for key in ("name", "id_number"):
            raw[key] = self.text(values, key, errors)
            if not raw[key]:
                reported.add(key)
        for key in ("registration", "residence", "relation"):
            before = len(errors)
            raw[key] = self.choice(values, key, errors)
            if len(errors) > before:
                reported.add(key)
        raw["phone"] = values.get("phone", "")
        raw["ethnicity"] = values.get("ethnicity", "")
        raw["tags"] = _split_list(values.get("tags"))
        move_in = self.date(values, "move_in_date", errors) if "move_in_date" in present else None
        try:
            clean = resident_values_clean(**raw, tag_index=self.tag_index)
        except ValidationError as exc:
            clean = None
            for key, messages in exc.message_dict.items():
                if key in reported:
                    continue
                for message in messages:
                    errors.append(
                        COLUMN_ERROR % {"column": self.plan.label(key), "message": message}
                    )
        if clean is not None:
            digest = keyed_hash(clean["id_number"])
            first = self.seen.setdefault(bytes.fromhex(digest), number)
            if first != number:
                errors.append(DUPLICATE_IN_FILE % {"row": first})
            if move_in is not None and move_in < clean["birth_date"]:
                errors.append(
                    COLUMN_ERROR
                    % {"column": self.plan.label("move_in_date"), "message": BEFORE_BIRTH}
                )
        if errors:
            self.result.error(number, " ".join(map(str, errors)))
            return None
        return _Person(number, dwelling, clean, digest, move_in)

    def batch(self, rows, write):
        people = [p for p in (self._parse(n, v) for n, v in rows) if p is not None]
        # Repeating the partial unique index's condition (id_hash <> '') lets PostgreSQL use it
        # for a long IN list; it cannot prove that by itself above 100 values.
        existing = {
            r["id_hash"]: r
            for r in Resident.objects.filter(id_hash__in=[p.digest for p in people])
            .exclude(id_hash="")
            .order_by()
            .values("id_hash", "household__place_id", *_RESIDENT_FIELDS)
        }
        tags_of: dict[int, set[int]] = defaultdict(set)
        for resident_id, tag_id in Resident.tags.through.objects.filter(
            resident_id__in=[r["id"] for r in existing.values()]
        ).values_list("resident_id", "tag_id"):
            tags_of[resident_id].add(tag_id)
        committee_path = self.committee.path
        new, updates = [], []
        for person in people:
            stored = existing.get(person.digest)
            if stored is None:
                self.result.created += 1
                new.append(person)
            elif not stored["path"].startswith(committee_path):
                self.result.elsewhere += 1
                self.result.error(person.number, DUPLICATE_PERSON % {"where": DUPLICATE_ELSEWHERE})
            elif stored["status"] != ResidentStatus.ACTIVE:
                self.result.error(person.number, NOT_ACTIVE)
            else:
                change = self._compare(person, stored, tags_of[stored["id"]])
                if change:
                    self.result.updated += 1
                    resident = Resident(**{k: stored[k] for k in _RESIDENT_FIELDS})
                    updates.append((person, resident, change))
                else:
                    self.result.unchanged += 1
        if write and self.result.ok:
            self._households_create([p.dwelling for p in people])
            self._create(new)
            self._update(updates, tags_of)

    def _households_create(self, dwellings: list[_Dwelling]) -> None:
        missing = {d.place_id: d.path for d in dwellings if d.place_id not in self.households}
        created = Household.objects.bulk_create(
            [Household(place_id=pk, path=path) for pk, path in missing.items()], batch_size=BATCH
        )
        for household in created:
            self.households[household.place_id] = (household.pk, household.path)

    def _compare(self, person: _Person, stored: dict, tag_ids: set[int]) -> dict:
        """Field -> new value for what the row changes (only columns the file has)."""
        present = self.plan.present
        values = person.values
        change = {}
        for key in ("name", "registration", "residence", "relation"):
            if stored[key] != values[key]:
                change[key] = values[key]
        if "ethnicity" in present and stored["ethnicity"] != values["ethnicity"]:
            change["ethnicity"] = values["ethnicity"]
        if "phone" in present and stored["phone_hash"] != keyed_hash(values["phone"]):
            change["phone"] = values["phone"]
        if "tags" in present and tag_ids != {t.pk for t in values["tags"]}:
            change["tags"] = values["tags"]
        if stored["household__place_id"] != person.dwelling.place_id:
            change["household"] = person.dwelling.place_id
        return change

    def _snapshot(self, resident: Resident, tag_codes: list[str]) -> dict:
        # The shape the services record, so imported history reads like typed history.
        return resident_snapshot(resident, tag_codes)

    def _event(self, resident: Resident, kind: str, date: dt.date, changes: dict, household=None):
        household_id, path = household or (resident.household_id, resident.path)
        return ResidentEvent(
            resident=resident,
            household_id=household_id,
            path=path,
            kind=kind,
            date=date,
            changes=changes,
            note=self.note,
            recorded_by=self.run.recorded_by,
        )

    def _create(self, people: list[_Person]) -> None:
        residents = []
        for person in people:
            household_id, path = self.households[person.dwelling.place_id]
            values = person.values
            resident = Resident(
                household_id=household_id,
                path=path,
                name=values["name"],
                gender=values["gender"],
                birth_date=values["birth_date"],
                ethnicity=values["ethnicity"],
                registration=values["registration"],
                residence=values["residence"],
                relation=values["relation"],
            )
            pii_assign(resident, "id", values["id_number"])
            pii_assign(resident, "phone", values["phone"])
            residents.append(resident)
        Resident.objects.bulk_create(residents, batch_size=BATCH)
        links, events = [], []
        for person, resident in zip(people, residents, strict=True):
            tags = person.values["tags"]
            links += [Resident.tags.through(resident_id=resident.pk, tag_id=t.pk) for t in tags]
            after = self._snapshot(resident, [t.code for t in tags])
            date = person.move_in or self.run.today
            events.append(
                self._event(resident, EventKind.MOVE_IN, date, changes_between({}, after))
            )
        Resident.tags.through.objects.bulk_create(links, batch_size=BATCH)
        ResidentEvent.objects.bulk_create(events, batch_size=BATCH)

    def _update(self, updates: list, tags_of: dict[int, set[int]]) -> None:
        if not updates:
            return
        code_of = self.tag_codes
        fields: set[str] = set()
        events, relinked, links = [], [], []
        now = timezone.now()
        for _person, resident, change in updates:
            before = self._snapshot(
                resident, [code_of.get(t, str(t)) for t in tags_of[resident.pk]]
            )
            old_household = (resident.household_id, resident.path)
            for key in ("name", "ethnicity", "registration", "residence", "relation"):
                if key in change:
                    setattr(resident, key, change[key])
                    fields.add(key)
            if "phone" in change:
                pii_assign(resident, "phone", change["phone"])
                fields |= {"phone_hash", "phone_cipher", "phone_masked"}
            tag_codes = [code_of.get(t, str(t)) for t in tags_of[resident.pk]]
            if "tags" in change:
                relinked.append(resident.pk)
                links += [
                    Resident.tags.through(resident_id=resident.pk, tag_id=t.pk)
                    for t in change["tags"]
                ]
                tag_codes = [t.code for t in change["tags"]]
            if "household" in change:
                resident.household_id, resident.path = self.households[change["household"]]
                fields |= {"household", "path"}
            resident.updated_at = now
            after = self._snapshot(resident, tag_codes)
            moved = {"household": [old_household[0], resident.household_id]}
            details = {
                k: [before[k], v] for k, v in after.items() if k != "household" and before[k] != v
            }
            if "household" in change:
                # The move shows in both households' histories, as resident_transfer records it.
                events.append(
                    self._event(resident, EventKind.TRANSFER, self.run.today, moved, old_household)
                )
                events.append(self._event(resident, EventKind.TRANSFER, self.run.today, moved))
            if details:
                kind = EventKind.STATUS if set(details) & _STATUS_FIELDS else EventKind.UPDATE
                events.append(self._event(resident, kind, self.run.today, details))
        Resident.objects.bulk_update(
            [r for _, r, _ in updates], [*sorted(fields), "updated_at"], batch_size=BATCH
        )
        if relinked:
            Resident.tags.through.objects.filter(resident_id__in=relinked).delete()
            Resident.tags.through.objects.bulk_create(links, batch_size=BATCH)
        ResidentEvent.objects.bulk_create(events, batch_size=BATCH)


# --- owners and units ---------------------------------------------------------------------------


@dataclass
class _OwnerRow:
    number: int
    dwelling: _Dwelling
    key: tuple
    kind: str
    name: str
    ident: str
    digest: str
    phone: str | None  # None: no phone column
    share: Any
    votes: bool
    since: dt.date | None
    area: Any
    source: str


class _Owners(_Handler):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Compact state across batches: one entry per owner, unit-owner pair and unit area.
        self.owner_rows: dict[tuple, tuple[int, str, str, str]] = {}
        self.pairs: dict[tuple[int, tuple], int] = {}
        self.areas_seen: dict[tuple[int, str], tuple[int, Any]] = {}
        self.owners: dict[tuple, Owner] = {}
        self.owners_checked: set[tuple] = set()
        self.areas_done: set[tuple[int, str]] = set()

    def _parse(self, number: int, values: dict) -> _OwnerRow | None:
        present = self.plan.present
        errors: list = []
        dwelling = self.dwelling(values, errors)
        kind = self.choice(values, "owner_kind", errors, default=OwnerKind.PERSON)
        name = self.text(values, "name", errors)
        raw_id = values.get("id_number", "")
        ident = ""
        if kind == OwnerKind.PERSON:
            if not raw_id:
                errors.append(ID_REQUIRED_FOR_PERSON)
            else:
                try:
                    ident = parse_id_number(raw_id).value
                except InvalidIdentifier as exc:
                    errors.append(
                        COLUMN_ERROR
                        % {"column": self.plan.label("id_number"), "message": exc.message}
                    )
        elif raw_id:
            ident = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", raw_id)).upper()
            if not _CREDIT_CODE.fullmatch(ident):
                errors.append(
                    COLUMN_ERROR
                    % {"column": self.plan.label("id_number"), "message": BAD_CREDIT_CODE}
                )
        phone = self.phone(values, "phone", errors) if "phone" in present else None
        share = None
        if values.get("share", ""):
            try:
                share = parse_share(values.get("share", ""))
            except ValidationError as exc:
                errors += [
                    COLUMN_ERROR % {"column": self.plan.label("share"), "message": m}
                    for m in exc.messages
                ]
        votes = True
        if values.get("votes_for_unit", ""):
            try:
                votes = cell_bool(values.get("votes_for_unit"))
            except ValueError:
                errors.append(
                    UNKNOWN_CHOICE
                    % {
                        "column": self.plan.label("votes_for_unit"),
                        "value": values.get("votes_for_unit", ""),
                    }
                )
        since = self.date(values, "since", errors)
        area, source = None, ""
        if values.get("area", ""):
            try:
                area = parse_area(values.get("area", ""))
            except ValidationError as exc:
                errors += [
                    COLUMN_ERROR % {"column": self.plan.label("area"), "message": m}
                    for m in exc.messages
                ]
            source = self.choice(values, "area_source", errors, default=AreaSource.REGISTRY)
        elif values.get("area_source", ""):
            errors.append(AREA_SOURCE_WITHOUT_AREA)
        digest = keyed_hash(ident)
        key = ("id", digest) if digest else ("name", kind, name)
        if dwelling is not None and not errors:
            errors += self._consistency(number, key, name, kind, phone, dwelling, area, source)
        if errors:
            self.result.error(number, " ".join(map(str, errors)))
            return None
        return _OwnerRow(
            number,
            dwelling,
            key,
            kind,
            name,
            ident,
            digest,
            phone,
            share,
            votes,
            since,
            area,
            source,
        )

    def _consistency(self, number, key, name, kind, phone, dwelling, area, source) -> list:
        errors = []
        phone_digest = keyed_hash(phone) if phone else ""
        first = self.owner_rows.setdefault(key, (number, name, kind, phone_digest))
        if first[0] != number:
            for label_key, index, value in (("name", 1, name), ("owner_kind", 2, kind)):
                if first[index] != value:
                    errors.append(
                        OWNER_CONFLICT % {"row": first[0], "column": self.plan.label(label_key)}
                    )
            if phone_digest and first[3] and first[3] != phone_digest:
                errors.append(
                    OWNER_CONFLICT % {"row": first[0], "column": self.plan.label("phone")}
                )
        pair_first = self.pairs.setdefault((dwelling.place_id, key), number)
        if pair_first != number:
            errors.append(DUPLICATE_OWNERSHIP % {"row": pair_first})
        if area is not None:
            area_first = self.areas_seen.setdefault((dwelling.place_id, source), (number, area))
            if area_first[1] != area:
                errors.append(AREA_CONFLICT % {"row": area_first[0]})
        return errors

    def batch(self, rows, write):
        parsed = [p for p in (self._parse(n, v) for n, v in rows) if p is not None]
        self._owners_load(parsed)
        unit_ids = {p.dwelling.place_id for p in parsed}
        ownerships = {
            (o.unit_id, o.owner_id): o
            for o in Ownership.objects.filter(unit_id__in=unit_ids, until__isnull=True)
        }
        areas = {(a.unit_id, a.source): a for a in UnitArea.objects.filter(unit_id__in=unit_ids)}
        residents = {}
        new_person_digests = [
            p.digest for p in parsed if p.kind == OwnerKind.PERSON and p.key not in self.owners
        ]
        if new_person_digests:
            residents = dict(
                Resident.objects.filter(id_hash__in=new_person_digests)
                .exclude(id_hash="")
                .values_list("id_hash", "pk")
            )
        new_owners: dict[tuple, Owner] = {}
        changed_owners: dict[tuple, Owner] = {}
        new_links, changed_links, new_areas, changed_areas = [], [], [], []
        for row in parsed:
            owner = self.owners.get(row.key) or new_owners.get(row.key)
            owner_changed = False
            if owner is None:
                owner = Owner(
                    committee=self.committee,
                    path=self.committee.path,
                    kind=row.kind,
                    name=row.name,
                    resident_id=residents.get(row.digest) if row.kind == OwnerKind.PERSON else None,
                )
                pii_assign(owner, "id", row.ident)
                pii_assign(owner, "phone", row.phone or "")
                new_owners[row.key] = owner
            elif row.key not in self.owners_checked:
                self.owners_checked.add(row.key)
                if (owner.name, owner.kind) != (row.name, row.kind):
                    owner.name, owner.kind = row.name, row.kind
                    owner_changed = True
                if row.phone is not None and pii_assign(owner, "phone", row.phone):
                    owner_changed = True
                if owner_changed:
                    changed_owners[row.key] = owner
            link = ownerships.get((row.dwelling.place_id, owner.pk)) if owner.pk else None
            row_created = link is None
            row_changed = owner_changed
            if link is None:
                new_links.append((row, owner))
            else:
                wanted = {"share": row.share, "votes_for_unit": row.votes}
                if "since" in self.plan.present:
                    wanted["since"] = row.since
                if any(getattr(link, k) != v for k, v in wanted.items()):
                    for k, v in wanted.items():
                        setattr(link, k, v)
                    changed_links.append(link)
                    row_changed = True
            area_key = (row.dwelling.place_id, row.source)
            if row.area is not None and area_key not in self.areas_done:
                self.areas_done.add(area_key)
                record = areas.get(area_key)
                if record is None:
                    new_areas.append(
                        UnitArea(
                            unit_id=row.dwelling.place_id,
                            path=row.dwelling.path,
                            source=row.source,
                            area=row.area,
                        )
                    )
                    row_changed = True
                elif record.area != row.area:
                    record.area = row.area
                    changed_areas.append(record)
                    row_changed = True
            if row_created:
                self.result.created += 1
            elif row_changed:
                self.result.updated += 1
            else:
                self.result.unchanged += 1
        if not write or not self.result.ok:
            # Later batches must see this batch's new owners as existing, written or not.
            self.owners.update(new_owners)
            self.owners_checked.update(new_owners)
            return
        Owner.objects.bulk_create(list(new_owners.values()), batch_size=BATCH)
        self.owners.update(new_owners)
        self.owners_checked.update(new_owners)
        if changed_owners:
            Owner.objects.bulk_update(
                list(changed_owners.values()),
                ["name", "kind", "phone_hash", "phone_cipher", "phone_masked"],
                batch_size=BATCH,
            )
        Ownership.objects.bulk_create(
            [
                Ownership(
                    unit_id=row.dwelling.place_id,
                    path=row.dwelling.path,
                    owner=owner,
                    share=row.share,
                    votes_for_unit=row.votes,
                    since=row.since,
                )
                for row, owner in new_links
            ],
            batch_size=BATCH,
        )
        if changed_links:
            Ownership.objects.bulk_update(
                changed_links, ["share", "votes_for_unit", "since"], batch_size=BATCH
            )
        UnitArea.objects.bulk_create(new_areas, batch_size=BATCH)
        if changed_areas:
            for record in changed_areas:
                record.recorded_at = timezone.now()
            UnitArea.objects.bulk_update(changed_areas, ["area", "recorded_at"], batch_size=BATCH)

    def _owners_load(self, rows: list[_OwnerRow]) -> None:
        """Owners of the committee named by this batch and not seen before (one or two queries)."""
        digests = {r.digest for r in rows if r.digest and r.key not in self.owners}
        names = {r.name for r in rows if not r.digest and r.key not in self.owners}
        scope = Owner.objects.filter(committee=self.committee)
        if digests:
            for owner in scope.filter(id_hash__in=digests).exclude(id_hash=""):
                self.owners[("id", owner.id_hash)] = owner
        if names:
            for owner in scope.filter(id_hash="", name__in=names):
                self.owners.setdefault(("name", owner.kind, owner.name), owner)


# --- organisations ------------------------------------------------------------------------------

_ORGANISATION_FIELDS = ("kind", "social_org_kind", "credit_code", "address", "office_phone")
_ORGANISATION_TEXT = ("credit_code", "address", "office_phone", "responsibilities")


class _Organisations(_Handler):
    """Organisations are few (tens per committee): rows are grouped by name, one row per contact,
    and each organisation is written through services.organisation_upsert."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.groups: dict[str, dict] = {}

    def batch(self, rows, write):
        present = self.plan.present
        for number, values in rows:
            errors: list = []
            fields: dict[str, Any] = {}
            fields["kind"] = self.choice(values, "kind", errors)
            fields["social_org_kind"] = (
                self.choice(values, "social_org_kind", errors)
                if "social_org_kind" in present
                else ""
            )
            name = self.text(values, "name", errors)
            for key in _ORGANISATION_TEXT:
                if key in present:
                    fields[key] = self.text(values, key, errors)
            if fields.get("credit_code"):
                code = re.sub(r"\s", "", unicodedata.normalize("NFKC", fields["credit_code"]))
                fields["credit_code"] = code.upper()
                if not _CREDIT_CODE.fullmatch(fields["credit_code"]):
                    errors.append(
                        COLUMN_ERROR
                        % {"column": self.plan.label("credit_code"), "message": BAD_CREDIT_CODE}
                    )
            if fields["kind"] and name:
                try:
                    organisation_values_clean(
                        kind=fields["kind"], social_org_kind=fields["social_org_kind"], name=name
                    )
                except ValidationError as exc:
                    errors += exc.messages
            areas = None
            if "areas" in present:
                try:
                    areas = sorted(self.places.compound_ids(_split_list(values.get("areas"))))
                except _RowError as exc:
                    errors.append(exc.message)
            contact = None
            if present & {"contact_name", "contact_title", "contact_phone"}:
                contact_name = self.text(values, "contact_name", errors)
                title = self.text(values, "contact_title", errors)
                phone = self.phone(values, "contact_phone", errors)
                if contact_name:
                    contact = (contact_name, title, phone)
                elif title or phone:
                    errors.append(CONTACT_INCOMPLETE)
            group = self.groups.get(name) if name else None
            if group is not None and not errors:
                for key, value in fields.items():
                    if value and group["fields"].get(key) != value:
                        errors.append(
                            ORGANISATION_CONFLICT
                            % {"row": group["row"], "column": self.plan.label(key)}
                        )
            if errors:
                self.result.error(number, " ".join(map(str, errors)))
                continue
            if group is None:
                self.groups[name] = {
                    "row": number,
                    "fields": fields,
                    "areas": areas,
                    "contacts": [contact] if contact else [],
                }
            elif contact:
                group["contacts"].append(contact)

    def finish(self, write):
        present = self.plan.present
        with_contacts = bool(present & {"contact_name", "contact_title", "contact_phone"})
        existing = {
            o.name: o
            for o in Organisation.objects.filter(
                committee=self.committee, name__in=list(self.groups)
            ).prefetch_related("areas", "contacts")
        }
        todo = []
        for name, group in self.groups.items():
            organisation = existing.get(name)
            contacts = (
                sorted((n, t, keyed_hash(p)) for n, t, p in group["contacts"])
                if with_contacts
                else None
            )
            if organisation is None:
                self.result.created += 1
                todo.append((name, group))
                continue
            stored = {k: getattr(organisation, k) for k in group["fields"]}
            same = stored == group["fields"]
            if group["areas"] is not None:
                same &= sorted(a.pk for a in organisation.areas.all()) == group["areas"]
            if contacts is not None:
                same &= contacts == sorted(
                    (c.name, c.title, c.phone_hash) for c in organisation.contacts.all()
                )
            if same:
                self.result.unchanged += 1
            else:
                self.result.updated += 1
                todo.append((name, group))
        if not write or not self.result.ok:
            return
        for name, group in todo:
            fields = dict(group["fields"])
            areas = None
            if group["areas"] is not None:
                areas = list(Place.objects.filter(pk__in=group["areas"]))
            organisation_upsert(
                actor=self.run.actor,
                committee=self.committee,
                name=name,
                kind=fields.pop("kind"),
                social_org_kind=fields.pop("social_org_kind"),
                areas=areas,
                contacts=group["contacts"] if with_contacts else None,
                **fields,
            )


HANDLERS: dict[str, type[_Handler]] = {
    ImportKind.HOUSEHOLDS: _Households,
    ImportKind.RESIDENTS: _Residents,
    ImportKind.OWNERS: _Owners,
    ImportKind.ORGANISATIONS: _Organisations,
}


# --- entry points -------------------------------------------------------------------------------


class _Rollback(Exception):
    """Leaves the commit's transaction when the write pass finds a bad row after all."""


def committees_for(*, viewer, perm: str):
    """The committees where `viewer` holds `perm` over the whole committee."""
    return Place.objects.filter(kind=PlaceKind.COMMITTEE).for_viewer(viewer, perm).order_by("path")


def committee_by_code(code: str) -> Place | None:
    return Place.objects.filter(kind=PlaceKind.COMMITTEE, code=code.strip()).first()


def _check_actor(actor, committee: Place) -> None:
    if actor is not None and not actor.has_perm(MANAGE_REGISTER, committee.path):
        raise PermissionDenied


def import_check(
    *,
    actor,
    committee: Place,
    kind: str,
    opener: Opener,
    file_name: str,
    mapping: dict[str, str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    total: int = 0,
) -> ImportResult:
    """Dry run: validate every row and count what a commit would create, update or leave."""
    _check_actor(actor, committee)
    run = _Run(kind=kind, committee=committee, actor=actor, file_name=file_name)
    return run.go(
        opener=opener,
        file_name=file_name,
        mapping=mapping,
        write=False,
        progress=progress,
        progress_total=total,
    )


def import_commit(
    *,
    actor,
    committee: Place,
    kind: str,
    opener: Opener,
    file_name: str,
    mapping: dict[str, str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    total: int = 0,
    sha256: str = "",
) -> ImportResult:
    """Validate the whole file; if every row is good, write all of it in one transaction.

    `sha256` is the digest of content that cannot change (a stored upload); without it the file
    is hashed before and after, so a file edited between the two passes writes nothing."""
    digest = sha256 or file_sha256(opener)
    checked = import_check(
        actor=actor,
        committee=committee,
        kind=kind,
        opener=opener,
        file_name=file_name,
        mapping=mapping,
        progress=(lambda done, n: progress(done, 2 * n)) if progress else None,
        total=total,
    )
    if not checked.ok:
        return checked
    run = _Run(kind=kind, committee=committee, actor=actor, file_name=file_name)
    try:
        with transaction.atomic():
            result = run.go(
                opener=opener,
                file_name=file_name,
                mapping=mapping,
                write=True,
                progress=progress,
                progress_offset=checked.rows,
                progress_total=2 * checked.rows,
            )
            if not sha256 and file_sha256(opener) != digest:
                result.error(1, FILE_CHANGED)
            if not result.ok:
                raise _Rollback
            result.committed = True
            # Last, so the audit chain's lock is held only for the end of the transaction.
            audit_record(
                actor=actor,
                action="people.import.commit",
                place=committee,
                changes={
                    "kind": str(kind),
                    "file": file_name,
                    "sha256": digest,
                    **result.counts(),
                },
            )
    except _Rollback:
        result.committed = False
    return result


# --- import jobs (the web's upload → mapping → dry run → commit) --------------------------------

RUNNING = (ImportStatus.VALIDATING, ImportStatus.COMMITTING)
NOT_READY = _("Run a dry run of the current mapping without errors before importing.")
ALREADY_RUNNING = _("This import is already running.")
ALREADY_DONE = _("This file has already been imported.")
FILE_GONE = _("This upload's file has been deleted; upload it again.")


def _progress_key(job_id: int) -> str:
    return f"linli:import-progress:{job_id}"


def import_job_create(
    *, actor, committee: Place, kind: str, file_name: str, content: bytes
) -> ImportJob:
    """Keep an uploaded file (encrypted) with a guessed column mapping."""
    _check_actor(actor, committee)
    file_name = file_name.rsplit("/", 1)[-1][:200]

    def opener():
        return io.BytesIO(content)

    try:
        _header_row, headers = sheet_headers(opener=opener, file_name=file_name, kind=kind)
    except FileError as exc:
        raise ValidationError(exc.message) from None
    return ImportJob.objects.create(
        committee=committee,
        path=committee.path,
        kind=ImportKind(kind),
        file_name=file_name,
        content_cipher=encrypt_bytes(content),
        sha256=hashlib.sha256(content).hexdigest(),
        mapping=[[h, k] for h, k in mapping_guess(kind=kind, headers=headers) if h],
        rows_total=rows_estimate(opener=opener, file_name=file_name),
        created_by=actor,
    )


def import_jobs_purge(*, days: int = 7) -> int:
    """Wipe the stored files of imports not committed within `days` (they hold plaintext
    identifiers, so they are kept no longer than the import needs). Returns how many."""
    cutoff = timezone.now() - dt.timedelta(days=days)
    stale = ImportJob.objects.filter(updated_at__lt=cutoff).exclude(content_cipher="")
    stale = stale.exclude(status__in=RUNNING)
    count = 0
    for job in stale.iterator():
        job.content_cipher = ""
        job.status = ImportStatus.FAILED
        with translation.override(settings.LANGUAGE_CODE):  # the UI's language, not the shell's
            # The row report goes too: its reasons quote the file's cells.
            job.report = {"failure": str(EXPIRED % {"days": days})}
        job.save(update_fields=["content_cipher", "status", "report", "updated_at"])
        audit_record(
            actor=None,
            action="people.import.purge",
            obj=job,
            place=job.committee,
            changes={"file": job.file_name, "days": days},
        )
        count += 1
    return count


def import_job_map(*, actor, job: ImportJob, mapping: dict[str, str]) -> ImportJob:
    """Save the column mapping; any earlier dry run no longer counts."""
    _check_actor(actor, job.committee)
    if job.status in RUNNING:
        raise ValidationError(ALREADY_RUNNING)
    if job.status == ImportStatus.COMMITTED:
        raise ValidationError(ALREADY_DONE)
    known = {c.key for c in columns_for(job.kind)}
    job.mapping = [
        [h, mapping.get(h, k) if mapping.get(h, k) in known else ""] for h, k in job.mapping
    ]
    job.status, job.report, job.rows_done = ImportStatus.UPLOADED, {}, 0
    job.save(update_fields=["mapping", "status", "report", "rows_done", "updated_at"])
    return job


def import_job_start(*, actor, job: ImportJob, commit: bool) -> ImportJob:
    """Queue a dry run or the commit of a job (the commit only after a clean dry run)."""
    from linli.people import tasks

    _check_actor(actor, job.committee)
    if not job.content_cipher:  # committed or purged: the file is gone
        raise ValidationError(ALREADY_DONE if job.status == ImportStatus.COMMITTED else FILE_GONE)
    if commit:
        # The status flip is the lock: a second click finds the job no longer validated.
        ready = ImportJob.objects.filter(
            pk=job.pk, status=ImportStatus.VALIDATED, report__errors=0
        ).update(status=ImportStatus.COMMITTING, rows_done=0, updated_at=timezone.now())
        if not ready:
            raise ValidationError(NOT_READY)
        task = tasks.import_job_commit
    else:
        started = (
            ImportJob.objects.filter(pk=job.pk)
            .exclude(status__in=[*RUNNING, ImportStatus.COMMITTED])
            .update(status=ImportStatus.VALIDATING, rows_done=0, updated_at=timezone.now())
        )
        if not started:
            raise ValidationError(ALREADY_RUNNING)
        task = tasks.import_job_validate
    cache.set(_progress_key(job.pk), (0, job.rows_total), 24 * 3600)
    # Enqueued at once: the status is already committed (autocommit), so a worker that starts
    # now finds it. The immediate backend runs the task here and then.
    task.enqueue(job_id=job.pk, actor_id=actor.pk if actor is not None else None)
    job.refresh_from_db()
    return job


def import_job_run(*, job_id: int, actor_id: int | None, commit: bool) -> ImportJob:
    """The background half of import_job_start: run the engine on the stored file."""
    from django.contrib.auth import get_user_model

    job = ImportJob.objects.select_related("committee").get(pk=job_id)
    actor = get_user_model().objects.get(pk=actor_id) if actor_id else None
    content = decrypt_bytes(job.content_cipher)

    def opener():
        return io.BytesIO(content)

    def progress(done: int, total: int) -> None:
        cache.set(_progress_key(job.pk), (done, total), 24 * 3600)

    options = {
        "actor": actor,
        "committee": job.committee,
        "kind": job.kind,
        "opener": opener,
        "file_name": job.file_name,
        "mapping": {h: k for h, k in job.mapping},
        "progress": progress,
        "total": job.rows_total,
    }
    try:
        if commit:
            result = import_commit(**options, sha256=job.sha256)
        else:
            result = import_check(**options)
            if actor is not None:
                audit_record(
                    actor=actor,
                    action="people.import.dry_run",
                    obj=job,
                    place=job.committee,
                    changes={"kind": job.kind, "file": job.file_name, **result.counts()},
                )
    except Exception:
        job.status, job.report = ImportStatus.FAILED, {"failure": str(FAILED)}
        job.save(update_fields=["status", "report", "updated_at"])
        raise
    job.report = result.as_report()
    job.rows_total = job.rows_done = result.rows
    if result.committed:
        job.status, job.content_cipher = ImportStatus.COMMITTED, ""
    else:
        job.status = ImportStatus.VALIDATED
    job.save(
        update_fields=[
            "report",
            "rows_total",
            "rows_done",
            "status",
            "content_cipher",
            "updated_at",
        ]
    )
    cache.delete(_progress_key(job.pk))
    return job


def import_job_progress(*, job: ImportJob) -> tuple[int, int]:
    """(rows done, rows in all) of a running job, from the cache the worker writes."""
    done, total = cache.get(_progress_key(job.pk), (job.rows_done, job.rows_total))
    return done, max(total, done)
