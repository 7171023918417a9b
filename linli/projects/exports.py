"""Spreadsheets of fund projects: the projects of a place and year, and one project's accounts.

Amounts are numbers with two decimals (yuan); text cells are always text (a title or a memo is
never read as a formula). People appear by role only. The list takes a fixed number of queries
whatever its length (sums grouped by project).
"""

import io
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.roles import Role
from linli.core.scoping import under_q
from linli.places.models import Place
from linli.projects import selectors
from linli.projects.choices import PaymentState, ProjectState, Step
from linli.projects.constants import SATISFIED_FROM
from linli.projects.models import Payment, Project, SurveyResponse

MONEY_FORMAT = "#,##0.00"
SHARE_FORMAT = "0.0%"
ZERO = Decimal("0.00")


def _book():
    from openpyxl import Workbook

    return Workbook(write_only=True)


def _cells(sheet, values) -> list:
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for value in values:
        if isinstance(value, tuple):  # (number, format)
            cell = WriteOnlyCell(sheet, value=value[0])
            cell.number_format = value[1]
        else:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula
            elif isinstance(value, Decimal):
                cell.number_format = MONEY_FORMAT
        cells.append(cell)
    return cells


def _save(book) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _date(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "tzinfo"):
        value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def _roles(codes: str) -> str:
    return "、".join(
        str(Role(code).label) if code in Role.values else code
        for code in filter(None, codes.split(","))
    )


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(ZERO)


def list_rows(*, viewer, place: Place, year: int) -> list[dict]:
    """The projects of `place` (and below) for `year` the viewer may see, with their figures."""
    projects = list(
        selectors.projects_for(viewer=viewer)
        .filter(under_q(place.path, "path"), year=year)
        .select_related("place", "commitment")
        .order_by("place__path", "created_at", "id")
    )
    ids = [p.pk for p in projects]
    paid = {
        row["project_id"]: _money(row["total"])
        for row in Payment.objects.filter(project_id__in=ids, state=PaymentState.PAID)
        .values("project_id")
        .annotate(total=Sum("amount"))
    }
    survey = {
        row["project_id"]: (row["answers"], row["satisfied"])
        for row in SurveyResponse.objects.filter(project_id__in=ids)
        .values("project_id")
        .annotate(answers=Count("id"), satisfied=Count("id", filter=Q(score__gte=SATISFIED_FROM)))
    }
    rows = []
    for project in projects:
        spent = paid.get(project.pk, ZERO)
        answers, satisfied = survey.get(project.pk, (0, 0))
        rows.append(
            {
                "project": project,
                "committed": project.commitment.amount if project.commitment_id else ZERO,
                "paid": spent,
                "left": project.budget - spent,
                "answers": answers,
                "satisfied": satisfied,
                "share": Decimal(satisfied) / Decimal(answers) if answers else None,
            }
        )
    return rows


def project_list_workbook(*, viewer, place: Place, year: int) -> bytes:
    book = _book()
    sheet = book.create_sheet(_("Fund projects"))
    sheet.append(_cells(sheet, [_("Place"), place.name]))
    sheet.append(_cells(sheet, [_("Year"), str(year)]))
    sheet.append([])
    sheet.append(
        _cells(
            sheet,
            [
                _("Community"),
                _("Project"),
                _("State"),
                _("Budget"),
                _("Committed"),
                _("Paid"),
                _("Left of budget"),
                _("Review score"),
                _("Evaluation score"),
                _("Survey answers"),
                _("Satisfied share"),
                _("Starts"),
                _("Ends"),
                _("Applied"),
                _("Last change"),
            ],
        )
    )
    totals = [ZERO, ZERO, ZERO, ZERO]
    for row in list_rows(viewer=viewer, place=place, year=year):
        project = row["project"]
        figures = [project.budget, row["committed"], row["paid"], row["left"]]
        totals = [a + b for a, b in zip(totals, figures, strict=True)]
        sheet.append(
            _cells(
                sheet,
                [
                    project.place.name,
                    project.title,
                    str(ProjectState(project.state).label),
                    *figures,
                    project.review_score,
                    project.evaluation_score,
                    row["answers"],
                    (float(row["share"]), SHARE_FORMAT) if row["share"] is not None else None,
                    _date(project.starts_on),
                    _date(project.ends_on),
                    _date(timezone.localtime(project.created_at).date()),
                    _date(timezone.localtime(project.updated_at).date()),
                ],
            )
        )
    sheet.append(_cells(sheet, [_("Total"), "", "", *totals]))
    return _save(book)


def project_workbook(project: Project) -> bytes:
    """Three sheets: the budget by line (paid, pending, left), the payments, the steps."""
    book = _book()
    sheet = book.create_sheet(_("Budget"))
    sheet.append(_cells(sheet, [_("Community"), project.place.name]))
    sheet.append(_cells(sheet, [_("Project"), project.title]))
    sheet.append(_cells(sheet, [_("State"), str(ProjectState(project.state).label)]))
    sheet.append(_cells(sheet, [_("Budget"), project.budget]))
    committed = project.commitment.amount if project.commitment_id else ZERO
    sheet.append(_cells(sheet, [_("Committed"), committed]))
    sheet.append([])
    sheet.append(
        _cells(
            sheet,
            [
                _("Line"),
                _("Category"),
                _("What it buys"),
                _("Amount"),
                _("Paid"),
                _("Pending"),
                _("Left"),
            ],
        )
    )
    totals = [ZERO, ZERO, ZERO, ZERO]
    for row in selectors.budget_rows(project):
        figures = [row.line.amount, row.paid, row.pending, row.left]
        totals = [a + b for a, b in zip(totals, figures, strict=True)]
        sheet.append(
            _cells(
                sheet,
                [
                    row.line.position,
                    str(row.line.get_category_display()),
                    row.line.item,
                    *figures,
                ],
            )
        )
    sheet.append(_cells(sheet, [_("Total"), "", "", *totals]))

    sheet = book.create_sheet(_("Payments"))
    sheet.append(
        _cells(
            sheet,
            [
                _("Date"),
                _("Line"),
                _("Payee"),
                _("What was bought"),
                _("Invoice number"),
                _("Invoice attached"),
                _("Amount"),
                _("State"),
                _("Signed by"),
                _("Paid"),
                _("To publish by"),
                _("Published"),
                _("Reason refused"),
            ],
        )
    )
    payments = (
        project.payments.select_related("line").prefetch_related("approvals").order_by("on", "id")
    )
    for payment in payments:
        sheet.append(
            _cells(
                sheet,
                [
                    _date(payment.on),
                    payment.line.position,
                    payment.payee,
                    payment.memo,
                    payment.invoice_number,
                    _("yes") if payment.invoice else _("no"),
                    payment.amount,
                    str(payment.get_state_display()),
                    "; ".join(_roles(a.role) for a in payment.approvals.all()),
                    _date(payment.paid_at),
                    _date(payment.disclose_by),
                    _("yes") if payment.disclosed_in_id else _("no"),
                    payment.refused_reason,
                ],
            )
        )

    sheet = book.create_sheet(_("Steps"))
    sheet.append(_cells(sheet, [_("At"), _("Step"), _("From"), _("To"), _("Role"), _("Record")]))
    for step in project.steps.order_by("at", "id"):
        sheet.append(
            _cells(
                sheet,
                [
                    _date(step.at),
                    str(Step(step.step).label) if step.step in Step.values else step.step,
                    _state(step.from_state),
                    _state(step.to_state),
                    _roles(step.role),
                    step.note,
                ],
            )
        )
    return _save(book)


def _state(value: str) -> str:
    return str(ProjectState(value).label) if value in ProjectState.values else value
