from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class VoteKind(models.TextChoices):
    """What is decided: the shape of a ballot follows from it."""

    MOTION = "motion", _("Motion (yes / no / abstain)")
    OWNERS = "owners", _("Owners' decision (area and headcount)")
    ELECTION = "election", _("Election")
    BUDGET = "budget", _("Participatory budget")
    POLL = "poll", _("Poll or survey")


class PollMethod(models.TextChoices):
    SINGLE = "single", _("One choice")
    MULTIPLE = "multiple", _("Several choices")
    RANKING = "ranking", _("Ranking")
    SCORE = "score", _("Scores")


class VotingUnit(models.TextChoices):
    """Who holds a vote: the rule setting of RULES.md RC-02 / OW-06."""

    PERSON = "person", _("Each adult resident")
    HOUSEHOLD = "household", _("Each household (one representative)")
    OWNER = "owner", _("Each owner (area and headcount)")
    LIST = "list", _("An explicit list (attendees, representatives)")


class MeetingMode(models.TextChoices):
    """Attendance mode of a residents' meeting (RC-02): the quorum base."""

    ADULTS = "adults", _("All adult residents")
    HOUSEHOLDS = "households", _("One representative per household")
    GROUP_REPS = "group_reps", _("Representatives of the residents' groups")


class VoteState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", pgettext_lazy("vote", "Open")
    CLOSED = "closed", pgettext_lazy("vote", "Closed")
    CANCELLED = "cancelled", pgettext_lazy("vote", "Cancelled")


class Channel(models.TextChoices):
    """How a ballot reached the count."""

    ONLINE = "online", _("Online")
    MEETING = "meeting", _("At the meeting")
    PAPER = "paper", _("Paper ballot (written consultation)")
    PROXY = "proxy", _("By proxy")


# Ballots a worker records that a second, different worker must confirm before they count.
CONFIRMED_CHANNELS = frozenset({Channel.PAPER, Channel.PROXY})
RECORDED_CHANNELS = frozenset({Channel.MEETING, Channel.PAPER, Channel.PROXY})


class ParticipationState(models.TextChoices):
    COUNTED = "counted", _("Counted")
    PENDING = "pending", _("Awaiting a second worker's confirmation")
    REJECTED = "rejected", _("Rejected")


class MotionAnswer(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    ABSTAIN = "abstain", _("Abstain")


class OwnersMatter(models.TextChoices):
    """The matters of 民法典 art. 278(1) (OW-01), with the codes of rules.owners.OwnersMatter:
    items 6–8 need three quarters (OW-03); using the fund (item 5) is an ordinary matter."""

    RULES_OF_PROCEDURE = "rules_of_procedure", _("Rules of procedure (议事规则)")
    MANAGEMENT_STATUTE = "management_statute", _("Management covenant (管理规约)")
    OWNERS_COMMITTEE = "owners_committee", _("Elect or replace the owners' committee")
    PROPERTY_MANAGER = "property_manager", _("Hire or dismiss the property manager")
    FUND_USE = "maintenance_fund_use", _("Use the maintenance fund")
    FUND_RAISE = "maintenance_fund_raise", _("Raise the maintenance fund")
    ALTER_REBUILD = "alter_or_rebuild", _("Alter or rebuild buildings and facilities")
    COMMON_PARTS_USE = (
        "common_parts_use_or_business",
        _("Change the use of common parts or run a business on them"),
    )
    OTHER_MAJOR = "other_major_matter", _("Other major matter of common ownership")
    COMMON_PARTS_DISPOSAL = "common_parts_disposal", _("Dispose of common parts")
