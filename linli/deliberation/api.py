"""Topics API (/api/v1/topics/): topics the caller may see, raising one, backing (附议),
comments with reports, and the committee's answer, merge and hiding.

Scoped exactly like the pages: every topic is looked up through selectors.topic_get, so one
outside the caller's scope answers 404 like a missing one. Authors are named masked, as on the
public pages; committee staff see hidden comment bodies.
Errors: 403 forbidden (the caller sees the topic but may not do this), 404 not found,
422 invalid with details as [{loc, msg, type}] (including "already backed").
"""

import base64
import binascii
import datetime as dt
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.paginator import Paginator
from django.urls import reverse
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import AfterValidator

from linli.deliberation import selectors, services
from linli.deliberation.choices import AnswerKind, TopicCategory, TopicState
from linli.deliberation.models import (
    MAX_BODY,
    MAX_COMMENT,
    MAX_REASON,
    MAX_TITLE,
    Comment,
    Topic,
)
from linli.places.choices import PlaceKind
from linli.places.models import Place
from linli.workorders.models import Category

router = Router(tags=["topics"])

PER_PAGE = 50
MAX_ID = 2**31 - 1
MAX_PHOTO_B64 = (services.MAX_PHOTO_BYTES * 4) // 3 + 4


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


def _field_error(name: str, message) -> NinjaValidationError:
    return _invalid(ValidationError({name: [message]}))


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refuse it here rather than fail in the database.
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed.")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def _forbidden() -> ApiError:
    return ApiError(403, "You may not do this on this topic.", "forbidden")


# --- schemas ------------------------------------------------------------------------------------


class TopicOut(Schema):
    id: int
    committee_id: int
    committee_name: str
    compound_id: int | None
    compound_name: str | None
    title: str
    body: str
    category: str
    category_label: str
    state: str
    state_label: str
    support_count: int
    backed: bool
    threshold_reached_at: dt.datetime | None
    answer_kind: str
    answer: str
    answered_at: dt.datetime | None
    meeting_label: str
    work_order_id: int | None
    merged_into_id: int | None
    project_ref: str
    created_at: dt.datetime
    last_activity_at: dt.datetime


class TopicDetailOut(TopicOut):
    author_name: str
    support_unit: str
    support_threshold: int
    unit_backed: bool
    can_back: bool
    can_withdraw: bool
    can_comment: bool
    outcome: str
    photo_urls: list[str]


class TopicPageOut(Schema):
    count: int
    page: int
    pages: int
    results: list[TopicOut]


StateFilter = Literal[("", *TopicState.values)]  # type: ignore[valid-type]
CategoryFilter = Literal[("", *TopicCategory.values)]  # type: ignore[valid-type]


class TopicQuery(Schema):
    state: StateFilter = Field("", description="Empty: current topics (not merged or archived).")
    category: CategoryFilter = ""
    committee: int | None = Field(None, ge=1, le=MAX_ID)
    page: int = Field(1, ge=1, le=100_000)


class PhotoIn(Schema):
    content_type: Text = Field(..., max_length=64)
    data: Text = Field(..., description="The file, base64-encoded.")


class TopicIn(Schema):
    committee_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="Default: the caller's own committee."
    )
    compound_id: int | None = Field(None, ge=1, le=MAX_ID)
    title: Text = Field(..., max_length=MAX_TITLE)
    body: Text = Field(..., max_length=MAX_BODY)
    category: TopicCategory
    photos: list[PhotoIn] = Field([], max_length=services.MAX_PHOTOS)


class CommentOut(Schema):
    id: int
    parent_id: int | None
    author_name: str
    by_staff: bool
    state: str
    text: str = Field(..., description="The body, or for a hidden comment its public notice.")
    notice: str
    mine: bool
    reported: bool
    created_at: dt.datetime


class CommentIn(Schema):
    body: Text = Field("", max_length=MAX_COMMENT)
    parent_id: int | None = Field(None, ge=1, le=MAX_ID)


class ReasonIn(Schema):
    reason: Text = Field("", max_length=MAX_REASON)


class AnswerIn(Schema):
    kind: Literal[("", *AnswerKind.values)] = ""  # type: ignore[valid-type]
    text: Text = Field("", max_length=services.MAX_ANSWER)
    meeting_label: Text = Field("", max_length=services.MAX_MEETING_LABEL)
    category: Text = Field(
        "", max_length=16, description="Work-order service code, e.g. E0101 (when referring)."
    )


class MergeIn(Schema):
    into_id: int | None = Field(None, ge=1, le=MAX_ID)
    reason: Text = Field("", max_length=MAX_REASON)


# --- helpers ------------------------------------------------------------------------------------


def _topic(topic: Topic, backed: bool) -> dict:
    return {
        "id": topic.pk,
        "committee_id": topic.place_id,
        "committee_name": topic.place.name,
        "compound_id": topic.compound_id,
        "compound_name": topic.compound.name if topic.compound_id else None,
        "title": topic.title,
        "body": topic.body,
        "category": topic.category,
        "category_label": str(TopicCategory(topic.category).label),
        "state": topic.state,
        "state_label": str(TopicState(topic.state).label),
        "support_count": topic.support_count,
        "backed": backed,
        "threshold_reached_at": topic.threshold_reached_at,
        "answer_kind": topic.answer_kind,
        "answer": topic.answer,
        "answered_at": topic.answered_at,
        "meeting_label": topic.meeting_label,
        "work_order_id": topic.work_order_id,
        "merged_into_id": topic.merged_into_id,
        "project_ref": topic.project_ref,
        "created_at": topic.created_at,
        "last_activity_at": topic.last_activity_at,
    }


def _detail(user, topic_id: int) -> dict:
    topic = selectors.topic_get(viewer=user, pk=topic_id)
    page = selectors.topic_page(viewer=user, topic=topic)
    return {
        **_topic(topic, page.backed),
        "author_name": page.author_name,
        "support_unit": page.rules.support_unit,
        "support_threshold": page.rules.support_threshold,
        "unit_backed": page.unit_backed,
        "can_back": page.can_back,
        "can_withdraw": page.can_withdraw,
        "can_comment": page.can_comment,
        "outcome": topic.outcome,
        "photo_urls": [reverse("deliberation:photo", args=[topic.pk, p.pk]) for p in page.photos],
    }


def _comments(user, topic: Topic) -> list[dict]:
    rows = []
    for top in selectors.comments_for(viewer=user, topic=topic):
        for view in (top, *top.replies):
            c = view.comment
            rows.append(
                {
                    "id": c.pk,
                    "parent_id": c.parent_id,
                    "author_name": view.author_name,
                    "by_staff": c.by_staff,
                    "state": c.state,
                    "text": view.text,
                    "notice": view.notice,
                    "mine": view.mine,
                    "reported": view.reported,
                    "created_at": c.created_at,
                }
            )
    return rows


def _comment_out(user, topic: Topic, comment_id: int) -> dict:
    for row in _comments(user, topic):
        if row["id"] == comment_id:
            return row
    raise ApiError(404, "Not found.", "not_found")


def _photos(photos: list[PhotoIn]) -> list[SimpleUploadedFile]:
    files = []
    for index, photo in enumerate(photos):
        if len(photo.data) > MAX_PHOTO_B64:
            raise _field_error("photos", services.PHOTO_TOO_BIG)
        try:
            content = base64.b64decode(photo.data, validate=True)
        except (binascii.Error, ValueError):
            raise _field_error("photos", services.PHOTO_TYPE) from None
        files.append(
            SimpleUploadedFile(f"photo-{index}.jpg", content, content_type=photo.content_type)
        )
    return files


def _run(call):
    """A service call with its errors as the API's."""
    try:
        return call()
    except PermissionDenied:
        raise _forbidden() from None
    except ValidationError as error:
        raise _invalid(error) from None


# --- endpoints ----------------------------------------------------------------------------------


@router.get(
    "/",
    response=TopicPageOut,
    summary="Topics the caller may see, most recently active first, 50 a page",
)
def topic_list(request, query: Query[TopicQuery]):
    filters = selectors.TopicFilter(
        state=query.state, category=query.category, committee=query.committee
    )
    topics = selectors.topic_list(viewer=request.user, filters=filters)
    page = Paginator(topics, PER_PAGE).get_page(query.page)
    return {
        "count": page.paginator.count,
        "page": page.number,
        "pages": page.paginator.num_pages,
        "results": [_topic(t, t.backed) for t in page.object_list],
    }


@router.post(
    "/",
    response={201: TopicDetailOut},
    summary="Raise a topic (residents in their committee; committee staff)",
)
def topic_create(request, payload: TopicIn):
    user = request.user
    allowed = selectors.committees_for_raising(user)
    if payload.committee_id is not None:
        committee = allowed.filter(pk=payload.committee_id).first()
    else:
        own = list(allowed[:2])
        committee = own[0] if len(own) == 1 else None
    if committee is None:
        if not allowed.exists():
            raise _forbidden()
        raise _field_error("committee_id", services.COMMITTEE_REQUIRED)
    compound = None
    if payload.compound_id is not None:
        compound = Place.objects.filter(
            pk=payload.compound_id, kind=PlaceKind.COMPOUND, parent=committee
        ).first()
        if compound is None:
            raise _field_error("compound_id", services.COMPOUND_ELSEWHERE)
    photos = _photos(payload.photos)
    topic = _run(
        lambda: services.topic_raise(
            actor=user,
            committee=committee,
            title=payload.title,
            body=payload.body,
            category=payload.category,
            compound=compound,
            photos=photos,
        )
    )
    return Status(201, _detail(user, topic.pk))


@router.get("/{topic_id}", response=TopicDetailOut, summary="One topic, with the caller's backing")
def topic_detail(request, topic_id: int = Path(..., ge=1, le=MAX_ID)):
    return _detail(request.user, topic_id)


@router.post(
    "/{topic_id}/support",
    response=TopicDetailOut,
    summary="Back the topic (附议): once per household or person, as the committee counts",
)
def topic_support(request, topic_id: int = Path(..., ge=1, le=MAX_ID)):
    topic = selectors.topic_get(viewer=request.user, pk=topic_id)
    _run(lambda: services.topic_support(actor=request.user, topic=topic))
    return _detail(request.user, topic.pk)


@router.delete("/{topic_id}/support", response=TopicDetailOut, summary="Withdraw one's own backing")
def topic_support_withdraw(request, topic_id: int = Path(..., ge=1, le=MAX_ID)):
    topic = selectors.topic_get(viewer=request.user, pk=topic_id)
    _run(lambda: services.topic_support_withdraw(actor=request.user, topic=topic))
    return _detail(request.user, topic.pk)


@router.get(
    "/{topic_id}/comments",
    response=list[CommentOut],
    summary="The topic's comments in order (a reply names its parent_id)",
)
def topic_comment_list(request, topic_id: int = Path(..., ge=1, le=MAX_ID)):
    topic = selectors.topic_get(viewer=request.user, pk=topic_id)
    return _comments(request.user, topic)


@router.post(
    "/{topic_id}/comments", response={201: CommentOut}, summary="Comment, or reply to a comment"
)
def topic_comment_create(request, payload: CommentIn, topic_id: int = Path(..., ge=1, le=MAX_ID)):
    topic = selectors.topic_get(viewer=request.user, pk=topic_id)
    parent = None
    if payload.parent_id is not None:
        parent = Comment.objects.filter(pk=payload.parent_id, topic=topic).first()
        if parent is None:
            raise _field_error("parent_id", services.REPLY_ELSEWHERE)
    comment = _run(
        lambda: services.comment_post(
            actor=request.user, topic=topic, body=payload.body, parent=parent
        )
    )
    return Status(201, _comment_out(request.user, topic, comment.pk))


@router.post(
    "/{topic_id}/comments/{comment_id}/report",
    response=CommentOut,
    summary="Report a comment; enough distinct reports hide it pending review",
)
def topic_comment_report(
    request,
    payload: ReasonIn,
    topic_id: int = Path(..., ge=1, le=MAX_ID),
    comment_id: int = Path(..., ge=1, le=MAX_ID),
):
    topic = selectors.topic_get(viewer=request.user, pk=topic_id)
    comment = selectors.comment_get(topic=topic, pk=comment_id)
    _run(
        lambda: services.comment_report(actor=request.user, comment=comment, reason=payload.reason)
    )
    return _comment_out(request.user, topic, comment.pk)


@router.post(
    "/{topic_id}/comments/{comment_id}/hide",
    response=CommentOut,
    summary="Committee: hide a comment with a public reason",
)
def topic_comment_hide(
    request,
    payload: ReasonIn,
    topic_id: int = Path(..., ge=1, le=MAX_ID),
    comment_id: int = Path(..., ge=1, le=MAX_ID),
):
    topic = selectors.topic_get(viewer=request.user, pk=topic_id)
    comment = selectors.comment_get(topic=topic, pk=comment_id)
    _run(lambda: services.comment_hide(actor=request.user, comment=comment, reason=payload.reason))
    return _comment_out(request.user, topic, comment.pk)


@router.post(
    "/{topic_id}/answer",
    response=TopicDetailOut,
    summary="Committee: answer (accepted_to_agenda, referred with a category, declined with a "
    "reason)",
)
def topic_answer(request, payload: AnswerIn, topic_id: int = Path(..., ge=1, le=MAX_ID)):
    topic = selectors.topic_get(viewer=request.user, pk=topic_id)
    if not services.is_moderator(request.user, topic.place):
        raise _forbidden()
    category = None
    if payload.category:
        category = Category.objects.filter(service_code=payload.category, active=True).first()
        if category is None:
            raise _field_error("category", services.WORK_CATEGORY_REQUIRED)
    _run(
        lambda: services.topic_answer(
            actor=request.user,
            topic=topic,
            kind=payload.kind,
            text=payload.text,
            category=category,
            meeting_label=payload.meeting_label,
        )
    )
    return _detail(request.user, topic.pk)


@router.post(
    "/{topic_id}/merge",
    response=TopicDetailOut,
    summary="Committee: merge a duplicate into another topic; returns the topic merged into",
)
def topic_merge(request, payload: MergeIn, topic_id: int = Path(..., ge=1, le=MAX_ID)):
    topic = selectors.topic_get(viewer=request.user, pk=topic_id)
    if not services.is_moderator(request.user, topic.place):
        raise _forbidden()
    into = None
    if payload.into_id is not None:
        into = selectors.topics_visible(request.user).filter(pk=payload.into_id).first()
    if into is None:
        raise _field_error("into_id", services.MERGE_TARGET_REQUIRED)
    merged = _run(
        lambda: services.topic_merge(
            actor=request.user, topic=topic, into=into, reason=payload.reason
        )
    )
    return _detail(request.user, merged.pk)
