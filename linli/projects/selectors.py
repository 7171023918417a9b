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
from linli.places.models import Place
from linli.projects import perms
from linli.projects.choices import PUBLIC, PaymentState, ProjectState
from linli.projects.constants import SATISFIED_FROM
from linli.projects.models import BudgetLine, Payment, Project, SurveyResponse

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
    if str(year or "").isdigit():
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
