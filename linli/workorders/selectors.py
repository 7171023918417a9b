"""Reads of work orders, scoped: who sees which orders.

- Committee staff, grid workers, the street centre and the district see orders under their
  places (VIEW_ORDERS, by path; a grid worker's places are the grid's compounds).
- Department handlers and heads see the orders addressed to their department (lead or
  co-department).
- Residents and property managers see the orders they reported.
"""

import math
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from linli.accounts.scoping import grants
from linli.places.choices import PlaceKind
from linli.places.models import Grid, Place
from linli.workorders import perms
from linli.workorders.choices import CLOSED_STATES, Light
from linli.workorders.models import Category, WorkOrder

EARTH_RADIUS_M = 6_371_000


def department_ids(user, perm: str = perms.HANDLE_DEPARTMENT) -> set[int]:
    """The departments for which `user` holds `perm` (its handlers and heads, by default)."""
    return {
        g.department_id for g in grants(user) if perm in g.perms and g.department_id is not None
    }


def orders_visible(viewer) -> QuerySet:
    """Every order the viewer may open."""
    if viewer is None or not viewer.is_authenticated:
        return WorkOrder.objects.none()
    condition = Q(pk__in=WorkOrder.objects.for_viewer(viewer, perms.VIEW_ORDERS).values("pk"))
    departments = department_ids(viewer)
    if departments:
        condition |= Q(department_id__in=departments) | Q(co_departments__in=departments)
    # Reporters see their own orders; of the one theirs was merged into, "my reports" shows only
    # the state and the date it was fixed (it is somebody else's report).
    condition |= Q(reporter=viewer)
    return WorkOrder.objects.filter(condition).distinct()


def is_staff(user, order: WorkOrder) -> bool:
    """Staff of the order (its places, or its lead or co-department) see names and internal
    reasons; anyone else who may open it (its reporter) sees roles and outcomes only."""
    if user.has_perm(perms.VIEW_ORDERS, order):
        return True
    departments = department_ids(user)
    if not departments:
        return False
    return order.department_id in departments or any(
        d.pk in departments for d in order.co_departments.all()
    )


def reporter_contact_visible(user, order: WorkOrder) -> bool:
    """The reporter's (masked) phone is for those who call back, the grid centre and the
    committee of the place; a department handles the problem and never learns who reported it."""
    return user.has_perm(perms.VIEW_ORDERS, order)


def order_get(*, viewer, pk) -> WorkOrder:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    order = (
        orders_visible(viewer)
        .select_related(
            "category", "place", "street", "grid", "department", "assignee", "service_item"
        )
        .filter(pk=pk)
        .first()
    )
    if order is None:
        raise Http404
    return order


def light(order: WorkOrder, now=None) -> str | None:
    """Green / yellow (80 % of the phase's working time gone) / red (overdue); None: no clock."""
    if order.phase_due_at is None or order.state in CLOSED_STATES:
        return None
    now = now or timezone.now()
    if now > order.phase_due_at:
        return Light.RED
    if order.phase_warn_at and now >= order.phase_warn_at:
        return Light.YELLOW
    return Light.GREEN


def light_q(colour: str, now=None) -> Q:
    now = now or timezone.now()
    open_ = ~Q(state__in=CLOSED_STATES) & Q(phase_due_at__isnull=False)
    if colour == Light.RED:
        return open_ & Q(phase_due_at__lt=now)
    if colour == Light.YELLOW:
        return open_ & Q(phase_due_at__gte=now, phase_warn_at__lte=now)
    return open_ & Q(phase_due_at__gte=now) & (Q(phase_warn_at__gt=now) | Q(phase_warn_at=None))


# --- places -----------------------------------------------------------------------------------


def distance_m(lat1, lng1, lat2, lng2) -> float:
    """Great-circle distance (haversine) in metres."""
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    dp, dl = p2 - p1, math.radians(float(lng2) - float(lng1))
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


# A report farther than this from every compound is outside the platform's streets.
NEAREST_LIMIT_M = 1500


def place_near(lat: Decimal, lng: Decimal) -> Place | None:
    """The compound nearest a point (within NEAREST_LIMIT_M), from compounds in a bounding box."""
    span = Decimal("0.02")  # about 2 km
    candidates = Place.objects.filter(
        kind=PlaceKind.COMPOUND,
        lat__range=(lat - span, lat + span),
        lng__range=(lng - span, lng + span),
    ).only("id", "lat", "lng", "path", "name", "kind", "parent_id")
    best, best_distance = None, NEAREST_LIMIT_M
    for place in candidates:
        distance = distance_m(lat, lng, place.lat, place.lng)
        if distance <= best_distance:
            best, best_distance = place, distance
    return best


def grid_of(place: Place) -> Grid | None:
    """The grid covering a compound (the first by code when grids overlap)."""
    if place.kind != PlaceKind.COMPOUND:
        return None
    return Grid.objects.filter(compounds=place).order_by("code").first()


# --- duplicates -------------------------------------------------------------------------------


@dataclass
class DuplicateCandidate:
    order: WorkOrder
    distance_m: float | None


def duplicates_suggest(order: WorkOrder, limit: int = 5) -> list[DuplicateCandidate]:
    """Earlier orders of the same minor category within the category's radius and window."""
    category: Category | None = order.category
    if category is None:
        return []
    since = order.created_at - timezone.timedelta(days=category.duplicate_window_days)
    rows = (
        WorkOrder.objects.filter(
            street_id=order.street_id,
            category=category,
            created_at__gte=since,
            created_at__lte=order.created_at,
            duplicate_of__isnull=True,
        )
        .exclude(pk=order.pk)
        .order_by("-created_at")[:200]
    )
    found = []
    for other in rows:
        if order.lat is not None and other.lat is not None:
            distance = distance_m(order.lat, order.lng, other.lat, other.lng)
            if distance > category.duplicate_radius_m:
                continue
        elif other.place_id != order.place_id:
            continue
        else:
            distance = None
        found.append(DuplicateCandidate(other, distance))
        if len(found) >= limit:
            break
    return found


# --- routing ----------------------------------------------------------------------------------


def route_for(*, street_id: int, grid_id: int | None, category_id: int | None):
    """The routing rule that applies (明责派单): the grid's own rule first, else the street-wide
    one; None when the street has no rule for the category."""
    from linli.workorders.models import RoutingRule

    if category_id is None:
        return None
    rules = RoutingRule.objects.filter(street_id=street_id, category_id=category_id).filter(
        Q(grid_id=grid_id) | Q(grid__isnull=True) if grid_id else Q(grid__isnull=True)
    )
    best = None
    for rule in rules.select_related("department"):
        if best is None or rule.grid_id is not None:
            best = rule
    return best


def grid_workers_for(*, order: WorkOrder):
    """Grid workers whose grid covers the order's compound (or any grid of its street)."""
    from django.contrib.auth import get_user_model

    from linli.accounts.roles import Role

    users = get_user_model().objects.filter(assignments__role=Role.GRID_WORKER, is_active=True)
    if order.place.kind == PlaceKind.COMPOUND:
        users = users.filter(assignments__grid__compounds=order.place)
    else:
        users = users.filter(assignments__grid__street_id=order.street_id)
    return users.distinct().order_by("display_name", "username")
