"""Vote API (/api/v1/votes/): votes for me, a vote, casting, results, and the staff actions.

Scoped exactly like the pages: every vote is looked up through selectors.vote_get, so one
outside the caller's reach answers 404 like a missing one. Voters appear only as their masked
labels; a secret vote's ballots are never linked to anyone.
Errors: 403 forbidden (PermissionDenied), 409 already voted, 422 invalid with details as
[{loc, msg, type}] (ValidationError).
"""

import datetime as dt
import json
from decimal import Decimal
from typing import Annotated

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import AfterValidator, StrictInt, StrictStr

from linli.places.models import Place
from linli.votes import perms, selectors, services
from linli.votes.choices import (
    Channel,
    MeetingMode,
    OwnersMatter,
    PollMethod,
    VoteKind,
    VoteState,
    VotingUnit,
)
from linli.votes.models import Participation, Vote

router = Router(tags=["votes"])

MAX_ID = 2**31 - 1
PER_PAGE = 50


class ApiError(HttpError):
    def __init__(self, status: int, message: str, code: str):
        super().__init__(status, message)
        self.code = code


def _invalid(error: ValidationError) -> NinjaValidationError:
    if hasattr(error, "error_dict"):
        details = [
            {"loc": ["body", name], "msg": str(message), "type": "invalid"}
            for name, messages in error.message_dict.items()
            for message in messages
        ]
    else:
        details = [{"loc": ["body"], "msg": str(m), "type": "invalid"} for m in error.messages]
    return NinjaValidationError(details)


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed.")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Choice = Annotated[
    StrictStr | StrictInt | list[StrictInt] | dict[str, StrictInt] | None,
    Field(
        description="motion/owners: yes|no|abstain; single: option id; multiple, election, "
        "budget: [option id, …]; ranking: [option id, …] best first; score: {option id: score}",
    ),
]


# --- schemas -----------------------------------------------------------------------------------


class OptionOut(Schema):
    id: int
    label: str
    cost: Decimal | None
    position: int


class VoteOut(Schema):
    id: int
    place_id: int
    place_name: str
    kind: str
    title: str
    rule_id: str
    method: str
    unit: str
    state: str
    state_label: str
    secret: bool
    hide_results: bool
    opens_at: dt.datetime | None
    closes_at: dt.datetime | None
    closed_at: dt.datetime | None
    entitled_count: int


class MyVoteOut(VoteOut):
    entitled: bool
    voted: bool
    can_vote: bool


class ParticipationOut(Schema):
    id: int
    channel: str
    state: str
    at: dt.datetime


class VoteDetailOut(VoteOut):
    description: str
    owners_matter: str
    mode: str
    seats: int | None
    runoff: bool
    budget: Decimal | None
    min_share: Decimal | None
    min_projects: int | None
    max_projects: int | None
    score_max: int
    base_count: int | None
    options: list[OptionOut]
    entitled: bool
    can_vote: bool
    participation: ParticipationOut | None
    my_choice: Choice = None


class VotePageOut(Schema):
    count: int
    page: int
    pages: int
    results: list[VoteOut]


class CountOut(Schema):
    key: str
    label: str
    count: int
    area: str | None = None
    heads: int | None = None
    cost: str | None = None


class StepOut(Schema):
    key: str
    label: str
    subject: str
    value: str
    op: str
    fraction: str
    base: str
    threshold: str
    ok: bool


class ResultOut(Schema):
    vote_id: int
    state: str
    hidden: bool
    entitled: int
    took_part: int
    pending: int
    counts: list[CountOut] = []
    steps: list[StepOut] = []
    facts: dict | None = None
    outcome: dict | None = None
    error: str = ""
    named: dict = {}


class BallotIn(Schema):
    choice: Choice = None


class CastOut(Schema):
    vote_id: int
    participation: ParticipationOut


class OptionIn(Schema):
    label: Text = Field(..., max_length=200)
    cost: Decimal | None = Field(None, gt=0, max_digits=12, decimal_places=2)


class VoteIn(Schema):
    place_id: int = Field(..., ge=1, le=MAX_ID)
    kind: VoteKind
    title: Text = Field(..., max_length=200)
    description: Text = Field("", max_length=4000)
    unit: VotingUnit
    rule_id: Text = Field("", max_length=40)
    method: PollMethod | None = None
    mode: MeetingMode | None = None
    owners_matter: OwnersMatter | None = None
    options: list[OptionIn] = Field([], max_length=services.MAX_OPTIONS)
    secret: bool = False
    hide_results: bool = False
    seats: int | None = Field(None, ge=1, le=99)
    runoff: bool = False
    budget: Decimal | None = Field(None, gt=0, max_digits=12, decimal_places=2)
    min_share: Decimal | None = Field(None, ge=0, le=1, max_digits=5, decimal_places=4)
    min_projects: int | None = Field(None, ge=0, le=200)
    max_projects: int | None = Field(None, ge=0, le=200)
    score_max: int = Field(5, ge=1, le=100)
    base_count: int | None = Field(None, ge=1, le=10_000_000)
    closes_at: dt.datetime | None = None


class RecordIn(Schema):
    voter_key: Text = Field("", max_length=24)
    choice: Choice = None
    channel: Channel | None = None
    proxy_name: Text = Field("", max_length=64)
    provenance: Text = Field("", max_length=200)


class RejectIn(Schema):
    reason: Text = Field("", max_length=200)


class VoterOut(Schema):
    key: str
    label: str
    address: str
    state: str | None


class VoterQuery(Schema):
    q: Text = Field("", max_length=60)


class ManageQuery(Schema):
    state: Text = Field("", max_length=16)
    page: int = Field(1, ge=1, le=100_000)


# --- helpers ------------------------------------------------------------------------------------


def _vote(vote: Vote) -> dict:
    return {
        "id": vote.pk,
        "place_id": vote.place_id,
        "place_name": vote.place.name,
        "kind": vote.kind,
        "title": vote.title,
        "rule_id": vote.rule_id,
        "method": vote.method,
        "unit": vote.unit,
        "state": vote.state,
        "state_label": str(VoteState(vote.state).label),
        "secret": vote.secret,
        "hide_results": vote.hide_results,
        "opens_at": vote.opens_at,
        "closes_at": vote.closes_at,
        "closed_at": vote.closed_at,
        "entitled_count": vote.entitled_count,
    }


def _participation(p: Participation | None) -> dict | None:
    if p is None:
        return None
    return {"id": p.pk, "channel": p.channel, "state": p.state, "at": p.at}


def _detail(user, vote: Vote) -> dict:
    mine = selectors.my_participation(vote=vote, user=user)
    return {
        **_vote(vote),
        "description": vote.description,
        "owners_matter": vote.owners_matter,
        "mode": vote.mode,
        "seats": vote.seats,
        "runoff": vote.runoff,
        "budget": vote.budget,
        "min_share": vote.min_share,
        "min_projects": vote.min_projects,
        "max_projects": vote.max_projects,
        "score_max": vote.score_max,
        "base_count": vote.base_count,
        "options": [
            {"id": o.pk, "label": o.label, "cost": o.cost, "position": o.position}
            for o in vote.options.all()
        ],
        "entitled": mine.entitled,
        "can_vote": mine.can_vote,
        "participation": _participation(mine.participation),
        "my_choice": selectors.my_choice(vote=vote, participation=mine.participation),
    }


def _jsonable(value):
    # Option ids as dict keys (polls' tallies) become strings, as JSON has them.
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _result(vote: Vote) -> dict:
    result = selectors.vote_result(vote=vote)
    steps = [
        {
            "key": s["key"],
            "label": str(s["label"]),
            "subject": s["subject_label"],
            "value": str(s["value"]),
            "op": s["op"],
            "fraction": s["fraction"],
            "base": str(s["base"]),
            "threshold": s["threshold"],
            "ok": s["ok"],
        }
        for s in selectors.step_rows(vote, result.get("outcome"))
    ]
    return {
        **{
            k: result[k] for k in ("vote_id", "state", "hidden", "entitled", "took_part", "pending")
        },
        "counts": [
            {k: (str(v) if k in ("key", "area", "cost") else v) for k, v in row.items()}
            for row in result.get("counts", [])
        ],
        "steps": steps,
        "facts": _jsonable(result["facts"]) if "facts" in result else None,
        "outcome": _jsonable(result["outcome"]) if result.get("outcome") else None,
        "error": result.get("error", ""),
        "named": result.get("named", {}),
    }


def _staff(check, user, vote: Vote) -> None:
    if not check(user, vote):
        raise Http404


def _run(action, **params):
    try:
        return action(**params)
    except services.AlreadyVoted as error:
        raise ApiError(409, str(error.messages[0]), "already_voted") from None
    except PermissionDenied as error:
        raise ApiError(403, str(error) or "Forbidden.", "forbidden") from None
    except ValidationError as error:
        raise _invalid(error) from None


# --- residents ----------------------------------------------------------------------------------


@router.get(
    "/",
    response=list[MyVoteOut],
    summary="Open votes for me (and whether I may still vote), then recently closed ones",
)
def votes_for_me(request):
    return [
        {**_vote(row.vote), "entitled": row.entitled, "voted": row.voted, "can_vote": row.can_vote}
        for row in selectors.votes_for(viewer=request.user)
    ]


@router.get(
    "/manage",
    response=VotePageOut,
    summary="Votes under the caller's places (staff), newest first, 50 a page",
)
def votes_manage(request, query: Query[ManageQuery]):
    votes = selectors.staff_votes(viewer=request.user, state=query.state)
    page = Paginator(votes, PER_PAGE).get_page(query.page)
    return {
        "count": page.paginator.count,
        "page": page.number,
        "pages": page.paginator.num_pages,
        "results": [_vote(v) for v in page],
    }


@router.get("/{vote_id}", response=VoteDetailOut, summary="One vote, its options and my part")
def vote_detail(request, vote_id: int = Path(..., ge=1, le=MAX_ID)):
    return _detail(request.user, selectors.vote_get(viewer=request.user, pk=vote_id))


@router.post(
    "/{vote_id}/ballots",
    response={201: CastOut},
    summary="Cast my ballot online (409 when this voter has already voted, by any channel)",
)
def ballot_cast(request, payload: BallotIn, vote_id: int = Path(..., ge=1, le=MAX_ID)):
    vote = selectors.vote_get(viewer=request.user, pk=vote_id)
    participation = _run(services.ballot_cast, actor=request.user, vote=vote, choice=payload.choice)
    return Status(201, {"vote_id": vote.pk, "participation": _participation(participation)})


@router.get(
    "/{vote_id}/result",
    response=ResultOut,
    summary="The result recomputed from the ballots, with the rule's arithmetic (steps)",
)
def vote_result(request, vote_id: int = Path(..., ge=1, le=MAX_ID)):
    return _result(selectors.vote_get(viewer=request.user, pk=vote_id))


# --- staff --------------------------------------------------------------------------------------


@router.post("/", response={201: VoteDetailOut}, summary="Set up a draft vote (committee staff)")
def vote_create(request, payload: VoteIn):
    place = Place.objects.filter(pk=payload.place_id).first()
    if place is None or not request.user.has_perm(perms.MANAGE_VOTES, place):
        raise Http404
    data = payload.model_dump(exclude={"place_id", "options"})
    data["options"] = [{"label": o.label, "cost": o.cost} for o in payload.options]
    for name in ("method", "mode", "owners_matter"):
        data[name] = data[name] or ("" if name != "method" else None)
    vote = _run(services.vote_create, actor=request.user, place=place, **data)
    return Status(201, _detail(request.user, selectors.vote_get(viewer=request.user, pk=vote.pk)))


@router.post("/{vote_id}/open", response=VoteDetailOut, summary="Open voting: freeze the voters")
def vote_open(request, vote_id: int = Path(..., ge=1, le=MAX_ID)):
    vote = selectors.vote_get(viewer=request.user, pk=vote_id)
    _staff(selectors.can_manage, request.user, vote)
    _run(services.vote_open, actor=request.user, vote=vote)
    return _detail(request.user, selectors.vote_get(viewer=request.user, pk=vote_id))


@router.post("/{vote_id}/close", response=VoteDetailOut, summary="Close voting")
def vote_close(request, vote_id: int = Path(..., ge=1, le=MAX_ID)):
    vote = selectors.vote_get(viewer=request.user, pk=vote_id)
    _staff(selectors.can_manage, request.user, vote)
    _run(services.vote_close, actor=request.user, vote=vote)
    return _detail(request.user, selectors.vote_get(viewer=request.user, pk=vote_id))


@router.get(
    "/{vote_id}/voters",
    response=list[VoterOut],
    summary="Search the frozen list of voters (masked name, address) to record a ballot",
)
def voters(request, query: Query[VoterQuery], vote_id: int = Path(..., ge=1, le=MAX_ID)):
    vote = selectors.vote_get(viewer=request.user, pk=vote_id)
    _staff(selectors.can_record, request.user, vote)
    return [
        {
            "key": row["entitlement"].key,
            "label": row["entitlement"].label,
            "address": row["entitlement"].address,
            "state": row["state"],
        }
        for row in selectors.entitlement_search(vote=vote, q=query.q)
    ]


@router.post(
    "/{vote_id}/record",
    response={201: ParticipationOut},
    summary="Record a meeting, paper or proxy ballot (paper and proxy await a second worker)",
)
def ballot_record(request, payload: RecordIn, vote_id: int = Path(..., ge=1, le=MAX_ID)):
    vote = selectors.vote_get(viewer=request.user, pk=vote_id)
    _staff(selectors.can_record, request.user, vote)
    participation = _run(
        services.ballot_record,
        actor=request.user,
        vote=vote,
        voter_key=payload.voter_key,
        choice=payload.choice,
        channel=payload.channel,
        proxy_name=payload.proxy_name,
        provenance=payload.provenance,
    )
    return Status(201, _participation(participation))


@router.post(
    "/{vote_id}/ballots/{participation_id}/confirm",
    response=ParticipationOut,
    summary="Confirm a paper or proxy ballot (a worker other than the one who recorded it)",
)
def ballot_confirm(
    request,
    vote_id: int = Path(..., ge=1, le=MAX_ID),
    participation_id: int = Path(..., ge=1, le=MAX_ID),
):
    vote = selectors.vote_get(viewer=request.user, pk=vote_id)
    participation = selectors.participation_get(viewer=request.user, vote=vote, pk=participation_id)
    done = _run(services.ballot_confirm, actor=request.user, participation=participation)
    return _participation(done)


@router.post(
    "/{vote_id}/ballots/{participation_id}/reject",
    response=ParticipationOut,
    summary="Reject a paper or proxy ballot; the voter may vote again",
)
def ballot_reject(
    request,
    payload: RejectIn,
    vote_id: int = Path(..., ge=1, le=MAX_ID),
    participation_id: int = Path(..., ge=1, le=MAX_ID),
):
    vote = selectors.vote_get(viewer=request.user, pk=vote_id)
    participation = selectors.participation_get(viewer=request.user, vote=vote, pk=participation_id)
    done = _run(
        services.ballot_reject,
        actor=request.user,
        participation=participation,
        reason=payload.reason,
    )
    return _participation(done)
