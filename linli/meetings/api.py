"""Meetings API (/api/v1/meetings/): meetings the caller may see, their agenda and motions,
check-in, the live quorum and the resolutions.

Scoped exactly like the pages (selectors.meetings_visible): a meeting outside the caller's scope
answers 404 like a missing one. Invitees' names are given to staff only.
Errors: 403 forbidden, 409 already checked in, 422 invalid ([{loc, msg, type}]).
"""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import AfterValidator

from linli.meetings import selectors, services
from linli.meetings.choices import CheckInMethod, MeetingKind, MeetingState

router = Router(tags=["meetings"])

PER_PAGE = 50
MAX_ID = 2**31 - 1


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
    meeting = selectors.meeting_get(viewer=request.user, pk=meeting_id)
    invitation = services.invitation_of(request.user, meeting)
    return {
        **_meeting(meeting),
        "description": meeting.description,
        "agenda": [
            {
                "id": a.pk,
                "position": a.position,
                "title": a.title,
                "description": a.description,
                "topic_id": a.topic_id,
            }
            for a in meeting.agenda.order_by("position")
        ],
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
        "can_manage": selectors.can_manage(request.user, meeting),
    }


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
    return [
        {
            "id": r.pk,
            "motion_id": r.motion_id,
            "text": r.text,
            "passed": bool(((r.result or {}).get("outcome") or {}).get("passed")),
            "notice_id": r.notice_id,
            "published_at": r.published_at,
            "result": _public_result(r.result or {}),
        }
        for r in selectors.resolutions_of(meeting)
    ]


def _public_result(result: dict) -> dict:
    """The snapshot without anything naming a voter (counts, facts, the rule's answer)."""
    keys = ("entitled", "took_part", "counts", "facts", "outcome", "named", "state")
    return {k: result[k] for k in keys if k in result}
