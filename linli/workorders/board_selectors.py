"""Reads for the role boards (inboxes, console, overdue board, district view, map).

Every board starts from `orders_under(viewer, *perms)`: the orders under the places where the
viewer holds one of the permissions, as index-friendly path ranges (no DISTINCT, no join), so the
same filters stay fast with a million orders. Lists are read a page at a time with `window`,
which never counts the whole table: it fetches one row more than the page to know whether
there is a next page, and counts at most COUNT_CAP matches ("1000+").
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from linli.accounts.models import RoleAssignment
from linli.accounts.roles import Role
from linli.accounts.scoping import grants, scope_prefixes
from linli.core.scoping import collapse_prefixes, under_q
from linli.places.choices import PlaceKind
from linli.places.models import Department, Grid, Place
from linli.workorders import perms
from linli.workorders.choices import (
    CLOSED_STATES,
    DEPARTMENT_STATES,
    OPEN_STATES,
    Kind,
    Level,
    Light,
    State,
)
from linli.workorders.models import Category, RoutingRule, Transition, WorkOrder
from linli.workorders.selectors import department_ids, light, light_q
from linli.workorders.services import SUMMONS_REOPENS

PAGE_SIZE = 50
COUNT_CAP = 1000
MAX_PAGE = 200  # deeper than 10,000 rows nobody pages: they filter
MAP_CAP = 2000

# What a list row needs, in one query.
ROW_RELATED = ("category", "place", "street", "grid", "department", "assignee")

OPEN = sorted(OPEN_STATES)
CLOSED = sorted(CLOSED_STATES)
PENDING_STATES = (
    State.RETURN_REQUESTED,
    State.EXTENSION_REQUESTED,
    State.SUSPENSION_REQUESTED,
)
# Each pending request and the approvals it awaits.
APPROVALS = {
    State.RETURN_REQUESTED: ("approve_return", "refuse_return", "request_return"),
    State.EXTENSION_REQUESTED: ("approve_extension", "refuse_extension", "request_extension"),
    State.SUSPENSION_REQUESTED: ("approve_suspension", "refuse_suspension", "request_suspension"),
}


# --- scope ------------------------------------------------------------------------------------


def prefixes_for(viewer, *perm_names: str) -> list[str]:
    found: list[str] = []
    for perm in perm_names:
        found.extend(scope_prefixes(viewer, perm))
    return collapse_prefixes(found)


def _under_any(prefixes: list[str], field: str = "path") -> Q:
    condition = Q()
    for prefix in prefixes:
        condition |= under_q(prefix, field)
    return condition


def orders_under(viewer, *perm_names: str) -> QuerySet:
    """Orders under the places where the viewer holds any of `perm_names`."""
    prefixes = prefixes_for(viewer, *perm_names)
    if not prefixes:
        return WorkOrder.objects.none()
    return WorkOrder.objects.filter(_under_any(prefixes))


def _ancestor_paths(prefixes: list[str]) -> set[str]:
    return {p[:end] for p in prefixes for end in range(10, len(p) + 1, 10)}


# --- paging -----------------------------------------------------------------------------------


@dataclass
class Window:
    """One page of a list, without a COUNT(*) over everything that matches."""

    rows: list
    number: int
    has_next: bool
    count: int  # at most COUNT_CAP + 1
    size: int = PAGE_SIZE

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def next_number(self) -> int:
        return self.number + 1

    @property
    def previous_number(self) -> int:
        return self.number - 1

    @property
    def capped(self) -> bool:
        return self.count > COUNT_CAP

    @property
    def shown_count(self) -> int:
        return min(self.count, COUNT_CAP)


def page_number(raw) -> int:
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), MAX_PAGE)


def window(qs: QuerySet, page=1, size: int = PAGE_SIZE) -> Window:
    """One page of `qs` (ordered, with its select_related) in two steps: the page's ids from the
    order table alone (the planner picks the index for the sort and filters, no joins), then
    those rows with everything the template shows. The count is exact when the last page is in
    view, else capped at COUNT_CAP."""
    number = page_number(page)
    offset = (number - 1) * size
    ids = list(qs.values_list("pk", flat=True)[offset : offset + size + 1])
    has_next = len(ids) > size
    ids = ids[:size]
    found = {o.pk: o for o in qs.order_by().filter(pk__in=ids)} if ids else {}
    rows = [found[pk] for pk in ids if pk in found]
    if not has_next and (ids or offset == 0):
        count = offset + len(ids)
    else:
        # The database stops after COUNT_CAP + 1 matching rows.
        count = qs.order_by().values("pk")[: COUNT_CAP + 1].count()
    return Window(rows=rows, number=number, has_next=has_next, count=count, size=size)


def with_lights(rows, now=None) -> list:
    now = now or timezone.now()
    for row in rows:
        row.light = light(row, now)
    return rows


def state_counts(qs: QuerySet) -> list[tuple[str, str, int]]:
    """(state, label, n) for the states present, in the machine's order."""
    counts = dict(qs.order_by().values_list("state").annotate(n=Count("pk")))
    return [(s.value, s.label, counts[s.value]) for s in State if counts.get(s.value)]


def _by_due(qs: QuerySet) -> QuerySet:
    return qs.order_by(F("phase_due_at").asc(nulls_last=True), "-created_at", "-id")


# --- committee inbox --------------------------------------------------------------------------

INBOX_TABS = ("todo", "errands", "area")


def summons_warranted(order, now) -> bool:
    """The same conditions services._summons_warranted checks, from the annotated row."""
    return bool(
        order.has_co_departments
        or (order.phase_due_at and now > order.phase_due_at)
        or order.reopen_count >= SUMMONS_REOPENS
        or order.return_count >= 2
    )


@dataclass
class Inbox:
    tab: str
    state: str
    window: Window
    counts: list
    todo: int
    errands: int


def committee_inbox(*, viewer, tab="todo", state="", page=1, now=None) -> Inbox | None:
    """The committee's orders: its own (T2/T3), its errands, and everything in its area."""
    prefixes = prefixes_for(viewer, perms.HANDLE_COMMITTEE)
    if not prefixes:
        return None
    now = now or timezone.now()
    scope = WorkOrder.objects.filter(_under_any(prefixes))
    todo_q = Q(
        kind=Kind.PROBLEM, level=Level.COMMITTEE, state__in=[State.REPORTED, State.RC_HANDLING]
    )
    errand_q = Q(kind=Kind.ERRAND, state__in=OPEN)
    # Both lists hold open orders only: count them among the open ones (path, state index).
    totals = scope.filter(state__in=OPEN).aggregate(
        todo=Count("pk", filter=todo_q), errands=Count("pk", filter=errand_q)
    )
    tab = tab if tab in INBOX_TABS else "todo"
    if tab == "todo":
        qs = scope.filter(todo_q)
    elif tab == "errands":
        qs = scope.filter(errand_q)
    else:
        qs = scope
        if state in State.values:
            qs = qs.filter(state=state)
        else:
            state = ""
    through = WorkOrder.co_departments.through
    qs = _by_due(
        qs.select_related(*ROW_RELATED, "service_item", "beneficiary").annotate(
            has_co_departments=Exists(through.objects.filter(workorder_id=OuterRef("pk")))
        )
    )
    result = window(qs, page)
    for row in with_lights(result.rows, now):
        row.summons_hint = (
            row.state in OPEN_STATES and not row.summons_requested and summons_warranted(row, now)
        )
    return Inbox(
        tab=tab,
        state=state,
        window=result,
        counts=state_counts(scope.filter(state__in=OPEN)),
        todo=totals["todo"],
        errands=totals["errands"],
    )


# --- grid worker's tasks ----------------------------------------------------------------------

RECENT_DAYS = 14
RECENT_LIMIT = 30


@dataclass
class Tasks:
    tasks: list
    recent: list
    recent_more: bool


def grid_tasks(*, viewer, now=None) -> Tasks | None:
    """Verifications and checks the worker was sent on, and the latest reports in the grid."""
    prefixes = prefixes_for(viewer, perms.PATROL)
    if not prefixes:
        return None
    now = now or timezone.now()
    scope = WorkOrder.objects.filter(_under_any(prefixes))
    tasks = (
        scope.filter(assignee=viewer)
        .filter(Q(state=State.VERIFYING) | Q(state=State.CHECKING, check_passed__isnull=True))
        .select_related(*ROW_RELATED)
        .order_by(F("phase_due_at").asc(nulls_last=True), "id")[:100]
    )
    recent = list(
        scope.filter(created_at__gte=now - dt.timedelta(days=RECENT_DAYS))
        .select_related(*ROW_RELATED)
        .order_by("-created_at", "-id")[: RECENT_LIMIT + 1]
    )
    return Tasks(
        tasks=with_lights(list(tasks), now),
        recent=with_lights(recent[:RECENT_LIMIT], now),
        recent_more=len(recent) > RECENT_LIMIT,
    )


# --- dispatcher console -----------------------------------------------------------------------

# Orders without a clock (suspended, closed) sort after those with one, on every database.
DUE_FIRST = F("phase_due_at").asc(nulls_last=True)
SORTS = {
    "due": (DUE_FIRST, "-created_at", "-id"),
    "-due": (F("phase_due_at").desc(nulls_last=True), "-created_at", "-id"),
    "new": ("-created_at", "-id"),
    "old": ("created_at", "id"),
}


@dataclass
class ConsoleFilters:
    state: str = "open"  # "open", "closed", "all" or one state
    major: str = ""
    category: int | None = None
    grid: int | None = None
    department: int | None = None
    light: str = ""
    source: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    q: str = ""
    sort: str = "due"


@dataclass
class ConsoleChoices:
    """What the filters and bulk actions offer, all within the viewer's streets."""

    grids: list = field(default_factory=list)
    departments: list = field(default_factory=list)
    categories: list = field(default_factory=list)
    majors: list = field(default_factory=list)
    grid_workers: list = field(default_factory=list)


def console_scope(viewer) -> QuerySet | None:
    prefixes = prefixes_for(viewer, perms.DISPATCH)
    if not prefixes:
        return None
    return WorkOrder.objects.filter(_under_any(prefixes))


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def console_orders(scope: QuerySet, filters: ConsoleFilters, now=None) -> QuerySet:
    now = now or timezone.now()
    qs = scope
    if filters.state == "open":
        qs = qs.filter(state__in=OPEN)
    elif filters.state == "closed":
        qs = qs.filter(state__in=CLOSED)
    elif filters.state in State.values:
        qs = qs.filter(state=filters.state)
    if filters.category:
        qs = qs.filter(category_id=filters.category)
    elif filters.major:
        qs = qs.filter(category__major_code=filters.major)
    if filters.grid:
        qs = qs.filter(grid_id=filters.grid)
    if filters.department:
        qs = qs.filter(department_id=filters.department)
    if filters.light in Light.values:
        qs = qs.filter(light_q(filters.light, now))
    if filters.source:
        qs = qs.filter(source=filters.source)
    if filters.since:
        qs = qs.filter(created_at__gte=_day_start(filters.since))
    if filters.until:
        qs = qs.filter(created_at__lt=_day_start(filters.until + dt.timedelta(days=1)))
    if filters.q:
        qs = qs.filter(description__icontains=filters.q)
    sort = filters.sort if filters.sort in SORTS else "due"
    if sort in ("due", "-due") and (filters.state == "closed" or filters.state in CLOSED_STATES):
        sort = "new"  # closed orders have no clock: newest first, on the created_at index
    order = SORTS[sort]
    return qs.select_related(*ROW_RELATED).order_by(*order)


@dataclass
class Suggestion:
    department: Department
    co_departments: list


def suggest_departments(orders) -> dict[int, Suggestion]:
    """明责派单 for a page of orders: the grid's rule for the category, else the street's."""
    keys = {(o.street_id, o.category_id) for o in orders if o.category_id}
    if not keys:
        return {}
    rules = (
        RoutingRule.objects.filter(
            street_id__in={k[0] for k in keys}, category_id__in={k[1] for k in keys}
        )
        .select_related("department__area")
        .prefetch_related(
            Prefetch("co_departments", queryset=Department.objects.select_related("area"))
        )
    )
    by_key = {(r.street_id, r.grid_id, r.category_id): r for r in rules}
    found = {}
    for o in orders:
        rule = None
        if o.grid_id is not None:
            rule = by_key.get((o.street_id, o.grid_id, o.category_id))
        rule = rule or by_key.get((o.street_id, None, o.category_id))
        if rule is not None:
            found[o.pk] = Suggestion(rule.department, list(rule.co_departments.all()))
    return found


def console_page(*, scope: QuerySet, filters: ConsoleFilters, page=1, now=None) -> Window:
    now = now or timezone.now()
    result = window(console_orders(scope, filters, now), page)
    suggestions = suggest_departments(result.rows)
    for row in with_lights(result.rows, now):
        row.suggestion = suggestions.get(row.pk)
    return result


def console_choices(viewer) -> ConsoleChoices:
    prefixes = prefixes_for(viewer, perms.DISPATCH)
    if not prefixes:
        return ConsoleChoices()
    grids = list(
        Grid.objects.filter(_under_any(prefixes, "street__path")).order_by("street_id", "code")
    )
    departments = list(
        Department.objects.filter(
            Q(area__path__in=_ancestor_paths(prefixes)) | _under_any(prefixes, "area__path")
        )
        .select_related("area")
        .order_by("name")
    )
    categories = list(
        Category.objects.filter(active=True).order_by("kind", "major_code", "minor_code")
    )
    majors, seen = [], set()
    for c in categories:
        if c.major_code not in seen:
            seen.add(c.major_code)
            majors.append((c.major_code, f"{c.major_code} {c.major_name}"))
    grid_workers = list(
        RoleAssignment.objects.filter(
            _under_any(prefixes, "grid__street__path"), role=Role.GRID_WORKER
        )
        .select_related("user", "grid")
        .order_by("grid__code", "user__username")
    )
    return ConsoleChoices(
        grids=grids,
        departments=departments,
        categories=categories,
        majors=majors,
        grid_workers=grid_workers,
    )


def console_selected(scope: QuerySet, ids: list[int]) -> dict[int, WorkOrder]:
    """The selected orders that lie in the viewer's scope, ready for order_act."""
    rows = scope.filter(pk__in=ids).select_related(
        "category", "street", "place", "grid", "department", "service_item"
    )
    return {o.pk: o for o in rows}


# --- department inbox -------------------------------------------------------------------------

DEPARTMENT_TABS = {
    "todo": sorted(DEPARTMENT_STATES | {State.SUSPENDED}),
    "waiting": [State.FEEDBACK, State.CHECKING],
}


@dataclass
class DepartmentInbox:
    tab: str
    window: Window
    counts: list
    departments: list


def department_scope(viewer) -> tuple[QuerySet, set[int]] | None:
    ids = department_ids(viewer)
    if not ids:
        return None
    through = WorkOrder.co_departments.through
    co = through.objects.filter(department_id__in=ids).values("workorder_id")
    return WorkOrder.objects.filter(Q(department_id__in=ids) | Q(pk__in=co)), ids


def department_inbox(*, viewer, tab="todo", page=1, now=None) -> DepartmentInbox | None:
    found = department_scope(viewer)
    if found is None:
        return None
    scope, ids = found
    now = now or timezone.now()
    tab = tab if tab in DEPARTMENT_TABS else "todo"
    qs = _by_due(scope.filter(state__in=DEPARTMENT_TABS[tab]).select_related(*ROW_RELATED))
    result = window(qs, page)
    for row in with_lights(result.rows, now):
        row.is_lead = row.department_id in ids
        row.can_sign = row.is_lead and row.state == State.DISPATCHED
    open_scope = scope.filter(state__in=OPEN)
    return DepartmentInbox(
        tab=tab,
        window=result,
        counts=state_counts(open_scope),
        departments=list(Department.objects.filter(pk__in=ids).order_by("name")),
    )


# --- overdue board ----------------------------------------------------------------------------


@dataclass
class OverdueBoard:
    window: Window
    by_department: list
    by_grid: list
    pending: list
    light: str
    department: int | None
    grid: int | None


def overdue_scope(viewer) -> QuerySet | None:
    prefixes = prefixes_for(viewer, perms.SUPERVISE, perms.DISTRICT_DISPATCH)
    if not prefixes:
        return None
    return WorkOrder.objects.filter(_under_any(prefixes))


def _int_or_none(raw) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def overdue_board(
    *, viewer, scope: QuerySet, colour="", department=None, grid=None, page=1, now=None
) -> OverdueBoard:
    from linli.workorders.machine import ACTIONS
    from linli.workorders.services import can_act

    now = now or timezone.now()
    # Red or yellow: open, with the yellow point (always before the due time) passed.
    late = scope.filter(state__in=OPEN, phase_due_at__isnull=False).filter(
        Q(phase_warn_at__lte=now) | Q(phase_due_at__lt=now)
    )
    red = Q(phase_due_at__lt=now)
    tallies = {"red": Count("pk", filter=red), "yellow": Count("pk", filter=~red)}
    by_department = list(
        late.order_by()
        .values("department_id", "department__name")
        .annotate(**tallies)
        .order_by("-red", "-yellow", "department__name")
    )
    by_grid = list(
        late.order_by()
        .values("grid_id", "grid__name")
        .annotate(**tallies)
        .order_by("-red", "-yellow", "grid__name")
    )
    qs = late
    if colour in (Light.RED, Light.YELLOW):
        qs = late.filter(light_q(colour, now))
    else:
        colour = ""
    department, grid = _int_or_none(department), _int_or_none(grid)
    if department:
        qs = qs.filter(department_id=department)
    if grid:
        qs = qs.filter(grid_id=grid)
    result = window(_by_due(qs.select_related(*ROW_RELATED)), page)
    for row in with_lights(result.rows, now):
        row.can_supervise = can_act(viewer, row, ACTIONS["supervise"])

    pending = list(
        scope.filter(state__in=PENDING_STATES)
        .select_related(*ROW_RELATED)
        .order_by("updated_at", "id")[:PAGE_SIZE]
    )
    requests = {}
    if pending:
        asked = Transition.objects.filter(
            order_id__in=[o.pk for o in pending],
            action__in=[APPROVALS[o.state][2] for o in pending],
        ).order_by("at", "id")
        for step in asked:  # the latest request of each order wins
            requests[step.order_id] = step
    for row in with_lights(pending, now):
        approve, refuse, _ = APPROVALS[row.state]
        row.request = requests.get(row.pk)
        row.can_approve = can_act(viewer, row, ACTIONS[approve])
        row.can_refuse = can_act(viewer, row, ACTIONS[refuse])
        row.approve_action, row.refuse_action = approve, refuse
    return OverdueBoard(
        window=result,
        by_department=by_department,
        by_grid=by_grid,
        pending=pending,
        light=colour,
        department=department,
        grid=grid,
    )


# --- district view ----------------------------------------------------------------------------


@dataclass
class StreetRow:
    street: Place
    open: int = 0
    overdue: int = 0
    closed_this_month: int = 0


@dataclass
class DistrictView:
    streets: list
    escalated: Window
    month_start: dt.datetime


def district_prefixes(viewer) -> list[str]:
    """Where the viewer sees the district view: district dispatch, or viewing at a district
    (or the whole city)."""
    found = [
        p
        for g in grants(viewer)
        if perms.DISTRICT_DISPATCH in g.perms
        or (perms.VIEW_ORDERS in g.perms and g.place_kind in (PlaceKind.DISTRICT, PlaceKind.CITY))
        for p in g.prefixes
    ]
    return collapse_prefixes(found)


def district_view(*, prefixes: list[str], page=1, now=None) -> DistrictView:
    now = timezone.localtime(now or timezone.now())
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    streets = Place.objects.filter(_under_any(prefixes), kind=PlaceKind.STREET).order_by("path")
    rows = {s.pk: StreetRow(street=s) for s in streets}
    scope = WorkOrder.objects.filter(_under_any(prefixes))
    opened = (
        scope.filter(state__in=OPEN)
        .order_by()
        .values("street_id")
        .annotate(n=Count("pk"), late=Count("pk", filter=Q(phase_due_at__lt=now)))
    )
    for item in opened:
        if item["street_id"] in rows:
            rows[item["street_id"]].open = item["n"]
            rows[item["street_id"]].overdue = item["late"]
    # Closed this month, from the log (an order closed, reworked and closed again counts once).
    closed = (
        Transition.objects.filter(
            _under_any(prefixes, "order__path"), to_state=State.CLOSED, at__gte=month_start
        )
        .exclude(from_state=State.CLOSED)
        .order_by()
        .values("order__street_id")
        .annotate(n=Count("order_id", distinct=True))
    )
    for item in closed:
        if item["order__street_id"] in rows:
            rows[item["order__street_id"]].closed_this_month = item["n"]
    escalated = window(
        _by_due(scope.filter(escalated=True, state__in=OPEN).select_related(*ROW_RELATED)), page
    )
    with_lights(escalated.rows, now)
    return DistrictView(streets=list(rows.values()), escalated=escalated, month_start=month_start)


# --- map --------------------------------------------------------------------------------------


@dataclass
class MapData:
    total: int
    points: list
    unplaced: int
    grids: list


def map_scope(viewer) -> QuerySet | None:
    prefixes = prefixes_for(viewer, perms.VIEW_ORDERS)
    if not prefixes:
        return None
    return WorkOrder.objects.filter(_under_any(prefixes), state__in=OPEN)


def map_grids(scope: QuerySet, now=None) -> list[dict]:
    """Open orders per grid, with the red ones (one query)."""
    now = now or timezone.now()
    return list(
        scope.order_by()
        .values("grid_id", "grid__name", "grid__code")
        .annotate(n=Count("pk"), red=Count("pk", filter=Q(phase_due_at__lt=now)))
        .order_by("grid__code")
    )


def map_points(scope: QuerySet, now=None) -> MapData:
    """The MAP_CAP most recent open orders, each at its own point or its compound's."""
    now = now or timezone.now()
    grids = map_grids(scope, now)
    rows = scope.order_by("-created_at", "-id").values(
        "pk",
        "lat",
        "lng",
        "place__lat",
        "place__lng",
        "state",
        "phase_due_at",
        "phase_warn_at",
        "category__name",
        "grid__name",
        "created_at",
    )[:MAP_CAP]
    points, unplaced = [], 0
    labels = dict(State.choices)
    for r in rows:
        lat, lng = (
            (r["lat"], r["lng"]) if r["lat"] is not None else (r["place__lat"], r["place__lng"])
        )
        if lat is None or lng is None:
            unplaced += 1
            continue
        due, warn = r["phase_due_at"], r["phase_warn_at"]
        colour = None
        if due is not None:
            colour = (
                Light.RED if now > due else Light.YELLOW if warn and now >= warn else Light.GREEN
            )
        points.append(
            {
                "id": r["pk"],
                "lat": float(lat),
                "lng": float(lng),
                "light": colour or "",
                "state": str(labels.get(r["state"], r["state"])),
                "category": r["category__name"] or "",
                "grid": r["grid__name"] or "",
            }
        )
    return MapData(total=sum(g["n"] for g in grids), points=points, unplaced=unplaced, grids=grids)
