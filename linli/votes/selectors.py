"""Reads of votes, always on behalf of a viewer, and the result of a vote.

Who sees a vote:
- staff holding VIEW_VOTES over its place (committee staff, the street's self-governance
  office, the district) see every vote under their places, drafts included;
- a resident sees the votes (not drafts) of their community: the committee, compound or
  building above their household;
- anyone listed in a vote's frozen electorate sees that vote.
Anything else answers 404, exactly like a vote that does not exist.

`vote_result` recomputes the result from the counted ballots on every call, with SQL
aggregates (one grouped query over the ballots, one count of pending paper ballots), and asks
`rules.evaluate` for the decision: the same function the meeting console uses.
"""

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Count, F, IntegerField, Q, QuerySet, Sum
from django.db.models.functions import Cast, Round
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.scoping import home_paths
from linli.core.scoping import SEGMENT_WIDTH
from linli.votes import perms, rules
from linli.votes.choices import (
    MotionAnswer,
    ParticipationState,
    PollMethod,
    VoteKind,
    VoteState,
)
from linli.votes.electorate import Voter, electorate  # noqa: F401 - the contract's import path
from linli.votes.models import Ballot, Entitlement, Option, Participation, Vote

RECENT_DAYS = 90
COMMUNITY_DEPTHS = (4, 5, 6)  # committee, compound, building: the segments of their paths
MAX_ID = 2**31 - 1
CENTS_ZERO = Decimal("0.00")

# Labels of the rules' steps (rules.evaluate `steps[*].key`), shown on results pages.
STEP_LABELS = {
    "quorum": _("Quorum: those present"),
    "majority": _("Majority: yes votes of those present"),
    "petition": _("Petitioners"),
    "area_participation": _("Participation by floor area"),
    "head_participation": _("Participation by headcount"),
    "area_majority": _("Yes by floor area, of the area taking part"),
    "head_majority": _("Yes by headcount, of the owners taking part"),
    "turnout": _("Turnout: ballots cast of voters"),
    "candidate": _("Votes for the candidate, of ballots cast"),
    "budget_fit": _("Cost of the project, of the money left"),
    "plurality": _("Most votes, against the runner-up"),
}
OPS = {">": _("more than"), ">=": _("at least"), "<=": _("at most")}
VERIFIED_LABELS = {
    "PRIMARY": _("verified against the law's text"),
    "OFFICIAL_WEB": _("verified on an official website"),
    "SECONDARY": _("from secondary sources"),
    "UNVERIFIED": _("UNVERIFIED: an assumption, configurable"),
    "POLICY": _("project policy, not law"),
}


# --- visibility -------------------------------------------------------------------------------


def community_paths(user) -> list[str]:
    """The committee, compound and building paths above the user's household(s)."""
    paths = set()
    for home in home_paths(user):
        for depth in COMMUNITY_DEPTHS:
            if len(home) >= depth * SEGMENT_WIDTH:
                paths.add(home[: depth * SEGMENT_WIDTH])
    return sorted(paths)


def _listed_q(user) -> Q:
    return Q(pk__in=Entitlement.objects.filter(user_id=user.pk).values("vote_id"))


def votes_visible(viewer) -> QuerySet:
    """Every vote the viewer may open (see the module docstring)."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return Vote.objects.none()
    condition = Q(pk__in=Vote.objects.for_viewer(viewer, perms.VIEW_VOTES).values("pk"))
    public = ~Q(state=VoteState.DRAFT)
    paths = community_paths(viewer)
    if paths:
        condition |= public & Q(path__in=paths)
    condition |= public & _listed_q(viewer)
    return Vote.objects.filter(condition)


def vote_get(*, viewer, pk) -> Vote:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    if not 0 < pk <= MAX_ID:
        raise Http404
    vote = votes_visible(viewer).select_related("place").filter(pk=pk).first()
    if vote is None:
        raise Http404
    return vote


def is_staff(viewer, vote: Vote) -> bool:
    return viewer.has_perm(perms.VIEW_VOTES, vote)


def can_manage(viewer, vote: Vote) -> bool:
    return viewer.has_perm(perms.MANAGE_VOTES, vote)


def can_record(viewer, vote: Vote) -> bool:
    return viewer.has_perm(perms.RECORD_BALLOTS, vote)


def staff_votes(*, viewer, state: str = "") -> QuerySet:
    """Votes under the viewer's places (VIEW_VOTES), newest first."""
    votes = Vote.objects.for_viewer(viewer, perms.VIEW_VOTES).select_related("place")
    if state in VoteState.values:
        votes = votes.filter(state=state)
    return votes.order_by("-created_at", "-id")


@dataclass
class MyVote:
    vote: Vote
    entitled: bool
    voted: bool
    can_vote: bool


def votes_for(*, viewer, now: dt.datetime | None = None) -> list[MyVote]:
    """The open votes of the viewer's community and those they are listed in, with whether they
    may still vote, then the votes closed in the last 90 days. Three queries."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return []
    now = now or timezone.now()
    paths = community_paths(viewer)
    condition = _listed_q(viewer)
    if paths:
        condition |= Q(path__in=paths)
    recent = now - dt.timedelta(days=RECENT_DAYS)
    votes = list(
        Vote.objects.filter(condition)
        .filter(Q(state=VoteState.OPEN) | Q(state=VoteState.CLOSED, closed_at__gte=recent))
        .select_related("place")
        .order_by("state", "closes_at", "-opens_at", "-id")
    )
    mine = my_entitlements(votes=[v for v in votes if v.state == VoteState.OPEN], user=viewer)
    rows = []
    for vote in votes:
        entitlements = mine.get(vote.pk, [])
        free = [e for e in entitlements if not e.taken]
        in_time = vote.closes_at is None or now < vote.closes_at
        if vote.state == VoteState.OPEN and not entitlements:
            continue  # open, but not theirs to vote on (e.g. an owners' vote)
        rows.append(
            MyVote(
                vote=vote,
                entitled=bool(entitlements),
                voted=bool(entitlements) and not free,
                can_vote=vote.state == VoteState.OPEN and in_time and bool(free),
            )
        )
    return rows


def my_entitlements(*, votes: list[Vote], user) -> dict[int, list[Entitlement]]:
    """For each vote, the entitlements `user` may cast (services.entitlements_for), each
    marked `taken` when already used."""
    from linli.votes.services import entitlements_for

    return entitlements_for(votes=votes, user=user, with_taken=True)


@dataclass
class MyParticipation:
    entitled: bool
    participation: Participation | None
    can_vote: bool


def my_participation(*, vote: Vote, user, now: dt.datetime | None = None) -> MyParticipation:
    """Whether `user` may vote, and their participation if they took part (never the choice of
    a secret ballot: only that they voted and how they reached the count)."""
    from linli.votes.services import entitlements_of

    now = now or timezone.now()
    entitlements = entitlements_of(vote=vote, user=user, with_taken=True)
    used = [e.pk for e in entitlements if e.taken]
    taken = (
        Participation.objects.filter(vote=vote, entitlement_id__in=used)
        .exclude(state=ParticipationState.REJECTED)
        .order_by("at", "id")
        .first()
        if used
        else None
    )
    free = any(not e.taken for e in entitlements)
    in_time = vote.closes_at is None or now < vote.closes_at
    return MyParticipation(
        entitled=bool(entitlements),
        participation=taken,
        can_vote=vote.state == VoteState.OPEN and in_time and free,
    )


def my_choice(*, vote: Vote, participation: Participation | None):
    """The choice of an open (not secret) ballot, to show its voter what they chose."""
    if vote.secret or participation is None:
        return None
    return (
        Ballot.objects.filter(participation=participation).values_list("choice", flat=True).first()
    )


# --- staff: the frozen electorate and the confirmation queue ------------------------------------


def entitlement_search(*, vote: Vote, q: str = "", limit: int = 30) -> list[dict]:
    """Voters of the frozen list matching a masked name, an address or a key, with whether
    they already took part (for the paper ballot entry page)."""
    q = " ".join((q or "").split())[:60]
    rows = Entitlement.objects.filter(vote=vote)
    if q:
        rows = rows.filter(Q(label__icontains=q) | Q(address__icontains=q) | Q(key=q))
    found = list(rows.order_by("address", "id")[:limit])
    states = dict(
        Participation.objects.filter(entitlement__in=found)
        .exclude(state=ParticipationState.REJECTED)
        .values_list("entitlement_id", "state")
    )
    return [{"entitlement": e, "state": states.get(e.pk)} for e in found]


def entitlement_by_key(*, vote: Vote, key: str) -> dict | None:
    """One voter of the frozen list by key, with whether they already took part."""
    found = Entitlement.objects.filter(vote=vote, key=(key or "")[:24]).first()
    if found is None:
        return None
    state = (
        Participation.objects.filter(entitlement=found)
        .exclude(state=ParticipationState.REJECTED)
        .values_list("state", flat=True)
        .first()
    )
    return {"entitlement": found, "state": state}


def pending_queue(*, vote: Vote) -> QuerySet:
    """Paper and proxy ballots awaiting a second worker, oldest first."""
    return (
        Participation.objects.filter(vote=vote, state=ParticipationState.PENDING)
        .select_related("entitlement", "recorded_by")
        .order_by("at", "id")
    )


def pending_choices(*, vote: Vote, participations: list[Participation]) -> dict[int, object]:
    """The choice written on each pending paper ballot (the confirming worker checks it
    against the sheet); found by the temporary pending key, secret votes included."""
    keys = {p.pending_key: p.pk for p in participations if p.pending_key}
    rows = Ballot.objects.filter(vote=vote, pending_key__in=keys).values_list(
        "pending_key", "choice"
    )
    return {keys[key]: choice for key, choice in rows}


def participation_get(*, viewer, vote: Vote, pk) -> Participation:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    if not can_record(viewer, vote) or not 0 < pk <= MAX_ID:
        raise Http404
    found = Participation.objects.filter(vote=vote, pk=pk).select_related("entitlement").first()
    if found is None:
        raise Http404
    return found


def channel_counts(*, vote: Vote) -> dict[str, int]:
    """Counted participations per channel (online, meeting, paper, proxy)."""
    rows = (
        Participation.objects.filter(vote=vote, state=ParticipationState.COUNTED)
        .values("channel")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {r["channel"]: r["n"] for r in rows}


# --- results ----------------------------------------------------------------------------------


def area_sum():
    """SUM(area), exact: PostgreSQL sums numerics exactly; SQLite keeps decimals as floating
    point, so there each area is summed as a whole number of hundredths (cents of a m²)."""
    if connection.vendor == "postgresql":
        return Sum("area")
    return Sum(Cast(Round(F("area") * 100), output_field=IntegerField()))


def area_value(raw) -> Decimal:
    if raw is None:
        return CENTS_ZERO
    if connection.vendor == "postgresql":
        return Decimal(raw).quantize(CENTS_ZERO)
    return (Decimal(int(raw)) / 100).quantize(CENTS_ZERO)


def _answer_groups(vote: Vote) -> dict[str, dict]:
    """Counted ballots grouped by their single answer: count, area, distinct heads."""
    rows = (
        Ballot.objects.filter(vote=vote, counted=True)
        .values("answer")
        .annotate(n=Count("pk"), area=area_sum(), heads=Count("head", distinct=True))
        .order_by()
    )
    return {
        r["answer"]: {"n": r["n"], "area": area_value(r["area"]), "heads": r["heads"]} for r in rows
    }


def _marks(vote: Vote) -> tuple[int, Counter]:
    """(ballots counted, votes per option id) for list choices (elections, budgets), counted in
    SQL over the JSON arrays."""
    table = Ballot._meta.db_table
    elements = (
        "jsonb_array_elements_text(b.choice)"
        if connection.vendor == "postgresql"
        else "json_each(b.choice)"
    )
    sql = (
        f"SELECT e.value, COUNT(*) FROM {table} b, {elements} e "  # noqa: S608 - constants
        "WHERE b.vote_id = %s AND b.counted GROUP BY e.value"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [vote.pk])
        per_option = Counter({int(value): n for value, n in cursor.fetchall()})
    cast = Ballot.objects.filter(vote=vote, counted=True).count()
    return cast, per_option


def _ballot_choices(vote: Vote) -> list:
    return list(
        Ballot.objects.filter(vote=vote, counted=True)
        .order_by("pk")
        .values_list("choice", flat=True)
        .iterator(chunk_size=5000)
    )


def _motion_facts(vote: Vote, groups: dict, took_part: int) -> dict:
    counts = {a: groups.get(a, {}).get("n", 0) for a in MotionAnswer.values}
    if vote.base_count is not None:  # a meeting: the voters are those present
        entitled, present = vote.base_count, vote.entitled_count
    else:
        entitled, present = vote.entitled_count, took_part
    facts = {"entitled": entitled, "present": present, **counts}
    if vote.rule_id == "residents_meeting":
        facts["mode"] = vote.mode
    return facts


def _owners_facts(vote: Vote, groups: dict) -> dict:
    yes = groups.get(MotionAnswer.YES, {"area": Decimal("0.00"), "heads": 0})
    return {
        "total_area": str(vote.entitled_area or Decimal("0.00")),
        "total_heads": vote.entitled_heads or 0,
        "voted_area": str(sum((g["area"] for g in groups.values()), Decimal("0.00"))),
        "voted_heads": sum(g["heads"] for g in groups.values()),
        "yes_area": str(yes["area"]),
        "yes_heads": yes["heads"],
    }


@dataclass
class Tally:
    """What was counted, before the rule decides."""

    took_part: int
    facts: dict
    counts: list[dict]  # one row per answer or option: key, label, count (+ area, heads)


def tally(vote: Vote, options: list[Option] | None = None) -> Tally:
    """Count the counted ballots and build the facts the vote's rule takes."""
    options = list(vote.options.all()) if options is None else options
    labels = {str(o.pk): o.label for o in options}
    if vote.kind in (VoteKind.MOTION, VoteKind.OWNERS) or vote.method == PollMethod.SINGLE:
        groups = _answer_groups(vote)
        took_part = sum(g["n"] for g in groups.values())
        if vote.kind == VoteKind.MOTION:
            facts = _motion_facts(vote, groups, took_part)
        elif vote.kind == VoteKind.OWNERS:
            facts = _owners_facts(vote, groups)
        else:
            choices = [int(a) for a, g in groups.items() for _ in range(g["n"])]
            facts = {"options": [o.pk for o in options], "ballots": choices}
        if vote.kind == VoteKind.POLL:
            keys = [(str(o.pk), o.label) for o in options]
        else:
            keys = [(a.value, a.label) for a in MotionAnswer]
        counts = []
        for key, label in keys:
            group = groups.get(key, {"n": 0, "area": Decimal("0.00"), "heads": 0})
            row = {"key": key, "label": str(label), "count": group["n"]}
            if vote.kind == VoteKind.OWNERS:
                row |= {"area": str(group["area"]), "heads": group["heads"]}
            counts.append(row)
        return Tally(took_part, facts, counts)
    if vote.kind in (VoteKind.ELECTION, VoteKind.BUDGET):
        took_part, per_option = _marks(vote)
        if vote.kind == VoteKind.ELECTION:
            facts = {
                "voters": vote.entitled_count,
                "ballots_cast": took_part,
                "seats": vote.seats,
                "candidates": {str(o.pk): per_option.get(o.pk, 0) for o in options},
            }
            if vote.runoff:
                facts["round"] = "runoff"
        else:
            facts = {
                "budget": str(vote.budget),
                "projects": {
                    o.pk: {"cost": str(o.cost), "votes": per_option.get(o.pk, 0)} for o in options
                },
            }
        counts = [
            {"key": str(o.pk), "label": o.label, "count": per_option.get(o.pk, 0)}
            | ({"cost": str(o.cost)} if o.cost is not None else {})
            for o in options
        ]
        return Tally(took_part, facts, counts)
    # Polls with several marks per ballot: the rule reads every ballot.
    ballots = _ballot_choices(vote)
    if vote.method == PollMethod.SCORE:
        facts = {
            "options": [str(o.pk) for o in options],
            "ballots": ballots,
            "min_score": 0,
            "max_score": vote.score_max,
        }
    else:
        facts = {"options": [o.pk for o in options], "ballots": ballots}
    counts = [{"key": key, "label": label, "count": 0} for key, label in labels.items()]
    return Tally(len(ballots), facts, counts)


def _rule_version(vote: Vote):
    return rules.rule_for(vote.rule_id, vote.on_date or timezone.localdate())


def evaluate_vote(vote: Vote, facts: dict) -> dict:
    """rules.evaluate with the vote's date and its frozen overrides (only an UNVERIFIED or
    POLICY rule takes them; a verified version in force that day ignores them)."""
    on = vote.on_date or timezone.localdate()
    overrides = vote.overrides or None
    if overrides and rules.rule_for(vote.rule_id, on).verified not in rules.registry.OVERRIDABLE:
        overrides = None
    return rules.evaluate(vote.rule_id, facts, on, overrides=overrides)


def _pending(vote: Vote) -> int:
    return Participation.objects.filter(vote=vote, state=ParticipationState.PENDING).count()


def _labelled(outcome: dict, labels: dict[str, str]) -> dict:
    """The rule's answer with option ids turned into labels where it names options."""
    named = {}
    for key in ("elected", "ties", "funded", "unfunded", "winners"):
        if key in outcome:
            named[key] = [labels.get(str(i), str(i)) for i in outcome[key]]
    return named


def vote_result(*, vote: Vote) -> dict:
    """The result, recomputed from the counted ballots (see the module docstring).

    Keys: `state`, `hidden` (results withheld until the vote closes: then only `entitled`,
    `took_part` and `pending` are given), `entitled`, `took_part`, `pending`, `counts` (per
    answer or option), `facts` (as given to the rule), `outcome` (rules.evaluate's answer,
    with `steps`; None when the rule cannot decide), `error` (why not), `named` (elected,
    funded, winners … as labels).
    """
    base = {
        "vote_id": vote.pk,
        "state": vote.state,
        "entitled": vote.entitled_count,
        "pending": _pending(vote) if vote.state == VoteState.OPEN else 0,
    }
    if vote.state == VoteState.DRAFT:
        return base | {"hidden": True, "took_part": 0}
    if vote.hide_results and vote.state == VoteState.OPEN:
        took_part = Ballot.objects.filter(vote=vote, counted=True).count()
        return base | {"hidden": True, "took_part": took_part}
    options = list(vote.options.all())
    counted = tally(vote, options)
    outcome, error = None, ""
    try:
        outcome = evaluate_vote(vote, counted.facts)
    except ValueError as exc:
        error = str(exc)
    counts = counted.counts
    if outcome and "tally" in outcome:  # polls: the rule's own tally (Borda points, score sums)
        for row in counts:
            value = outcome["tally"].get(int(row["key"]), outcome["tally"].get(row["key"]))
            if isinstance(value, dict):
                row |= {
                    "count": int(value["sum"]),
                    "scored": value["count"],
                    "mean": value["mean_approx"],
                }
            elif value is not None:
                row["count"] = value
    labels = {str(o.pk): o.label for o in options}
    return base | {
        "hidden": False,
        "took_part": counted.took_part,
        "counts": counts,
        "facts": counted.facts,
        "outcome": outcome,
        "error": error,
        "named": _labelled(outcome, labels) if outcome else {},
    }


def step_rows(vote: Vote, outcome: dict | None) -> list[dict]:
    """The rule's steps for a results page: translated label, the numbers, the comparison."""
    if not outcome:
        return []
    labels = {str(o.pk): o.label for o in vote.options.all()}
    rows = []
    for step in outcome.get("steps", []):
        subject = step.get("subject")
        rows.append(
            {
                **step,
                "label": STEP_LABELS.get(step["key"], step["key"]),
                "op_label": OPS.get(step["op"], step["op"]),
                "subject_label": labels.get(str(subject), str(subject))
                if subject is not None
                else "",
            }
        )
    return rows
