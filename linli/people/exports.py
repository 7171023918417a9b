"""Spreadsheet export of the register, in the shapes the importer reads.

The headers are the importer's own Chinese headers and choice values are written as the Chinese
words it accepts, so an export imported back changes nothing. Identifiers are the staff masks
unless the exporter may reveal them at the committee and gives a reason; every export is audited
(who, what, how many rows, revealed or not, why). Rows are streamed from the database in chunks
and written with openpyxl's write-only workbook (or csv), never held all at once.
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext_lazy as _

from linli.core.audit import audit_record
from linli.core.crypto import decrypt
from linli.core.scoping import under_q
from linli.people.choices import EventKind, ResidentStatus
from linli.people.imports import (
    AREA_SOURCE,
    HOUSEHOLD_TYPE,
    ORGANISATION_KIND,
    OWNER_KIND,
    REGISTRATION,
    RELATION,
    RESIDENCE,
    SOCIAL_ORG_KIND,
    TENURE,
    columns_for,
)
from linli.people.models import (
    Household,
    ImportKind,
    Organisation,
    Ownership,
    Resident,
    ResidentEvent,
)
from linli.people.perms import REVEAL_PII, VIEW_REGISTER, VIEW_SENSITIVE_TAGS
from linli.people.services import MIN_REASON, REASON_REQUIRED, effective_area
from linli.places.models import Place

FORMATS = ("xlsx", "csv")
CHUNK = 2000
REVEAL_NOT_PERMITTED = _("You may not reveal identifiers in this committee's register.")
UNKNOWN_FORMAT = _("Export as .xlsx or .csv.")
# Text a spreadsheet program would run as a formula (CSV/formula injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class ExportResult:
    kind: str
    rows: int
    revealed: bool


def export_file_name(*, committee: Place, kind: str, file_format: str) -> str:
    return f"{committee.code or committee.pk}-{kind}.{file_format}"


def register_export(
    *,
    actor,
    committee: Place,
    kind: str,
    out: IO[bytes],
    file_format: str,
    reveal: bool = False,
    reason: str = "",
) -> ExportResult:
    """Write one committee's households, residents, owners or organisations to `out`.

    `actor` None is the operator at the console: masked only, since revealing needs an account
    whose permission and reason the audit trail can record.
    """
    kind = ImportKind(kind)
    if file_format not in FORMATS:
        raise ValidationError(UNKNOWN_FORMAT)
    if actor is not None and not actor.has_perm(VIEW_REGISTER, committee.path):
        raise PermissionDenied
    reason = (reason or "").strip()
    if reveal:
        if actor is None or not actor.has_perm(REVEAL_PII, committee.path):
            raise PermissionDenied(REVEAL_NOT_PERMITTED)
        if len(reason) < MIN_REASON:
            raise ValidationError({"reason": REASON_REQUIRED})
    sensitive = actor is None or actor.has_perm(VIEW_SENSITIVE_TAGS, committee.path)
    columns = columns_for(kind)
    rows = _ROWS[kind](committee=committee, reveal=reveal, sensitive=sensitive)
    lines = ([row.get(c.key, "") for c in columns] for row in rows)
    count = _write(out, file_format, [c.header for c in columns], lines, str(kind))
    audit_record(
        actor=actor,
        action="people.export",
        place=committee,
        changes={"kind": str(kind), "rows": count, "revealed": reveal, "format": file_format},
        reason=reason,
    )
    return ExportResult(kind=kind, rows=count, revealed=reveal)


def _write(out: IO[bytes], file_format: str, headers: list[str], rows, title: str) -> int:
    count = 0
    if file_format == "csv":
        # UTF-8 with a BOM, so Excel opens it with the right encoding.
        text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
        writer = csv.writer(text)
        writer.writerow(headers)
        for row in rows:
            writer.writerow([_csv_safe(v) for v in row])
            count += 1
        text.flush()
        text.detach()
        return count
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.append(headers)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, and ID numbers stay text
            cells.append(cell)
        sheet.append(cells)
        count += 1
    workbook.save(out)
    return count


def _csv_safe(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _identifier(obj, field: str, reveal: bool) -> str:
    return decrypt(getattr(obj, f"{field}_cipher")) if reveal else getattr(obj, f"{field}_masked")


def _decimal(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


def _date(value) -> str:
    return value.isoformat() if value else ""


def _dwelling(place: Place) -> dict:
    building = place.parent
    return {"compound": building.parent.name, "building": building.name, "room": place.name}


def _households(*, committee: Place, reveal: bool, sensitive: bool) -> Iterator[dict]:
    records = (
        Household.objects.filter(under_q(committee.path))
        .select_related("place__parent__parent")
        .order_by("path")
    )
    for household in records.iterator(chunk_size=CHUNK):
        yield {
            **_dwelling(household.place),
            "household_type": HOUSEHOLD_TYPE.word(household.household_type),
            "tenure": TENURE.word(household.tenure),
            "address": household.address,
            "note": household.note,
        }


def _residents(*, committee: Place, reveal: bool, sensitive: bool) -> Iterator[dict]:
    moved_in = (
        ResidentEvent.objects.filter(resident=OuterRef("pk"), kind=EventKind.MOVE_IN)
        .order_by("date")
        .values("date")[:1]
    )
    records = (
        Resident.objects.filter(under_q(committee.path), status=ResidentStatus.ACTIVE)
        .select_related("household__place__parent__parent")
        .prefetch_related("tags")
        .annotate(moved_in=Subquery(moved_in))
        .order_by("path", "id")
    )
    for resident in records.iterator(chunk_size=CHUNK):
        tags = sorted(
            (t for t in resident.tags.all() if sensitive or not t.sensitive), key=lambda t: t.code
        )
        yield {
            **_dwelling(resident.household.place),
            "name": resident.name,
            "id_number": _identifier(resident, "id", reveal),
            "phone": _identifier(resident, "phone", reveal),
            "ethnicity": resident.ethnicity,
            "registration": REGISTRATION.word(resident.registration),
            "residence": RESIDENCE.word(resident.residence),
            "relation": RELATION.word(resident.relation),
            "tags": "、".join(t.name for t in tags),
            "move_in_date": _date(resident.moved_in),
        }


def _owners(*, committee: Place, reveal: bool, sensitive: bool) -> Iterator[dict]:
    records = (
        Ownership.objects.filter(under_q(committee.path), until__isnull=True)
        .select_related("owner", "unit__parent__parent")
        .prefetch_related("unit__areas")
        .order_by("path", "id")
    )
    for ownership in records.iterator(chunk_size=CHUNK):
        owner = ownership.owner
        area = effective_area(list(ownership.unit.areas.all()))
        yield {
            **_dwelling(ownership.unit),
            "owner_kind": OWNER_KIND.word(owner.kind),
            "name": owner.name,
            "id_number": _identifier(owner, "id", reveal),
            "phone": _identifier(owner, "phone", reveal),
            "share": _decimal(ownership.share),
            "votes_for_unit": "是" if ownership.votes_for_unit else "否",
            "since": _date(ownership.since),
            "area": _decimal(area.area) if area else "",
            "area_source": AREA_SOURCE.word(area.source) if area else "",
        }


def _organisations(*, committee: Place, reveal: bool, sensitive: bool) -> Iterator[dict]:
    records = (
        Organisation.objects.filter(committee=committee)
        .prefetch_related("areas", "contacts")
        .order_by("kind", "name")
    )
    for organisation in records.iterator(chunk_size=CHUNK):
        base = {
            "kind": ORGANISATION_KIND.word(organisation.kind),
            "social_org_kind": SOCIAL_ORG_KIND.word(organisation.social_org_kind)
            if organisation.social_org_kind
            else "",
            "name": organisation.name,
            "credit_code": organisation.credit_code,
            "address": organisation.address,
            "office_phone": organisation.office_phone,
            "responsibilities": organisation.responsibilities,
            "areas": "、".join(sorted(a.name for a in organisation.areas.all())),
        }
        contacts = list(organisation.contacts.all()) or [None]
        for contact in contacts:
            # One row per contact; the importer gathers rows of the same name back together.
            yield {
                **base,
                "contact_name": contact.name if contact else "",
                "contact_title": contact.title if contact else "",
                "contact_phone": _identifier(contact, "phone", reveal) if contact else "",
            }


_ROWS = {
    ImportKind.HOUSEHOLDS: _households,
    ImportKind.RESIDENTS: _residents,
    ImportKind.OWNERS: _owners,
    ImportKind.ORGANISATIONS: _organisations,
}
