"""The role boards: committee inbox, grid worker's tasks, dispatcher console, department inbox,
overdue board, district view and the map.

Each board answers 404 to a user without the permission it is for, and reads only through
board_selectors (scoped to the viewer's places or departments). Filters and paging swap the
results with htmx; every action is a plain form POST that runs services.order_act per order and
redirects back with a summary (how many succeeded, which failed and why): a refused or
conflicting order never becomes a server error.
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from linli.accounts.scoping import grants
from linli.workorders import board_selectors as boards
from linli.workorders import perms
from linli.workorders.choices import Light, Source, State
from linli.workorders.forms import is_id
from linli.workorders.machine import ACTIONS
from linli.workorders.services import Conflict, order_act

MAX_BULK = 100
NOT_FOUND = gettext_lazy("Not found.")
NOT_ALLOWED = gettext_lazy("You may not do this on this order.")
NO_ROUTE = gettext_lazy("No routing rule for its category and place: choose a department.")
NOTHING_SELECTED = gettext_lazy("Select at least one order.")


# --- shared -----------------------------------------------------------------------------------


@dataclass
class Board:
    name: str
    label: str
    url: str
    active: bool = False


def boards_for(user, current: str = "") -> list[Board]:
    """The boards this user may open, for the navigation strip (no query: grants are cached)."""
    held = set().union(*(g.perms for g in grants(user))) if grants(user) else set()
    entries = [
        ("inbox", _("Committee inbox"), perms.HANDLE_COMMITTEE in held),
        ("tasks", _("My tasks"), perms.PATROL in held),
        ("console", _("Dispatch console"), perms.DISPATCH in held),
        ("department_inbox", _("Department inbox"), perms.HANDLE_DEPARTMENT in held),
        (
            "overdue",
            _("Overdue board"),
            perms.SUPERVISE in held or perms.DISTRICT_DISPATCH in held,
        ),
        ("district", _("District view"), bool(boards.district_prefixes(user))),
        ("map", _("Map"), perms.VIEW_ORDERS in held),
    ]
    return [
        Board(name, label, reverse(f"workorders:{name}"), name == current)
        for name, label, allowed in entries
        if allowed
    ]


def _context(request, current: str, **values) -> dict:
    return {"boards": boards_for(request.user, current), "now": timezone.now(), **values}


def _render(request, template: str, context: dict, partial: str = "results"):
    """The page, or only its results fragment for an htmx request."""
    if request.htmx and not request.htmx.boosted:
        template = f"{template}#{partial}"
    return render(request, template, context)


def _required(found):
    if found is None:
        raise Http404
    return found


def _back(request, default: str) -> str:
    """Where a board's POST returns: the board page it came from (with its filters)."""
    target = request.POST.get("next", "")
    home = reverse(default)
    if target.startswith(home) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return home


def _reason_of(error: Exception) -> str:
    if isinstance(error, Conflict):
        return str(error)
    if isinstance(error, PermissionDenied):
        return str(error) or str(NOT_ALLOWED)
    if isinstance(error, ValidationError):
        return " ".join(str(m) for m in error.messages)
    return str(error)


@dataclass
class Outcome:
    """What a bulk action did: the orders it moved and those it could not, with the reason."""

    done: list = field(default_factory=list)
    failed: list = field(default_factory=list)

    def attempt(self, actor, order, action: str, **params) -> None:
        try:
            order_act(actor=actor, order=order, action=action, **params)
        except (ValidationError, PermissionDenied, Conflict) as error:
            self.failed.append((order.pk, _reason_of(error)))
        else:
            self.done.append(order.pk)

    def tell(self, request, done_message: str) -> None:
        """`done_message` may hold %(n)d, the number of orders that moved."""
        if self.done:
            messages.success(request, done_message % {"n": len(self.done)})
        for pk, reason in self.failed:
            messages.error(
                request,
                _("Order #%(pk)s was not changed: %(reason)s") % {"pk": pk, "reason": reason},
            )


def _selected_ids(request) -> list[int]:
    ids = []
    for raw in request.POST.getlist("ids"):
        if not is_id(raw):
            continue
        pk = int(raw)
        if pk not in ids:
            ids.append(pk)
    return ids[:MAX_BULK]


# --- committee inbox --------------------------------------------------------------------------


@login_required
@require_GET
def inbox(request):
    found = _required(
        boards.committee_inbox(
            viewer=request.user,
            tab=request.GET.get("tab", "todo"),
            state=request.GET.get("state", ""),
            page=request.GET.get("page"),
        )
    )
    query = urlencode({k: v for k, v in {"tab": found.tab, "state": found.state}.items() if v})
    context = _context(
        request,
        "inbox",
        inbox=found,
        page=found.window,
        base_query=f"{query}&" if query else "",
        states=State.choices,
    )
    return _render(request, "workorders/boards/inbox.html", context)


# --- grid worker's tasks ----------------------------------------------------------------------


@login_required
@require_GET
def tasks(request):
    found = _required(boards.grid_tasks(viewer=request.user))
    return render(request, "workorders/boards/tasks.html", _context(request, "tasks", tasks=found))


# --- dispatcher console -----------------------------------------------------------------------

STATE_FILTERS = [
    ("open", gettext_lazy("All open")),
    ("all", gettext_lazy("Open and closed")),
    ("closed", gettext_lazy("All closed")),
    *State.choices,
]
SORT_CHOICES = [
    ("due", gettext_lazy("Due first")),
    ("-due", gettext_lazy("Due last")),
    ("new", gettext_lazy("Newest first")),
    ("old", gettext_lazy("Oldest first")),
]


def _blank(label):
    return [("", label)]


class ConsoleFilterForm(forms.Form):
    state = forms.ChoiceField(label=gettext_lazy("State"), required=False)
    major = forms.ChoiceField(label=gettext_lazy("Major class"), required=False)
    category = forms.TypedChoiceField(
        label=gettext_lazy("Minor class"), required=False, coerce=int, empty_value=None
    )
    grid = forms.TypedChoiceField(
        label=gettext_lazy("Grid"), required=False, coerce=int, empty_value=None
    )
    department = forms.TypedChoiceField(
        label=gettext_lazy("Department"), required=False, coerce=int, empty_value=None
    )
    light = forms.ChoiceField(label=gettext_lazy("Light"), required=False)
    source = forms.ChoiceField(label=gettext_lazy("Source"), required=False)
    since = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    q = forms.CharField(
        label=gettext_lazy("Description contains"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    sort = forms.ChoiceField(label=gettext_lazy("Sort"), required=False, choices=SORT_CHOICES)

    def __init__(self, *args, choices: boards.ConsoleChoices, **kwargs):
        super().__init__(*args, **kwargs)
        every = gettext_lazy("All")
        self.fields["state"].choices = STATE_FILTERS
        self.fields["major"].choices = [*_blank(every), *choices.majors]
        self.fields["category"].choices = [
            *_blank(every),
            *((c.pk, f"{c.service_code} {c.name}") for c in choices.categories),
        ]
        self.fields["grid"].choices = [*_blank(every), *((g.pk, g.name) for g in choices.grids)]
        self.fields["department"].choices = [
            *_blank(every),
            *((d.pk, d.name) for d in choices.departments),
        ]
        self.fields["light"].choices = [*_blank(every), *Light.choices]
        self.fields["source"].choices = [*_blank(every), *Source.choices]

    def filters(self) -> boards.ConsoleFilters:
        """The filters from the fields that are valid (an invalid one is simply not applied)."""
        self.is_valid()
        data = {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
        if "q" in data:
            data["q"] = data["q"].strip()
        return boards.ConsoleFilters(**data)


BULK_OPS = {
    "dispatch": gettext_lazy("Dispatch"),
    "send_verify": gettext_lazy("Send for verification"),
}


def _console_query(filters: boards.ConsoleFilters) -> str:
    values = {k: v for k, v in vars(filters).items() if v not in (None, "")}
    if values.get("sort") == "due":
        values.pop("sort")
    return urlencode(values)


@login_required
@require_GET
def console(request):
    scope = _required(boards.console_scope(request.user))
    choices = boards.console_choices(request.user)
    # Without a state in the query the console shows the open orders.
    data = request.GET.copy()
    data.setdefault("state", "open")
    form = ConsoleFilterForm(data, choices=choices)
    filters = form.filters()
    result = boards.console_page(scope=scope, filters=filters, page=request.GET.get("page"))
    query = _console_query(filters)
    context = _context(
        request,
        "console",
        form=form,
        page=result,
        choices=choices,
        base_query=f"{query}&" if query else "",
        here=f"{reverse('workorders:console')}?{query}&page={result.number}",
        ops=BULK_OPS,
        dispatchable=State.REGISTERED,
        verifiable=State.REPORTED,
    )
    return _render(request, "workorders/boards/console.html", context)


@login_required
@require_POST
def console_bulk(request):
    """Dispatch many REGISTERED orders (each to its suggested department, or one chosen), or
    send many REPORTED ones to a grid worker for verification."""
    scope = _required(boards.console_scope(request.user))
    back = redirect(_back(request, "workorders:console"))
    op = request.POST.get("op", "")
    ids = _selected_ids(request)
    if op not in BULK_OPS:
        messages.error(request, _("Choose what to do with the selected orders."))
        return back
    if not ids:
        messages.error(request, NOTHING_SELECTED)
        return back
    choices = boards.console_choices(request.user)
    orders = boards.console_selected(scope, ids)
    outcome = Outcome()
    if op == "dispatch":
        chosen = None
        if request.POST.get("department"):
            chosen = next(
                (d for d in choices.departments if str(d.pk) == request.POST["department"]), None
            )
            if chosen is None:
                messages.error(request, _("Choose a department of this street."))
                return back
        suggestions = {} if chosen else boards.suggest_departments(list(orders.values()))
        for pk in ids:
            order = orders.get(pk)
            if order is None:
                outcome.failed.append((pk, str(NOT_FOUND)))
                continue
            if chosen is not None:
                outcome.attempt(request.user, order, "dispatch", department=chosen)
                continue
            suggestion = suggestions.get(pk)
            if suggestion is None:
                outcome.failed.append((pk, str(NO_ROUTE)))
                continue
            outcome.attempt(
                request.user,
                order,
                "dispatch",
                department=suggestion.department,
                co_departments=suggestion.co_departments,
            )
        outcome.tell(
            request,
            ngettext("%(n)d order dispatched.", "%(n)d orders dispatched.", len(outcome.done)),
        )
    else:
        worker = next(
            (
                a.user
                for a in choices.grid_workers
                if str(a.user_id) == request.POST.get("assignee")
            ),
            None,
        )
        if worker is None:
            messages.error(request, _("Choose the grid worker who will go."))
            return back
        for pk in ids:
            order = orders.get(pk)
            if order is None:
                outcome.failed.append((pk, str(NOT_FOUND)))
                continue
            outcome.attempt(request.user, order, "send_verify", assignee=worker)
        outcome.tell(
            request,
            ngettext(
                "%(n)d order sent for verification.",
                "%(n)d orders sent for verification.",
                len(outcome.done),
            ),
        )
    return back


# --- department inbox -------------------------------------------------------------------------


@login_required
@require_GET
def department_inbox(request):
    found = _required(
        boards.department_inbox(
            viewer=request.user, tab=request.GET.get("tab", "todo"), page=request.GET.get("page")
        )
    )
    context = _context(
        request,
        "department_inbox",
        inbox=found,
        page=found.window,
        base_query=f"tab={found.tab}&",
        here=f"{reverse('workorders:department_inbox')}?tab={found.tab}&page={found.window.number}",
    )
    return _render(request, "workorders/boards/department.html", context)


@login_required
@require_POST
def department_sign(request):
    """Sign for one or many dispatched orders of the handler's department (T11)."""
    found = _required(boards.department_scope(request.user))
    scope, _departments = found
    back = redirect(_back(request, "workorders:department_inbox"))
    ids = _selected_ids(request)
    if not ids:
        messages.error(request, NOTHING_SELECTED)
        return back
    orders = boards.console_selected(scope, ids)
    outcome = Outcome()
    for pk in ids:
        order = orders.get(pk)
        if order is None:
            outcome.failed.append((pk, str(NOT_FOUND)))
            continue
        outcome.attempt(request.user, order, "sign_for")
    outcome.tell(
        request, ngettext("%(n)d order signed for.", "%(n)d orders signed for.", len(outcome.done))
    )
    return back


# --- overdue board ----------------------------------------------------------------------------

OVERDUE_ACTIONS = frozenset(
    {
        "supervise",
        "approve_return",
        "refuse_return",
        "approve_extension",
        "refuse_extension",
        "approve_suspension",
        "refuse_suspension",
    }
)


@login_required
@require_GET
def overdue(request):
    scope = _required(boards.overdue_scope(request.user))
    board = boards.overdue_board(
        viewer=request.user,
        scope=scope,
        colour=request.GET.get("light", ""),
        department=request.GET.get("department"),
        grid=request.GET.get("grid"),
        page=request.GET.get("page"),
    )
    kept = {"light": board.light, "department": board.department, "grid": board.grid}
    query = urlencode({k: v for k, v in kept.items() if v})
    context = _context(
        request,
        "overdue",
        board=board,
        page=board.window,
        base_query=f"{query}&" if query else "",
        here=f"{reverse('workorders:overdue')}?{query}&page={board.window.number}",
        actions=ACTIONS,
    )
    return _render(request, "workorders/boards/overdue.html", context)


@login_required
@require_POST
def overdue_act(request):
    """督办 with a note, or approve / refuse a pending request, in one step."""
    scope = _required(boards.overdue_scope(request.user))
    raw = request.POST.get("order", "")
    if not is_id(raw):
        raise Http404
    pk = int(raw)
    order = boards.console_selected(scope, [pk]).get(pk)
    if order is None:
        raise Http404
    action = request.POST.get("action", "")
    back = redirect(_back(request, "workorders:overdue"))
    if action not in OVERDUE_ACTIONS:
        messages.error(request, _("Choose one of the offered actions."))
        return back
    outcome = Outcome()
    outcome.attempt(request.user, order, action, reason=request.POST.get("reason", ""))
    outcome.tell(
        request,
        _("Order #%(pk)s: “%(action)s” done.")
        % {"pk": pk, "action": ACTIONS[action].label, "n": 1},
    )
    return back


# --- district view ----------------------------------------------------------------------------


@login_required
@require_GET
def district(request):
    prefixes = boards.district_prefixes(request.user)
    if not prefixes:
        raise Http404
    view = boards.district_view(prefixes=prefixes, page=request.GET.get("page"))
    context = _context(request, "district", view=view, page=view.escalated, base_query="")
    return _render(request, "workorders/boards/district.html", context)


# --- map --------------------------------------------------------------------------------------


def tile_url() -> str:
    return getattr(settings, "LINLI_MAP_TILE_URL", "") or ""


@login_required
@require_GET
def order_map(request):
    scope = _required(boards.map_scope(request.user))
    context = _context(
        request,
        "map",
        grids=boards.map_grids(scope),
        tile_url=tile_url(),
        cap=boards.MAP_CAP,
    )
    return render(request, "workorders/boards/map.html", context)


@login_required
@require_GET
def map_data(request):
    scope = _required(boards.map_scope(request.user))
    data = boards.map_points(scope)
    for point in data.points:
        point["url"] = reverse("workorders:order", args=[point["id"]])
    return JsonResponse(
        {
            "total": data.total,
            "shown": len(data.points),
            "cap": boards.MAP_CAP,
            "unplaced": data.unplaced,
            "orders": data.points,
            "grids": [
                {
                    "id": g["grid_id"],
                    "name": g["grid__name"] or "",
                    "open": g["n"],
                    "red": g["red"],
                }
                for g in data.grids
            ],
            "generated_at": timezone.now().isoformat(),
        },
        json_dumps_params={"ensure_ascii": False},
    )
