"""The kinds, modes and states of meetings, motions, petitions and procedures."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli.places.choices import PlaceKind


class MeetingKind(models.TextChoices):
    RESIDENTS_MEETING = "residents_meeting", _("Residents' meeting")  # 居民会议
    REPRESENTATIVES_MEETING = (
        "representatives_meeting",
        _("Residents' representatives' meeting"),  # 居民代表会议
    )
    HEARING = "hearing", _("Hearing")  # 听证会
    COORDINATION = "coordination", _("Coordination meeting")  # 协调会
    REVIEW = "review", _("Review meeting")  # 评议会
    JOINT_MEETING = "joint_meeting", _("Joint meeting (1+5+X)")  # 联席会议
    OWNERS_ASSEMBLY = "owners_assembly", _("Owners' assembly")  # 业主大会


class AttendanceMode(models.TextChoices):
    """Who is invited and who makes up the quorum base (RC-02 for residents' meetings)."""

    ADULTS = "adults", _("All residents aged 18 and over")
    HOUSEHOLDS = "households", _("One representative per household")
    GROUP_REPS = "group_reps", _("Representatives elected by residents' groups")
    MEMBERS = "members", _("Named members")
    OWNERS = "owners", _("Owners")


class MeetingForm(models.TextChoices):
    IN_PERSON = "in_person", _("Meeting in person")
    WRITTEN = "written_consultation", _("Written consultation (书面征求意见)")


class MeetingState(models.TextChoices):
    # Their own context: "In progress" is a meeting under way (进行中), not a work order being
    # handled (处置中).
    DRAFT = "draft", pgettext_lazy("meeting state", "Draft")
    ANNOUNCED = "announced", pgettext_lazy("meeting state", "Announced")
    IN_PROGRESS = "in_progress", pgettext_lazy("meeting state", "In progress")
    CLOSED = "closed", pgettext_lazy("meeting state", "Closed")
    MINUTES_PUBLISHED = "minutes_published", pgettext_lazy("meeting state", "Minutes published")
    CANCELLED = "cancelled", pgettext_lazy("meeting state", "Cancelled")


class Party(models.TextChoices):
    """Which side an invited member comes from (the 1+5+X of a joint meeting)."""

    RESIDENT = "resident", _("Resident")
    OWNER = "owner", _("Owner")
    PARTY_BRANCH = "party_branch", _("Party branch")
    COMMITTEE = "committee", _("Residents' committee")
    OWNERS_COMMITTEE = "owners_committee", _("Owners' committee")
    PROPERTY_MANAGER = "property_manager", _("Property manager")
    UNIT = "unit", _("Resident unit")
    ORGANISATION = "organisation", _("Social organisation")
    RESIDENT_REP = "resident_rep", _("Residents' representative")
    OTHER = "other", pgettext_lazy("party", "Other")


class CheckInMethod(models.TextChoices):
    QR = "qr", _("QR code scanned at the door")
    LIST = "list", _("Ticked on the list")
    SELF = "self", _("Checked in on their own phone")


class MotionKind(models.TextChoices):
    DECISION = "decision", _("Decision (yes / no / abstain)")
    EVALUATION = "evaluation", _("Evaluation of the committee (scores)")
    ELECTION = "election", _("Election")


class MotionState(models.TextChoices):
    PENDING = "pending", _("Not yet voted")
    OPEN = "open", _("Voting")
    CLOSED = "closed", pgettext_lazy("motion", "Closed")


class OwnersRule(models.TextChoices):
    """Civil Code art. 278: items 6–8 need three quarters, the others a majority."""

    ORDINARY = "owners_ordinary", _("Ordinary matter (majority)")
    SPECIAL = "owners_special", _("Special matter (three quarters)")


class PetitionKind(models.TextChoices):
    RESIDENTS_MEETING = "residents_meeting", _("Proposal to convene a residents' meeting")
    OWNERS_EXTRAORDINARY = (
        "owners_extraordinary",
        _("Proposal to convene an extraordinary owners' assembly"),
    )


class StepKey(models.TextChoices):
    """The steps of 四议两公开; a committee's template orders them (and may add others)."""

    PROPOSAL = "proposal", _("Proposal (提议)")
    CONSULTATION = "consultation", _("Consultation (商议)")
    REVIEW = "review", _("Review (审议)")
    RESOLUTION = "resolution", _("Resolution (决议)")
    PUBLISH_RESOLUTION = "publish_resolution", _("Publish the resolution (决议公开)")
    PUBLISH_RESULT = "publish_result", _("Publish the result (实施结果公开)")
    OTHER = "other", pgettext_lazy("step", "Other step")


DEFAULT_STEPS = [
    StepKey.PROPOSAL,
    StepKey.CONSULTATION,
    StepKey.REVIEW,
    StepKey.RESOLUTION,
    StepKey.PUBLISH_RESOLUTION,
    StepKey.PUBLISH_RESULT,
]

# Where each kind may be held.
PLACE_KINDS: dict[str, frozenset[str]] = {
    MeetingKind.RESIDENTS_MEETING: frozenset({PlaceKind.COMMITTEE}),
    MeetingKind.REPRESENTATIVES_MEETING: frozenset({PlaceKind.COMMITTEE, PlaceKind.STREET}),
    MeetingKind.HEARING: frozenset({PlaceKind.COMMITTEE, PlaceKind.COMPOUND, PlaceKind.STREET}),
    MeetingKind.COORDINATION: frozenset(
        {PlaceKind.COMMITTEE, PlaceKind.COMPOUND, PlaceKind.STREET}
    ),
    MeetingKind.REVIEW: frozenset({PlaceKind.COMMITTEE, PlaceKind.COMPOUND, PlaceKind.STREET}),
    MeetingKind.JOINT_MEETING: frozenset(
        {PlaceKind.COMMITTEE, PlaceKind.COMPOUND, PlaceKind.STREET}
    ),
    MeetingKind.OWNERS_ASSEMBLY: frozenset({PlaceKind.COMPOUND}),
}

# Which attendance modes each kind allows (RC-02: the residents' meeting picks one of three).
MODES: dict[str, tuple[str, ...]] = {
    MeetingKind.RESIDENTS_MEETING: (
        AttendanceMode.ADULTS,
        AttendanceMode.HOUSEHOLDS,
        AttendanceMode.GROUP_REPS,
    ),
    MeetingKind.REPRESENTATIVES_MEETING: (AttendanceMode.MEMBERS,),
    MeetingKind.HEARING: (AttendanceMode.MEMBERS,),
    MeetingKind.COORDINATION: (AttendanceMode.MEMBERS,),
    MeetingKind.REVIEW: (AttendanceMode.MEMBERS,),
    MeetingKind.JOINT_MEETING: (AttendanceMode.MEMBERS,),
    MeetingKind.OWNERS_ASSEMBLY: (AttendanceMode.OWNERS,),
}

# The modes whose invitation list comes from the register (votes.selectors.electorate), and the
# voting unit each uses; the others are lists the worker enters.
REGISTER_UNITS: dict[str, str] = {
    AttendanceMode.ADULTS: "person",
    AttendanceMode.HOUSEHOLDS: "household",
    AttendanceMode.OWNERS: "owner",
}

# The vote rule of a kind's motions (owners' motions choose ordinary or special per matter).
RULES: dict[str, str] = {
    MeetingKind.RESIDENTS_MEETING: "residents_meeting",
    MeetingKind.REPRESENTATIVES_MEETING: "representatives_meeting",
    MeetingKind.HEARING: "consultative_meeting",
    MeetingKind.COORDINATION: "consultative_meeting",
    MeetingKind.REVIEW: "consultative_meeting",
    MeetingKind.JOINT_MEETING: "consultative_meeting",
    MeetingKind.OWNERS_ASSEMBLY: OwnersRule.ORDINARY,
}

# Written consultation (书面征求意见) is a form of owners' decisions (OW-11) and of residents'
# matters decided door to door.
WRITTEN_KINDS = frozenset({MeetingKind.OWNERS_ASSEMBLY, MeetingKind.RESIDENTS_MEETING})

# Days of notice by kind, when settings.LINLI_MEETING_NOTICE_DAYS does not say otherwise.
# SH-02 asks for advance notice with the agenda but gives no number (7 is a policy default, ⚠️);
# PR-08: owners' assembly materials 15 days before.
NOTICE_DAYS: dict[str, int] = {
    MeetingKind.RESIDENTS_MEETING: 7,
    MeetingKind.REPRESENTATIVES_MEETING: 7,
    MeetingKind.HEARING: 7,
    MeetingKind.COORDINATION: 3,
    MeetingKind.REVIEW: 7,
    MeetingKind.JOINT_MEETING: 3,
    MeetingKind.OWNERS_ASSEMBLY: 15,
}
