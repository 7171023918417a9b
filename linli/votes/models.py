"""Votes and elections: the question, its options, the frozen electorate, who voted and how.

Who voted (`Participation`) and how (`Ballot`) are separate rows. In an open vote a ballot
names its participation; in a secret vote it does not, carries no time, and has a random
primary key, so nothing in the application leads from a voter to their choice. The database
holds what must hold: one participation per voter and question across every channel (a unique
index), the electorate and the secrecy flags frozen once voting opens (triggers, migration
0002), a worker never confirming their own paper ballot (a check).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from linli.core.scoping import ScopedQuerySet
from linli.people.models import Household, Owner, Resident
from linli.places.models import Place
from linli.votes.choices import (
    Channel,
    MeetingMode,
    OwnersMatter,
    ParticipationState,
    PollMethod,
    VoteKind,
    VoteState,
    VotingUnit,
)

DEFAULT_SCORE_MAX = 5


class Vote(models.Model):
    """One question put to an electorate in a committee, compound or building.

    The electorate is frozen into `Entitlement` rows when voting opens, and its totals (count,
    area, heads) are kept here from then on; results are recomputed from the ballots on every
    read.
    """

    place = models.ForeignKey(
        Place,
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="votes",
        help_text=_("The committee, compound or building whose people vote."),
    )
    path = models.CharField(_("path"), max_length=80, db_index=True, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=VoteKind.choices)
    title = models.CharField(_("question"), max_length=200)
    description = models.TextField(_("explanation"), blank=True)
    rule_id = models.CharField(_("rule"), max_length=40)
    method = models.CharField(
        _("poll method"), max_length=16, choices=PollMethod.choices, blank=True
    )
    unit = models.CharField(_("who votes"), max_length=16, choices=VotingUnit.choices)
    mode = models.CharField(
        _("meeting attendance mode"),
        max_length=16,
        choices=MeetingMode.choices,
        blank=True,
        help_text=_("For residents' meeting rules: the base of the quorum."),
    )
    owners_matter = models.CharField(
        _("owners' matter"), max_length=32, choices=OwnersMatter.choices, blank=True
    )
    secret = models.BooleanField(
        _("secret ballot"),
        default=False,
        help_text=_("Who voted is kept apart from how. Cannot be changed once voting opens."),
    )
    hide_results = models.BooleanField(
        _("hide results until closed"),
        default=False,
        help_text=_("Only turnout is shown while voting is open. Cannot be changed once open."),
    )
    state = models.CharField(
        _("state"), max_length=16, choices=VoteState.choices, default=VoteState.DRAFT
    )
    opens_at = models.DateTimeField(_("opened"), null=True, blank=True)
    closes_at = models.DateTimeField(_("closes"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    on_date = models.DateField(
        _("date of the rules"),
        null=True,
        blank=True,
        help_text=_("The opening date: the rule version in force then decides."),
    )
    base_count = models.PositiveIntegerField(
        _("quorum base"),
        null=True,
        blank=True,
        help_text=_("When the voters are a meeting's attendees: how many were entitled to attend."),
    )
    seats = models.PositiveSmallIntegerField(_("seats"), null=True, blank=True)
    runoff = models.BooleanField(
        _("run-off"),
        default=False,
        help_text=_(
            "A further election (另行选举) for seats left vacant: seats are the vacancies."
        ),
    )
    budget = models.DecimalField(
        _("budget (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    min_share = models.DecimalField(
        _("minimum share of the budget a ballot must use"),
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("A fraction, e.g. 0.5."),
    )
    min_projects = models.PositiveSmallIntegerField(_("fewest projects"), null=True, blank=True)
    max_projects = models.PositiveSmallIntegerField(_("most projects"), null=True, blank=True)
    score_max = models.PositiveSmallIntegerField(_("highest score"), default=DEFAULT_SCORE_MAX)
    # Frozen by vote_open: the community's rule overrides then in force (a later change of
    # the settings must not change a decided result) and the electorate's totals.
    overrides = models.JSONField(_("rule overrides"), default=dict, blank=True, editable=False)
    entitled_count = models.PositiveIntegerField(_("entitled voters"), default=0, editable=False)
    entitled_area = models.DecimalField(
        _("entitled area (m²)"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        editable=False,
    )
    entitled_heads = models.PositiveIntegerField(
        _("entitled heads"), null=True, blank=True, editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ScopedQuerySet.as_manager()
    scope_path = "path"

    class Meta:
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind=VoteKind.POLL) & ~Q(method=""))
                | (~Q(kind=VoteKind.POLL) & Q(method="")),
                name="vote_method_for_polls",
            ),
            models.CheckConstraint(
                condition=~Q(kind=VoteKind.ELECTION) | Q(seats__gt=0),
                name="vote_election_seats",
            ),
            models.CheckConstraint(
                condition=~Q(kind=VoteKind.BUDGET) | Q(budget__gt=0),
                name="vote_budget_positive",
            ),
            models.CheckConstraint(
                condition=Q(min_share__isnull=True) | (Q(min_share__gte=0) & Q(min_share__lte=1)),
                name="vote_min_share_fraction",
            ),
            models.CheckConstraint(
                condition=Q(min_projects__isnull=True)
                | Q(max_projects__isnull=True)
                | Q(min_projects__lte=F("max_projects")),
                name="vote_project_bounds",
            ),
            models.CheckConstraint(
                condition=Q(score_max__gte=1) & Q(score_max__lte=100), name="vote_score_max"
            ),
            models.CheckConstraint(
                condition=Q(state__in=[VoteState.DRAFT, VoteState.CANCELLED])
                | Q(opens_at__isnull=False),
                name="vote_opened_at",
            ),
            models.CheckConstraint(
                condition=Q(closes_at__isnull=True)
                | Q(opens_at__isnull=True)
                | Q(closes_at__gt=F("opens_at")),
                name="vote_closes_after_opening",
            ),
        ]
        indexes = [models.Index(fields=["path", "state"], name="vote_path_state")]

    def __str__(self) -> str:
        return self.title

    @property
    def scope_place(self) -> str:
        return self.path

    @property
    def is_open(self) -> bool:
        return self.state == VoteState.OPEN


class Option(models.Model):
    """A choice on the ballot: a candidate, a project (with its cost) or a poll answer.

    Motions and owners' decisions have no options: their answers are yes, no and abstain.
    """

    vote = models.ForeignKey(
        Vote, verbose_name=_("vote"), on_delete=models.CASCADE, related_name="options"
    )
    label = models.CharField(_("label"), max_length=200)
    cost = models.DecimalField(
        _("cost (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("option")
        verbose_name_plural = _("options")
        ordering = ["vote_id", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(cost__isnull=True) | Q(cost__gt=0), name="option_cost_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.label


class Entitlement(models.Model):
    """One voter of the frozen electorate: a resident, a household, an owner or a listed user.

    `label` is stored masked (张*明) and `address` at room level for the workers who record
    paper ballots; neither is ever an ID number or a phone.
    """

    vote = models.ForeignKey(
        Vote, verbose_name=_("vote"), on_delete=models.CASCADE, related_name="entitlements"
    )
    key = models.CharField(_("voter key"), max_length=24)
    resident = models.ForeignKey(
        Resident,
        verbose_name=_("resident"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    owner = models.ForeignKey(
        Owner,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    label = models.CharField(_("voter"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    area = models.DecimalField(
        _("floor area (m²)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    head = models.CharField(_("head"), max_length=24, null=True, blank=True)

    class Meta:
        verbose_name = _("entitlement")
        verbose_name_plural = _("entitlements")
        ordering = ["vote_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["vote", "key"], name="entitlement_unique_key"),
            models.CheckConstraint(
                condition=Q(area__isnull=True) | Q(area__gte=0), name="entitlement_area"
            ),
        ]

    def __str__(self) -> str:
        return self.label


class Participation(models.Model):
    """That a voter took part, through which channel, recorded and confirmed by whom.

    One per voter and question across every channel at once: the database refuses a second
    (a rejected paper ballot no longer holds the slot). Online and meeting ballots count at once;
    paper and proxy ballots count once a second, different worker confirms them.
    """

    vote = models.ForeignKey(
        Vote, verbose_name=_("vote"), on_delete=models.CASCADE, related_name="participations"
    )
    entitlement = models.ForeignKey(
        Entitlement,
        verbose_name=_("voter"),
        on_delete=models.CASCADE,
        related_name="participations",
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    state = models.CharField(_("state"), max_length=16, choices=ParticipationState.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    proxy_name = models.CharField(_("proxy"), max_length=64, blank=True)
    provenance = models.CharField(
        _("provenance"),
        max_length=200,
        blank=True,
        help_text=_("Ballot sheet number, written authorisation, where it was collected."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    at = models.DateTimeField(_("at"))
    # Joins a pending paper ballot to its Ballot row until it is confirmed or rejected, then
    # cleared: afterwards nothing links a secret ballot to its voter.
    pending_key = models.CharField(max_length=32, blank=True, editable=False)

    class Meta:
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        ordering = ["vote_id", "-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["vote", "entitlement"],
                condition=~Q(state=ParticipationState.REJECTED),
                name="participation_one_per_voter",
            ),
            models.CheckConstraint(
                condition=~Q(state=ParticipationState.PENDING)
                | Q(channel__in=[Channel.PAPER, Channel.PROXY]),
                name="participation_pending_paper_only",
            ),
            models.CheckConstraint(
                condition=~Q(channel=Channel.PROXY) | (~Q(proxy_name="") & ~Q(provenance="")),
                name="participation_proxy_authorised",
            ),
            models.CheckConstraint(
                condition=Q(confirmed_by__isnull=True)
                | Q(recorded_by__isnull=True)
                | ~Q(confirmed_by=F("recorded_by")),
                name="participation_second_worker",
            ),
            models.CheckConstraint(
                condition=~(
                    Q(state=ParticipationState.COUNTED)
                    & Q(channel__in=[Channel.PAPER, Channel.PROXY])
                )
                | Q(confirmed_by__isnull=False),
                name="participation_paper_confirmed",
            ),
        ]
        indexes = [models.Index(fields=["vote", "state"], name="participation_vote_state")]

    def __str__(self) -> str:
        return f"{self.entitlement} · {self.get_channel_display()}"


class Ballot(models.Model):
    """How one voter voted. In a secret vote there is no participation link and no time;
    `head` is then a random token (distinct per voter, so heads still count) and the primary
    key is random, so insertion order reveals nothing either.

    `answer` holds a single answer (yes/no/abstain or one option id) for SQL tallies; `choice`
    the whole choice (a list of option ids, a ranking, scores) as the voter gave it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    vote = models.ForeignKey(
        Vote, verbose_name=_("vote"), on_delete=models.CASCADE, related_name="ballots"
    )
    participation = models.OneToOneField(
        Participation,
        verbose_name=_("participation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="ballot",
    )
    answer = models.CharField(_("answer"), max_length=32, blank=True)
    choice = models.JSONField(_("choice"))
    area = models.DecimalField(
        _("floor area (m²)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    head = models.CharField(_("head"), max_length=40, null=True, blank=True)
    counted = models.BooleanField(_("counted"), default=False)
    pending_key = models.CharField(max_length=32, blank=True, editable=False)

    class Meta:
        verbose_name = _("ballot")
        verbose_name_plural = _("ballots")
        constraints = [
            models.CheckConstraint(
                condition=Q(area__isnull=True) | Q(area__gte=0), name="ballot_area"
            ),
        ]
        indexes = [models.Index(fields=["vote", "counted", "answer"], name="ballot_tally")]

    def __str__(self) -> str:
        return str(self.pk)


class RuleSetting(models.Model):
    """A community-wide override of an unverified or policy rule's parameters (RULES.md §7:
    unverified numbers are assumptions, so they are configurable). Verified rules take none."""

    rule_id = models.CharField(_("rule"), max_length=40, unique=True)
    overrides = models.JSONField(_("overrides"), default=dict, blank=True)
    note = models.CharField(
        _("note"), max_length=300, blank=True, help_text=_("Why, and on whose legal advice.")
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("rule setting")
        verbose_name_plural = _("rule settings")
        ordering = ["rule_id"]

    def __str__(self) -> str:
        return self.rule_id
