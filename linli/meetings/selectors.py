"""Reads of meetings and decisions, always for a viewer.

- Staff (meetings.view / meetings.manage) see every meeting under their places, drafts too.
- Residents see the announced (and later) meetings held at their street, committee or compound,
  and their own invitations.
Anything else answers 404, exactly like a missing row.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from linli.accounts.scoping import home_paths, user_can
from linli.meetings import perms
from linli.meetings.choices import RULES, AttendanceMode, MeetingState, MotionState, StepKey
from linli.meetings.models import (
    Attendance,
    Invitation,
    Meeting,
    Motion,
    Petition,
    Procedure,
    ProcedureStep,
    Resolution,
)
from linli.meetings.services import invitation_q, petition_electorate, user_household_ids

ATTENDANCE_PER_PAGE = 50
MAX_PK = 2**31 - 1


def _pk(value) -> int:
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise Http404 from None
    if not 0 < pk <= MAX_PK:
        raise Http404
    return pk


def _ancestor_paths(paths: list[str]) -> list[str]:
    """Every prefix of the given paths (street, committee, compound … of a household)."""
    return sorted({p[:i] for p in paths for i in range(10, len(p) + 1, 10)})


def is_staff(viewer, place_or_path) -> bool:
    return user_can(viewer, perms.VIEW_MEETINGS, place_or_path) or user_can(
        viewer, perms.MANAGE_MEETINGS, place_or_path
    )


def can_manage(viewer, obj) -> bool:
    path = obj if isinstance(obj, str) else obj.path
    return user_can(viewer, perms.MANAGE_MEETINGS, path)


def meetings_visible(viewer) -> QuerySet:
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return Meeting.objects.none()
    condition = Q(pk__in=Meeting.objects.for_viewer(viewer, perms.VIEW_MEETINGS).values("pk"))
    condition |= Q(pk__in=Meeting.objects.for_viewer(viewer, perms.MANAGE_MEETINGS).values("pk"))
    homes = home_paths(viewer)
    if homes:
        condition |= Q(path__in=_ancestor_paths(homes), announced_at__isnull=False)
    # Invitees living elsewhere (an owner letting their flat, a unit's delegate) see theirs.
    invited = Invitation.objects.filter(invitation_q(viewer)).values("meeting_id")
    condition |= Q(pk__in=invited, announced_at__isnull=False)
    return Meeting.objects.filter(condition)


def meetings_list(*, viewer, state: str = "", kind: str = "") -> QuerySet:
    meetings = meetings_visible(viewer).select_related("place")
    if state:
        meetings = meetings.filter(state=state)
    if kind:
        meetings = meetings.filter(kind=kind)
    return meetings.order_by("-starts_at", "-id")


def meeting_get(*, viewer, pk) -> Meeting:
    meeting = meetings_visible(viewer).select_related("place", "notice").filter(pk=_pk(pk)).first()
    if meeting is None:
        raise Http404
    return meeting


def meeting_get_managed(*, viewer, pk) -> Meeting:
    """A meeting the viewer manages; one they may only see answers 404 as well (no leak of
    what a stranger may not do)."""
    meeting = meeting_get(viewer=viewer, pk=pk)
    if not can_manage(viewer, meeting):
        raise Http404
    return meeting


# --- quorum -----------------------------------------------------------------------------------


@dataclass
class Quorum:
    present: int
    base: int | None
    quorate: bool | None
    needed: int | None
    rule_id: str
    basis: str
    steps: list
    present_area: Decimal | None = None
    base_area: Decimal | None = None
    written: bool = False
    error: str = ""


def _present_invitations(meeting: Meeting) -> QuerySet:
    return meeting.invitations.filter(attendances__isnull=False)


def meeting_quorum(*, meeting: Meeting, on: dt.date | None = None) -> Quorum:
    """Who is present against the frozen base, and the rule's answer on the quorum (the same
    `rules.evaluate` that decides the motions). For owners: heads and area checked in."""
    from linli.votes.rules import evaluate

    present = meeting.attendances.count()
    rule_id = meeting.rule_id or RULES[meeting.kind]
    quorum = Quorum(
        present=present,
        base=meeting.base_count,
        quorate=None,
        needed=None,
        rule_id=rule_id,
        basis="",
        steps=[],
        written=meeting.written,
        base_area=meeting.base_area,
    )
    if meeting.base_count is None or meeting.written:
        return quorum
    on = on or timezone.localdate(meeting.starts_at)
    empty = {"yes": 0, "no": 0, "abstain": 0}
    if meeting.attendance_mode == AttendanceMode.OWNERS:
        rows = list(_present_invitations(meeting).values_list("head", "key", "area"))
        heads = {head or key for head, key, _area in rows}
        area = sum((a or Decimal(0) for _h, _k, a in rows), start=Decimal(0))
        quorum.present = len(heads)
        quorum.present_area = area
        facts = {
            "total_area": str(meeting.base_area or 0),
            "total_heads": meeting.base_count,
            "voted_area": str(area),
            "voted_heads": len(heads),
            "yes_area": "0",
            "yes_heads": 0,
        }
        keys = ("area_participation", "head_participation")
    elif rule_id == "residents_meeting":
        facts = {
            "mode": meeting.attendance_mode,
            "entitled": meeting.base_count,
            "present": present,
            **empty,
        }
        keys = ("quorum",)
    else:
        facts = {"entitled": meeting.base_count, "present": present, **empty}
        keys = ("quorum",)
    try:
        answer = evaluate(rule_id, facts, on)
    except ValueError as error:
        quorum.error = str(error)
        return quorum
    quorum.basis = str(answer.get("citation") or answer.get("basis", ""))
    quorum.steps = [s for s in answer.get("steps", []) if s.get("key") in keys]
    quorum.quorate = bool(answer.get("quorate"))
    counted = [s.get("min_count") for s in quorum.steps if s.get("min_count") is not None]
    quorum.needed = max(counted) if counted else (0 if not quorum.steps else None)
    return quorum


# --- attendance -------------------------------------------------------------------------------


def attendance_rows(meeting: Meeting) -> QuerySet:
    checked = Attendance.objects.filter(invitation=OuterRef("pk"))
    return meeting.invitations.annotate(
        checked_at=Subquery(checked.values("at")[:1]),
        checked_method=Subquery(checked.values("method")[:1]),
    ).order_by("position", "id")


def clean_query(q) -> str:
    """A search term as typed, without NUL (PostgreSQL text cannot hold it), at most 50 chars."""
    return str(q or "").replace("\x00", "").strip()[:50]


def attendance_page(*, meeting: Meeting, q: str = "", status: str = "", page=1) -> Page:
    """The attendance list, 50 a page, searchable (name or address) and filterable."""
    rows = attendance_rows(meeting)
    q = clean_query(q)
    if q:
        rows = rows.filter(Q(label__icontains=q) | Q(address__icontains=q))
    if status == "present":
        rows = rows.filter(attendances__isnull=False)
    elif status == "absent":
        rows = rows.filter(attendances__isnull=True)
    elif status == "registered":
        rows = rows.filter(registered_at__isnull=False)
    return Paginator(rows, ATTENDANCE_PER_PAGE).get_page(page)


def arrived_rows(*, meeting: Meeting, shown) -> QuerySet:
    """Of the invitations the console shows as not yet here (at most a page of them), those now
    checked in: someone checked in on their phone, by QR or on another worker's tablet."""
    ids = []
    for raw in list(shown)[:ATTENDANCE_PER_PAGE]:
        try:
            ids.append(_pk(raw))
        except Http404:
            continue
    if not ids:
        return meeting.invitations.none()
    return attendance_rows(meeting).filter(pk__in=ids, attendances__isnull=False)


def invitation_get(*, meeting: Meeting, pk) -> Invitation:
    invitation = meeting.invitations.filter(pk=_pk(pk)).first()
    if invitation is None:
        raise Http404
    return invitation


def my_invitations(*, viewer, limit: int = 50) -> list[Invitation]:
    """The viewer's invitations (their own or their household's) to announced meetings, the
    coming ones first."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return []
    households = user_household_ids(viewer)
    checked = Attendance.objects.filter(invitation=OuterRef("pk"))
    rows = (
        Invitation.objects.filter(invitation_q(viewer, households))
        .filter(meeting__announced_at__isnull=False)
        .select_related("meeting", "meeting__place")
        .annotate(checked_at=Subquery(checked.values("at")[:1]))
        .order_by("-meeting__starts_at", "-id")[:limit]
    )
    return list(rows)


def invitation_by_token(*, token: str) -> Invitation:
    from linli.meetings.services import token_from_code

    token = token_from_code(token)
    if not token:
        raise Http404
    invitation = (
        Invitation.objects.select_related("meeting", "meeting__place")
        .filter(checkin_token=token)
        .first()
    )
    if invitation is None:
        raise Http404
    return invitation


# --- motions ----------------------------------------------------------------------------------


def motions_of(meeting: Meeting) -> list[Motion]:
    return list(
        meeting.motions.select_related("agenda_item", "vote", "resolution").order_by(
            "agenda_item__position", "id"
        )
    )


def open_motions(meeting: Meeting) -> list[Motion]:
    return list(
        meeting.motions.filter(state=MotionState.OPEN)
        .select_related("agenda_item", "vote")
        .order_by("agenda_item__position", "id")
    )


def motion_get(*, viewer, pk) -> Motion:
    motion = (
        Motion.objects.select_related("meeting", "meeting__place", "agenda_item", "vote")
        .filter(pk=_pk(pk), meeting__in=meetings_visible(viewer))
        .first()
    )
    if motion is None:
        raise Http404
    return motion


def motion_tally(*, motion: Motion) -> dict | None:
    """The live result (recomputed from the ballots) or, once closed, the snapshot."""
    if motion.vote is None:
        return None
    if motion.state == MotionState.CLOSED and motion.result:
        return motion.result
    from linli.votes.selectors import vote_result

    return vote_result(vote=motion.vote)


def resolutions_of(meeting: Meeting) -> list[Resolution]:
    return list(meeting.resolutions.select_related("motion", "notice").order_by("id"))


def resolution_get(*, viewer, pk) -> Resolution:
    resolution = (
        Resolution.objects.select_related("meeting", "meeting__place", "motion", "notice")
        .filter(pk=_pk(pk), meeting__in=meetings_visible(viewer))
        .first()
    )
    if resolution is None:
        raise Http404
    return resolution


# --- topics on agendas -----------------------------------------------------------------------


AGENDA_OPEN_STATES = (MeetingState.DRAFT, MeetingState.ANNOUNCED)


def meetings_holding_topic(*, viewer, topic) -> list[Meeting]:
    """The meetings the viewer may see whose agenda holds the topic (residents: announced ones),
    earliest first."""
    return list(
        meetings_visible(viewer)
        .filter(agenda__topic=topic)
        .distinct()
        .order_by("starts_at", "id")[:20]
    )


def may_put_on_agenda(*, viewer, topic) -> bool:
    """A topic with enough backing, or accepted to an agenda, may be put on a meeting by those who
    manage the committee's meetings and answer its topics (agenda_add answers it)."""
    from linli.deliberation.choices import TopicState
    from linli.deliberation.perms import MODERATE

    return (
        topic.state in (TopicState.ON_AGENDA_LIST, TopicState.SCHEDULED)
        and can_manage(viewer, topic)
        and user_can(viewer, MODERATE, topic.path)
    )


def meetings_for_topic(*, viewer, topic) -> QuerySet:
    """Draft and announced meetings of the topic's committee (or its compounds) the viewer
    manages, whose agenda does not hold the topic yet: where it may be put."""
    return (
        Meeting.objects.for_viewer(viewer, perms.MANAGE_MEETINGS)
        .filter(path__startswith=topic.path, state__in=AGENDA_OPEN_STATES)
        .exclude(agenda__topic=topic)
        .select_related("place")
        .order_by("starts_at", "id")
    )


# --- petitions --------------------------------------------------------------------------------


def petitions_visible(viewer) -> QuerySet:
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return Petition.objects.none()
    condition = Q(pk__in=Petition.objects.for_viewer(viewer, perms.VIEW_MEETINGS).values("pk"))
    condition |= Q(pk__in=Petition.objects.for_viewer(viewer, perms.MANAGE_MEETINGS).values("pk"))
    return Petition.objects.filter(condition)


def petition_get(*, viewer, pk) -> Petition:
    petition = (
        petitions_visible(viewer).select_related("place", "meeting").filter(pk=_pk(pk)).first()
    )
    if petition is None:
        raise Http404
    return petition


@dataclass
class PetitionStatus:
    entitled: int
    petitioners: int
    needed: int | None
    met: bool
    basis: str
    steps: list
    error: str = ""


def petition_status(*, petition: Petition, on: dt.date | None = None) -> PetitionStatus:
    """Signatures against the base (adults, households, groups or owners' heads) and the rule's
    answer: when met, the committee (owners: the owners' committee) must convene."""
    from linli.votes.rules import evaluate

    on = on or timezone.localdate()
    petitioners = petition.signatures.count()
    if petition.mode == AttendanceMode.GROUP_REPS:
        entitled = petition.groups_total or 0
    elif petition.mode == AttendanceMode.OWNERS:
        entitled = len({v.head or v.key for v in petition_electorate(petition, on)})
    else:
        entitled = len(petition_electorate(petition, on))
    status = PetitionStatus(entitled, petitioners, None, False, "", [])
    if petition.mode == AttendanceMode.OWNERS:
        rule_id, facts = "owners_petition", {"total_heads": entitled, "petitioners": petitioners}
    else:
        rule_id = "residents_meeting_petition"
        facts = {"mode": petition.mode, "entitled": entitled, "petitioners": petitioners}
    try:
        answer = evaluate(rule_id, facts, on)
    except ValueError as error:
        status.error = str(error)
        return status
    status.met = bool(answer.get("passed"))
    status.basis = str(answer.get("citation") or answer.get("basis", ""))
    status.steps = list(answer.get("steps", []))
    counted = [s.get("min_count") for s in status.steps if s.get("min_count") is not None]
    status.needed = max(counted) if counted else None
    return status


# --- procedures -------------------------------------------------------------------------------


def procedures_visible(viewer) -> QuerySet:
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return Procedure.objects.none()
    condition = Q(pk__in=Procedure.objects.for_viewer(viewer, perms.VIEW_MEETINGS).values("pk"))
    condition |= Q(pk__in=Procedure.objects.for_viewer(viewer, perms.MANAGE_MEETINGS).values("pk"))
    return Procedure.objects.filter(condition)


def procedure_get(*, viewer, pk) -> Procedure:
    procedure = (
        procedures_visible(viewer).select_related("place", "topic").filter(pk=_pk(pk)).first()
    )
    if procedure is None:
        raise Http404
    return procedure


@dataclass
class StepRow:
    step: ProcedureStep
    status: str  # done | next | locked
    needs_meeting: bool
    publishes: bool


def procedure_steps(procedure: Procedure) -> list[StepRow]:
    rows = []
    steps = list(procedure.steps.select_related("meeting", "notice", "actor").order_by("position"))
    next_found = False
    for step in steps:
        if step.done_at is not None:
            status = "done"
        elif not next_found:
            status, next_found = "next", True
        else:
            status = "locked"
        rows.append(
            StepRow(
                step=step,
                status=status,
                needs_meeting=step.key == StepKey.RESOLUTION,
                publishes=step.key in (StepKey.PUBLISH_RESOLUTION, StepKey.PUBLISH_RESULT),
            )
        )
    return rows


def meetings_with_resolutions(procedure: Procedure) -> QuerySet:
    """Closed meetings of the procedure's committee that passed a resolution."""
    return (
        Meeting.objects.filter(
            path__startswith=procedure.path,
            state__in=(MeetingState.CLOSED, MeetingState.MINUTES_PUBLISHED),
            resolutions__isnull=False,
        )
        .distinct()
        .order_by("-starts_at")
    )
