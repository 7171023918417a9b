from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.places.choices import PlaceKind


class NoticeKind(models.TextChoices):
    """What a notice discloses (居务公开 content, RULES.md SH-06)."""

    RESOLUTION = "resolution", _("Resolution")
    MEETING = "meeting", _("Meeting notice")
    ELECTION = "election", _("Election")
    VOTE_RESULT = "vote_result", _("Vote result")
    BUDGET = "budget", _("Budget")
    FUND = "fund", _("Fund project")
    ACCOUNTS = "accounts", _("Accounts")
    PROCEDURE = "procedure", _("Procedure step")
    OTHER = "other", _("Other")


class ObjectionState(models.TextChoices):
    OPEN = "open", _("Awaiting an answer")
    ANSWERED = "answered", _("Answered")


class NotificationKind(models.TextChoices):
    MEETING_INVITATION = "meeting_invitation", _("Meeting invitation")
    VOTE_OPEN = "vote_open", _("Vote open")
    VOTE_RESULT = "vote_result", _("Vote result")
    TOPIC_ANSWER = "topic_answer", _("Answer to your topic")
    COMMENT_HIDDEN = "comment_hidden", _("Comment hidden")
    NOTICE = "notice", _("Notice")
    WORK_ORDER = "work_order", _("Work order")
    OTHER = "other", _("Other")


# The places that keep a notice board: the street, each residents' committee and each compound.
BOARD_KINDS = frozenset({PlaceKind.STREET, PlaceKind.COMMITTEE, PlaceKind.COMPOUND})
