"""Work-order API (/api/v1/workorders/): orders the caller may see, intake, actions, categories
and the category suggestion.

Scoped exactly like the pages: every order is looked up through selectors.order_get, so one
outside the caller's scope answers 404 like a missing one. No reporter data ever leaves here;
reporters see the steps of their own orders without who acted or internal reasons.
Errors: 403 forbidden (PermissionDenied), 409 conflict (someone acted first, or `version` is
stale), 422 invalid with details as [{loc, msg, type}] (ValidationError).
"""

import base64
import binascii
import datetime as dt
import os
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.paginator import Paginator
from django.db.models import Q
from django.utils import timezone
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import AfterValidator

from linli.accounts.roles import Role
from linli.accounts.scoping import grants
from linli.core.scoping import under_q
from linli.places.choices import PlaceKind
from linli.places.models import Department, Place
from linli.workorders import machine, perms, selectors, services
from linli.workorders.choices import Light, Source, State, Urgency
from linli.workorders.models import Category, Transition, WorkOrder

router = Router(tags=["workorders"])

PER_PAGE = 50
MAX_ID = 2**31 - 1
MAX_PHOTO_B64 = (services.MAX_PHOTO_BYTES * 4) // 3 + 4
# Steps the reporter does not see (internal timers).
_HIDDEN_FROM_REPORTER = frozenset({"remind"})
_SAFE_NAME = re.compile(r"[^\w.-]")
_INTAKE_PERMS = frozenset({perms.REPORT, perms.PATROL, perms.HANDLE_COMMITTEE})


class ApiError(HttpError):
    def __init__(self, status: int, message: str, code: str):
        super().__init__(status, message)
        self.code = code


def _invalid(error: ValidationError):
    """A Django ValidationError as the API's 422 (details in ninja's own [{loc, msg}] shape)."""
    if hasattr(error, "error_dict"):
        details = [
            {"loc": ["body", name], "msg": str(message), "type": "invalid"}
            for name, messages in error.message_dict.items()
            for message in messages
        ]
    else:
        details = [{"loc": ["body"], "msg": str(m), "type": "invalid"} for m in error.messages]
    return NinjaValidationError(details)


def _field_error(name: str, message) -> NinjaValidationError:
    return _invalid(ValidationError({name: [message]}))


# --- schemas ----------------------------------------------------------------------------------


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refuse it here rather than fail in the database.
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed.")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]


class OrderOut(Schema):
    id: int
    kind: str
    source: str
    level: str
    state: str
    state_label: str
    urgency: str
    category_code: str | None
    category_name: str | None
    description: str
    place_id: int
    place_name: str
    street_id: int
    grid_id: int | None
    department_id: int | None
    department_name: str | None
    lat: float | None
    lng: float | None
    light: str | None
    phase: str
    phase_due_at: dt.datetime | None
    handle_due_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None
    rework_count: int
    return_count: int
    extension_hours: int
    reopen_count: int
    rating: int | None
    escalated: bool
    summons_requested: bool
    version: int


class StepOut(Schema):
    id: int
    action: str
    action_label: str
    from_state: str
    to_state: str
    level: str
    role: str
    actor_name: str  # staff only; "" for the reporter
    department_id: int | None
    at: dt.datetime
    reason: str  # staff only
    data: dict  # staff only


class ActionOut(Schema):
    code: str
    label: str
    needs_reason: bool
    needs_photo: bool


class OrderDetailOut(OrderOut):
    address: str
    result: str
    steps: list[StepOut]
    actions: list[ActionOut]


class OrderPageOut(Schema):
    count: int
    page: int
    pages: int
    results: list[OrderOut]


# Filters sent empty count as absent.
StateFilter = Literal[("", *State.values)]  # type: ignore[valid-type]
LightFilter = Literal[("", *Light.values)]  # type: ignore[valid-type]


class OrderQuery(Schema):
    state: StateFilter = ""
    category: Text = Field("", max_length=16, description="A service code, e.g. C0101.")
    grid: int | None = Field(None, ge=1, le=MAX_ID)
    department: int | None = Field(None, ge=1, le=MAX_ID)
    light: LightFilter = Field("", description="green, yellow or red.")
    page: int = Field(1, ge=1, le=100_000)


class PhotoIn(Schema):
    name: Text = Field("photo.jpg", max_length=100)
    content_type: Text = Field(..., max_length=64)
    data: Text = Field(..., description="The file, base64-encoded.")


class OrderIn(Schema):
    category: Text = Field(..., max_length=16, description="A service code, e.g. C0101.")
    description: Text = Field(..., max_length=services.MAX_DESCRIPTION)
    place_id: int | None = Field(None, ge=1, le=MAX_ID)
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    address: Text = Field("", max_length=200)
    urgency: Urgency = Urgency.NORMAL
    photos: list[PhotoIn] = Field([], max_length=services.MAX_PHOTOS)


class ActionIn(Schema):
    reason: Text = Field("", max_length=4000)
    version: int | None = Field(None, ge=0, description="The version read; 409 when it moved on.")
    assignee_id: int | None = Field(None, ge=1, le=MAX_ID)
    department_id: int | None = Field(None, ge=1, le=MAX_ID)
    co_department_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field([], max_length=20)
    urgency: Urgency | None = None
    hours: int | None = Field(None, ge=0, le=10_000)
    review_on: dt.date | None = None
    passed: bool | None = None
    rating: int | None = Field(None, ge=0, le=10)
    comment: Text = Field("", max_length=500)
    reject_reason: Text = Field("", max_length=32)
    duplicate_of_id: int | None = Field(None, ge=1, le=MAX_ID)
    meets_at: dt.datetime | None = None
    venue: Text = Field("", max_length=200)
    photos: list[PhotoIn] = Field([], max_length=services.MAX_PHOTOS)


class CategoryOut(Schema):
    service_code: str
    kind: str
    major_code: str
    major_name: str
    minor_code: str
    name: str
    description: str
    self_governable: bool
    public: bool


class SuggestIn(Schema):
    text: Text = Field(..., max_length=services.MAX_DESCRIPTION)


class SuggestionOut(Schema):
    service_code: str
    name: str
    major_name: str
    score: float


# --- helpers ----------------------------------------------------------------------------------


def _order(order: WorkOrder, now) -> dict:
    return {
        "id": order.pk,
        "kind": order.kind,
        "source": order.source,
        "level": order.level,
        "state": order.state,
        "state_label": str(State(order.state).label),
        "urgency": order.urgency,
        "category_code": order.category.service_code if order.category else None,
        "category_name": order.category.name if order.category else None,
        "description": order.description,
        "place_id": order.place_id,
        "place_name": order.place.name,
        "street_id": order.street_id,
        "grid_id": order.grid_id,
        "department_id": order.department_id,
        "department_name": order.department.name if order.department else None,
        "lat": float(order.lat) if order.lat is not None else None,
        "lng": float(order.lng) if order.lng is not None else None,
        "light": selectors.light(order, now),
        "phase": order.phase,
        "phase_due_at": order.phase_due_at,
        "handle_due_at": order.handle_due_at,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "closed_at": order.closed_at,
        "rework_count": order.rework_count,
        "return_count": order.return_count,
        "extension_hours": order.extension_hours,
        "reopen_count": order.reopen_count,
        "rating": order.rating,
        "escalated": order.escalated,
        "summons_requested": order.summons_requested,
        "version": order.version,
    }


_is_staff = selectors.is_staff


def _detail(user, order: WorkOrder) -> dict:
    staff = _is_staff(user, order)
    steps = []
    for t in Transition.objects.filter(order=order).order_by("at", "id"):
        if not staff and t.action in _HIDDEN_FROM_REPORTER:
            continue
        spec = machine.ACTIONS.get(t.action)
        steps.append(
            {
                "id": t.pk,
                "action": t.action,
                "action_label": str(spec.label) if spec else t.action,
                "from_state": t.from_state,
                "to_state": t.to_state,
                "level": t.level,
                "role": t.role,
                # The reporter's own steps (report, rate) never name them.
                "actor_name": t.actor_name
                if staff and not (t.actor_id and t.actor_id == order.reporter_id)
                else "",
                "department_id": t.department_id,
                "at": t.at,
                "reason": t.reason if staff else "",
                "data": t.data if staff else {},
            }
        )
    actions = [
        {
            "code": a.code,
            "label": str(a.label),
            "needs_reason": a.needs_reason,
            "needs_photo": services.photos_required(a, order),
        }
        for a in machine.available(order.state)
        if services.can_act(user, order, a)
    ]
    return {
        **_order(order, timezone.now()),
        "address": order.address,
        "result": order.result,
        "steps": steps,
        "actions": actions,
    }


def _photos(photos: list[PhotoIn]) -> list[SimpleUploadedFile]:
    files = []
    for photo in photos:
        if len(photo.data) > MAX_PHOTO_B64:
            raise _field_error("photos", services.PHOTO_TOO_BIG)
        try:
            content = base64.b64decode(photo.data, validate=True)
        except (binascii.Error, ValueError):
            raise _field_error("photos", services.PHOTO_TYPE) from None
        name = _SAFE_NAME.sub("", os.path.basename(photo.name.replace("\\", "/")))
        name = name.lstrip(".") or "photo.jpg"
        files.append(SimpleUploadedFile(name, content, content_type=photo.content_type))
    return files


def _source(user) -> str | None:
    """The intake channel of this user's reports (None: the user may not report)."""
    held = [g for g in grants(user) if g.perms & _INTAKE_PERMS]
    if any(perms.PATROL in g.perms for g in held):
        return Source.PATROL
    if any(perms.HANDLE_COMMITTEE in g.perms for g in held):
        return Source.COMMITTEE
    if any(g.role == Role.PROPERTY_MANAGER for g in held):
        return Source.PROPERTY
    return Source.RESIDENT if held else None


def _categories_for(user, source: str | None = None):
    categories = Category.objects.filter(active=True)
    if source is None:
        source = _source(user)
    staff = user.has_perm(perms.VIEW_ORDERS) or user.has_perm(perms.HANDLE_DEPARTMENT)
    if source in (Source.RESIDENT, Source.PROPERTY, None) and not staff:
        categories = categories.filter(public=True)
    return categories.order_by("kind", "major_code", "minor_code")


def _report_place(user, pk: int) -> Place:
    """A compound the user may report at: a resident's committee's, else those in scope."""
    condition = Q(pk__in=[])
    for g in grants(user):
        if not g.perms & _INTAKE_PERMS:
            continue
        for prefix in g.prefixes:
            if g.place_kind in (PlaceKind.HOUSEHOLD, PlaceKind.BUILDING):
                ancestors = [int(prefix[i : i + 10]) for i in range(0, len(prefix), 10)]
                condition |= Q(parent_id__in=ancestors)
            else:
                condition |= under_q(prefix)
    place = Place.objects.filter(condition, kind=PlaceKind.COMPOUND, pk=pk).first()
    if place is None:
        raise _field_error("place_id", services.PLACE_REQUIRED)
    return place


def _decimal(value: float | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.000001"))
    except InvalidOperation:
        return None


# --- endpoints --------------------------------------------------------------------------------


@router.get(
    "/orders",
    response=OrderPageOut,
    summary="Orders the caller may see, newest first, 50 a page (no reporter data)",
)
def order_list(request, query: Query[OrderQuery]):
    orders = selectors.orders_visible(request.user)
    if query.state:
        orders = orders.filter(state=query.state)
    if query.category:
        orders = orders.filter(category__service_code=query.category)
    if query.grid:
        orders = orders.filter(grid_id=query.grid)
    if query.department:
        orders = orders.filter(Q(department_id=query.department))
    if query.light:
        orders = orders.filter(selectors.light_q(query.light))
    orders = orders.select_related("category", "department", "place").order_by("-created_at", "-id")
    page = Paginator(orders, PER_PAGE).get_page(query.page)
    now = timezone.now()
    return {
        "count": page.paginator.count,
        "page": page.number,
        "pages": page.paginator.num_pages,
        "results": [_order(o, now) for o in page],
    }


@router.get(
    "/orders/{order_id}",
    response=OrderDetailOut,
    summary="One order with its steps and the actions the caller may take",
)
def order_detail(request, order_id: int = Path(..., ge=1, le=MAX_ID)):
    order = selectors.order_get(viewer=request.user, pk=order_id)
    return _detail(request.user, order)


@router.post(
    "/orders",
    response={201: OrderDetailOut},
    summary="Report a problem (residents, property managers, grid workers, committees)",
)
def order_create(request, payload: OrderIn):
    user = request.user
    source = _source(user)
    if source is None:
        raise ApiError(403, "You may not report problems.", "forbidden")
    category = _categories_for(user, source).filter(service_code=payload.category).first()
    if category is None:
        raise _field_error("category", services.CATEGORY_REQUIRED)
    place = _report_place(user, payload.place_id) if payload.place_id else None
    try:
        order = services.order_report(
            actor=user,
            report=services.Report(
                source=source,
                description=payload.description,
                category=category,
                place=place,
                lat=_decimal(payload.lat),
                lng=_decimal(payload.lng),
                address=payload.address,
                urgency=payload.urgency,
                photos=_photos(payload.photos),
            ),
        )
    except PermissionDenied:
        raise ApiError(403, "You may not report problems.", "forbidden") from None
    except ValidationError as error:
        raise _invalid(error) from None
    order = selectors.order_get(viewer=user, pk=order.pk)
    return Status(201, _detail(user, order))


def _action_params(user, order: WorkOrder, payload: ActionIn) -> dict:
    params: dict = {}
    if payload.assignee_id is not None:
        params["assignee"] = (
            get_user_model().objects.filter(pk=payload.assignee_id, is_active=True).first()
        )
    if payload.department_id is not None:
        params["department"] = Department.objects.filter(pk=payload.department_id).first()
    if payload.co_department_ids:
        params["co_departments"] = list(Department.objects.filter(pk__in=payload.co_department_ids))
    if payload.duplicate_of_id is not None:
        duplicate = (
            selectors.orders_visible(user)
            .filter(pk=payload.duplicate_of_id, street_id=order.street_id)
            .first()
        )
        if duplicate is None:
            raise _field_error("duplicate_of_id", services.DUPLICATE_REQUIRED)
        params["duplicate_of"] = duplicate
    for name in ("urgency", "hours", "review_on", "passed", "rating", "meets_at"):
        value = getattr(payload, name)
        if value is not None:
            params[name] = value
    if payload.comment:
        params["comment"] = payload.comment
    if payload.reject_reason:
        params["reject_reason"] = payload.reject_reason
    if payload.venue:
        params["venue"] = payload.venue
    return params


@router.post(
    "/orders/{order_id}/actions/{action}",
    response=OrderDetailOut,
    summary="Take one action of the state machine (see machine.ACTIONS)",
)
def order_action(
    request, payload: ActionIn, action: str, order_id: int = Path(..., ge=1, le=MAX_ID)
):
    user = request.user
    order = selectors.order_get(viewer=user, pk=order_id)
    if action not in machine.ACTIONS:
        raise ApiError(404, "Not found.", "not_found")
    if payload.version is not None and payload.version != order.version:
        raise ApiError(409, str(services.Conflict(order)), "conflict")
    params = _action_params(user, order, payload)
    try:
        order = services.order_act(
            actor=user,
            order=order,
            action=action,
            reason=payload.reason,
            photos=_photos(payload.photos),
            **params,
        )
    except services.Conflict as conflict:
        raise ApiError(409, str(conflict), "conflict") from None
    except PermissionDenied as denied:
        message = str(denied) or "You may not take this action on this order."
        raise ApiError(403, message, "forbidden") from None
    except ValidationError as error:
        raise _invalid(error) from None
    return _detail(user, selectors.order_get(viewer=user, pk=order.pk))


@router.get(
    "/categories",
    response=list[CategoryOut],
    summary="Active categories the caller may choose (residents: the public ones)",
)
def category_list(request):
    return list(_categories_for(request.user))


@router.post(
    "/suggest",
    response=list[SuggestionOut],
    summary="Suggest up to three categories for a description",
)
def category_suggest(request, payload: SuggestIn):
    text = payload.text.strip()
    if not text:
        return []
    try:
        from linli.workorders import classify
    except ImportError:  # the classifier ships separately; without it there is no suggestion
        return []
    found = classify.suggest(text, limit=3)
    allowed = set(
        _categories_for(request.user)
        .filter(pk__in=[s.category.pk for s in found])
        .values_list("pk", flat=True)
    )
    return [
        {
            "service_code": s.category.service_code,
            "name": s.category.name,
            "major_name": s.category.major_name,
            "score": round(float(s.score), 4),
        }
        for s in found
        if s.category.pk in allowed
    ]
