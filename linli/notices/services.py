"""Writes of the notice board (publish, withdraw, objections and their answers) and of
notifications.

Everything on a board is public, so text that reaches it (title, body, withdrawal reason,
answers to objections) is refused when it carries an ID number or a mobile number
(pii_scan). Notifications are rows in the user's inbox; after the transaction commits, a task
hands them to the configured senders (senders.py), each of which may fail alone.
"""

import datetime as dt
import logging
from collections.abc import Iterable
from functools import partial

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import ROLE_PERMS
from linli.accounts.scoping import home_paths, user_can
from linli.core.audit import audit_record
from linli.notices import pii_scan
from linli.notices.choices import BOARD_KINDS, NoticeKind, NotificationKind, ObjectionState
from linli.notices.models import Notice, Notification, Objection
from linli.notices.perms import PUBLISH
from linli.places.choices import PlaceKind, level_path
from linli.places.models import Place

logger = logging.getLogger("linli.notices")

MIN_TITLE, MAX_TITLE = 2, 200
MAX_BODY = 20_000
MIN_WINDOW_DAYS, MAX_WINDOW_DAYS = 1, 90
DEFAULT_WINDOW_DAYS = 7
MAX_SOURCE = 64
# A scheduled notice may start at most this far ahead; "now" typed into a form a few minutes
# ago still counts as now.
MAX_SCHEDULE_DAYS = 90
START_GRACE = dt.timedelta(minutes=10)
MIN_OBJECTION, MAX_OBJECTION = 5, 1000
MIN_ANSWER, MAX_ANSWER = 2, 2000
MIN_REASON, MAX_REASON = 2, 500
# The board shows a notice at least this long after publication, even once its window closed.
BOARD_DAYS = 90

NOT_A_BOARD = _("Only a street, a residents' committee or a compound has a notice board.")
CANNOT_PUBLISH = _("You may not publish on this board.")
KIND_REQUIRED = _("Choose what kind of notice this is.")
TITLE_LENGTH = _("Give a title of 2 to 200 characters.")
BODY_LENGTH = _("Write the text of the notice (at most 20,000 characters).")
WINDOW_DAYS_RANGE = _("The publication window is 1 to 90 days.")
SOURCE_TOO_LONG = _("The source label has at most 64 characters.")
STARTS_IN_PAST = _("A notice cannot be dated in the past.")
STARTS_TOO_LATE = _("A notice can be scheduled at most 90 days ahead.")
ID_NUMBER_FOUND = _(
    "Public notices may not contain ID numbers, not even masked ones. Remove the number; "
    "name people as 张* or 张*明."
)
MOBILE_FOUND = _(
    "Public notices may not contain mobile phone numbers, not even masked ones. Give the "
    "committee's office phone instead."
)
ALREADY_WITHDRAWN = _("This notice is already withdrawn.")
REASON_LENGTH = _("Say why (2 to 500 characters).")
SIGN_IN_TO_OBJECT = _("Sign in to file an objection.")
NOT_PUBLISHED = _("This notice is not published yet.")
WINDOW_CLOSED = _("Objections to this notice are accepted only during its publication window.")
NOTICE_WITHDRAWN = _("This notice has been withdrawn; it takes no more objections.")
NOT_YOUR_COMMUNITY = _("Only residents of this community can object to its notices.")
OBJECTION_LENGTH = _("Write your objection in 5 to 1,000 characters.")
ALREADY_OBJECTED = _("You already have an objection to this notice awaiting an answer.")
CANNOT_ANSWER = _("You may not answer objections on this board.")
ALREADY_ANSWERED = _("This objection has already been answered.")
ANSWER_LENGTH = _("Write the answer in 2 to 2,000 characters.")

NEW_OBJECTION_TITLE = _("New objection to “%(title)s”")
ANSWERED_TITLE = _("Your objection to “%(title)s” was answered")


# --- helpers ----------------------------------------------------------------------------------


def public_text_errors(text: str) -> list:
    """Why `text` may not appear on a public board ([] when it may)."""
    found = pii_scan.personal_numbers(text)
    errors = []
    if pii_scan.ID_NUMBER in found:
        errors.append(ID_NUMBER_FOUND)
    if pii_scan.MOBILE in found:
        errors.append(MOBILE_FOUND)
    return errors


def window_end(published_at: dt.datetime, days: int) -> dt.datetime:
    """The moment a window of `days` days closes: midnight after its last day, local time.

    As the civil code counts periods in days (民法典 Art. 201, 203), the day of publication
    does not count and the last day ends at 24:00.
    """
    zone = timezone.get_default_timezone()
    start_day = timezone.localtime(published_at, zone).date()
    return dt.datetime.combine(start_day + dt.timedelta(days=days + 1), dt.time.min, tzinfo=zone)


def _aware(value: dt.datetime) -> dt.datetime:
    if timezone.is_naive(value):
        return timezone.make_aware(value, timezone.get_default_timezone())
    return value


def _clean_text(value) -> str:
    return str(value or "").replace("\r\n", "\n").replace("\x00", "").strip()


def is_community_member(user, notice: Notice) -> bool:
    """Lives under the notice's board (resident role at a household below it) or publishes there."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if any(path.startswith(notice.path) for path in home_paths(user)):
        return True
    return user_can(user, PUBLISH, notice.path)


def _publisher_roles() -> list[str]:
    return [role for role, perms in ROLE_PERMS.items() if PUBLISH in perms]


def board_publishers(notice: Notice):
    """Users who answer for the board: publishers at its place, or for a compound at its
    committee (not everyone above: the street office is not paged for each compound)."""
    paths = {notice.path}
    if notice.place.kind == PlaceKind.COMPOUND:
        paths.add(level_path(notice.path, PlaceKind.COMMITTEE))
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            assignments__role__in=_publisher_roles(),
            assignments__place__path__in=paths,
        )
        .distinct()
    )


# --- notices ----------------------------------------------------------------------------------


@transaction.atomic
def notice_publish(
    *,
    actor,
    place: Place,
    kind: str,
    title: str,
    body: str,
    window_days: int = DEFAULT_WINDOW_DAYS,
    source: str = "",
    starts_at: dt.datetime | None = None,
) -> Notice:
    """Publish a notice on the board of `place` (a street, committee or compound).

    `actor` None is the system publishing for another service (a meeting's resolution). The
    window runs `window_days` full days after the day of publication. `starts_at` schedules it:
    the board shows it from then on.
    """
    if place.kind not in BOARD_KINDS:
        raise ValidationError({"place": NOT_A_BOARD})
    if actor is not None and not user_can(actor, PUBLISH, place):
        raise PermissionDenied(CANNOT_PUBLISH)
    title, body, source = _clean_text(title), _clean_text(body), _clean_text(source)
    errors: dict[str, list] = {}
    if kind not in NoticeKind.values:
        errors["kind"] = [KIND_REQUIRED]
    if not MIN_TITLE <= len(title) <= MAX_TITLE or "\n" in title:
        errors.setdefault("title", []).append(TITLE_LENGTH)
    if not body or len(body) > MAX_BODY:
        errors.setdefault("body", []).append(BODY_LENGTH)
    for name, text in (("title", title), ("body", body)):
        errors.setdefault(name, []).extend(public_text_errors(text))
    whole_days = isinstance(window_days, int) and not isinstance(window_days, bool)
    if not whole_days or not MIN_WINDOW_DAYS <= window_days <= MAX_WINDOW_DAYS:
        errors["window_days"] = [WINDOW_DAYS_RANGE]
    if len(source) > MAX_SOURCE:
        errors["source"] = [SOURCE_TOO_LONG]
    now = timezone.now()
    published_at = now
    if starts_at is not None:
        starts_at = _aware(starts_at)
        if starts_at < now - START_GRACE:
            errors["starts_at"] = [STARTS_IN_PAST]
        elif starts_at > now + dt.timedelta(days=MAX_SCHEDULE_DAYS):
            errors["starts_at"] = [STARTS_TOO_LATE]
        else:
            published_at = max(starts_at, now)
    errors = {name: messages for name, messages in errors.items() if messages}
    if errors:
        raise ValidationError(errors)
    notice = Notice(
        place=place,
        path=place.path,
        kind=kind,
        title=title,
        body=body,
        source=source,
        published_at=published_at,
        window_until=window_end(published_at, window_days),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        created_at=now,
    )
    notice.full_clean()
    notice.save(force_insert=True)
    audit_record(
        actor=actor,
        action="notices.notice.publish",
        obj=notice,
        place=place,
        changes={
            "kind": kind,
            "published_at": published_at.isoformat(),
            "window_until": notice.window_until.isoformat(),
            "source": source,
        },
    )
    return notice


@transaction.atomic
def notice_withdraw(*, actor, notice: Notice, reason: str) -> Notice:
    """Take a notice off: it stays on the board, marked withdrawn with the (public) reason."""
    notice = Notice.objects.select_for_update().select_related("place").get(pk=notice.pk)
    if actor is not None and not user_can(actor, PUBLISH, notice.path):
        raise PermissionDenied(CANNOT_PUBLISH)
    if notice.withdrawn_at is not None:
        raise ValidationError(ALREADY_WITHDRAWN)
    reason = _clean_text(reason)
    errors = [] if MIN_REASON <= len(reason) <= MAX_REASON else [REASON_LENGTH]
    errors += public_text_errors(reason)
    if errors:
        raise ValidationError({"reason": errors})
    notice.withdrawn_at = timezone.now()
    notice.withdraw_reason = reason
    notice.save(update_fields=["withdrawn_at", "withdraw_reason"])
    audit_record(
        actor=actor,
        action="notices.notice.withdraw",
        obj=notice,
        place=notice.place,
        reason=reason,
    )
    return notice


# --- objections -------------------------------------------------------------------------------


@transaction.atomic
def objection_file(*, actor, notice: Notice, text: str) -> Objection:
    """A resident of the community (or its staff) objects within the notice's window."""
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(SIGN_IN_TO_OBJECT)
    notice = Notice.objects.select_related("place").get(pk=notice.pk)
    if not is_community_member(actor, notice):
        raise PermissionDenied(NOT_YOUR_COMMUNITY)
    now = timezone.now()
    if notice.withdrawn_at is not None:
        raise ValidationError(NOTICE_WITHDRAWN)
    if now < notice.published_at:
        raise ValidationError(NOT_PUBLISHED)
    if not notice.window_open(now):
        raise ValidationError(WINDOW_CLOSED)
    text = _clean_text(text)
    if not MIN_OBJECTION <= len(text) <= MAX_OBJECTION:
        raise ValidationError({"text": [OBJECTION_LENGTH]})
    if Objection.objects.filter(notice=notice, author=actor, state=ObjectionState.OPEN).exists():
        raise ValidationError(ALREADY_OBJECTED)
    objection = Objection(notice=notice, path=notice.path, author=actor, text=text, created_at=now)
    objection.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            objection.save(force_insert=True)
    except IntegrityError:  # a second click that raced past the check above
        raise ValidationError(ALREADY_OBJECTED) from None
    audit_record(
        actor=actor,
        action="notices.objection.file",
        obj=objection,
        place=notice.place,
        changes={"notice": notice.pk},
    )
    notify(
        users=board_publishers(notice),
        kind=NotificationKind.NOTICE,
        title=str(NEW_OBJECTION_TITLE % {"title": notice.title}),
        url=reverse("notices:objections"),
    )
    return objection


@transaction.atomic
def objection_answer(*, actor, objection: Objection, answer: str) -> Objection:
    """Answer an objection. The answer is public (on the notice's page, without the author)."""
    objection = (
        Objection.objects.select_for_update()
        .select_related("notice", "notice__place")
        .get(pk=objection.pk)
    )
    if actor is not None and not user_can(actor, PUBLISH, objection.path):
        raise PermissionDenied(CANNOT_ANSWER)
    if objection.state != ObjectionState.OPEN:
        raise ValidationError(ALREADY_ANSWERED)
    answer = _clean_text(answer)
    errors = [] if MIN_ANSWER <= len(answer) <= MAX_ANSWER else [ANSWER_LENGTH]
    errors += public_text_errors(answer)
    if errors:
        raise ValidationError({"answer": errors})
    objection.state = ObjectionState.ANSWERED
    objection.answer = answer
    objection.answered_by = actor if getattr(actor, "is_authenticated", False) else None
    objection.answered_at = timezone.now()
    objection.save(update_fields=["state", "answer", "answered_by", "answered_at"])
    notice = objection.notice
    audit_record(
        actor=actor,
        action="notices.objection.answer",
        obj=objection,
        place=notice.place,
        changes={"notice": notice.pk, "state": ObjectionState.ANSWERED},
    )
    if objection.author_id is not None:
        notify(
            users=[objection.author_id],
            kind=NotificationKind.NOTICE,
            title=str(ANSWERED_TITLE % {"title": notice.title}),
            body=answer,
            url=reverse("notices:notice", args=[notice.pk]),
        )
    return objection


# --- notifications ----------------------------------------------------------------------------


def is_local_url(url: str) -> bool:
    return url.startswith("/") and not url.startswith("//") and "\\" not in url


def notify(
    *, users: Iterable, kind: str, title: str, body: str = "", url: str = ""
) -> list[Notification]:
    """An in-app notification for each user (User objects or ids, duplicates dropped); after
    the surrounding transaction commits, the configured senders relay them (a task).

    `url` is a path on this site ("/meetings/12/"), never an outside address.
    """
    if kind not in NotificationKind.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    if url and not is_local_url(url):
        raise ValueError("a notification links to a path on this site only")
    title = " ".join(str(title).split())[:MAX_TITLE]
    seen: set[int] = set()
    user_ids = []
    for user in users:
        pk = user if isinstance(user, int) else user.pk
        if pk not in seen:
            seen.add(pk)
            user_ids.append(pk)
    if not user_ids:
        return []
    now = timezone.now()
    rows = Notification.objects.bulk_create(
        [
            Notification(user_id=pk, kind=kind, title=title, body=body, url=url, created_at=now)
            for pk in user_ids
        ]
    )
    transaction.on_commit(partial(_enqueue_delivery, [row.pk for row in rows]))
    return rows


def _enqueue_delivery(notification_ids: list[int]) -> None:
    from linli.notices.tasks import notifications_deliver

    try:
        notifications_deliver.enqueue(notification_ids)
    except Exception:  # a queue that is down must not break the request that notified
        logger.error(
            "notices: could not enqueue the delivery of %d notifications",
            len(notification_ids),
            exc_info=True,
        )


def notifications_deliver(*, notification_ids: list[int]) -> dict[str, int]:
    """Hand each notification to every configured sender; one failing does not stop the rest.

    Logs name the sender, the notification and the exception class only: exception messages
    of mail and SMS gateways often repeat the address or number.
    """
    from linli.notices.senders import configured_senders

    senders = configured_senders()
    counts = {"sent": 0, "failed": 0}
    rows = Notification.objects.filter(pk__in=notification_ids).select_related("user")
    for notification in rows.order_by("pk"):
        if not notification.user.is_active:
            continue
        for sender in senders:
            try:
                sender.send(notification)
            except Exception as exc:
                counts["failed"] += 1
                logger.error(
                    "notices: %s failed for notification %s (%s)",
                    type(sender).__name__,
                    notification.pk,
                    type(exc).__name__,
                )
            else:
                counts["sent"] += 1
    return counts


def notification_read(*, actor, notification: Notification) -> Notification:
    """Mark one of the actor's own notifications read (someone else's: PermissionDenied)."""
    if notification.user_id != getattr(actor, "pk", None):
        raise PermissionDenied
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_read(*, actor, ids: Iterable[int] | None = None) -> int:
    """Mark the actor's notifications read: those in `ids`, or all when `ids` is None."""
    rows = Notification.objects.filter(user=actor, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())
