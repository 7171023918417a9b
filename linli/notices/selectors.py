"""Reads of the notice board (public), of objections (staff) and of notifications (their user).

The board is public, like the physical 居务公开栏: anyone may read the published notices of a
street, committee or compound, without signing in. It never shows who objected; it shows how
many objections a notice drew and the answers given. Staff lists are scoped by `notices.publish`.

What a board gathers: the notices of its place and of every board place under it, plus those of
the board places above it (a committee's board shows its compounds' notices and its street's).
"""

import datetime as dt

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from linli.core.scoping import under_q
from linli.notices.choices import BOARD_KINDS, ObjectionState
from linli.notices.models import Notice, Notification, Objection
from linli.notices.perms import PUBLISH
from linli.notices.services import BOARD_DAYS
from linli.places.choices import PlaceKind, level_path
from linli.places.models import Place

ARCHIVE_PER_PAGE = 20
STAFF_PER_PAGE = 30
INBOX_PER_PAGE = 30
MAX_ID = 2**63 - 1


def _pk(value) -> int:
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise Http404 from None
    if not 0 < pk <= MAX_ID:
        raise Http404
    return pk


def _with_counts(notices: QuerySet) -> QuerySet:
    return notices.select_related("place").annotate(
        objection_count=Count("objections", distinct=True),
        answered_count=Count(
            "objections", filter=Q(objections__state=ObjectionState.ANSWERED), distinct=True
        ),
    )


# --- the public board -------------------------------------------------------------------------


def board_place(pk) -> Place:
    """The place whose board this is (street, committee or compound); anything else is 404."""
    place = Place.objects.filter(pk=_pk(pk), kind__in=BOARD_KINDS).first()
    if place is None:
        raise Http404
    return place


def board_places_above(place: Place) -> list[str]:
    """Paths of the board places above `place` (its committee and street)."""
    above = {
        PlaceKind.COMMITTEE: [PlaceKind.STREET],
        PlaceKind.COMPOUND: [PlaceKind.STREET, PlaceKind.COMMITTEE],
    }
    return [level_path(place.path, kind) for kind in above.get(place.kind, [])]


def _board_q(place: Place) -> Q:
    return under_q(place.path) | Q(path__in=board_places_above(place))


def _published(now: dt.datetime) -> Q:
    return Q(published_at__lte=now)


def _current(now: dt.datetime) -> Q:
    """On the board now: the window is open, or it was published within BOARD_DAYS."""
    return _published(now) & (
        Q(window_until__gt=now) | Q(published_at__gte=now - dt.timedelta(days=BOARD_DAYS))
    )


def board_notices(*, place: Place, now: dt.datetime | None = None) -> list[Notice]:
    """The notices on the board now, newest first (withdrawn ones included, marked)."""
    now = now or timezone.now()
    notices = Notice.objects.filter(_board_q(place), _current(now))
    return list(_with_counts(notices).order_by("-published_at", "-id"))


def board_archive_page(*, place: Place, page=None, now: dt.datetime | None = None) -> Page:
    """Published notices no longer on the board (window closed, older than BOARD_DAYS)."""
    now = now or timezone.now()
    notices = Notice.objects.filter(_board_q(place), _published(now)).exclude(_current(now))
    notices = _with_counts(notices).order_by("-published_at", "-id")
    return Paginator(notices, ARCHIVE_PER_PAGE).get_page(page)


def notice_get_public(pk, *, now: dt.datetime | None = None) -> Notice:
    """A published notice, for anyone (a scheduled one is 404 until it starts)."""
    now = now or timezone.now()
    notice = (
        _with_counts(Notice.objects.filter(_published(now)))
        .filter(pk=_pk(pk), place__kind__in=BOARD_KINDS)
        .first()
    )
    if notice is None:
        raise Http404
    return notice


def public_answers(*, notice: Notice) -> list[dict]:
    """The answers given to a notice's objections, as the public sees them: no author, no
    objection text (it may name people), only the answer and when."""
    return list(
        Objection.objects.filter(notice=notice, state=ObjectionState.ANSWERED)
        .order_by("answered_at", "id")
        .values("id", "answer", "answered_at")
    )


# --- staff ------------------------------------------------------------------------------------


def staff_notices(*, viewer) -> QuerySet:
    """Notices under the places where the viewer publishes (scheduled ones included)."""
    return _with_counts(Notice.objects.for_viewer(viewer, PUBLISH)).annotate(
        open_count=Count(
            "objections", filter=Q(objections__state=ObjectionState.OPEN), distinct=True
        )
    )


def staff_notices_page(*, viewer, page=None) -> Page:
    notices = staff_notices(viewer=viewer).order_by("-published_at", "-id")
    return Paginator(notices, STAFF_PER_PAGE).get_page(page)


def staff_notice_get(*, viewer, pk) -> Notice:
    notice = staff_notices(viewer=viewer).filter(pk=_pk(pk)).first()
    if notice is None:
        raise Http404
    return notice


def publish_place_get(*, viewer, pk) -> Place:
    """A board place where the viewer may publish; 404 otherwise (outside scope looks absent)."""
    place = (
        Place.objects.for_viewer(viewer, PUBLISH).filter(pk=_pk(pk), kind__in=BOARD_KINDS).first()
    )
    if place is None:
        raise Http404
    return place


def publish_places(*, viewer) -> list[Place]:
    """Where the viewer publishes: their own board places and the board places just below
    (a committee's compounds, a street's committees), in tree order."""
    prefixes = viewer.scope_prefixes(PUBLISH) if viewer is not None else []
    if not prefixes:
        return []
    roots = Place.objects.filter(path__in=prefixes, kind__in=BOARD_KINDS).only("id", "path")
    return list(
        Place.objects.filter(
            Q(pk__in=roots.values("pk")) | Q(parent__in=roots.values("pk")), kind__in=BOARD_KINDS
        ).order_by("path")
    )


def objections_for(*, viewer, state: str | None = None, notice: Notice | None = None) -> QuerySet:
    """Objections on boards where the viewer publishes, with who filed them (staff only)."""
    rows = Objection.objects.for_viewer(viewer, PUBLISH).select_related(
        "notice", "notice__place", "author", "answered_by"
    )
    if state:
        rows = rows.filter(state=state)
    if notice is not None:
        rows = rows.filter(notice=notice)
    return rows.order_by("state", "-created_at", "-id")


def objections_page(*, viewer, state: str | None = None, page=None) -> Page:
    return Paginator(objections_for(viewer=viewer, state=state), STAFF_PER_PAGE).get_page(page)


def objection_get(*, viewer, pk) -> Objection:
    objection = objections_for(viewer=viewer).filter(pk=_pk(pk)).first()
    if objection is None:
        raise Http404
    return objection


def own_objections(*, user, notice: Notice) -> list[Objection]:
    """The objections the user filed to a notice (their own text and its answer)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(Objection.objects.filter(notice=notice, author=user).order_by("created_at", "id"))


# --- notifications ----------------------------------------------------------------------------


def notifications_for(*, user) -> QuerySet:
    """The user's own notifications, newest first."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def notifications_page(*, user, page=None, unread_only: bool = False) -> Page:
    rows = notifications_for(user=user)
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return Paginator(rows, INBOX_PER_PAGE).get_page(page)


def notification_get(*, user, pk) -> Notification:
    notification = notifications_for(user=user).filter(pk=_pk(pk)).first()
    if notification is None:
        raise Http404
    return notification


def unread_count(*, user) -> int:
    """How many unread notifications the user has (0 for anonymous): the badge's number."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
