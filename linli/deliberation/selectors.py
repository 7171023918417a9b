"""Reads of topics and comments, always for a viewer.

- Residents see the topics of their own residents' committee (the one above their household).
- Staff see the topics under their places: `deliberation.view_topics` (committee, street
  self-governance office, district) or `deliberation.moderate` (committee staff).
A topic outside this answers 404 everywhere, exactly like a missing one.

On public pages authors are named masked (张*明); a hidden comment shows its public reason, a
comment hidden by reports a neutral notice; staff of the committee see every body.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.scoping import home_paths, user_can
from linli.core.scoping import collapse_prefixes, under_q
from linli.deliberation import perms
from linli.deliberation.choices import (
    ANSWERABLE_STATES,
    BACKABLE_STATES,
    MERGE_TARGET_STATES,
    PUT_AWAY_STATES,
    SILENT_STATES,
    AppealState,
    CommentState,
    SupportUnit,
    TopicState,
)
from linli.deliberation.models import (
    Appeal,
    Comment,
    CommentReport,
    CommitteeSettings,
    Support,
    Topic,
)
from linli.deliberation.services import (
    PENDING_NOTICE,
    household_under,
    is_committee_staff,
    is_moderator,
    settings_for,
)
from linli.people.pii import mask_name_public
from linli.places.choices import PlaceKind, level_path
from linli.places.models import Place

PER_PAGE = 20
# Every topic must be answered: the inbox lists those waiting longer than this.
UNANSWERED_AFTER_DAYS = 14
INBOX_LIMIT = 50
MAX_ID = 2**31 - 1
A_RESIDENT = _("A resident")
THE_COMMITTEE = _("The residents' committee")


def as_id(value) -> int:
    """A URL or query id, or 404 (never a 500 on garbage)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Http404 from None
    if not 1 <= number <= MAX_ID:
        raise Http404
    return number


def public_name(user, *, by_staff: bool = False) -> str:
    """How an author is named to residents: the committee, or a masked name."""
    if by_staff:
        return str(THE_COMMITTEE)
    if user is None:
        return str(A_RESIDENT)
    resident = getattr(user, "resident", None)
    name = (resident.name if resident is not None else user.display_name).strip()
    return mask_name_public(name) if name else str(A_RESIDENT)


# --- scope --------------------------------------------------------------------------------------


def resident_committee_ids(viewer) -> list[int]:
    """The committees above the viewer's households (where they live)."""
    ids = set()
    for path in home_paths(viewer):
        try:
            ids.add(int(level_path(path, PlaceKind.COMMITTEE)[-10:]))
        except ValueError:
            continue
    return sorted(ids)


def _staff_prefixes(viewer) -> list[str]:
    return collapse_prefixes(
        viewer.scope_prefixes(perms.VIEW_TOPICS) + viewer.scope_prefixes(perms.MODERATE)
    )


def _scope_q(viewer, field_prefix: str = "") -> Q | None:
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return None
    condition = Q(pk__in=[])
    found = False
    ids = resident_committee_ids(viewer)
    if ids:
        condition |= Q(**{f"{field_prefix}place_id__in": ids})
        found = True
    for prefix in _staff_prefixes(viewer):
        condition |= under_q(prefix, f"{field_prefix}path")
        found = True
    return condition if found else None


def topics_visible(viewer) -> QuerySet:
    """Every topic the viewer may open."""
    condition = _scope_q(viewer)
    if condition is None:
        return Topic.objects.none()
    return Topic.objects.filter(condition)


def committees_visible(viewer) -> QuerySet:
    """The committees whose topics the viewer sees (for the list's committee filter)."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return Place.objects.none()
    condition = Q(pk__in=resident_committee_ids(viewer))
    for prefix in _staff_prefixes(viewer):
        condition |= under_q(prefix)
    return Place.objects.filter(condition, kind=PlaceKind.COMMITTEE).order_by("path")


def committees_for_raising(viewer) -> QuerySet:
    """Where the viewer may raise a topic: their own committee, or those they staff."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return Place.objects.none()
    condition = Q(pk__in=resident_committee_ids(viewer))
    prefixes = viewer.scope_prefixes(perms.PARTICIPATE) + viewer.scope_prefixes(perms.MODERATE)
    for prefix in collapse_prefixes(prefixes):
        condition |= under_q(prefix)
    return Place.objects.filter(condition, kind=PlaceKind.COMMITTEE).order_by("path")


def committees_moderated(viewer) -> QuerySet:
    """Committees whose inbox the viewer keeps (moderators) or oversees (view_topics)."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return Place.objects.none()
    prefixes = _staff_prefixes(viewer)
    if not prefixes:
        return Place.objects.none()
    condition = Q(pk__in=[])
    for prefix in prefixes:
        condition |= under_q(prefix)
    return Place.objects.filter(condition, kind=PlaceKind.COMMITTEE).order_by("path")


def committee_get(*, viewer, pk, moderate: bool = False) -> Place:
    """A committee whose inbox (or, with moderate, settings) the viewer may open, else 404."""
    pk = as_id(pk)
    committee = Place.objects.filter(pk=pk, kind=PlaceKind.COMMITTEE).first()
    if committee is None:
        raise Http404
    allowed = (
        is_moderator(viewer, committee)
        if moderate
        else (is_moderator(viewer, committee) or user_can(viewer, perms.VIEW_TOPICS, committee))
    )
    if not allowed:
        raise Http404
    return committee


def is_overseer(viewer, topic: Topic) -> bool:
    """Staff who see everything of a topic (hidden bodies, reports): its moderators and those
    who view topics there."""
    return is_moderator(viewer, topic.place) or user_can(viewer, perms.VIEW_TOPICS, topic.place)


# --- lists --------------------------------------------------------------------------------------


@dataclass
class TopicFilter:
    state: str = ""
    category: str = ""
    committee: int | None = None
    q: str = ""


def topic_list(*, viewer, filters: TopicFilter) -> QuerySet:
    """The viewer's topics, most recently active first, with `backed` (the viewer backed it)
    and the committee and compound joined (one query per page)."""
    topics = topics_visible(viewer)
    if filters.state:
        topics = topics.filter(state=filters.state)
    else:
        topics = topics.exclude(state__in=PUT_AWAY_STATES)
    if filters.category:
        topics = topics.filter(category=filters.category)
    if filters.committee:
        topics = topics.filter(place_id=filters.committee)
    if filters.q:
        topics = topics.filter(Q(title__icontains=filters.q) | Q(body__icontains=filters.q))
    backed = Exists(Support.objects.filter(topic=OuterRef("pk"), user=viewer))
    return (
        topics.select_related("place", "compound")
        .annotate(backed=backed)
        .order_by("-last_activity_at", "-id")
    )


def thresholds(committee_ids) -> dict[int, CommitteeSettings]:
    """Each committee's rules (defaults for those without a row), in one query."""
    rows = {
        s.committee_id: s
        for s in CommitteeSettings.objects.filter(committee_id__in=set(committee_ids))
    }
    return {cid: rows.get(cid) or CommitteeSettings(committee_id=cid) for cid in set(committee_ids)}


def topic_get(*, viewer, pk) -> Topic:
    pk = as_id(pk)
    topic = (
        topics_visible(viewer)
        .select_related(
            "place",
            "compound",
            "author",
            "author__resident",
            "answered_by",
            "merged_into",
            "work_order",
        )
        .filter(pk=pk)
        .first()
    )
    if topic is None:
        raise Http404
    return topic


# --- the topic page -----------------------------------------------------------------------------


@dataclass
class CommentView:
    comment: Comment
    author_name: str
    text: str  # what this viewer reads in the comment's place
    notice: str  # why it is hidden, when it is
    body_shown: bool
    mine: bool
    reported: bool
    can_report: bool
    can_reply: bool
    can_appeal: bool
    open_appeal: Appeal | None
    replies: list["CommentView"] = field(default_factory=list)


@dataclass
class TopicPage:
    topic: Topic
    rules: CommitteeSettings
    author_name: str
    photos: list
    backed: bool
    unit_backed: bool  # the viewer's household backed it (when counting per household)
    can_back: bool
    can_withdraw: bool
    can_comment: bool
    moderator: bool
    overseer: bool
    progress: int  # percent of the threshold, 0–100
    comments: list[CommentView]
    merged_topics: list[Topic]


def _notice(comment: Comment) -> str:
    if comment.state == CommentState.HIDDEN:
        return comment.hidden_reason
    if comment.state == CommentState.PENDING_REVIEW:
        return str(PENDING_NOTICE)
    return ""


def comments_for(*, viewer, topic: Topic, overseer: bool | None = None) -> list[CommentView]:
    """The topic's comments, threaded one level, as this viewer reads them (three queries)."""
    if overseer is None:
        overseer = is_overseer(viewer, topic)
    participant = topic.state not in SILENT_STATES and (
        household_under(viewer, topic.place) is not None or is_committee_staff(viewer, topic.place)
    )
    comments = list(
        Comment.objects.filter(topic=topic)
        .select_related("author", "author__resident")
        .order_by("created_at", "id")[:1000]
    )
    ids = [c.pk for c in comments]
    reported = set(
        CommentReport.objects.filter(comment_id__in=ids, reporter=viewer).values_list(
            "comment_id", flat=True
        )
    )
    appeals = {
        a.comment_id: a
        for a in Appeal.objects.filter(comment_id__in=ids, state=AppealState.OPEN).select_related(
            "author"
        )
    }
    views: dict[int, CommentView] = {}
    top: list[CommentView] = []
    for c in comments:
        mine = c.author_id == viewer.pk
        visible = c.state == CommentState.VISIBLE
        body_shown = visible or overseer or mine
        view = CommentView(
            comment=c,
            author_name=(
                str(c.author)
                if overseer and c.author
                else public_name(c.author, by_staff=c.by_staff)
            ),
            text=c.body if body_shown else _notice(c),
            notice="" if visible else _notice(c),
            body_shown=body_shown,
            mine=mine,
            reported=c.pk in reported,
            can_report=participant and visible and not mine and c.pk not in reported,
            can_reply=participant and visible,
            can_appeal=mine and not visible and c.pk not in appeals,
            open_appeal=appeals.get(c.pk) if (mine or overseer) else None,
        )
        views[c.pk] = view
        if c.parent_id is None:
            top.append(view)
        elif c.parent_id in views:
            views[c.parent_id].replies.append(view)
    return top


def topic_page(*, viewer, topic: Topic) -> TopicPage:
    """Everything the topic page shows, for this viewer, in a bounded number of queries."""
    committee = topic.place
    rules = settings_for(committee)
    household_id = household_under(viewer, committee)
    own = Support.objects.filter(topic=topic, user=viewer).exists()
    unit_backed = own
    if not own and household_id is not None and rules.support_unit == SupportUnit.HOUSEHOLD:
        unit_backed = Support.objects.filter(topic=topic, unit_key=f"h:{household_id}").exists()
    backable = topic.state in BACKABLE_STATES
    moderator = is_moderator(viewer, committee)
    overseer = moderator or user_can(viewer, perms.VIEW_TOPICS, committee)
    threshold = max(1, rules.support_threshold)
    return TopicPage(
        topic=topic,
        rules=rules,
        author_name=(
            str(topic.author)
            if overseer and topic.author
            else public_name(topic.author, by_staff=topic.by_staff)
        ),
        photos=list(topic.photos.all()),
        backed=own,
        unit_backed=unit_backed,
        can_back=backable and household_id is not None and not unit_backed,
        can_withdraw=backable and own,
        can_comment=topic.state not in SILENT_STATES
        and (household_id is not None or is_committee_staff(viewer, committee)),
        moderator=moderator,
        overseer=overseer,
        progress=min(100, topic.support_count * 100 // threshold),
        comments=comments_for(viewer=viewer, topic=topic, overseer=overseer),
        merged_topics=list(topic.merged_topics.order_by("-id")[:20]),
    )


def merge_candidates(*, viewer, topic: Topic) -> QuerySet:
    """Topics of the same committee a duplicate may be merged into."""
    return (
        topics_visible(viewer)
        .filter(place_id=topic.place_id, state__in=MERGE_TARGET_STATES)
        .exclude(pk=topic.pk)
        .order_by("-last_activity_at", "-id")
    )


# --- the committee inbox ------------------------------------------------------------------------


@dataclass
class Inbox:
    committee: Place
    moderator: bool
    flagged: list[Topic]
    flagged_count: int
    unanswered: list[Topic]
    unanswered_count: int
    reported: list[Comment]
    reported_count: int
    appeals: list[Appeal]
    appeals_count: int
    older_than_days: int


def unanswered_topics(
    *, viewer, committee: Place, older_than_days: int = UNANSWERED_AFTER_DAYS, now=None
) -> QuerySet:
    """Topics still owed an answer, raised more than `older_than_days` ago, oldest first."""
    now = now or timezone.now()
    return (
        topics_visible(viewer)
        .filter(
            place=committee,
            state__in=ANSWERABLE_STATES,
            created_at__lt=now - dt.timedelta(days=older_than_days),
        )
        .select_related("compound")
        .order_by("created_at", "id")
    )


def committee_inbox(
    *, viewer, committee: Place, older_than_days: int = UNANSWERED_AFTER_DAYS, now=None
) -> Inbox:
    """What the committee must act on: topics with enough backing, topics waiting too long
    for an answer, reported comments and open appeals (each list capped, with its count)."""
    flagged = (
        topics_visible(viewer)
        .filter(place=committee, state=TopicState.ON_AGENDA_LIST)
        .select_related("compound")
        .order_by("threshold_reached_at", "id")
    )
    unanswered = unanswered_topics(
        viewer=viewer, committee=committee, older_than_days=older_than_days, now=now
    )
    reported = (
        Comment.objects.filter(topic__place=committee)
        .filter(
            Q(state=CommentState.PENDING_REVIEW) | Q(state=CommentState.VISIBLE, report_count__gt=0)
        )
        .select_related("topic", "author")
        .order_by("-report_count", "created_at", "id")
    )
    appeals = (
        Appeal.objects.filter(comment__topic__place=committee, state=AppealState.OPEN)
        .select_related("comment", "comment__topic", "author")
        .order_by("created_at", "id")
    )
    return Inbox(
        committee=committee,
        moderator=is_moderator(viewer, committee),
        flagged=list(flagged[:INBOX_LIMIT]),
        flagged_count=flagged.count(),
        unanswered=list(unanswered[:INBOX_LIMIT]),
        unanswered_count=unanswered.count(),
        reported=list(reported[:INBOX_LIMIT]),
        reported_count=reported.count(),
        appeals=list(appeals[:INBOX_LIMIT]),
        appeals_count=appeals.count(),
        older_than_days=older_than_days,
    )


def appeal_get(*, viewer, pk) -> Appeal:
    """An appeal the viewer may decide (a moderator of its committee), else 404."""
    pk = as_id(pk)
    appeal = (
        Appeal.objects.select_related(
            "comment", "comment__topic", "comment__topic__place", "comment__author", "author"
        )
        .filter(pk=pk)
        .first()
    )
    if appeal is None or not is_moderator(viewer, appeal.comment.topic.place):
        raise Http404
    return appeal


def comment_get(*, topic: Topic, pk) -> Comment:
    pk = as_id(pk)
    comment = Comment.objects.select_related("author").filter(pk=pk, topic=topic).first()
    if comment is None:
        raise Http404
    return comment
