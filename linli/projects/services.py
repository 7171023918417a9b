"""A fund project's steps, each atomic, on record (`ProjectStep`) and in the audit trail.

No step can be skipped: `_advance` locks the project row and refuses unless it is in the one
state the step starts from (`FROM`). Money moves only through funds.services: approval commits
the budget, a payment with all its signatures posts against the commitment, closing releases
what is left. The profile of the project's street for the project's year gives every number
(cap, negative list, deliberation, participation minimum, reviewers, pass mark, publicity days,
invoice, signatures, disclosure days).

Refusals raise ValidationError naming the figures (the cap and the total, the line and what is
left of it, the participation rate and the minimum); a missing permission raises
PermissionDenied; a step from the wrong state raises ValidationError with code "state".
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.scoping import grants, home_paths, roles_at, user_can
from linli.core.audit import audit_record
from linli.deliberation.choices import TopicState
from linli.funds import services as ledger
from linli.funds.choices import FundKind
from linli.funds.models import Fund
from linli.funds.money import ZERO, parse_money, yuan
from linli.funds.participation import participation_check
from linli.funds.selectors import profile_for
from linli.meetings.choices import MeetingState
from linli.notices.choices import NoticeKind, ObjectionState
from linli.notices.models import Objection
from linli.notices.services import notice_publish, public_text_errors
from linli.places.choices import PlaceKind
from linli.places.models import Place
from linli.projects import perms
from linli.projects.choices import (
    ExpenseCategory,
    PaymentState,
    ProjectState,
    Stage,
    Step,
)
from linli.projects.constants import CRITERIA, NEGATIVE_WORDS
from linli.projects.models import (
    BudgetLine,
    Payment,
    PaymentApproval,
    Project,
    ProjectStep,
    Review,
    SurveyResponse,
)

S = ProjectState
MAX_TITLE, MAX_TEXT, MAX_LINES = 200, 5000, 30
FUND_OF_PLACE = {
    PlaceKind.COMMITTEE: FundKind.SELF_GOVERNANCE,
    PlaceKind.STREET: FundKind.CO_GOVERNANCE,
}

YEAR_INVALID = _("The year of the money applied for lies between 2000 and %(next)s.")
NOT_PERMITTED = _("You may not take this step for this project.")
WRONG_STATE = _("This project is “%(state)s”: “%(step)s” is not possible now.")
PLACE_KIND = _("A fund project belongs to a residents' committee or a street.")
COMPOUND_OUTSIDE = _("The compound must lie in the project's community.")
TITLE_LENGTH = _("Give the project a name of 2 to 200 characters.")
TEXT_REQUIRED = _("This field is required (at most 5,000 characters).")
COUNT_INVALID = _("Give the number of beneficiaries (at least 1).")
DATES_ORDER = _("The project cannot end before it starts.")
LINES_REQUIRED = _("A budget has at least one line and at most 30.")
LINE_CATEGORY = _("Line %(n)s: choose what it buys.")
LINE_ITEM = _("Line %(n)s: say what it buys (at most 200 characters).")
LINE_AMOUNT = _("Line %(n)s: %(error)s")
NEGATIVE = _("Line %(n)s (“%(item)s”) is on the street's negative list: %(what)s.")
NEGATIVE_PAYMENT = _("This payment is on the street's negative list: %(what)s.")
CAP = _("The budget %(total)s is above the per-project cap %(cap)s.")
CAP_PAYMENT = _("Paying %(amount)s would bring the project to %(total)s, above the cap %(cap)s.")
LINE_LEFT = _(
    "Line “%(item)s” has %(left)s left of %(budget)s (paid or awaiting approval: %(used)s)."
)
DELIBERATION_REQUIRED = _(
    "The street requires a resident deliberation record: link the topic or the meeting that "
    "decided this project."
)
TOPIC_OUTSIDE = _("The topic must be one of this community's.")
MEETING_OUTSIDE = _("The meeting must be one of this community's.")
MEETING_NOT_HELD = _("The meeting has not been held yet: a decision needs a held meeting.")
DECISION_INVALID = _("Choose a decision.")
REASON_REQUIRED = _("Give a reason (at least two characters).")
SAME_PERSON = _("The committee's check must be made by someone other than the applicant.")
CONFLICT_UNDECLARED = _(
    "You hold a role or live in this community: declare your conflict of interest and stand aside."
)
CONFLICT_NOTE = _("Say what the conflict of interest is.")
SCORES_INVALID = _("Score every criterion with a whole number from 0 to its maximum.")
TOO_FEW_REVIEWS = _("%(count)s reviewers have scored; the street requires %(required)s.")
BELOW_PASS = _("The mean score %(score)s is below the pass mark %(pass)s.")
WINDOW_OPEN = _("The public notice runs until the end of %(date)s: approve after it.")
OPEN_OBJECTIONS = _("%(count)s objections to the notice are unanswered: answer them first.")
NO_FUND = _("%(place)s has no %(fund)s yet: the street allocates it first.")
INVOICE_REQUIRED = _("Attach the invoice: the street requires one for every payment.")
INVOICE_NUMBER = _("Give the invoice number (at most 40 characters).")
PAYEE_REQUIRED = _("Give the payee (at most 200 characters).")
MEMO_REQUIRED = _("Say what was bought (at most 200 characters).")
LINE_OF_OTHER = _("Choose a line of this project's budget.")
ALREADY_SIGNED = _("You have already signed this payment.")
NOT_REQUESTED = _("This payment is no longer awaiting approval.")
UNPAID_PENDING = _("%(count)s payments still await approval: approve or refuse them first.")
REPORT_REQUIRED = _("Write the completion report (what was done, for whom, what it cost).")
NO_SURVEY_RIGHT = _("Only residents of this community answer its survey.")
SURVEY_CLOSED = _("The survey is open while the project is being evaluated.")
SURVEY_DUPLICATE = _("You have already answered this survey.")
SCORE_RANGE = _("Choose from 1 (very dissatisfied) to 5 (very satisfied).")
NOTHING_TO_DISCLOSE = _("Every payment is already published.")
OUTCOME_REQUIRED = _("Write the outcome to publish (at least two characters).")
NOTICE_WITHDRAWN = _(
    "The public notice was withdrawn: the street publishes it again before any approval."
)
NOT_WITHDRAWN = _("The public notice is on the board: it runs its course.")
YEAR_NOT_BEGUN = _("This is money of %(year)s: it is approved from 1 January %(year)s on.")
INVOICE_USED = _(
    "Invoice %(number)s is already on another payment of this community: one invoice pays once."
)
DATE_BEFORE_APPROVAL = _("A payment cannot be dated before the project was approved (%(date)s).")
DATE_FUTURE = _("A payment cannot be dated in the future.")
TOPIC_NOT_RESIDENTS = _(
    "The topic must be one residents raised or backed, or one taken to a meeting, and not "
    "declined or merged: the residents' decision is what the record shows."
)

# The one state each step starts from: the workflow's only door.
FROM = {
    Step.EDIT: S.DRAFT,
    Step.SUBMIT: S.DRAFT,
    Step.CHECK: S.SUBMITTED,
    Step.REVIEW_PASS: S.CHECKED,
    Step.PUBLICISE: S.REVIEWED,
    Step.APPROVE: S.PUBLICISED,
    Step.COMPLETE: S.APPROVED,
    Step.ACCEPT: S.COMPLETED,
    Step.EVALUATE: S.ACCEPTED,
    Step.CLOSE: S.EVALUATED,
}
WITHDRAWABLE = (S.DRAFT, S.SUBMITTED, S.CHECKED, S.REVIEWED)


@dataclass(frozen=True)
class LineInput:
    category: str
    item: str
    amount: object


# --- helpers ----------------------------------------------------------------------------------


def _text(value) -> str:
    return str(value or "").replace("\r\n", "\n").replace("\x00", "").strip()


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _require(actor, perm: str, place_path: str) -> None:
    if actor is not None and not user_can(actor, perm, place_path):
        raise PermissionDenied(NOT_PERMITTED)


def _role(actor, project: Project) -> str:
    if actor is None:
        return "system"
    return ",".join(roles_at(actor, project.place))[:32]


def _profile(project: Project):
    street = project.place if project.place.kind == PlaceKind.STREET else project.place.parent
    return profile_for(street=street, year=project.year)


def _lock(project: Project) -> Project:
    return (
        Project.objects.select_for_update(of=("self",))
        .select_related("place", "place__parent", "commitment")
        .get(pk=project.pk)
    )


def _step(
    project: Project, *, actor, step: str, before: str, note: str = "", data: dict | None = None
) -> ProjectStep:
    record = ProjectStep.objects.create(
        project=project,
        step=step,
        from_state=before,
        to_state=project.state,
        actor=_user(actor),
        role=_role(actor, project),
        note=note,
        data=data or {},
    )
    audit_record(
        actor=actor,
        action=f"projects.{step}",
        obj=project,
        place=project.place,
        changes={"from": before, "to": project.state, **(data or {})},
        reason=note[:500],
    )
    return record


def _move(project: Project, *, actor, step: str, to: str, note: str = "", data=None) -> Project:
    before = project.state
    project.state = to
    project.updated_at = timezone.now()
    project.save()
    _step(project, actor=actor, step=step, before=before, note=note, data=data)
    return project


def _check_state(project: Project, step: str, allowed: Iterable[str] | None = None) -> None:
    allowed = tuple(allowed) if allowed is not None else (FROM[step],)
    if project.state not in allowed:
        raise ValidationError(
            WRONG_STATE % {"state": S(project.state).label, "step": Step(step).label},
            code="state",
        )


def _error(field: str, message, code: str) -> ValidationError:
    """A field's error that keeps its code (a code given to a dict is lost)."""
    return ValidationError({field: [ValidationError(message, code=code)]})


def negative_hit(profile, category: str, text: str) -> str | None:
    """The negative-list item (its label) that `category` or the words of `text` fall under."""
    listed = set(profile.negative_list or [])
    if category in listed:
        return str(ExpenseCategory(category).label)
    for item, words in NEGATIVE_WORDS.items():
        if item.value in listed and any(word in text for word in words):
            return str(item.label)
    return None


def _clean_lines(lines: Sequence, profile) -> tuple[list[BudgetLine], Decimal]:
    if not lines or len(lines) > MAX_LINES:
        raise ValidationError({"lines": [LINES_REQUIRED]})
    errors, built, total = [], [], ZERO
    for n, raw in enumerate(lines, start=1):
        line = raw if isinstance(raw, LineInput) else LineInput(**raw)
        item = " ".join(_text(line.item).split())
        if line.category not in ExpenseCategory.values:
            errors.append(LINE_CATEGORY % {"n": n})
            continue
        if not item or len(item) > 200:
            errors.append(LINE_ITEM % {"n": n})
            continue
        try:
            amount = parse_money(line.amount)
        except ValidationError as exc:
            errors.append(LINE_AMOUNT % {"n": n, "error": " ".join(exc.messages)})
            continue
        found = public_text_errors(item)
        if found:
            errors.append(LINE_AMOUNT % {"n": n, "error": " ".join(str(e) for e in found)})
            continue
        hit = negative_hit(profile, line.category, item)
        if hit:
            errors.append(NEGATIVE % {"n": n, "item": item, "what": hit})
            continue
        built.append(BudgetLine(position=n, category=line.category, item=item, amount=amount))
        total += amount
    if errors:
        raise ValidationError({"lines": errors})
    return built, total


def _check_cap(total: Decimal, profile) -> None:
    if total > profile.per_project_cap:
        raise _error(
            "lines", CAP % {"total": yuan(total), "cap": yuan(profile.per_project_cap)}, "cap"
        )


def _clean_fields(project: Project, fields: dict) -> dict:
    errors: dict[str, list] = {}
    clean = {}
    if "title" in fields:
        title = " ".join(_text(fields["title"]).split())
        if not 2 <= len(title) <= MAX_TITLE:
            errors["title"] = [TITLE_LENGTH]
        clean["title"] = title
    for name in ("plan", "beneficiaries"):
        if name in fields:
            value = _text(fields[name])
            if not value or len(value) > MAX_TEXT:
                errors[name] = [TEXT_REQUIRED]
            clean[name] = value
    if "beneficiary_count" in fields:
        try:
            count = int(fields["beneficiary_count"])
        except (TypeError, ValueError):
            count = 0
        if not 1 <= count <= 10_000_000:
            errors["beneficiary_count"] = [COUNT_INVALID]
        clean["beneficiary_count"] = count
    for name in ("starts_on", "ends_on"):
        if name in fields:
            if not isinstance(fields[name], dt.date) or isinstance(fields[name], dt.datetime):
                raise TypeError(f"{name} is a datetime.date")
            clean[name] = fields[name]
    starts = clean.get("starts_on", project.starts_on)
    ends = clean.get("ends_on", project.ends_on)
    if starts and ends and ends < starts:
        errors["ends_on"] = [DATES_ORDER]
    if "compound" in fields:
        compound = fields["compound"]
        if compound is not None and (
            compound.kind != PlaceKind.COMPOUND or not compound.path.startswith(project.path)
        ):
            errors["compound"] = [COMPOUND_OUTSIDE]
        clean["compound"] = compound
    if "topic" in fields:
        topic = fields["topic"]
        if topic is not None and not topic.path.startswith(project.path):
            errors["topic"] = [TOPIC_OUTSIDE]
        clean["topic"] = topic
    if "meeting" in fields:
        meeting = fields["meeting"]
        if meeting is not None and not meeting.path.startswith(project.path):
            errors["meeting"] = [MEETING_OUTSIDE]
        clean["meeting"] = meeting
    for name in ("title", "plan", "beneficiaries"):
        found = public_text_errors(clean.get(name, ""))
        if found:
            errors.setdefault(name, []).extend(found)
    if errors:
        raise ValidationError(errors)
    return clean


def _deliberation_errors(project: Project, profile) -> list:
    if project.meeting_id and project.meeting.state not in (
        MeetingState.CLOSED,
        MeetingState.MINUTES_PUBLISHED,
    ):
        return [MEETING_NOT_HELD]
    topic = project.topic if project.topic_id else None
    if topic is not None and (
        topic.state in (TopicState.DECLINED, TopicState.MERGED)
        or (
            topic.by_staff
            and not topic.support_count
            and topic.state not in (TopicState.SCHEDULED, TopicState.DONE)
        )
    ):
        return [TOPIC_NOT_RESIDENTS]
    if profile.require_deliberation and not (project.topic_id or project.meeting_id):
        return [DELIBERATION_REQUIRED]
    return []


# --- application ------------------------------------------------------------------------------


@transaction.atomic
def project_create(
    *,
    actor,
    place: Place,
    title: str,
    plan: str,
    beneficiaries: str,
    beneficiary_count,
    starts_on: dt.date,
    ends_on: dt.date,
    lines: Sequence,
    topic=None,
    meeting=None,
    compound: Place | None = None,
    year: int | None = None,
) -> Project:
    """Draft an application for the money of `year` (default this year; next year's money can be
    applied for in advance). The budget lines are checked against that year's profile at once
    (the negative list, the cap), so a worker learns early what cannot be funded."""
    if place.kind not in FUND_OF_PLACE:
        raise ValidationError({"place": [PLACE_KIND]})
    _require(actor, perms.APPLY, place.path)
    this_year = timezone.localdate().year
    year = this_year if year is None else year
    if not isinstance(year, int) or not 2000 <= year <= this_year + 1:
        raise ValidationError({"year": [YEAR_INVALID % {"next": this_year + 1}]})
    project = Project(place=place, path=place.path, year=year)
    fields = _clean_fields(
        project,
        {
            "title": title,
            "plan": plan,
            "beneficiaries": beneficiaries,
            "beneficiary_count": beneficiary_count,
            "starts_on": starts_on,
            "ends_on": ends_on,
            "topic": topic,
            "meeting": meeting,
            "compound": compound,
        },
    )
    profile = _profile(project)
    built, total = _clean_lines(lines, profile)
    _check_cap(total, profile)
    for name, value in fields.items():
        setattr(project, name, value)
    project.budget = total
    project.created_by = _user(actor)
    project.save()
    for line in built:
        line.project = project
    BudgetLine.objects.bulk_create(built)
    if topic is not None and not topic.project_ref:
        topic.project_ref = f"project:{project.pk}"
        topic.save(update_fields=["project_ref"])
    _step(project, actor=actor, step=Step.CREATE, before="", data={"budget": str(total)})
    return project


@transaction.atomic
def project_update(*, actor, project: Project, lines: Sequence | None = None, **fields) -> Project:
    """Change a draft (also one returned by the committee's check)."""
    project = _lock(project)
    _require(actor, perms.APPLY, project.path)
    _check_state(project, Step.EDIT)
    clean = _clean_fields(project, fields)
    for name, value in clean.items():
        setattr(project, name, value)
    if lines is not None:
        built, total = _clean_lines(lines, _profile(project))
        _check_cap(total, _profile(project))
        project.lines.all().delete()
        for line in built:
            line.project = project
        BudgetLine.objects.bulk_create(built)
        project.budget = total
    project.updated_at = timezone.now()
    project.save()
    _step(
        project,
        actor=actor,
        step=Step.EDIT,
        before=project.state,
        data={"budget": str(project.budget)},
    )
    return project


def participation_place(project: Project) -> Place:
    return project.compound or project.place


@transaction.atomic
def project_submit(*, actor, project: Project, on: dt.date | None = None) -> Project:
    """Submit for the committee's check. Refused, with the figures, when the budget breaks the
    profile, a required deliberation record is missing, or the participation rate of the
    community (or the compound it serves) is below the profile's minimum for new money."""
    project = _lock(project)
    _require(actor, perms.APPLY, project.path)
    _check_state(project, Step.SUBMIT)
    profile = _profile(project)
    lines = list(project.lines.all())
    _clean_lines([LineInput(x.category, x.item, x.amount) for x in lines], profile)
    _check_cap(project.budget, profile)
    errors = _deliberation_errors(project, profile)
    if errors:
        raise _error("topic", errors[0], "deliberation")
    check = participation_check(
        place=participation_place(project), on=on or timezone.localdate(), profile=profile
    )
    if not check.meets:
        raise _error("__all__", check.message, "participation")
    project.participation_households = check.result.households_took_part
    project.participation_total = check.result.households_total
    return _move(
        project,
        actor=actor,
        step=Step.SUBMIT,
        to=S.SUBMITTED,
        note=check.message,
        data={
            "budget": str(project.budget),
            "participation": [check.result.households_took_part, check.result.households_total],
        },
    )


@transaction.atomic
def project_check(*, actor, project: Project, decision: str, note: str = "") -> Project:
    """The committee's check: pass it to the street, return it for changes, or reject it. The
    checker is never the person who submitted it."""
    project = _lock(project)
    _require(actor, perms.CHECK, project.path)
    _check_state(project, Step.CHECK)
    note = _text(note)
    submitter = project.steps.filter(step=Step.SUBMIT).order_by("-at", "-id").first()
    applicants = {project.created_by_id, submitter.actor_id if submitter else None}
    if actor is not None and actor.pk in applicants:
        raise ValidationError(SAME_PERSON, code="same_person")
    if decision == "pass":
        return _move(project, actor=actor, step=Step.CHECK, to=S.CHECKED, note=note)
    if decision not in ("return", "reject"):
        raise ValidationError({"decision": [DECISION_INVALID]})
    if len(note) < 2:
        raise ValidationError({"note": [REASON_REQUIRED]})
    if decision == "return":
        return _move(project, actor=actor, step=Step.RETURN, to=S.DRAFT, note=note)
    return _move(project, actor=actor, step=Step.REJECT, to=S.REJECTED, note=note)


@transaction.atomic
def project_withdraw(*, actor, project: Project, reason: str) -> Project:
    """The committee takes back an application not yet on public notice."""
    project = _lock(project)
    _require(actor, perms.APPLY, project.path)
    _check_state(project, Step.WITHDRAW, WITHDRAWABLE)
    reason = _text(reason)
    if len(reason) < 2:
        raise ValidationError({"reason": [REASON_REQUIRED]})
    return _move(project, actor=actor, step=Step.WITHDRAW, to=S.WITHDRAWN, note=reason)


# --- review panel -----------------------------------------------------------------------------


def has_conflict(user, project: Project) -> bool:
    """Holds a role in the project's community or lives there: a conflict to declare."""
    return any(
        prefix.startswith(project.path) for grant in grants(user) for prefix in grant.prefixes
    ) or any(path.startswith(project.path) for path in home_paths(user))


def _clean_scores(stage: str, scores) -> tuple[dict, Decimal]:
    criteria = CRITERIA[stage]
    if not isinstance(scores, dict):
        raise ValidationError({"scores": [SCORES_INVALID]})
    clean, total = {}, 0
    for criterion in criteria:
        value = scores.get(criterion.code)
        try:
            number = int(str(value).strip())
        except (TypeError, ValueError):
            raise ValidationError({"scores": [SCORES_INVALID]}) from None
        if not 0 <= number <= criterion.points:
            raise ValidationError({"scores": [SCORES_INVALID]})
        clean[criterion.code] = number
        total += number
    return clean, Decimal(total)


REVIEW_STATE = {Stage.REVIEW: S.CHECKED, Stage.EVALUATION: S.ACCEPTED}


@transaction.atomic
def review_submit(
    *,
    actor,
    project: Project,
    stage: str,
    scores: dict | None = None,
    opinion: str = "",
    conflict: bool = False,
    conflict_note: str = "",
) -> Review:
    """A reviewer of the street's panel scores the application (or the evaluation), or declares
    a conflict of interest and stands aside. A reviewer with a role or a home in the community
    must declare. A reviewer may change their scores until the street decides."""
    project = _lock(project)
    if stage not in REVIEW_STATE:
        raise ValidationError({"stage": [DECISION_INVALID]})
    _require(actor, perms.REVIEW, project.path)
    _check_state(project, Step.REVIEW, (REVIEW_STATE[stage],))
    conflict_note = _text(conflict_note)
    if not conflict and has_conflict(actor, project):
        raise _error("conflict", CONFLICT_UNDECLARED, "conflict")
    if conflict:
        if len(conflict_note) < 2:
            raise ValidationError({"conflict_note": [CONFLICT_NOTE]})
        clean, total = {}, None
    else:
        clean, total = _clean_scores(stage, scores)
    review, _created = Review.objects.update_or_create(
        project=project,
        stage=stage,
        reviewer=actor,
        defaults={
            "conflict": conflict,
            "conflict_note": conflict_note[:500],
            "scores": clean,
            "total": total,
            "opinion": _text(opinion)[:MAX_TEXT],
            "submitted_at": timezone.now(),
        },
    )
    _step(
        project,
        actor=actor,
        step=Step.REVIEW,
        before=project.state,
        note=conflict_note if conflict else _text(opinion)[:500],
        data={"stage": stage, "conflict": conflict, "total": None if total is None else str(total)},
    )
    return review


@dataclass(frozen=True)
class Panel:
    scored: int
    recused: int
    mean: Decimal | None  # to two places, rounded half up; exact comparison uses `exact`
    exact: Fraction | None


def panel(project: Project, stage: str) -> Panel:
    rows = list(
        Review.objects.filter(project=project, stage=stage).values_list("conflict", "total")
    )
    totals = [Fraction(total) for conflict, total in rows if not conflict]
    exact = sum(totals, Fraction(0)) / len(totals) if totals else None
    mean = None
    if exact is not None:
        mean = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
    return Panel(scored=len(totals), recused=len(rows) - len(totals), mean=mean, exact=exact)


def _panel_errors(project: Project, stage: str, profile) -> tuple[Panel, list]:
    result = panel(project, stage)
    if result.scored < profile.min_reviewers:
        return result, [
            TOO_FEW_REVIEWS % {"count": result.scored, "required": profile.min_reviewers}
        ]
    if result.exact < profile.pass_score:
        return result, [BELOW_PASS % {"score": result.mean, "pass": profile.pass_score}]
    return result, []


@transaction.atomic
def project_review_decide(*, actor, project: Project, decision: str, note: str = "") -> Project:
    """The street's decision on the panel's scores: pass (needs the profile's number of
    reviewers and a mean at least the pass mark) or reject (with a reason)."""
    project = _lock(project)
    _require(actor, perms.DECIDE, project.path)
    _check_state(project, Step.REVIEW_PASS)
    note = _text(note)
    profile = _profile(project)
    result, errors = _panel_errors(project, Stage.REVIEW, profile)
    data = {"scored": result.scored, "recused": result.recused, "mean": str(result.mean)}
    if decision == "reject":
        if len(note) < 2:
            raise ValidationError({"note": [REASON_REQUIRED]})
        project.review_score = result.mean
        return _move(project, actor=actor, step=Step.REJECT, to=S.REJECTED, note=note, data=data)
    if decision != "pass":
        raise ValidationError({"decision": [DECISION_INVALID]})
    if errors:
        raise ValidationError({"__all__": errors}, code="panel")
    project.review_score = result.mean
    return _move(project, actor=actor, step=Step.REVIEW_PASS, to=S.REVIEWED, note=note, data=data)


# --- public notice and approval ---------------------------------------------------------------


def notice_text(project: Project) -> str:
    lines = "\n".join(
        f"{line.position}. {line.item}（{ExpenseCategory(line.category).label}）{yuan(line.amount)}"
        for line in project.lines.all()
    )
    return str(
        _(
            "Project: %(title)s\nPlan: %(plan)s\nBeneficiaries: %(beneficiaries)s (%(count)s)\n"
            "Dates: %(starts)s to %(ends)s\nBudget %(total)s:\n%(lines)s\n"
            "Review score: %(score)s\nResidents may object within the notice period."
        )
        % {
            "title": project.title,
            "plan": project.plan,
            "beneficiaries": project.beneficiaries,
            "count": project.beneficiary_count,
            "starts": project.starts_on,
            "ends": project.ends_on,
            "total": yuan(project.budget),
            "lines": lines,
            "score": project.review_score,
        }
    )


@transaction.atomic
def project_publicise(*, actor, project: Project) -> Project:
    """Publish the approved-in-principle project on the community's board for the profile's
    publicity days; residents object there (notices app)."""
    project = _lock(project)
    _require(actor, perms.DECIDE, project.path)
    _check_state(project, Step.PUBLICISE, (S.REVIEWED, S.PUBLICISED))
    if project.state == S.PUBLICISED and project.notice.withdrawn_at is None:
        raise ValidationError(NOT_WITHDRAWN, code="state")
    profile = _profile(project)
    notice = notice_publish(
        actor=actor,
        place=project.place,
        kind=NoticeKind.FUND,
        title=str(_("Fund project notice: %(title)s") % {"title": project.title})[:200],
        body=notice_text(project),
        window_days=profile.publicity_days,
        source=f"project:{project.pk}",
    )
    project.notice = notice
    return _move(
        project,
        actor=actor,
        step=Step.PUBLICISE,
        to=S.PUBLICISED,
        data={
            "notice": notice.pk,
            "days": profile.publicity_days,
            "until": notice.window_until.isoformat(),
        },
    )


def approval_errors(project: Project, now: dt.datetime | None = None) -> list:
    """Why the project cannot be approved yet ([] when it can)."""
    now = now or timezone.now()
    errors = []
    if timezone.localtime(now).year < project.year:
        errors.append(YEAR_NOT_BEGUN % {"year": project.year})
    notice = project.notice
    if notice is not None and notice.withdrawn_at is not None:
        errors.append(NOTICE_WITHDRAWN)
    elif notice is None or now < notice.window_until:
        last = notice.last_day if notice is not None else "—"
        errors.append(WINDOW_OPEN % {"date": last})
    open_count = Objection.objects.filter(notice=notice, state=ObjectionState.OPEN).count()
    if open_count:
        errors.append(OPEN_OBJECTIONS % {"count": open_count})
    errors += _deliberation_errors(project, _profile(project))
    return errors


def _fund(project: Project) -> Fund:
    kind = FUND_OF_PLACE[project.place.kind]
    fund = Fund.objects.filter(place=project.place, kind=kind).first()
    if fund is None:
        raise ValidationError(
            NO_FUND % {"place": project.place.name, "fund": FundKind(kind).label}, code="no_fund"
        )
    return fund


@transaction.atomic
def project_approve(*, actor, project: Project, on: dt.date | None = None) -> Project:
    """After the notice period, with every objection answered: approve and commit the budget in
    the ledger (refused there if the fund has not that much available)."""
    project = _lock(project)
    _require(actor, perms.DECIDE, project.path)
    _check_state(project, Step.APPROVE)
    errors = approval_errors(project)
    if errors:
        raise ValidationError({"__all__": errors}, code="approval")
    commitment = ledger.commitment_post(
        actor=actor,
        fund=_fund(project),
        title=project.title,
        amount=project.budget,
        on=on,
        memo=str(_("Fund project #%(id)s approved") % {"id": project.pk}),
        permitted=True,
    )
    project.commitment = commitment
    return _move(
        project,
        actor=actor,
        step=Step.APPROVE,
        to=S.APPROVED,
        data={"commitment": commitment.pk, "budget": str(project.budget)},
    )


# --- payments ---------------------------------------------------------------------------------


def line_used(line: BudgetLine) -> Decimal:
    """Paid on the line, plus what awaits approval on it."""
    used = line.payments.filter(state__in=(PaymentState.PAID, PaymentState.REQUESTED)).aggregate(
        total=Sum("amount")
    )["total"]
    return Decimal(used or 0).quantize(Decimal("0.01"))


def project_used(project: Project) -> Decimal:
    used = project.payments.filter(state__in=(PaymentState.PAID, PaymentState.REQUESTED)).aggregate(
        total=Sum("amount")
    )["total"]
    return Decimal(used or 0).quantize(Decimal("0.01"))


@transaction.atomic
def payment_request(
    *,
    actor,
    project: Project,
    line: BudgetLine,
    amount,
    payee: str,
    memo: str,
    invoice=None,
    invoice_number: str = "",
    on: dt.date | None = None,
) -> Payment:
    """Ask to pay against one line of an approved project, with the invoice. Refused when the
    line has not that much left, the project would pass the street's cap, or what it buys is on
    the negative list. The requester's is the first signature; the payment is posted to the
    ledger when the profile's number of signatures is reached."""
    project = _lock(project)
    _require(actor, perms.APPLY, project.path)
    _check_state(project, Step.PAYMENT_REQUEST, (S.APPROVED,))
    profile = _profile(project)
    if line.project_id != project.pk:
        raise ValidationError({"line": [LINE_OF_OTHER]})
    line = BudgetLine.objects.get(pk=line.pk)
    errors: dict[str, list] = {}
    try:
        amount = parse_money(amount)
    except ValidationError as exc:
        errors["amount"] = exc.messages
    payee, memo = " ".join(_text(payee).split()), " ".join(_text(memo).split())
    invoice_number = _text(invoice_number)
    if not payee or len(payee) > 200:
        errors["payee"] = [PAYEE_REQUIRED]
    if not memo or len(memo) > 200:
        errors["memo"] = [MEMO_REQUIRED]
    if profile.require_invoice and not invoice:
        errors["invoice"] = [INVOICE_REQUIRED]
    for name, text in (("payee", payee), ("memo", memo)):
        found = public_text_errors(text)
        if found:
            errors.setdefault(name, []).extend(found)
    today = timezone.localdate()
    on = on or today
    approved_on = project.commitment.transactions.order_by("id").values_list("date", flat=True)[0]
    if on > today:
        errors["on"] = [DATE_FUTURE]
    elif on < approved_on:
        errors["on"] = [DATE_BEFORE_APPROVAL % {"date": approved_on.isoformat()}]
    if invoice_number and (
        Payment.objects.filter(
            project__place=project.place,
            invoice_number=invoice_number,
            state__in=(PaymentState.REQUESTED, PaymentState.PAID),
        ).exists()
    ):
        errors["invoice_number"] = [INVOICE_USED % {"number": invoice_number}]
    if (profile.require_invoice and not invoice_number) or len(invoice_number) > 40:
        errors["invoice_number"] = [INVOICE_NUMBER]
    if errors:
        raise ValidationError(errors)
    hit = negative_hit(profile, line.category, f"{line.item} {memo}")
    if hit:
        raise _error("memo", NEGATIVE_PAYMENT % {"what": hit}, "negative")
    used = line_used(line)
    if used + amount > line.amount:
        figures = {
            "item": line.item,
            "left": yuan(line.amount - used),
            "budget": yuan(line.amount),
            "used": yuan(used),
        }
        raise _error("amount", LINE_LEFT % figures, "line")
    total = project_used(project) + amount
    if total > profile.per_project_cap:
        figures = {
            "amount": yuan(amount),
            "total": yuan(total),
            "cap": yuan(profile.per_project_cap),
        }
        raise _error("amount", CAP_PAYMENT % figures, "cap")
    payment = Payment.objects.create(
        project=project,
        line=line,
        amount=amount,
        payee=payee,
        memo=memo,
        invoice=invoice or "",
        invoice_number=invoice_number,
        on=on,
        requested_by=_user(actor),
    )
    _step(
        project,
        actor=actor,
        step=Step.PAYMENT_REQUEST,
        before=project.state,
        note=memo,
        data={"payment": payment.pk, "line": line.position, "amount": str(amount)},
    )
    if actor is not None:
        PaymentApproval.objects.create(payment=payment, user=actor, role=_role(actor, project))
    try:
        _maybe_pay(payment, project, profile, actor)
    except Exception:
        if payment.invoice:  # the row is rolled back: leave no orphaned file behind
            payment.invoice.delete(save=False)
        raise
    return payment


def _maybe_pay(payment: Payment, project: Project, profile, actor) -> None:
    signatures = payment.approvals.count()
    if actor is not None and signatures < profile.payment_approvals:
        return
    txn = ledger.payment_post(
        actor=actor,
        commitment=project.commitment,
        amount=payment.amount,
        payee=payment.payee,
        on=payment.on,
        memo=f"{payment.line.item} · {payment.memo}"[:500],
    )
    payment.state = PaymentState.PAID
    payment.transaction = txn
    payment.paid_at = timezone.now()
    payment.disclose_by = payment.on + dt.timedelta(days=profile.disclosure_days)
    payment.save()
    _step(
        project,
        actor=actor,
        step=Step.PAYMENT,
        before=project.state,
        note=payment.memo,
        data={"payment": payment.pk, "transaction": txn.pk, "amount": str(payment.amount)},
    )


@transaction.atomic
def payment_approve(*, actor, payment: Payment) -> Payment:
    """A further signature (the committee's director or secretary); the last one posts it."""
    project = _lock(payment.project)
    _require(actor, perms.CHECK, project.path)
    payment = Payment.objects.select_for_update().select_related("line").get(pk=payment.pk)
    if payment.state != PaymentState.REQUESTED:
        raise ValidationError(NOT_REQUESTED, code="state")
    _check_state(project, Step.PAYMENT_APPROVE, (S.APPROVED,))
    try:
        with transaction.atomic():
            PaymentApproval.objects.create(payment=payment, user=actor, role=_role(actor, project))
    except IntegrityError:
        raise ValidationError(ALREADY_SIGNED, code="signed") from None
    _step(
        project,
        actor=actor,
        step=Step.PAYMENT_APPROVE,
        before=project.state,
        data={"payment": payment.pk},
    )
    _maybe_pay(payment, project, _profile(project), actor)
    return payment


@transaction.atomic
def payment_refuse(*, actor, payment: Payment, reason: str) -> Payment:
    project = _lock(payment.project)
    _require(actor, perms.CHECK, project.path)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.state != PaymentState.REQUESTED:
        raise ValidationError(NOT_REQUESTED, code="state")
    reason = _text(reason)
    if len(reason) < 2:
        raise ValidationError({"reason": [REASON_REQUIRED]})
    payment.state = PaymentState.REFUSED
    payment.refused_reason = reason[:500]
    payment.save(update_fields=["state", "refused_reason"])
    _step(
        project,
        actor=actor,
        step=Step.PAYMENT_REFUSE,
        before=project.state,
        note=reason,
        data={"payment": payment.pk},
    )
    return payment


# --- disclosure -------------------------------------------------------------------------------


def accounts_text(project: Project) -> str:
    paid = {}
    for payment in project.payments.filter(state=PaymentState.PAID):
        paid[payment.line_id] = paid.get(payment.line_id, ZERO) + payment.amount
    rows = "\n".join(
        str(
            _("%(n)s. %(item)s: budget %(budget)s, spent %(spent)s")
            % {
                "n": line.position,
                "item": line.item,
                "budget": yuan(line.amount),
                "spent": yuan(paid.get(line.pk, ZERO)),
            }
        )
        for line in project.lines.all()
    )
    spent = sum(paid.values(), ZERO)
    return str(
        _(
            "Project: %(title)s\nBudget %(budget)s, spent %(spent)s, left %(left)s.\nBy line:\n%(rows)s"
        )
        % {
            "title": project.title,
            "budget": yuan(project.budget),
            "spent": yuan(spent),
            "left": yuan(project.budget - spent),
            "rows": rows,
        }
    )


@transaction.atomic
def project_disclose(*, actor, project: Project) -> Project:
    """Publish the project's accounts (budget and spending by line) on the community's board;
    every payment not yet published is published by it."""
    project = _lock(project)
    if actor is not None and not (
        user_can(actor, perms.APPLY, project.path) or user_can(actor, perms.DECIDE, project.path)
    ):
        raise PermissionDenied(NOT_PERMITTED)
    pending = list(
        project.payments.select_for_update().filter(state=PaymentState.PAID, disclosed_in=None)
    )
    if not pending:
        raise ValidationError(NOTHING_TO_DISCLOSE, code="nothing")
    notice = notice_publish(
        actor=actor,
        place=project.place,
        kind=NoticeKind.ACCOUNTS,
        title=str(_("Fund project accounts: %(title)s") % {"title": project.title})[:200],
        body=accounts_text(project),
        window_days=_profile(project).publicity_days,
        source=f"project:{project.pk}",
    )
    Payment.objects.filter(pk__in=[p.pk for p in pending]).update(disclosed_in=notice)
    _step(
        project,
        actor=actor,
        step=Step.DISCLOSE,
        before=project.state,
        data={"notice": notice.pk, "payments": [p.pk for p in pending]},
    )
    return project


OVERDUE_TITLE = _("Fund accounts overdue: %(title)s")
OVERDUE_BODY = _(
    "%(count)s payments of project “%(title)s” were due on the board by %(date)s. Publish the "
    "project's accounts (budget and spending by line) now."
)


def _committee_staff(place: Place) -> list[int]:
    from linli.accounts.models import RoleAssignment
    from linli.accounts.roles import ROLE_PERMS

    roles = [role for role, granted in ROLE_PERMS.items() if perms.APPLY in granted]
    return list(
        RoleAssignment.objects.filter(place=place, role__in=roles, user__is_active=True)
        .values_list("user_id", flat=True)
        .distinct()
    )


@transaction.atomic
def disclosures_remind(*, today: dt.date | None = None) -> dict[str, int]:
    """Warn each committee, once per payment, of payments not published on its board by the
    profile's deadline (run daily: `linli projects_tick`)."""
    from django.urls import reverse

    from linli.notices.choices import NotificationKind
    from linli.notices.services import notify

    today = today or timezone.localdate()
    overdue = list(
        Payment.objects.select_for_update(of=("self",))
        .filter(
            state=PaymentState.PAID,
            disclosed_in__isnull=True,
            disclose_by__lt=today,
            overdue_notified_at__isnull=True,
        )
        .select_related("project__place")
        .order_by("project_id", "id")
    )
    by_project: dict[int, list[Payment]] = {}
    for payment in overdue:
        by_project.setdefault(payment.project_id, []).append(payment)
    for payments in by_project.values():
        project = payments[0].project
        figures = {
            "title": project.title,
            "count": len(payments),
            "date": min(p.disclose_by for p in payments).isoformat(),
        }
        notify(
            users=_committee_staff(project.place),
            kind=NotificationKind.OTHER,
            title=str(OVERDUE_TITLE % figures),
            body=str(OVERDUE_BODY % figures),
            url=reverse("projects:detail", args=[project.pk]),
        )
    Payment.objects.filter(pk__in=[p.pk for p in overdue]).update(
        overdue_notified_at=timezone.now()
    )
    return {"payments": len(overdue), "projects": len(by_project)}


# --- completion, acceptance, evaluation, close ------------------------------------------------


@transaction.atomic
def project_complete(*, actor, project: Project, report: str) -> Project:
    """The committee reports the work done and asks for acceptance (验收)."""
    project = _lock(project)
    _require(actor, perms.APPLY, project.path)
    _check_state(project, Step.COMPLETE)
    report = _text(report)
    if len(report) < 2 or len(report) > MAX_TEXT:
        raise ValidationError({"report": [REPORT_REQUIRED]})
    found = public_text_errors(report)
    if found:
        raise ValidationError({"report": found})
    pending = project.payments.filter(state=PaymentState.REQUESTED).count()
    if pending:
        raise ValidationError(UNPAID_PENDING % {"count": pending}, code="pending")
    project.completion_report = report
    return _move(project, actor=actor, step=Step.COMPLETE, to=S.COMPLETED, note=report)


@transaction.atomic
def project_accept(*, actor, project: Project, passed: bool, note: str) -> Project:
    """The street's acceptance: passed (on to evaluation) or not (back to the committee to put
    right, with what is wrong)."""
    project = _lock(project)
    _require(actor, perms.DECIDE, project.path)
    _check_state(project, Step.ACCEPT)
    note = _text(note)
    if len(note) < 2:
        raise ValidationError({"note": [REASON_REQUIRED]})
    if passed:
        return _move(project, actor=actor, step=Step.ACCEPT, to=S.ACCEPTED, note=note)
    return _move(project, actor=actor, step=Step.ACCEPT_FAIL, to=S.APPROVED, note=note)


def may_answer_survey(user, project: Project) -> bool:
    return any(path.startswith(project.path) for path in home_paths(user))


@transaction.atomic
def survey_answer(*, actor, project: Project, score, comment: str = "") -> SurveyResponse:
    """A resident of the community says how satisfied they are, once, during evaluation."""
    if not getattr(actor, "is_authenticated", False) or not may_answer_survey(actor, project):
        raise PermissionDenied(NO_SURVEY_RIGHT)
    project = Project.objects.get(pk=project.pk)
    if project.state != S.ACCEPTED:
        raise ValidationError(SURVEY_CLOSED, code="state")
    try:
        score = int(str(score).strip())
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise ValidationError({"score": [SCORE_RANGE]})
    try:
        with transaction.atomic():
            answer = SurveyResponse.objects.create(
                project=project, user=actor, score=score, comment=_text(comment)[:500]
            )
    except IntegrityError:
        raise ValidationError(SURVEY_DUPLICATE, code="duplicate") from None
    audit_record(
        actor=actor,
        action="projects.survey",
        obj=project,
        place=project.place,
        changes={"score": score},
    )
    return answer


@transaction.atomic
def project_evaluate(*, actor, project: Project, note: str = "") -> Project:
    """The street records the evaluation: the panel's scores (the profile's number of
    reviewers) and the residents' survey as it stands."""
    from linli.projects.selectors import survey_summary

    project = _lock(project)
    _require(actor, perms.DECIDE, project.path)
    _check_state(project, Step.EVALUATE)
    result = panel(project, Stage.EVALUATION)
    required = _profile(project).min_reviewers
    if result.scored < required:
        raise ValidationError(
            TOO_FEW_REVIEWS % {"count": result.scored, "required": required}, code="panel"
        )
    survey = survey_summary(project)
    project.evaluation_score = result.mean
    return _move(
        project,
        actor=actor,
        step=Step.EVALUATE,
        to=S.EVALUATED,
        note=_text(note),
        data={
            "scored": result.scored,
            "mean": str(result.mean),
            "survey": [survey.answers, survey.satisfied],
        },
    )


@transaction.atomic
def project_close(*, actor, project: Project, outcome: str, on: dt.date | None = None) -> Project:
    """Close the project: what is left of its commitment goes back to the fund, and the outcome
    (with the accounts) is published on the community's board."""
    project = _lock(project)
    _require(actor, perms.DECIDE, project.path)
    _check_state(project, Step.CLOSE)
    outcome = _text(outcome)
    if len(outcome) < 2 or len(outcome) > MAX_TEXT:
        raise ValidationError({"outcome": [OUTCOME_REQUIRED]})
    found = public_text_errors(outcome)
    if found:
        raise ValidationError({"outcome": found})
    released = None
    if project.commitment is not None and project.commitment.state == "open":
        ledger.commitment_release(
            actor=actor,
            commitment=project.commitment,
            reason=str(_("Fund project #%(id)s closed") % {"id": project.pk}),
            on=on,
            permitted=True,
        )
        released = True
    project.outcome = outcome
    notice = notice_publish(
        actor=actor,
        place=project.place,
        kind=NoticeKind.FUND,
        title=str(_("Fund project outcome: %(title)s") % {"title": project.title})[:200],
        body=f"{outcome}\n\n{accounts_text(project)}",
        window_days=_profile(project).publicity_days,
        source=f"project:{project.pk}",
    )
    project.payments.filter(state=PaymentState.PAID, disclosed_in=None).update(disclosed_in=notice)
    return _move(
        project,
        actor=actor,
        step=Step.CLOSE,
        to=S.CLOSED,
        note=outcome,
        data={
            "notice": notice.pk,
            "released": released,
            "evaluation": str(project.evaluation_score),
        },
    )
