"""Reads of fund projects: always given a viewer (staff) or limited to what is public."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, Sum
from django.http import Http404
from django.utils import timezone

from linli.core.scoping import under_q
from linli.funds.money import from_fen
from linli.funds.selectors import fen_sum
from linli.places.choices import PlaceKind
from linli.places.models import Place
from linli.projects import perms
from linli.projects.choices import FUNDED, PUBLIC, PaymentState, ProjectState, Step
from linli.projects.constants import SATISFIED_FROM
from linli.projects.models import BudgetLine, Payment, Project, ProjectStep, SurveyResponse

PER_PAGE = 30


def projects_for(*, viewer, perm: str = perms.VIEW_PROJECTS):
    return Project.objects.for_viewer(viewer, perm).select_related("place")


def project_get(*, viewer, pk) -> Project:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    project = (
        projects_for(viewer=viewer)
        .select_related("place__parent", "topic", "meeting", "notice", "commitment", "compound")
        .filter(pk=pk)
        .first()
    )
    if project is None:
        raise Http404
    return project


def project_get_public(pk) -> Project:
    """A project residents may see: from its public notice on."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    project = (
        Project.objects.select_related("place", "notice", "topic")
        .filter(pk=pk, state__in=PUBLIC)
        .first()
    )
    if project is None:
        raise Http404
    return project


def projects_page(
    *, viewer, place: Place | None = None, state: str = "", year=None, page=1
) -> Page:
    rows = projects_for(viewer=viewer)
    if place is not None:
        rows = rows.filter(under_q(place.path, "path"))
    if state in ProjectState.values:
        rows = rows.filter(state=state)
    if str(year or "").isascii() and str(year or "").isdigit():
        rows = rows.filter(year=int(year))
    return Paginator(rows.order_by("-updated_at", "-id"), PER_PAGE).get_page(page)


def public_projects(*, place: Place, page=1) -> Page:
    rows = (
        Project.objects.filter(under_q(place.path, "path"), state__in=PUBLIC)
        .select_related("place")
        .order_by("-updated_at", "-id")
    )
    return Paginator(rows, PER_PAGE).get_page(page)


def counts_by_state(*, viewer, place: Place) -> dict[str, int]:
    rows = (
        projects_for(viewer=viewer)
        .filter(under_q(place.path, "path"))
        .values("state")
        .annotate(n=Count("id"))
    )
    return {row["state"]: row["n"] for row in rows}


@dataclass(frozen=True)
class LineRow:
    line: BudgetLine
    paid: Decimal
    pending: Decimal

    @property
    def left(self) -> Decimal:
        return self.line.amount - self.paid - self.pending


def budget_rows(project: Project) -> list[LineRow]:
    """Each line with what was paid and what awaits approval on it (two queries)."""
    sums = (
        Payment.objects.filter(project=project)
        .values("line_id", "state")
        .annotate(total=Sum("amount"))
    )
    by_line: dict[tuple[int, str], Decimal] = {
        (row["line_id"], row["state"]): Decimal(row["total"]) for row in sums
    }
    zero = Decimal("0.00")
    return [
        LineRow(
            line=line,
            paid=by_line.get((line.pk, PaymentState.PAID), zero).quantize(zero),
            pending=by_line.get((line.pk, PaymentState.REQUESTED), zero).quantize(zero),
        )
        for line in project.lines.all()
    ]


@dataclass(frozen=True)
class Survey:
    answers: int
    satisfied: int
    mean: Decimal | None

    @property
    def satisfied_rate(self) -> Fraction | None:
        return Fraction(self.satisfied, self.answers) if self.answers else None


def survey_summary(project: Project) -> Survey:
    row = SurveyResponse.objects.filter(project=project).aggregate(
        answers=Count("id"),
        satisfied=Count("id", filter=Q(score__gte=SATISFIED_FROM)),
        total=Sum("score"),
    )
    answers = row["answers"] or 0
    mean = None
    if answers:
        mean = (Decimal(row["total"]) / answers).quantize(Decimal("0.01"))
    return Survey(answers=answers, satisfied=row["satisfied"] or 0, mean=mean)


def overdue_disclosures(*, viewer=None, place: Place | None = None, today: dt.date | None = None):
    """Paid payments not published on the board by their deadline (the profile's days after
    the payment), for a viewer's places or under a place."""
    today = today or timezone.localdate()
    rows = Payment.objects.filter(
        state=PaymentState.PAID, disclosed_in__isnull=True, disclose_by__lt=today
    ).select_related("project", "project__place", "line")
    if viewer is not None:
        rows = rows.filter(project__in=projects_for(viewer=viewer))
    if place is not None:
        rows = rows.filter(under_q(place.path, "project__path"))
    return rows.order_by("disclose_by", "id")


# --- residents' public pages (projects.public_views) ------------------------------------------
# Read-only, no viewer: only public states, only paid money, and no person anywhere (steps
# without their actors or notes, payments without requester, approvers or invoice).

# The steps a resident's timeline shows; edits, single reviewers' scores and the payment
# approval chain stay on the staff record (a pending request is not public money).
PUBLIC_STEPS = (
    Step.CREATE,
    Step.SUBMIT,
    Step.CHECK,
    Step.RETURN,
    Step.REVIEW_PASS,
    Step.PUBLICISE,
    Step.APPROVE,
    Step.PAYMENT,
    Step.DISCLOSE,
    Step.COMPLETE,
    Step.ACCEPT,
    Step.ACCEPT_FAIL,
    Step.EVALUATE,
    Step.CLOSE,
)


def public_community(pk) -> Place:
    """A committee or street whose projects residents may list; anything else is 404."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    place = (
        Place.objects.select_related("parent")
        .filter(pk=pk, kind__in=(PlaceKind.COMMITTEE, PlaceKind.STREET))
        .first()
    )
    if place is None:
        raise Http404
    return place


def public_paid(project_ids) -> dict[int, Decimal]:
    """What was paid on each of these projects (one query, exact in fen)."""
    rows = (
        Payment.objects.filter(project_id__in=list(project_ids), state=PaymentState.PAID)
        .values("project_id")
        .annotate(fen=fen_sum())
    )
    return {row["project_id"]: from_fen(row["fen"]) for row in rows}


def public_payments(project: Project) -> list[dict]:
    """The project's paid payments with their public fields only."""
    return list(
        Payment.objects.filter(project=project, state=PaymentState.PAID)
        .order_by("on", "id")
        .values("on", "amount", "payee", "line__position", "line__item")
    )


def public_timeline(project: Project) -> list[dict]:
    """The project's steps as (label, date): no actor, no note."""
    rows = ProjectStep.objects.filter(project=project, step__in=PUBLIC_STEPS).order_by("at", "id")
    return [{"label": Step(r["step"]).label, "at": r["at"]} for r in rows.values("step", "at")]


def survey_answered(*, user, project: Project) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return SurveyResponse.objects.filter(project=project, user=user).exists()


def public_years(place: Place) -> list[int]:
    """The years in which the community has public projects, newest first."""
    return list(
        Project.objects.filter(under_q(place.path, "path"), state__in=PUBLIC)
        .values_list("year", flat=True)
        .distinct()
        .order_by("-year")
    )


@dataclass(frozen=True)
class PublicAccount:
    project: Project
    lines: list[tuple[BudgetLine, Decimal]]  # each line with what was paid on it
    spent: Decimal

    @property
    def left(self) -> Decimal:
        return self.project.budget - self.spent


def public_accounts(*, place: Place, year: int) -> list[PublicAccount]:
    """A community's public projects of one year with budget and spending by line (three
    queries whatever the number of projects, lines and payments)."""
    projects = list(
        Project.objects.filter(under_q(place.path, "path"), state__in=PUBLIC, year=year)
        .select_related("place")
        .prefetch_related("lines")
        .order_by("created_at", "id")
    )
    paid = {
        row["line_id"]: from_fen(row["fen"])
        for row in Payment.objects.filter(project__in=projects, state=PaymentState.PAID)
        .values("line_id")
        .annotate(fen=fen_sum())
    }
    zero = from_fen(0)
    accounts = []
    for project in projects:
        lines = [(line, paid.get(line.pk, zero)) for line in project.lines.all()]
        spent = sum((amount for _line, amount in lines), zero)
        accounts.append(PublicAccount(project=project, lines=lines, spent=spent))
    return accounts


# --- projects beside the funds pages (funds does not import projects: template tags ask) -------

BUCKETS = {
    "applying": (
        ProjectState.DRAFT,
        ProjectState.SUBMITTED,
        ProjectState.CHECKED,
        ProjectState.REVIEWED,
        ProjectState.PUBLICISED,
    ),
    "under_way": (ProjectState.APPROVED, ProjectState.COMPLETED),
    "finishing": (ProjectState.ACCEPTED, ProjectState.EVALUATED),
    "closed": (ProjectState.CLOSED,),
    "not_funded": (ProjectState.REJECTED, ProjectState.WITHDRAWN),
}
BUCKET_OF = {state: bucket for bucket, states in BUCKETS.items() for state in states}


@dataclass
class CommitteeProjects:
    counts: dict[str, int]
    approved_budget: Decimal
    paid: Decimal


def committees_projects(*, viewer, places, year: int) -> dict[int, CommitteeProjects]:
    """The year's projects of each place (committee or street) of a page of the street
    overview, by stage, with the budget approved and the money paid: two queries whatever the
    number of places or projects."""
    paths = {place.path: place.pk for place in places}
    zero = Decimal("0.00")
    result = {pk: CommitteeProjects({b: 0 for b in BUCKETS}, zero, zero) for pk in paths.values()}
    if not paths:
        return result
    rows = (
        projects_for(viewer=viewer)
        .filter(path__in=list(paths), year=year)
        .values("path", "state")
        .annotate(n=Count("id"), budget=Sum("budget"))
    )
    for row in rows:
        figures = result[paths[row["path"]]]
        figures.counts[BUCKET_OF[row["state"]]] += row["n"]
        if row["state"] in FUNDED or row["state"] == ProjectState.CLOSED:
            figures.approved_budget += Decimal(row["budget"] or 0)
    paid = (
        Payment.objects.filter(
            project__in=projects_for(viewer=viewer).filter(path__in=list(paths), year=year),
            state=PaymentState.PAID,
        )
        .values("project__path")
        .annotate(total=Sum("amount"))
    )
    for row in paid:
        result[paths[row["project__path"]]].paid = Decimal(row["total"] or 0).quantize(zero)
    for figures in result.values():
        figures.approved_budget = figures.approved_budget.quantize(zero)
    return result


def place_projects(*, viewer, place: Place, year: int, limit: int = 20) -> list[Project]:
    """The year's projects of one committee or street for its funds page, latest first, with
    what was paid on each (one query)."""
    paid = Sum("payments__amount", filter=Q(payments__state=PaymentState.PAID))
    return list(
        projects_for(viewer=viewer)
        .filter(path=place.path, year=year)
        .annotate(paid=paid)
        .order_by("-updated_at", "-id")[:limit]
    )
