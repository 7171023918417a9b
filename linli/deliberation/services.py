"""Writes to topics, backing and comments. Each service validates, writes, audits in one
transaction and sends its notifications after commit.

Who may do what, at a topic's residents' committee:
- residents (the resident role at a household under the committee) raise, back, comment,
  report and appeal; a resident of another committee is nobody here;
- committee staff (`deliberation.participate` at the committee) raise and comment;
- committee staff with `deliberation.moderate` answer, merge, refer, schedule, hide and restore
  comments, decide appeals and set the committee's rules.

Counters are race-safe: a backing locks its topic row (`select_for_update`) before counting, a
report locks its comment, and unique constraints catch what slips through (→ a clear message).
"""

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Role
from linli.accounts.scoping import home_paths, user_can
from linli.core.audit import audit_record, diff
from linli.core.photos import looks_like_image, photo_scrub
from linli.deliberation import perms
from linli.deliberation.choices import (
    ANSWERABLE_STATES,
    ARCHIVABLE_STATES,
    BACKABLE_STATES,
    MERGE_TARGET_STATES,
    REFERABLE_STATES,
    SILENT_STATES,
    UNDER_WAY_STATES,
    AnswerKind,
    AppealState,
    CommentState,
    SupportUnit,
    TopicCategory,
    TopicState,
)
from linli.deliberation.models import (
    DEFAULT_ARCHIVE_AFTER_DAYS,
    MAX_APPEAL,
    MAX_BODY,
    MAX_COMMENT,
    MAX_REASON,
    MAX_TITLE,
    Appeal,
    Comment,
    CommentReport,
    CommitteeSettings,
    Support,
    Topic,
    TopicPhoto,
)
from linli.places.choices import PlaceKind
from linli.places.models import Place

MIN_TITLE = 4
MIN_BODY = 10
MIN_COMMENT = 2
MIN_REASON = 5
MAX_ANSWER = 4000
MAX_MEETING_LABEL = 200
MAX_PHOTOS = 4
MAX_PHOTO_BYTES = 8 * 1024 * 1024
PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp"}
MAX_THRESHOLD = 10_000
MAX_HIDE_AFTER = 100
MAX_ARCHIVE_DAYS = 3650
STAFF_ROLES = (Role.COMMUNITY_WORKER, Role.COMMITTEE_DIRECTOR, Role.COMMITTEE_SECRETARY)

COMMITTEE_REQUIRED = _("Choose the residents' committee.")
COMPOUND_ELSEWHERE = _("This compound is not in the committee's area.")
TITLE_REQUIRED = _("Give the topic a short title (at least %(n)d characters).")
TITLE_TOO_LONG = _("A title has at most %(n)d characters.")
BODY_REQUIRED = _("Say what the topic is about (at least %(n)d characters).")
TEXT_TOO_LONG = _("At most %(n)d characters.")
CATEGORY_REQUIRED = _("Choose a category.")
TOO_MANY_PHOTOS = _("At most %(n)d photos.")
PHOTO_TOO_BIG = _("A photo may be at most 8 MB.")
PHOTO_TYPE = _("Photos must be JPEG, PNG or WebP pictures.")
NOT_BACKABLE = _("This topic no longer takes backing: it is “%(state)s”.")
ONLY_RESIDENTS_BACK = _("Only residents of this community can back its topics.")
ALREADY_BACKED = _("You have already backed this topic.")
HOUSEHOLD_ALREADY_BACKED = _(
    "Your household has already backed this topic (the committee counts one backing per household)."
)
NOT_BACKED = _("You have not backed this topic.")
MERGE_SELF = _("A topic cannot be merged into itself.")
MERGE_ELSEWHERE = _("Both topics must belong to the same residents' committee.")
MERGE_SOURCE_STATE = _("A topic that is “%(state)s” cannot be merged.")
MERGE_TARGET_STATE = _(
    "A topic can be merged only into one that is still open or under way; this one is “%(state)s”."
)
MERGE_TARGET_REQUIRED = _("Choose the topic to merge into.")
REASON_REQUIRED = _("Give the reason (at least %(n)d characters).")
ANSWER_KIND_REQUIRED = _(
    "Choose the answer: accept it to a meeting agenda, refer it as a work order, or decline it."
)
NOT_ANSWERABLE = _("This topic is “%(state)s”: it has been answered already.")
DECLINE_REASON_REQUIRED = _(
    "Say why the topic is declined (at least %(n)d characters): the residents will read it."
)
MEETING_LABEL_REQUIRED = _("Name the meeting.")
NOT_SCHEDULABLE = _("A topic that is “%(state)s” cannot be put on an agenda.")
NOT_REFERABLE = _("A topic that is “%(state)s” cannot be referred as a work order.")
ALREADY_REFERRED = _("This topic is already work order #%(number)s.")
WORK_CATEGORY_REQUIRED = _("Choose the work-order category.")
NOT_UNDER_WAY = _(
    "Only a topic on an agenda or referred as a work order can be marked done; this one is "
    "“%(state)s”."
)
TOPIC_SILENT = _("Comments are closed: the topic is “%(state)s”.")
COMMENT_REQUIRED = _("Write a comment (at least %(n)d characters).")
REPLY_ELSEWHERE = _("That comment belongs to another topic.")
REPLY_TO_HIDDEN = _("You cannot reply to a hidden comment.")
REPORT_OWN = _("You cannot report your own comment.")
ALREADY_REPORTED = _("You have already reported this comment.")
NOT_REPORTABLE = _("This comment is already hidden or under review.")
ALREADY_HIDDEN = _("This comment is already hidden.")
NOT_HIDDEN = _("This comment is not hidden.")
APPEAL_ONLY_AUTHOR = _("Only the author of a comment can appeal its hiding.")
APPEAL_NOT_HIDDEN = _("Only a hidden comment can be appealed.")
APPEAL_OPEN_ALREADY = _("An appeal for this comment is already awaiting a decision.")
APPEAL_TEXT_REQUIRED = _("Say why the comment should be shown (at least %(n)d characters).")
APPEAL_DECIDED = _("This appeal has been decided already.")
APPEAL_OWN = _("Someone else on the committee must decide an appeal about your own comment.")
DECISION_REQUIRED = _("Choose whether the appeal is upheld or rejected.")
NUMBER_RANGE = _("Give a whole number from 1 to %(n)d.")
UNIT_INVALID = _("Choose how backing is counted.")
# What the public sees in place of a comment hidden by reports (neutral: nobody is judged yet).
PENDING_NOTICE = _("Hidden pending review.")


# --- who is who ---------------------------------------------------------------------------------


def household_under(user, committee: Place) -> int | None:
    """The id of the user's household (place) under `committee`, if they live there."""
    for path in sorted(home_paths(user)):
        if path.startswith(committee.path):
            return int(path[-10:])
    return None


def is_moderator(user, committee: Place) -> bool:
    return user_can(user, perms.MODERATE, committee)


def is_committee_staff(user, committee: Place) -> bool:
    return user_can(user, perms.PARTICIPATE, committee) or is_moderator(user, committee)


def can_participate(user, committee: Place) -> bool:
    """Raise, comment and report here: residents living under it and the committee's staff."""
    return household_under(user, committee) is not None or is_committee_staff(user, committee)


def _require_moderator(actor, committee: Place) -> None:
    if actor is None or not is_moderator(actor, committee):
        raise PermissionDenied


def _role(actor, place: Place) -> str:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return "system"
    role = actor.audit_role(place)
    if not role and household_under(actor, place) is not None:
        role = Role.RESIDENT
    return role


def _audit(actor, action: str, obj, place: Place, changes=None, reason: str = "") -> None:
    audit_record(
        actor=actor,
        action=f"deliberation.{action}",
        obj=obj,
        place=place,
        changes=changes or {},
        reason=reason,
        role=_role(actor, place),
    )


def committee_staff_users(committee: Place) -> list:
    """The committee's staff accounts (workers, director, secretary), for alerts."""
    return list(
        get_user_model()
        .objects.filter(
            assignments__place=committee, assignments__role__in=STAFF_ROLES, is_active=True
        )
        .distinct()
        .order_by("pk")
    )


def settings_for(committee: Place) -> CommitteeSettings:
    """The committee's rules; an unsaved row of defaults when it has not set any."""
    found = CommitteeSettings.objects.filter(committee_id=committee.pk).first()
    return found or CommitteeSettings(committee=committee, path=committee.path)


# --- notifications ---------------------------------------------------------------------------


def _notify(*, users, kind: str, title: str, body: str = "", url: str = "") -> None:
    """In-app notifications written with the action (they roll back with it); notices.notify
    relays them to the senders after commit."""
    from linli.notices.services import notify

    recipients = [u for u in users if u is not None and u.is_active]
    if recipients:
        notify(users=recipients, kind=kind, title=str(title), body=str(body), url=url)


def _topic_url(topic: Topic) -> str:
    return reverse("deliberation:topic", args=[topic.pk])


# --- validation helpers -------------------------------------------------------------------------


def _text(value, *, minimum: int, maximum: int, short, field: str, errors: dict) -> str:
    text = (value or "").strip()
    if len(text) < minimum:
        errors[field] = [short % {"n": minimum}]
    elif len(text) > maximum:
        errors[field] = [TEXT_TOO_LONG % {"n": maximum}]
    return text


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def photos_clean(photos) -> list:
    """At most MAX_PHOTOS pictures that really decode as JPEG, PNG or WebP."""
    photos = [p for p in photos if p]
    errors = []
    if len(photos) > MAX_PHOTOS:
        errors.append(TOO_MANY_PHOTOS % {"n": MAX_PHOTOS})
    for photo in photos:
        if getattr(photo, "size", 0) > MAX_PHOTO_BYTES:
            errors.append(PHOTO_TOO_BIG)
        if getattr(photo, "content_type", "") not in PHOTO_TYPES or not looks_like_image(photo):
            errors.append(PHOTO_TYPE)
    if errors:
        raise ValidationError({"photos": sorted({str(e) for e in errors})})
    return photos


def _locked(topic: Topic) -> Topic:
    return Topic.objects.select_for_update(of=("self",)).select_related("place").get(pk=topic.pk)


def _state_label(state: str) -> str:
    return str(TopicState(state).label)


# --- topics -------------------------------------------------------------------------------------


@transaction.atomic
def topic_raise(
    *,
    actor,
    committee: Place,
    title: str,
    body: str,
    category: str,
    compound: Place | None = None,
    photos=(),
    now: dt.datetime | None = None,
) -> Topic:
    """A resident (in their own committee) or the committee's staff raises a topic."""
    if committee is None or committee.kind != PlaceKind.COMMITTEE:
        raise ValidationError({"committee": [COMMITTEE_REQUIRED]})
    household_id = household_under(actor, committee)
    staff = is_committee_staff(actor, committee)
    if household_id is None and not staff:
        raise PermissionDenied
    errors: dict = {}
    title = _text(
        title,
        minimum=MIN_TITLE,
        maximum=MAX_TITLE,
        short=TITLE_REQUIRED,
        field="title",
        errors=errors,
    )
    body = _text(
        body, minimum=MIN_BODY, maximum=MAX_BODY, short=BODY_REQUIRED, field="body", errors=errors
    )
    if category not in TopicCategory.values:
        errors["category"] = [CATEGORY_REQUIRED]
    if compound is not None and (
        compound.kind != PlaceKind.COMPOUND or compound.parent_id != committee.pk
    ):
        errors["compound"] = [COMPOUND_ELSEWHERE]
    try:
        photos = photos_clean(photos)
    except ValidationError as error:
        errors.update(error.message_dict)
    _raise(errors)
    now = now or timezone.now()
    topic = Topic(
        place=committee,
        compound=compound,
        path=(compound or committee).path,
        author=actor,
        author_household_id=household_id,
        by_staff=household_id is None,
        title=title,
        body=body,
        category=category,
        state=TopicState.OPEN,
        last_activity_at=now,
        created_at=now,
    )
    topic.full_clean()
    topic.save()
    for photo in photos:
        clean, content_type = photo_scrub(photo)
        TopicPhoto.objects.create(topic=topic, file=clean, content_type=content_type)
    _audit(
        actor,
        "topic.raise",
        topic,
        committee,
        {"title": title, "category": category, "photos": len(photos)},
    )
    return topic


def _flag(topic: Topic, now: dt.datetime) -> None:
    """The topic reached its committee's threshold: on the agenda list; staff are alerted."""
    topic.state = TopicState.ON_AGENDA_LIST
    topic.threshold_reached_at = now
    topic.save(update_fields=["state", "threshold_reached_at"])
    _notify(
        users=committee_staff_users(topic.place),
        kind="other",
        title=_t("A topic has enough backing for the agenda: %(title)s") % {"title": topic.title},
        body=_t("%(n)d backings. Answer it: accept it to an agenda, refer it, or decline it.")
        % {"n": topic.support_count},
        url=_topic_url(topic),
    )


@transaction.atomic
def topic_support(*, actor, topic: Topic, now: dt.datetime | None = None) -> Support:
    """A resident backs a topic (附议): once per unit the committee counts (household or
    person), also their own topic, while it is open or on the agenda list."""
    topic = _locked(topic)
    committee = topic.place
    household_id = household_under(actor, committee)
    if household_id is None:
        raise PermissionDenied(ONLY_RESIDENTS_BACK)
    if topic.state not in BACKABLE_STATES:
        raise ValidationError(NOT_BACKABLE % {"state": _state_label(topic.state)})
    rules = settings_for(committee)
    by_household = rules.support_unit == SupportUnit.HOUSEHOLD
    unit_key = f"h:{household_id}" if by_household else f"u:{actor.pk}"
    taken = Support.objects.filter(topic=topic, unit_key=unit_key).exists()
    if Support.objects.filter(topic=topic, user=actor).exists():
        raise ValidationError(ALREADY_BACKED)
    if taken:
        raise ValidationError(HOUSEHOLD_ALREADY_BACKED if by_household else ALREADY_BACKED)
    now = now or timezone.now()
    try:
        with transaction.atomic():
            support = Support.objects.create(
                topic=topic,
                user=actor,
                household_id=household_id,
                unit_key=unit_key,
                created_at=now,
            )
    except IntegrityError:
        # Two clicks at once: the database refused the second.
        raise ValidationError(
            HOUSEHOLD_ALREADY_BACKED if by_household else ALREADY_BACKED
        ) from None
    Topic.objects.filter(pk=topic.pk).update(
        support_count=F("support_count") + 1, last_activity_at=now
    )
    topic.refresh_from_db(fields=["support_count", "last_activity_at"])
    if topic.state == TopicState.OPEN and topic.support_count >= rules.support_threshold:
        _flag(topic, now)
    _audit(
        actor,
        "topic.support",
        topic,
        committee,
        {"unit": unit_key[0], "support_count": topic.support_count, "state": topic.state},
    )
    return support


@transaction.atomic
def topic_support_withdraw(*, actor, topic: Topic, now: dt.datetime | None = None) -> Topic:
    """Withdraw one's own backing while the topic still takes backing. A topic already on the
    agenda list stays there: reaching the threshold is an event, not a running total."""
    topic = _locked(topic)
    if topic.state not in BACKABLE_STATES:
        raise ValidationError(NOT_BACKABLE % {"state": _state_label(topic.state)})
    support = Support.objects.filter(topic=topic, user=actor).first()
    if support is None:
        raise ValidationError(NOT_BACKED)
    support.delete()
    now = now or timezone.now()
    Topic.objects.filter(pk=topic.pk).update(
        support_count=F("support_count") - 1, last_activity_at=now
    )
    topic.refresh_from_db(fields=["support_count", "last_activity_at"])
    _audit(
        actor, "topic.support_withdraw", topic, topic.place, {"support_count": topic.support_count}
    )
    return topic


@transaction.atomic
def topic_merge(
    *, actor, topic: Topic, into: Topic, reason: str, now: dt.datetime | None = None
) -> Topic:
    """Merge a duplicate into another topic of the same committee. Backings move over; a unit
    (household or person) that backed both counts once. Returns the topic merged into."""
    if into is None:
        raise ValidationError({"into": [MERGE_TARGET_REQUIRED]})
    if topic.pk == into.pk:
        raise ValidationError({"into": [MERGE_SELF]})
    _require_moderator(actor, topic.place)
    # Lock both rows in id order: two merges crossing each other cannot deadlock.
    locked = {
        t.pk: t
        for t in Topic.objects.select_for_update(of=("self",))
        .select_related("place")
        .filter(pk__in=[topic.pk, into.pk])
        .order_by("pk")
    }
    topic, into = locked[topic.pk], locked[into.pk]
    errors: dict = {}
    if into.place_id != topic.place_id:
        errors["into"] = [MERGE_ELSEWHERE]
    elif into.state not in MERGE_TARGET_STATES:
        errors["into"] = [MERGE_TARGET_STATE % {"state": _state_label(into.state)}]
    if topic.state not in ANSWERABLE_STATES:
        errors["topic"] = [MERGE_SOURCE_STATE % {"state": _state_label(topic.state)}]
    reason = _text(
        reason,
        minimum=MIN_REASON,
        maximum=MAX_REASON,
        short=REASON_REQUIRED,
        field="reason",
        errors=errors,
    )
    _raise(errors)
    now = now or timezone.now()
    kept_units = set(Support.objects.filter(topic=into).values_list("unit_key", flat=True))
    kept_users = set(Support.objects.filter(topic=into).values_list("user_id", flat=True))
    moved, dropped = [], []
    for support in Support.objects.filter(topic=topic).order_by("created_at", "id"):
        if support.unit_key in kept_units or support.user_id in kept_users:
            dropped.append(support.pk)
        else:
            moved.append(support.pk)
            kept_units.add(support.unit_key)
            kept_users.add(support.user_id)
    Support.objects.filter(pk__in=dropped).delete()
    Support.objects.filter(pk__in=moved).update(topic=into)
    into.support_count = Support.objects.filter(topic=into).count()
    into.last_activity_at = now
    into.save(update_fields=["support_count", "last_activity_at"])
    topic.state = TopicState.MERGED
    topic.merged_into = into
    topic.support_count = 0
    topic.answer = reason
    topic.answered_by = actor
    topic.answered_at = now
    topic.last_activity_at = now
    topic.save(
        update_fields=[
            "state",
            "merged_into",
            "support_count",
            "answer",
            "answered_by",
            "answered_at",
            "last_activity_at",
        ]
    )
    rules = settings_for(into.place)
    if into.state == TopicState.OPEN and into.support_count >= rules.support_threshold:
        _flag(into, now)
    _audit(
        actor,
        "topic.merge",
        topic,
        topic.place,
        {
            "into": into.pk,
            "moved": len(moved),
            "dropped": len(dropped),
            "into_count": into.support_count,
        },
        reason=reason,
    )
    title = _t("Topics merged: “%(old)s” → “%(new)s”") % {"old": topic.title, "new": into.title}
    _notify(
        users=[topic.author, into.author],
        kind="topic_answer",
        title=title,
        body=reason,
        url=_topic_url(into),
    )
    return into


def _answer_recipients(topic: Topic) -> list:
    """The author and everyone who backed the topic."""
    backers = list(get_user_model().objects.filter(topic_supports__topic=topic).order_by("pk"))
    return [topic.author, *backers]


def _record_answer(topic: Topic, *, actor, kind: str, text: str, now) -> None:
    topic.answer_kind = kind
    topic.answer = text
    topic.answered_by = actor
    topic.answered_at = now
    topic.last_activity_at = now


@transaction.atomic
def topic_answer(
    *,
    actor,
    topic: Topic,
    kind: str,
    text: str = "",
    category=None,
    meeting_label: str = "",
    now: dt.datetime | None = None,
) -> Topic:
    """The committee answers a topic: accepted to a meeting agenda (→ scheduled), referred as a
    work order (→ referred, via topic_refer with `category`), or declined with a public reason.
    The author and the backers are told."""
    _require_moderator(actor, topic.place)
    topic = _locked(topic)
    errors: dict = {}
    if kind not in AnswerKind.values:
        errors["kind"] = [ANSWER_KIND_REQUIRED]
    if topic.state not in ANSWERABLE_STATES:
        errors["kind"] = [NOT_ANSWERABLE % {"state": _state_label(topic.state)}]
    if kind == AnswerKind.DECLINED:
        text = _text(
            text,
            minimum=MIN_REASON,
            maximum=MAX_ANSWER,
            short=DECLINE_REASON_REQUIRED,
            field="text",
            errors=errors,
        )
    else:
        text = _text(
            text, minimum=0, maximum=MAX_ANSWER, short=TEXT_TOO_LONG, field="text", errors=errors
        )
    meeting_label = (meeting_label or "").strip()
    if len(meeting_label) > MAX_MEETING_LABEL:
        errors["meeting_label"] = [TEXT_TOO_LONG % {"n": MAX_MEETING_LABEL}]
    if kind == AnswerKind.REFERRED and category is None:
        errors["category"] = [WORK_CATEGORY_REQUIRED]
    _raise(errors)
    now = now or timezone.now()
    if kind == AnswerKind.REFERRED:
        return topic_refer(actor=actor, topic=topic, category=category, text=text, now=now)
    before = topic.state
    _record_answer(topic, actor=actor, kind=kind, text=text, now=now)
    if kind == AnswerKind.DECLINED:
        topic.state = TopicState.DECLINED
    else:
        topic.state = TopicState.SCHEDULED
        topic.meeting_label = meeting_label or topic.meeting_label
    topic.save()
    _audit(
        actor,
        "topic.answer",
        topic,
        topic.place,
        {"kind": kind, "state": {"old": before, "new": topic.state}},
        reason=text,
    )
    _notify(
        users=_answer_recipients(topic),
        kind="topic_answer",
        title=_t("The committee answered “%(title)s”: %(answer)s")
        % {"title": topic.title, "answer": AnswerKind(kind).label},
        body=text,
        url=_topic_url(topic),
    )
    return topic


@transaction.atomic
def topic_schedule(
    *, actor, topic: Topic, meeting_label: str, now: dt.datetime | None = None
) -> Topic:
    """The topic is on a meeting's agenda (the meetings app calls this when it adds it).
    Counts as the committee's answer when the topic had none; may move it to another meeting."""
    _require_moderator(actor, topic.place)
    topic = _locked(topic)
    meeting_label = (meeting_label or "").strip()
    if not meeting_label:
        raise ValidationError({"meeting_label": [MEETING_LABEL_REQUIRED]})
    if len(meeting_label) > MAX_MEETING_LABEL:
        raise ValidationError({"meeting_label": [TEXT_TOO_LONG % {"n": MAX_MEETING_LABEL}]})
    if topic.state not in (*ANSWERABLE_STATES, TopicState.SCHEDULED):
        raise ValidationError(NOT_SCHEDULABLE % {"state": _state_label(topic.state)})
    now = now or timezone.now()
    before = {"state": topic.state, "meeting_label": topic.meeting_label}
    answered_now = not topic.answer_kind
    if answered_now:
        _record_answer(topic, actor=actor, kind=AnswerKind.ACCEPTED_TO_AGENDA, text="", now=now)
    topic.state = TopicState.SCHEDULED
    topic.meeting_label = meeting_label
    topic.last_activity_at = now
    topic.save()
    _audit(
        actor,
        "topic.schedule",
        topic,
        topic.place,
        diff(before, {"state": topic.state, "meeting_label": meeting_label}),
    )
    if answered_now:
        _notify(
            users=_answer_recipients(topic),
            kind="topic_answer",
            title=_t("“%(title)s” is on the agenda of %(meeting)s")
            % {"title": topic.title, "meeting": meeting_label},
            url=_topic_url(topic),
        )
    return topic


def _topic_photos_as_uploads(topic: Topic) -> list:
    uploads = []
    for photo in topic.photos.all():
        with photo.file.open("rb") as fh:
            data = fh.read()
        name = photo.file.name.rsplit("/", 1)[-1]
        uploads.append(SimpleUploadedFile(name, data, content_type=photo.content_type))
    return uploads


@transaction.atomic
def topic_refer(
    *,
    actor,
    topic: Topic,
    category,
    text: str = "",
    now: dt.datetime | None = None,
) -> Topic:
    """Turn a topic into a work order (source: the committee) at the topic's compound or
    committee, with its photos; the topic keeps the link (`work_order`, and the order's
    `topics`)."""
    from linli.workorders.choices import Source
    from linli.workorders.services import Report, order_report

    _require_moderator(actor, topic.place)
    topic = _locked(topic)
    if topic.work_order_id:
        raise ValidationError(ALREADY_REFERRED % {"number": topic.work_order_id})
    if topic.state not in REFERABLE_STATES:
        raise ValidationError(NOT_REFERABLE % {"state": _state_label(topic.state)})
    if category is None:
        raise ValidationError({"category": [WORK_CATEGORY_REQUIRED]})
    errors: dict = {}
    text = _text(
        text, minimum=0, maximum=MAX_ANSWER, short=TEXT_TOO_LONG, field="text", errors=errors
    )
    _raise(errors)
    now = now or timezone.now()
    description = f"{topic.title}\n\n{topic.body}"
    order = order_report(
        actor=actor,
        report=Report(
            source=Source.COMMITTEE,
            description=description[:4000],
            category=category,
            place=topic.compound or topic.place,
            created_at=now,
            photos=_topic_photos_as_uploads(topic),
        ),
    )
    before = topic.state
    if not topic.answer_kind:
        _record_answer(topic, actor=actor, kind=AnswerKind.REFERRED, text=text, now=now)
    topic.work_order = order
    topic.state = TopicState.REFERRED
    topic.last_activity_at = now
    topic.save()
    _audit(
        actor,
        "topic.refer",
        topic,
        topic.place,
        {
            "work_order": order.pk,
            "category": category.service_code,
            "state": {"old": before, "new": topic.state},
        },
        reason=text,
    )
    _notify(
        users=_answer_recipients(topic),
        kind="topic_answer",
        title=_t("“%(title)s” was referred as work order #%(number)s")
        % {"title": topic.title, "number": order.pk},
        body=text,
        url=_topic_url(topic),
    )
    return topic


@transaction.atomic
def topic_done(*, actor, topic: Topic, outcome: str = "", now: dt.datetime | None = None) -> Topic:
    """The matter is settled: the meeting decided it, or the work order was handled."""
    _require_moderator(actor, topic.place)
    topic = _locked(topic)
    if topic.state not in UNDER_WAY_STATES:
        raise ValidationError(NOT_UNDER_WAY % {"state": _state_label(topic.state)})
    errors: dict = {}
    outcome = _text(
        outcome,
        minimum=0,
        maximum=MAX_ANSWER,
        short=TEXT_TOO_LONG,
        field="outcome",
        errors=errors,
    )
    _raise(errors)
    now = now or timezone.now()
    before = topic.state
    topic.state = TopicState.DONE
    topic.outcome = outcome
    topic.done_at = now
    topic.last_activity_at = now
    topic.save(update_fields=["state", "outcome", "done_at", "last_activity_at"])
    _audit(
        actor,
        "topic.done",
        topic,
        topic.place,
        {"state": {"old": before, "new": topic.state}},
        reason=outcome,
    )
    _notify(
        users=_answer_recipients(topic),
        kind="topic_answer",
        title=_t("“%(title)s” is done") % {"title": topic.title},
        body=outcome,
        url=_topic_url(topic),
    )
    return topic


def topics_archive(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Archive topics with no activity for their committee's archive period (open topics that
    never gathered enough backing, and declined or done ones). One transaction and one audit
    event per committee. Returns the counts."""
    now = now or timezone.now()
    committees = (
        Topic.objects.filter(state__in=ARCHIVABLE_STATES)
        .values_list("place_id", flat=True)
        .distinct()
        .order_by("place_id")
    )
    committee_ids = list(committees)
    periods = dict(
        CommitteeSettings.objects.filter(committee_id__in=committee_ids).values_list(
            "committee_id", "archive_after_days"
        )
    )
    places = Place.objects.in_bulk(committee_ids)
    archived = 0
    for committee_id in committee_ids:
        days = periods.get(committee_id, DEFAULT_ARCHIVE_AFTER_DAYS)
        cutoff = now - dt.timedelta(days=days)
        with transaction.atomic():
            ids = list(
                Topic.objects.select_for_update()
                .filter(
                    place_id=committee_id,
                    state__in=ARCHIVABLE_STATES,
                    last_activity_at__lt=cutoff,
                )
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            if not ids:
                continue
            Topic.objects.filter(pk__in=ids).update(state=TopicState.ARCHIVED)
            _audit(
                None,
                "topics.archive",
                None,
                places[committee_id],
                {"topics": ids, "after_days": days},
            )
            archived += len(ids)
    return {"committees": len(committee_ids), "archived": archived}


# --- comments -----------------------------------------------------------------------------------


@transaction.atomic
def comment_post(
    *,
    actor,
    topic: Topic,
    body: str,
    parent: Comment | None = None,
    now: dt.datetime | None = None,
) -> Comment:
    """A comment, or a reply (replies to a reply attach to the comment it answers)."""
    committee = topic.place
    if not can_participate(actor, committee):
        raise PermissionDenied
    topic = _locked(topic)
    if topic.state in SILENT_STATES:
        raise ValidationError(TOPIC_SILENT % {"state": _state_label(topic.state)})
    errors: dict = {}
    body = _text(
        body,
        minimum=MIN_COMMENT,
        maximum=MAX_COMMENT,
        short=COMMENT_REQUIRED,
        field="body",
        errors=errors,
    )
    if parent is not None:
        if parent.topic_id != topic.pk:
            errors["parent"] = [REPLY_ELSEWHERE]
        elif parent.state != CommentState.VISIBLE:
            errors["parent"] = [REPLY_TO_HIDDEN]
        elif parent.parent_id is not None:
            parent = parent.parent
    _raise(errors)
    now = now or timezone.now()
    comment = Comment.objects.create(
        topic=topic,
        author=actor,
        by_staff=household_under(actor, committee) is None,
        parent=parent,
        body=body,
        created_at=now,
    )
    Topic.objects.filter(pk=topic.pk).update(last_activity_at=now)
    _audit(
        actor,
        "comment.post",
        comment,
        committee,
        {"topic": topic.pk, "reply_to": parent and parent.pk},
    )
    return comment


def _locked_comment(comment: Comment) -> Comment:
    return (
        Comment.objects.select_for_update(of=("self",))
        .select_related("topic", "topic__place", "author")
        .get(pk=comment.pk)
    )


@transaction.atomic
def comment_report(
    *, actor, comment: Comment, reason: str = "", now: dt.datetime | None = None
) -> Comment:
    """Flag a comment. When as many distinct residents as the committee set have reported it,
    it is hidden pending review (the public sees a neutral notice) and its author is told."""
    comment = _locked_comment(comment)
    committee = comment.topic.place
    if not can_participate(actor, committee):
        raise PermissionDenied
    if comment.author_id == actor.pk:
        raise ValidationError(REPORT_OWN)
    if comment.state != CommentState.VISIBLE:
        raise ValidationError(NOT_REPORTABLE)
    errors: dict = {}
    reason = _text(
        reason, minimum=0, maximum=MAX_REASON, short=TEXT_TOO_LONG, field="reason", errors=errors
    )
    _raise(errors)
    now = now or timezone.now()
    if CommentReport.objects.filter(comment=comment, reporter=actor).exists():
        raise ValidationError(ALREADY_REPORTED)
    try:
        with transaction.atomic():
            CommentReport.objects.create(
                comment=comment, reporter=actor, reason=reason, created_at=now
            )
    except IntegrityError:
        raise ValidationError(ALREADY_REPORTED) from None
    Comment.objects.filter(pk=comment.pk).update(report_count=F("report_count") + 1)
    comment.refresh_from_db(fields=["report_count"])
    rules = settings_for(committee)
    if comment.report_count >= rules.hide_after_reports:
        comment.state = CommentState.PENDING_REVIEW
        comment.hidden_at = now
        comment.save(update_fields=["state", "hidden_at"])
        _notify(
            users=[comment.author],
            kind="comment_hidden",
            title=_t("Your comment on “%(title)s” is hidden pending review")
            % {"title": comment.topic.title},
            body=_t(
                "Several residents reported it. The committee will look at it; you may appeal."
            ),
            url=_topic_url(comment.topic),
        )
    _audit(
        actor,
        "comment.report",
        comment,
        committee,
        {"reports": comment.report_count, "state": comment.state},
        reason=reason,
    )
    return comment


@transaction.atomic
def comment_hide(
    *, actor, comment: Comment, reason: str, now: dt.datetime | None = None
) -> Comment:
    """The committee hides a comment; the reason is shown publicly in its place."""
    comment = _locked_comment(comment)
    committee = comment.topic.place
    _require_moderator(actor, committee)
    if comment.state == CommentState.HIDDEN:
        raise ValidationError(ALREADY_HIDDEN)
    errors: dict = {}
    reason = _text(
        reason,
        minimum=MIN_REASON,
        maximum=MAX_REASON,
        short=REASON_REQUIRED,
        field="reason",
        errors=errors,
    )
    _raise(errors)
    now = now or timezone.now()
    before = comment.state
    comment.state = CommentState.HIDDEN
    comment.hidden_reason = reason
    comment.hidden_by = actor
    comment.hidden_at = now
    comment.save(update_fields=["state", "hidden_reason", "hidden_by", "hidden_at"])
    _audit(
        actor,
        "comment.hide",
        comment,
        committee,
        {"state": {"old": before, "new": comment.state}},
        reason=reason,
    )
    _notify(
        users=[comment.author],
        kind="comment_hidden",
        title=_t("Your comment on “%(title)s” was hidden") % {"title": comment.topic.title},
        body=reason,
        url=_topic_url(comment.topic),
    )
    return comment


def _restore(comment: Comment) -> None:
    comment.state = CommentState.VISIBLE
    comment.hidden_reason = ""
    comment.hidden_by = None
    comment.hidden_at = None
    comment.report_count = 0
    comment.save(update_fields=["state", "hidden_reason", "hidden_by", "hidden_at", "report_count"])
    # Reviewed reports no longer count; their reporters do not report the same comment twice.
    CommentReport.objects.filter(comment=comment).update(cleared=True)


@transaction.atomic
def comment_restore(
    *, actor, comment: Comment, note: str = "", now: dt.datetime | None = None
) -> Comment:
    """The committee shows a hidden comment again, or dismisses the reports on a visible one;
    either way the reports so far are reviewed and stop counting."""
    comment = _locked_comment(comment)
    committee = comment.topic.place
    _require_moderator(actor, committee)
    if comment.state == CommentState.VISIBLE and comment.report_count == 0:
        raise ValidationError(NOT_HIDDEN)
    before = comment.state
    _restore(comment)
    Appeal.objects.filter(comment=comment, state=AppealState.OPEN).update(
        state=AppealState.UPHELD,
        decided_by=actor,
        decided_at=now or timezone.now(),
        decision_note=(note or "")[:MAX_REASON],
    )
    _audit(
        actor,
        "comment.restore",
        comment,
        committee,
        {"state": {"old": before, "new": comment.state}},
        reason=note,
    )
    return comment


@transaction.atomic
def appeal_file(*, actor, comment: Comment, text: str, now: dt.datetime | None = None) -> Appeal:
    """The author of a hidden comment asks the committee to show it again."""
    comment = _locked_comment(comment)
    if actor is None or comment.author_id != actor.pk:
        raise PermissionDenied(APPEAL_ONLY_AUTHOR)
    if comment.state == CommentState.VISIBLE:
        raise ValidationError(APPEAL_NOT_HIDDEN)
    errors: dict = {}
    text = _text(
        text,
        minimum=MIN_REASON,
        maximum=MAX_APPEAL,
        short=APPEAL_TEXT_REQUIRED,
        field="text",
        errors=errors,
    )
    _raise(errors)
    if Appeal.objects.filter(comment=comment, state=AppealState.OPEN).exists():
        raise ValidationError(APPEAL_OPEN_ALREADY)
    now = now or timezone.now()
    try:
        with transaction.atomic():
            appeal = Appeal.objects.create(comment=comment, author=actor, text=text, created_at=now)
    except IntegrityError:
        raise ValidationError(APPEAL_OPEN_ALREADY) from None
    _audit(actor, "appeal.file", appeal, comment.topic.place, {"comment": comment.pk})
    return appeal


@transaction.atomic
def appeal_decide(
    *, actor, appeal: Appeal, upheld: bool | None, note: str, now: dt.datetime | None = None
) -> Appeal:
    """Decide an appeal. Upheld: the comment is shown again. Rejected: it stays hidden, and a
    comment hidden only by reports is now hidden with the decision as its public reason."""
    appeal = (
        Appeal.objects.select_for_update(of=("self",))
        .select_related("comment", "comment__topic", "comment__topic__place")
        .get(pk=appeal.pk)
    )
    comment = _locked_comment(appeal.comment)
    committee = comment.topic.place
    _require_moderator(actor, committee)
    if appeal.author_id == actor.pk:
        raise PermissionDenied(APPEAL_OWN)
    if appeal.state != AppealState.OPEN:
        raise ValidationError(APPEAL_DECIDED)
    errors: dict = {}
    if upheld is None:
        errors["upheld"] = [DECISION_REQUIRED]
    note = _text(
        note,
        minimum=MIN_REASON,
        maximum=MAX_REASON,
        short=REASON_REQUIRED,
        field="note",
        errors=errors,
    )
    _raise(errors)
    now = now or timezone.now()
    appeal.state = AppealState.UPHELD if upheld else AppealState.REJECTED
    appeal.decided_by = actor
    appeal.decided_at = now
    appeal.decision_note = note
    appeal.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
    if upheld:
        _restore(comment)
    elif comment.state == CommentState.PENDING_REVIEW:
        comment.state = CommentState.HIDDEN
        comment.hidden_reason = note
        comment.hidden_by = actor
        comment.hidden_at = now
        comment.save(update_fields=["state", "hidden_reason", "hidden_by", "hidden_at"])
    _audit(
        actor,
        "appeal.decide",
        appeal,
        committee,
        {"state": appeal.state, "comment": comment.pk, "comment_state": comment.state},
        reason=note,
    )
    _notify(
        users=[appeal.author],
        kind="other",
        title=_t("Your appeal about a comment on “%(title)s”: %(decision)s")
        % {"title": comment.topic.title, "decision": AppealState(appeal.state).label},
        body=note,
        url=_topic_url(comment.topic),
    )
    return appeal


# --- committee settings -------------------------------------------------------------------------


@transaction.atomic
def committee_settings_update(
    *,
    actor,
    committee: Place,
    support_unit: str,
    support_threshold: int,
    hide_after_reports: int,
    archive_after_days: int,
    now: dt.datetime | None = None,
) -> CommitteeSettings:
    """Set how the committee counts backing, hides reported comments and archives quiet topics.
    Open topics already at a lowered threshold go on the agenda list at once."""
    if committee is None or committee.kind != PlaceKind.COMMITTEE:
        raise ValidationError({"committee": [COMMITTEE_REQUIRED]})
    _require_moderator(actor, committee)
    errors: dict = {}
    if support_unit not in SupportUnit.values:
        errors["support_unit"] = [UNIT_INVALID]
    for name, value, top in (
        ("support_threshold", support_threshold, MAX_THRESHOLD),
        ("hide_after_reports", hide_after_reports, MAX_HIDE_AFTER),
        ("archive_after_days", archive_after_days, MAX_ARCHIVE_DAYS),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= top:
            errors[name] = [NUMBER_RANGE % {"n": top}]
    _raise(errors)
    now = now or timezone.now()
    row = CommitteeSettings.objects.select_for_update().filter(
        committee=committee
    ).first() or CommitteeSettings(committee=committee, path=committee.path)
    fields = ("support_unit", "support_threshold", "hide_after_reports", "archive_after_days")
    before = {f: getattr(row, f) for f in fields} if row.pk else {}
    row.support_unit = support_unit
    row.support_threshold = support_threshold
    row.hide_after_reports = hide_after_reports
    row.archive_after_days = archive_after_days
    row.path = committee.path
    row.updated_at = now
    row.updated_by = actor
    row.full_clean()
    row.save()
    after = {f: getattr(row, f) for f in fields}
    flagged = []
    for topic in (
        Topic.objects.select_for_update(of=("self",))
        .select_related("place")
        .filter(place=committee, state=TopicState.OPEN, support_count__gte=support_threshold)
        .order_by("pk")
    ):
        _flag(topic, now)
        flagged.append(topic.pk)
    _audit(
        actor,
        "settings.update",
        row,
        committee,
        {**diff(before, after), **({"flagged": flagged} if flagged else {})},
    )
    return row
