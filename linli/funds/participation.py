"""Participation rate of a place (利益勾连, PRODUCT.md §4; RULES.md §4 participation_metrics).

The share of the place's households that took part in its community life over a period, read
from the platform's own records (never typed in):

- **denominator**: households of the register under the place with at least one resident in the
  register (`ResidentStatus.ACTIVE`): an occupied dwelling, as `people.selectors` counts them.
- **took part**: a household whose member, or which itself, in the period (Asia/Shanghai dates,
  both ends inclusive)
  - *topics*: raised a topic (not one the committee raised), backed one, or commented (comments
    the committee hid are not counted);
  - *meetings*: checked in at a meeting;
  - *votes*: has a counted or recorded (awaiting confirmation) vote participation; a rejected
    paper ballot is not one;
  - *volunteering*: not yet recorded. The register's "volunteer" tag is a standing label with no
    dates, so there is nothing dated to count: `by_channel["volunteering"]` is None.
- **member of a household**: a user linked to one of its residents (`Resident.account`) or
  holding the resident role at its dwelling (as meetings and deliberation tell who lives where);
  a household voter or invitee is the household itself; an owner counts for the household of
  their resident record.
- **records of the place**: those whose place lies under the place or above it (a committee-wide
  meeting counts for each compound of the committee); another committee's records never count,
  even for its own residents living here.

One query whatever the size of the place: the households are counted in SQL with one filtered
count per channel over household-id subqueries.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, OuterRef, Q
from django.utils.translation import gettext as _

from linli.accounts.models import RoleAssignment
from linli.accounts.roles import Role
from linli.core.scoping import under_q
from linli.deliberation.choices import CommentState
from linli.deliberation.models import Comment, Support, Topic
from linli.meetings.models import Attendance
from linli.people.choices import ResidentStatus
from linli.people.models import Household, Resident
from linli.people.selectors import years_before
from linli.places.models import Place
from linli.votes.choices import ParticipationState
from linli.votes.models import Participation

LOCAL = ZoneInfo("Asia/Shanghai")
CHANNELS = ("topics", "meetings", "votes", "volunteering")
NOT_RECORDED = ("volunteering",)


@dataclass(frozen=True)
class ParticipationRate:
    place: Place
    period: tuple[dt.date, dt.date]  # inclusive, Asia/Shanghai dates
    households_total: int
    households_took_part: int
    by_channel: dict[str, int | None] = field(default_factory=dict)  # None: not recorded
    not_recorded: tuple[str, ...] = NOT_RECORDED

    @property
    def rate(self) -> Fraction | None:
        if not self.households_total:
            return None
        return Fraction(self.households_took_part, self.households_total)

    def meets(self, minimum: Fraction | Decimal | None) -> bool:
        """At least (以上, inclusive) `minimum`, exactly. No minimum always meets; a place with
        no households meets only a minimum of zero (there is no participation to show)."""
        if minimum is None:
            return True
        required = Fraction(minimum)  # exact for Decimal and Fraction alike
        if not self.households_total:
            return required <= 0
        return (
            self.households_took_part * required.denominator
            >= required.numerator * self.households_total
        )


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, the day after end 00:00) in Asia/Shanghai."""
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=LOCAL),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=LOCAL),
    )


def _of_place(place: Place, path_field: str) -> Q:
    """Records whose place is under `place` or one of its ancestors (never a sibling's)."""
    above = [place.path[:i] for i in range(10, len(place.path), 10)]
    return under_q(place.path, path_field) | Q(**{f"{path_field}__in": above})


def _of_users(users) -> Q:
    """Households (as a filter on Household) of the users in the `users` subquery."""
    return Q(pk__in=Resident.objects.filter(account__in=users).values("household")) | Q(
        place__in=RoleAssignment.objects.filter(role=Role.RESIDENT, user__in=users).values("place")
    )


def _channels(place: Place, start: dt.date, end: dt.date) -> dict[str, Q]:
    since, until = _bounds(start, end)
    topics = Topic.objects.filter(
        _of_place(place, "path"), by_staff=False, created_at__gte=since, created_at__lt=until
    )
    supports = Support.objects.filter(
        _of_place(place, "topic__path"), created_at__gte=since, created_at__lt=until
    )
    comments = Comment.objects.filter(
        _of_place(place, "topic__path"), created_at__gte=since, created_at__lt=until
    ).exclude(Q(by_staff=True) | Q(state=CommentState.HIDDEN))
    attendances = Attendance.objects.filter(
        _of_place(place, "meeting__path"), at__gte=since, at__lt=until
    )
    participations = Participation.objects.filter(
        _of_place(place, "vote__path"), at__gte=since, at__lt=until
    ).exclude(state=ParticipationState.REJECTED)
    return {
        "topics": Q(place__in=topics.values("author_household"))
        | Q(place__in=supports.values("household"))
        | _of_users(topics.values("author"))
        | _of_users(supports.values("user"))
        | _of_users(comments.values("author")),
        "meetings": Q(pk__in=attendances.values("invitation__household"))
        | Q(pk__in=attendances.values("invitation__resident__household"))
        | Q(pk__in=attendances.values("invitation__owner__resident__household"))
        | _of_users(attendances.values("invitation__user")),
        "votes": Q(pk__in=participations.values("entitlement__household"))
        | Q(pk__in=participations.values("entitlement__resident__household"))
        | Q(pk__in=participations.values("entitlement__owner__resident__household"))
        | _of_users(participations.values("entitlement__user")),
    }


def occupied_households(place: Place):
    """Households of the register under `place` with at least one resident in the register."""
    active = Resident.objects.filter(household=OuterRef("pk"), status=ResidentStatus.ACTIVE)
    return Household.objects.filter(under_q(place.path)).filter(Exists(active))


def participation_rate(*, place: Place, start: dt.date, end: dt.date) -> ParticipationRate:
    """The participation rate of `place` from `start` to `end` (inclusive): one query."""
    if end < start:
        raise ValueError("end is before start")
    channels = _channels(place, start, end)
    any_channel = Q()
    for condition in channels.values():
        any_channel |= condition
    counts = occupied_households(place).aggregate(
        total=Count("pk"),
        took_part=Count("pk", filter=any_channel),
        **{name: Count("pk", filter=condition) for name, condition in channels.items()},
    )
    by_channel: dict[str, int | None] = {name: counts[name] for name in channels}
    by_channel["volunteering"] = None
    return ParticipationRate(
        place=place,
        period=(start, end),
        households_total=counts["total"],
        households_took_part=counts["took_part"],
        by_channel=by_channel,
    )


def percent(value: Fraction | Decimal) -> str:
    """A rate (Fraction) rounded down to one decimal place, so a figure below the minimum never
    shows as reaching it (37/120 → 30.8%); a minimum (Decimal) exactly (0.35 → 35%,
    0.3333 → 33.33%)."""
    if isinstance(value, Fraction):
        shown = (Decimal(value.numerator) * 100 / Decimal(value.denominator)).quantize(
            Decimal("0.1"), rounding=ROUND_DOWN
        )
    else:
        shown = Decimal(value) * 100
    text = f"{shown:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


@dataclass(frozen=True)
class ParticipationCheck:
    result: ParticipationRate
    minimum: Decimal | None
    meets: bool
    message: str


def participation_check(*, place: Place, on: dt.date, profile) -> ParticipationCheck:
    """The rate over the 12 months before `on` (from the same day a year earlier to the day
    before `on`) against the profile's minimum (none: always meets), with the figures."""
    start = years_before(on, 1)
    if start.month == 2 and start.day == 28 and on.month == 2 and on.day == 29:
        start = start + dt.timedelta(days=1)  # 29 Feb → from 1 March a year earlier
    result = participation_rate(place=place, start=start, end=on - dt.timedelta(days=1))
    minimum = profile.min_participation_rate
    meets = result.meets(minimum)
    figures = {
        "took_part": result.households_took_part,
        "total": result.households_total,
        "rate": percent(result.rate) if result.rate is not None else "—",
        "minimum": percent(minimum) if minimum is not None else "",
    }
    if result.rate is None:
        message = _("No occupied households in the register: there is no participation rate.")
    elif minimum is None:
        message = _("Participation rate %(took_part)s/%(total)s = %(rate)s; no minimum is set.")
    elif meets:
        message = _(
            "Participation rate %(took_part)s/%(total)s = %(rate)s, at least the required "
            "%(minimum)s."
        )
    else:
        message = _(
            "Participation rate %(took_part)s/%(total)s = %(rate)s, below the required %(minimum)s."
        )
    return ParticipationCheck(
        result=result, minimum=minimum, meets=meets, message=message % figures
    )
