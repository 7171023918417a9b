"""Staff pages of fund projects (/projects/): the list with its warnings, the application
wizard, the project page with its action panel, the reviewer's scoring page and the invoices.

Every project is looked up through `selectors.project_get` first, so one outside the viewer's
places answers 404 on every URL, exactly like a missing one. Each step of the action panel posts
to its own URL and calls its one service; the service's refusal is shown on the form that was
posted (nothing typed is lost) and never becomes a 500. A step the viewer's role does not hold
answers 403.
"""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.accounts.roles import Role
from linli.accounts.scoping import grants
from linli.core.scoping import under_q
from linli.funds.money import ZERO, parse_money, yuan
from linli.funds.participation import participation_check, percent
from linli.funds.selectors import profile_for
from linli.notices.choices import ObjectionState
from linli.notices.models import Notice
from linli.notices.perms import PUBLISH
from linli.places.choices import PlaceKind
from linli.places.models import Place
from linli.projects import perms, selectors, services
from linli.projects.choices import (
    ENDED,
    PATH,
    ExpenseCategory,
    PaymentState,
    ProjectState,
    Stage,
    Step,
)
from linli.projects.constants import CRITERIA
from linli.projects.forms import (
    AcceptForm,
    ApplicationForm,
    CheckForm,
    CloseForm,
    DecideForm,
    EvaluateForm,
    PaymentForm,
    ReasonForm,
    ReportForm,
    ReviewForm,
    is_blank,
    line_forms,
    posted_rows,
)
from linli.projects.models import Payment, PaymentApproval, Project, Review

S = ProjectState
CHOICES_SHOWN = 100  # topics and meetings offered in the wizard (the newest)
OVERDUE_SHOWN = 20
QUEUE_SHOWN = 50
BLANK_LINE = {"category": "", "item": "", "amount": ""}
# Where a service's refusal is shown when it names no field of the form that was posted.
PANEL_FORMS = {
    "check": CheckForm,
    "decide": DecideForm,
    "withdraw": ReasonForm,
    "complete": ReportForm,
    "accept": AcceptForm,
    "evaluate": EvaluateForm,
    "close": CloseForm,
}


def _error_text(error: ValidationError) -> str:
    return " ".join(str(m) for m in error.messages)


def _add_errors(form, error: ValidationError, *, aliases: dict | None = None) -> list:
    """Put a service's refusal on the form's fields; return the messages that fit no field."""
    aliases = aliases or {}
    rest = []
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            field = aliases.get(name, name)
            if field in form.fields:
                form.add_error(field, errors)
            else:
                rest.extend(m for e in errors for m in e.messages)
    else:
        rest.extend(error.messages)
    return rest


def _viewer_places(user, perm: str) -> list[Place]:
    """The places where the viewer holds `perm` (usually one)."""
    ids = {g.place_id for g in grants(user) if perm in g.perms}
    places = list(Place.objects.filter(pk__in=ids).order_by("path")) if ids else []
    kept: list[Place] = []
    for place in places:  # a place under another one is counted with it
        if not any(place.path.startswith(k.path) for k in kept):
            kept.append(place)
    return kept


def _under_any(prefixes: list[str], field: str = "path") -> Q:
    condition = Q(pk__in=[])
    for prefix in prefixes:
        condition |= under_q(prefix, field)
    return condition


def _street_of(place: Place) -> Place:
    return place if place.kind == PlaceKind.STREET else place.parent


# --- the list ---------------------------------------------------------------------------------


def _review_queue(user):
    """Projects awaiting the reviewer's scores: applications under review and projects under
    evaluation that they have not scored (or stood aside from) yet."""
    if not user.has_perm(perms.REVIEW):
        return []
    mine = Review.objects.filter(project=OuterRef("pk"), reviewer=user)
    return list(
        selectors.projects_for(viewer=user, perm=perms.REVIEW)
        .filter(
            Q(state=S.CHECKED) & ~Exists(mine.filter(stage=Stage.REVIEW))
            | Q(state=S.ACCEPTED) & ~Exists(mine.filter(stage=Stage.EVALUATION))
        )
        .order_by("updated_at", "id")[:QUEUE_SHOWN]
    )


@login_required
@require_GET
def project_list(request):
    """Projects under the viewer's places: filters, counts by state, overdue disclosures, the
    reviewer's queue and the button to apply."""
    user = request.user
    if not user.has_perm(perms.VIEW_PROJECTS):
        raise Http404
    state = request.GET.get("state", "")
    state = state if state in S.values else ""
    year = request.GET.get("year", "")
    year = year if year.isascii() and year.isdigit() and len(year) == 4 else ""
    prefixes = user.scope_prefixes(perms.VIEW_PROJECTS)
    committees = Place.objects.filter(_under_any(prefixes), kind=PlaceKind.COMMITTEE).order_by(
        "path"
    )
    place = None
    place_id = request.GET.get("place", "")
    if place_id.isascii() and place_id.isdigit() and len(place_id) < 12:
        place = committees.filter(pk=int(place_id)).first()
    page = selectors.projects_page(
        viewer=user, place=place, state=state, year=year, page=request.GET.get("page")
    )
    counts: dict[str, int] = {}
    for top in [place] if place else _viewer_places(user, perms.VIEW_PROJECTS):
        for key, n in selectors.counts_by_state(viewer=user, place=top).items():
            counts[key] = counts.get(key, 0) + n
    years = sorted(
        set(selectors.projects_for(viewer=user).values_list("year", flat=True).distinct()),
        reverse=True,
    )
    overdue = list(selectors.overdue_disclosures(viewer=user)[:OVERDUE_SHOWN])
    query = "".join(
        f"{name}={value}&"
        for name, value in (("state", state), ("year", year), ("place", place.pk if place else ""))
        if value
    )
    committee_list = list(committees[:300])
    return render(
        request,
        "projects/list.html",
        {
            "page": page,
            "state": state,
            "year": year,
            "place": place,
            "states": [(s.value, s.label, counts.get(s.value, 0)) for s in S],
            "total": sum(counts.values()),
            "years": years,
            "committees": committee_list if len(committee_list) > 1 else [],
            "overdue": overdue,
            "queue": _review_queue(user),
            "can_apply": bool(user.scope_prefixes(perms.APPLY)),
            "query": query,
            "today": timezone.localdate(),
        },
    )


# --- the application wizard -------------------------------------------------------------------


def _apply_places(user):
    prefixes = user.scope_prefixes(perms.APPLY)
    if not prefixes:
        return Place.objects.none()
    return Place.objects.filter(
        _under_any(prefixes), kind__in=(PlaceKind.COMMITTEE, PlaceKind.STREET)
    ).order_by("path")


def _wizard_choices(places: list[Place], *, topic_id=None, meeting_id=None) -> dict:
    """The compounds, topics and (held) meetings of the places applied for."""
    from linli.deliberation.choices import TopicState
    from linli.deliberation.models import Topic
    from linli.meetings.choices import MeetingState
    from linli.meetings.models import Meeting

    paths = [p.path for p in places]
    inside = _under_any(paths)
    topics = Topic.objects.filter(inside).exclude(state=TopicState.MERGED)
    topic_ids = list(topics.order_by("-id").values_list("pk", flat=True)[:CHOICES_SHOWN])
    meetings = Meeting.objects.filter(
        inside, state__in=(MeetingState.CLOSED, MeetingState.MINUTES_PUBLISHED)
    )
    meeting_ids = list(meetings.order_by("-starts_at").values_list("pk", flat=True)[:CHOICES_SHOWN])
    # The project's own (or the prefilled) record stays offered even when older.
    if topic_id:
        topic_ids.append(topic_id)
    if meeting_id:
        meeting_ids.append(meeting_id)
    return {
        "compounds": Place.objects.filter(inside, kind=PlaceKind.COMPOUND)
        .select_related("parent")
        .order_by("path"),
        "topics": Topic.objects.filter(inside, pk__in=topic_ids).order_by("-id"),
        "meetings": Meeting.objects.filter(inside, pk__in=meeting_ids).order_by("-starts_at"),
    }


def _rows_of(project: Project) -> list[dict]:
    return [
        {"category": line.category, "item": line.item, "amount": f"{line.amount:.2f}"}
        for line in project.lines.all()
    ]


def _chosen(form, name: str, default=None):
    """The object a bound form's choice field points at, even when the form is invalid."""
    if name not in form.fields:
        return default
    if form.is_bound:
        try:
            return form.fields[name].clean(form[name].data) or default
        except ValidationError:
            return default
    return form.initial.get(name) or default


def _summary(form, rows: list[dict], *, project: Project | None, places) -> dict:
    """What the worker checks before saving (step 4, and the live panel): the total against the
    street's cap, lines on the negative list, the deliberation record the street asks for and
    the participation rate of the community or the compound, with the profile's minimum."""
    place = project.place if project else _chosen(form, "place", places[0] if places else None)
    if place is None:
        return {}
    if isinstance(place, int | str):
        place = Place.objects.filter(pk=place).first()
    year = project.year if project else _chosen(form, "year", timezone.localdate().year)
    profile = profile_for(street=_street_of(place), year=int(year))
    total, unreadable, hits = ZERO, 0, {}
    for i, row in enumerate(rows):
        if is_blank(row):
            continue
        try:
            total += parse_money(row.get("amount", ""))
        except (ValidationError, TypeError):
            unreadable += 1
        category = row.get("category", "")
        if category in ExpenseCategory.values:
            hit = services.negative_hit(profile, category, " ".join(row.get("item", "").split()))
            if hit:
                hits[i] = hit
    compound = _chosen(form, "compound")
    if isinstance(compound, int | str):
        compound = Place.objects.filter(pk=compound).first()
    if compound is not None and not compound.path.startswith(place.path):
        compound = None
    check = participation_check(place=compound or place, on=timezone.localdate(), profile=profile)
    has_record = bool(_chosen(form, "topic") or _chosen(form, "meeting"))
    return {
        "place": place,
        "profile": profile,
        "total": total,
        "over_cap": total > profile.per_project_cap,
        "left": profile.per_project_cap - total,
        "unreadable": unreadable,
        "hits": hits,
        "negative_labels": [
            ExpenseCategory(code).label
            for code in profile.negative_list or []
            if code in ExpenseCategory.values
        ],
        "participation": check,
        "participation_place": compound or place,
        "minimum": percent(profile.min_participation_rate)
        if profile.min_participation_rate is not None
        else None,
        "needs_record": profile.require_deliberation,
        "has_record": has_record,
    }


def _wizard(request, project: Project | None):
    user = request.user
    places = list(_apply_places(user)) if project is None else [project.place]
    if not places:
        raise Http404
    this_year = timezone.localdate().year
    initial: dict = {}
    rows: list[dict] = []
    topic_id = meeting_id = None
    if project is not None:
        fields = ("title", "plan", "beneficiaries", "beneficiary_count", "starts_on", "ends_on")
        initial = {name: getattr(project, name) for name in fields}
        initial.update(
            compound=project.compound_id, topic=project.topic_id, meeting=project.meeting_id
        )
        topic_id, meeting_id = project.topic_id, project.meeting_id
        rows = _rows_of(project)
    elif request.method == "GET" and request.GET.get("topic"):
        from linli.deliberation.selectors import topic_get

        topic = topic_get(viewer=user, pk=request.GET["topic"])
        if not user.has_perm(perms.APPLY, topic.place):
            raise Http404
        initial = {
            "title": topic.title[: services.MAX_TITLE],
            "plan": topic.body,
            "place": topic.place_id,
            "compound": topic.compound_id,
            "topic": topic.pk,
        }
        topic_id = topic.pk
    if request.method == "POST":
        rows = posted_rows(request.POST)
        for name in ("topic", "meeting"):
            value = request.POST.get(name, "")
            if value.isascii() and value.isdigit() and len(value) < 12:
                topic_id = int(value) if name == "topic" else topic_id
                meeting_id = int(value) if name == "meeting" else meeting_id
    if not rows:
        rows = [dict(BLANK_LINE), dict(BLANK_LINE)]
    form = ApplicationForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        places=Place.objects.filter(pk__in=[p.pk for p in places]).order_by("path"),
        years=() if project else (this_year, this_year + 1),
        **_wizard_choices(places, topic_id=topic_id, meeting_id=meeting_id),
    )
    if project is None and "year" not in form.initial:
        form.initial["year"] = this_year
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if request.htmx and request.htmx.target == "wizard-summary":
        # The live summary never saves: htmx sends the last clicked button's value along, so a
        # change event fired while "save" is clicked would otherwise save the draft twice.
        action = ""
    lines_errors: list = []
    errors_above: list = []
    bound_lines = False
    if action == "add" and len(rows) < services.MAX_LINES:
        rows.append(dict(BLANK_LINE))
    elif action.startswith("remove-"):
        index = action.removeprefix("remove-")
        if index.isascii() and index.isdigit() and int(index) < len(rows):
            rows.pop(int(index))
        if not rows:
            rows = [dict(BLANK_LINE)]
    elif action == "save":
        result = _wizard_save(request, form, rows, project, lines_errors, errors_above)
        if result is not None:
            return result
        bound_lines = True
    kept = [row for row in rows if not is_blank(row)] if bound_lines else rows
    if bound_lines and not kept:
        kept = [dict(BLANK_LINE)]
    lines = line_forms(kept, bound=bound_lines)
    summary = _summary(form, kept, project=project, places=places)
    for i, line in enumerate(lines):
        line.negative = summary.get("hits", {}).get(i)
    context = {
        "form": form,
        "lines": lines,
        "line_count": len(lines),
        "max_lines": services.MAX_LINES,
        "lines_errors": lines_errors,
        "errors_above": errors_above,
        "summary": summary,
        "project": project,
        "places": places,
        "action_url": reverse("projects:edit", args=[project.pk])
        if project
        else reverse("projects:new"),
    }
    if request.htmx and request.htmx.target == "wizard-summary":
        return render(request, "projects/wizard.html#summary", {**context, "oob_total": True})
    if request.htmx and request.htmx.target == "wizard-lines":
        return render(request, "projects/wizard.html#lines", {**context, "oob_summary": True})
    return render(request, "projects/wizard.html", context)


def _wizard_save(request, form, rows, project, lines_errors, errors_above):
    """Validate the typed application and draft it (or save the draft): a redirect, or None
    with the errors put on the fields, the budget or above the form."""
    kept = [row for row in rows if not is_blank(row)]
    lines = line_forms(kept, bound=True)
    rows_valid = all([line.is_valid() for line in lines])
    form_valid = form.is_valid()
    if not kept:
        lines_errors.append(services.LINES_REQUIRED)
    if not (form_valid and rows_valid and kept):
        if any(line.errors for line in lines):
            lines_errors.append(_("Correct the budget lines marked below."))
        errors_above.append(_("The application is not saved yet: correct what is marked."))
        return None
    data = form.cleaned_data
    budget = [line.cleaned_data for line in lines]
    fields = {
        "title": data["title"],
        "plan": data["plan"],
        "beneficiaries": data["beneficiaries"],
        "beneficiary_count": data["beneficiary_count"],
        "starts_on": data["starts_on"],
        "ends_on": data["ends_on"],
        "topic": data["topic"],
        "meeting": data["meeting"],
        "compound": data["compound"],
    }
    try:
        if project is None:
            extra = {}
            if data["year"] != timezone.localdate().year:
                extra["year"] = data["year"]
            saved = services.project_create(
                actor=request.user, place=data["place"], lines=budget, **fields, **extra
            )
        else:
            saved = services.project_update(
                actor=request.user, project=project, lines=budget, **fields
            )
    except ValidationError as error:
        if hasattr(error, "error_dict") and "lines" in error.error_dict:
            lines_errors.extend(m for e in error.error_dict.pop("lines") for m in e.messages)
        errors_above.append(_("The application is not saved yet: correct what is marked."))
        errors_above.extend(_add_errors(form, error))
        return None
    if project is None:
        messages.success(
            request,
            _("The application is saved as a draft. Check it, then submit it to the committee."),
        )
    else:
        messages.success(request, _("The draft is saved."))
    return redirect("projects:detail", pk=saved.pk)


@login_required
@require_http_methods(["GET", "POST"])
def project_new(request):
    """The application wizard: basics, deliberation record, budget, check and save (draft)."""
    return _wizard(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def project_edit(request, pk):
    """The same wizard for a draft (also one the committee returned for changes)."""
    project = selectors.project_get(viewer=request.user, pk=pk)
    if project.state != S.DRAFT or not request.user.has_perm(perms.APPLY, project):
        raise Http404
    return _wizard(request, project)


# --- the project page -------------------------------------------------------------------------


def _role_labels(codes: str) -> str:
    labels = [str(Role(c).label) if c in Role.values else c for c in codes.split(",") if c]
    return "、".join(labels)


def _progress(project: Project) -> list[dict]:
    ended = project.state in (S.REJECTED, S.WITHDRAWN)
    reached = {step.to_state for step in project.step_list}
    position = PATH.index(project.state) if project.state in PATH else -1
    rows = []
    for n, state in enumerate(PATH):
        if state == project.state:
            status = "current"
        elif (not ended and n < position) or (ended and state in reached):
            status = "done"
        else:
            status = "todo"
        rows.append({"state": state, "label": state.label, "status": status})
    return rows


def _reviews(project: Project) -> list[dict]:
    """Each stage's reviews with their scores in the published order, and the panel's mean."""
    reviews = list(project.reviews.select_related("reviewer").order_by("stage", "submitted_at"))
    stages = []
    for stage in Stage:
        rows = [r for r in reviews if r.stage == stage]
        if not rows:
            continue
        criteria = CRITERIA[stage]
        scored = [r.total for r in rows if not r.conflict]
        mean = (sum(scored, Decimal(0)) / len(scored)).quantize(Decimal("0.01")) if scored else None
        stages.append(
            {
                "stage": stage,
                "criteria": criteria,
                "rows": [
                    {"review": r, "scores": [(c, r.scores.get(c.code, "—")) for c in criteria]}
                    for r in rows
                ],
                "scored": len(scored),
                "recused": len(rows) - len(scored),
                "mean": mean,
            }
        )
    return stages


def _detail_context(request, project: Project, bound: dict | None = None) -> dict:
    user = request.user
    bound = bound or {}
    project.step_list = list(project.steps.select_related("actor").order_by("at", "id"))
    for step in project.step_list:
        step.role_labels = _role_labels(step.role)
    street = _street_of(project.place)
    profile = profile_for(street=street, year=project.year)
    payments = list(
        project.payments.select_related("line", "requested_by").prefetch_related(
            Prefetch("approvals", queryset=PaymentApproval.objects.select_related("user"))
        )
    )
    budget = selectors.budget_rows(project)
    spent = sum((row.paid for row in budget), ZERO)
    pending = sum((row.pending for row in budget), ZERO)
    can = {
        "apply": user.has_perm(perms.APPLY, project),
        "check": user.has_perm(perms.CHECK, project),
        "review": user.has_perm(perms.REVIEW, project),
        "decide": user.has_perm(perms.DECIDE, project),
        "publish": user.has_perm(PUBLISH, project),
    }
    state = project.state
    submitter = next((s for s in reversed(project.step_list) if s.step == Step.SUBMIT), None)
    last = project.step_list[-1] if project.step_list else None
    undisclosed = [p for p in payments if p.state == PaymentState.PAID and not p.disclosed_in_id]
    today = timezone.localdate()
    for payment in payments:
        payment.signed_by_me = any(a.user_id == user.pk for a in payment.approvals.all())
        payment.overdue = (
            payment.state == PaymentState.PAID
            and not payment.disclosed_in_id
            and payment.disclose_by is not None
            and payment.disclose_by < today
        )
    notices = list(
        Notice.objects.filter(source=f"project:{project.pk}").order_by("published_at", "id")
    )
    objections = None
    if project.notice_id:
        objections = project.notice.objections.aggregate(
            total=Count("id"), open=Count("id", filter=Q(state=ObjectionState.OPEN))
        )
    check = participation_check(
        place=services.participation_place(project), on=today, profile=profile
    )
    actions = {
        "edit": state == S.DRAFT and can["apply"],
        "submit": state == S.DRAFT and can["apply"],
        "withdraw": state in services.WITHDRAWABLE and can["apply"],
        "check": state == S.SUBMITTED and can["check"],
        "review": state in (S.CHECKED, S.ACCEPTED) and can["review"],
        "decide": state == S.CHECKED and can["decide"],
        "publicise": state == S.REVIEWED and can["decide"],
        "approve": state == S.PUBLICISED and can["decide"],
        "pay": state == S.APPROVED and can["apply"],
        "sign": state == S.APPROVED and can["check"],
        "disclose": bool(undisclosed) and can["publish"] and (can["apply"] or can["decide"]),
        "complete": state == S.APPROVED and can["apply"],
        "accept": state == S.COMPLETED and can["decide"],
        "evaluate": state == S.ACCEPTED and can["decide"],
        "close": state == S.EVALUATED and can["decide"],
    }
    forms_ = {
        "check": CheckForm(),
        "decide": DecideForm(),
        "withdraw": ReasonForm(prefix="withdraw"),
        "payment": PaymentForm(lines=project.lines.all(), initial={"on": today}),
        "refuse": ReasonForm(prefix="refuse"),
        "complete": ReportForm(),
        "accept": AcceptForm(),
        "evaluate": EvaluateForm(),
        "close": CloseForm(),
        **bound,
    }
    context = {
        "project": project,
        "street": street,
        "profile": profile,
        "progress": _progress(project),
        "ended": state in ENDED,
        "budget": budget,
        "spent": spent,
        "pending": pending,
        "left": project.budget - spent - pending,
        "payments": payments,
        "steps": project.step_list,
        "notices": notices,
        "objections": objections,
        "reviews": _reviews(project),
        "survey": selectors.survey_summary(project)
        if state in (S.ACCEPTED, S.EVALUATED, S.CLOSED)
        else None,
        "participation": check,
        "snapshot": percent(
            Decimal(project.participation_households) / Decimal(project.participation_total)
        )
        if project.participation_total
        else None,
        "can": can,
        "actions": actions,
        "any_action": any(actions.values()),
        "forms": forms_,
        "open_form": next(iter(bound), ""),
        "refuse_blank": ReasonForm(prefix="refuse"),
        "same_person": submitter is not None and submitter.actor_id == user.pk,
        "returned": last if state == S.DRAFT and last and last.step == Step.RETURN else None,
        "undisclosed": undisclosed,
        "today": today,
        "stages": {"review": Stage.REVIEW.value, "evaluation": Stage.EVALUATION.value},
    }
    if actions["decide"]:
        context["panel"] = services.panel(project, Stage.REVIEW)
    if actions["evaluate"]:
        context["panel"] = services.panel(project, Stage.EVALUATION)
    if actions["decide"] or actions["evaluate"]:
        context["min_reviewers"] = profile.min_reviewers
        context["pass_score"] = profile.pass_score
    if actions["approve"]:
        context["approval_errors"] = [str(e) for e in services.approval_errors(project)]
    return context


@login_required
@require_GET
def project_detail(request, pk):
    project = selectors.project_get(viewer=request.user, pk=pk)
    return render(request, "projects/detail.html", _detail_context(request, project))


def _render_refused(request, project, name: str, form, rest: list):
    """The project page again, the posted form open with its errors (and what fits no field
    above it), so nothing typed is lost."""
    for text in rest:
        form.add_error(None, text)
    project = selectors.project_get(viewer=request.user, pk=project.pk)
    context = _detail_context(request, project, bound={name: form})
    return render(request, "projects/detail.html", context)


def _step(request, pk, name: str, call, done: str, *, aliases: dict | None = None):
    """One step of the action panel: its form (if any), its service, a message, back to the
    project. A refusal with a form shows it on the page, without a 500."""
    project = selectors.project_get(viewer=request.user, pk=pk)
    form_class = PANEL_FORMS.get(name)
    form = None
    if form_class is not None:
        prefix = "withdraw" if name == "withdraw" else None
        form = form_class(request.POST, prefix=prefix)
        if not form.is_valid():
            return _render_refused(request, project, name, form, [])
    try:
        call(project, form.cleaned_data if form else {})
    except ValidationError as error:
        if form is None:
            messages.error(request, _error_text(error))
            return redirect("projects:detail", pk=project.pk)
        rest = _add_errors(form, error, aliases=aliases)
        return _render_refused(request, project, name, form, rest)
    messages.success(request, done)
    return redirect("projects:detail", pk=project.pk)


# Each step of the action panel: the service it calls with the user, the project and the
# cleaned data of its form (forms.PANEL_FORMS), and the message once done.
STEPS = {
    "submit": (
        lambda user, p, d: services.project_submit(actor=user, project=p),
        gettext_lazy("Submitted: the committee's director or secretary checks it next."),
    ),
    "check": (
        lambda user, p, d: services.project_check(
            actor=user, project=p, decision=d["decision"], note=d["note"]
        ),
        gettext_lazy("The committee's check is recorded."),
    ),
    "withdraw": (
        lambda user, p, d: services.project_withdraw(actor=user, project=p, reason=d["reason"]),
        gettext_lazy("The application is withdrawn."),
    ),
    "decide": (
        lambda user, p, d: services.project_review_decide(
            actor=user, project=p, decision=d["decision"], note=d["note"]
        ),
        gettext_lazy("The street's decision on the review is recorded."),
    ),
    "publicise": (
        lambda user, p, d: services.project_publicise(actor=user, project=p),
        gettext_lazy("The public notice is on the community's board."),
    ),
    "approve": (
        lambda user, p, d: services.project_approve(actor=user, project=p),
        gettext_lazy("Approved: the budget is committed in the ledger."),
    ),
    "disclose": (
        lambda user, p, d: services.project_disclose(actor=user, project=p),
        gettext_lazy("The project's accounts are published on the board."),
    ),
    "complete": (
        lambda user, p, d: services.project_complete(actor=user, project=p, report=d["report"]),
        gettext_lazy("Completion reported: the street's acceptance is next."),
    ),
    "accept": (
        lambda user, p, d: services.project_accept(
            actor=user, project=p, passed=d["passed"], note=d["note"]
        ),
        gettext_lazy("The acceptance is recorded."),
    ),
    "evaluate": (
        lambda user, p, d: services.project_evaluate(actor=user, project=p, note=d["note"]),
        gettext_lazy("The evaluation is recorded."),
    ),
    "close": (
        lambda user, p, d: services.project_close(actor=user, project=p, outcome=d["outcome"]),
        gettext_lazy("The project is closed and its outcome published."),
    ),
}


@login_required
@require_POST
def project_step(request, pk, name: str):
    """POST /projects/<pk>/<step>/ for every step in STEPS (urls_staff names each)."""
    call, done = STEPS[name]
    return _step(request, pk, name, lambda p, d: call(request.user, p, d), str(done))


# --- payments ---------------------------------------------------------------------------------


@login_required
@require_POST
def payment_request(request, pk):
    project = selectors.project_get(viewer=request.user, pk=pk)
    if not request.user.has_perm(perms.APPLY, project):
        raise PermissionDenied
    form = PaymentForm(request.POST, request.FILES, lines=project.lines.all())
    if not form.is_valid():
        return _render_refused(request, project, "payment", form, [])
    data = form.cleaned_data
    try:
        payment = services.payment_request(
            actor=request.user,
            project=project,
            line=data["line"],
            amount=data["amount"],
            payee=data["payee"],
            memo=data["memo"],
            invoice=data["invoice"],
            invoice_number=data["invoice_number"],
            on=data["on"],
        )
    except ValidationError as error:
        return _render_refused(request, project, "payment", form, _add_errors(form, error))
    if payment.state == PaymentState.PAID:
        messages.success(request, _("Paid: %(amount)s.") % {"amount": yuan(payment.amount)})
    else:
        messages.success(
            request,
            _("Payment of %(amount)s requested: it awaits the committee's signature.")
            % {"amount": yuan(payment.amount)},
        )
    return redirect("projects:detail", pk=project.pk)


def _payment_get(request, pk) -> Payment:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    payment = (
        Payment.objects.select_related("project", "line")
        .filter(pk=pk, project__in=selectors.projects_for(viewer=request.user))
        .first()
    )
    if payment is None:
        raise Http404
    return payment


@login_required
@require_POST
def payment_approve(request, pk):
    payment = _payment_get(request, pk)
    try:
        payment = services.payment_approve(actor=request.user, payment=payment)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        if payment.state == PaymentState.PAID:
            messages.success(
                request, _("Signed and paid: %(amount)s.") % {"amount": yuan(payment.amount)}
            )
        else:
            messages.success(request, _("Signed: the payment awaits further signatures."))
    return redirect("projects:detail", pk=payment.project_id)


@login_required
@require_POST
def payment_refuse(request, pk):
    payment = _payment_get(request, pk)
    project = selectors.project_get(viewer=request.user, pk=payment.project_id)
    form = ReasonForm(request.POST, prefix="refuse")
    if form.is_valid():
        try:
            services.payment_refuse(
                actor=request.user, payment=payment, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            rest = _add_errors(form, error)
        else:
            messages.success(request, _("The payment is refused."))
            return redirect("projects:detail", pk=project.pk)
    else:
        rest = []
    form.payment_id = payment.pk
    return _render_refused(request, project, "refuse", form, rest)


@login_required
@require_GET
def invoice(request, pk):
    """A payment's invoice, only for staff who may see the project (never a public media URL)."""
    payment = _payment_get(request, pk)
    if not payment.invoice:
        raise Http404
    name = payment.invoice.name.lower()
    types = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg"}
    types[".jpeg"] = "image/jpeg"
    content_type = next((t for ext, t in types.items() if name.endswith(ext)), None)
    try:
        handle = payment.invoice.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle,
        content_type=content_type or "application/octet-stream",
        as_attachment=content_type is None,
        filename=f"invoice-{payment.pk}{name[name.rfind('.') :] if '.' in name else ''}",
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- the reviewer's scoring page --------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def review(request, pk, stage):
    """The reviewer scores the application (or the evaluation) against the published criteria,
    or declares a conflict of interest and stands aside."""
    project = selectors.project_get(viewer=request.user, pk=pk)
    if stage not in Stage.values or not request.user.has_perm(perms.REVIEW, project):
        raise Http404
    is_open = project.state == services.REVIEW_STATE[stage]
    conflict = services.has_conflict(request.user, project)
    mine = Review.objects.filter(project=project, stage=stage, reviewer=request.user).first()
    initial = {}
    if mine is not None:
        initial = {f"score_{code}": value for code, value in mine.scores.items()}
        initial.update(
            opinion=mine.opinion, conflict=mine.conflict, conflict_note=mine.conflict_note
        )
    form = ReviewForm(
        request.POST if request.method == "POST" else None,
        stage=stage,
        conflict_required=conflict,
        initial=initial,
    )
    if request.method == "POST":
        if not is_open:
            messages.error(
                request,
                services.WRONG_STATE % {"state": S(project.state).label, "step": Step.REVIEW.label},
            )
            return redirect("projects:detail", pk=project.pk)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.review_submit(
                    actor=request.user,
                    project=project,
                    stage=stage,
                    scores=None if data["conflict"] else form.scores(),
                    opinion=data["opinion"],
                    conflict=data["conflict"],
                    conflict_note=data["conflict_note"],
                )
            except ValidationError as error:
                for text in _add_errors(form, error, aliases={"scores": None}):
                    form.add_error(None, text)
            else:
                messages.success(request, _("Your review is recorded."))
                return redirect("projects:detail", pk=project.pk)
    return render(
        request,
        "projects/review.html",
        {
            "project": project,
            "stage": Stage(stage),
            "form": form,
            "mine": mine,
            "conflict": conflict,
            "is_open": is_open,
            "budget": selectors.budget_rows(project),
            "max_total": sum(c.points for c in CRITERIA[stage]),
            "survey": selectors.survey_summary(project) if stage == Stage.EVALUATION else None,
        },
    )
