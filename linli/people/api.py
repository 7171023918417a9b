"""Register API: residents, households, organisations and community profiles, masked.

Schemas carry identifiers only as `id_number_masked` / `phone_masked`; the one plaintext that
ever leaves is the answer of an audited reveal. Out of scope answers 404 like a missing object.
"""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page
from django.views.decorators.debug import sensitive_variables
from ninja import Query, Router, Schema
from ninja.errors import HttpError

from linli.people import selectors, services
from linli.people.perms import REVEAL_PII, VIEW_REGISTER

router = Router(tags=["people"])


class ApiError(HttpError):
    def __init__(self, status: int, message: str, code: str):
        super().__init__(status, message)
        self.code = code


class TagOut(Schema):
    code: str
    name: str


class ResidentOut(Schema):
    id: int
    name: str
    gender: str
    age: int
    id_number_masked: str
    phone_masked: str
    status: str
    status_date: dt.date | None
    household_id: int
    address: str
    tags: list[TagOut]


class ChangeOut(Schema):
    field: str
    label: str
    old: str
    new: str


class EventOut(Schema):
    id: int
    resident_id: int
    kind: str
    date: dt.date
    changes: list[ChangeOut]
    note: str


class ResidentDetailOut(ResidentOut):
    ethnicity: str
    registration: str
    residence: str
    relation: str
    events: list[EventOut]


class ResidentPageOut(Schema):
    count: int
    page: int
    pages: int
    lookup: str
    results: list[ResidentOut]


class ResidentQuery(Schema):
    q: str = ""
    tag: str = ""
    status: str = "active"
    page: int = 1


class RevealIn(Schema):
    # Defaults, so the object is looked up (404) and the permission checked (403) before the
    # body is judged (422).
    field: str = ""
    reason: str = ""


class RevealOut(Schema):
    field: str
    value: str


class OwnerOut(Schema):
    name: str
    kind: str
    share: Decimal | None
    id_number_masked: str
    phone_masked: str
    since: dt.date | None
    until: dt.date | None


class HouseholdOut(Schema):
    id: int
    place_id: int
    address: str
    household_type: str
    tenure: str
    effective_area: Decimal | None
    area_source: str
    members: list[ResidentOut]
    owners: list[OwnerOut]
    events: list[EventOut]


class ContactOut(Schema):
    id: int
    name: str
    title: str
    phone_masked: str


class OrganisationOut(Schema):
    id: int
    committee_id: int
    kind: str
    social_org_kind: str
    name: str
    office_phone: str
    area_ids: list[int]
    contacts: list[ContactOut]


class OrganisationPageOut(Schema):
    count: int
    page: int
    pages: int
    results: list[OrganisationOut]


class OrganisationQuery(Schema):
    kind: str = ""
    page: int = 1


class CountOut(Schema):
    key: str
    label: str
    count: int


class ProfileOut(Schema):
    place_id: int
    place_name: str
    households: int
    residents: int
    age_bands: list[CountOut]
    registration: list[CountOut]
    residence: list[CountOut]
    tags: list[CountOut]
    owners: int
    owned_area: Decimal
    organisations: list[CountOut]


def _resident(r) -> dict:
    return {
        "id": r.pk,
        "name": r.name,
        "gender": r.gender,
        "age": r.age,
        "id_number_masked": r.id_masked,
        "phone_masked": r.phone_masked,
        "status": r.status,
        "status_date": r.status_date,
        "household_id": r.household_id,
        "address": r.address,
        "tags": [{"code": t.code, "name": t.name} for t in r.visible_tags],
    }


def _events(rows) -> list[dict]:
    return [
        {
            "id": row.event.pk,
            "resident_id": row.event.resident_id,
            "kind": row.event.kind,
            "date": row.event.date,
            "changes": [
                {"field": f, "label": label, "old": o, "new": n} for f, label, o, n in row.changes
            ],
            "note": row.event.note,
        }
        for row in rows
    ]


def _page(page: Page, results: list, **extra) -> dict:
    return {
        "count": page.paginator.count,
        "page": page.number,
        "pages": page.paginator.num_pages,
        "results": results,
        **extra,
    }


def _register_viewer(request) -> None:
    if not request.user.has_perm(VIEW_REGISTER):
        raise ApiError(404, "Not found.", "not_found")


@router.get(
    "/residents",
    response=ResidentPageOut,
    summary="Search residents by name or tag, masked, 50 a page (numbers: use POST …/search)",
)
@sensitive_variables()
def resident_list(request, query: Query[ResidentQuery]):
    _register_viewer(request)
    if selectors.classify_query(query.q)[0] in (selectors.LOOKUP_ID, selectors.LOOKUP_PHONE):
        # A number in a URL sits in access logs and proxies: refuse it, as the web page does.
        raise ApiError(
            422,
            "Look up an ID number or phone with POST /api/v1/people/residents/search.",
            "identifier_in_url",
        )
    return _resident_page(request, query)


def _resident_page(request, query: ResidentQuery) -> dict:
    result = selectors.resident_search(viewer=request.user, **query.dict())
    return _page(result.page, [_resident(r) for r in result.page], lookup=result.lookup)


@router.post(
    "/residents/search",
    response=ResidentPageOut,
    summary="The same search with the query in the body (keeps identifiers out of URLs and logs)",
)
@sensitive_variables()
def resident_search(request, payload: ResidentQuery):
    _register_viewer(request)
    return _resident_page(request, payload)


@router.get("/residents/{id}", response=ResidentDetailOut, summary="One resident, masked")
def resident_detail(request, id: int):
    resident = selectors.resident_get(viewer=request.user, pk=id)
    history = selectors.resident_history(viewer=request.user, resident=resident)
    return {
        **_resident(resident),
        "ethnicity": resident.ethnicity,
        "registration": resident.registration,
        "residence": resident.residence,
        "relation": resident.relation,
        "events": _events(history),
    }


@router.post(
    "/residents/{id}/reveal",
    response=RevealOut,
    summary="Reveal one identifier with a reason (audited; needs the reveal permission)",
)
@sensitive_variables()
def resident_reveal(request, id: int, payload: RevealIn):
    resident = selectors.resident_get(viewer=request.user, pk=id)
    if not request.user.has_perm(REVEAL_PII, resident):
        raise ApiError(403, "You may not reveal identifiers.", "forbidden")
    if payload.field not in services.PII_FIELDS:
        raise ApiError(422, "field must be 'id' or 'phone'.", "invalid")
    try:
        value = services.pii_reveal(
            actor=request.user, obj=resident, field=payload.field, reason=payload.reason
        )
    except PermissionDenied:
        raise ApiError(403, "You may not reveal identifiers.", "forbidden") from None
    except ValidationError as error:
        raise ApiError(422, " ".join(str(m) for m in error.messages), "invalid") from None
    return {"field": payload.field, "value": value}


@router.get(
    "/households/{id}", response=HouseholdOut, summary="A household, its members and owners"
)
def household_detail(request, id: int):
    detail = selectors.household_detail(viewer=request.user, pk=id)
    household = detail.household
    return {
        "id": household.pk,
        "place_id": household.place_id,
        "address": detail.address,
        "household_type": household.household_type,
        "tenure": household.tenure,
        "effective_area": detail.area.area if detail.area else None,
        "area_source": detail.area.source if detail.area else "",
        "members": [_resident(r) for r in detail.members],
        "owners": [
            {
                "name": o.owner_name,
                "kind": o.ownership.owner.kind,
                "share": o.share,
                "id_number_masked": o.id_masked,
                "phone_masked": o.phone_masked,
                "since": o.since,
                "until": o.until,
            }
            for o in detail.owners
        ],
        "events": _events(detail.history),
    }


@router.get(
    "/organisations",
    response=OrganisationPageOut,
    summary="The organisation directory, contact phones masked, 50 a page",
)
def organisation_list(request, query: Query[OrganisationQuery]):
    _register_viewer(request)
    page = selectors.organisation_directory(viewer=request.user, kind=query.kind, page=query.page)
    return _page(
        page,
        [
            {
                "id": o.pk,
                "committee_id": o.committee_id,
                "kind": o.kind,
                "social_org_kind": o.social_org_kind,
                "name": o.name,
                "office_phone": o.office_phone,
                "area_ids": [a.pk for a in o.areas.all()],
                "contacts": [
                    {"id": c.pk, "name": c.name, "title": c.title, "phone_masked": c.phone_masked}
                    for c in o.contacts.all()
                ],
            }
            for o in page
        ],
    )


def _counts(bars) -> list[dict]:
    return [{"key": b.key, "label": b.label, "count": b.count} for b in bars]


@router.get(
    "/places/{place_id}/profile",
    response=ProfileOut,
    summary="Community profile of a place: counts by age band, status, tag, owners",
)
def place_profile(request, place_id: int):
    place = selectors.register_place_get(viewer=request.user, pk=place_id)
    profile = selectors.community_profile(viewer=request.user, place=place)
    return {
        "place_id": place.pk,
        "place_name": place.name,
        "households": profile.households,
        "residents": profile.residents,
        "age_bands": _counts(profile.age_bands),
        "registration": _counts(profile.registration),
        "residence": _counts(profile.residence),
        "tags": _counts(profile.tags),
        "owners": profile.owners,
        "owned_area": profile.owned_area,
        "organisations": _counts(profile.organisations),
    }
