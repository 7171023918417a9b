"""Intake pages (report, errands), "my reports" and the order page with its actions.

Every order is looked up through selectors.order_get first, so an order outside the viewer's
scope answers 404 on every URL (page, photos, actions), exactly like a missing one. Reporters
see the progress in plain words with role names only; staff see who acted and the masked phone.
"""

from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from linli.accounts.roles import Role
from linli.accounts.scoping import grants
from linli.core.scoping import under_q
from linli.people import selectors as people_selectors
from linli.people.choices import ResidentStatus
from linli.people.models import Resident
from linli.places.choices import PlaceKind
from linli.places.models import Place
from linli.workorders import machine, perms, selectors, services
from linli.workorders.choices import OPEN_STATES, Light, Rating, Source
from linli.workorders.forms import ActionForm, ErrandForm, ReportForm
from linli.workorders.models import Attachment, Category, ServiceItem, Transition, WorkOrder

ORDERS_PER_PAGE = 20

# The reporter's view of each step: what happened, in plain words.
STEP_WORDS = {
    "report": gettext_lazy("Reported"),
    "self_handle": gettext_lazy("The residents' committee is handling it"),
    "rc_close": gettext_lazy("Settled by the residents' committee"),
    "escalate": gettext_lazy("Passed on to the street's grid centre"),
    "send_verify": gettext_lazy("A grid worker is going to look on site"),
    "verify": gettext_lazy("Confirmed on site"),
    "reject": gettext_lazy("Not accepted"),
    "self_resolve": gettext_lazy("Fixed on the spot by the grid worker"),
    "approve_self_resolved": gettext_lazy("Closed"),
    "register": gettext_lazy("Registered by the grid centre"),
    "dispatch": gettext_lazy("Sent to the department responsible"),
    "sign_for": gettext_lazy("The department has taken it on"),
    "request_return": gettext_lazy("The department says it is not theirs"),
    "approve_return": gettext_lazy("Being sent to the right department"),
    "refuse_return": gettext_lazy("The department must handle it"),
    "request_extension": gettext_lazy("The department asked for more time"),
    "approve_extension": gettext_lazy("More time granted"),
    "refuse_extension": gettext_lazy("More time refused"),
    "request_suspension": gettext_lazy("The department asked to put it on hold (long-term work)"),
    "approve_suspension": gettext_lazy("On hold (long-term work)"),
    "refuse_suspension": gettext_lazy("Hold refused: work goes on"),
    "resume": gettext_lazy("Work resumed"),
    "feedback": gettext_lazy("The department reports it fixed"),
    "send_check": gettext_lazy("A grid worker is going to check the result"),
    "check": gettext_lazy("The result was checked on site"),
    "close": gettext_lazy("Closed"),
    "rework": gettext_lazy("Not fixed yet: sent back to the department"),
    "rate": gettext_lazy("Rated"),
    "reopen": gettext_lazy("Being handled again"),
    "request_summons": gettext_lazy("The committee asked the departments to meet"),
    "decide_summons": gettext_lazy("The departments met and agreed who handles it"),
    "escalate_district": gettext_lazy("Passed to the district"),
    "supervise": gettext_lazy("The grid centre pressed for progress"),
    "remind": gettext_lazy("Reminder: due soon"),
    "archive": gettext_lazy("Archived"),
}
# Steps the reporter does not see (internal timers).
HIDDEN_FROM_REPORTER = frozenset({"remind"})
# Steps whose reason is an outcome the reporter is told; other reasons are internal notes.
REASONS_FOR_REPORTER = frozenset({"rc_close", "feedback", "reject", "reopen", "rework"})
SYSTEM_ROLE = gettext_lazy("System")
RETURN_UNTIL = gettext_lazy(
    "A return is possible until %(deadline)s (the sign-for deadline plus the grace period); "
    "give the legal or ownership basis."
)
REPORTER = gettext_lazy("The reporter")


def _add_service_errors(form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form's fields (or above it)."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _role_names(codes: str) -> str:
    names = []
    for code in filter(None, (codes or "").split(",")):
        if code == "system":
            names.append(str(SYSTEM_ROLE))
        elif code in Role.values:
            names.append(str(Role(code).label))
    return "、".join(names)


def _light(order, now=None) -> dict | None:
    colour = selectors.light(order, now)
    return {"colour": colour, "label": Light(colour).label} if colour else None


# --- who reports what, where ------------------------------------------------------------------

_INTAKE_PERMS = frozenset({perms.REPORT, perms.PATROL, perms.HANDLE_COMMITTEE})


def _source(user) -> str | None:
    """The intake channel of this user's reports (None: the user may not report)."""
    held = [g for g in grants(user) if g.perms & _INTAKE_PERMS]
    if any(perms.PATROL in g.perms for g in held):
        return Source.PATROL
    if any(perms.HANDLE_COMMITTEE in g.perms for g in held):
        return Source.COMMITTEE
    if any(g.role == Role.PROPERTY_MANAGER for g in held):
        return Source.PROPERTY
    if held:
        return Source.RESIDENT
    return None


def _report_places(user):
    """Compounds the user may pick: a resident's committee's compounds, else those in scope."""
    condition = Q(pk__in=[])
    for g in grants(user):
        if not g.perms & _INTAKE_PERMS:
            continue
        for prefix in g.prefixes:
            if g.place_kind in (PlaceKind.HOUSEHOLD, PlaceKind.BUILDING):
                # Compounds are children of committees only: the one among the ancestors.
                ancestors = [int(prefix[i : i + 10]) for i in range(0, len(prefix), 10)]
                condition |= Q(parent_id__in=ancestors)
            else:
                condition |= under_q(prefix)
    return Place.objects.filter(condition, kind=PlaceKind.COMPOUND).order_by("name")


def _report_categories(source: str):
    categories = Category.objects.filter(active=True)
    if source in (Source.RESIDENT, Source.PROPERTY):
        categories = categories.filter(public=True)
    return categories.order_by("kind", "major_code", "minor_code")


def _suggestions(text: str, categories) -> list:
    """classify.suggest, kept to the categories this user may choose."""
    from linli.workorders import classify

    text = (text or "").strip()
    if not text:
        return []
    found = classify.suggest(text[: services.MAX_DESCRIPTION], limit=3)
    allowed = set(
        categories.filter(pk__in=[s.category.pk for s in found]).values_list("pk", flat=True)
    )
    return [s for s in found if s.category.pk in allowed]


def _selected_category(data, suggestions) -> str:
    """Keep what the person chose; otherwise preselect the top suggestion."""
    chosen = data.get("category", "")
    if chosen and data.get("category_chosen") in ("True", "true", "on", "1"):
        return str(chosen)
    if suggestions:
        return str(suggestions[0].category.pk)
    return str(chosen or "")


def _category_context(data, categories) -> dict:
    suggestions = _suggestions(data.get("description", ""), categories)
    selected = _selected_category(data, suggestions)
    return {
        "categories": categories,
        "suggestions": suggestions,
        "selected_category": selected,
        "selected_suggested": selected in {str(s.category.pk) for s in suggestions},
        "category_chosen": data.get("category_chosen") in ("True", "true", "on", "1"),
    }


def _intake(request):
    source = _source(request.user)
    if source is None:
        raise Http404
    return source, _report_places(request.user), _report_categories(source)


@login_required
@require_http_methods(["GET", "POST"])
def report(request):
    source, places, categories = _intake(request)
    form = ReportForm(
        request.POST or None, request.FILES or None, places=places, categories=categories
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            order = services.order_report(
                actor=request.user,
                report=services.Report(
                    source=source,
                    description=data["description"],
                    category=data["category"],
                    place=data["place"],
                    lat=data["lat"],
                    lng=data["lng"],
                    address=data["address"],
                    photos=data["photos"],
                ),
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Thank you. Your report is number %(number)s; you can follow it here.")
                % {"number": order.pk},
            )
            return redirect("workorders:order", pk=order.pk)
    context = {
        "form": form,
        "photos_lost": form.is_bound and bool(request.FILES),
        **_category_context(form.data if form.is_bound else {}, categories),
    }
    return render(request, "workorders/report.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def report_categories(request):
    """htmx: the category chooser with fresh suggestions for the text typed so far."""
    _, _, categories = _intake(request)
    data = request.POST if request.method == "POST" else request.GET
    response = render(
        request, "workorders/report.html#category", _category_context(data, categories)
    )
    response["HX-Trigger"] = "categories-updated"
    return response


@dataclass
class Similar:
    order: WorkOrder
    distance_m: int | None
    visible: bool


def _rounded(distance: float | None, *, exact: bool) -> int | None:
    if distance is None:
        return None
    return round(distance) if exact else max(50, round(distance / 50) * 50)


@login_required
@require_http_methods(["GET", "POST"])
def report_similar(request):
    """htmx: "a similar problem was reported nearby" once a category and a place are known."""
    _, places, categories = _intake(request)
    data = request.POST if request.method == "POST" else request.GET
    form = ReportForm(data, places=places, categories=categories)
    form.is_valid()
    found = []
    category, place = form.cleaned_data.get("category"), form.cleaned_data.get("place")
    lat, lng = form.cleaned_data.get("lat"), form.cleaned_data.get("lng")
    if place is None and lat is not None and lng is not None:
        place = selectors.place_near(lat, lng)
    if category is not None and place is not None:
        street = Place.objects.filter(pk__in=place.ancestor_ids(), kind=PlaceKind.STREET).first()
        if street is not None:
            probe = WorkOrder(
                category=category,
                street=street,
                place=place,
                lat=lat,
                lng=lng,
                created_at=timezone.now(),
            )
            candidates = [
                c for c in selectors.duplicates_suggest(probe) if c.order.state in OPEN_STATES
            ][:3]
            visible = set(
                selectors.orders_visible(request.user)
                .filter(pk__in=[c.order.pk for c in candidates])
                .values_list("pk", flat=True)
            )
            # Of orders the user may not open, only public matters are hinted at, with a rounded
            # distance: a neighbour must not locate a private complaint this way.
            found = [
                Similar(
                    c.order,
                    _rounded(c.distance_m, exact=c.order.pk in visible),
                    c.order.pk in visible,
                )
                for c in candidates
                if c.order.pk in visible or not category.self_governable
            ]
    return render(
        request, "workorders/report.html#similar", {"similar": found, "category": category}
    )


# --- my reports -------------------------------------------------------------------------------


@dataclass
class Step:
    transition: Transition
    words: str
    who: str
    role: str
    reason: str = ""
    photos: list = field(default_factory=list)


def _steps(order, transitions, *, staff: bool, photos_by_step=None) -> list[Step]:
    steps = []
    photos_by_step = photos_by_step or {}
    for t in transitions:
        if not staff and t.action in HIDDEN_FROM_REPORTER:
            continue
        by_reporter = t.actor_id is not None and t.actor_id == order.reporter_id
        if staff:
            spec = machine.ACTIONS.get(t.action)
            words = str(spec.label) if spec else str(STEP_WORDS.get(t.action, t.action))
            # The reporter's identity stays private even from staff (a masked phone at most).
            if by_reporter:
                who = str(REPORTER)
            else:
                who = (str(t.actor) if t.actor_id else t.actor_name) or str(SYSTEM_ROLE)
            reason = t.reason
        else:
            words = str(STEP_WORDS.get(t.action, t.action))
            who = ""
            reason = t.reason if t.action in REASONS_FOR_REPORTER else ""
        if t.action == "dispatch" and t.department_id:
            words = f"{words}（{t.department.name}）"
        if by_reporter:
            role = str(order.get_source_display())
        elif t.role:
            role = _role_names(t.role)
        else:
            role = "" if t.actor_id or t.actor_name else str(SYSTEM_ROLE)
        steps.append(
            Step(
                transition=t,
                words=words,
                who=who,
                role=role,
                reason=reason,
                photos=photos_by_step.get(t.pk, []),
            )
        )
    return steps


@dataclass
class MyOrder:
    order: WorkOrder
    steps: list[Step]
    light: dict | None
    rate_form: ActionForm | None


@login_required
def mine(request):
    """The reporter's own reports, newest first, with their progress and a rating when closed."""
    orders = (
        WorkOrder.objects.filter(reporter=request.user)
        .select_related("category", "service_item", "duplicate_of", "duplicate_of__category")
        .prefetch_related(
            Prefetch(
                "transitions",
                queryset=Transition.objects.select_related("department").order_by("at", "id"),
            )
        )
        .order_by("-created_at", "-id")
    )
    page = Paginator(orders, ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    rate = machine.ACTIONS["rate"]
    rows = []
    for order in page.object_list:
        rate_form = None
        if order.state in rate.sources and services.can_act(request.user, order, rate):
            rate_form = ActionForm(action=rate, initial={"version": order.version})
        rows.append(
            MyOrder(
                order=order,
                steps=_steps(order, order.transitions.all(), staff=False),
                light=_light(order, now),
                rate_form=rate_form,
            )
        )
    context = {"page": page, "rows": rows, "ratings": Rating.choices}
    return render(request, "workorders/mine.html", context)


# --- the order page ---------------------------------------------------------------------------


_is_staff = selectors.is_staff


def _action_form(action, order, user, data=None, files=None) -> ActionForm:
    initial = {"version": order.version}
    kwargs = {}
    if action.code in ("send_verify", "send_check"):
        kwargs["assignees"] = selectors.grid_workers_for(order=order)
        if order.assignee_id:
            initial["assignee"] = order.assignee_id
    if action.code in ("dispatch", "decide_summons"):
        kwargs["departments"] = services.department_queryset_for(order)
        rule = selectors.route_for(
            street_id=order.street_id, grid_id=order.grid_id, category_id=order.category_id
        )
        if rule is not None:
            initial["department"] = rule.department_id
            initial["co_departments"] = [d.pk for d in rule.co_departments.all()]
    if action.code == "register":
        initial["urgency"] = order.urgency
    if action.code == "reject":
        kwargs["duplicates"] = (
            selectors.orders_visible(user).filter(street_id=order.street_id).exclude(pk=order.pk)
        )
    form = ActionForm(data, files, action=action, initial=initial, **kwargs)
    if "photos" in form.fields and not services.photos_required(action, order):
        form.fields["photos"].required = False
    if action.code == "request_return":
        due = services.return_due(order)
        if due is not None:
            when = timezone.localtime(due).strftime("%Y-%m-%d %H:%M")
            form.fields["reason"].help_text = RETURN_UNTIL % {"deadline": when}
    return form


def _order_context(request, order, *, forms=None, conflict: str = "", denied: str = "") -> dict:
    user = request.user
    forms = forms or {}
    staff = _is_staff(user, order)
    attachments = list(order.attachments.order_by("id"))
    photos_by_step: dict[int, list] = {}
    for a in attachments:
        photos_by_step.setdefault(a.transition_id, []).append(a)
    transitions = order.transitions.select_related("actor", "department").order_by("at", "id")
    actions = []
    for action in machine.available(order.state):
        if services.can_act(user, order, action):
            form = forms.get(action.code) or _action_form(action, order, user)
            actions.append({"action": action, "form": form})
    duplicates = []
    if order.state in OPEN_STATES and user.has_perm(perms.DISPATCH, order):
        duplicates = selectors.duplicates_suggest(order)
    return {
        "order": order,
        "staff": staff,
        "reporter_contact": staff and selectors.reporter_contact_visible(user, order),
        # Errands name a resident: only their committee sees who (departments do not).
        "committee_staff": request.user.has_perm(perms.HANDLE_COMMITTEE, order),
        "steps": _steps(order, transitions, staff=staff, photos_by_step=photos_by_step),
        "photos": [a for a in attachments if a.content_type in services.PHOTO_TYPES],
        "light": _light(order),
        "co_departments": list(order.co_departments.all()) if order.department_id else [],
        "actions": actions,
        "duplicates": duplicates,
        "conflict": conflict,
        "denied": denied,
        "is_reporter": order.reporter_id == user.pk,
    }


@login_required
def order_detail(request, pk: int):
    order = selectors.order_get(viewer=request.user, pk=pk)
    return render(request, "workorders/order.html", _order_context(request, order))


@login_required
def attachment(request, pk: int, attachment_id: int):
    """A photo of an order, only for those who may see the order (never a public media URL)."""
    order = selectors.order_get(viewer=request.user, pk=pk)
    item = get_object_or_404(Attachment, pk=attachment_id, order=order)
    is_photo = item.content_type in services.PHOTO_TYPES
    response = FileResponse(
        item.file.open("rb"),
        content_type=item.content_type if is_photo else "application/octet-stream",
        as_attachment=not is_photo,
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _next_url(request, order) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("workorders:order", args=[order.pk])


def _conflict(request, order_pk: int, message: str):
    order = selectors.order_get(viewer=request.user, pk=order_pk)
    context = _order_context(request, order, conflict=message)
    return render(request, "workorders/order.html", context, status=409)


@login_required
@require_POST
def act(request, pk: int, action: str):
    order = selectors.order_get(viewer=request.user, pk=pk)
    spec = machine.ACTIONS.get(action)
    if spec is None:
        raise Http404
    if not services.can_act(request.user, order, spec):
        denied = services.denied_reason(request.user, order, spec)
        if not denied:
            raise PermissionDenied
        # Say why (a handler asking for more time: T13 is the head's), on the order's page.
        context = _order_context(request, order, denied=denied)
        return render(request, "workorders/order.html", context, status=403)
    form = _action_form(spec, order, request.user, data=request.POST, files=request.FILES)
    if not form.is_valid():
        return render(
            request, "workorders/order.html", _order_context(request, order, forms={action: form})
        )
    stale = form.cleaned_data["version"] != order.version or order.state not in spec.sources
    if stale:
        return _conflict(request, order.pk, str(services.Conflict(order)))
    try:
        services.order_act(actor=request.user, order=order, action=action, **form.params())
    except services.Conflict as conflict:
        return _conflict(request, order.pk, str(conflict))
    except ValidationError as error:
        _add_service_errors(form, error)
        # The service may have changed the order in memory before refusing: show it fresh.
        order = selectors.order_get(viewer=request.user, pk=pk)
        return render(
            request, "workorders/order.html", _order_context(request, order, forms={action: form})
        )
    messages.success(request, _("Done: %(action)s.") % {"action": spec.label})
    return redirect(_next_url(request, order))


# --- errands (一代理) --------------------------------------------------------------------------


def _errand_scope(user):
    prefixes = user.scope_prefixes(perms.HANDLE_COMMITTEE)
    if not prefixes:
        raise Http404
    ancestors = {p[:i] for p in prefixes for i in range(10, len(p) + 1, 10)}
    items = (
        ServiceItem.objects.filter(street__path__in=ancestors, active=True)
        .select_related("street")
        .order_by("code")
    )
    residents = Resident.objects.for_viewer(user, perms.HANDLE_COMMITTEE).filter(
        status=ResidentStatus.ACTIVE
    )
    return items, residents


def _resident_matches(request, residents) -> list:
    q = (request.POST.get("q") or "").strip()
    if not q:
        return []
    result = people_selectors.resident_search(viewer=request.user, q=q)
    allowed = set(
        residents.filter(pk__in=[r.pk for r in result.page.object_list]).values_list(
            "pk", flat=True
        )
    )
    return [r for r in result.page.object_list if r.pk in allowed][:20]


@login_required
@require_http_methods(["GET", "POST"])
def errand_new(request):
    items, residents = _errand_scope(request.user)
    searching = request.method == "POST" and "search" in request.POST
    form = ErrandForm(
        request.POST if request.method == "POST" and not searching else None,
        initial=request.POST if searching else None,
        items=items,
        residents=residents,
    )
    matches = _resident_matches(request, residents) if request.method == "POST" else []
    chosen = None
    if request.method == "POST" and not searching and form.is_valid():
        data = form.cleaned_data
        try:
            order = services.errand_create(
                actor=request.user,
                service_item=data["service_item"],
                beneficiary=data["beneficiary"],
                description=data["description"],
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("The errand is recorded as number %(number)s.") % {"number": order.pk},
            )
            return redirect("workorders:order", pk=order.pk)
    if form.is_bound:
        chosen = form.cleaned_data.get("beneficiary") if hasattr(form, "cleaned_data") else None
    if chosen is not None and chosen.pk not in {r.pk for r in matches}:
        matches = [chosen, *matches]
    context = {"form": form, "matches": matches, "chosen": chosen, "q": request.POST.get("q", "")}
    return render(request, "workorders/errand_new.html", context)


@login_required
@require_POST
def errand_residents(request):
    """htmx: residents of the committee matching the name typed (POST: numbers stay out of URLs)."""
    _items, residents = _errand_scope(request.user)
    return render(
        request,
        "workorders/errand_new.html#residents",
        {"matches": _resident_matches(request, residents), "q": request.POST.get("q", "")},
    )
