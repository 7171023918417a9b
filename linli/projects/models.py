"""Fund projects (项目化): a committee's application for residents' self-governance money, from
plan to published outcome, every step on record.

A `Project` moves through `choices.ProjectState` by the services only (services.py), each move
written as a `ProjectStep` (who, in what role, when, what was recorded). Its `BudgetLine`s are
the only things money can be paid against; a `Payment` is requested against one line, approved
by the people the street's profile names, then posted to the ledger (funds.services), and must
be published on the board within the profile's days (`disclose_by`). The public notice and the
objections to it live in the notices app; reviews and evaluations are `Review`s; residents'
satisfaction is `SurveyResponse`.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.scoping import ScopedQuerySet
from linli.funds.models import MONEY, Commitment, Transaction
from linli.notices.models import Notice
from linli.places.models import Place
from linli.projects.choices import ExpenseCategory, PaymentState, ProjectState, Stage, Step

USER = settings.AUTH_USER_MODEL


class Project(models.Model):
    place = models.ForeignKey(
        Place, verbose_name=_("community"), on_delete=models.PROTECT, related_name="projects"
    )
    path = models.CharField(_("path"), max_length=80, db_index=True, editable=False)
    compound = models.ForeignKey(
        Place,
        verbose_name=_("compound"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("When the project serves one compound: its participation rate is shown."),
    )
    year = models.PositiveSmallIntegerField(_("year"))
    title = models.CharField(_("project name"), max_length=200)
    plan = models.TextField(_("plan"), help_text=_("What will be done, by whom, when, and why."))
    beneficiaries = models.TextField(_("beneficiaries"))
    beneficiary_count = models.PositiveIntegerField(_("number of beneficiaries"))
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"))
    topic = models.ForeignKey(
        "deliberation.Topic",
        verbose_name=_("topic that raised it"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="projects",
    )
    meeting = models.ForeignKey(
        "meetings.Meeting",
        verbose_name=_("meeting that decided it"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="projects",
    )
    state = models.CharField(
        _("state"), max_length=16, choices=ProjectState.choices, default=ProjectState.DRAFT
    )
    budget = models.DecimalField(_("budget (yuan)"), default=0, **MONEY)
    # The participation rate when it was submitted (利益勾连), kept as the figures behind it.
    participation_households = models.PositiveIntegerField(null=True, blank=True)
    participation_total = models.PositiveIntegerField(null=True, blank=True)
    review_score = models.DecimalField(
        _("review score"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    evaluation_score = models.DecimalField(
        _("evaluation score"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    notice = models.ForeignKey(
        Notice,
        verbose_name=_("public notice"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    commitment = models.OneToOneField(
        Commitment,
        verbose_name=_("commitment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="project",
    )
    completion_report = models.TextField(_("completion report"), blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    created_by = models.ForeignKey(
        USER, verbose_name=_("applied by"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    objects = ScopedQuerySet.as_manager()
    scope_path = "path"

    class Meta:
        verbose_name = _("fund project")
        verbose_name_plural = _("fund projects")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=ProjectState.values), name="project_state_valid"
            ),
            models.CheckConstraint(condition=Q(budget__gte=0), name="project_budget_positive"),
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="project_dates_ordered"
            ),
            models.CheckConstraint(
                condition=Q(commitment__isnull=True)
                | ~Q(state__in=["draft", "submitted", "checked", "reviewed", "publicised"]),
                name="project_committed_once_approved",
            ),
        ]
        indexes = [models.Index(fields=["path", "state"], name="project_path_state")]

    def __str__(self) -> str:
        return self.title

    @property
    def scope_place(self) -> str:
        return self.path

    def audit_label(self) -> str:
        return f"#{self.pk} {self.title}"


class BudgetLine(models.Model):
    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="lines"
    )
    position = models.PositiveSmallIntegerField(_("line"))
    category = models.CharField(_("category"), max_length=40, choices=ExpenseCategory.choices)
    item = models.CharField(_("what it buys"), max_length=200)
    amount = models.DecimalField(_("amount (yuan)"), **MONEY)

    class Meta:
        verbose_name = _("budget line")
        verbose_name_plural = _("budget lines")
        ordering = ["project", "position"]
        constraints = [
            models.UniqueConstraint(fields=["project", "position"], name="budget_line_position"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="budget_line_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.item}"


class ProjectStep(models.Model):
    """One step of a project's record: never changed, never deleted (services only add)."""

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.PROTECT, related_name="steps"
    )
    step = models.CharField(_("step"), max_length=24, choices=Step.choices)
    from_state = models.CharField(_("from"), max_length=16, blank=True)
    to_state = models.CharField(_("to"), max_length=16, blank=True)
    actor = models.ForeignKey(
        USER, verbose_name=_("by"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(_("role"), max_length=32, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)
    note = models.TextField(_("record"), blank=True)
    data = models.JSONField(_("figures"), default=dict, blank=True)

    class Meta:
        verbose_name = _("project step")
        verbose_name_plural = _("project steps")
        ordering = ["project", "at", "id"]

    def __str__(self) -> str:
        return f"{self.project_id} {self.step}"


class Review(models.Model):
    """One reviewer's scores for a project's application or its evaluation, or their declared
    conflict of interest (then no scores: they stand aside)."""

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.PROTECT, related_name="reviews"
    )
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices)
    reviewer = models.ForeignKey(
        USER, verbose_name=_("reviewer"), on_delete=models.PROTECT, related_name="+"
    )
    conflict = models.BooleanField(_("conflict of interest declared"), default=False)
    conflict_note = models.CharField(_("conflict of interest"), max_length=500, blank=True)
    scores = models.JSONField(_("scores"), default=dict, blank=True)
    total = models.DecimalField(_("total"), max_digits=5, decimal_places=2, null=True, blank=True)
    opinion = models.TextField(_("opinion"), blank=True)
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["project", "stage", "submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "stage", "reviewer"], name="review_once_per_reviewer"
            ),
            models.CheckConstraint(
                condition=Q(conflict=True, total__isnull=True)
                | Q(conflict=False, total__isnull=False),
                name="review_scores_or_conflict",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.stage} {self.reviewer_id}"


class Payment(models.Model):
    """Money asked for against one budget line; posted to the ledger once approved."""

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.PROTECT, related_name="payments"
    )
    line = models.ForeignKey(
        BudgetLine, verbose_name=_("budget line"), on_delete=models.PROTECT, related_name="payments"
    )
    amount = models.DecimalField(_("amount (yuan)"), **MONEY)
    payee = models.CharField(_("payee"), max_length=200)
    invoice = models.FileField(_("invoice"), upload_to="projects/invoices/%Y/", blank=True)
    invoice_number = models.CharField(_("invoice number"), max_length=40, blank=True)
    memo = models.CharField(_("what was bought"), max_length=200)
    on = models.DateField(_("date"))
    state = models.CharField(
        _("state"), max_length=16, choices=PaymentState.choices, default=PaymentState.REQUESTED
    )
    requested_by = models.ForeignKey(
        USER, verbose_name=_("requested by"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    transaction = models.OneToOneField(
        Transaction,
        verbose_name=_("ledger transaction"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="project_payment",
    )
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    refused_reason = models.CharField(_("reason refused"), max_length=500, blank=True)
    disclose_by = models.DateField(_("to publish by"), null=True, blank=True)
    disclosed_in = models.ForeignKey(
        Notice,
        verbose_name=_("published in"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    overdue_notified_at = models.DateTimeField(_("overdue warning sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["project", "requested_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.UniqueConstraint(
                fields=["project", "invoice_number"],
                condition=~Q(invoice_number="") & Q(state__in=["requested", "paid"]),
                name="payment_invoice_once",
            ),
            models.CheckConstraint(
                condition=Q(state=PaymentState.PAID, transaction__isnull=False)
                | (~Q(state=PaymentState.PAID) & Q(transaction__isnull=True)),
                name="payment_paid_has_transaction",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "disclosed_in", "disclose_by"], name="payment_disclose"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} ¥{self.amount}"

    def audit_label(self) -> str:
        return str(self)


class PaymentApproval(models.Model):
    """A signature on a payment (审批单): the requester's is the first."""

    payment = models.ForeignKey(
        Payment, verbose_name=_("payment"), on_delete=models.PROTECT, related_name="approvals"
    )
    user = models.ForeignKey(
        USER, verbose_name=_("signed by"), on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(_("role"), max_length=32, blank=True)
    at = models.DateTimeField(_("signed"), default=timezone.now)

    class Meta:
        verbose_name = _("payment approval")
        verbose_name_plural = _("payment approvals")
        ordering = ["payment", "at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["payment", "user"], name="payment_approval_once"),
        ]

    def __str__(self) -> str:
        return f"{self.payment_id} {self.user_id}"


class SurveyResponse(models.Model):
    """A resident's satisfaction with a finished project (1–5), one per resident."""

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.PROTECT, related_name="survey"
    )
    user = models.ForeignKey(
        USER, verbose_name=_("resident"), on_delete=models.CASCADE, related_name="+"
    )
    score = models.PositiveSmallIntegerField(
        _("satisfaction"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    at = models.DateTimeField(_("answered"), default=timezone.now)

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        ordering = ["project", "at"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="survey_once_per_resident"),
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5), name="survey_score_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.score}"
