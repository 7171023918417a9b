"""Writes to work orders: intake, every transition of the state machine, timers.

Each transition is one transaction: a compare-and-set on the order's version (of two people
acting at once exactly one wins, the other gets `Conflict`), the order's new state and clocks,
and one append-only `Transition` row carrying the facts metrics need (which phase ended, its
deadline, whether it was late). Metrics read only those rows.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.crypto import encrypt
from linli.core.photos import looks_like_image, photo_scrub
from linli.people.pii import InvalidIdentifier, mask_phone, normalize_phone
from linli.places.choices import PlaceKind
from linli.places.models import Department, Place
from linli.workorders import calendar, perms
from linli.workorders.choices import (
    CLOSED_STATES,
    Kind,
    Level,
    LimitUnit,
    Phase,
    Rating,
    RejectReason,
    Source,
    State,
    Urgency,
)
from linli.workorders.machine import ACTIONS, STATE_PHASE, Action
from linli.workorders.models import (
    Attachment,
    Category,
    ServiceItem,
    Summons,
    TimeLimit,
    Transition,
    WorkOrder,
)
from linli.workorders.notify import reporters_tell

MAX_DESCRIPTION = 4000
MAX_PHOTOS = 6
MAX_PHOTO_BYTES = 8 * 1024 * 1024
PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp"}

CONFLICT = _("Someone else acted on this order first; it is now “%(state)s”. Reload to see it.")
NOT_FROM_STATE = _("“%(action)s” is not possible while the order is “%(state)s”.")
REASON_REQUIRED = _("Say why (at least 2 characters).")
PHOTO_REQUIRED = _("Add at least one photo.")
TOO_MANY_PHOTOS = _("At most %(n)d photos.")
PHOTO_TOO_BIG = _("A photo may be at most 8 MB.")
PHOTO_TYPE = _("Photos must be JPEG, PNG or WebP pictures.")
DESCRIPTION_REQUIRED = _("Describe the problem.")
DESCRIPTION_TOO_LONG = _("At most 4,000 characters.")
CATEGORY_REQUIRED = _("Choose a category.")
PLACE_REQUIRED = _("Give the place: a point on the map, an address or a compound.")
PLACE_OUTSIDE = _("This place is not in a street the platform serves.")
NOT_SELF_GOVERNABLE = _("This category is not one the committee settles itself.")
GRID_WORKER_REQUIRED = _("Choose the grid worker who will go.")
NOT_ASSIGNED = _("Only the grid worker sent on this task can record it.")
DEPARTMENT_REQUIRED = _("Choose the lead department.")
DEPARTMENT_ELSEWHERE = _("This department does not serve the order's street.")
NOT_YOUR_DEPARTMENT = _("This order is addressed to another department.")
RETURN_TOO_LATE = _(
    "A return must be asked before %(deadline)s: the sign-for deadline plus %(hours)d working "
    "hours."
)
HOURS_REQUIRED = _("Give the extra working hours (1–%(max)d).")
EXTENSION_TOO_LATE = _("An extension must be asked before the deadline.")
EXTENSION_HEAD_ONLY = _("Only the department's head may ask for more time.")
REVIEW_DATE_REQUIRED = _("Give the date on which the suspension is reviewed.")
REVIEW_DATE_PAST = _("The review date must be in the future.")
CHECK_NOT_PASSED = _("The check has not passed; send it back for rework instead.")
CHECK_NOT_FAILED = _("Only an order whose check failed goes back for rework.")
CHECK_PENDING = _("The grid worker has not recorded the check yet.")
RATING_REQUIRED = _("Choose a rating from 1 to 5.")
ONLY_REPORTER = _("Only the person who reported it can rate it.")
REOPEN_ONLY_DISSATISFIED = _("Only an order rated dissatisfied is handled again.")
SUMMONS_NOT_WARRANTED = _(
    "A summons is for cases with several departments, overdue, returned twice or reopened; "
    "this one is none of these."
)
SUMMONS_PENDING = _("There is no summons request to decide.")
REJECT_REASON_REQUIRED = _("Choose why it is not accepted.")
DUPLICATE_REQUIRED = _("Choose the order this one duplicates.")
DUPLICATE_SELF = _("An order cannot duplicate itself.")
ALREADY_ESCALATED = _("This order is already with the district.")
SERVICE_ITEM_REQUIRED = _("Choose the service item.")
BENEFICIARY_REQUIRED = _("Say for whom the errand is run.")
RATING_TOO_LATE = _("An order can be rated within %(days)d days of closing.")
SUMMONS_ALREADY = _("A summons is already requested for this order.")
ARCHIVE_TOO_EARLY = _("A closed order is archived only after its rating window.")
VERIFY_FIRST = _("A report from the public is verified on site before it is registered.")


class Conflict(Exception):
    """The order changed under the actor: another person acted first."""

    def __init__(self, order: WorkOrder):
        self.order = order
        super().__init__(str(CONFLICT % {"state": State(order.state).label}))


# --- clocks -----------------------------------------------------------------------------------


def time_limit(category: Category | None, urgency: str, phase: str) -> tuple[int, str]:
    """(amount, unit) for a phase: the category's own limit, else the default."""
    rows = TimeLimit.objects.filter(
        Q(category=category) | Q(category__isnull=True), urgency=urgency, phase=phase
    ).values_list("category_id", "amount", "unit")
    best = None
    for category_id, amount, unit in rows:
        if best is None or category_id is not None:
            best = (amount, unit)
    return best or (5, LimitUnit.DAYS)


def _start_clock(order: WorkOrder, phase: str, now: dt.datetime, amount=None, unit=None) -> None:
    if amount is None:
        amount, unit = time_limit(order.category, order.urgency, phase)
    due = calendar.add_working_time(now, amount, unit)
    order.phase, order.phase_started_at, order.phase_due_at = phase, now, due
    order.phase_warn_at = calendar.warn_point(now, due)
    order.reminded_at = order.supervised_at = None


def _stop_clock(order: WorkOrder) -> None:
    order.phase, order.phase_started_at, order.phase_warn_at, order.phase_due_at = (
        "",
        None,
        None,
        None,
    )


def _follow_handle_clock(order: WorkOrder) -> None:
    """In a department's hands the clock is the handling deadline, set once at dispatch."""
    if order.phase != Phase.HANDLE or order.phase_due_at != order.handle_due_at:
        order.phase = Phase.HANDLE
        order.phase_started_at = order.dispatched_at
        order.phase_due_at = order.handle_due_at
        order.phase_warn_at = calendar.warn_point(order.dispatched_at, order.handle_due_at)
        order.reminded_at = order.supervised_at = None


def _late(order: WorkOrder, now: dt.datetime) -> dict:
    """The facts about the phase being left, for the log."""
    if not order.phase:
        return {}
    facts = {"phase": order.phase}
    if order.phase_due_at:
        facts["due"] = order.phase_due_at.isoformat()
        facts["late"] = now > order.phase_due_at
    return facts


# --- intake -----------------------------------------------------------------------------------


@dataclass
class Report:
    """What an intake channel knows about a new order."""

    source: str
    description: str
    category: Category | None = None
    place: Place | None = None
    lat: Decimal | None = None
    lng: Decimal | None = None
    address: str = ""
    reporter_name: str = ""
    reporter_phone: str = ""
    external_id: str = ""
    urgency: str = Urgency.NORMAL
    photos: list = field(default_factory=list)
    created_at: dt.datetime | None = None
    kind: str = Kind.PROBLEM
    service_item: ServiceItem | None = None


def _ancestor(place: Place, kind: str) -> Place | None:
    if place.kind == kind:
        return place
    ids = place.ancestor_ids()
    return Place.objects.filter(pk__in=ids, kind=kind).first()


def _problem_place(place: Place) -> Place:
    """A problem is located at a compound at most: never at somebody's flat or building."""
    if place.kind in (PlaceKind.BUILDING, PlaceKind.HOUSEHOLD):
        return _ancestor(place, PlaceKind.COMPOUND) or place
    return place


def photos_clean(photos) -> list:
    errors = []
    if len(photos) > MAX_PHOTOS:
        errors.append(TOO_MANY_PHOTOS % {"n": MAX_PHOTOS})
    for photo in photos:
        if getattr(photo, "size", 0) > MAX_PHOTO_BYTES:
            errors.append(PHOTO_TOO_BIG)
        if getattr(photo, "content_type", "") not in PHOTO_TYPES or not looks_like_image(photo):
            errors.append(PHOTO_TYPE)
    if errors:
        raise ValidationError({"photos": sorted(set(map(str, errors)))})
    return list(photos)


def report_clean(report: Report) -> dict:
    """Validate a report; returns the resolved places. Raises ValidationError with every problem."""
    from linli.workorders import selectors

    errors: dict[str, list] = {}
    description = (report.description or "").strip()
    if not description:
        errors["description"] = [DESCRIPTION_REQUIRED]
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = [DESCRIPTION_TOO_LONG]
    if report.kind == Kind.PROBLEM and report.category is None:
        errors["category"] = [CATEGORY_REQUIRED]
    if report.kind == Kind.ERRAND and report.service_item is None:
        errors["service_item"] = [SERVICE_ITEM_REQUIRED]
    place = report.place
    if place is None and report.lat is not None and report.lng is not None:
        place = selectors.place_near(report.lat, report.lng)
        if place is None:
            errors["place"] = [PLACE_OUTSIDE]
    if place is None and "place" not in errors:
        errors["place"] = [PLACE_REQUIRED]
    street = None
    if place is not None:
        place = _problem_place(place)
        street = _ancestor(place, PlaceKind.STREET)
        if street is None:
            errors["place"] = [PLACE_OUTSIDE]
    phone = ""
    if report.reporter_phone:
        try:
            phone = normalize_phone(report.reporter_phone)
        except InvalidIdentifier as exc:
            errors["reporter_phone"] = [exc.message]
    try:
        photos_clean(report.photos)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return {"description": description, "place": place, "street": street, "phone": phone}


@transaction.atomic
def order_report(*, actor, report: Report) -> WorkOrder:
    """T1: a new order from any channel. `actor` None is a system channel (import, Open311)."""
    from linli.workorders import selectors

    intake = (perms.REPORT, perms.PATROL, perms.HANDLE_COMMITTEE)
    if report.source == Source.HOTLINE:  # the street centre enters 12345 orders
        intake = (perms.DISPATCH,)
    if actor is not None and not any(actor.has_perm(p) for p in intake):
        raise PermissionDenied
    clean = report_clean(report)
    place, street = clean["place"], clean["street"]
    now = report.created_at or timezone.now()
    committee = _ancestor(place, PlaceKind.COMMITTEE)
    category = report.category
    to_committee = report.kind == Kind.ERRAND or (
        committee is not None
        and report.source in (Source.RESIDENT, Source.PROPERTY, Source.COMMITTEE)
        and category is not None
        and category.self_governable
    )
    order = WorkOrder(
        kind=report.kind,
        source=report.source,
        level=Level.COMMITTEE if to_committee else Level.STREET,
        state=State.RC_HANDLING if report.kind == Kind.ERRAND else State.REPORTED,
        category=category,
        service_item=report.service_item,
        description=clean["description"],
        address=report.address[:200],
        lat=report.lat,
        lng=report.lng,
        place=place,
        path=place.path,
        street=street,
        grid=selectors.grid_of(place),
        reporter=actor if report.source in (Source.RESIDENT, Source.PROPERTY) else None,
        reporter_name=report.reporter_name[:64],
        external_id=report.external_id[:64],
        urgency=report.urgency,
        created_at=now,
        updated_at=now,
    )
    if clean["phone"]:
        order.reporter_phone_cipher = encrypt(clean["phone"])
        order.reporter_phone_masked = mask_phone(clean["phone"])
    if order.state == State.RC_HANDLING:
        limit = (
            (report.service_item.limit_days, LimitUnit.DAYS)
            if report.service_item
            else (None, None)
        )
        _start_clock(order, Phase.COMMITTEE, now, *limit)
    else:
        _start_clock(order, Phase.REGISTER, now)
    order.save()
    step = _log(
        order, actor=actor, action="report", from_state="", now=now, data={"source": report.source}
    )
    _attach(order, step, report.photos, actor)
    return order


@transaction.atomic
def errand_create(
    *, actor, service_item: ServiceItem, beneficiary, description: str, when=None
) -> WorkOrder:
    """一代理: the committee takes on a government service for a resident who cannot go.

    A committee-level order from the start (RC_HANDLING) with the item's own time limit; it is
    closed with the result (rc_close) and rated like any other order, by the resident's own
    account or by a worker on the phone."""
    if beneficiary is None:
        raise ValidationError({"beneficiary": [BENEFICIARY_REQUIRED]})
    if not actor.has_perm(perms.HANDLE_COMMITTEE, beneficiary.path):
        raise PermissionDenied
    household_place = beneficiary.household.place
    order = order_report(
        actor=actor,
        report=Report(
            source=Source.COMMITTEE,
            kind=Kind.ERRAND,
            service_item=service_item,
            description=description,
            place=household_place,
            created_at=when,
        ),
    )
    order.beneficiary = beneficiary
    order.save(update_fields=["beneficiary"])
    return order


def _attach(order, step, photos, actor) -> None:
    for photo in photos:
        clean, content_type = photo_scrub(photo)
        Attachment.objects.create(
            order=order,
            transition=step,
            file=clean,
            content_type=content_type,
            uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        )


def _private(order) -> bool:
    return order.source in (Source.RESIDENT, Source.PROPERTY)


def _log(order, *, actor, action, from_state, now, reason="", data=None, department=None, role=""):
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    return Transition.objects.create(
        order=order,
        action=action,
        from_state=from_state,
        to_state=order.state,
        level=order.level,
        actor=actor if authenticated else None,
        # A resident reporter stays private in the log: the reporter is the order's own field.
        actor_name=(
            actor.get_username()
            if authenticated and not (actor.pk == order.reporter_id and _private(order))
            else ""
        ),
        role=role or (actor.audit_role(order.place) if authenticated else "system"),
        department=department,
        at=now,
        reason=reason,
        data=data or {},
    )


# --- transitions ------------------------------------------------------------------------------


def photos_required(action: Action, order: WorkOrder) -> bool:
    """Whether this action on this order must carry a photo (T3, T6, T8, T15, T15b); an errand
    is closed with its result alone: there is no site to photograph."""
    return action.needs_photo and not (action.code == "rc_close" and order.kind == Kind.ERRAND)


def can_act(actor, order: WorkOrder, action: Action) -> bool:
    """Permission (not the data guards): the role, at the order's place, for its level."""
    if actor is None:
        return True
    if action.code == "rate":
        # The reporter, or staff recording a rating given on the phone (回访).
        if order.reporter_id is not None:
            return order.reporter_id == actor.pk or actor.has_perm(perms.DISPATCH, order)
        return actor.has_perm(perms.DISPATCH, order) or actor.has_perm(
            perms.HANDLE_COMMITTEE, order
        )
    if action.department_only:
        from linli.workorders.selectors import department_ids

        return order.department_id in department_ids(actor, action.perm)
    perm = action.perm
    if order.escalated and perm in (perms.DISPATCH, perms.SUPERVISE):
        return actor.has_perm(perms.DISTRICT_DISPATCH, order)
    if action.code == "escalate_district" and actor.has_perm(perms.DISTRICT_DISPATCH, order):
        return True  # T18: the district platform may also take an order over itself
    if perm == perms.PATROL and action.code in ("verify", "check"):
        return order.assignee_id == actor.pk
    return actor.has_perm(perm, order)


def denied_reason(actor, order: WorkOrder, action: Action) -> str:
    """Why `actor` may not take `action` on `order`, when a message helps them (else "")."""
    if action.code != "request_extension" or actor is None:
        return ""
    from linli.workorders.selectors import department_ids

    # A handler of the lead department: the extension is its head's to ask (T13, DM).
    if order.department_id in department_ids(actor):
        return str(EXTENSION_HEAD_ONLY)
    return ""


@transaction.atomic
def order_act(
    *,
    actor,
    order: WorkOrder,
    action: str,
    reason: str = "",
    photos=(),
    now: dt.datetime | None = None,
    **params,
) -> WorkOrder:
    """Run one action of the state machine on an order; see machine.ACTIONS.

    `params` by action: assignee (send_verify, send_check), urgency (register), department and
    co_departments (dispatch, decide_summons), hours (request_extension), review_on
    (request_suspension), passed (check), rating and comment (rate), reject_reason and
    duplicate_of (reject), meets_at/venue/departments (request_summons).
    """
    spec = ACTIONS[action]
    now = now or timezone.now()
    if order.state not in spec.sources:
        raise ValidationError(
            NOT_FROM_STATE % {"action": spec.label, "state": State(order.state).label}
        )
    if not can_act(actor, order, spec):
        denied = denied_reason(actor, order, spec)
        raise PermissionDenied(denied) if denied else PermissionDenied
    reason = (reason or "").strip()
    errors = {}
    if spec.needs_reason and len(reason) < 2:
        errors["reason"] = [REASON_REQUIRED]
    if not photos and photos_required(spec, order):
        errors["photos"] = [PHOTO_REQUIRED]
    if photos:
        try:
            photos_clean(photos)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    before = order.state
    facts = _late(order, now)
    department = None
    effect = _EFFECTS.get(action)
    data = {}
    if effect is not None:
        data = effect(order, actor=actor, now=now, reason=reason, **params) or {}
        department = data.pop("_department", None)
    if spec.target is not None and order.state == before:  # an effect may choose (reopen)
        order.state = spec.target
    _after_state(order, before, now)
    order.updated_at = now
    version = order.version
    won = WorkOrder.objects.filter(pk=order.pk, version=version, state=before).update(
        version=F("version") + 1
    )
    if not won:
        raise Conflict(WorkOrder.objects.get(pk=order.pk))
    order.version = version + 1
    order.save()
    if "co_departments" in data:
        order.co_departments.set(data["co_departments"])
        data["co_departments"] = [d.pk for d in data["co_departments"]]
    step = _log(
        order,
        actor=actor,
        action=action,
        from_state=before,
        now=now,
        reason=reason,
        data={**facts, **data},
        department=department,
    )
    _attach(order, step, photos, actor)
    reporters_tell(order, action=action, before=before, reason=reason, data=data)
    return order


def _after_state(order: WorkOrder, before: str, now) -> None:
    """Start, keep or stop the clock for the order's new state."""
    state = order.state
    if state in CLOSED_STATES or state == State.SUSPENDED:
        _stop_clock(order)
        if state == State.CLOSED and order.closed_at is None:
            order.closed_at = now
        return
    phase = STATE_PHASE.get(state)
    if phase == Phase.HANDLE:
        _follow_handle_clock(order)
    elif phase and (state != before or not order.phase):
        if phase == Phase.COMMITTEE and order.service_item_id:
            _start_clock(order, phase, now, order.service_item.limit_days, LimitUnit.DAYS)
        else:
            _start_clock(order, phase, now)


def _grid_worker(order, assignee):
    if assignee is None or not assignee.has_perm(perms.PATROL, order):
        raise ValidationError({"assignee": [GRID_WORKER_REQUIRED]})
    order.assignee = assignee
    return {"assignee": assignee.pk}


def _department(order, department, field="department"):
    if department is None:
        raise ValidationError({field: [DEPARTMENT_REQUIRED]})
    area = department.area
    if not (order.path.startswith(area.path) or area.path.startswith(order.street.path)):
        raise ValidationError({field: [DEPARTMENT_ELSEWHERE]})
    return department


def _e_self_handle(order, **_):
    if order.category is None or not order.category.self_governable:
        raise ValidationError(NOT_SELF_GOVERNABLE)
    order.level = Level.COMMITTEE


def _e_rc_close(order, reason, **_):
    order.result = reason


def _e_escalate(order, **_):
    order.level = Level.STREET


def _e_send_verify(order, assignee=None, **_):
    return _grid_worker(order, assignee)


def _e_reject(order, reject_reason="", duplicate_of=None, **_):
    if reject_reason not in RejectReason.values:
        raise ValidationError({"reject_reason": [REJECT_REASON_REQUIRED]})
    if reject_reason == RejectReason.DUPLICATE:
        if duplicate_of is None:
            raise ValidationError({"duplicate_of": [DUPLICATE_REQUIRED]})
        if duplicate_of.pk == order.pk:
            raise ValidationError({"duplicate_of": [DUPLICATE_SELF]})
        order.duplicate_of = duplicate_of
        return {"reject_reason": reject_reason, "duplicate_of": duplicate_of.pk}
    return {"reject_reason": reject_reason}


def _e_self_resolve(order, actor=None, **_):
    order.assignee = actor


# Reports from the public are verified on site before registration (T5); a grid worker's own
# report, the committee's and the district's are not.
_VERIFIED_SOURCES = frozenset({Source.PATROL, Source.COMMITTEE, Source.DISTRICT})


def _e_register(order, urgency=None, now=None, **_):
    if order.state == State.REPORTED and order.source not in _VERIFIED_SOURCES:
        raise ValidationError(VERIFY_FIRST)
    if urgency is not None:
        if urgency not in Urgency.values:
            raise ValidationError({"urgency": [_("Choose one of the listed values.")]})
        order.urgency = urgency
    order.registered_at = now
    return {"urgency": order.urgency}


def _e_dispatch(order, department=None, co_departments=(), now=None, **_):
    department = _department(order, department)
    co = [_department(order, d, "co_departments") for d in co_departments if d != department]
    order.department = department
    order.dispatched_at = now
    amount, unit = time_limit(order.category, order.urgency, Phase.HANDLE)
    order.handle_due_at = calendar.add_working_time(now, amount, unit)
    order.check_passed = None
    return {
        "_department": department,
        "co_departments": co,
        "handle_due": order.handle_due_at.isoformat(),
    }


def _e_sign_for(order, **_):
    return {"_department": order.department}


def sign_due(order: WorkOrder) -> dt.datetime | None:
    """The sign-for (签收) deadline of the order's current dispatch (T10/T17), None if it is not
    dispatched: the running clock while it waits to be signed for, afterwards the deadline the
    log recorded when it left DISPATCHED (the facts of the phase it ended). Recomputed from the
    time limit only for an order whose log lacks it."""
    if order.dispatched_at is None:
        return None
    if order.state == State.DISPATCHED and order.phase == Phase.SIGN and order.phase_due_at:
        return order.phase_due_at
    steps = (
        order.transitions.filter(at__gte=order.dispatched_at)
        .order_by("-at", "-id")
        .values_list("action", "from_state", "data")
    )
    due = None
    for action, from_state, data in steps:  # newest first, back to the dispatch
        if action in ("dispatch", "decide_summons"):
            break
        data = data or {}
        if from_state == State.DISPATCHED and data.get("phase") == Phase.SIGN and data.get("due"):
            due = data["due"]
    if due:
        return dt.datetime.fromisoformat(due)
    amount, unit = time_limit(order.category, order.urgency, Phase.SIGN)
    return calendar.add_working_time(order.dispatched_at, amount, unit)


def return_due(order: WorkOrder) -> dt.datetime | None:
    """WORKORDERS.md §5.2 T12: a department may return an order only before the sign-for
    deadline plus `LINLI_RETURN_GRACE_HOURS` working hours."""
    due = sign_due(order)
    if due is None:
        return None
    return calendar.add_working_time(due, settings.LINLI_RETURN_GRACE_HOURS, LimitUnit.HOURS)


def _e_request_return(order, now=None, **_):
    limit = return_due(order)
    if limit is not None and now >= limit:
        raise ValidationError(
            RETURN_TOO_LATE
            % {
                "deadline": timezone.localtime(limit).strftime("%Y-%m-%d %H:%M"),
                "hours": settings.LINLI_RETURN_GRACE_HOURS,
            }
        )
    order.pending = {"kind": "return", "state": order.state}
    return {"_department": order.department}


def _e_approve_return(order, **_):
    returned = order.department
    order.return_count += 1
    order.department = None
    order.handle_due_at = None
    order.dispatched_at = None
    order.pending = {}
    order.co_departments.clear()
    return {"_department": returned}


def _e_refuse(order, **_):
    order.pending = {}
    return {"_department": order.department}


def _e_request_extension(order, hours=None, now=None, **_):
    limit = settings.LINLI_EXTENSION_MAX_HOURS
    try:
        hours = int(hours)
    except (TypeError, ValueError):
        hours = 0
    if not 1 <= hours <= limit:
        raise ValidationError({"hours": [HOURS_REQUIRED % {"max": limit}]})
    if order.handle_due_at and now >= order.handle_due_at:
        raise ValidationError(EXTENSION_TOO_LATE)
    order.pending = {"kind": "extension", "hours": hours}
    return {"_department": order.department, "hours": hours}


def _e_approve_extension(order, **_):
    hours = int(order.pending.get("hours", 0))
    old = order.handle_due_at
    order.handle_due_at = calendar.add_working_time(old, hours, LimitUnit.HOURS)
    order.extension_hours += hours
    order.pending = {}
    return {
        "_department": order.department,
        "hours": hours,
        "handle_due": order.handle_due_at.isoformat(),
    }


def _e_request_suspension(order, review_on=None, now=None, **_):
    if not isinstance(review_on, dt.date):
        raise ValidationError({"review_on": [REVIEW_DATE_REQUIRED]})
    if review_on <= timezone.localtime(now).date():
        raise ValidationError({"review_on": [REVIEW_DATE_PAST]})
    order.pending = {"kind": "suspension", "review_on": review_on.isoformat()}
    return {"_department": order.department, "review_on": review_on.isoformat()}


def _e_approve_suspension(order, now=None, **_):
    order.review_on = dt.date.fromisoformat(order.pending["review_on"])
    order.pending = {}
    order.handle_left_minutes = (
        calendar.working_minutes_between(now, order.handle_due_at) if order.handle_due_at else None
    )
    return {"_department": order.department, "handle_left_minutes": order.handle_left_minutes}


def _e_resume(order, now=None, **_):
    # The clock resumes with the handling time that was left when the suspension was approved:
    # suspended time never counts, and resuming does not refill the clock or reopen the return
    # window (dispatched_at stays).
    left = order.handle_left_minutes
    if left is None:
        amount, unit = time_limit(order.category, order.urgency, Phase.HANDLE)
        order.handle_due_at = calendar.add_working_time(now, amount, unit)
    else:
        order.handle_due_at = calendar.add_working_time(now, left, LimitUnit.MINUTES)
    order.handle_left_minutes = None
    order.review_on = None
    return {"_department": order.department, "handle_due": order.handle_due_at.isoformat()}


def _e_feedback(order, reason, now=None, **_):
    order.result = reason
    order.check_passed = None
    return {
        "_department": order.department,
        "handle_due": order.handle_due_at.isoformat() if order.handle_due_at else None,
        "handle_late": bool(order.handle_due_at and now > order.handle_due_at),
    }


def _e_send_check(order, assignee=None, **_):
    return _grid_worker(order, assignee)


def _e_check(order, passed=None, **_):
    if passed is None:
        raise ValidationError({"passed": [CHECK_PENDING]})
    order.check_passed = bool(passed)
    return {"passed": order.check_passed}


def _e_close(order, **_):
    if order.check_passed is None:
        raise ValidationError(CHECK_PENDING)
    if not order.check_passed:
        raise ValidationError(CHECK_NOT_PASSED)


def _e_rework(order, **_):
    if order.check_passed is not False:
        raise ValidationError(CHECK_NOT_FAILED)
    order.rework_count += 1
    order.check_passed = None
    order.closed_at = None
    return {"_department": order.department}


def _e_rate(order, actor=None, rating=None, comment="", now=None, **_):
    window = dt.timedelta(days=settings.LINLI_RATING_WINDOW_DAYS)
    if order.closed_at and now > order.closed_at + window:
        raise ValidationError(RATING_TOO_LATE % {"days": settings.LINLI_RATING_WINDOW_DAYS})
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if rating not in Rating.values:
        raise ValidationError({"rating": [RATING_REQUIRED]})
    order.rating = rating
    order.rating_comment = (comment or "")[:500]
    by_phone = actor is not None and actor.pk != order.reporter_id
    return {"rating": rating, "by_phone": by_phone}


def _e_reopen(order, now=None, **_):
    if order.rating is None or order.rating > Rating.DISSATISFIED:
        raise ValidationError(REOPEN_ONLY_DISSATISFIED)
    order.reopen_count += 1
    order.closed_at = None
    order.check_passed = None
    if order.department_id is None:
        # Settled by the committee: back to it; settled on the spot: back to the street.
        order.state = State.RC_HANDLING if order.level == Level.COMMITTEE else State.REPORTED
        order.phase = ""
        return {}
    # Handled again by the same department, with a fresh handling time.
    amount, unit = time_limit(order.category, order.urgency, Phase.HANDLE)
    order.handle_due_at = calendar.add_working_time(now, amount, unit)
    return {"_department": order.department, "handle_due": order.handle_due_at.isoformat()}


# WORKORDERS.md §5.2 T16a/T17: reopened this often, the order is a case for a summons.
SUMMONS_REOPENS = 3


def _summons_warranted(order, now) -> bool:
    return bool(
        order.co_departments.exists()
        or (order.phase_due_at and now > order.phase_due_at)
        or order.reopen_count >= SUMMONS_REOPENS
        # Ours, beyond §5.2: departments passing the order back and forth.
        or order.return_count >= 2
    )


def _e_request_summons(order, actor=None, now=None, reason="", **_):
    if order.summons_requested:
        raise ValidationError(SUMMONS_ALREADY)
    if not _summons_warranted(order, now):
        raise ValidationError(SUMMONS_NOT_WARRANTED)
    Summons.objects.create(order=order, requested_by=actor, requested_at=now, reason=reason)
    order.summons_requested = True
    return {}


def _e_decide_summons(order, department=None, co_departments=(), now=None, reason="", **params):
    summons = order.summonses.filter(decided_at__isnull=True).first()
    if not order.summons_requested or summons is None:
        raise ValidationError(SUMMONS_PENDING)
    data = _e_dispatch(order, department=department, co_departments=co_departments, now=now)
    summons.outcome, summons.decided_at = reason, now
    summons.meets_at = params.get("meets_at") or now
    summons.venue = params.get("venue", "")[:200]
    summons.save()
    summons.departments.set([department, *data["co_departments"]])
    order.summons_requested = False
    order.pending = {}
    order.phase = ""  # a new dispatch: the sign-for clock starts again
    return data


def _e_archive(order, now=None, **_):
    if order.state == State.CLOSED:
        window = dt.timedelta(days=settings.LINLI_RATING_WINDOW_DAYS)
        if order.closed_at and now < order.closed_at + window:
            raise ValidationError(ARCHIVE_TOO_EARLY)
        return {"unrated": True}
    return {}


def _e_escalate_district(order, **_):
    if order.escalated:
        raise ValidationError(ALREADY_ESCALATED)
    order.escalated = True
    order.level = Level.DISTRICT


def _e_supervise(order, now=None, **_):
    order.supervised_at = now


_EFFECTS = {
    "self_handle": _e_self_handle,
    "rc_close": _e_rc_close,
    "escalate": _e_escalate,
    "send_verify": _e_send_verify,
    "reject": _e_reject,
    "self_resolve": _e_self_resolve,
    "register": _e_register,
    "dispatch": _e_dispatch,
    "sign_for": _e_sign_for,
    "request_return": _e_request_return,
    "approve_return": _e_approve_return,
    "refuse_return": _e_refuse,
    "request_extension": _e_request_extension,
    "approve_extension": _e_approve_extension,
    "refuse_extension": _e_refuse,
    "request_suspension": _e_request_suspension,
    "approve_suspension": _e_approve_suspension,
    "refuse_suspension": _e_refuse,
    "resume": _e_resume,
    "feedback": _e_feedback,
    "send_check": _e_send_check,
    "check": _e_check,
    "close": _e_close,
    "rework": _e_rework,
    "rate": _e_rate,
    "reopen": _e_reopen,
    "request_summons": _e_request_summons,
    "decide_summons": _e_decide_summons,
    "escalate_district": _e_escalate_district,
    "archive": _e_archive,
    "supervise": _e_supervise,
}


# --- timers -----------------------------------------------------------------------------------


def orders_tick(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The background timer (run every few minutes): reminders at the yellow light, supervision
    (督办) at the red light, archiving after the rating window. Each writes a log row."""
    now = now or timezone.now()
    counts = {"reminded": 0, "supervised": 0, "archived": 0}
    due_soon = WorkOrder.objects.filter(
        phase_warn_at__lte=now, phase_due_at__gt=now, reminded_at__isnull=True
    ).exclude(state__in=CLOSED_STATES)
    for order in due_soon.iterator():
        counts["reminded"] += _timer(order, now, "remind", reminded_at=now)
    overdue = WorkOrder.objects.filter(phase_due_at__lte=now, supervised_at__isnull=True).exclude(
        state__in=CLOSED_STATES
    )
    for order in overdue.iterator():
        counts["supervised"] += _timer(order, now, "supervise", supervised_at=now)
    window = dt.timedelta(days=settings.LINLI_RATING_WINDOW_DAYS)
    finished = WorkOrder.objects.filter(
        Q(state__in=[State.RATED, State.REJECTED])
        | Q(state=State.CLOSED, closed_at__lte=now - window),
        updated_at__lte=now - window,
    )
    for order in finished.iterator():
        counts["archived"] += _archive(order, now)
    return counts


@transaction.atomic
def _timer(order: WorkOrder, now, action: str, **fields) -> int:
    won = WorkOrder.objects.filter(pk=order.pk, version=order.version).update(
        version=F("version") + 1, **fields
    )
    if won:
        for name, value in fields.items():
            setattr(order, name, value)
        _log(
            order,
            actor=None,
            action=action,
            from_state=order.state,
            now=now,
            data=_late(order, now),
        )
    return won


@transaction.atomic
def _archive(order: WorkOrder, now) -> int:
    before = order.state
    won = WorkOrder.objects.filter(pk=order.pk, version=order.version, state=before).update(
        version=F("version") + 1, state=State.ARCHIVED, updated_at=now
    )
    if won:
        order.state = State.ARCHIVED
        data = {"unrated": True} if before == State.CLOSED else {}
        _log(order, actor=None, action="archive", from_state=before, now=now, data=data)
    return won


def department_queryset_for(order: WorkOrder):
    """Departments that may be dispatched this order: those serving its street or district."""
    paths = [order.street.path[: len(order.street.path) - 10], order.street.path]
    return Department.objects.filter(area__path__in=paths).order_by("name")
