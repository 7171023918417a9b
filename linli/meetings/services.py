"""Writes for meetings and decisions.

Every service checks `meetings.manage` at the meeting's place (an actor of None is the system:
the demo and factories), writes its audit event in the same transaction, and sends notifications
after commit. Votes are the votes app's: a motion opens a `votes.Vote` over the present attendees
(or, for a written consultation, over everyone invited), ballots go through `ballot_record` /
`ballot_cast`, and the result is `votes.selectors.vote_result`, the same arithmetic as every
results page.
"""

import datetime as dt
import math
import secrets
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from linli.accounts.scoping import home_paths, user_can
from linli.core.audit import audit_record, diff
from linli.meetings import perms
from linli.meetings.choices import (
    DEFAULT_STEPS,
    MODES,
    NOTICE_DAYS,
    PLACE_KINDS,
    REGISTER_UNITS,
    RULES,
    WRITTEN_KINDS,
    AttendanceMode,
    CheckInMethod,
    MeetingForm,
    MeetingKind,
    MeetingState,
    MotionKind,
    MotionState,
    Party,
    PetitionKind,
    StepKey,
)
from linli.meetings.models import (
    AgendaItem,
    Attendance,
    Invitation,
    Meeting,
    Minutes,
    Motion,
    Petition,
    PetitionSignature,
    Procedure,
    ProcedureStep,
    ProcedureTemplate,
    Resolution,
)
from linli.notices.services import MAX_TITLE, MIN_TITLE
from linli.places.choices import PlaceKind
from linli.places.models import Place

NOT_PERMITTED = _("You may not manage meetings here.")
PLACE_KIND = _("A %(kind)s is held at a %(places)s.")
MODE_NOT_ALLOWED = _("A %(kind)s is attended by: %(modes)s.")
WRITTEN_NOT_ALLOWED = _("Only owners' assemblies and residents' meetings decide in writing.")
ENDS_BEFORE_START = _("The meeting must end after it starts.")
TITLE_REQUIRED = _("Give the meeting a title.")
# The title heads the notice on the board, which takes 2 to 200 characters (notices.services).
MEETING_TITLE_LENGTH = _(
    "Give the meeting a title of 2 to 200 characters: it heads the notice on the board."
)
NOT_DRAFT = _("Only a draft meeting can be changed this way; this one is “%(state)s”.")
NOT_STATE = _("This is not possible while the meeting is “%(state)s”.")
AGENDA_REQUIRED = _("Add at least one agenda item: the notice publishes the agenda.")
NO_INVITEES = _("Nobody would be invited: add the members first.")
SHORT_NOTICE = _(
    "A %(kind)s is announced at least %(days)d days ahead; this one starts in %(left)s. "
    "Confirm to announce it at short notice."
)
STARTS_IN_PAST = _("The meeting has already started; change its time first.")
MEMBERS_ONLY = _("Members are entered by hand only for meetings attended by named members.")
NAME_REQUIRED = _("Give the member's name.")
RESIDENT_ELSEWHERE = _("This resident does not live in the meeting's area.")
ALREADY_INVITED = _("%(name)s is already on the list.")
NOT_INVITED = _("You are not invited to this meeting.")
ALREADY_REGISTERED = _("You have already registered.")
UNKNOWN_TOKEN = _("This check-in code does not belong to this meeting.")
CHECKIN_CLOSED = _("Check-in is open only while the meeting is in progress.")
CHECKIN_WRITTEN = _("A written consultation has no check-in: ballots are collected door to door.")
ALREADY_CHECKED_IN = _("%(name)s is already checked in (since %(time)s).")
ONLY_YOURSELF = _("You can check in only yourself.")
TOPIC_ELSEWHERE = _("This topic belongs to another community.")
TOPIC_ON_AGENDA = _("This topic is already on this meeting's agenda.")
ELSEWHERE = _("This belongs to another community.")
AGENDA_CLOSED = _("The agenda is fixed once the meeting is closed.")
MOTION_TEXT_REQUIRED = _("Give the text of the motion.")
CANDIDATES_REQUIRED = _("List at least two names, one per line.")
SEATS_REQUIRED = _("Give the number of seats (fewer than the candidates).")
MATTER_REQUIRED = _("Choose the owners' matter: it decides the majority needed.")
MOTION_NOT_PENDING = _("This motion has already been put to the vote.")
MOTION_NOT_OPEN = _("This motion is not being voted on.")
MEETING_NOT_RUNNING = _("Votes are taken while the meeting is in progress.")
NOBODY_PRESENT = _("Nobody has checked in yet.")
NOT_PRESENT = _("%(name)s has not checked in.")
BAD_CHOICE = _("Choose yes, no or abstain.")
MINUTES_REQUIRED = _("Write the minutes.")
MINUTES_NOT_YET = _("Minutes are written once the meeting has closed.")
MINUTES_APPROVED = _("Approved minutes cannot be changed.")
SECOND_PERSON = _("The minutes are approved by a second person, not the one who wrote them.")
MINUTES_NOT_APPROVED = _("Approve the minutes before publishing them.")
ALREADY_PUBLISHED = _("Already published.")
REASON_REQUIRED = _("Say why (at least 2 characters).")
PETITION_PLACE = _("A proposal is made in a committee (residents) or a compound (owners).")
PETITION_MODE = _("Count a residents' proposal by adults, households or residents' groups.")
GROUPS_TOTAL_REQUIRED = _("Give the number of residents' groups in the committee.")
SUBJECT_REQUIRED = _("Say what the meeting should decide.")
NOT_ENTITLED = _("This person is not among those entitled to propose.")
ALREADY_SIGNED = _("%(name)s has already signed.")
GROUP_REQUIRED = _("Give the name of the residents' group.")
STEPS_REQUIRED = _("A procedure has at least two steps.")
STEP_UNKNOWN = _("Unknown step “%(key)s”.")
STEP_DONE = _("This step is already done.")
STEP_ORDER = _("Finish “%(previous)s” first: steps are taken in order.")
STEP_RECORD_REQUIRED = _("Record what was done (at least 2 characters).")
RESOLUTION_MEETING = _(
    "The resolution step needs the meeting that passed it: choose a closed meeting of this "
    "committee with a passed resolution."
)
PROCEDURE_PLACE = _("四议两公开 is run by a residents' committee.")

CHECK_IN_METHODS = frozenset(CheckInMethod.values)
ANSWERS = ("yes", "no", "abstain")


class AlreadyCheckedIn(ValidationError):
    """The person is checked in already: a message for the door, never a second row."""

    def __init__(self, attendance: Attendance):
        self.attendance = attendance
        name = attendance.invitation.label
        at = timezone.localtime(attendance.at).strftime("%H:%M")
        super().__init__(ALREADY_CHECKED_IN, code="already_checked_in", params={})
        self.message = str(ALREADY_CHECKED_IN % {"name": name, "time": at})


# --- permissions and small helpers ------------------------------------------------------------


def _check_manage(actor, path: str) -> None:
    if actor is not None and not user_can(actor, perms.MANAGE_MEETINGS, path):
        raise PermissionDenied(NOT_PERMITTED)


def _audit(actor, action: str, obj, meeting_or_place, **changes) -> None:
    place = meeting_or_place.place if isinstance(meeting_or_place, Meeting) else meeting_or_place
    audit_record(actor=actor, action=f"meetings.{action}", obj=obj, place=place, changes=changes)


def _lock(meeting: Meeting) -> Meeting:
    """The meeting row, locked for the transaction (state changes race otherwise)."""
    locked = (
        Meeting.objects.select_for_update(of=("self",)).select_related("place").get(pk=meeting.pk)
    )
    meeting.state = locked.state
    return locked


def _require_state(meeting: Meeting, *states: str) -> None:
    if meeting.state not in states:
        raise ValidationError(NOT_STATE % {"state": MeetingState(meeting.state).label})


def _new_token() -> str:
    return secrets.token_urlsafe(16)


TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def token_from_code(code: str) -> str:
    """A scanned code is the check-in URL (…/meetings/checkin/<token>/) or the bare token;
    anything else gives "" (never a lookup with stray characters)."""
    code = (code or "").strip()
    marker = "/checkin/"
    if marker in code:
        code = code.split(marker, 1)[1]
    token = code.strip("/ ").split("/")[0].split("?")[0]
    return token if 0 < len(token) <= 64 and set(token) <= TOKEN_CHARS else ""


def notice_days(kind: str) -> int:
    """Days of notice a kind needs (settings.LINLI_MEETING_NOTICE_DAYS overrides the default)."""
    configured = getattr(settings, "LINLI_MEETING_NOTICE_DAYS", {}) or {}
    return int(configured.get(kind, NOTICE_DAYS.get(kind, 7)))


def rule_for(meeting: Meeting, motion: Motion | None = None) -> str:
    if motion is not None and motion.rule_id:
        return motion.rule_id
    return meeting.rule_id or RULES[meeting.kind]


def owners_rule(matter: str) -> str:
    """Civil Code art. 278(2): items 6-8 (raise the fund, rebuild, common parts) need 3/4."""
    from linli.votes import rules

    return rules.owners_rule_for(matter)


def _committee_body(place: Place) -> str:
    if place.kind == PlaceKind.COMMITTEE:
        return place.name
    committee = Place.objects.filter(pk__in=place.ancestor_ids(), kind=PlaceKind.COMMITTEE).first()
    return committee.name if committee else place.name


def default_convener(kind: str, place: Place) -> str:
    """RC-05: the committee convenes residents' meetings; PR-02 the 三会 under the party
    organisation's leadership; a joint meeting (1+5+X) is called by the party branch."""
    body = _committee_body(place)
    if kind == MeetingKind.JOINT_MEETING:
        return gettext("Party branch of %(body)s") % {"body": body}
    if kind == MeetingKind.OWNERS_ASSEMBLY:
        return gettext("Owners' committee of %(place)s") % {"place": place.name}
    return body


def default_chair(kind: str, place: Place) -> str:
    """The committee chairs residents' meetings (RC-05); the director heads a hearing (PR-02)."""
    from linli.accounts.models import RoleAssignment
    from linli.accounts.roles import Role

    if kind not in (MeetingKind.RESIDENTS_MEETING, MeetingKind.HEARING, MeetingKind.REVIEW):
        return ""
    committee_path = place.path[:40] if place.kind != PlaceKind.STREET else place.path
    director = (
        RoleAssignment.objects.filter(role=Role.COMMITTEE_DIRECTOR, place__path=committee_path)
        .select_related("user")
        .order_by("id")
        .first()
    )
    if director is not None:
        return str(director.user)[:100]
    return gettext("Director of %(body)s") % {"body": _committee_body(place)}


# --- meetings ---------------------------------------------------------------------------------


def _validate_meeting(
    *, kind: str, place: Place, attendance_mode: str, form: str, title: str, starts_at, ends_at
) -> None:
    errors: dict[str, list] = {}
    if kind not in MeetingKind.values:
        raise ValidationError({"kind": [_("Choose one of the listed values.")]})
    if place.kind not in PLACE_KINDS[kind]:
        errors["place"] = [
            PLACE_KIND
            % {
                "kind": MeetingKind(kind).label,
                "places": "、".join(str(PlaceKind(k).label) for k in sorted(PLACE_KINDS[kind])),
            }
        ]
    if attendance_mode not in MODES[kind]:
        errors["attendance_mode"] = [
            MODE_NOT_ALLOWED
            % {
                "kind": MeetingKind(kind).label,
                "modes": "、".join(str(AttendanceMode(m).label) for m in MODES[kind]),
            }
        ]
    if form not in MeetingForm.values or (
        form == MeetingForm.WRITTEN and kind not in WRITTEN_KINDS
    ):
        errors["form"] = [WRITTEN_NOT_ALLOWED]
    if not MIN_TITLE <= len((title or "").strip()) <= MAX_TITLE:
        errors["title"] = [MEETING_TITLE_LENGTH]
    if starts_at is None or ends_at is None or ends_at <= starts_at:
        errors["ends_at"] = [ENDS_BEFORE_START]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def meeting_create(
    *,
    actor,
    place: Place,
    kind: str,
    title: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    attendance_mode: str | None = None,
    form: str = MeetingForm.IN_PERSON,
    location: str = "",
    description: str = "",
    chair: str = "",
    convener_body: str = "",
) -> Meeting:
    """A draft meeting. Defaults: the kind's only attendance mode, its rule, chair and convener."""
    _check_manage(actor, place.path)
    if kind in MODES and attendance_mode is None:
        attendance_mode = MODES[kind][0]
    _validate_meeting(
        kind=kind,
        place=place,
        attendance_mode=attendance_mode or "",
        form=form,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    meeting = Meeting(
        place=place,
        path=place.path,
        kind=kind,
        title=title.strip(),
        description=description.strip(),
        attendance_mode=attendance_mode,
        form=form,
        starts_at=starts_at,
        ends_at=ends_at,
        location=location.strip(),
        convener=actor if getattr(actor, "is_authenticated", False) else None,
        convener_body=convener_body.strip() or default_convener(kind, place),
        chair=chair.strip() or default_chair(kind, place),
        rule_id=RULES[kind],
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    meeting.full_clean()
    meeting.save()
    _audit(actor, "meeting.create", meeting, meeting, kind=kind, title=meeting.title)
    return meeting


EDITABLE = ("title", "description", "starts_at", "ends_at", "location", "chair", "convener_body")


@transaction.atomic
def meeting_update(*, actor, meeting: Meeting, **fields) -> Meeting:
    """Change a draft's title, time, place of meeting, chair or convener."""
    _check_manage(actor, meeting.path)
    meeting = _lock(meeting)
    if meeting.state != MeetingState.DRAFT:
        raise ValidationError(NOT_DRAFT % {"state": MeetingState(meeting.state).label})
    before = {name: str(getattr(meeting, name)) for name in EDITABLE}
    for name, value in fields.items():
        if name not in EDITABLE:
            raise ValueError(f"meeting_update cannot change {name}")
        setattr(meeting, name, value.strip() if isinstance(value, str) else value)
    _validate_meeting(
        kind=meeting.kind,
        place=meeting.place,
        attendance_mode=meeting.attendance_mode,
        form=meeting.form,
        title=meeting.title,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
    )
    meeting.full_clean()
    meeting.save()
    after = {name: str(getattr(meeting, name)) for name in EDITABLE}
    _audit(actor, "meeting.update", meeting, meeting, **diff(before, after))
    return meeting


def _manual_list(meeting: Meeting) -> bool:
    return meeting.attendance_mode not in REGISTER_UNITS


@transaction.atomic
def member_add(
    *, actor, meeting: Meeting, label: str = "", party: str = Party.OTHER, resident=None
) -> Invitation:
    """Add a named member (representatives, group representatives, 1+5+X parties) to a draft
    meeting's list; a member may be a register resident (then they can check in on their phone)."""
    _check_manage(actor, meeting.path)
    meeting = _lock(meeting)
    if meeting.state != MeetingState.DRAFT:
        raise ValidationError(NOT_DRAFT % {"state": MeetingState(meeting.state).label})
    if not _manual_list(meeting):
        raise ValidationError(MEMBERS_ONLY)
    if party not in Party.values:
        raise ValidationError({"party": [_("Choose one of the listed values.")]})
    if resident is not None:
        if not resident.path.startswith(meeting.path):
            raise ValidationError({"resident": [RESIDENT_ELSEWHERE]})
        key = f"r:{resident.pk}"
        label = label.strip() or resident.name
    else:
        label = (label or "").strip()
        if not label:
            raise ValidationError({"label": [NAME_REQUIRED]})
        key = f"m:{secrets.token_hex(6)}"
    if meeting.invitations.filter(key=key).exists():
        raise ValidationError(ALREADY_INVITED % {"name": label})
    last = meeting.invitations.order_by("-position").values_list("position", flat=True).first()
    invitation = Invitation.objects.create(
        meeting=meeting,
        key=key,
        label=label[:120],
        party=party,
        resident=resident,
        household_id=resident.household_id if resident is not None else None,
        user_id=resident.account_id if resident is not None else None,
        checkin_token=_new_token(),
        position=(last or 0) + 1,
    )
    _audit(actor, "invitation.add", invitation, meeting, party=party)
    return invitation


@transaction.atomic
def member_remove(*, actor, invitation: Invitation) -> None:
    meeting = invitation.meeting
    _check_manage(actor, meeting.path)
    meeting = _lock(meeting)
    if meeting.state != MeetingState.DRAFT:
        raise ValidationError(NOT_DRAFT % {"state": MeetingState(meeting.state).label})
    _audit(actor, "invitation.remove", invitation, meeting)
    invitation.delete()


def _register_invitations(meeting: Meeting) -> list[Invitation]:
    from linli.votes.electorate import electorate

    unit = REGISTER_UNITS[meeting.attendance_mode]
    on = timezone.localdate(meeting.starts_at)
    voters = electorate(place=meeting.place, unit=unit, on=on)
    party = Party.OWNER if unit == "owner" else Party.RESIDENT
    rows = [
        Invitation(
            meeting=meeting,
            key=v.key,
            label=(v.label or "")[:120],
            address=(getattr(v, "address", "") or "")[:200],
            party=party,
            resident_id=v.resident_id,
            household_id=v.household_id,
            owner_id=v.owner_id,
            user_id=v.user_id,
            area=v.area,
            head=v.head or "",
            checkin_token=_new_token(),
            position=index,
        )
        for index, v in enumerate(voters, start=1)
    ]
    return Invitation.objects.bulk_create(rows, batch_size=1000)


def _lead_time_text(delta: dt.timedelta) -> str:
    hours = max(0, int(delta.total_seconds() // 3600))
    if hours < 48:
        return gettext("%(n)d hours") % {"n": hours}
    return gettext("%(n)d days") % {"n": hours // 24}


def _agenda_text(meeting: Meeting) -> str:
    lines = [f"{item.position}. {item.title}" for item in meeting.agenda.order_by("position")]
    return "\n".join(lines)


def meeting_notice_body(meeting: Meeting) -> str:
    """The notice (会议通知): when, where, who attends, how, and the agenda (SH-02)."""
    starts = timezone.localtime(meeting.starts_at)
    ends = timezone.localtime(meeting.ends_at)
    parts = [
        gettext("Convened by: %(body)s") % {"body": meeting.convener_body},
        gettext("Time: %(start)s to %(end)s")
        % {"start": starts.strftime("%Y-%m-%d %H:%M"), "end": ends.strftime("%Y-%m-%d %H:%M")},
    ]
    if meeting.location:
        parts.append(gettext("Place: %(location)s") % {"location": meeting.location})
    if meeting.chair:
        parts.append(gettext("Chair: %(chair)s") % {"chair": meeting.chair})
    parts.append(
        gettext("Who attends: %(mode)s") % {"mode": AttendanceMode(meeting.attendance_mode).label}
    )
    if meeting.written:
        parts.append(
            gettext(
                "This matter is decided by written consultation: workers will bring the "
                "ballot to your door; you may also vote online or give a written proxy."
            )
        )
    if meeting.description:
        parts.append(meeting.description)
    parts.append(gettext("Agenda:"))
    parts.append(_agenda_text(meeting))
    return "\n".join(parts)


@transaction.atomic
def meeting_announce(
    *, actor, meeting: Meeting, now: dt.datetime | None = None, short_notice_ok: bool = False
) -> Meeting:
    """Fix the invitation list and the quorum base, publish the notice with the agenda and invite
    everyone with an account. Fewer days of notice than the kind's setting need confirming."""
    from linli.notices.services import notice_publish, notify

    _check_manage(actor, meeting.path)
    meeting = _lock(meeting)
    if meeting.state != MeetingState.DRAFT:
        raise ValidationError(NOT_DRAFT % {"state": MeetingState(meeting.state).label})
    now = now or timezone.now()
    if not meeting.agenda.exists():
        raise ValidationError(AGENDA_REQUIRED)
    if meeting.starts_at <= now:
        raise ValidationError(STARTS_IN_PAST)
    days = notice_days(meeting.kind)
    lead = meeting.starts_at - now
    short = lead < dt.timedelta(days=days)
    if short and not short_notice_ok:
        raise ValidationError(
            SHORT_NOTICE
            % {
                "kind": MeetingKind(meeting.kind).label,
                "days": days,
                "left": _lead_time_text(lead),
            },
            code="short_notice",
        )
    if not _manual_list(meeting):
        meeting.invitations.all().delete()
        _register_invitations(meeting)
    invitations = meeting.invitations.all()
    if not invitations.exists():
        raise ValidationError(NO_INVITEES)
    if meeting.attendance_mode == AttendanceMode.OWNERS:
        heads = {i.head or i.key for i in invitations.only("head", "key")}
        meeting.base_count = len(heads)
        meeting.base_area = sum((i.area or 0 for i in invitations.only("area")), start=0)
    else:
        meeting.base_count = invitations.count()
    window = max(1, math.ceil((meeting.ends_at - now).total_seconds() / 86400))
    notice = notice_publish(
        actor=actor,
        place=meeting.place,
        kind="meeting",
        title=meeting.title,
        body=meeting_notice_body(meeting),
        window_days=window,
        source=f"meeting:{meeting.pk}",
    )
    meeting.notice = notice
    meeting.state = MeetingState.ANNOUNCED
    meeting.announced_at = now
    meeting.short_notice = short
    meeting.save(
        update_fields=[
            "notice",
            "state",
            "announced_at",
            "short_notice",
            "base_count",
            "base_area",
            "updated_at",
        ]
    )
    _audit(
        actor,
        "meeting.announce",
        meeting,
        meeting,
        base_count=meeting.base_count,
        base_area=meeting.base_area,
        short_notice=short,
        notice=notice.pk,
    )
    users = invitee_users(meeting)
    if users:
        notify(
            users=users,
            kind="meeting_invitation",
            title=meeting.title,
            body=gettext("You are invited: %(time)s, %(location)s.")
            % {
                "time": timezone.localtime(meeting.starts_at).strftime("%Y-%m-%d %H:%M"),
                "location": meeting.location or "—",
            },
            url=reverse("meetings:detail", args=[meeting.pk]),
        )
    return meeting


def user_household_ids(user) -> set[int]:
    """The households a user belongs to: their register record's, and where they hold the
    resident role."""
    from linli.people.models import Household, Resident

    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    ids = set(Resident.objects.filter(account=user).values_list("household_id", flat=True))
    paths = home_paths(user)
    if paths:
        ids |= set(Household.objects.filter(path__in=paths).values_list("pk", flat=True))
    return ids


def invitation_q(user, households: set[int] | None = None) -> Q:
    """Invitations that are the user's: their own, or their household's (one per household)."""
    if households is None:
        households = user_household_ids(user)
    condition = Q(user=user)
    if households:
        condition |= Q(key__startswith="h:", household_id__in=households)
    return condition


def invitation_of(user, meeting: Meeting) -> Invitation | None:
    """The user's own invitation to the meeting (their account, register record or household)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return meeting.invitations.filter(invitation_q(user)).order_by("id").first()


def invitee_users(meeting: Meeting) -> list:
    """Active accounts to notify: invitees with an account, and for a household invitation its
    members with accounts and the users holding the resident role there."""
    from django.contrib.auth import get_user_model

    from linli.accounts.roles import Role

    invitations = meeting.invitations.all()
    households = invitations.filter(key__startswith="h:").values("household_id")
    return list(
        get_user_model()
        .objects.filter(
            Q(pk__in=invitations.filter(user__isnull=False).values("user_id"))
            | Q(resident__household_id__in=households)
            | Q(
                assignments__role=Role.RESIDENT,
                assignments__place__household_record__in=households,
            ),
            is_active=True,
        )
        .distinct()
    )


@transaction.atomic
def meeting_register(*, actor, meeting: Meeting, now: dt.datetime | None = None) -> Invitation:
    """报名: an invited resident says they will come."""
    meeting = _lock(meeting)
    _require_state(meeting, MeetingState.ANNOUNCED, MeetingState.IN_PROGRESS)
    invitation = invitation_of(actor, meeting)
    if invitation is None:
        raise ValidationError(NOT_INVITED)
    if invitation.registered_at is not None:
        raise ValidationError(ALREADY_REGISTERED)
    invitation.registered_at = now or timezone.now()
    invitation.save(update_fields=["registered_at"])
    _audit(actor, "invitation.register", invitation, meeting)
    return invitation


@transaction.atomic
def meeting_check_in(
    *,
    actor,
    meeting: Meeting,
    token: str | None = None,
    invitation: Invitation | None = None,
    method: str,
    now: dt.datetime | None = None,
) -> Attendance:
    """Check one invited person in, once. A worker scans the QR code on the person's phone (qr)
    or ticks the list (list); an invited resident may tap their own link (self). A second
    check-in raises AlreadyCheckedIn; the database's unique constraint is what enforces it."""
    if method not in CHECK_IN_METHODS:
        raise ValidationError(_("Unknown check-in method."))
    if method == CheckInMethod.SELF:
        if actor is None or not getattr(actor, "is_authenticated", False):
            raise PermissionDenied(ONLY_YOURSELF)
    else:
        _check_manage(actor, meeting.path)
    if meeting.written:
        raise ValidationError(CHECKIN_WRITTEN)
    if meeting.state != MeetingState.IN_PROGRESS:
        raise ValidationError(CHECKIN_CLOSED)
    if invitation is None:
        token = token_from_code(token or "")
        invitation = (
            Invitation.objects.filter(meeting=meeting, checkin_token=token).first()
            if token
            else None
        )
        if invitation is None:
            raise ValidationError(UNKNOWN_TOKEN)
    elif invitation.meeting_id != meeting.pk:
        raise ValidationError(UNKNOWN_TOKEN)
    if (
        method == CheckInMethod.SELF
        and not meeting.invitations.filter(invitation_q(actor), pk=invitation.pk).exists()
    ):
        raise PermissionDenied(ONLY_YOURSELF)
    try:
        with transaction.atomic():
            attendance = Attendance.objects.create(
                meeting=meeting,
                invitation=invitation,
                method=method,
                by=actor if getattr(actor, "is_authenticated", False) else None,
                at=now or timezone.now(),
            )
    except IntegrityError:
        existing = Attendance.objects.select_related("invitation").get(
            meeting=meeting, invitation=invitation
        )
        raise AlreadyCheckedIn(existing) from None
    _audit(actor, "attendance.check_in", invitation, meeting, method=method)
    return attendance


@transaction.atomic
def meeting_check_in_list(
    *,
    actor,
    meeting: Meeting,
    invitations: Iterable[Invitation],
    now: dt.datetime | None = None,
) -> tuple[list[Attendance], list[Attendance]]:
    """Check in the invitations ticked on the console's list (method list). Those already
    checked in (on their phone or by another worker, after the list was shown) are skipped, not
    an error: returns (new attendances, the existing ones skipped). Each check-in goes through
    meeting_check_in, so the database's unique constraint still decides who was first."""
    new, skipped = [], []
    for invitation in invitations:
        try:
            new.append(
                meeting_check_in(
                    actor=actor,
                    meeting=meeting,
                    invitation=invitation,
                    method=CheckInMethod.LIST,
                    now=now,
                )
            )
        except AlreadyCheckedIn as already:
            skipped.append(already.attendance)
    return new, skipped


@transaction.atomic
def meeting_start(*, actor, meeting: Meeting, now: dt.datetime | None = None) -> Meeting:
    """Open the door: check-in starts (for a written consultation, ballots may be collected)."""
    _check_manage(actor, meeting.path)
    meeting = _lock(meeting)
    _require_state(meeting, MeetingState.ANNOUNCED)
    meeting.state = MeetingState.IN_PROGRESS
    meeting.started_at = now or timezone.now()
    meeting.save(update_fields=["state", "started_at", "updated_at"])
    _audit(actor, "meeting.start", meeting, meeting)
    return meeting


@transaction.atomic
def meeting_close(*, actor, meeting: Meeting, now: dt.datetime | None = None) -> Meeting:
    """Close the meeting; motions still being voted on are closed with it."""
    _check_manage(actor, meeting.path)
    meeting = _lock(meeting)
    _require_state(meeting, MeetingState.IN_PROGRESS)
    for motion in meeting.motions.filter(state=MotionState.OPEN).select_related("vote"):
        motion_close(actor=actor, motion=motion, now=now)
    meeting.state = MeetingState.CLOSED
    meeting.closed_at = now or timezone.now()
    meeting.save(update_fields=["state", "closed_at", "updated_at"])
    _audit(actor, "meeting.close", meeting, meeting, present=meeting.attendances.count())
    return meeting


@transaction.atomic
def meeting_cancel(*, actor, meeting: Meeting, reason: str) -> Meeting:
    """Call a meeting off before it starts; an announced meeting's cancellation is published."""
    from linli.notices.services import notice_publish

    _check_manage(actor, meeting.path)
    meeting = _lock(meeting)
    _require_state(meeting, MeetingState.DRAFT, MeetingState.ANNOUNCED)
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError({"reason": [REASON_REQUIRED]})
    if meeting.state == MeetingState.ANNOUNCED:
        notice_publish(
            actor=actor,
            place=meeting.place,
            kind="meeting",
            title=gettext("Cancelled: %(title)s") % {"title": meeting.title},
            body=reason,
            source=f"meeting:{meeting.pk}",
        )
    meeting.state = MeetingState.CANCELLED
    meeting.cancelled_at = timezone.now()
    meeting.cancel_reason = reason[:200]
    meeting.save(update_fields=["state", "cancelled_at", "cancel_reason", "updated_at"])
    _audit(actor, "meeting.cancel", meeting, meeting, reason=reason)
    return meeting


# --- agenda and motions -----------------------------------------------------------------------


@transaction.atomic
def agenda_add(
    *, actor, meeting: Meeting, title: str = "", description: str = "", topic=None
) -> AgendaItem:
    """Add an item; from a residents' topic, the topic is marked as scheduled
    (deliberation.services.topic_schedule)."""
    _check_manage(actor, meeting.path)
    meeting = _lock(meeting)
    if meeting.state in (
        MeetingState.CLOSED,
        MeetingState.MINUTES_PUBLISHED,
        MeetingState.CANCELLED,
    ):
        raise ValidationError(AGENDA_CLOSED)
    if topic is not None:
        committee = meeting.path[:40]
        if not (topic.path.startswith(committee) or committee.startswith(topic.path)):
            raise ValidationError({"topic": [TOPIC_ELSEWHERE]})
        if meeting.agenda.filter(topic=topic).exists():
            raise ValidationError({"topic": [TOPIC_ON_AGENDA]})
        title = (title or "").strip() or topic.title
        description = (description or "").strip() or topic.body
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": [TITLE_REQUIRED]})
    last = meeting.agenda.order_by("-position").values_list("position", flat=True).first()
    item = AgendaItem(
        meeting=meeting,
        position=(last or 0) + 1,
        title=title[:200],
        description=(description or "").strip(),
        topic=topic,
    )
    item.full_clean()
    item.save()
    if topic is not None:
        from linli.deliberation.services import topic_schedule

        day = f" ({timezone.localtime(meeting.starts_at):%Y-%m-%d})"
        label = meeting.title[: 200 - len(day)] + day
        topic_schedule(actor=actor, topic=topic, meeting_label=label)
    _audit(actor, "agenda.add", item, meeting, topic=topic.pk if topic else None)
    return item


def _names(raw: str | Sequence[str]) -> list[str]:
    lines = raw.splitlines() if isinstance(raw, str) else list(raw)
    seen: list[str] = []
    for line in lines:
        name = str(line).strip()[:100]
        if name and name not in seen:
            seen.append(name)
    return seen


@transaction.atomic
def motion_add(
    *,
    actor,
    agenda_item: AgendaItem,
    text: str,
    kind: str = MotionKind.DECISION,
    matter: str = "",
    candidates: str | Sequence[str] = (),
    seats: int | None = None,
) -> Motion:
    """A motion under an agenda item: a decision, an evaluation of the committee and its workers
    (评议, SH-08: scores per name) or an election."""
    meeting = agenda_item.meeting
    _check_manage(actor, meeting.path)
    meeting = _lock(meeting)
    if meeting.state in (
        MeetingState.CLOSED,
        MeetingState.MINUTES_PUBLISHED,
        MeetingState.CANCELLED,
    ):
        raise ValidationError(AGENDA_CLOSED)
    text = (text or "").strip()
    errors: dict[str, list] = {}
    if not text:
        errors["text"] = [MOTION_TEXT_REQUIRED]
    if kind not in MotionKind.values:
        errors["kind"] = [_("Choose one of the listed values.")]
    names = _names(candidates)
    rule_id = ""
    if kind in (MotionKind.EVALUATION, MotionKind.ELECTION) and len(names) < 2:
        errors["candidates"] = [CANDIDATES_REQUIRED]
    if kind == MotionKind.ELECTION and (seats is None or seats < 1 or seats >= len(names)):
        errors["seats"] = [SEATS_REQUIRED]
    if meeting.kind == MeetingKind.OWNERS_ASSEMBLY and kind == MotionKind.DECISION:
        from linli.votes.choices import OwnersMatter as VoteMatter

        if matter not in VoteMatter.values:
            errors["matter"] = [MATTER_REQUIRED]
        else:
            rule_id = owners_rule(matter)
    else:
        matter = ""
    if errors:
        raise ValidationError(errors)
    if kind == MotionKind.EVALUATION:
        rule_id = "poll_score"
    elif kind == MotionKind.ELECTION:
        rule_id = "committee_election"
    motion = Motion(
        agenda_item=agenda_item,
        meeting=meeting,
        path=meeting.path,
        kind=kind,
        text=text,
        matter=matter,
        rule_id=rule_id,
        candidates=names if kind != MotionKind.DECISION else [],
        seats=seats if kind == MotionKind.ELECTION else None,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    motion.full_clean()
    motion.save()
    _audit(actor, "motion.add", motion, meeting, kind=kind, rule=rule_id or meeting.rule_id)
    return motion


def invitation_voter(invitation: Invitation):
    """The votes app's Voter for an invitation (same key, so one vote per voter holds across the
    meeting, paper and online channels)."""
    from linli.votes.electorate import Voter

    return Voter(
        key=invitation.key,
        label=invitation.label,
        resident_id=invitation.resident_id,
        household_id=invitation.household_id,
        owner_id=invitation.owner_id,
        user_id=invitation.user_id,
        area=invitation.area,
        head=invitation.head or None,
    )


def everyone_votes(meeting: Meeting) -> bool:
    """Who is frozen into a motion's vote: everyone invited for a written consultation and for
    owners (art. 278 measures participation against all owners; those absent may still vote on
    paper or by proxy), else those checked in (the residents' meeting rules count the present)."""
    return meeting.written or meeting.attendance_mode == AttendanceMode.OWNERS


def _vote_unit(meeting: Meeting) -> str:
    if meeting.attendance_mode == AttendanceMode.OWNERS:
        return "owner"
    if meeting.written:
        return REGISTER_UNITS.get(meeting.attendance_mode, "list")
    return "list"


@transaction.atomic
def motion_open_vote(*, actor, motion: Motion, now: dt.datetime | None = None) -> Motion:
    """Put a motion to the vote: a votes.Vote over those present (a written consultation: over
    everyone invited), with the meeting's frozen quorum base and the kind's rule."""
    from linli.votes.services import vote_create, vote_open

    meeting = motion.meeting
    _check_manage(actor, meeting.path)
    meeting = _lock(meeting)
    motion = Motion.objects.select_for_update().get(pk=motion.pk)
    if meeting.state != MeetingState.IN_PROGRESS:
        raise ValidationError(MEETING_NOT_RUNNING)
    if motion.state != MotionState.PENDING:
        raise ValidationError(MOTION_NOT_PENDING)
    invitations = meeting.invitations.all()
    if not everyone_votes(meeting):
        invitations = invitations.filter(attendances__isnull=False)
    voters = [invitation_voter(i) for i in invitations.order_by("position", "id")]
    if not voters:
        raise ValidationError(NOBODY_PRESENT)
    rule_id = rule_for(meeting, motion)
    common = {
        "actor": actor,
        "place": meeting.place,
        "title": motion.text[:200],
        "rule_id": rule_id,
        "unit": _vote_unit(meeting),
        "base_count": meeting.base_count,
        "description": gettext("%(meeting)s, agenda item %(n)d")
        % {"meeting": meeting.title, "n": motion.agenda_item.position},
    }
    if motion.kind == MotionKind.EVALUATION:
        vote = vote_create(
            kind="poll", method="score", options=motion.candidates, secret=True, **common
        )
    elif motion.kind == MotionKind.ELECTION:
        vote = vote_create(
            kind="election", options=motion.candidates, seats=motion.seats, secret=True, **common
        )
    elif meeting.attendance_mode == AttendanceMode.OWNERS:
        vote = vote_create(kind="owners", owners_matter=motion.matter, **common)
    elif rule_id == "residents_meeting":
        vote = vote_create(kind="motion", mode=meeting.attendance_mode, **common)
    else:
        vote = vote_create(kind="motion", **common)
    vote = vote_open(actor=actor, vote=vote, voters=voters, now=now)
    motion.vote = vote
    motion.state = MotionState.OPEN
    motion.save(update_fields=["vote", "state"])
    _audit(actor, "motion.open", motion, meeting, vote=vote.pk, voters=len(voters), rule=rule_id)
    return motion


@transaction.atomic
def motion_record_hands(
    *,
    actor,
    motion: Motion,
    choices: dict[int, object],
    channel: str = "meeting",
    now: dt.datetime | None = None,
) -> int:
    """The worker records each present person's answer (show of hands), by invitation id.
    Returns the number recorded; someone who already voted is refused by the votes app."""
    from linli.votes.services import ballot_record

    meeting = motion.meeting
    _check_manage(actor, meeting.path)
    if motion.state != MotionState.OPEN or motion.vote is None:
        raise ValidationError(MOTION_NOT_OPEN)
    invitations = {
        i.pk: i
        for i in meeting.invitations.filter(pk__in=list(choices)).prefetch_related("attendances")
    }
    errors = []
    recorded = 0
    for invitation_id, answer in choices.items():
        invitation = invitations.get(invitation_id)
        if invitation is None:
            errors.append(UNKNOWN_TOKEN)
            continue
        if answer not in ANSWERS and motion.kind == MotionKind.DECISION:
            errors.append(BAD_CHOICE)
            continue
        if channel == "meeting" and not invitation.attendances.all():
            errors.append(NOT_PRESENT % {"name": invitation.label})
            continue
        try:
            with transaction.atomic():
                ballot_record(
                    actor=actor,
                    vote=motion.vote,
                    voter_key=invitation.key,
                    choice=answer,
                    channel=channel,
                    provenance=f"meeting:{meeting.pk}",
                    now=now,
                )
        except ValidationError as error:
            errors.extend(f"{invitation.label}: {m}" for m in error.messages)
            continue
        recorded += 1
    if errors and not recorded:
        raise ValidationError(errors)
    _audit(actor, "motion.record", motion, meeting, recorded=recorded, refused=len(errors))
    if errors:
        # Part recorded: the caller shows what was refused (the recorded ones stand).
        motion._refused = errors  # type: ignore[attr-defined]
    return recorded


@transaction.atomic
def motion_cast(*, actor, motion: Motion, choice) -> None:
    """An attendee votes on their own phone (votes.services.ballot_cast)."""
    from linli.votes.services import ballot_cast

    if motion.state != MotionState.OPEN or motion.vote is None:
        raise ValidationError(MOTION_NOT_OPEN)
    ballot_cast(actor=actor, vote=motion.vote, choice=choice)


@transaction.atomic
def motion_close(*, actor, motion: Motion, now: dt.datetime | None = None) -> Motion:
    """Close the vote, keep the result as it stood, and record a resolution when it passed."""
    from linli.votes.selectors import vote_result
    from linli.votes.services import vote_close

    meeting = motion.meeting
    _check_manage(actor, meeting.path)
    motion = Motion.objects.select_for_update(of=("self",)).select_related("vote").get(pk=motion.pk)
    if motion.state != MotionState.OPEN or motion.vote is None:
        raise ValidationError(MOTION_NOT_OPEN)
    vote = vote_close(actor=actor, vote=motion.vote, now=now)
    result = _jsonable(vote_result(vote=vote))
    motion.result = result
    motion.state = MotionState.CLOSED
    motion.save(update_fields=["result", "state"])
    outcome = result.get("outcome") or {}
    passed = bool(outcome.get("passed"))
    if passed and motion.kind != MotionKind.EVALUATION:
        text = motion.text
        elected = (result.get("named") or {}).get("elected")
        if motion.kind == MotionKind.ELECTION and elected:
            text = gettext("%(motion)s — elected: %(names)s") % {
                "motion": motion.text,
                "names": "、".join(str(name) for name in elected),
            }
        Resolution.objects.create(
            motion=motion, meeting=meeting, path=meeting.path, text=text, result=result
        )
    _audit(actor, "motion.close", motion, meeting, passed=passed, vote=vote.pk)
    return motion


def _jsonable(value):
    import json

    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


# --- minutes and resolutions ------------------------------------------------------------------


@transaction.atomic
def minutes_save(*, actor, meeting: Meeting, text: str) -> Minutes:
    """Write or correct the minutes of a closed meeting (until they are approved)."""
    _check_manage(actor, meeting.path)
    meeting = _lock(meeting)
    _require_state(meeting, MeetingState.CLOSED)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": [MINUTES_REQUIRED]})
    minutes = Minutes.objects.filter(meeting=meeting).first()
    if minutes is not None and minutes.approved_at is not None:
        raise ValidationError(MINUTES_APPROVED)
    recorder = actor if getattr(actor, "is_authenticated", False) else None
    if minutes is None:
        minutes = Minutes.objects.create(meeting=meeting, text=text, recorder=recorder)
    else:
        minutes.text = text
        minutes.recorder = recorder
        minutes.save(update_fields=["text", "recorder", "updated_at"])
    _audit(actor, "minutes.save", minutes, meeting, length=len(text))
    return minutes


@transaction.atomic
def minutes_approve(*, actor, minutes: Minutes, now: dt.datetime | None = None) -> Minutes:
    """A second person (not the recorder) approves the minutes."""
    meeting = minutes.meeting
    _check_manage(actor, meeting.path)
    minutes = Minutes.objects.select_for_update().get(pk=minutes.pk)
    if minutes.approved_at is not None:
        raise ValidationError(MINUTES_APPROVED)
    if actor is not None and minutes.recorder_id == actor.pk:
        raise ValidationError(SECOND_PERSON)
    minutes.approved_by = actor if getattr(actor, "is_authenticated", False) else None
    minutes.approved_at = now or timezone.now()
    minutes.save(update_fields=["approved_by", "approved_at"])
    _audit(actor, "minutes.approve", minutes, meeting)
    return minutes


@transaction.atomic
def minutes_publish(*, actor, minutes: Minutes) -> Minutes:
    """Publish approved minutes on the board; the meeting is then "minutes published"."""
    from linli.notices.services import notice_publish

    meeting = minutes.meeting
    _check_manage(actor, meeting.path)
    meeting = _lock(meeting)
    minutes = Minutes.objects.select_for_update().get(pk=minutes.pk)
    if minutes.approved_at is None:
        raise ValidationError(MINUTES_NOT_APPROVED)
    if minutes.notice_id is not None:
        raise ValidationError(ALREADY_PUBLISHED)
    notice = notice_publish(
        actor=actor,
        place=meeting.place,
        kind="meeting",
        title=gettext("Minutes: %(title)s") % {"title": meeting.title},
        body=minutes.text,
        source=f"meeting:{meeting.pk}",
    )
    minutes.notice = notice
    minutes.save(update_fields=["notice"])
    meeting.state = MeetingState.MINUTES_PUBLISHED
    meeting.save(update_fields=["state", "updated_at"])
    _audit(actor, "minutes.publish", minutes, meeting, notice=notice.pk)
    return minutes


def resolution_body(resolution: Resolution) -> str:
    """The public text: the resolution and the numbers, never a voter's name."""
    meeting = resolution.meeting
    result = resolution.result or {}
    lines = [
        resolution.text,
        "",
        gettext("Adopted at: %(meeting)s, %(day)s")
        % {
            "meeting": meeting.title,
            "day": timezone.localtime(meeting.starts_at).strftime("%Y-%m-%d"),
        },
    ]
    counts = result.get("counts") or []
    shown = "; ".join(
        f"{row.get('label', row.get('key'))} {row.get('count', 0)}"
        for row in counts
        if isinstance(row, dict)
    )
    if shown:
        lines.append(gettext("Count: %(counts)s") % {"counts": shown})
    if result.get("entitled") is not None:
        lines.append(
            gettext("Entitled: %(entitled)s; took part: %(took_part)s")
            % {"entitled": result.get("entitled"), "took_part": result.get("took_part", 0)}
        )
    outcome = result.get("outcome") or {}
    citation = outcome.get("citation") or outcome.get("basis")
    if citation:
        lines.append(gettext("Rule: %(basis)s") % {"basis": citation})
    # The notice is signed by the committee; the chair is in the minutes, not on the board.
    return "\n".join(lines)


@transaction.atomic
def resolution_publish(*, actor, resolution: Resolution) -> Resolution:
    """Publish a resolution on the board (kind "resolution"), with an objection window."""
    from linli.notices.services import notice_publish

    meeting = resolution.meeting
    _check_manage(actor, meeting.path)
    resolution = (
        Resolution.objects.select_for_update(of=("self",))
        .select_related("meeting")
        .get(pk=resolution.pk)
    )
    if resolution.notice_id is not None:
        raise ValidationError(ALREADY_PUBLISHED)
    notice = notice_publish(
        actor=actor,
        place=meeting.place,
        kind="resolution",
        title=gettext("Resolution: %(title)s") % {"title": resolution.text[:80]},
        body=resolution_body(resolution),
        source=f"resolution:{resolution.pk}",
    )
    resolution.notice = notice
    resolution.published_at = timezone.now()
    resolution.save(update_fields=["notice", "published_at"])
    _audit(actor, "resolution.publish", resolution, meeting, notice=notice.pk)
    return resolution


# --- petitions to convene ---------------------------------------------------------------------


PETITION_MODES = {
    PetitionKind.RESIDENTS_MEETING: (
        AttendanceMode.ADULTS,
        AttendanceMode.HOUSEHOLDS,
        AttendanceMode.GROUP_REPS,
    ),
    PetitionKind.OWNERS_EXTRAORDINARY: (AttendanceMode.OWNERS,),
}
PETITION_PLACES = {
    PetitionKind.RESIDENTS_MEETING: PlaceKind.COMMITTEE,
    PetitionKind.OWNERS_EXTRAORDINARY: PlaceKind.COMPOUND,
}


@transaction.atomic
def petition_create(
    *,
    actor,
    place: Place,
    kind: str,
    subject: str,
    mode: str | None = None,
    groups_total: int | None = None,
) -> Petition:
    """Open a proposal to convene (RC-05: 1/5 of adults or households, 1/3 of groups;
    OW-SH-03: 20% of owners), whose signatures workers record."""
    _check_manage(actor, place.path)
    errors: dict[str, list] = {}
    if kind not in PetitionKind.values:
        raise ValidationError({"kind": [_("Choose one of the listed values.")]})
    mode = mode or PETITION_MODES[kind][0]
    if place.kind != PETITION_PLACES[kind]:
        errors["place"] = [PETITION_PLACE]
    if mode not in PETITION_MODES[kind]:
        errors["mode"] = [PETITION_MODE]
    if mode == AttendanceMode.GROUP_REPS and not groups_total:
        errors["groups_total"] = [GROUPS_TOTAL_REQUIRED]
    if not (subject or "").strip():
        errors["subject"] = [SUBJECT_REQUIRED]
    if errors:
        raise ValidationError(errors)
    petition = Petition(
        place=place,
        path=place.path,
        kind=kind,
        mode=mode,
        subject=subject.strip()[:200],
        groups_total=groups_total if mode == AttendanceMode.GROUP_REPS else None,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    petition.full_clean()
    petition.save()
    _audit(actor, "petition.create", petition, place, kind=kind, mode=mode)
    return petition


def petition_electorate(petition: Petition, on: dt.date | None = None) -> list:
    """Who may sign: the register's adults, households or owners (none for groups)."""
    from linli.votes.electorate import electorate

    if petition.mode == AttendanceMode.GROUP_REPS:
        return []
    unit = REGISTER_UNITS[petition.mode]
    return electorate(place=petition.place, unit=unit, on=on or timezone.localdate())


@transaction.atomic
def petition_sign(
    *, actor, petition: Petition, key: str = "", group: str = ""
) -> PetitionSignature:
    """Record one petitioner (by voter key from the register, or a residents' group by name)."""
    _check_manage(actor, petition.path)
    Petition.objects.select_for_update().get(pk=petition.pk)
    if petition.mode == AttendanceMode.GROUP_REPS:
        group = (group or "").strip()[:100]
        if not group:
            raise ValidationError({"group": [GROUP_REQUIRED]})
        key, label = f"g:{group}"[:32], group
    else:
        voters = {v.key: v for v in petition_electorate(petition)}
        voter = voters.get(key)
        if voter is None:
            raise ValidationError({"key": [NOT_ENTITLED]})
        label = voter.label
        if petition.mode == AttendanceMode.OWNERS and voter.head:
            # One owner with several units, or the developer's units, sign as one head (OW-06).
            key = f"head:{voter.head}"[:32]
    try:
        with transaction.atomic():
            signature = PetitionSignature.objects.create(
                petition=petition,
                key=key,
                label=label[:120],
                recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
    except IntegrityError:
        raise ValidationError(ALREADY_SIGNED % {"name": label}) from None
    _audit(actor, "petition.sign", signature, petition.place)
    return signature


@transaction.atomic
def petition_unsign(*, actor, signature: PetitionSignature) -> None:
    """Remove a signature recorded by mistake (audited)."""
    petition = signature.petition
    _check_manage(actor, petition.path)
    _audit(actor, "petition.unsign", signature, petition.place)
    signature.delete()


@transaction.atomic
def petition_link_meeting(*, actor, petition: Petition, meeting: Meeting) -> Petition:
    """Record the meeting convened in answer to the proposal."""
    _check_manage(actor, petition.path)
    if not meeting.path.startswith(petition.path[:40]):
        raise ValidationError({"meeting": [ELSEWHERE]})
    petition.meeting = meeting
    petition.save(update_fields=["meeting"])
    _audit(actor, "petition.link", petition, petition.place, meeting=meeting.pk)
    return petition


# --- 四议两公开 -------------------------------------------------------------------------------


def _steps_clean(steps: Iterable) -> list[dict]:
    cleaned = []
    for step in steps:
        if isinstance(step, str):
            key, label = step, ""
        elif isinstance(step, dict):
            key, label = step.get("key", ""), str(step.get("label", ""))[:100]
        else:
            key, label = step[0], str(step[1] if len(step) > 1 else "")[:100]
        if key not in StepKey.values:
            raise ValidationError({"steps": [STEP_UNKNOWN % {"key": key}]})
        cleaned.append({"key": key, "label": label.strip()})
    if len(cleaned) < 2:
        raise ValidationError({"steps": [STEPS_REQUIRED]})
    return cleaned


@transaction.atomic
def procedure_template_save(
    *, actor, committee: Place, name: str, steps: Iterable
) -> ProcedureTemplate:
    """A committee's own ordering of the steps (created, or replaced by name)."""
    _check_manage(actor, committee.path)
    if committee.kind != PlaceKind.COMMITTEE:
        raise ValidationError({"committee": [PROCEDURE_PLACE]})
    name = (name or "").strip()[:100]
    if not name:
        raise ValidationError({"name": [TITLE_REQUIRED]})
    cleaned = _steps_clean(steps)
    template, _created = ProcedureTemplate.objects.update_or_create(
        committee=committee, name=name, defaults={"steps": cleaned, "path": committee.path}
    )
    _audit(actor, "procedure_template.save", template, committee, steps=cleaned)
    return template


@transaction.atomic
def procedure_create(
    *,
    actor,
    place: Place,
    title: str,
    description: str = "",
    topic=None,
    template: ProcedureTemplate | None = None,
) -> Procedure:
    """Start 四议两公开 for a major matter with the template's steps (or the default six)."""
    _check_manage(actor, place.path)
    if place.kind != PlaceKind.COMMITTEE:
        raise ValidationError({"place": [PROCEDURE_PLACE]})
    if not (title or "").strip():
        raise ValidationError({"title": [TITLE_REQUIRED]})
    if template is not None and template.committee_id != place.pk:
        raise ValidationError({"template": [ELSEWHERE]})
    if topic is not None and not topic.path.startswith(place.path):
        raise ValidationError({"topic": [TOPIC_ELSEWHERE]})
    steps = (
        template.steps if template is not None else [{"key": k, "label": ""} for k in DEFAULT_STEPS]
    )
    procedure = Procedure.objects.create(
        place=place,
        path=place.path,
        title=title.strip()[:200],
        description=(description or "").strip(),
        topic=topic,
        template=template,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    ProcedureStep.objects.bulk_create(
        ProcedureStep(procedure=procedure, position=i, key=s["key"], label=s.get("label", ""))
        for i, s in enumerate(steps, start=1)
    )
    _audit(actor, "procedure.create", procedure, place, steps=[s["key"] for s in steps])
    return procedure


@transaction.atomic
def procedure_step_complete(
    *,
    actor,
    procedure: Procedure,
    position: int,
    record: str = "",
    meeting: Meeting | None = None,
    now: dt.datetime | None = None,
) -> ProcedureStep:
    """Record step `position` as done. Steps are taken strictly in order; the resolution step
    needs a closed meeting of the committee with a passed resolution; the two publication steps
    publish notices on the board (the record is the notice's text)."""
    from linli.notices.services import notice_publish

    _check_manage(actor, procedure.path)
    procedure = (
        Procedure.objects.select_for_update(of=("self",))
        .select_related("place")
        .get(pk=procedure.pk)
    )
    steps = list(procedure.steps.order_by("position"))
    step = next((s for s in steps if s.position == position), None)
    if step is None:
        raise ValidationError(STEP_UNKNOWN % {"key": position})
    if step.done_at is not None:
        raise ValidationError(STEP_DONE)
    for earlier in steps:
        if earlier.position < position and earlier.done_at is None:
            raise ValidationError(STEP_ORDER % {"previous": earlier.display_label})
    record = (record or "").strip()
    if step.key == StepKey.RESOLUTION:
        if (
            meeting is None
            or not meeting.path.startswith(procedure.path)
            or meeting.state not in (MeetingState.CLOSED, MeetingState.MINUTES_PUBLISHED)
            or not meeting.resolutions.all().exists()
        ):
            raise ValidationError({"meeting": [RESOLUTION_MEETING]})
        if not record:
            record = "\n".join(r.text for r in meeting.resolutions.all())
    elif meeting is not None and not meeting.path.startswith(procedure.path):
        raise ValidationError({"meeting": [ELSEWHERE]})
    if len(record) < 2:
        raise ValidationError({"record": [STEP_RECORD_REQUIRED]})
    if step.key in (StepKey.PUBLISH_RESOLUTION, StepKey.PUBLISH_RESULT):
        kind = "resolution" if step.key == StepKey.PUBLISH_RESOLUTION else "procedure"
        step.notice = notice_publish(
            actor=actor,
            place=procedure.place,
            kind=kind,
            title=f"{procedure.title} · {step.display_label}",
            body=record,
            source=f"procedure:{procedure.pk}",
        )
    step.done_at = now or timezone.now()
    step.actor = actor if getattr(actor, "is_authenticated", False) else None
    step.record = record
    step.meeting = meeting
    step.save(update_fields=["done_at", "actor", "record", "meeting", "notice"])
    if all(s.done_at is not None for s in steps if s.pk != step.pk):
        procedure.completed_at = step.done_at
        procedure.save(update_fields=["completed_at"])
    _audit(
        actor,
        "procedure.step",
        procedure,
        procedure.place,
        step=step.key,
        position=position,
        meeting=meeting.pk if meeting else None,
        notice=step.notice_id,
    )
    return step
