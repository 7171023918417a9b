"""Reads of the community register, always on behalf of a viewer.

Every query starts from `Model.objects.for_viewer(viewer, VIEW_REGISTER)`, so a row outside the
viewer's places is indistinguishable from a missing one (404). Identifiers leave this module only
as their masks; sensitive tags only for viewers holding VIEW_SENSITIVE_TAGS over the row.
Each reader runs a fixed number of queries whatever the size of the data (one per level, grouped
with annotations, never one per row).
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import CharField, Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Substr
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.scoping import covers, under_q
from linli.people.choices import (
    AreaSource,
    Gender,
    OrganisationKind,
    Registration,
    Relation,
    Residence,
    ResidentStatus,
)
from linli.people.models import (
    Household,
    Organisation,
    OrganisationContact,
    Ownership,
    Resident,
    ResidentEvent,
    Tag,
    UnitArea,
)
from linli.people.perms import MANAGE_REGISTER, VIEW_REGISTER, VIEW_SENSITIVE_TAGS
from linli.people.pii import InvalidIdentifier, age_on, normalize_phone, parse_id_number
from linli.people.services import effective_area, id_lookup_hash, phone_lookup_hash
from linli.places.choices import PlaceKind
from linli.places.models import Place

RESIDENTS_PER_PAGE = 50
ORGANISATIONS_PER_PAGE = 50
# Age bands of the community profile: (label, youngest, oldest or None).
AGE_BANDS = [
    ("0-6", 0, 6),
    ("7-17", 7, 17),
    ("18-34", 18, 34),
    ("35-59", 35, 59),
    ("60-79", 60, 79),
    ("80+", 80, None),
]
STATUS_ALL = "all"
OCCUPANCY_KINDS = (PlaceKind.COMPOUND, PlaceKind.BUILDING)
# What a search looked for, so the page can say which kind of look-up was done.
LOOKUP_ID = "id"
LOOKUP_PHONE = "phone"
LOOKUP_NAME = "name"
# Labels of the fields a resident event may list (old → new).
EVENT_FIELD_LABELS = {
    "name": _("name"),
    "id": _("ID number"),
    "phone": _("phone"),
    "ethnicity": _("ethnicity"),
    "registration": _("registration status"),
    "residence": _("residence status"),
    "relation": _("relation to household head"),
    "status": _("status"),
    "household": _("household"),
    "tags": _("tags"),
    "gender": _("gender"),
    "birth_date": _("birth date"),
}
_EVENT_CHOICES = {
    "registration": Registration,
    "residence": Residence,
    "relation": Relation,
    "status": ResidentStatus,
    "gender": Gender,
}


# --- scope helpers ---------------------------------------------------------------------------


def _prefixes_q(prefixes: list[str], field_name: str = "path") -> Q:
    condition = Q()
    for prefix in prefixes:
        condition |= under_q(prefix, field_name)
    return condition


def sensitive_prefixes(*, viewer) -> list[str]:
    return viewer.scope_prefixes(VIEW_SENSITIVE_TAGS)


def tags_visible(*, viewer) -> list[Tag]:
    """Active tags the viewer may filter and see: sensitive ones only for those who need them."""
    tags = Tag.objects.filter(active=True)
    if not sensitive_prefixes(viewer=viewer):
        tags = tags.filter(sensitive=False)
    return list(tags.order_by("sensitive", "code"))


def _tags_prefetch(viewer, lookup: str = "tags") -> Prefetch:
    # Viewers who may see no sensitive tag never even load them.
    tags = Tag.objects.order_by("sensitive", "code")
    if not sensitive_prefixes(viewer=viewer):
        tags = tags.filter(sensitive=False)
    return Prefetch(lookup, queryset=tags)


def _decorate(residents, *, viewer, today: dt.date | None = None) -> None:
    """Attach what pages show: age, the tags this viewer may see, the household address."""
    today = today or timezone.localdate()
    sensitive = sensitive_prefixes(viewer=viewer)
    for resident in residents:
        resident.age = age_on(resident.birth_date, today)
        tags = list(resident.tags.all())
        if not covers(sensitive, resident.path):
            tags = [t for t in tags if not t.sensitive]
        resident.visible_tags = tags
        resident.address = household_address(resident.household)


def household_address(household: Household) -> str:
    """compound › building › room, from places already loaded with select_related."""
    room = household.place
    building = room.parent
    compound = building.parent if building is not None else None
    return " › ".join(p.name for p in (compound, building, room) if p is not None)


def _resident_rows(viewer) -> QuerySet:
    return (
        Resident.objects.for_viewer(viewer, VIEW_REGISTER)
        .select_related("household__place__parent__parent")
        .prefetch_related(_tags_prefetch(viewer))
    )


def register_place_get(*, viewer, pk: int, kinds=None) -> Place:
    """A place the viewer sees the register of (compound, building, committee …); 404 else."""
    places = Place.objects.for_viewer(viewer, VIEW_REGISTER)
    if kinds:
        places = places.filter(kind__in=kinds)
    return get_object_or_404(places.select_related("parent"), pk=pk)


def register_roots(*, viewer) -> list[Place]:
    """The top places of the viewer's register scope (a committee for a worker, a street for
    the street office, the grid's compounds for a grid worker)."""
    prefixes = viewer.scope_prefixes(VIEW_REGISTER)
    return list(Place.objects.filter(path__in=prefixes).order_by("path"))


# --- residents --------------------------------------------------------------------------------


@dataclass
class ResidentSearch:
    page: Page
    lookup: str  # LOOKUP_ID, LOOKUP_PHONE, LOOKUP_NAME or "" (no query)
    tag: Tag | None = None
    tag_refused: bool = False


def classify_query(q: str) -> tuple[str, str]:
    """(kind, lookup hash or text): an ID number, a phone number, else part of a name."""
    q = (q or "").strip()
    if not q:
        return "", ""
    try:
        parse_id_number(q)
    except InvalidIdentifier:
        pass
    else:
        return LOOKUP_ID, id_lookup_hash(q)
    try:
        phone = normalize_phone(q)
    except InvalidIdentifier:
        phone = ""
    if phone:
        return LOOKUP_PHONE, phone_lookup_hash(q)
    return LOOKUP_NAME, q


def resident_search(
    *,
    viewer,
    q: str = "",
    tag: str = "",
    status: str = ResidentStatus.ACTIVE,
    place: Place | None = None,
    page: int | str | None = 1,
) -> ResidentSearch:
    """Residents in the viewer's scope matching the query, 50 a page in a stable order.

    An ID number or a phone number is looked up exactly through its keyed hash; anything else
    matches part of the name. A sensitive tag filters only for viewers who may see it, and only
    among the rows where they may.
    """
    residents = _resident_rows(viewer)
    lookup, needle = classify_query(q)
    if lookup == LOOKUP_ID:
        residents = residents.filter(id_hash=needle)
    elif lookup == LOOKUP_PHONE:
        residents = residents.filter(phone_hash=needle)
    elif lookup == LOOKUP_NAME:
        residents = residents.filter(name__contains=needle)
    chosen, refused = None, False
    if tag:
        chosen = Tag.objects.filter(code=tag).first()
        if chosen is None:
            residents = residents.none()
        elif chosen.sensitive:
            allowed = sensitive_prefixes(viewer=viewer)
            if allowed:
                residents = residents.filter(_prefixes_q(allowed), tags=chosen)
            else:
                chosen, refused = None, True
        else:
            residents = residents.filter(tags=chosen)
    if status and status != STATUS_ALL:
        residents = residents.filter(status=status)
    if place is not None:
        residents = residents.filter(under_q(place.path))
    paginator = Paginator(residents.order_by("path", "name", "id"), RESIDENTS_PER_PAGE)
    result = paginator.get_page(page)
    _decorate(result.object_list, viewer=viewer)
    return ResidentSearch(page=result, lookup=lookup, tag=chosen, tag_refused=refused)


def resident_hidden_tag_codes(*, viewer, resident: Resident) -> list[str]:
    """Codes of the resident's tags this viewer may not see (kept as they are on an edit)."""
    if covers(sensitive_prefixes(viewer=viewer), resident.path):
        return []
    return list(
        Tag.objects.filter(residents=resident, sensitive=True, active=True).values_list(
            "code", flat=True
        )
    )


def resident_get(*, viewer, pk: int) -> Resident:
    resident = get_object_or_404(_resident_rows(viewer), pk=pk)
    _decorate([resident], viewer=viewer)
    return resident


@dataclass
class EventRow:
    event: ResidentEvent
    changes: list[tuple[str, str, str, str]]  # (field, label, old, new)


def _tag_names(viewer, codes, tag_names: dict[str, Tag], path: str) -> str:
    see_sensitive = covers(sensitive_prefixes(viewer=viewer), path)
    names = []
    for code in codes or []:
        tag = tag_names.get(code)
        if tag is None:
            continue
        if tag.sensitive and not see_sensitive:
            continue
        names.append(tag.name)
    return "、".join(names) or "—"


def _event_rows(*, viewer, events: list[ResidentEvent]) -> list[EventRow]:
    """Readable old → new pairs. Masks only (the services never store plaintext in events);
    sensitive tags dropped for viewers who may not see them; households as addresses."""
    household_ids = set()
    for event in events:
        pair = event.changes.get("household")
        if isinstance(pair, list):
            household_ids.update(v for v in pair if isinstance(v, int))
    households = {
        h.pk: h
        for h in Household.objects.for_viewer(viewer, VIEW_REGISTER)
        .filter(pk__in=household_ids)
        .select_related("place__parent__parent")
    }
    tags = {t.code: t for t in Tag.objects.all()} if events else {}
    rows = []
    for event in events:
        changes = []
        for key, pair in sorted(event.changes.items()):
            old, new = pair  # every event stores [old, new] pairs
            if key == "tags":
                old = _tag_names(viewer, old, tags, event.path)
                new = _tag_names(viewer, new, tags, event.path)
                if old == new:
                    continue
            elif key == "household":
                old, new = (
                    household_address(households[v]) if v in households else "—" for v in (old, new)
                )
            elif key in _EVENT_CHOICES:
                choices = _EVENT_CHOICES[key]
                old, new = (str(choices(v).label) if v in choices.values else v for v in (old, new))
            changes.append(
                (
                    key,
                    str(EVENT_FIELD_LABELS.get(key, key)),
                    "—" if old in (None, "") else str(old),
                    "—" if new in (None, "") else str(new),
                )
            )
        rows.append(EventRow(event=event, changes=changes))
    return rows


def resident_history(*, viewer, resident: Resident) -> list[EventRow]:
    """The resident's dated events, newest first."""
    events = list(
        ResidentEvent.objects.for_viewer(viewer, VIEW_REGISTER)
        .filter(resident=resident)
        .select_related("recorded_by")
        .order_by("-date", "-id")
    )
    return _event_rows(viewer=viewer, events=events)


# --- households -------------------------------------------------------------------------------


@dataclass
class OwnerRow:
    ownership: Ownership
    owner_name: str
    kind: str
    share: Decimal | None
    id_masked: str
    phone_masked: str
    since: dt.date | None
    until: dt.date | None


@dataclass
class HouseholdDetail:
    household: Household
    address: str
    members: list[Resident]
    history: list[EventRow]
    owners: list[OwnerRow]
    area: UnitArea | None
    areas: list[UnitArea] = field(default_factory=list)


def _owner_rows(ownerships) -> list[OwnerRow]:
    return [
        OwnerRow(
            ownership=o,
            owner_name=o.owner.name,
            kind=o.owner.get_kind_display(),
            share=o.share,
            id_masked=o.owner.id_masked,
            phone_masked=o.owner.phone_masked,
            since=o.since,
            until=o.until,
        )
        for o in ownerships
    ]


def household_get(*, viewer, pk: int) -> Household:
    return get_object_or_404(
        Household.objects.for_viewer(viewer, VIEW_REGISTER).select_related("place__parent__parent"),
        pk=pk,
    )


def household_detail(*, viewer, pk: int) -> HouseholdDetail:
    """A household with all its members (those who left or died marked by status), its events
    newest first, and the dwelling's owners with their shares and the effective floor area."""
    household = household_get(viewer=viewer, pk=pk)
    members = list(_resident_rows(viewer).filter(household=household).order_by("id"))
    _decorate(members, viewer=viewer)
    # Current members first; those who moved out or died stay listed, marked, below them.
    members.sort(key=lambda r: (r.status != ResidentStatus.ACTIVE, r.id))
    events = list(
        ResidentEvent.objects.for_viewer(viewer, VIEW_REGISTER)
        .filter(household=household)
        .select_related("resident", "recorded_by")
        .order_by("-date", "-id")
    )
    ownerships = (
        Ownership.objects.for_viewer(viewer, VIEW_REGISTER)
        .filter(unit_id=household.place_id)
        .select_related("owner")
        .order_by("until", "id")
    )
    areas = list(UnitArea.objects.for_viewer(viewer, VIEW_REGISTER).filter(unit=household.place_id))
    return HouseholdDetail(
        household=household,
        address=household_address(household),
        members=members,
        history=_event_rows(viewer=viewer, events=events),
        owners=_owner_rows(ownerships),
        area=effective_area(areas),
        areas=areas,
    )


def dwelling_household(*, viewer, pk: int) -> tuple[Place, Household | None]:
    """A dwelling (household place) in scope and its household record, if there is one yet."""
    unit = register_place_get(viewer=viewer, pk=pk, kinds=[PlaceKind.HOUSEHOLD])
    household = Household.objects.for_viewer(viewer, VIEW_REGISTER).filter(place=unit).first()
    return unit, household


def transfer_targets(*, viewer, resident: Resident, current: bool = False) -> QuerySet:
    """Dwellings of the resident's committee the viewer manages, other than the current one
    unless `current` (a person coming back may return to the same flat)."""
    committee_path = resident.path[: 10 * 4]
    dwellings = Place.objects.for_viewer(viewer, MANAGE_REGISTER).filter(
        under_q(committee_path), kind=PlaceKind.HOUSEHOLD
    )
    if not current:
        dwellings = dwellings.exclude(pk=resident.household.place_id)
    return dwellings.select_related("parent__parent").order_by("path")


# --- occupancy --------------------------------------------------------------------------------


def _best_areas(viewer, place: Place) -> QuerySet:
    """The UnitArea rows that count (registry, else survey, else contract) under a place."""
    same_unit = UnitArea.objects.filter(unit=OuterRef("unit"))
    registry = Exists(same_unit.filter(source=AreaSource.REGISTRY))
    survey = Exists(same_unit.filter(source=AreaSource.SURVEY))
    return (
        UnitArea.objects.for_viewer(viewer, VIEW_REGISTER)
        .filter(under_q(place.path))
        .filter(
            Q(source=AreaSource.REGISTRY)
            | (Q(source=AreaSource.SURVEY) & ~registry)
            | (Q(source=AreaSource.CONTRACT) & ~registry & ~survey)
        )
    )


def _by_child(queryset: QuerySet, child_length: int) -> QuerySet:
    return (
        queryset.annotate(child=Substr("path", 1, child_length, output_field=CharField()))
        .values("child")
        .order_by()
    )


@dataclass
class BuildingRow:
    place: Place
    dwellings: int = 0
    households: int = 0  # dwellings with someone living there
    residents: int = 0
    owners: int = 0
    area: Decimal = Decimal(0)


@dataclass
class DwellingRow:
    place: Place
    household: Household | None
    size: int
    owners: list[OwnerRow]
    area: UnitArea | None


@dataclass
class Occupancy:
    place: Place
    compound: Place | None
    buildings: list[BuildingRow] = field(default_factory=list)
    dwellings: list[DwellingRow] = field(default_factory=list)
    totals: BuildingRow | None = None


def place_occupancy(*, viewer, place: Place) -> Occupancy:
    """Occupancy of a compound (one row per building) or a building (one row per dwelling)."""
    if place.kind == PlaceKind.COMPOUND:
        return _compound_occupancy(viewer, place)
    if place.kind == PlaceKind.BUILDING:
        return _building_occupancy(viewer, place)
    raise Http404


def _compound_occupancy(viewer, compound: Place) -> Occupancy:
    buildings = list(
        Place.objects.for_viewer(viewer, VIEW_REGISTER).filter(parent=compound).order_by("path")
    )
    rows = {b.path: BuildingRow(place=b) for b in buildings}
    length = len(compound.path) + 10
    inside = under_q(compound.path)
    dwellings = _by_child(
        Place.objects.for_viewer(viewer, VIEW_REGISTER).filter(inside, kind=PlaceKind.HOUSEHOLD),
        length,
    ).annotate(n=Count("id"))
    for row in dwellings:
        if row["child"] in rows:
            rows[row["child"]].dwellings = row["n"]
    people = _by_child(
        Resident.objects.for_viewer(viewer, VIEW_REGISTER).filter(
            inside, status=ResidentStatus.ACTIVE
        ),
        length,
    ).annotate(n=Count("id"), households=Count("household", distinct=True))
    for row in people:
        if row["child"] in rows:
            rows[row["child"]].residents = row["n"]
            rows[row["child"]].households = row["households"]
    owners = _by_child(
        Ownership.objects.for_viewer(viewer, VIEW_REGISTER).filter(inside, until__isnull=True),
        length,
    ).annotate(n=Count("owner", distinct=True))
    for row in owners:
        if row["child"] in rows:
            rows[row["child"]].owners = row["n"]
    for row in _by_child(_best_areas(viewer, compound), length).annotate(total=Sum("area")):
        if row["child"] in rows:
            rows[row["child"]].area = row["total"] or Decimal(0)
    totals = BuildingRow(place=compound)
    for row in rows.values():
        totals.dwellings += row.dwellings
        totals.households += row.households
        totals.residents += row.residents
        totals.area += row.area
    # One owner may hold units in several buildings: the compound's heads are counted apart.
    totals.owners = (
        Ownership.objects.for_viewer(viewer, VIEW_REGISTER)
        .filter(inside, until__isnull=True)
        .aggregate(n=Count("owner", distinct=True))["n"]
    )
    return Occupancy(place=compound, compound=None, buildings=list(rows.values()), totals=totals)


def _building_occupancy(viewer, building: Place) -> Occupancy:
    inside = under_q(building.path)
    units = list(
        Place.objects.for_viewer(viewer, VIEW_REGISTER)
        .filter(inside, kind=PlaceKind.HOUSEHOLD)
        .order_by("path")
    )
    households = {
        h.place_id: h
        for h in Household.objects.for_viewer(viewer, VIEW_REGISTER)
        .filter(inside)
        .annotate(size=Count("members", filter=Q(members__status=ResidentStatus.ACTIVE)))
    }
    owners: dict[int, list[Ownership]] = defaultdict(list)
    for ownership in (
        Ownership.objects.for_viewer(viewer, VIEW_REGISTER)
        .filter(inside, until__isnull=True)
        .select_related("owner")
        .order_by("id")
    ):
        owners[ownership.unit_id].append(ownership)
    areas: dict[int, list[UnitArea]] = defaultdict(list)
    for area in UnitArea.objects.for_viewer(viewer, VIEW_REGISTER).filter(inside):
        areas[area.unit_id].append(area)
    rows = []
    totals = BuildingRow(place=building)
    owner_ids = set()
    for unit in units:
        household = households.get(unit.pk)
        size = household.size if household else 0
        best = effective_area(areas.get(unit.pk, []))
        rows.append(
            DwellingRow(
                place=unit,
                household=household,
                size=size,
                owners=_owner_rows(owners.get(unit.pk, [])),
                area=best,
            )
        )
        totals.dwellings += 1
        totals.households += 1 if size else 0
        totals.residents += size
        totals.area += best.area if best else Decimal(0)
        owner_ids.update(o.owner_id for o in owners.get(unit.pk, []))
    totals.owners = len(owner_ids)
    return Occupancy(place=building, compound=building.parent, dwellings=rows, totals=totals)


# --- organisations ----------------------------------------------------------------------------


def _organisations(viewer) -> QuerySet:
    return (
        Organisation.objects.for_viewer(viewer, VIEW_REGISTER)
        .select_related("committee")
        .prefetch_related(
            Prefetch("areas", queryset=Place.objects.order_by("path")),
            Prefetch("contacts", queryset=OrganisationContact.objects.order_by("id")),
        )
    )


def _serving(place: Place) -> Q:
    """Organisations working at a place: those of the committees under it, or for a compound or
    building, its committee's organisations serving that compound or the whole committee."""
    if place.depth <= 3:  # city, district, street, committee
        return under_q(place.path)
    committee_path = place.path[: 10 * 4]
    compound_path = place.path[: 10 * 5]
    return Q(path=committee_path) & (Q(areas__path=compound_path) | Q(areas__isnull=True))


def organisation_directory(
    *, viewer, kind: str = "", place: Place | None = None, page: int | str | None = 1
) -> Page:
    organisations = _organisations(viewer).filter(active=True)
    if kind:
        organisations = organisations.filter(kind=kind)
    if place is not None:
        organisations = organisations.filter(_serving(place)).distinct()
    paginator = Paginator(
        organisations.order_by("path", "kind", "name", "id"), ORGANISATIONS_PER_PAGE
    )
    return paginator.get_page(page)


def organisation_get(*, viewer, pk: int) -> Organisation:
    return get_object_or_404(_organisations(viewer), pk=pk)


def organisation_contact_get(*, viewer, organisation: Organisation, pk) -> OrganisationContact:
    for contact in organisation.contacts.all():
        if str(contact.pk) == str(pk):
            contact.organisation = organisation
            return contact
    raise Http404


# --- community profile ------------------------------------------------------------------------


def years_before(day: dt.date, years: int) -> dt.date:
    """The last birth date at which someone is `years` old on `day` (29 February → 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


@dataclass
class Bar:
    key: str
    label: str
    count: int
    percent: int  # of the whole (residents, or organisations), rounded

    @property
    def step(self) -> int:
        """The bar's width in steps of 5 % (a CSS class; the CSP allows no inline style);
        anything above zero shows at least a sliver."""
        step = 5 * round(self.percent / 5)
        return max(step, 5) if self.count else 0


@dataclass
class Profile:
    place: Place
    households: int
    residents: int
    age_bands: list[Bar]
    registration: list[Bar]
    residence: list[Bar]
    tags: list[Bar]
    owners: int
    owned_area: Decimal
    organisations: list[Bar]


def _bars(items, total: int) -> list[Bar]:
    return [
        Bar(key=key, label=str(label), count=n, percent=round(100 * n / total) if total else 0)
        for key, label, n in items
    ]


def community_profile(*, viewer, place: Place, today: dt.date | None = None) -> Profile:
    """Counts for a place in the viewer's scope: households, active residents by age band (from
    the birth date, counted in the database), registration, residence, tags, owners and
    organisations. Six queries whatever the size of the place."""
    today = today or timezone.localdate()
    inside = under_q(place.path)
    active = Resident.objects.for_viewer(viewer, VIEW_REGISTER).filter(
        inside, status=ResidentStatus.ACTIVE
    )
    aggregates = {"total": Count("id")}
    for key, youngest, oldest in AGE_BANDS:
        # age >= youngest  ⇔  born on or before the day `youngest` years ago.
        condition = Q(birth_date__lte=years_before(today, youngest))
        if oldest is not None:
            condition &= Q(birth_date__gt=years_before(today, oldest + 1))
        aggregates[f"age_{key}"] = Count("id", filter=condition)
    for value in Registration.values:
        aggregates[f"reg_{value}"] = Count("id", filter=Q(registration=value))
    for value in Residence.values:
        aggregates[f"res_{value}"] = Count("id", filter=Q(residence=value))
    counts = active.aggregate(**aggregates)
    total = counts["total"]
    households = (
        Household.objects.for_viewer(viewer, VIEW_REGISTER)
        .filter(inside, members__status=ResidentStatus.ACTIVE)
        .aggregate(n=Count("id", distinct=True))["n"]
    )
    see_sensitive = covers(sensitive_prefixes(viewer=viewer), place.path)
    tag_rows = (
        active.values("tags__code", "tags__name", "tags__sensitive")
        .annotate(n=Count("id"))
        .order_by()
    )
    tag_items = sorted(
        (
            (r["tags__code"], r["tags__name"], r["n"])
            for r in tag_rows
            if r["tags__code"] is not None and (see_sensitive or not r["tags__sensitive"])
        ),
        key=lambda item: (-item[2], item[0]),
    )
    owners = (
        Ownership.objects.for_viewer(viewer, VIEW_REGISTER)
        .filter(inside, until__isnull=True)
        .aggregate(n=Count("owner", distinct=True))["n"]
    )
    area = _best_areas(viewer, place).aggregate(total=Sum("area"))["total"] or Decimal(0)
    org_counts = {
        r["kind"]: r["n"]
        for r in Organisation.objects.for_viewer(viewer, VIEW_REGISTER)
        .filter(_serving(place), active=True)
        .values("kind")
        .annotate(n=Count("id", distinct=True))
        .order_by()
    }
    n_orgs = sum(org_counts.values())
    return Profile(
        place=place,
        households=households,
        residents=total,
        age_bands=_bars([(k, k, counts[f"age_{k}"]) for k, _y, _o in AGE_BANDS], total),
        registration=_bars(
            [(v, label, counts[f"reg_{v}"]) for v, label in Registration.choices], total
        ),
        residence=_bars([(v, label, counts[f"res_{v}"]) for v, label in Residence.choices], total),
        tags=_bars(tag_items, total),
        owners=owners,
        owned_area=area,
        organisations=_bars(
            [(v, label, org_counts.get(v, 0)) for v, label in OrganisationKind.choices if v],
            n_orgs,
        ),
    )
