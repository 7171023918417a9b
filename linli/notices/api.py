"""Notice-board API (/api/v1/notices/).

Public, without a token (the board is public like the physical one): a board's current notices,
its archive, one notice with the answers to its objections. Never who objected.
Signed-in: file an objection, the caller's notifications (list, mark read).
Staff (`notices.publish`): publish, their notices, the objection inbox with authors, answer,
withdraw; objects outside their places answer 404 like missing ones.
Errors: 403 forbidden, 404 not_found, 422 invalid with details as [{loc, msg, type}].
"""

import datetime as dt
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import AfterValidator

from linli.notices import selectors, services
from linli.notices.choices import NoticeKind, NotificationKind, ObjectionState
from linli.notices.models import Notice, Objection

router = Router(tags=["notices"])

MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


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


def _forbidden(error: PermissionDenied) -> ApiError:
    return ApiError(403, str(error) or "You may not do this.", "forbidden")


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refuse it here rather than fail in the database.
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed.")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]


# --- schemas ----------------------------------------------------------------------------------


class PlaceOut(Schema):
    id: int
    kind: str
    name: str


class NoticeOut(Schema):
    id: int
    place_id: int
    place_name: str
    kind: NoticeKind
    kind_label: str
    title: str
    body: str = Field(..., description="Plain text; blank lines separate paragraphs.")
    source: str
    published_at: dt.datetime
    window_until: dt.datetime = Field(
        ..., description="When the objection window closes (midnight after its last day)."
    )
    last_day: dt.date
    window_open: bool
    withdrawn: bool
    withdrawn_at: dt.datetime | None
    withdraw_reason: str
    objection_count: int
    answered_count: int


class StaffNoticeOut(NoticeOut):
    open_count: int


class AnswerOut(Schema):
    id: int
    answer: str
    answered_at: dt.datetime


class NoticeDetailOut(NoticeOut):
    answers: list[AnswerOut] = Field(..., description="Answers to objections, without authors.")


class BoardOut(Schema):
    place: PlaceOut
    notices: list[NoticeOut]


class NoticePageOut(Schema):
    count: int
    page: int
    pages: int
    results: list[NoticeOut]


class StaffNoticePageOut(Schema):
    count: int
    page: int
    pages: int
    results: list[StaffNoticeOut]


class ObjectionOut(Schema):
    id: int
    notice_id: int
    state: ObjectionState
    text: str
    created_at: dt.datetime
    answer: str
    answered_at: dt.datetime | None


class StaffObjectionOut(ObjectionOut):
    notice_title: str
    place_name: str
    author_id: int | None
    author_name: str


class ObjectionPageOut(Schema):
    count: int
    page: int
    pages: int
    results: list[StaffObjectionOut]


class NotificationOut(Schema):
    id: int
    kind: NotificationKind
    title: str
    body: str
    url: str
    created_at: dt.datetime
    read_at: dt.datetime | None


class NotificationPageOut(Schema):
    count: int
    unread: int
    page: int
    pages: int
    results: list[NotificationOut]


class PageQuery(Schema):
    page: int = Field(1, ge=1, le=100_000)


class NotificationQuery(PageQuery):
    unread: bool = Field(False, description="Only the unread ones.")


ObjectionFilter = Literal[("", "all", *ObjectionState.values)]  # type: ignore[valid-type]


class ObjectionQuery(PageQuery):
    state: ObjectionFilter = Field("open", description="open (default), answered or all.")


class ObjectionIn(Schema):
    text: Text = Field("", max_length=services.MAX_OBJECTION * 2, description="5 to 1,000 chars.")


class ReadIn(Schema):
    ids: list[Id] | None = Field(
        None, max_length=500, description="The notifications to mark read; omit for all."
    )


class UnreadOut(Schema):
    marked: int
    unread: int


class PublishIn(Schema):
    kind: NoticeKind | None = Field(None, description="Required.")
    title: Text = Field("", max_length=services.MAX_TITLE * 2, description="2 to 200 chars.")
    body: Text = Field("", max_length=services.MAX_BODY * 2, description="Plain text.")
    window_days: int = Field(services.DEFAULT_WINDOW_DAYS, ge=1, le=services.MAX_WINDOW_DAYS)
    starts_at: dt.datetime | None = Field(None, description="Schedule it; omit for now.")
    source: Text = Field("", max_length=services.MAX_SOURCE)


class AnswerIn(Schema):
    answer: Text = Field("", max_length=services.MAX_ANSWER * 2, description="Public.")


class WithdrawIn(Schema):
    reason: Text = Field("", max_length=services.MAX_REASON * 2, description="Public.")


# --- helpers ----------------------------------------------------------------------------------


def _notice(notice: Notice, now: dt.datetime) -> dict:
    data = {
        "id": notice.pk,
        "place_id": notice.place_id,
        "place_name": notice.place.name,
        "kind": notice.kind,
        "kind_label": str(NoticeKind(notice.kind).label),
        "title": notice.title,
        "body": notice.body,
        "source": notice.source,
        "published_at": notice.published_at,
        "window_until": notice.window_until,
        "last_day": notice.last_day,
        "window_open": notice.window_open(now),
        "withdrawn": notice.withdrawn,
        "withdrawn_at": notice.withdrawn_at,
        "withdraw_reason": notice.withdraw_reason,
        "objection_count": getattr(notice, "objection_count", 0),
        "answered_count": getattr(notice, "answered_count", 0),
    }
    if hasattr(notice, "open_count"):
        data["open_count"] = notice.open_count
    return data


def _objection(objection: Objection, *, staff: bool = False) -> dict:
    data = {
        "id": objection.pk,
        "notice_id": objection.notice_id,
        "state": objection.state,
        "text": objection.text,
        "created_at": objection.created_at,
        "answer": objection.answer,
        "answered_at": objection.answered_at,
    }
    if staff:
        author = objection.author
        data |= {
            "notice_title": objection.notice.title,
            "place_name": objection.notice.place.name,
            "author_id": objection.author_id,
            "author_name": str(author) if author is not None else "",
        }
    return data


def _page(page, rows: list) -> dict:
    return {
        "count": page.paginator.count,
        "page": page.number,
        "pages": page.paginator.num_pages,
        "results": rows,
    }


# --- public -----------------------------------------------------------------------------------


@router.get(
    "/boards/{board_id}",
    auth=None,
    response=BoardOut,
    summary="A board's current notices, newest first (public, no sign-in)",
)
def notices_board(request, board_id: int = Path(..., ge=1, le=MAX_ID)):
    place = selectors.board_place(board_id)
    now = timezone.now()
    return {
        "place": {"id": place.pk, "kind": place.kind, "name": place.name},
        "notices": [_notice(n, now) for n in selectors.board_notices(place=place, now=now)],
    }


@router.get(
    "/boards/{board_id}/archive",
    auth=None,
    response=NoticePageOut,
    summary="A board's earlier notices, 20 a page (public)",
)
def notices_board_archive(
    request, query: Query[PageQuery], board_id: int = Path(..., ge=1, le=MAX_ID)
):
    place = selectors.board_place(board_id)
    now = timezone.now()
    page = selectors.board_archive_page(place=place, page=query.page, now=now)
    return _page(page, [_notice(n, now) for n in page.object_list])


@router.get(
    "/notices/{notice_id}",
    auth=None,
    response=NoticeDetailOut,
    summary="One published notice with the answers to its objections (public)",
)
def notices_notice(request, notice_id: int = Path(..., ge=1, le=MAX_ID)):
    notice = selectors.notice_get_public(notice_id)
    return {
        **_notice(notice, timezone.now()),
        "answers": selectors.public_answers(notice=notice),
    }


# --- signed in --------------------------------------------------------------------------------


@router.post(
    "/notices/{notice_id}/objections",
    response={201: ObjectionOut},
    summary="Object to a notice within its window (residents of its community)",
)
def notices_objection_create(
    request, payload: ObjectionIn, notice_id: int = Path(..., ge=1, le=MAX_ID)
):
    notice = selectors.notice_get_public(notice_id)
    try:
        objection = services.objection_file(actor=request.user, notice=notice, text=payload.text)
    except PermissionDenied as error:
        raise _forbidden(error) from None
    except ValidationError as error:
        raise _invalid(error) from None
    return Status(201, _objection(objection))


@router.get(
    "/notifications",
    response=NotificationPageOut,
    summary="The caller's notifications, newest first, 30 a page",
)
def notices_notification_list(request, query: Query[NotificationQuery]):
    page = selectors.notifications_page(
        user=request.user, page=query.page, unread_only=query.unread
    )
    return {
        **_page(page, list(page.object_list)),
        "unread": selectors.unread_count(user=request.user),
    }


@router.post(
    "/notifications/read",
    response=UnreadOut,
    summary="Mark the caller's notifications read (the ids given, or all)",
)
def notices_notification_read(request, payload: ReadIn):
    marked = services.notifications_read(actor=request.user, ids=payload.ids)
    return {"marked": marked, "unread": selectors.unread_count(user=request.user)}


# --- staff ------------------------------------------------------------------------------------


@router.post(
    "/places/{place_id}/notices",
    response={201: NoticeOut},
    summary="Publish a notice on a board (notices.publish at the place)",
)
def notices_publish(request, payload: PublishIn, place_id: int = Path(..., ge=1, le=MAX_ID)):
    place = selectors.publish_place_get(viewer=request.user, pk=place_id)
    try:
        notice = services.notice_publish(
            actor=request.user,
            place=place,
            kind=payload.kind or "",
            title=payload.title,
            body=payload.body,
            window_days=payload.window_days,
            starts_at=payload.starts_at,
            source=payload.source,
        )
    except PermissionDenied as error:
        raise _forbidden(error) from None
    except ValidationError as error:
        raise _invalid(error) from None
    notice = selectors.staff_notice_get(viewer=request.user, pk=notice.pk)
    return Status(201, _notice(notice, timezone.now()))


@router.get(
    "/manage/notices",
    response=StaffNoticePageOut,
    summary="Notices on the boards where the caller publishes, with objection counts",
)
def notices_staff_list(request, query: Query[PageQuery]):
    page = selectors.staff_notices_page(viewer=request.user, page=query.page)
    now = timezone.now()
    return _page(page, [_notice(n, now) for n in page.object_list])


@router.post(
    "/manage/notices/{notice_id}/withdraw",
    response=StaffNoticeOut,
    summary="Withdraw a notice (it stays on the board, marked, with the public reason)",
)
def notices_withdraw(request, payload: WithdrawIn, notice_id: int = Path(..., ge=1, le=MAX_ID)):
    notice = selectors.staff_notice_get(viewer=request.user, pk=notice_id)
    try:
        services.notice_withdraw(actor=request.user, notice=notice, reason=payload.reason)
    except PermissionDenied as error:
        raise _forbidden(error) from None
    except ValidationError as error:
        raise _invalid(error) from None
    notice = selectors.staff_notice_get(viewer=request.user, pk=notice_id)
    return _notice(notice, timezone.now())


@router.get(
    "/manage/objections",
    response=ObjectionPageOut,
    summary="Objections on the caller's boards, with who filed them (staff only)",
)
def notices_objection_list(request, query: Query[ObjectionQuery]):
    state = query.state if query.state in ObjectionState.values else None
    page = selectors.objections_page(viewer=request.user, state=state, page=query.page)
    return _page(page, [_objection(o, staff=True) for o in page.object_list])


@router.post(
    "/manage/objections/{objection_id}/answer",
    response=StaffObjectionOut,
    summary="Answer an objection (the answer is published on the board)",
)
def notices_objection_answer(
    request, payload: AnswerIn, objection_id: int = Path(..., ge=1, le=MAX_ID)
):
    objection = selectors.objection_get(viewer=request.user, pk=objection_id)
    try:
        services.objection_answer(actor=request.user, objection=objection, answer=payload.answer)
    except PermissionDenied as error:
        raise _forbidden(error) from None
    except ValidationError as error:
        raise _invalid(error) from None
    return _objection(selectors.objection_get(viewer=request.user, pk=objection_id), staff=True)
