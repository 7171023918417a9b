"""Fund projects API (/api/v1/projects/): projects the caller may see with their budget lines,
payments, steps, reviews and survey; the published criteria; and every step of the workflow
(apply, check, review, decide, publicise, approve, pay, complete, accept, evaluate, close,
disclose) and the residents' satisfaction survey.

Scoped like the pages: a project or payment outside the caller's `projects.view` answers 404
like a missing one (residents see a project of their own community from its public notice on,
and answer its survey); a step the caller's role may not take answers 403. Every write goes
through linli.projects.services, which checks the permission and the state again. People are
named by role, never by name. Money is a decimal string in yuan with at most two places.
Errors: 403 forbidden, 404 not_found, 409 a step from the wrong state (code "state") or one
already done ("signed", "duplicate", "nothing"), 422 invalid ([{loc, msg, type}]; type is the
service's error code where it has one, e.g. "cap", "line", "negative", "participation",
"deliberation", "conflict", "panel", "approval").
"""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from ninja import Field, File, Form, Path, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.files import UploadedFile
from pydantic import AfterValidator

from linli.accounts.roles import Role
from linli.accounts.scoping import home_paths, user_can
from linli.core.scoping import under_q
from linli.deliberation.models import Topic
from linli.meetings.models import Meeting
from linli.notices.perms import PUBLISH
from linli.places.choices import PlaceKind
from linli.places.models import Place
from linli.projects import perms, selectors, services
from linli.projects.choices import (
    PUBLIC,
    ExpenseCategory,
    PaymentState,
    ProjectState,
    Stage,
    Step,
)
from linli.projects.constants import CRITERIA
from linli.projects.models import Payment, Project, Review, SurveyResponse

router = Router(tags=["projects"])

MAX_ID = 2**31 - 1
MIN_YEAR, MAX_YEAR = 2000, 2100
SEGMENT = 10  # Place.path: one 10-digit segment per level
INVOICE_TYPES = (".pdf", ".ofd", ".jpg", ".jpeg", ".png")
INVOICE_MAX_BYTES = 10 * 1024 * 1024
INVOICE_TYPE = _("Attach the invoice as a PDF, OFD, JPEG or PNG file.")
INVOICE_SIZE = _("The invoice file is larger than 10 MB.")
S = ProjectState
ZERO = Decimal("0.00")
# The staff record only: edits, single reviews and the payment approval chain.
STAFF_STEPS = frozenset(
    {Step.EDIT, Step.REVIEW, Step.PAYMENT_REQUEST, Step.PAYMENT_APPROVE, Step.PAYMENT_REFUSE}
)


class ApiError(HttpError):
    def __init__(self, status: int, message: str, code: str):
        super().__init__(status, message)
        self.code = code


# The services name the object; the API's body names its id.
FIELD_NAMES = {
    "place": "place_id",
    "topic": "topic_id",
    "meeting": "meeting_id",
    "compound": "compound_id",
    "line": "line_id",
}
# Refusals meaning "not now" or "done already": a conflict, not an invalid request.
CONFLICT_CODES = frozenset({"state", "signed", "duplicate", "nothing"})


def _details(errors, loc: list, default: str) -> list[dict]:
    return [
        {
            "loc": loc,
            "msg": " ".join(str(m) for m in e.messages),
            "type": e.code or default,
        }
        for e in errors
    ]


def _invalid(error: ValidationError, default: str = "invalid") -> NinjaValidationError:
    if hasattr(error, "error_dict"):
        details = []
        for name, errors in error.error_dict.items():
            loc = ["body"] if name == "__all__" else ["body", FIELD_NAMES.get(name, name)]
            details += _details(errors, loc, default)
    else:
        details = _details(error.error_list, ["body"], default)
    return NinjaValidationError(details)


def _field_error(name: str, message, code: str = "invalid") -> NinjaValidationError:
    return _invalid(ValidationError({name: [ValidationError(message, code=code)]}))


def _run(action, *, code: str = "invalid", **params):
    """A service call with its refusals as the API's errors; `code` names a refusal the
    service gives without one (the panel's or the approval's list of reasons)."""
    try:
        return action(**params)
    except PermissionDenied as error:
        raise ApiError(403, str(error) or "Forbidden.", "forbidden") from None
    except ValidationError as error:
        if not hasattr(error, "error_dict") and getattr(error, "code", None) in CONFLICT_CODES:
            raise ApiError(409, " ".join(error.messages), error.code) from None
        raise _invalid(error, code) from None


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate would fail in the database
        raise ValueError("Text must be valid Unicode.") from None
    return value


def _day(value: dt.date | None) -> dt.date | None:
    if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"Give a date between {MIN_YEAR} and {MAX_YEAR}.")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Day = Annotated[dt.date, AfterValidator(_day)]
Amount = Annotated[
    Text,
    Field(
        max_length=24,
        description='Yuan, at most two decimals, as a string: "8000" or "8000.50".',
        examples=["8000.00"],
    ),
]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Category = Literal[tuple(ExpenseCategory.values)]  # type: ignore[valid-type]
StateFilter = Literal[("", *ProjectState.values)]  # type: ignore[valid-type]


# --- schemas ----------------------------------------------------------------------------------


class ProjectOut(Schema):
    id: int
    title: str
    state: str
    state_label: str
    place_id: int
    place_name: str
    year: int
    budget: Decimal
    review_score: Decimal | None
    evaluation_score: Decimal | None
    starts_on: dt.date
    ends_on: dt.date
    updated_at: dt.datetime


class ProjectPageOut(Schema):
    count: int
    page: int
    pages: int
    results: list[ProjectOut]


class ProjectQuery(Schema):
    state: StateFilter = ""
    year: int | None = Field(None, ge=MIN_YEAR, le=MAX_YEAR)
    place_id: int | None = Field(None, ge=1, le=MAX_ID, description="Only projects under it.")
    page: int = Field(1, ge=1, le=100_000)


class LineOut(Schema):
    id: int
    position: int
    category: str
    category_label: str
    item: str
    amount: Decimal
    paid: Decimal
    pending: Decimal = Field(description="Requested, awaiting the signatures.")
    left: Decimal


class SignatureOut(Schema):
    role: str
    at: dt.datetime


class PaymentOut(Schema):
    id: int
    project_id: int
    line_id: int
    line_position: int
    amount: Decimal
    payee: str
    memo: str
    invoice_number: str
    has_invoice: bool
    on: dt.date
    state: str
    state_label: str
    signatures: list[SignatureOut]
    paid_at: dt.datetime | None
    refused_reason: str
    disclose_by: dt.date | None
    disclosed: bool


class StepOut(Schema):
    step: str
    step_label: str
    from_state: str
    to_state: str
    role: str = Field(description="The role(s) of the person who took it; 'system' for none.")
    at: dt.datetime
    note: str


class ScoreOut(Schema):
    code: str
    label: str
    points: int
    score: int | None


class ReviewOut(Schema):
    stage: str
    mine: bool = Field(description="The caller's own review.")
    conflict: bool
    conflict_note: str
    scores: list[ScoreOut]
    total: Decimal | None
    opinion: str
    submitted_at: dt.datetime


class PanelOut(Schema):
    stage: str
    scored: int
    recused: int
    mean: Decimal | None


class SurveyOut(Schema):
    answers: int
    satisfied: int
    satisfied_share: Decimal | None = Field(description="Satisfied answers / answers (0–1).")
    mean: Decimal | None
    answered: bool = Field(description="The caller has answered.")


class ParticipationOut(Schema):
    households: int
    total: int


class ProjectDetailOut(ProjectOut):
    compound_id: int | None
    plan: str
    beneficiaries: str
    beneficiary_count: int
    topic_id: int | None
    meeting_id: int | None
    notice_id: int | None
    committed: Decimal | None = Field(description="The ledger commitment, once approved.")
    paid: Decimal
    pending: Decimal
    left: Decimal = Field(description="Budget less paid and pending.")
    participation: ParticipationOut | None
    completion_report: str
    outcome: str
    created_at: dt.datetime
    lines: list[LineOut]
    payments: list[PaymentOut]
    steps: list[StepOut]
    reviews: list[ReviewOut]
    panels: list[PanelOut]
    survey: SurveyOut
    actions: list[str] = Field(
        description="The steps the caller may take now (the services still check each): "
        "update, submit, withdraw, check, review, decide, publicise, approve, pay, "
        "approve_payment, complete, disclose, accept, evaluate, close, survey."
    )


class CriterionOut(Schema):
    code: str
    label: str
    points: int


class CriteriaOut(Schema):
    review: list[CriterionOut]
    evaluation: list[CriterionOut]


class LineIn(Schema):
    category: Category
    item: Text = Field(..., max_length=400)
    amount: Amount


class ProjectIn(Schema):
    place_id: Id = Field(..., description="The residents' committee (or street) applying.")
    title: Text = Field(..., max_length=400)
    plan: Text = Field(..., max_length=10_000)
    beneficiaries: Text = Field(..., max_length=10_000)
    beneficiary_count: int = Field(..., ge=0, le=MAX_ID)
    starts_on: Day
    ends_on: Day
    lines: list[LineIn] = Field(..., max_length=100)
    topic_id: Id | None = Field(None, description="The residents' topic that raised it.")
    meeting_id: Id | None = Field(None, description="The (held) meeting that decided it.")
    compound_id: Id | None = Field(None, description="The one compound it serves, if any.")


class ProjectPatchIn(Schema):
    title: Text | None = Field(None, max_length=400)
    plan: Text | None = Field(None, max_length=10_000)
    beneficiaries: Text | None = Field(None, max_length=10_000)
    beneficiary_count: int | None = Field(None, ge=0, le=MAX_ID)
    starts_on: Day | None = None
    ends_on: Day | None = None
    lines: list[LineIn] | None = Field(None, max_length=100, description="Replaces the budget.")
    topic_id: Id | None = None
    meeting_id: Id | None = None
    compound_id: Id | None = None


# Bodies of steps on an object default every field, so the object is looked up (404) and the
# permission checked (403) before the body is judged (422), as in the register API.


class CheckIn(Schema):
    decision: Literal["", "pass", "return", "reject"] = ""
    note: Text = Field("", max_length=5000, description="Required to return or reject.")


class DecideIn(Schema):
    decision: Literal["", "pass", "reject"] = ""
    note: Text = Field("", max_length=5000, description="Required to reject.")


class ReasonIn(Schema):
    reason: Text = Field("", max_length=500)


class ReviewIn(Schema):
    stage: Literal[tuple(Stage.values)] = Stage.REVIEW.value  # type: ignore[valid-type]
    scores: (
        dict[Annotated[str, Field(max_length=40)], Annotated[int, Field(ge=-1000, le=1000)]] | None
    ) = Field(None, description="Every criterion of the stage (GET criteria): a whole number.")
    opinion: Text = Field("", max_length=5000)
    conflict: bool = Field(False, description="Declare a conflict of interest and stand aside.")
    conflict_note: Text = Field("", max_length=500)


class ReportIn(Schema):
    report: Text = Field("", max_length=10_000)


class AcceptIn(Schema):
    passed: bool | None = Field(None, description="Required: accepted, or back to the committee.")
    note: Text = Field("", max_length=5000)


class NoteIn(Schema):
    note: Text = Field("", max_length=5000)


class OutcomeIn(Schema):
    outcome: Text = Field("", max_length=10_000)


class PaymentIn(Schema):
    line_id: Id | None = Field(None, description="Required: the budget line paid against.")
    amount: Amount = ""
    payee: Text = Field("", max_length=400)
    memo: Text = Field("", max_length=400, description="What was bought.")
    invoice_number: Text = Field("", max_length=80)
    on: Day | None = Field(None, description="The payment's date (default: today).")


class SurveyIn(Schema):
    score: int | None = Field(
        None, ge=0, le=10, description="Required: 1 very dissatisfied … 5 very satisfied."
    )
    comment: Text = Field("", max_length=500)


class SurveyAnswerOut(Schema):
    project_id: int
    score: int
    comment: str
    at: dt.datetime


# --- lookups ----------------------------------------------------------------------------------


def _home_prefixes(user) -> list[str]:
    """Every place path above (or at) the caller's homes: the communities they live in."""
    return sorted(
        {home[:end] for home in home_paths(user) for end in range(SEGMENT, len(home) + 1, SEGMENT)}
    )


def _visible(user):
    """Projects the caller may read: staff by their scope, residents their community's public
    ones."""
    staff = Q(pk__in=Project.objects.for_viewer(user, perms.VIEW_PROJECTS).values("pk"))
    homes = _home_prefixes(user)
    if not homes:
        return Project.objects.filter(staff)
    return Project.objects.filter(staff | Q(path__in=homes, state__in=PUBLIC))


def _project(user, pk: int) -> Project:
    """A project for a staff step: outside `projects.view` it does not exist."""
    return selectors.project_get(viewer=user, pk=pk)


def _readable(user, pk: int) -> Project:
    project = _visible(user).select_related("place", "commitment").filter(pk=pk).first()
    if project is None:
        raise Http404
    return project


def _payment(user, pk: int) -> Payment:
    payment = (
        Payment.objects.select_related("project", "line")
        .filter(pk=pk, project__in=selectors.projects_for(viewer=user))
        .first()
    )
    if payment is None:
        raise Http404
    return payment


def _under(project_path: str, model, pk: int | None, name: str, **filters):
    """An object of the project's community chosen by id, or a 422 naming the field."""
    if pk is None:
        return None
    row = model.objects.filter(under_q(project_path, "path"), pk=pk, **filters).first()
    if row is None:
        message = forms.ModelChoiceField.default_error_messages["invalid_choice"]
        raise _field_error(name, message, "invalid_choice")
    return row


def _links(project_path: str, payload, fields: set[str]) -> dict:
    links = {}
    if "topic_id" in fields:
        links["topic"] = _under(project_path, Topic, payload.topic_id, "topic_id")
    if "meeting_id" in fields:
        links["meeting"] = _under(project_path, Meeting, payload.meeting_id, "meeting_id")
    if "compound_id" in fields:
        links["compound"] = _under(
            project_path, Place, payload.compound_id, "compound_id", kind=PlaceKind.COMPOUND
        )
    return links


def _lines(lines: list[LineIn]) -> list[services.LineInput]:
    return [services.LineInput(x.category, x.item, x.amount) for x in lines]


# --- rendering --------------------------------------------------------------------------------


def _role_label(roles: str) -> str:
    labels = []
    for code in filter(None, roles.split(",")):
        labels.append(str(Role(code).label) if code in Role.values else code)
    return "、".join(labels)


def _project_out(project: Project) -> dict:
    return {
        "id": project.pk,
        "title": project.title,
        "state": project.state,
        "state_label": str(project.get_state_display()),
        "place_id": project.place_id,
        "place_name": project.place.name,
        "year": project.year,
        "budget": project.budget,
        "review_score": project.review_score,
        "evaluation_score": project.evaluation_score,
        "starts_on": project.starts_on,
        "ends_on": project.ends_on,
        "updated_at": project.updated_at,
    }


def _payment_out(payment: Payment, staff: bool = True) -> dict:
    return {
        "id": payment.pk,
        "project_id": payment.project_id,
        "line_id": payment.line_id,
        "line_position": payment.line.position,
        "amount": payment.amount,
        "payee": payment.payee,
        "memo": payment.memo,
        "invoice_number": payment.invoice_number if staff else "",
        "has_invoice": bool(payment.invoice),
        "on": payment.on,
        "state": payment.state,
        "state_label": str(payment.get_state_display()),
        "signatures": [{"role": _role_label(a.role), "at": a.at} for a in payment.approvals.all()],
        "paid_at": payment.paid_at,
        "refused_reason": payment.refused_reason if staff else "",
        "disclose_by": payment.disclose_by,
        "disclosed": payment.disclosed_in_id is not None,
    }


def _review_out(review: Review, user, staff: bool) -> dict:
    criteria = CRITERIA.get(review.stage, ())
    return {
        "stage": review.stage,
        "mine": review.reviewer_id == user.pk,
        "conflict": review.conflict,
        "conflict_note": review.conflict_note if staff else "",
        "scores": [
            {
                "code": c.code,
                "label": str(c.label),
                "points": c.points,
                "score": (review.scores or {}).get(c.code),
            }
            for c in criteria
        ],
        "total": review.total,
        "opinion": review.opinion if staff else "",
        "submitted_at": review.submitted_at,
    }


def _actions(user, project: Project, *, pending: int, unpublished: int, answered: bool):
    def can(perm: str) -> bool:
        return user_can(user, perm, project.path)

    state = project.state
    offered = []
    if state == S.DRAFT and can(perms.APPLY):
        offered += ["update", "submit"]
    if state in services.WITHDRAWABLE and can(perms.APPLY):
        offered.append("withdraw")
    if state == S.SUBMITTED and can(perms.CHECK):
        offered.append("check")
    if state in services.REVIEW_STATE.values() and can(perms.REVIEW):
        offered.append("review")
    decided = {
        S.CHECKED: "decide",
        S.REVIEWED: "publicise",
        S.PUBLICISED: "approve",
        S.COMPLETED: "accept",
        S.ACCEPTED: "evaluate",
        S.EVALUATED: "close",
    }
    if state in decided and can(perms.DECIDE):
        offered.append(decided[state])
    if state == S.APPROVED and can(perms.APPLY):
        offered += ["pay", "complete"]
    if state == S.APPROVED and pending and can(perms.CHECK):
        offered.append("approve_payment")
    if unpublished and can(PUBLISH) and can(perms.VIEW_PROJECTS):
        offered.append("disclose")
    if state == S.ACCEPTED and not answered and services.may_answer_survey(user, project):
        offered.append("survey")
    return offered


def _detail(user, pk: int) -> dict:
    project = (
        _visible(user)
        .select_related("place", "commitment")
        .prefetch_related("lines")
        .filter(pk=pk)
        .first()
    )
    if project is None:
        raise Http404
    staff = user_can(user, perms.VIEW_PROJECTS, project.path)
    rows = selectors.budget_rows(project)
    payments = list(
        project.payments.select_related("line").prefetch_related("approvals").order_by("id")
    )
    pending_count = sum(1 for p in payments if p.state == PaymentState.REQUESTED)
    if not staff:
        # Residents see public money: what was paid, no requests, no single reviewer's scores.
        rows = [selectors.LineRow(line=r.line, paid=r.paid, pending=ZERO) for r in rows]
        payments = [p for p in payments if p.state == PaymentState.PAID]
    survey = selectors.survey_summary(project)
    answered = SurveyResponse.objects.filter(project=project, user=user).exists()
    paid = sum((r.paid for r in rows), ZERO)
    pending = sum((r.pending for r in rows), ZERO)
    share = None
    if survey.answers:
        share = (Decimal(survey.satisfied) / Decimal(survey.answers)).quantize(Decimal("0.0001"))
    participation = None
    if project.participation_total is not None:
        participation = {
            "households": project.participation_households or 0,
            "total": project.participation_total,
        }
    return {
        **_project_out(project),
        "compound_id": project.compound_id,
        "plan": project.plan,
        "beneficiaries": project.beneficiaries,
        "beneficiary_count": project.beneficiary_count,
        "topic_id": project.topic_id,
        "meeting_id": project.meeting_id,
        "notice_id": project.notice_id,
        "committed": project.commitment.amount if project.commitment_id else None,
        "paid": paid,
        "pending": pending,
        "left": project.budget - paid - pending,
        "participation": participation,
        "completion_report": project.completion_report,
        "outcome": project.outcome,
        "created_at": project.created_at,
        "lines": [
            {
                "id": r.line.pk,
                "position": r.line.position,
                "category": r.line.category,
                "category_label": str(r.line.get_category_display()),
                "item": r.line.item,
                "amount": r.line.amount,
                "paid": r.paid,
                "pending": r.pending,
                "left": r.left,
            }
            for r in rows
        ],
        "payments": [_payment_out(p, staff) for p in payments],
        "steps": [
            {
                "step": s.step,
                "step_label": str(s.get_step_display()),
                "from_state": s.from_state,
                "to_state": s.to_state,
                "role": _role_label(s.role),
                "at": s.at,
                "note": s.note if staff else "",
            }
            for s in project.steps.order_by("at", "id")
            if staff or s.step not in STAFF_STEPS
        ],
        "reviews": [
            _review_out(r, user, staff)
            for r in (project.reviews.order_by("stage", "submitted_at") if staff else [])
        ],
        "panels": [
            {"stage": stage, **_panel(project, stage)} for stage in (Stage.REVIEW, Stage.EVALUATION)
        ],
        "survey": {
            "answers": survey.answers,
            "satisfied": survey.satisfied,
            "satisfied_share": share,
            "mean": survey.mean,
            "answered": answered,
        },
        "actions": _actions(
            user,
            project,
            pending=pending_count,
            unpublished=sum(
                1 for p in payments if p.state == PaymentState.PAID and not p.disclosed_in_id
            ),
            answered=answered,
        ),
    }


def _panel(project: Project, stage: str) -> dict:
    result = services.panel(project, stage)
    return {"scored": result.scored, "recused": result.recused, "mean": result.mean}


# --- reads ------------------------------------------------------------------------------------


@router.get("/", response=ProjectPageOut, summary="Fund projects the caller may see, 30 a page")
def project_list(request, query: Query[ProjectQuery]):
    rows = _visible(request.user).select_related("place")
    if query.place_id is not None:
        place = Place.objects.filter(pk=query.place_id).first()
        rows = rows.filter(under_q(place.path, "path")) if place else rows.none()
    if query.state:
        rows = rows.filter(state=query.state)
    if query.year is not None:
        rows = rows.filter(year=query.year)
    page = Paginator(rows.order_by("-updated_at", "-id"), selectors.PER_PAGE).get_page(query.page)
    return {
        "count": page.paginator.count,
        "page": page.number,
        "pages": page.paginator.num_pages,
        "results": [_project_out(p) for p in page],
    }


@router.get(
    "/criteria",
    response=CriteriaOut,
    summary="The published criteria the street's panel scores against, with their points",
)
def criteria(request):
    return {
        stage: [{"code": c.code, "label": str(c.label), "points": c.points} for c in rows]
        for stage, rows in CRITERIA.items()
    }


@router.get(
    "/{project_id}",
    response=ProjectDetailOut,
    summary="One project: budget lines with paid, pending and left; payments; steps; reviews; "
    "survey; the caller's possible steps",
)
def project_detail(request, project_id: int = Path(..., ge=1, le=MAX_ID)):
    return _detail(request.user, project_id)


# --- the application --------------------------------------------------------------------------


@router.post(
    "/",
    response={201: ProjectDetailOut},
    summary="Draft an application with its budget lines (committee staff)",
)
def project_create(request, payload: ProjectIn):
    place = Place.objects.filter(pk=payload.place_id, kind__in=list(services.FUND_OF_PLACE)).first()
    if place is None or not user_can(request.user, perms.VIEW_PROJECTS, place.path):
        raise Http404
    links = _links(place.path, payload, {"topic_id", "meeting_id", "compound_id"})
    project = _run(
        services.project_create,
        actor=request.user,
        place=place,
        title=payload.title,
        plan=payload.plan,
        beneficiaries=payload.beneficiaries,
        beneficiary_count=payload.beneficiary_count,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        lines=_lines(payload.lines),
        **links,
    )
    return Status(201, _detail(request.user, project.pk))


@router.patch(
    "/{project_id}",
    response=ProjectDetailOut,
    summary="Change a draft (also one returned by the committee); only the fields sent",
)
def project_update(request, payload: ProjectPatchIn, project_id: int = Path(..., ge=1, le=MAX_ID)):
    project = _project(request.user, project_id)
    sent = payload.model_fields_set
    fields = {}
    for name in ("title", "plan", "beneficiaries", "beneficiary_count", "starts_on", "ends_on"):
        if name in sent:
            value = getattr(payload, name)
            if value is None:
                raise _field_error(name, models.Field.default_error_messages["null"], "null")
            fields[name] = value
    fields.update(_links(project.path, payload, sent & {"topic_id", "meeting_id", "compound_id"}))
    lines = None
    if "lines" in sent:
        if payload.lines is None:
            raise _field_error("lines", services.LINES_REQUIRED)
        lines = _lines(payload.lines)
    _run(services.project_update, actor=request.user, project=project, lines=lines, **fields)
    return _detail(request.user, project_id)


def _step_endpoint(path: str, summary: str):
    return router.post(path, response=ProjectDetailOut, summary=summary)


@_step_endpoint(
    "/{project_id}/submit",
    "Submit for the committee's check (refused with the figures: cap, deliberation record, "
    "participation rate)",
)
def project_submit(request, project_id: int = Path(..., ge=1, le=MAX_ID)):
    project = _project(request.user, project_id)
    _run(services.project_submit, actor=request.user, project=project)
    return _detail(request.user, project_id)


@_step_endpoint(
    "/{project_id}/check",
    "The committee's check by someone other than the applicant: pass, return or reject",
)
def project_check(request, payload: CheckIn, project_id: int = Path(..., ge=1, le=MAX_ID)):
    project = _project(request.user, project_id)
    _run(
        services.project_check,
        actor=request.user,
        project=project,
        decision=payload.decision,
        note=payload.note,
    )
    return _detail(request.user, project_id)


@_step_endpoint(
    "/{project_id}/withdraw", "Withdraw an application not yet on public notice (with a reason)"
)
def project_withdraw(request, payload: ReasonIn, project_id: int = Path(..., ge=1, le=MAX_ID)):
    project = _project(request.user, project_id)
    _run(services.project_withdraw, actor=request.user, project=project, reason=payload.reason)
    return _detail(request.user, project_id)


@_step_endpoint(
    "/{project_id}/review",
    "A panel reviewer's scores for the application or the evaluation, or their declared "
    "conflict of interest",
)
def project_review(request, payload: ReviewIn, project_id: int = Path(..., ge=1, le=MAX_ID)):
    project = _project(request.user, project_id)
    _run(
        services.review_submit,
        actor=request.user,
        project=project,
        stage=payload.stage,
        scores=payload.scores,
        opinion=payload.opinion,
        conflict=payload.conflict,
        conflict_note=payload.conflict_note,
    )
    return _detail(request.user, project_id)


@_step_endpoint(
    "/{project_id}/decide",
    "The street's decision on the panel's scores: pass (enough reviewers, mean at least the "
    "pass mark) or reject",
)
def project_decide(request, payload: DecideIn, project_id: int = Path(..., ge=1, le=MAX_ID)):
    project = _project(request.user, project_id)
    _run(
        services.project_review_decide,
        code="panel",
        actor=request.user,
        project=project,
        decision=payload.decision,
        note=payload.note,
    )
    return _detail(request.user, project_id)


@_step_endpoint(
    "/{project_id}/publicise", "Publish the public notice on the community's board (the street)"
)
def project_publicise(request, project_id: int = Path(..., ge=1, le=MAX_ID)):
    project = _project(request.user, project_id)
    _run(services.project_publicise, actor=request.user, project=project)
    return _detail(request.user, project_id)


@_step_endpoint(
    "/{project_id}/approve",
    "Approve after the notice period with every objection answered; commits the budget",
)
def project_approve(request, project_id: int = Path(..., ge=1, le=MAX_ID)):
    project = _project(request.user, project_id)
    _run(services.project_approve, code="approval", actor=request.user, project=project)
    return _detail(request.user, project_id)


@_step_endpoint(
    "/{project_id}/complete", "Report the work done and ask for acceptance (committee staff)"
)
def project_complete(request, payload: ReportIn, project_id: int = Path(..., ge=1, le=MAX_ID)):
    project = _project(request.user, project_id)
    _run(services.project_complete, actor=request.user, project=project, report=payload.report)
    return _detail(request.user, project_id)


@_step_endpoint(
    "/{project_id}/accept",
    "The street's acceptance: passed (on to evaluation) or not (back to the committee)",
)
def project_accept(request, payload: AcceptIn, project_id: int = Path(..., ge=1, le=MAX_ID)):
    project = _project(request.user, project_id)
    if payload.passed is None:
        if not user_can(request.user, perms.DECIDE, project.path):
            raise ApiError(403, str(services.NOT_PERMITTED), "forbidden")
        raise _field_error("passed", forms.Field.default_error_messages["required"], "required")
    _run(
        services.project_accept,
        actor=request.user,
        project=project,
        passed=payload.passed,
        note=payload.note,
    )
    return _detail(request.user, project_id)


@_step_endpoint(
    "/{project_id}/evaluate",
    "Record the evaluation: the panel's scores and the residents' survey as it stands",
)
def project_evaluate(request, payload: NoteIn, project_id: int = Path(..., ge=1, le=MAX_ID)):
    project = _project(request.user, project_id)
    _run(services.project_evaluate, actor=request.user, project=project, note=payload.note)
    return _detail(request.user, project_id)


@_step_endpoint(
    "/{project_id}/close",
    "Close: release what is left of the commitment and publish the outcome with the accounts",
)
def project_close(request, payload: OutcomeIn, project_id: int = Path(..., ge=1, le=MAX_ID)):
    project = _project(request.user, project_id)
    _run(services.project_close, actor=request.user, project=project, outcome=payload.outcome)
    return _detail(request.user, project_id)


@_step_endpoint(
    "/{project_id}/disclose",
    "Publish the project's accounts on the board (every payment not yet published)",
)
def project_disclose(request, project_id: int = Path(..., ge=1, le=MAX_ID)):
    project = _project(request.user, project_id)
    _run(services.project_disclose, actor=request.user, project=project)
    return _detail(request.user, project_id)


# --- payments ---------------------------------------------------------------------------------


@router.post(
    "/{project_id}/payments",
    response={201: PaymentOut},
    summary="Ask to pay against a budget line (multipart: the fields and the invoice file); "
    "posted once the street's number of signatures is reached",
)
def payment_request(
    request,
    payload: Form[PaymentIn],
    project_id: int = Path(..., ge=1, le=MAX_ID),
    invoice: File[UploadedFile] = None,
):
    project = _project(request.user, project_id)
    line = project.lines.filter(pk=payload.line_id).first() if payload.line_id else None
    if line is None:
        raise _field_error("line_id", services.LINE_OF_OTHER)
    if invoice is not None:
        name = (invoice.name or "").lower()
        if not name.endswith(INVOICE_TYPES):
            raise _field_error("invoice", INVOICE_TYPE, "invoice_type")
        if invoice.size > INVOICE_MAX_BYTES:
            raise _field_error("invoice", INVOICE_SIZE, "invoice_size")
    payment = _run(
        services.payment_request,
        actor=request.user,
        project=project,
        line=line,
        amount=payload.amount,
        payee=payload.payee,
        memo=payload.memo,
        invoice=invoice,
        invoice_number=payload.invoice_number,
        on=payload.on,
    )
    return Status(201, _payment_out(_payment(request.user, payment.pk)))


@router.post(
    "/payments/{payment_id}/approve",
    response=PaymentOut,
    summary="Sign a payment (the committee's director or secretary); the last signature posts it",
)
def payment_approve(request, payment_id: int = Path(..., ge=1, le=MAX_ID)):
    payment = _payment(request.user, payment_id)
    _run(services.payment_approve, actor=request.user, payment=payment)
    return _payment_out(_payment(request.user, payment_id))


@router.post(
    "/payments/{payment_id}/refuse",
    response=PaymentOut,
    summary="Refuse a payment awaiting approval (with a reason); its line is freed",
)
def payment_refuse(request, payload: ReasonIn, payment_id: int = Path(..., ge=1, le=MAX_ID)):
    payment = _payment(request.user, payment_id)
    _run(services.payment_refuse, actor=request.user, payment=payment, reason=payload.reason)
    return _payment_out(_payment(request.user, payment_id))


# --- residents --------------------------------------------------------------------------------


@router.post(
    "/{project_id}/survey",
    response={201: SurveyAnswerOut},
    summary="A resident of the community says how satisfied they are (1–5), once, during the "
    "evaluation",
)
def survey_answer(request, payload: SurveyIn, project_id: int = Path(..., ge=1, le=MAX_ID)):
    project = _readable(request.user, project_id)
    answer = _run(
        services.survey_answer,
        actor=request.user,
        project=project,
        score="" if payload.score is None else payload.score,
        comment=payload.comment,
    )
    return Status(
        201,
        {
            "project_id": project.pk,
            "score": answer.score,
            "comment": answer.comment,
            "at": answer.at,
        },
    )
