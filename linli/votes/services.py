"""Writes to votes: set up, open (freeze the electorate), cast, record, confirm, close.

One vote per voter and question holds across every channel at once because the database
refuses a second participation (a partial unique index); a concurrent duplicate surfaces here
as `AlreadyVoted`. A ballot cast while a worker closes the vote cannot slip in after the close:
casting holds a share lock on the vote row (PostgreSQL `FOR KEY SHARE`, compatible with other
casts), closing takes it exclusively.

Secret votes: the ballot row carries no participation, no time, a random primary key and, for
owners' tallies, a random head token (one per voter, so heads still count) with the voter's
area. Audit events record who voted and through which channel, never the choice.
"""

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.scoping import home_paths
from linli.core.audit import audit_record, diff
from linli.people.choices import ResidentStatus
from linli.people.models import Resident
from linli.people.pii import age_on, mask_name_public
from linli.places.choices import PlaceKind
from linli.places.models import Place
from linli.votes import perms, rules, selectors
from linli.votes.choices import (
    CONFIRMED_CHANNELS,
    RECORDED_CHANNELS,
    Channel,
    MeetingMode,
    MotionAnswer,
    OwnersMatter,
    ParticipationState,
    PollMethod,
    VoteKind,
    VoteState,
    VotingUnit,
)
from linli.votes.electorate import LIVING_HERE, VOTING_AGE, Voter, adults_living, electorate
from linli.votes.models import Ballot, Entitlement, Option, Participation, RuleSetting, Vote
from linli.votes.rules.registry import OVERRIDABLE

VOTE_PLACE_KINDS = (PlaceKind.COMMITTEE, PlaceKind.COMPOUND, PlaceKind.BUILDING)
MAX_OPTIONS = 200
MAX_TITLE = 200
ENTITLEMENT_BATCH = 2000

# Which rules decide which kind of vote.
MOTION_RULES = ("residents_meeting", "representatives_meeting", "consultative_meeting")
OWNERS_RULES = ("owners_ordinary", "owners_special")
POLL_RULES = {
    PollMethod.SINGLE: "poll_single",
    PollMethod.MULTIPLE: "poll_multiple",
    PollMethod.RANKING: "poll_ranking",
    PollMethod.SCORE: "poll_score",
}
KIND_RULES = {
    VoteKind.MOTION: MOTION_RULES,
    VoteKind.OWNERS: OWNERS_RULES,
    VoteKind.ELECTION: ("committee_election",),
    VoteKind.BUDGET: ("participatory_budget",),
    VoteKind.POLL: tuple(POLL_RULES.values()),
}
# Who may hold a vote of each kind.
KIND_UNITS = {
    VoteKind.MOTION: (VotingUnit.PERSON, VotingUnit.HOUSEHOLD, VotingUnit.LIST),
    VoteKind.OWNERS: (VotingUnit.OWNER, VotingUnit.LIST),
    VoteKind.ELECTION: (VotingUnit.PERSON, VotingUnit.HOUSEHOLD, VotingUnit.LIST),
    VoteKind.BUDGET: (VotingUnit.PERSON, VotingUnit.HOUSEHOLD, VotingUnit.OWNER, VotingUnit.LIST),
    VoteKind.POLL: (VotingUnit.PERSON, VotingUnit.HOUSEHOLD, VotingUnit.OWNER, VotingUnit.LIST),
}
UNIT_MODE = {VotingUnit.PERSON: MeetingMode.ADULTS, VotingUnit.HOUSEHOLD: MeetingMode.HOUSEHOLDS}
LIMIT_FIELDS = (
    "min_share",
    "min_projects",
    "max_projects",
    "score_max",
    "mode",
    "owners_matter",
    "runoff",
)
EDITABLE_FIELDS = (
    "title",
    "description",
    "kind",
    "rule_id",
    "unit",
    "method",
    "secret",
    "hide_results",
    "seats",
    "budget",
    "base_count",
    "closes_at",
    *LIMIT_FIELDS,
)

NOT_PERMITTED = _("You may not manage votes here.")
NOT_RECORDER = _("You may not record or confirm ballots here.")
NOT_A_COMMUNITY = _("A vote is held in a committee, a compound or a building.")
TITLE_REQUIRED = _("Give the question (at most 200 characters).")
KIND_INVALID = _("Choose one of the listed kinds.")
UNIT_INVALID = _("This kind of vote cannot be held with this kind of voter.")
RULE_INVALID = _("This rule does not decide this kind of vote.")
METHOD_REQUIRED = _("Choose how the poll is answered.")
METHOD_ONLY_POLLS = _("Only polls have a method.")
MATTER_REQUIRED = _("Choose the owners' matter: it decides the majority needed.")
MATTER_RULE = _("This matter is decided by “%(rule)s”.")
MODE_REQUIRED = _("Choose the attendance mode of the residents' meeting.")
SEATS_REQUIRED = _("Give the number of seats.")
BUDGET_REQUIRED = _("Give the budget (a positive amount).")
MONEY_INVALID = _("Give an amount in yuan, e.g. 12000 or 12000.50.")
SHARE_INVALID = _("A share is a fraction from 0 to 1, e.g. 0.5.")
PROJECTS_ORDER = _("The fewest projects cannot be more than the most.")
SCORE_MAX_INVALID = _("The highest score is a whole number from 1 to 100.")
OPTIONS_NONE = _(
    "A motion or an owners' decision has no options: the answers are yes, no, abstain."
)
OPTIONS_TOO_FEW = _("Give at least two options.")
OPTIONS_TOO_MANY = _("At most 200 options.")
OPTION_LABEL = _("Every option needs a label (at most 200 characters).")
OPTION_COST = _("Every project needs its cost (a positive amount).")
OPTION_NO_COST = _("Only budget projects have a cost.")
CANDIDATES_TOO_FEW = _("An election needs more candidates (%(n)d) than seats (%(seats)d).")
BASE_TOO_SMALL = _("The quorum base cannot be smaller than the number of voters (%(n)d).")
CLOSES_IN_PAST = _("The closing time must be in the future.")
NOT_DRAFT = _("Only a draft can be changed; this vote is “%(state)s”.")
NOT_OPEN = _("Voting is not open (the vote is “%(state)s”).")
TIME_UP = _("Voting closed at %(time)s.")
RULE_NOT_IN_FORCE = _("The rule cannot be applied on this date: %(error)s")
RULE_CANNOT_DECIDE = _("The rule cannot decide this vote as set up: %(error)s")
NOBODY_ENTITLED = _("No one is entitled to vote on this question.")
VOTER_KEYS_DUPLICATE = _("The list of voters names someone twice.")
VOTER_AREA_REQUIRED = _("Every voter in an owners' decision needs an area and a head.")
VOTER_HEADS_DUPLICATE = _("Two voters share one head: an owner votes once (OW-06).")
LIST_NEEDS_VOTERS = _("Give the list of voters (for example the meeting's attendees).")
NOT_ENTITLED = _("You are not on the list of voters for this question.")
ALREADY_VOTED = _("A ballot has already been cast for this voter on this question.")
UNKNOWN_VOTER = _("This voter is not on the frozen list of this vote.")
CHANNEL_INVALID = _("Choose how the ballot was given: at the meeting, on paper or by proxy.")
PROVENANCE_REQUIRED = _("Give the provenance: the ballot sheet number or where it was collected.")
PROXY_REQUIRED = _(
    "A proxy ballot needs the proxy's name and the written authorisation (its reference)."
)
NOT_PENDING = _("This ballot is not waiting for confirmation.")
SAME_WORKER = _("A second worker must confirm: you recorded this ballot yourself.")
REASON_REQUIRED = _("Say why (at least 2 characters).")
PENDING_LEFT = _("%(n)d paper or proxy ballots still await confirmation: confirm or reject them.")
CHOICE_MOTION = _("Answer yes, no or abstain.")
CHOICE_OPTION = _("Choose one of the listed options.")
CHOICE_LIST = _("Choose from the listed options, each at most once.")
CHOICE_EMPTY = _("Choose at least one option.")
CHOICE_SEATS = _("Choose at most %(seats)d candidates.")
CHOICE_SCORE = _("Give each option a whole-number score from 0 to %(max)d.")
BUDGET_PROBLEMS = {
    "over_budget": _("The projects chosen cost more than the budget."),
    "under_min_share": _("The projects chosen must use at least %(share)s of the budget."),
    "too_few": _("Choose at least %(n)s projects."),
    "too_many": _("Choose at most %(n)s projects."),
}


class AlreadyVoted(ValidationError):
    """The voter already took part in this question (through any channel)."""

    def __init__(self):
        super().__init__(ALREADY_VOTED, code="already_voted")


# --- helpers ----------------------------------------------------------------------------------


def _check_manage(actor, place_or_vote) -> None:
    if actor is not None and not actor.has_perm(perms.MANAGE_VOTES, place_or_vote):
        raise PermissionDenied(NOT_PERMITTED)


def _check_record(actor, vote: Vote) -> None:
    if actor is None or not actor.has_perm(perms.RECORD_BALLOTS, vote):
        raise PermissionDenied(NOT_RECORDER)


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _decimal(value, error, *, positive: bool = True) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(error) from None
    if not number.is_finite() or (positive and number <= 0) or number < 0:
        raise ValidationError(error)
    return number.quantize(Decimal("0.01")) if positive else number


def rule_overrides(rule_id: str) -> dict | None:
    """The community's configured numbers for an UNVERIFIED or POLICY rule (admin), if any."""
    setting = RuleSetting.objects.filter(rule_id=rule_id).only("overrides").first()
    return setting.overrides or None if setting else None


@dataclass
class OptionSpec:
    label: str
    cost: Decimal | None = None


def _option_specs(options: Iterable) -> list[OptionSpec]:
    specs = []
    for raw in options:
        if isinstance(raw, OptionSpec):
            spec = raw
        elif isinstance(raw, dict):
            spec = OptionSpec(str(raw.get("label") or ""), raw.get("cost"))
        else:
            spec = OptionSpec(str(raw or ""))
        spec.label = " ".join(spec.label.split())
        if not spec.label or len(spec.label) > 200:
            raise ValidationError({"options": OPTION_LABEL})
        specs.append(spec)
    if len(specs) > MAX_OPTIONS:
        raise ValidationError({"options": OPTIONS_TOO_MANY})
    return specs


def _clean(vote: Vote, specs: list[OptionSpec] | None) -> None:
    """Validate a vote's settings (and its options, when given) before saving."""
    errors: dict[str, list] = {}

    def err(field, message):
        errors.setdefault(field, []).append(message)

    vote.title = " ".join((vote.title or "").split())
    if not vote.title or len(vote.title) > MAX_TITLE:
        err("title", TITLE_REQUIRED)
    if vote.place.kind not in VOTE_PLACE_KINDS:
        err("place", NOT_A_COMMUNITY)
    if vote.kind not in VoteKind.values:
        raise ValidationError({"kind": KIND_INVALID})
    if vote.unit not in KIND_UNITS[vote.kind]:
        err("unit", UNIT_INVALID)
    if vote.kind == VoteKind.POLL:
        if vote.method not in PollMethod.values:
            err("method", METHOD_REQUIRED)
        else:
            vote.rule_id = POLL_RULES[vote.method]
    elif vote.method:
        err("method", METHOD_ONLY_POLLS)
    if vote.kind == VoteKind.OWNERS:
        if vote.owners_matter not in OwnersMatter.values:
            err("owners_matter", MATTER_REQUIRED)
        else:
            vote.rule_id = rules.owners_rule_for(vote.owners_matter)
    elif vote.owners_matter:
        vote.owners_matter = ""
    if vote.kind in (VoteKind.ELECTION, VoteKind.BUDGET):
        vote.rule_id = KIND_RULES[vote.kind][0]
    if vote.rule_id not in KIND_RULES[vote.kind]:
        err("rule_id", RULE_INVALID)
    if vote.rule_id == "residents_meeting":
        vote.mode = vote.mode or UNIT_MODE.get(vote.unit, "")
        if vote.mode not in MeetingMode.values:
            err("mode", MODE_REQUIRED)
    else:
        vote.mode = ""
    if vote.kind == VoteKind.ELECTION:
        if not vote.seats:
            err("seats", SEATS_REQUIRED)
    else:
        vote.seats, vote.runoff = None, False
    if vote.kind == VoteKind.BUDGET:
        if vote.budget is None or vote.budget <= 0:
            err("budget", BUDGET_REQUIRED)
        if vote.min_share is not None and not 0 <= vote.min_share <= 1:
            err("min_share", SHARE_INVALID)
        if (
            vote.min_projects is not None
            and vote.max_projects is not None
            and vote.min_projects > vote.max_projects
        ):
            err("max_projects", PROJECTS_ORDER)
    else:
        vote.budget = vote.min_share = vote.min_projects = vote.max_projects = None
    if not 1 <= (vote.score_max or 0) <= 100:
        err("score_max", SCORE_MAX_INVALID)
    if vote.closes_at is not None and vote.closes_at <= timezone.now():
        err("closes_at", CLOSES_IN_PAST)
    if specs is not None:
        if vote.kind in (VoteKind.MOTION, VoteKind.OWNERS):
            if specs:
                err("options", OPTIONS_NONE)
        elif len(specs) < 2:
            err("options", OPTIONS_TOO_FEW)
        for spec in specs:
            if vote.kind == VoteKind.BUDGET:
                try:
                    spec.cost = _decimal(spec.cost, OPTION_COST)
                except ValidationError:
                    spec.cost = None
                if spec.cost is None:
                    err("options", OPTION_COST)
                    break
            elif spec.cost not in (None, ""):
                err("options", OPTION_NO_COST)
                break
            else:
                spec.cost = None
    if errors:
        raise ValidationError(errors)


def _snapshot(vote: Vote) -> dict:
    return {name: getattr(vote, name) for name in EDITABLE_FIELDS}


def _write_options(vote: Vote, specs: list[OptionSpec]) -> None:
    vote.options.all().delete()
    Option.objects.bulk_create(
        [
            Option(vote=vote, label=spec.label, cost=spec.cost, position=index)
            for index, spec in enumerate(specs, start=1)
        ]
    )


# --- setting up -------------------------------------------------------------------------------


@transaction.atomic
def vote_create(
    *,
    actor,
    place: Place,
    kind: str,
    title: str,
    rule_id: str = "",
    unit: str,
    options: Sequence = (),
    secret: bool = False,
    hide_results: bool = False,
    seats: int | None = None,
    budget=None,
    method: str | None = None,
    base_count: int | None = None,
    description: str = "",
    closes_at: dt.datetime | None = None,
    **limits,
) -> Vote:
    """A draft vote in a committee, compound or building.

    `limits`: min_share, min_projects, max_projects (budgets), score_max (score polls), mode
    (residents' meetings), owners_matter (owners' decisions: it sets the rule). For owners'
    decisions, elections, budgets and polls the rule follows from the kind (and matter, method).
    """
    _check_manage(actor, place)
    unknown = set(limits) - set(LIMIT_FIELDS)
    if unknown:
        raise TypeError(f"unknown vote settings: {', '.join(sorted(unknown))}")
    vote = Vote(
        place=place,
        path=place.path,
        kind=kind,
        title=title,
        description=(description or "").strip(),
        rule_id=rule_id or "",
        unit=unit,
        method=method or "",
        secret=bool(secret),
        hide_results=bool(hide_results),
        seats=seats,
        budget=_decimal(budget, {"budget": BUDGET_REQUIRED}),
        base_count=base_count,
        closes_at=closes_at,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    for name, value in limits.items():
        setattr(vote, name, value if value != "" else None)
    vote.runoff = bool(limits.get("runoff"))
    if "min_share" in limits:
        vote.min_share = _decimal(limits["min_share"], {"min_share": SHARE_INVALID}, positive=False)
    vote.mode = limits.get("mode") or ""
    vote.owners_matter = limits.get("owners_matter") or ""
    if vote.score_max is None:
        vote.score_max = Vote._meta.get_field("score_max").default
    specs = _option_specs(options)
    _clean(vote, specs)
    vote.full_clean(exclude=["place", "created_by"])
    vote.save()
    _write_options(vote, specs)
    audit_record(
        actor=actor,
        action="votes.vote.create",
        obj=vote,
        place=place,
        changes={
            "kind": vote.kind,
            "rule": vote.rule_id,
            "unit": vote.unit,
            "secret": vote.secret,
            "hide_results": vote.hide_results,
            "options": len(specs),
        },
    )
    return vote


def _lock(vote: Vote) -> Vote:
    return Vote.objects.select_for_update().select_related("place").get(pk=vote.pk)


@transaction.atomic
def vote_update(*, actor, vote: Vote, options: Sequence | None = None, **fields) -> Vote:
    """Change a draft: any field of vote_create; `options` (when given) replaces the options."""
    vote = _lock(vote)
    _check_manage(actor, vote)
    if vote.state != VoteState.DRAFT:
        raise ValidationError(NOT_DRAFT % {"state": VoteState(vote.state).label})
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"unknown vote fields: {', '.join(sorted(unknown))}")
    before = _snapshot(vote)
    for name, value in fields.items():
        if name == "budget":
            value = _decimal(value, {"budget": BUDGET_REQUIRED})
        elif name == "min_share":
            value = _decimal(value, {"min_share": SHARE_INVALID}, positive=False)
        elif name in ("mode", "owners_matter", "method", "description", "rule_id"):
            value = value or ""
        elif name in ("secret", "hide_results", "runoff"):
            value = bool(value)
        elif value == "":
            value = None
        setattr(vote, name, value)
    specs = _option_specs(options) if options is not None else None
    if specs is None and vote.kind not in (VoteKind.MOTION, VoteKind.OWNERS):
        specs = [OptionSpec(o.label, o.cost) for o in vote.options.all()]
    _clean(vote, specs if specs is not None else [])
    vote.full_clean(exclude=["place", "created_by"])
    vote.save()
    if options is not None:
        _write_options(vote, specs)
    changes = diff(before, _snapshot(vote))
    if options is not None:
        changes["options"] = {"new": len(specs)}
    audit_record(
        actor=actor, action="votes.vote.update", obj=vote, place=vote.place, changes=changes
    )
    return vote


# --- opening: the frozen electorate -----------------------------------------------------------


def _stored_label(voter: Voter) -> str:
    # A household is named by its address; a person (or an owner) by a masked name.
    if voter.key.startswith("h:"):
        return voter.label[:100]
    return mask_name_public(voter.label)[:100]


def _check_voters(vote: Vote, voters: list[Voter]) -> None:
    if not voters:
        raise ValidationError(NOBODY_ENTITLED)
    keys = [v.key for v in voters]
    if len(set(keys)) != len(keys) or any(not k or len(k) > 24 for k in keys):
        raise ValidationError(VOTER_KEYS_DUPLICATE)
    if vote.kind == VoteKind.OWNERS:
        if any(v.area is None or not v.head for v in voters):
            raise ValidationError(VOTER_AREA_REQUIRED)
        heads = [v.head for v in voters]
        if len(set(heads)) != len(heads):
            raise ValidationError(VOTER_HEADS_DUPLICATE)


def _notify_open(vote: Vote) -> None:
    from linli.notices.services import notify

    users = set(
        Entitlement.objects.filter(vote=vote, user__isnull=False).values_list("user_id", flat=True)
    )
    if vote.unit == VotingUnit.HOUSEHOLD:
        households = Entitlement.objects.filter(vote=vote).values("household_id")
        users |= set(
            adults_living(vote.path, vote.on_date)
            .filter(household_id__in=households, account__isnull=False)
            .values_list("account_id", flat=True)
        )
    if users:
        notify(
            users=sorted(users),
            kind="vote_open",
            title=vote.title,
            body=str(_("Voting is open. You can vote on your phone.")),
            url=f"/votes/{vote.pk}/",
        )


@transaction.atomic
def vote_open(
    *, actor, vote: Vote, voters: list[Voter] | None = None, now: dt.datetime | None = None
) -> Vote:
    """Open voting: freeze the entitled voters (`voters`, e.g. a meeting's present attendees,
    else the register's electorate of the place on today's date) and their totals."""
    vote = _lock(vote)
    _check_manage(actor, vote)
    if vote.state != VoteState.DRAFT:
        raise ValidationError(NOT_DRAFT % {"state": VoteState(vote.state).label})
    now = _now(now)
    on = timezone.localdate(now)
    try:
        rule = rules.rule_for(vote.rule_id, on)
    except ValueError as exc:
        raise ValidationError(RULE_NOT_IN_FORCE % {"error": exc}) from None
    # The community's settings of an unverified or policy rule, frozen with the electorate.
    vote.overrides = (rule_overrides(vote.rule_id) or {}) if rule.verified in OVERRIDABLE else {}
    if vote.closes_at is not None and vote.closes_at <= now:
        raise ValidationError({"closes_at": CLOSES_IN_PAST})
    options = list(vote.options.all())
    if vote.kind == VoteKind.ELECTION and len(options) <= (vote.seats or 0):
        raise ValidationError(CANDIDATES_TOO_FEW % {"n": len(options), "seats": vote.seats})
    if voters is None:
        if vote.unit == VotingUnit.LIST:
            raise ValidationError(LIST_NEEDS_VOTERS)
        voters = electorate(place=vote.place, unit=vote.unit, on=on)
    voters = list(voters)
    _check_voters(vote, voters)
    if vote.base_count is not None and vote.base_count < len(voters):
        raise ValidationError({"base_count": BASE_TOO_SMALL % {"n": len(voters)}})
    Entitlement.objects.bulk_create(
        (
            Entitlement(
                vote=vote,
                key=v.key,
                resident_id=v.resident_id,
                household_id=v.household_id,
                owner_id=v.owner_id,
                user_id=v.user_id,
                label=_stored_label(v),
                address=(v.address or "")[:200],
                area=v.area,
                head=v.head,
            )
            for v in voters
        ),
        batch_size=ENTITLEMENT_BATCH,
    )
    areas = [v.area for v in voters if v.area is not None]
    vote.entitled_count = len(voters)
    vote.entitled_area = sum(areas, Decimal("0.00")) if areas else None
    heads = {v.head for v in voters if v.head}
    vote.entitled_heads = len(heads) if heads else None
    vote.state, vote.opens_at, vote.on_date = VoteState.OPEN, now, on
    try:  # the rule must be able to decide this vote (seats, candidates, areas recorded …)
        selectors.evaluate_vote(vote, selectors.tally(vote, options).facts)
    except ValueError as exc:
        raise ValidationError(RULE_CANNOT_DECIDE % {"error": exc}) from None
    vote.save(
        update_fields=[
            "state",
            "opens_at",
            "on_date",
            "overrides",
            "entitled_count",
            "entitled_area",
            "entitled_heads",
            "updated_at",
        ]
    )
    audit_record(
        actor=actor,
        action="votes.vote.open",
        obj=vote,
        place=vote.place,
        changes={
            "entitled": vote.entitled_count,
            "area": str(vote.entitled_area) if vote.entitled_area is not None else None,
            "heads": vote.entitled_heads,
            "rule": vote.rule_id,
            "on": on.isoformat(),
        },
    )
    _notify_open(vote)  # rows now; notify delivers them once this commits
    return vote


# --- ballots ----------------------------------------------------------------------------------


@dataclass
class Choice:
    """A validated choice: `answer` for single answers, `value` as stored (JSON)."""

    answer: str
    value: object


def _option_id(raw, ids: set[int]) -> int:
    if isinstance(raw, bool):
        raise ValidationError(CHOICE_OPTION)
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        raise ValidationError(CHOICE_OPTION) from None
    if value not in ids:
        raise ValidationError(CHOICE_OPTION)
    return value


def _id_list(raw, ids: set[int]) -> list[int]:
    if isinstance(raw, str | bytes | dict) or not isinstance(raw, list | tuple):
        raise ValidationError(CHOICE_LIST)
    chosen = []
    for item in raw:
        value = _option_id(item, ids)
        if value in chosen:
            raise ValidationError(CHOICE_LIST)
        chosen.append(value)
    return chosen


def choice_clean(vote: Vote, raw, options: list[Option] | None = None) -> Choice:
    """The ballot shape per kind and method (see the module contract in the issue)."""
    if vote.kind in (VoteKind.MOTION, VoteKind.OWNERS):
        if not isinstance(raw, str) or raw not in MotionAnswer.values:
            raise ValidationError(CHOICE_MOTION)
        return Choice(raw, raw)
    options = list(vote.options.all()) if options is None else options
    ids = {o.pk for o in options}
    if vote.kind == VoteKind.POLL and vote.method == PollMethod.SINGLE:
        value = _option_id(raw, ids)
        return Choice(str(value), value)
    if vote.kind == VoteKind.POLL and vote.method == PollMethod.SCORE:
        if not isinstance(raw, dict) or not raw:
            raise ValidationError(CHOICE_SCORE % {"max": vote.score_max})
        scores = {}
        for key, score in raw.items():
            option = _option_id(key, ids)
            if isinstance(score, bool) or not isinstance(score, int | str):
                raise ValidationError(CHOICE_SCORE % {"max": vote.score_max})
            try:
                number = int(str(score).strip())
            except ValueError:
                raise ValidationError(CHOICE_SCORE % {"max": vote.score_max}) from None
            if not 0 <= number <= vote.score_max or str(option) in scores:
                raise ValidationError(CHOICE_SCORE % {"max": vote.score_max})
            scores[str(option)] = number
        return Choice("", scores)
    chosen = _id_list(raw, ids)
    if vote.kind == VoteKind.ELECTION:
        # An empty list is a blank ballot: it counts as cast (turnout), for no one.
        if len(chosen) > vote.seats:
            raise ValidationError(CHOICE_SEATS % {"seats": vote.seats})
        return Choice("", chosen)
    if not chosen:
        raise ValidationError(CHOICE_EMPTY)
    if vote.kind == VoteKind.BUDGET:
        costs = {o.pk: o.cost for o in options}
        problems = rules.budget_ballot_check(
            str(vote.budget),
            [str(costs[pk]) for pk in chosen],
            min_share=str(vote.min_share) if vote.min_share is not None else None,
            min_projects=vote.min_projects,
            max_projects=vote.max_projects,
        )
        if problems:
            raise ValidationError(
                [
                    BUDGET_PROBLEMS[p]
                    % {
                        "share": f"{vote.min_share:.0%}" if vote.min_share is not None else "",
                        "n": vote.min_projects if p == "too_few" else vote.max_projects,
                    }
                    for p in problems
                ]
            )
    return Choice("", chosen)


def _lock_shared(vote: Vote) -> Vote:
    """`vote` with its state read again under a lock that other casts share and closing
    excludes (on SQLite every write transaction excludes every other)."""
    if connection.vendor != "postgresql":
        return Vote.objects.select_related("place").get(pk=vote.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT state, closes_at FROM {Vote._meta.db_table} "  # noqa: S608
            "WHERE id = %s FOR KEY SHARE",
            [vote.pk],
        )
        row = cursor.fetchone()
    if row is None:
        raise Vote.DoesNotExist
    vote.state, vote.closes_at = row
    return vote


def _check_open(vote: Vote, now: dt.datetime, *, deadline: bool) -> None:
    if vote.state != VoteState.OPEN:
        raise ValidationError(NOT_OPEN % {"state": VoteState(vote.state).label})
    if deadline and vote.closes_at is not None and now >= vote.closes_at:
        local = timezone.localtime(vote.closes_at)
        raise ValidationError(TIME_UP % {"time": local.strftime("%Y-%m-%d %H:%M")})


def _voter_q(vote: Vote, user, resident: Resident | None) -> Q:
    """Entitlements of `vote` that `user` may cast (see entitlements_of). A voter from the
    register is matched through the register's current account link, not the account noted
    when the list was frozen (an account moved to someone else must not carry the vote)."""
    condition = Q(
        user_id=user.pk, resident__isnull=True, owner__isnull=True, household__isnull=True
    )
    if resident is not None:
        condition |= Q(resident_id=resident.pk)
        if vote.unit == VotingUnit.OWNER or vote.kind == VoteKind.OWNERS:
            condition |= Q(owner__resident_id=resident.pk)
    if vote.unit in (VotingUnit.HOUSEHOLD, VotingUnit.LIST):
        # A household's entitlement: in a household vote, or on a list (a residents' meeting
        # attended one per household freezes the households present).
        household = Q(pk__in=[])
        paths = home_paths(user)
        if paths:
            household |= Q(household__path__in=paths)
        on = vote.on_date or timezone.localdate()
        if (
            resident is not None
            and resident.residence in LIVING_HERE
            and age_on(resident.birth_date, on) >= VOTING_AGE
        ):
            household |= Q(household_id=resident.household_id)
        condition |= household & Q(resident__isnull=True, owner__isnull=True)
    return Q(vote=vote) & condition


def _resident_of(user) -> Resident | None:
    return Resident.objects.filter(account=user, status=ResidentStatus.ACTIVE).first()


def entitlements_for(
    *, votes: list[Vote], user, with_taken: bool = False
) -> dict[int, list[Entitlement]]:
    """For each vote, the entitlements `user` may cast: their own (as a listed user, a
    resident, an owner), or, for a household vote, their household's (an adult member with an
    account, or the household's resident-role user). Two queries for any number of votes."""
    found: dict[int, list[Entitlement]] = {vote.pk: [] for vote in votes}
    if not votes or user is None or not getattr(user, "is_authenticated", False):
        return found
    resident = _resident_of(user)
    condition = Q(pk__in=[])
    for vote in votes:
        condition |= _voter_q(vote, user, resident)
    rows = Entitlement.objects.filter(condition).order_by("id")
    if with_taken:  # already used through some channel (a rejected paper ballot frees it)
        used = Participation.objects.filter(entitlement=OuterRef("pk")).exclude(
            state=ParticipationState.REJECTED
        )
        rows = rows.annotate(taken=Exists(used))
    for entitlement in rows:
        found[entitlement.vote_id].append(entitlement)
    return found


def entitlements_of(*, vote: Vote, user, with_taken: bool = False) -> list[Entitlement]:
    return entitlements_for(votes=[vote], user=user, with_taken=with_taken)[vote.pk]


def _ballot(vote: Vote, entitlement: Entitlement, choice: Choice, participation, counted: bool):
    secret = vote.secret
    return Ballot(
        vote=vote,
        participation=None if secret else participation,
        answer=choice.answer,
        choice=choice.value,
        area=entitlement.area,
        head=(secrets.token_hex(8) if entitlement.head else None) if secret else entitlement.head,
        counted=counted,
        pending_key=participation.pending_key,
    )


def _participate(
    *, vote: Vote, entitlement: Entitlement, choice: Choice, **fields
) -> Participation:
    participation = Participation(vote=vote, entitlement=entitlement, **fields)
    counted = participation.state == ParticipationState.COUNTED
    try:
        with transaction.atomic():
            participation.save(force_insert=True)
    except IntegrityError:
        raise AlreadyVoted from None
    _ballot(vote, entitlement, choice, participation, counted).save(force_insert=True)
    return participation


@transaction.atomic
def ballot_cast(*, actor, vote: Vote, choice, now: dt.datetime | None = None) -> Participation:
    """An online ballot by the signed-in voter; `AlreadyVoted` if their slot is taken."""
    now = _now(now)
    vote = _lock_shared(vote)
    _check_open(vote, now, deadline=True)
    entitlements = entitlements_of(vote=vote, user=actor, with_taken=True)
    if not entitlements:
        raise PermissionDenied(NOT_ENTITLED)
    cleaned = choice_clean(vote, choice)
    free = [e for e in entitlements if not e.taken]
    if not free:
        raise AlreadyVoted
    participation = _participate(
        vote=vote,
        entitlement=free[0],
        choice=cleaned,
        channel=Channel.ONLINE,
        state=ParticipationState.COUNTED,
        at=now,
    )
    audit_record(
        actor=actor,
        action="votes.ballot.cast",
        obj=participation,
        place=vote.place,
        changes={"vote": vote.pk, "voter": free[0].key, "channel": Channel.ONLINE},
    )
    return participation


@transaction.atomic
def ballot_record(
    *,
    actor,
    vote: Vote,
    voter_key: str,
    choice,
    channel: str,
    proxy_name: str = "",
    provenance: str = "",
    now: dt.datetime | None = None,
) -> Participation:
    """A worker records a ballot given at the meeting (counts at once) or on paper or by proxy
    (counts once a second worker confirms it). Proxies need the proxy's name and the written
    authorisation (OW-SH-02); paper ballots their sheet number or where they were collected."""
    now = _now(now)
    vote = _lock_shared(vote)
    _check_record(actor, vote)
    _check_open(vote, now, deadline=False)
    if channel not in RECORDED_CHANNELS:
        raise ValidationError({"channel": CHANNEL_INVALID})
    proxy_name = " ".join((proxy_name or "").split())[:64]
    provenance = " ".join((provenance or "").split())[:200]
    if channel == Channel.PROXY and not (proxy_name and provenance):
        raise ValidationError({"proxy_name": PROXY_REQUIRED})
    if channel == Channel.PAPER and not provenance:
        raise ValidationError({"provenance": PROVENANCE_REQUIRED})
    entitlement = Entitlement.objects.filter(vote=vote, key=str(voter_key or "")[:24]).first()
    if entitlement is None:
        raise ValidationError({"voter_key": UNKNOWN_VOTER})
    cleaned = choice_clean(vote, choice)
    pending = channel in CONFIRMED_CHANNELS
    participation = _participate(
        vote=vote,
        entitlement=entitlement,
        choice=cleaned,
        channel=channel,
        state=ParticipationState.PENDING if pending else ParticipationState.COUNTED,
        recorded_by=actor,
        proxy_name=proxy_name if channel == Channel.PROXY else "",
        provenance=provenance,
        at=now,
        pending_key=secrets.token_hex(16) if pending else "",
    )
    audit_record(
        actor=actor,
        action="votes.ballot.record",
        obj=participation,
        place=vote.place,
        changes={
            "vote": vote.pk,
            "voter": entitlement.key,
            "channel": channel,
            "provenance": provenance,
            "proxy": mask_name_public(proxy_name) if proxy_name else "",
        },
    )
    return participation


def _lock_pending(actor, participation: Participation) -> tuple[Participation, Vote]:
    participation = (
        Participation.objects.select_for_update()
        .select_related("entitlement")
        .get(pk=participation.pk)
    )
    vote = _lock_shared(Vote.objects.select_related("place").get(pk=participation.vote_id))
    _check_record(actor, vote)
    _check_open(vote, timezone.now(), deadline=False)
    if participation.state != ParticipationState.PENDING:
        raise ValidationError(NOT_PENDING)
    return participation, vote


@transaction.atomic
def ballot_confirm(*, actor, participation: Participation, now: dt.datetime | None = None):
    """A second worker confirms a paper or proxy ballot: from now on it counts."""
    participation, vote = _lock_pending(actor, participation)
    if participation.recorded_by_id == actor.pk:
        raise PermissionDenied(SAME_WORKER)
    key = participation.pending_key
    Ballot.objects.filter(vote=vote, pending_key=key).update(counted=True, pending_key="")
    participation.state = ParticipationState.COUNTED
    participation.confirmed_by = actor
    participation.confirmed_at = _now(now)
    participation.pending_key = ""
    participation.save(update_fields=["state", "confirmed_by", "confirmed_at", "pending_key"])
    audit_record(
        actor=actor,
        action="votes.ballot.confirm",
        obj=participation,
        place=vote.place,
        changes={"vote": vote.pk, "voter": participation.entitlement.key},
    )
    return participation


@transaction.atomic
def ballot_reject(*, actor, participation: Participation, reason: str) -> Participation:
    """A paper or proxy ballot that does not stand (wrong sheet, no valid authorisation): it
    never counts, and the voter may vote again through any channel."""
    reason = " ".join((reason or "").split())
    if len(reason) < 2:
        raise ValidationError({"reason": REASON_REQUIRED})
    participation, vote = _lock_pending(actor, participation)
    Ballot.objects.filter(vote=vote, pending_key=participation.pending_key).delete()
    participation.state = ParticipationState.REJECTED
    participation.note = reason[:200]
    participation.pending_key = ""
    participation.save(update_fields=["state", "note", "pending_key"])
    audit_record(
        actor=actor,
        action="votes.ballot.reject",
        obj=participation,
        place=vote.place,
        changes={"vote": vote.pk, "voter": participation.entitlement.key},
        reason=reason,
    )
    return participation


# --- closing ----------------------------------------------------------------------------------


def _notify_result(vote: Vote) -> None:
    from linli.notices.services import notify

    users = set(
        Entitlement.objects.filter(vote=vote, user__isnull=False).values_list("user_id", flat=True)
    )
    if users:
        notify(
            users=sorted(users),
            kind="vote_result",
            title=vote.title,
            body=str(_("Voting has closed. See the result.")),
            url=f"/votes/{vote.pk}/result/",
        )


@transaction.atomic
def vote_close(*, actor, vote: Vote, now: dt.datetime | None = None) -> Vote:
    """End voting. Ballots still awaiting confirmation must be confirmed or rejected first."""
    vote = _lock(vote)
    _check_manage(actor, vote)
    if vote.state != VoteState.OPEN:
        raise ValidationError(NOT_OPEN % {"state": VoteState(vote.state).label})
    pending = Participation.objects.filter(vote=vote, state=ParticipationState.PENDING).count()
    if pending:
        raise ValidationError(PENDING_LEFT % {"n": pending})
    now = _now(now)
    vote.state, vote.closed_at = VoteState.CLOSED, max(now, vote.opens_at)
    vote.save(update_fields=["state", "closed_at", "updated_at"])
    totals = Ballot.objects.filter(vote=vote, counted=True).aggregate(
        n=Count("pk"), area=Sum("area")
    )
    audit_record(
        actor=actor,
        action="votes.vote.close",
        obj=vote,
        place=vote.place,
        changes={"ballots": totals["n"], "area": str(totals["area"] or "")},
    )
    _notify_result(vote)
    return vote


@transaction.atomic
def vote_cancel(*, actor, vote: Vote, reason: str) -> Vote:
    """Call off a draft or an open vote; its ballots are kept but never counted as a result."""
    vote = _lock(vote)
    _check_manage(actor, vote)
    reason = " ".join((reason or "").split())
    if len(reason) < 2:
        raise ValidationError({"reason": REASON_REQUIRED})
    if vote.state not in (VoteState.DRAFT, VoteState.OPEN):
        raise ValidationError(NOT_OPEN % {"state": VoteState(vote.state).label})
    before = vote.state
    vote.state = VoteState.CANCELLED
    vote.save(update_fields=["state", "updated_at"])
    audit_record(
        actor=actor,
        action="votes.vote.cancel",
        obj=vote,
        place=vote.place,
        changes={"state": {"old": before, "new": vote.state}},
        reason=reason,
    )
    return vote


@transaction.atomic
def rule_setting_save(*, actor, rule_id: str, overrides: dict, note: str = "") -> RuleSetting:
    """Set a community-wide override of an UNVERIFIED or POLICY rule (checked by the rules)."""
    today = timezone.localdate()
    try:
        rule = rules.rule_for(rule_id, today)
        rules.apply_overrides(rule, overrides or None)
    except ValueError as exc:
        raise ValidationError({"overrides": str(exc)}) from None
    setting, _created = RuleSetting.objects.get_or_create(rule_id=rule_id)
    before = setting.overrides
    setting.overrides = overrides or {}
    setting.note = note
    setting.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    setting.save()
    audit_record(
        actor=actor,
        action="votes.rule_setting.save",
        obj=setting,
        changes={"overrides": {"old": before, "new": setting.overrides}},
        reason=note,
    )
    return setting
