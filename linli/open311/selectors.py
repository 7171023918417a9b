"""What Open311 publishes: jurisdictions (streets), services (public categories), requests
(problem orders of public categories) and their updates (the transition log), without anything
personal: no reporter, no account, no free-text address, no photo, no staff reason.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.open311.render import Open311Error, clean_text, parse_w3c, w3c
from linli.people.pii import cell_echo
from linli.places.choices import PlaceKind
from linli.places.models import Place
from linli.workorders.choices import (
    CLOSED_STATES,
    CategoryKind,
    Kind,
    RejectReason,
    Source,
    State,
)
from linli.workorders.models import Category, Transition, WorkOrder

MAX_DAYS = 90
MAX_ROWS = 1000
MAX_PAGE = 100_000
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# Sortable "last changed" of this implementation (discovery's changeset).
CHANGESET = "2026-03-01T00:00:00+08:00"

NOT_A_NUMBER = _("%(name)s must be a whole number from 1 to %(max)d.")
DATES_OUT_OF_RANGE = _("The dates are out of range.")
END_BEFORE_START = _("end_date is before start_date.")
SPAN_TOO_LONG = _("start_date and end_date may span at most 90 days.")
JURISDICTION_NOT_FOUND = _("jurisdiction_id not found.")
NO_JURISDICTION = _("This server serves no jurisdiction yet.")
JURISDICTION_REQUIRED = _("jurisdiction_id is required: this server serves several.")
SERVICE_NOT_FOUND = _("service_code not found.")
BAD_IDS = _("service_request_id must be up to 1000 numbers separated by commas.")
BAD_STATUS = _("status must be open, closed or both, separated by a comma.")
REQUEST_NOT_FOUND = _("service_request_id not found.")
DISPATCHED_TO = _("Dispatched to %(department)s.")

S = State
# The FixMyStreet extended status set for our finer states.
STATE_STATUS = {
    S.REPORTED: "OPEN",
    S.RC_HANDLING: "IN_PROGRESS",
    S.VERIFYING: "INVESTIGATING",
    S.ACCEPTED: "INVESTIGATING",
    S.SELF_RESOLVED: "IN_PROGRESS",
    S.REGISTERED: "ACTION_SCHEDULED",
    S.DISPATCHED: "ACTION_SCHEDULED",
    S.IN_PROGRESS: "IN_PROGRESS",
    S.RETURN_REQUESTED: "IN_PROGRESS",
    S.EXTENSION_REQUESTED: "IN_PROGRESS",
    S.SUSPENSION_REQUESTED: "IN_PROGRESS",
    S.SUSPENDED: "ACTION_SCHEDULED",
    S.FEEDBACK: "IN_PROGRESS",
    S.CHECKING: "INVESTIGATING",
    S.CLOSED: "FIXED",
    S.RATED: "FIXED",
    S.ARCHIVED: "CLOSED",
}
REJECT_STATUS = {
    RejectReason.DUPLICATE: "DUPLICATE",
    RejectReason.OUT_OF_SCOPE: "NOT_COUNCILS_RESPONSIBILITY",
    RejectReason.UNTRUE: "NO_FURTHER_ACTION",
}
ACTION_STATUS = {"reopen": "REOPEN", "approve_return": "INTERNAL_REFERRAL"}
# Steps the public learns nothing from: the rating is the reporter's own, archiving is filing.
_UNPUBLISHED_ACTIONS = ("rate", "archive")


# --- parameters ---------------------------------------------------------------------------------


def _number(text: str) -> bool:
    """ASCII digits that fit a database integer (str.isdigit alone accepts "²" and "٣")."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def param(data, name: str) -> str:
    """An optional parameter; sent empty it is as if not sent."""
    value = data.get(name)
    return clean_text(value).strip() if isinstance(value, str) else ""


def _int_param(data, name: str, default: int, maximum: int) -> int:
    text = param(data, name)
    if not text:
        return default
    if not _number(text) or not 1 <= int(text) <= maximum:
        raise Open311Error(400, NOT_A_NUMBER % {"name": name, "max": maximum})
    return int(text)


def page_slice(data) -> slice:
    """The paging extension (page, page_size); by default the first 1000."""
    size = _int_param(data, "page_size", MAX_ROWS, MAX_ROWS)
    page = _int_param(data, "page", 1, MAX_PAGE)
    return slice((page - 1) * size, page * size)


def date_range(data, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """start_date/end_date spanning at most 90 days; by default the last 90 days."""
    now = now or timezone.now()
    start_text, end_text = param(data, "start_date"), param(data, "end_date")
    start = parse_w3c(start_text, "start_date") if start_text else None
    end = parse_w3c(end_text, "end_date") if end_text else None
    span = dt.timedelta(days=MAX_DAYS)
    try:
        if start is None and end is None:
            end = now
        if start is None:
            start = end - span
        elif end is None:
            end = start + span
    except OverflowError:
        raise Open311Error(400, DATES_OUT_OF_RANGE) from None
    if end < start:
        raise Open311Error(400, END_BEFORE_START)
    if end - start > span:
        raise Open311Error(400, SPAN_TOO_LONG)
    return start, end


# --- jurisdictions ------------------------------------------------------------------------------


def jurisdiction_id(street: Place) -> str:
    return street.code or str(street.pk)


def jurisdiction_get(data, *, required: bool = True) -> Place | None:
    """The street named by jurisdiction_id; optional while the platform serves one street."""
    value = param(data, "jurisdiction_id")
    streets = Place.objects.filter(kind=PlaceKind.STREET).only("id", "code", "name", "path")
    if value:
        match = Q(code=value)
        if _number(value):
            match |= Q(code="", pk=int(value))
        street = streets.filter(match).first()
        if street is None:
            raise Open311Error(404, JURISDICTION_NOT_FOUND)
        return street
    if not required:
        return None
    found = list(streets[:2])
    if len(found) == 1:
        return found[0]
    if not found:
        raise Open311Error(404, NO_JURISDICTION)
    raise Open311Error(400, JURISDICTION_REQUIRED)


# --- services -----------------------------------------------------------------------------------


def services_public() -> QuerySet[Category]:
    return Category.objects.filter(public=True, active=True)


def service_get(code: str) -> Category:
    category = services_public().filter(service_code=clean_text(code)[:16]).first()
    if category is None:
        raise Open311Error(404, SERVICE_NOT_FOUND)
    return category


def service_row(category: Category) -> dict:
    return {
        "service_code": category.service_code,
        "service_name": category.name,
        "description": category.description or category.name,
        "metadata": False,
        "type": "realtime",
        "keywords": ",".join(
            k for k in (str(CategoryKind(category.kind).label), category.major_name) if k
        ),
        "group": category.major_name,
    }


def service_definition(category: Category) -> dict:
    # No category asks for extra attributes (yet); the definition says so rather than 404.
    return {"service_code": category.service_code, "attributes": []}


# --- requests -----------------------------------------------------------------------------------


def requests_public(street: Place) -> QuerySet[WorkOrder]:
    """Problem orders of public categories in a street. Never errands (they concern one person)
    nor the committee's own matters (neighbour disputes, noise between flats: residents' private
    affairs)."""
    return WorkOrder.objects.filter(
        street=street, kind=Kind.PROBLEM, category__public=True, category__self_governable=False
    )


def _ids(text: str) -> list[int]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) > MAX_ROWS or not all(_number(p) for p in parts):
        raise Open311Error(400, BAD_IDS)
    return [int(p) for p in parts]


def requests_filter(street: Place, data) -> QuerySet[WorkOrder]:
    """GET requests: service_request_id overrides every other filter."""
    orders = requests_public(street)
    ids = param(data, "service_request_id")
    if ids:
        return orders.filter(pk__in=_ids(ids)).order_by("-created_at", "-id")[:MAX_ROWS]
    codes = [c.strip() for c in param(data, "service_code").split(",") if c.strip()]
    if codes:
        orders = orders.filter(category__service_code__in=codes[:MAX_ROWS])
    statuses = {s.strip() for s in param(data, "status").split(",") if s.strip()}
    if statuses - {"open", "closed"}:
        raise Open311Error(400, BAD_STATUS)
    if statuses == {"open"}:
        orders = orders.exclude(state__in=CLOSED_STATES)
    elif statuses == {"closed"}:
        orders = orders.filter(state__in=CLOSED_STATES)
    start, end = date_range(data)
    orders = orders.filter(created_at__gte=start, created_at__lte=end)
    return orders.order_by("-created_at", "-id")[page_slice(data)]


@dataclass
class _Context:
    places: dict[int, Place]
    reject_reasons: dict[int, str]


def _context(orders: list[WorkOrder]) -> _Context:
    """Everything the rows need beyond the orders, in two queries."""
    ids = set()
    for order in orders:
        ids.update(order.place.ancestor_ids())
    places = {p.pk: p for p in Place.objects.filter(pk__in=ids).only("id", "name")} if ids else {}
    rejected = [o.pk for o in orders if o.state == State.REJECTED or o.duplicate_of_id]
    reasons = {}
    if rejected:
        for order_id, data in Transition.objects.filter(
            order_id__in=rejected, action="reject"
        ).values_list("order_id", "data"):
            reasons[order_id] = (data or {}).get("reject_reason", "")
    return _Context(places, reasons)


def _address(order: WorkOrder, context: _Context) -> str:
    """The place and the places above it, most specific first (never a flat or a building:
    orders are located at a compound at most)."""
    chain = [order.place.name]
    for pk in reversed(order.place.ancestor_ids()):
        place = context.places.get(pk)
        if place is not None:
            chain.append(place.name)
    return ", ".join(chain)


def _status_notes(order: WorkOrder, context: _Context) -> str:
    reason = context.reject_reasons.get(order.pk)
    if order.state == State.REJECTED and reason in RejectReason.values:
        return str(RejectReason(reason).label)
    return str(State(order.state).label)


# Texts written by staff on patrol or by the committee may be published; what residents, callers
# and other systems wrote may name people, flats and phones, so only its category is.
_STAFF_SOURCES = frozenset({Source.PATROL, Source.COMMITTEE, Source.DISTRICT})


def _public_description(order: WorkOrder) -> str:
    if order.source in _STAFF_SOURCES:
        return cell_echo(order.description, limit=4000)
    return order.category.name


def request_rows(orders) -> list[dict]:
    orders = list(orders)
    context = _context(orders)
    rows = []
    for order in orders:
        closed = order.state in CLOSED_STATES
        # The compound's point, never the reporter's own (often their doorstep).
        lat, lng = order.place.lat, order.place.lng
        rows.append(
            {
                "service_request_id": str(order.pk),
                "status": "closed" if closed else "open",
                "status_notes": _status_notes(order, context),
                "service_name": order.category.name,
                "service_code": order.category.service_code,
                "description": _public_description(order),
                "agency_responsible": order.department.name if order.department else None,
                "service_notice": order.category.close_condition or None,
                "requested_datetime": w3c(order.created_at),
                "updated_datetime": w3c(
                    (order.closed_at or order.updated_at) if closed else order.updated_at
                ),
                "expected_datetime": None if closed else w3c(order.handle_due_at),
                "address": _address(order, context),
                "lat": float(lat) if lat is not None else None,
                "long": float(lng) if lng is not None else None,
            }
        )
    return rows


def requests_rows(orders: QuerySet[WorkOrder]) -> list[dict]:
    return request_rows(orders.select_related("category", "department", "place"))


def request_get(street: Place, pk: str) -> WorkOrder:
    orders = requests_public(street).select_related("category", "department", "place")
    order = orders.filter(pk=int(pk)).first() if _number(pk) else None
    if order is None:
        raise Open311Error(404, REQUEST_NOT_FOUND)
    return order


# --- updates (FixMyStreet extension) ------------------------------------------------------------


def update_status(transition: Transition) -> str:
    if transition.action in ACTION_STATUS:
        return ACTION_STATUS[transition.action]
    if transition.to_state == State.REJECTED:
        return REJECT_STATUS.get((transition.data or {}).get("reject_reason"), "CLOSED")
    return STATE_STATUS.get(transition.to_state, "OPEN")


def _update_description(transition: Transition) -> str:
    """Fixed wording only: staff's free reasons may name people, so they are never published."""
    reason = (transition.data or {}).get("reject_reason")
    if transition.to_state == State.REJECTED and reason in RejectReason.values:
        return str(RejectReason(reason).label)
    if transition.to_state == State.DISPATCHED and transition.department is not None:
        return DISPATCHED_TO % {"department": transition.department.name}
    return str(State(transition.to_state).label)


def updates_filter(street: Place, data) -> QuerySet[Transition]:
    """State changes of public requests in the date range, oldest first."""
    start, end = date_range(data)
    return (
        Transition.objects.filter(
            order__street=street,
            order__kind=Kind.PROBLEM,
            order__category__public=True,
            order__category__self_governable=False,
            at__gte=start,
            at__lte=end,
        )
        .filter(Q(action="report") | ~Q(to_state=F("from_state")))
        .exclude(action__in=_UNPUBLISHED_ACTIONS)
        .select_related("department")
        .order_by("at", "id")[page_slice(data)]
    )


def update_rows(transitions) -> list[dict]:
    return [
        {
            "update_id": str(t.pk),
            "service_request_id": str(t.order_id),
            "status": update_status(t),
            "description": _update_description(t),
            "updated_datetime": w3c(t.at),
        }
        for t in transitions
    ]
