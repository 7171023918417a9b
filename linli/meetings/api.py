"""Meetings API (/api/v1/meetings/): meetings the caller may see, their agenda and motions,
check-in, the live quorum and the resolutions, and the worker's console: drafting a meeting,
its agenda, announcing, starting, closing or cancelling it, motions put to the vote (hands
recorded by the worker, ballots cast by residents on their phones), the result with the rule's
arithmetic, and publishing a resolution.

Scoped exactly like the pages (selectors.meetings_visible): a meeting, agenda item, motion or
resolution outside the caller's scope answers 404 like a missing one, and so does a staff-only
action asked by someone who may only see the meeting (as the pages answer). Every write goes
through linli.meetings.services, which checks `meetings.manage` again. Invitees' names are given
to staff only.
Errors: 403 forbidden (a resident acting for someone else, or not on a motion's list of voters),
409 already done (checked in, registered, voted, published), 422 invalid
([{loc, msg, type}]; type is the service's error code where it has one, e.g. "short_notice").
"""

import datetime as dt
import json
from decimal import Decimal
from typing import Annotated, Literal

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import AfterValidator

from linli.meetings import selectors, services
from linli.meetings.choices import (
    AttendanceMode,
    CheckInMethod,
    MeetingForm,
    MeetingKind,
    MeetingState,
    MotionKind,
    MotionState,
)
from linli.meetings.models import AgendaItem, Meeting, Motion
from linli.places.models import Place
from linli.votes.choices import OwnersMatter

router = Router(tags=["meetings"])

PER_PAGE = 50
MAX_ID = 2**31 - 1


class ApiError(HttpError):
    def __init__(self, status: int, message: str, code: str):
        super().__init__(status, message)
        self.code = code


# The services name the object (place, topic); the API's body names its id.
FIELD_NAMES = {"place": "place_id", "topic": "topic_id"}


def _details(errors, loc: list) -> list[dict]:
    return [
        {"loc": loc, "msg": " ".join(str(m) for m in e.messages), "type": e.code or "invalid"}
        for e in errors
    ]


def _invalid(error: ValidationError) -> NinjaValidationError:
    if hasattr(error, "error_dict"):
        details = [
            detail
            for name, errors in error.error_dict.items()
            for detail in _details(errors, ["body", FIELD_NAMES.get(name, name)])
        ]
    else:
        details = _details(error.error_list, ["body"])
    return NinjaValidationError(details)


def _field_error(name: str, message) -> NinjaValidationError:
    return _invalid(ValidationError({name: [message]}))


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\ud800") would fail in the database
        raise ValueError("Text must be valid Unicode.") from None
    return value


def _moment(value: dt.datetime) -> dt.datetime:
    # Bounded before any conversion: year 9999 with an offset would overflow in the database
    # layer; a time without an offset is the community's local time.
    if not 2000 <= value.year <= 2100:
        raise ValueError("Give a date between 2000 and 2100.")
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Moment = Annotated[dt.datetime, AfterValidator(_moment)]
Name = Annotated[Text, Field(max_length=100)]
Answer = Literal["yes", "no", "abstain"]
MatterIn = Literal[("", *OwnersMatter.values)]  # type: ignore[valid-type]
StateFilter = Literal[("", *MeetingState.values)]  # type: ignore[valid-type]
KindFilter = Literal[("", *MeetingKind.values)]  # type: ignore[valid-type]


# --- schemas ----------------------------------------------------------------------------------


class MeetingOut(Schema):
    id: int
    kind: str
    kind_label: str
    title: str
    state: str
    state_label: str
    place_id: int
    place_name: str
    attendance_mode: str
    form: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    location: str
    convener_body: str
    chair: str
    base_count: int | None
    notice_id: int | None


class MeetingPageOut(Schema):
    count: int
    page: int
    pages: int
    results: list[MeetingOut]


class AgendaItemOut(Schema):
    id: int
    position: int
    title: str
    description: str
    topic_id: int | None


class MotionOut(Schema):
    id: int
    agenda_item_id: int
    kind: str
    text: str
    state: str
    rule_id: str
    matter: str
    vote_id: int | None
    passed: bool | None
    resolution_id: int | None


class InvitationOut(Schema):
    id: int
    meeting_id: int
    registered: bool
    checked_in: bool
    checkin_token: str


class MeetingDetailOut(MeetingOut):
    description: str
    agenda: list[AgendaItemOut]
    motions: list[MotionOut]
    my_invitation: InvitationOut | None
    can_manage: bool


class MeetingQuery(Schema):
    state: StateFilter = ""
    kind: KindFilter = ""
    page: int = Field(1, ge=1, le=100_000)


class CheckInIn(Schema):
    token: Text = Field("", max_length=300, description="The scanned code (token or URL).")
    invitation_id: int | None = Field(None, ge=1, le=MAX_ID)
    method: Literal["qr", "list", "self"] = "qr"


class AttendanceOut(Schema):
    invitation_id: int
    label: str
    method: str
    at: dt.datetime


class QuorumStepOut(Schema):
    key: str
    value: str
    base: str
    op: str
    fraction: str
    ok: bool


class QuorumOut(Schema):
    present: int
    base: int | None
    quorate: bool | None
    needed: int | None
    rule_id: str
    basis: str
    present_area: Decimal | None
    base_area: Decimal | None
    written: bool
    steps: list[QuorumStepOut]


class ResolutionOut(Schema):
    id: int
    motion_id: int
    text: str
    passed: bool
    notice_id: int | None
    published_at: dt.datetime | None
    result: dict


class MeetingIn(Schema):
    place_id: int = Field(
        ..., ge=1, le=MAX_ID, description="The committee, compound or street that holds it."
    )
    kind: MeetingKind
    title: Text = Field(..., max_length=200)
    starts_at: Moment = Field(..., description="Without an offset: the community's local time.")
    ends_at: Moment
    attendance_mode: AttendanceMode | None = Field(
        None, description="Who attends; empty: the kind's usual attendance."
    )
    form: MeetingForm = MeetingForm.IN_PERSON
    location: Text = Field("", max_length=200)
    description: Text = Field("", max_length=4000)
    chair: Text = Field("", max_length=100, description="Empty: the default chair.")
    convener_body: Text = Field("", max_length=100, description="Empty: the default convener.")


class AgendaIn(Schema):
    title: Text = Field("", max_length=200, description="Empty: the topic's title.")
    description: Text = Field("", max_length=4000)
    topic_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="A residents' topic of the meeting's committee."
    )


class AnnounceIn(Schema):
    short_notice_ok: bool = Field(
        False,
        description="Announce although it starts sooner than the kind's days of notice "
        "(refused otherwise with a 422 of type short_notice).",
    )


class CancelIn(Schema):
    reason: Text = Field("", max_length=200)


class MotionIn(Schema):
    text: Text = Field("", max_length=4000)
    kind: MotionKind = MotionKind.DECISION
    matter: MatterIn = Field("", description="Owners' assembly decisions: the owners' matter.")
    candidates: list[Name] = Field(
        [], max_length=200, description="Evaluation or election: the names, at least two."
    )
    seats: int | None = Field(None, ge=1, le=99, description="Election: the seats.")


class CastIn(Schema):
    choice: Answer | None = None


class HandIn(Schema):
    invitation_id: int = Field(..., ge=1, le=MAX_ID)
    choice: Answer


class HandsIn(Schema):
    answers: list[HandIn] = Field([], max_length=2000)


class HandsOut(Schema):
    recorded: int
    refused: list[str]


class MotionCastOut(Schema):
    motion_id: int
    vote_id: int | None
    counted: bool


class MotionCountOut(Schema):
    key: str
    label: str
    count: int
    area: str | None = None
    heads: int | None = None
    cost: str | None = None


class MotionStepOut(Schema):
    key: str
    label: str
    subject: str
    value: str
    op: str
    fraction: str
    base: str
    threshold: str
    ok: bool


class MotionTallyOut(Schema):
    state: str
    hidden: bool
    entitled: int | None
    took_part: int
    pending: int
    counts: list[MotionCountOut]
    steps: list[MotionStepOut]
    passed: bool | None
    quorate: bool | None
    rule_id: str
    citation: str
    basis: str
    verified: str
    verified_label: str
    facts: dict | None
    outcome: dict | None
    error: str
    named: dict


class MotionDetailOut(MotionOut):
    meeting_id: int
    meeting_title: str
    agenda_position: int
    candidates: list[str]
    seats: int | None
    everyone_votes: bool = Field(
        ...,
        description="Everyone invited votes (written consultation, owners), not only those "
        "checked in.",
    )
    can_vote: bool = Field(
        ..., description="The caller is on the open motion's list of voters and has not voted."
    )
    voted: bool = Field(..., description="The caller has voted on the open motion.")
    result: MotionTallyOut | None = Field(
        ..., description="None before the vote opens, and for residents while it is open."
    )


# --- helpers ----------------------------------------------------------------------------------


def _meeting(meeting) -> dict:
    return {
        "id": meeting.pk,
        "kind": meeting.kind,
        "kind_label": str(meeting.get_kind_display()),
        "title": meeting.title,
        "state": meeting.state,
        "state_label": str(meeting.get_state_display()),
        "place_id": meeting.place_id,
        "place_name": meeting.place.name,
        "attendance_mode": meeting.attendance_mode,
        "form": meeting.form,
        "starts_at": meeting.starts_at,
        "ends_at": meeting.ends_at,
        "location": meeting.location,
        "convener_body": meeting.convener_body,
        "chair": meeting.chair,
        "base_count": meeting.base_count,
        "notice_id": meeting.notice_id,
    }


def _motion(motion) -> dict:
    resolution = getattr(motion, "resolution", None)
    outcome = (motion.result or {}).get("outcome") or {}
    return {
        "id": motion.pk,
        "agenda_item_id": motion.agenda_item_id,
        "kind": motion.kind,
        "text": motion.text,
        "state": motion.state,
        "rule_id": motion.rule_id or motion.meeting.rule_id,
        "matter": motion.matter,
        "vote_id": motion.vote_id,
        "passed": bool(outcome.get("passed")) if motion.state == "closed" else None,
        "resolution_id": resolution.pk if resolution is not None else None,
    }


def _agenda(item: AgendaItem) -> dict:
    return {
        "id": item.pk,
        "position": item.position,
        "title": item.title,
        "description": item.description,
        "topic_id": item.topic_id,
    }


def _detail(user, meeting: Meeting) -> dict:
    invitation = services.invitation_of(user, meeting)
    return {
        **_meeting(meeting),
        "description": meeting.description,
        "agenda": [_agenda(a) for a in meeting.agenda.order_by("position")],
        "motions": [_motion(m) for m in selectors.motions_of(meeting)],
        "my_invitation": {
            "id": invitation.pk,
            "meeting_id": meeting.pk,
            "registered": invitation.registered_at is not None,
            "checked_in": invitation.attendances.exists(),
            "checkin_token": invitation.checkin_token,
        }
        if invitation is not None
        else None,
        "can_manage": selectors.can_manage(user, meeting),
    }


def _resolution(resolution) -> dict:
    return {
        "id": resolution.pk,
        "motion_id": resolution.motion_id,
        "text": resolution.text,
        "passed": bool(((resolution.result or {}).get("outcome") or {}).get("passed")),
        "notice_id": resolution.notice_id,
        "published_at": resolution.published_at,
        "result": _public_result(resolution.result or {}),
    }


def _jsonable(value):
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _tally(motion: Motion, staff: bool) -> dict | None:
    """The result as the motion page shows it: live for staff while the vote is open, the
    snapshot once closed; residents see it once voting has closed."""
    from linli.votes.selectors import VERIFIED_LABELS, step_rows

    tally = selectors.motion_tally(motion=motion)
    if tally is None or (motion.state == MotionState.OPEN and not staff):
        return None
    hidden = bool(tally.get("hidden"))
    outcome = None if hidden else tally.get("outcome")
    steps = step_rows(motion.vote, outcome) if outcome and motion.vote is not None else []
    answer = _jsonable(outcome) if outcome else {}
    return {
        "state": str(tally.get("state", "")),
        "hidden": hidden,
        "entitled": tally.get("entitled"),
        "took_part": tally.get("took_part") or 0,
        "pending": tally.get("pending") or 0,
        "counts": [
            {k: (str(v) if k in ("key", "label", "area", "cost") else v) for k, v in row.items()}
            for row in tally.get("counts") or []
            if isinstance(row, dict)
        ],
        "steps": [
            {
                "key": str(s.get("key", "")),
                "label": str(s.get("label", "")),
                "subject": str(s.get("subject_label", "")),
                "value": str(s.get("value", "")),
                "op": str(s.get("op", "")),
                "fraction": str(s.get("fraction", "")),
                "base": str(s.get("base", "")),
                "threshold": str(s.get("threshold", "")),
                "ok": bool(s.get("ok")),
            }
            for s in steps
        ],
        "passed": bool(answer["passed"]) if "passed" in answer else None,
        "quorate": bool(answer["quorate"]) if "quorate" in answer else None,
        "rule_id": str(answer.get("rule_id") or services.rule_for(motion.meeting, motion)),
        "citation": str(answer.get("citation") or ""),
        "basis": str(answer.get("basis") or ""),
        "verified": str(answer.get("verified") or ""),
        "verified_label": str(VERIFIED_LABELS.get(answer.get("verified"), "")),
        "facts": _jsonable(tally["facts"]) if tally.get("facts") is not None else None,
        "outcome": answer or None,
        "error": str(tally.get("error") or ""),
        "named": _jsonable(tally.get("named") or {}),
    }


def _motion_detail(user, pk: int) -> dict:
    motion = selectors.motion_get(viewer=user, pk=pk)
    meeting = motion.meeting
    return {
        **_motion(motion),
        "meeting_id": meeting.pk,
        "meeting_title": meeting.title,
        "agenda_position": motion.agenda_item.position,
        "candidates": [str(c) for c in motion.candidates or []],
        "seats": motion.seats,
        "everyone_votes": services.everyone_votes(meeting),
        **_my_part(user, motion),
        "result": _tally(motion, selectors.is_staff(user, meeting)),
    }


def _my_part(user, motion: Motion) -> dict:
    """Whether the caller may still vote on the open motion (as the meeting page shows it)."""
    from linli.votes.services import entitlements_of

    if motion.state != MotionState.OPEN or motion.vote is None:
        return {"can_vote": False, "voted": False}
    entitlements = entitlements_of(vote=motion.vote, user=user, with_taken=True)
    taken = sum(1 for e in entitlements if e.taken)
    return {
        "can_vote": taken < len(entitlements),
        "voted": bool(entitlements) and taken >= len(entitlements),
    }


def _managed_motion(user, pk: int) -> Motion:
    motion = selectors.motion_get(viewer=user, pk=pk)
    if not selectors.can_manage(user, motion.meeting):
        raise Http404
    return motion


def _topics_for(meeting: Meeting):
    """Residents' topics of the meeting's committee that may go on an agenda (as the page)."""
    from linli.deliberation.choices import ANSWERABLE_STATES
    from linli.deliberation.models import Topic

    return Topic.objects.filter(path__startswith=meeting.path[:40], state__in=ANSWERABLE_STATES)


# Service refusals that mean "this was done already": a conflict, not an invalid request.
CONFLICTS = (
    (services.ALREADY_REGISTERED, "already_registered"),
    (services.ALREADY_PUBLISHED, "already_published"),
)


def _run(action, **params):
    """A service call with its refusals as the API's errors."""
    from linli.votes.services import AlreadyVoted

    try:
        return action(**params)
    except services.AlreadyCheckedIn as already:
        raise ApiError(409, already.message, "already_checked_in") from None
    except AlreadyVoted as error:
        raise ApiError(409, str(error.messages[0]), "already_voted") from None
    except PermissionDenied as error:
        raise ApiError(403, str(error) or "Forbidden.", "forbidden") from None
    except ValidationError as error:
        for message, code in CONFLICTS:
            if error.messages == [str(message)]:
                raise ApiError(409, str(message), code) from None
        raise _invalid(error) from None


# --- endpoints --------------------------------------------------------------------------------


@router.get("/", response=MeetingPageOut, summary="Meetings the caller may see, 50 a page")
def meeting_list(request, query: Query[MeetingQuery]):
    meetings = selectors.meetings_list(viewer=request.user, state=query.state, kind=query.kind)
    page = Paginator(meetings, PER_PAGE).get_page(query.page)
    return {
        "count": page.paginator.count,
        "page": page.number,
        "pages": page.paginator.num_pages,
        "results": [_meeting(m) for m in page],
    }


@router.get(
    "/invitations/mine",
    response=list[InvitationOut],
    summary="The caller's invitations (their own or their household's)",
)
def my_invitations(request):
    return [
        {
            "id": i.pk,
            "meeting_id": i.meeting_id,
            "registered": i.registered_at is not None,
            "checked_in": i.checked_at is not None,
            "checkin_token": i.checkin_token,
        }
        for i in selectors.my_invitations(viewer=request.user)
    ]


@router.get(
    "/{meeting_id}",
    response=MeetingDetailOut,
    summary="One meeting with its agenda, motions and the caller's invitation",
)
def meeting_detail(request, meeting_id: int = Path(..., ge=1, le=MAX_ID)):
    return _detail(request.user, selectors.meeting_get(viewer=request.user, pk=meeting_id))


@router.post(
    "/{meeting_id}/checkin",
    response={201: AttendanceOut},
    summary="Check someone in: a scanned code or an invitation id (staff), or oneself",
)
def check_in(request, payload: CheckInIn, meeting_id: int = Path(..., ge=1, le=MAX_ID)):
    meeting = selectors.meeting_get(viewer=request.user, pk=meeting_id)
    manager = selectors.can_manage(request.user, meeting)
    invitation = None
    if payload.method == CheckInMethod.SELF:
        invitation = services.invitation_of(request.user, meeting)
        if invitation is None:
            raise ApiError(403, str(services.NOT_INVITED), "forbidden")
    elif not manager:
        raise ApiError(403, str(services.NOT_PERMITTED), "forbidden")
    elif payload.invitation_id is not None:
        invitation = selectors.invitation_get(meeting=meeting, pk=payload.invitation_id)
    try:
        attendance = services.meeting_check_in(
            actor=request.user,
            meeting=meeting,
            token=services.token_from_code(payload.token) if invitation is None else None,
            invitation=invitation,
            method=payload.method,
        )
    except services.AlreadyCheckedIn as already:
        raise ApiError(409, already.message, "already_checked_in") from None
    except PermissionDenied:
        raise ApiError(403, str(services.ONLY_YOURSELF), "forbidden") from None
    except ValidationError as error:
        raise _invalid(error) from None
    return Status(
        201,
        {
            "invitation_id": attendance.invitation_id,
            "label": attendance.invitation.label if manager else "",
            "method": attendance.method,
            "at": attendance.at,
        },
    )


@router.get("/{meeting_id}/quorum", response=QuorumOut, summary="The live quorum")
def quorum(request, meeting_id: int = Path(..., ge=1, le=MAX_ID)):
    meeting = selectors.meeting_get(viewer=request.user, pk=meeting_id)
    q = selectors.meeting_quorum(meeting=meeting)
    return {
        "present": q.present,
        "base": q.base,
        "quorate": q.quorate,
        "needed": q.needed,
        "rule_id": q.rule_id,
        "basis": q.basis,
        "present_area": q.present_area,
        "base_area": q.base_area,
        "written": q.written,
        "steps": [
            {
                "key": s["key"],
                "value": str(s["value"]),
                "base": str(s["base"]),
                "op": s["op"],
                "fraction": s["fraction"],
                "ok": s["ok"],
            }
            for s in q.steps
        ],
    }


@router.get("/{meeting_id}/motions", response=list[MotionOut], summary="The meeting's motions")
def motions(request, meeting_id: int = Path(..., ge=1, le=MAX_ID)):
    meeting = selectors.meeting_get(viewer=request.user, pk=meeting_id)
    return [_motion(m) for m in selectors.motions_of(meeting)]


@router.get(
    "/{meeting_id}/resolutions",
    response=list[ResolutionOut],
    summary="Resolutions adopted, with the result as it stood when the vote closed",
)
def resolutions(request, meeting_id: int = Path(..., ge=1, le=MAX_ID)):
    meeting = selectors.meeting_get(viewer=request.user, pk=meeting_id)
    return [_resolution(r) for r in selectors.resolutions_of(meeting)]


def _public_result(result: dict) -> dict:
    """The snapshot without anything naming a voter (counts, facts, the rule's answer)."""
    keys = ("entitled", "took_part", "counts", "facts", "outcome", "named", "state")
    return {k: result[k] for k in keys if k in result}


# --- the worker's console: drafting and running a meeting --------------------------------------


@router.post(
    "/",
    response={201: MeetingDetailOut},
    summary="Draft a meeting (staff who manage meetings at the place that holds it)",
)
def meeting_create(request, payload: MeetingIn):
    place = Place.objects.filter(pk=payload.place_id).first()
    if place is None or not selectors.can_manage(request.user, place):
        raise Http404
    meeting = _run(
        services.meeting_create,
        actor=request.user,
        place=place,
        kind=payload.kind.value,
        title=payload.title,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        attendance_mode=payload.attendance_mode.value if payload.attendance_mode else None,
        form=payload.form.value,
        location=payload.location,
        description=payload.description,
        chair=payload.chair,
        convener_body=payload.convener_body,
    )
    return Status(
        201, _detail(request.user, selectors.meeting_get(viewer=request.user, pk=meeting.pk))
    )


@router.post(
    "/{meeting_id}/agenda",
    response={201: AgendaItemOut},
    summary="Add an agenda item, optionally from a residents' topic (the topic is then scheduled)",
)
def agenda_add(request, payload: AgendaIn, meeting_id: int = Path(..., ge=1, le=MAX_ID)):
    meeting = selectors.meeting_get_managed(viewer=request.user, pk=meeting_id)
    topic = None
    if payload.topic_id is not None:
        topic = _topics_for(meeting).filter(pk=payload.topic_id).first()
        if topic is None:
            raise _field_error(
                "topic_id", forms.ModelChoiceField.default_error_messages["invalid_choice"]
            )
    item = _run(
        services.agenda_add,
        actor=request.user,
        meeting=meeting,
        title=payload.title,
        description=payload.description,
        topic=topic,
    )
    return Status(201, _agenda(item))


@router.post(
    "/{meeting_id}/announce",
    response=MeetingDetailOut,
    summary="Announce: fix the invitation list and quorum base, publish the notice, invite",
)
def meeting_announce(request, payload: AnnounceIn, meeting_id: int = Path(..., ge=1, le=MAX_ID)):
    meeting = selectors.meeting_get_managed(viewer=request.user, pk=meeting_id)
    _run(
        services.meeting_announce,
        actor=request.user,
        meeting=meeting,
        short_notice_ok=payload.short_notice_ok,
    )
    return _detail(request.user, selectors.meeting_get(viewer=request.user, pk=meeting_id))


@router.post(
    "/{meeting_id}/start",
    response=MeetingDetailOut,
    summary="Start an announced meeting: check-in opens",
)
def meeting_start(request, meeting_id: int = Path(..., ge=1, le=MAX_ID)):
    meeting = selectors.meeting_get_managed(viewer=request.user, pk=meeting_id)
    _run(services.meeting_start, actor=request.user, meeting=meeting)
    return _detail(request.user, selectors.meeting_get(viewer=request.user, pk=meeting_id))


@router.post(
    "/{meeting_id}/close",
    response=MeetingDetailOut,
    summary="Close a meeting in progress; motions still being voted on are closed with it",
)
def meeting_close(request, meeting_id: int = Path(..., ge=1, le=MAX_ID)):
    meeting = selectors.meeting_get_managed(viewer=request.user, pk=meeting_id)
    _run(services.meeting_close, actor=request.user, meeting=meeting)
    return _detail(request.user, selectors.meeting_get(viewer=request.user, pk=meeting_id))


@router.post(
    "/{meeting_id}/cancel",
    response=MeetingDetailOut,
    summary="Call off a draft or announced meeting (an announced one's cancellation is published)",
)
def meeting_cancel(request, payload: CancelIn, meeting_id: int = Path(..., ge=1, le=MAX_ID)):
    meeting = selectors.meeting_get_managed(viewer=request.user, pk=meeting_id)
    _run(services.meeting_cancel, actor=request.user, meeting=meeting, reason=payload.reason)
    return _detail(request.user, selectors.meeting_get(viewer=request.user, pk=meeting_id))


@router.post(
    "/{meeting_id}/register",
    response=InvitationOut,
    summary="Register (报名): an invited resident says they will come (409 if already)",
)
def meeting_register(request, meeting_id: int = Path(..., ge=1, le=MAX_ID)):
    meeting = selectors.meeting_get(viewer=request.user, pk=meeting_id)
    if services.invitation_of(request.user, meeting) is None:
        raise ApiError(403, str(services.NOT_INVITED), "forbidden")
    invitation = _run(services.meeting_register, actor=request.user, meeting=meeting)
    return {
        "id": invitation.pk,
        "meeting_id": meeting.pk,
        "registered": invitation.registered_at is not None,
        "checked_in": invitation.attendances.exists(),
        "checkin_token": invitation.checkin_token,
    }


# --- motions and resolutions ------------------------------------------------------------------


@router.post(
    "/agenda/{item_id}/motions",
    response={201: MotionDetailOut},
    summary="Add a motion to an agenda item: a decision, an evaluation (scores) or an election",
)
def motion_add(request, payload: MotionIn, item_id: int = Path(..., ge=1, le=MAX_ID)):
    item = (
        AgendaItem.objects.select_related("meeting")
        .filter(pk=item_id, meeting__in=selectors.meetings_visible(request.user))
        .first()
    )
    if item is None or not selectors.can_manage(request.user, item.meeting):
        raise Http404
    motion = _run(
        services.motion_add,
        actor=request.user,
        agenda_item=item,
        text=payload.text,
        kind=payload.kind.value,
        matter=payload.matter,
        candidates=payload.candidates,
        seats=payload.seats,
    )
    return Status(201, _motion_detail(request.user, motion.pk))


@router.get(
    "/motions/{motion_id}",
    response=MotionDetailOut,
    summary="A motion and its result with the arithmetic: entitled, took part, the rule's steps "
    "and citation",
)
def motion_detail(request, motion_id: int = Path(..., ge=1, le=MAX_ID)):
    return _motion_detail(request.user, motion_id)


@router.post(
    "/motions/{motion_id}/open",
    response=MotionDetailOut,
    summary="Put a motion to the vote (over those checked in; a written consultation or owners: "
    "everyone invited)",
)
def motion_open(request, motion_id: int = Path(..., ge=1, le=MAX_ID)):
    motion = _managed_motion(request.user, motion_id)
    _run(services.motion_open_vote, actor=request.user, motion=motion)
    return _motion_detail(request.user, motion_id)


@router.post(
    "/motions/{motion_id}/close",
    response=MotionDetailOut,
    summary="Close the vote: the result is kept, and a resolution recorded when it passed",
)
def motion_close(request, motion_id: int = Path(..., ge=1, le=MAX_ID)):
    motion = _managed_motion(request.user, motion_id)
    _run(services.motion_close, actor=request.user, motion=motion)
    return _motion_detail(request.user, motion_id)


@router.post(
    "/motions/{motion_id}/cast",
    response={201: MotionCastOut},
    summary="Vote on an open decision on one's own phone: yes, no or abstain (409 if already)",
)
def motion_cast(request, payload: CastIn, motion_id: int = Path(..., ge=1, le=MAX_ID)):
    motion = selectors.motion_get(viewer=request.user, pk=motion_id)
    if payload.choice is None or motion.kind != MotionKind.DECISION:
        raise _field_error("choice", services.BAD_CHOICE)
    _run(services.motion_cast, actor=request.user, motion=motion, choice=payload.choice)
    return Status(201, {"motion_id": motion.pk, "vote_id": motion.vote_id, "counted": True})


@router.post(
    "/motions/{motion_id}/hands",
    response=HandsOut,
    summary="Record the answers given by show of hands, one per invitation present (staff)",
)
def motion_hands(request, payload: HandsIn, motion_id: int = Path(..., ge=1, le=MAX_ID)):
    motion = _managed_motion(request.user, motion_id)
    if motion.kind != MotionKind.DECISION:
        raise Http404
    if motion.state != MotionState.OPEN:
        raise _invalid(ValidationError(services.MOTION_NOT_OPEN))
    choices = {a.invitation_id: a.choice for a in payload.answers}
    if not choices:
        raise _field_error("answers", _("Choose an answer for at least one person."))
    recorded = _run(
        services.motion_record_hands, actor=request.user, motion=motion, choices=choices
    )
    return {"recorded": recorded, "refused": [str(m) for m in getattr(motion, "_refused", [])]}


@router.post(
    "/resolutions/{resolution_id}/publish",
    response=ResolutionOut,
    summary="Publish a resolution on the notice board (409 if already published)",
)
def resolution_publish(request, resolution_id: int = Path(..., ge=1, le=MAX_ID)):
    resolution = selectors.resolution_get(viewer=request.user, pk=resolution_id)
    if not selectors.can_manage(request.user, resolution.meeting):
        raise Http404
    _run(services.resolution_publish, actor=request.user, resolution=resolution)
    return _resolution(selectors.resolution_get(viewer=request.user, pk=resolution_id))
