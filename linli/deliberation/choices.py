from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class SupportUnit(models.TextChoices):
    """Who backs a topic once: a household (its members share one backing) or each person."""

    HOUSEHOLD = "household", _("One backing per household")
    PERSON = "person", _("One backing per person")


class TopicCategory(models.TextChoices):
    ENVIRONMENT = "environment", _("Environment and greenery")
    SAFETY = "safety", _("Safety")
    FACILITIES = "facilities", _("Public facilities")
    PARKING = "parking", _("Parking and traffic")
    ELDERLY_CHILDREN = "elderly_children", _("Elderly people and children")
    NEIGHBOURS = "neighbours", _("Neighbourly relations")
    SERVICES = "services", _("Community services")
    OTHER = "other", pgettext_lazy("topic category", "Other")


class TopicState(models.TextChoices):
    OPEN = "open", _("Open for backing")
    ON_AGENDA_LIST = "on_agenda_list", _("Enough backing: awaiting the committee")
    SCHEDULED = "scheduled", _("On a meeting agenda")
    REFERRED = "referred", _("Referred as a work order")
    DECLINED = "declined", _("Declined")
    MERGED = "merged", _("Merged into another topic")
    ARCHIVED = "archived", _("Archived")
    DONE = "done", _("Done")


# Residents may back (and withdraw) only while the committee has not taken the topic up.
BACKABLE_STATES = frozenset({TopicState.OPEN, TopicState.ON_AGENDA_LIST})
# The committee still owes these an answer.
ANSWERABLE_STATES = BACKABLE_STATES
# A topic is turned into a work order from these (a scheduled topic may still be referred).
REFERABLE_STATES = frozenset({*BACKABLE_STATES, TopicState.SCHEDULED})
# Taken up, under way: they end as done.
UNDER_WAY_STATES = frozenset({TopicState.SCHEDULED, TopicState.REFERRED})
# Merging moves backing into a topic that is still alive.
MERGE_TARGET_STATES = frozenset({*BACKABLE_STATES, *UNDER_WAY_STATES})
# No comments any more: the conversation continues elsewhere (merged) or is over (archived).
SILENT_STATES = frozenset({TopicState.MERGED, TopicState.ARCHIVED})
# Quiet for the committee's archive period: these are put away. Flagged, scheduled and referred
# topics wait for the committee's work and are never archived by the clock.
ARCHIVABLE_STATES = frozenset({TopicState.OPEN, TopicState.DECLINED, TopicState.DONE})
# Left out of the default list (a filter still finds them).
PUT_AWAY_STATES = frozenset({TopicState.MERGED, TopicState.ARCHIVED})


class AnswerKind(models.TextChoices):
    ACCEPTED_TO_AGENDA = "accepted_to_agenda", _("Accepted to a meeting agenda")
    REFERRED = "referred", _("Referred as a work order")
    DECLINED = "declined", _("Declined")


class CommentState(models.TextChoices):
    VISIBLE = "visible", _("Visible")
    HIDDEN = "hidden", _("Hidden by the committee")
    PENDING_REVIEW = "pending_review", _("Hidden pending review")


class AppealState(models.TextChoices):
    OPEN = "open", _("Awaiting a decision")
    UPHELD = "upheld", _("Upheld: the comment is shown again")
    REJECTED = "rejected", _("Rejected: the comment stays hidden")
