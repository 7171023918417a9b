"""Writes to the community register. Each service validates, writes, leaves a dated resident
event where a person changes, and records an audit event, all in one transaction.

The importer (people.imports) shares the row validation here (`resident_values_clean` …) and
writes in bulk; everything else goes through these functions.
"""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.audit import audit_record
from linli.core.crypto import decrypt, encrypt, keyed_hash
from linli.people.choices import (
    AREA_SOURCE_PREFERENCE,
    ETHNICITIES,
    EventKind,
    OrganisationKind,
    OwnerKind,
    Registration,
    Relation,
    Residence,
    ResidentStatus,
)
from linli.people.models import (
    Household,
    Organisation,
    OrganisationContact,
    Owner,
    Ownership,
    Resident,
    ResidentEvent,
    Tag,
    UnitArea,
)
from linli.people.perms import MANAGE_REGISTER, REVEAL_PII
from linli.people.pii import (
    InvalidIdentifier,
    cell_echo,
    mask_id_number,
    mask_name_public,
    mask_phone,
    normalize_phone,
    parse_id_number,
)
from linli.places.choices import PlaceKind
from linli.places.models import Place

NOT_A_DWELLING = _("Residents live in a household (a flat or room), not in a %(kind)s.")
DUPLICATE_PERSON = _("This ID number is already in the register (%(where)s).")
DUPLICATE_ELSEWHERE = _("another committee's register; ask the street to transfer the person")
NOT_ACTIVE = _("Only a person still in the register can be moved or marked.")
ALREADY_ACTIVE = _("This person is already in the register.")
DEATH_CORRECTION_NOTE = _(
    "A death can only be undone as a correction: say in the note why the record was wrong."
)
BEFORE_BIRTH = _("The date cannot be before the person was born.")
BEFORE_LEAVING = _("The return cannot be dated before the person left (%(date)s).")
INACTIVE_PERSON = _(
    "This ID number belongs to %(name)s, recorded as %(status)s; "
    "use “Back in the register” on their page instead of adding them again."
)
REASON_REQUIRED = _("Give the reason for revealing this number (at least 4 characters).")
NOTHING_TO_REVEAL = _("There is no number recorded to reveal.")
UNKNOWN_ETHNICITY = _("Unknown ethnic group: %(value)s.")
UNKNOWN_TAG = _("Unknown tag: %(value)s.")
NAME_REQUIRED = _("A name is required.")
FUTURE_DATE = _("The date cannot be in the future.")
SOCIAL_KIND_REQUIRED = _("A social organisation needs its legal kind.")
SOCIAL_KIND_ONLY = _("Only social organisations have a legal kind.")
AREA_INVALID = _("Floor area must be a positive number of square metres.")
SHARE_INVALID = _("A share is a fraction above 0 and at most 1, e.g. 0.5.")
NOT_PERMITTED = _("You may not change this register.")

PII_FIELDS = ("id", "phone")
# Built once: `TextChoices.values` builds a new list on every access (a hot path on import).
_REGISTRATION = frozenset(Registration.values)
_RESIDENCE = frozenset(Residence.values)
_RELATION = frozenset(Relation.values)
MIN_REASON = 4


# --- identifiers -----------------------------------------------------------------------------


def pii_assign(obj, field: str, value: str) -> bool:
    """Store a normalized identifier as ciphertext, lookup hash and mask. Returns whether the
    stored value changed (compared by hash, so unchanged values keep their ciphertext)."""
    digest = keyed_hash(value)
    if getattr(obj, f"{field}_hash") == digest:
        return False
    setattr(obj, f"{field}_hash", digest)
    setattr(obj, f"{field}_cipher", encrypt(value))
    setattr(obj, f"{field}_masked", mask_id_number(value) if field == "id" else mask_phone(value))
    return True


def id_lookup_hash(raw: str) -> str:
    """Hash of an ID number as typed, or '' if it is not a valid ID number."""
    try:
        return keyed_hash(parse_id_number(raw).value)
    except InvalidIdentifier:
        return ""


def phone_lookup_hash(raw: str) -> str:
    try:
        return keyed_hash(normalize_phone(raw))
    except InvalidIdentifier:
        return ""


@transaction.atomic
def pii_reveal(*, actor, obj, field: str, reason: str) -> str:
    """Decrypt one identifier of one record for a permitted viewer; audited with the reason."""
    if field not in PII_FIELDS:
        raise ValueError(field)
    scope = obj.organisation.scope_place if isinstance(obj, OrganisationContact) else obj.path
    if not actor.has_perm(REVEAL_PII, scope):
        raise PermissionDenied
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise ValidationError({"reason": REASON_REQUIRED})
    ciphertext = getattr(obj, f"{field}_cipher")
    if not ciphertext:
        raise ValidationError(NOTHING_TO_REVEAL)
    audit_record(
        actor=actor,
        action=f"people.{type(obj).__name__.lower()}.reveal_{field}",
        obj=obj,
        place=Place.objects.get(path=scope) if isinstance(scope, str) else scope,
        changes={"field": field, "masked": getattr(obj, f"{field}_masked")},
        reason=reason,
    )
    return decrypt(ciphertext)


# --- validation shared with the importer -----------------------------------------------------


def resident_values_clean(
    *,
    name: str,
    id_number: str | None,
    phone: str | None = "",
    ethnicity: str = "",
    registration: str,
    residence: str,
    relation: str,
    tags: list[str] | None = None,
    tag_index: dict[str, Tag] | None = None,
) -> dict:
    """Validate a resident's fields; returns clean values (with the parsed ID) or raises
    ValidationError with one message per bad field."""
    errors: dict[str, list] = {}
    values: dict = {"name": (name or "").strip()}
    if not values["name"]:
        errors["name"] = [NAME_REQUIRED]
    # None (an update that leaves the identifier alone) skips it; "" is a value (no phone).
    if id_number is not None:
        try:
            parsed = parse_id_number(id_number)
            values.update(
                id_number=parsed.value, birth_date=parsed.birth_date, gender=parsed.gender
            )
        except InvalidIdentifier as exc:
            errors["id_number"] = [exc.message]
    if phone is not None:
        try:
            values["phone"] = normalize_phone(phone)
        except InvalidIdentifier as exc:
            errors["phone"] = [exc.message]
    ethnicity = (ethnicity or "").strip()
    if ethnicity and not ethnicity.endswith("族") and ethnicity + "族" in ETHNICITIES:
        ethnicity += "族"
    if ethnicity and ethnicity not in ETHNICITIES:
        errors["ethnicity"] = [UNKNOWN_ETHNICITY % {"value": cell_echo(ethnicity)}]
    values["ethnicity"] = ethnicity
    for field, choices, value in (
        ("registration", _REGISTRATION, registration),
        ("residence", _RESIDENCE, residence),
        ("relation", _RELATION, relation),
    ):
        if value not in choices:
            errors[field] = [_("Choose one of the listed values.")]
        values[field] = value
    if tags:
        index = tag_index if tag_index is not None else tag_index_load()
        found = []
        for token in tags:
            tag = index.get(token.strip())
            if tag is None:
                errors.setdefault("tags", []).append(UNKNOWN_TAG % {"value": cell_echo(token)})
            else:
                found.append(tag)
        values["tags"] = found
    else:
        values["tags"] = []
    if errors:
        raise ValidationError(errors)
    return values


def tag_index_load() -> dict[str, Tag]:
    """Active tags by code and by name (the spreadsheet may use either)."""
    index = {}
    for tag in Tag.objects.filter(active=True):
        index[tag.code] = tag
        index[tag.name] = tag
    return index


def parse_area(raw) -> Decimal:
    try:
        area = Decimal(str(raw).strip()).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ValidationError(AREA_INVALID) from None
    if area <= 0 or area >= Decimal("100000000"):
        raise ValidationError(AREA_INVALID)
    return area


def parse_share(raw) -> Decimal | None:
    if raw in (None, ""):
        return None
    try:
        share = Decimal(str(raw).strip().rstrip("%"))
    except (InvalidOperation, ValueError):
        raise ValidationError(SHARE_INVALID) from None
    if str(raw).strip().endswith("%"):
        share /= 100
    if not 0 < share <= 1:
        raise ValidationError(SHARE_INVALID)
    return share.quantize(Decimal("0.0001"))


def _check_manage(actor, path: str) -> None:
    if actor is not None and not actor.has_perm(MANAGE_REGISTER, path):
        raise PermissionDenied(NOT_PERMITTED)


def _check_date(date: dt.date, resident: Resident | None = None) -> None:
    if date > timezone.localdate():
        raise ValidationError({"date": FUTURE_DATE})
    if resident is not None and resident.birth_date and date < resident.birth_date:
        raise ValidationError({"date": BEFORE_BIRTH})


def resident_snapshot(resident: Resident, tag_codes: list[str] | None = None) -> dict:
    """What a resident event records of a person (masks only for identifiers)."""
    if tag_codes is None:
        tag_codes = [t.code for t in resident.tags.all()] if resident.pk else []
    return {
        "name": resident.name,
        "id": resident.id_masked,
        "phone": resident.phone_masked,
        "ethnicity": resident.ethnicity,
        "registration": resident.registration,
        "residence": resident.residence,
        "relation": resident.relation,
        "status": resident.status,
        "household": resident.household_id,
        "tags": sorted(tag_codes),
    }


def changes_between(before: dict, after: dict) -> dict:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def _audit_changes(changes: dict) -> dict:
    """A resident change as the audit trail keeps it. Audit viewers need not hold the register's
    permissions, so names are masked as on public notices and sensitive tags shrink to the fact
    that they changed (the resident's own history keeps the detail, behind the permission)."""
    out = dict(changes)
    if "name" in out:
        out["name"] = [mask_name_public(v) if v else v for v in out["name"]]
    if "tags" in out:
        sensitive = set(Tag.objects.filter(sensitive=True).values_list("code", flat=True))
        old, new = (set(codes or []) for codes in out.pop("tags"))
        if old - sensitive != new - sensitive:
            out["tags"] = [sorted(old - sensitive), sorted(new - sensitive)]
        if old & sensitive != new & sensitive:
            out["sensitive_tags"] = "changed"
    return out


def _event(*, actor, resident, kind, date, changes, note="") -> ResidentEvent:
    return ResidentEvent.objects.create(
        resident=resident,
        household=resident.household,
        path=resident.household.path,
        kind=kind,
        date=date,
        changes=changes,
        note=note,
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )


# --- households -----------------------------------------------------------------------------


@transaction.atomic
def household_ensure(*, actor, unit: Place, **fields) -> Household:
    """The household record of a dwelling, created on first use; `fields` update it."""
    if unit.kind != PlaceKind.HOUSEHOLD:
        raise ValidationError(NOT_A_DWELLING % {"kind": PlaceKind(unit.kind).label})
    _check_manage(actor, unit.path)
    household, created = Household.objects.get_or_create(place=unit, defaults={"path": unit.path})
    before = {f: getattr(household, f) for f in fields}
    for name, value in fields.items():
        setattr(household, name, value)
    household.full_clean()
    changed = {k: [before[k], v] for k, v in fields.items() if before[k] != v}
    if created or changed:
        household.save()
        audit_record(
            actor=actor,
            action="people.household." + ("create" if created else "update"),
            obj=household,
            place=unit,
            changes=changed,
        )
    return household


# --- residents ------------------------------------------------------------------------------


@transaction.atomic
def resident_create(
    *,
    actor,
    household: Household,
    date: dt.date,
    note: str = "",
    **raw,
) -> Resident:
    """Register a person moving into (or born into) a household."""
    _check_manage(actor, household.path)
    # A new person needs an ID number; "" reports it missing.
    raw.update(id_number=raw.get("id_number") or "", phone=raw.get("phone") or "")
    values = resident_values_clean(**raw)
    digest = keyed_hash(values["id_number"])
    existing = Resident.objects.filter(id_hash=digest).only("path", "name", "status").first()
    in_reach = existing is not None and (
        actor is None or actor.has_perm(MANAGE_REGISTER, existing.path)
    )
    if in_reach and existing.status != ResidentStatus.ACTIVE:
        status = existing.get_status_display()
        raise ValidationError(
            {"id_number": INACTIVE_PERSON % {"name": existing.name, "status": status}}
        )
    if existing is not None:
        where = (
            Household.objects.get(path=existing.path).place.name
            if in_reach
            else DUPLICATE_ELSEWHERE
        )
        raise ValidationError({"id_number": DUPLICATE_PERSON % {"where": where}})
    tags = values.pop("tags")
    resident = Resident(
        household=household,
        path=household.path,
        **{k: v for k, v in values.items() if k not in ("id_number", "phone")},
    )
    _check_date(date, resident)
    pii_assign(resident, "id", values["id_number"])
    pii_assign(resident, "phone", values["phone"])
    resident.full_clean(exclude=["household"])
    try:
        with transaction.atomic():
            resident.save()
    except IntegrityError:  # the same person added at the same moment by someone else
        raise ValidationError(
            {"id_number": DUPLICATE_PERSON % {"where": DUPLICATE_ELSEWHERE}}
        ) from None
    resident.tags.set(tags)
    after = resident_snapshot(resident)
    _event(
        actor=actor,
        resident=resident,
        kind=EventKind.MOVE_IN,
        date=date,
        changes=changes_between({}, after),
        note=note,
    )
    audit_record(
        actor=actor,
        action="people.resident.create",
        obj=resident,
        place=household.place,
        changes=_audit_changes(changes_between({}, after)),
    )
    return resident


@transaction.atomic
def resident_update(*, actor, resident: Resident, date: dt.date, note: str = "", **raw) -> Resident:
    """Correct or change a resident's details; the old values stay in the history.

    `raw` holds the full set of editable fields (as resident_values_clean takes them);
    `id_number=None` or `phone=None` keeps the stored identifier without decrypting it.
    """
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    _check_manage(actor, resident.path)
    _check_date(date, resident)
    values = resident_values_clean(**raw)
    before = resident_snapshot(resident)
    if "id_number" in values:
        digest = keyed_hash(values["id_number"])
        if digest != resident.id_hash and Resident.objects.filter(id_hash=digest).exists():
            raise ValidationError(
                {"id_number": DUPLICATE_PERSON % {"where": DUPLICATE_ELSEWHERE}},
            )
        pii_assign(resident, "id", values["id_number"])
        resident.birth_date, resident.gender = values["birth_date"], values["gender"]
    if "phone" in values:
        pii_assign(resident, "phone", values["phone"])
    # Retired tags cannot be chosen any more, but those a person holds stay until removed.
    tags = values.pop("tags") + list(resident.tags.filter(active=False))
    for field in ("name", "ethnicity", "registration", "residence", "relation"):
        setattr(resident, field, values[field])
    resident.full_clean(exclude=["household"])
    resident.save()
    resident.tags.set(tags)
    changes = changes_between(before, resident_snapshot(resident))
    if changes:
        kind = (
            EventKind.STATUS
            if set(changes) & {"registration", "residence", "relation", "tags"}
            else EventKind.UPDATE
        )
        _event(actor=actor, resident=resident, kind=kind, date=date, changes=changes, note=note)
        audit_record(
            actor=actor,
            action="people.resident.update",
            obj=resident,
            place=resident.household.place,
            changes=_audit_changes(changes),
        )
    return resident


def _lock_active(resident: Resident) -> Resident:
    locked = (
        Resident.objects.select_for_update().select_related("household__place").get(pk=resident.pk)
    )
    if locked.status != ResidentStatus.ACTIVE:
        raise ValidationError(NOT_ACTIVE)
    return locked


@transaction.atomic
def resident_transfer(
    *, actor, resident: Resident, household: Household, date: dt.date, note: str = ""
) -> Resident:
    """Move a person to another household of the register (both must be within reach)."""
    resident = _lock_active(resident)
    _check_manage(actor, resident.path)
    _check_manage(actor, household.path)
    _check_date(date, resident)
    old = resident.household
    resident.household, resident.path = household, household.path
    resident.save(update_fields=["household", "path", "updated_at"])
    changes = {"household": [old.pk, household.pk]}
    # The move shows in both households' histories.
    ResidentEvent.objects.create(
        resident=resident,
        household=old,
        path=old.path,
        kind=EventKind.TRANSFER,
        date=date,
        changes=changes,
        note=note,
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    _event(
        actor=actor,
        resident=resident,
        kind=EventKind.TRANSFER,
        date=date,
        changes=changes,
        note=note,
    )
    audit_record(
        actor=actor,
        action="people.resident.transfer",
        obj=resident,
        place=household.place,
        changes=changes,
    )
    return resident


def _leave(*, actor, resident, status, kind, date, note, action) -> Resident:
    resident = _lock_active(resident)
    _check_manage(actor, resident.path)
    _check_date(date, resident)
    resident.status, resident.status_date = status, date
    resident.save(update_fields=["status", "status_date", "updated_at"])
    changes = {"status": [ResidentStatus.ACTIVE, status]}
    _event(actor=actor, resident=resident, kind=kind, date=date, changes=changes, note=note)
    audit_record(
        actor=actor,
        action=action,
        obj=resident,
        place=resident.household.place,
        changes=changes,
    )
    return resident


@transaction.atomic
def resident_move_out(*, actor, resident: Resident, date: dt.date, note: str = "") -> Resident:
    """The person has left the committee's area; the record stays, marked and dated."""
    return _leave(
        actor=actor,
        resident=resident,
        status=ResidentStatus.MOVED_OUT,
        kind=EventKind.MOVE_OUT,
        date=date,
        note=note,
        action="people.resident.move_out",
    )


@transaction.atomic
def resident_record_death(*, actor, resident: Resident, date: dt.date, note: str = "") -> Resident:
    return _leave(
        actor=actor,
        resident=resident,
        status=ResidentStatus.DECEASED,
        kind=EventKind.DEATH,
        date=date,
        note=note,
        action="people.resident.death",
    )


@transaction.atomic
def resident_return(
    *, actor, resident: Resident, household: Household, date: dt.date, note: str = ""
) -> Resident:
    """A person who moved out comes back, to their old household or another one; a death
    recorded in error is undone the same way, with the note saying why. The record and its
    history carry on: the ID number is never registered twice."""
    resident = (
        Resident.objects.select_for_update().select_related("household__place").get(pk=resident.pk)
    )
    _check_manage(actor, resident.path)
    _check_manage(actor, household.path)
    if resident.status == ResidentStatus.ACTIVE:
        raise ValidationError(ALREADY_ACTIVE)
    if resident.status == ResidentStatus.DECEASED and len(note.strip()) < MIN_REASON:
        raise ValidationError({"note": DEATH_CORRECTION_NOTE})
    _check_date(date, resident)
    if resident.status_date and date < resident.status_date:
        raise ValidationError({"date": BEFORE_LEAVING % {"date": resident.status_date}})
    changes = {"status": [resident.status, ResidentStatus.ACTIVE]}
    if household.pk != resident.household_id:
        changes["household"] = [resident.household_id, household.pk]
    resident.status, resident.status_date = ResidentStatus.ACTIVE, None
    resident.household, resident.path = household, household.path
    resident.save(update_fields=["status", "status_date", "household", "path", "updated_at"])
    _event(
        actor=actor, resident=resident, kind=EventKind.RETURN, date=date, changes=changes, note=note
    )
    audit_record(
        actor=actor,
        action="people.resident.return",
        obj=resident,
        place=household.place,
        changes=changes,
        reason=note,
    )
    return resident


# --- owners and units -----------------------------------------------------------------------


def committee_of(place: Place) -> Place:
    """The committee above a compound, building or household place."""
    committee_path = place.path[: 10 * 4]  # city › district › street › committee
    return Place.objects.get(path=committee_path, kind=PlaceKind.COMMITTEE)


@transaction.atomic
def owner_upsert(
    *, actor, committee: Place, kind: str, name: str, id_number: str = "", phone: str = ""
) -> Owner:
    """The owner with this ID (persons) or credit code (organisations, developers) in the
    committee, created if new; a developer without a code is found by name."""
    _check_manage(actor, committee.path)
    errors = {}
    if kind not in OwnerKind.values:
        errors["kind"] = [_("Choose one of the listed values.")]
    if not (name or "").strip():
        errors["name"] = [NAME_REQUIRED]
    ident = ""
    if kind == OwnerKind.PERSON:
        try:
            ident = parse_id_number(id_number).value
        except InvalidIdentifier as exc:
            errors["id_number"] = [exc.message]
    else:
        ident = (id_number or "").strip().upper()
    try:
        phone = normalize_phone(phone)
    except InvalidIdentifier as exc:
        errors["phone"] = [exc.message]
    if errors:
        raise ValidationError(errors)
    digest = keyed_hash(ident)
    lookup = Owner.objects.filter(committee=committee)
    owner = (
        lookup.filter(id_hash=digest).first()
        if digest
        else lookup.filter(kind=kind, name=name.strip(), id_hash="").first()
    )
    created = owner is None
    if created:
        owner = Owner(committee=committee, path=committee.path, kind=kind, name=name.strip())
        pii_assign(owner, "id", ident)
    changed = owner.name != name.strip() or owner.kind != kind
    owner.name, owner.kind = name.strip(), kind
    changed |= pii_assign(owner, "phone", phone)
    if kind == OwnerKind.PERSON and owner.resident_id is None:
        owner.resident = Resident.objects.filter(id_hash=digest).first()
        changed |= owner.resident is not None
    if created or changed:
        owner.full_clean(exclude=["committee", "resident"])
        owner.save()
        audit_record(
            actor=actor,
            action="people.owner." + ("create" if created else "update"),
            obj=owner,
            place=committee,
            changes={"name": owner.audit_label(), "kind": owner.kind, "id": owner.id_masked},
        )
    return owner


@transaction.atomic
def ownership_set(
    *,
    actor,
    unit: Place,
    owner: Owner,
    share=None,
    votes_for_unit: bool = True,
    since: dt.date | None = None,
) -> Ownership:
    if unit.kind != PlaceKind.HOUSEHOLD:
        raise ValidationError(NOT_A_DWELLING % {"kind": PlaceKind(unit.kind).label})
    _check_manage(actor, unit.path)
    share = parse_share(share)
    ownership = Ownership.objects.filter(unit=unit, owner=owner, until__isnull=True).first()
    if ownership is None:
        ownership = Ownership.objects.create(
            unit=unit,
            path=unit.path,
            owner=owner,
            share=share,
            votes_for_unit=votes_for_unit,
            since=since,
        )
        audit_record(
            actor=actor,
            action="people.ownership.create",
            obj=ownership,
            place=unit,
            changes={"owner": owner.audit_label(), "share": str(share) if share else None},
        )
    elif (ownership.share, ownership.votes_for_unit) != (share, votes_for_unit):
        ownership.share, ownership.votes_for_unit = share, votes_for_unit
        ownership.save(update_fields=["share", "votes_for_unit"])
        audit_record(
            actor=actor,
            action="people.ownership.update",
            obj=ownership,
            place=unit,
            changes={"share": str(share) if share else None, "votes_for_unit": votes_for_unit},
        )
    return ownership


@transaction.atomic
def ownership_end(*, actor, ownership: Ownership, date: dt.date) -> Ownership:
    """A sale or transfer: the ownership is closed, not deleted."""
    _check_manage(actor, ownership.path)
    _check_date(date)
    ownership.until = date
    ownership.save(update_fields=["until"])
    audit_record(
        actor=actor,
        action="people.ownership.end",
        obj=ownership,
        place=ownership.unit,
        changes={"until": date.isoformat()},
    )
    return ownership


@transaction.atomic
def unit_area_set(*, actor, unit: Place, source: str, area) -> UnitArea:
    if unit.kind != PlaceKind.HOUSEHOLD:
        raise ValidationError(NOT_A_DWELLING % {"kind": PlaceKind(unit.kind).label})
    _check_manage(actor, unit.path)
    if source not in AREA_SOURCE_PREFERENCE:
        raise ValidationError({"source": _("Choose one of the listed values.")})
    area = parse_area(area)
    record = UnitArea.objects.filter(unit=unit, source=source).first()
    old = record.area if record else None
    if old == area:
        return record
    if record is None:
        record = UnitArea(unit=unit, path=unit.path, source=source)
    record.area = area
    record.save()
    audit_record(
        actor=actor,
        action="people.unit_area.set",
        obj=record,
        place=unit,
        changes={"source": source, "area": [str(old) if old else None, str(area)]},
    )
    return record


def effective_area(areas: list[UnitArea]) -> UnitArea | None:
    """The area that counts for a unit: registry, else survey, else contract."""
    by_source = {a.source: a for a in areas}
    for source in AREA_SOURCE_PREFERENCE:
        if source in by_source:
            return by_source[source]
    return None


# --- organisations --------------------------------------------------------------------------


def organisation_values_clean(*, kind: str, social_org_kind: str = "", name: str) -> dict:
    errors = {}
    if kind not in OrganisationKind.values:
        errors["kind"] = [_("Choose one of the listed values.")]
    if kind == OrganisationKind.SOCIAL_ORG and not social_org_kind:
        errors["social_org_kind"] = [SOCIAL_KIND_REQUIRED]
    if kind != OrganisationKind.SOCIAL_ORG and social_org_kind:
        errors["social_org_kind"] = [SOCIAL_KIND_ONLY]
    if not (name or "").strip():
        errors["name"] = [NAME_REQUIRED]
    if errors:
        raise ValidationError(errors)
    return {"kind": kind, "social_org_kind": social_org_kind, "name": name.strip()}


@transaction.atomic
def organisation_upsert(
    *,
    actor,
    committee: Place,
    kind: str,
    name: str,
    social_org_kind: str = "",
    areas: list[Place] | None = None,
    contacts: list[tuple[str, str, str]] | None = None,
    **fields,
) -> Organisation:
    """Create or update the committee's organisation of this name. `contacts` is a list of
    (name, title, phone); when given it replaces the contact list."""
    _check_manage(actor, committee.path)
    values = organisation_values_clean(kind=kind, social_org_kind=social_org_kind, name=name)
    organisation = Organisation.objects.filter(committee=committee, name=values["name"]).first()
    created = organisation is None
    if created:
        organisation = Organisation(committee=committee, path=committee.path)
    for field, value in {**values, **fields}.items():
        setattr(organisation, field, value)
    organisation.full_clean(exclude=["committee"])
    organisation.save()
    if areas is not None:
        organisation.areas.set(areas)
    if contacts is not None:
        organisation.contacts.all().delete()
        for contact_name, title, phone in contacts:
            contact = OrganisationContact(
                organisation=organisation, name=contact_name.strip(), title=title.strip()
            )
            try:
                pii_assign(contact, "phone", normalize_phone(phone))
            except InvalidIdentifier as exc:
                raise ValidationError({"contacts": exc.message}) from None
            contact.save()
    audit_record(
        actor=actor,
        action="people.organisation." + ("create" if created else "update"),
        obj=organisation,
        place=committee,
        changes={"name": organisation.name, "kind": organisation.kind},
    )
    return organisation
