"""Community funds: a double-entry ledger in which money is never created or lost.

A `Fund` (a committee's office / community-service / self-governance money, a street's
co-governance fund, a community foundation) has a fixed chart of `Account`s
(`choices.FUND_ACCOUNTS`). Every movement of money is a `Transaction` of two or more `Entry` rows
whose signed amounts (debit positive, credit negative, yuan with two places) add up to zero
within each fund. Balances are never stored: they are sums of entries.

What the database itself holds (migration 0002, triggers on SQLite and PostgreSQL):
- entries, transactions and year closes are append-only: no UPDATE, no DELETE; a mistake is
  corrected by a reversing transaction;
- a transaction declares its number of entries and its total; the entry completing it must
  make the entries sum to zero and the debits to the total, and no entry may be added after;
- no entry may be dated in a year its fund has closed.
The services add what needs a lock: no account ever holds a balance on the wrong side of its
normal side, nor any commitment more paid than committed (services.py).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.scoping import ScopedQuerySet
from linli.funds import constants
from linli.funds.choices import (
    AccountKind,
    CommitmentState,
    DonorKind,
    FundKind,
    NegativeItem,
    TransactionKind,
    YearEndRule,
)
from linli.funds.money import check_shares
from linli.places.choices import PlaceKind
from linli.places.models import Place

MONEY = {"max_digits": 14, "decimal_places": 2}
SHARE = {"max_digits": 5, "decimal_places": 4}
STREET_REQUIRED = _("A fund profile belongs to a street.")


class Fund(models.Model):
    """One pot of money of one place, kept apart from every other (fund accounting): each
    transaction balances within each fund it touches."""

    place = models.ForeignKey(
        Place, verbose_name=_("place"), on_delete=models.PROTECT, related_name="funds"
    )
    path = models.CharField(_("path"), max_length=80, db_index=True, editable=False)
    kind = models.CharField(_("kind"), max_length=24, choices=FundKind.choices)
    name = models.CharField(
        _("name"),
        max_length=200,
        blank=True,
        help_text=_("For a foundation, its registered name."),
    )
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)

    objects = ScopedQuerySet.as_manager()
    scope_path = "path"

    class Meta:
        verbose_name = _("fund")
        verbose_name_plural = _("funds")
        ordering = ["path", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["place", "kind"], name="fund_one_per_place_kind"),
            models.CheckConstraint(condition=Q(kind__in=FundKind.values), name="fund_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.name or f"{self.place} · {FundKind(self.kind).label}"

    @property
    def scope_place(self) -> str:
        return self.path


class Account(models.Model):
    """One account of a fund's chart (available, committed, spent, returned, income, donations).
    Its balance is the sum of its entries; there is no balance column to edit."""

    fund = models.ForeignKey(
        Fund, verbose_name=_("fund"), on_delete=models.PROTECT, related_name="accounts"
    )
    path = models.CharField(_("path"), max_length=80, db_index=True, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=AccountKind.choices)

    objects = ScopedQuerySet.as_manager()
    scope_path = "path"

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["fund", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["fund", "kind"], name="account_one_per_fund_kind"),
            models.CheckConstraint(
                condition=Q(kind__in=AccountKind.values), name="account_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fund} · {AccountKind(self.kind).label}"

    @property
    def scope_place(self) -> str:
        return self.path


class Commitment(models.Model):
    """Money of a fund earmarked for one purpose (a project's budget, once projects exist: the
    project points here). What is left of it is the sum of the committed account's entries
    tagged with it; payments can never take it below zero."""

    fund = models.ForeignKey(
        Fund, verbose_name=_("fund"), on_delete=models.PROTECT, related_name="commitments"
    )
    path = models.CharField(_("path"), max_length=80, db_index=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    amount = models.DecimalField(_("amount committed (yuan)"), **MONEY)
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=CommitmentState.choices,
        default=CommitmentState.OPEN,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("committed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("committed at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_path = "path"

    class Meta:
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="commitment_amount_positive"),
            models.CheckConstraint(
                condition=Q(state=CommitmentState.OPEN) | Q(closed_at__isnull=False),
                name="commitment_closed_at",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def scope_place(self) -> str:
        return self.path


class Transaction(models.Model):
    """One journal entry: a balanced movement of money, never changed once written.

    `entry_count` and `amount` (the sum of the debits) are declared when it is written, so the
    database can tell when its last entry arrives and check the whole (migration 0002).
    """

    kind = models.CharField(_("kind"), max_length=16, choices=TransactionKind.choices)
    date = models.DateField(_("date"))
    place = models.ForeignKey(
        Place, verbose_name=_("place"), on_delete=models.PROTECT, related_name="+"
    )
    path = models.CharField(_("path"), max_length=80, editable=False)
    memo = models.TextField(_("memo"), blank=True)
    amount = models.DecimalField(_("amount (yuan)"), **MONEY)
    entry_count = models.PositiveIntegerField(_("entries"))
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("reverses"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversal",
    )
    commitment = models.ForeignKey(
        Commitment,
        verbose_name=_("commitment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transactions",
    )
    source = models.ForeignKey(
        Place,
        verbose_name=_("funded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("For an allocation: the street or district that pays it."),
    )
    counterparty = models.CharField(
        _("counterparty"),
        max_length=200,
        blank=True,
        help_text=_(
            "A payee or funder organisation. Never a private person's name: the ledger cannot "
            "be erased."
        ),
    )
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("posted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    posted_at = models.DateTimeField(_("posted at"), default=timezone.now)

    objects = ScopedQuerySet.as_manager()
    scope_path = "path"

    class Meta:
        verbose_name = _("transaction")
        verbose_name_plural = _("transactions")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transaction_amount_positive"),
            models.CheckConstraint(condition=Q(entry_count__gte=2), name="transaction_two_entries"),
            models.CheckConstraint(
                condition=Q(kind=TransactionKind.REVERSAL, reverses__isnull=False)
                | (~Q(kind=TransactionKind.REVERSAL) & Q(reverses__isnull=True)),
                name="transaction_reversal_names_original",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=TransactionKind.values), name="transaction_kind_valid"
            ),
        ]
        indexes = [models.Index(fields=["path", "date"], name="transaction_path_date")]

    def __str__(self) -> str:
        return f"#{self.pk} {TransactionKind(self.kind).label} {self.date} ¥{self.amount}"

    @property
    def scope_place(self) -> str:
        return self.path


class Entry(models.Model):
    """One line of a transaction: a signed amount on one account (debit positive, credit
    negative), tagged with the commitment it concerns when it is part of one's sub-ledger."""

    transaction = models.ForeignKey(
        Transaction,
        verbose_name=_("transaction"),
        on_delete=models.PROTECT,
        related_name="entries",
    )
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="entries"
    )
    commitment = models.ForeignKey(
        Commitment,
        verbose_name=_("commitment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entries",
    )
    amount = models.DecimalField(
        _("amount (yuan)"), help_text=_("Debit positive, credit negative."), **MONEY
    )

    class Meta:
        verbose_name = _("entry")
        verbose_name_plural = _("entries")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_not_zero"),
        ]
        indexes = [
            models.Index(fields=["account", "id"], name="entry_account_id"),
            models.Index(fields=["commitment", "account"], name="entry_commitment_account"),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.amount:+}"


class Donation(models.Model):
    """Who gave a donation to a foundation. Kept apart from the (unerasable) ledger: a resident
    donor's name is personal data, optional, and can be erased here without touching the books."""

    transaction = models.OneToOneField(
        Transaction,
        verbose_name=_("transaction"),
        on_delete=models.PROTECT,
        related_name="donation",
    )
    fund = models.ForeignKey(
        Fund, verbose_name=_("fund"), on_delete=models.PROTECT, related_name="donations"
    )
    donor_kind = models.CharField(_("donor"), max_length=16, choices=DonorKind.choices)
    donor_name = models.CharField(
        _("donor's name"),
        max_length=100,
        blank=True,
        help_text=_("Required for a unit or an organisation; optional for a resident."),
    )
    anonymous = models.BooleanField(
        _("anonymous"), default=False, help_text=_("Published without the donor's name.")
    )

    class Meta:
        verbose_name = _("donation")
        verbose_name_plural = _("donations")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(donor_kind=DonorKind.RESIDENT) | ~Q(donor_name=""),
                name="donation_names_units_and_organisations",
            ),
        ]

    def __str__(self) -> str:
        return f"{DonorKind(self.donor_kind).label} #{self.pk}"

    def audit_label(self) -> str:
        return str(self)


class YearClose(models.Model):
    """A fund's year closed: what was available, what lapsed, what was returned or carried over.
    Once written, nothing can be posted into that year of the fund (trigger)."""

    fund = models.ForeignKey(
        Fund, verbose_name=_("fund"), on_delete=models.PROTECT, related_name="closes"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    rule = models.CharField(_("year-end rule"), max_length=16, choices=YearEndRule.choices)
    available = models.DecimalField(_("available at year end"), **MONEY)
    lapsed = models.DecimalField(_("unpaid commitments lapsed"), **MONEY)
    returned = models.DecimalField(_("returned"), **MONEY)
    carried = models.DecimalField(_("carried over"), **MONEY)
    transaction = models.OneToOneField(
        Transaction,
        verbose_name=_("transaction"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="year_close",
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed at"), default=timezone.now)

    class Meta:
        verbose_name = _("year close")
        verbose_name_plural = _("year closes")
        ordering = ["-year", "fund"]
        constraints = [
            models.UniqueConstraint(fields=["fund", "year"], name="year_close_once"),
            models.CheckConstraint(
                condition=Q(returned=F("available") + F("lapsed"), carried=0)
                | Q(returned=0, lapsed=0, carried=F("available")),
                name="year_close_returned_or_carried",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fund} {self.year}"


class FundProfile(models.Model):
    """A street's fund rules for one year (RULES.md §4): every number configurable, each
    default with its source status (constants.DEFAULTS). The ledger applies the split and the
    year-end rule; the project workflow will apply the rest."""

    street = models.ForeignKey(
        Place,
        verbose_name=_("street"),
        on_delete=models.PROTECT,
        related_name="fund_profiles",
        limit_choices_to={"kind": PlaceKind.STREET},
    )
    year = models.PositiveSmallIntegerField(_("year"))
    min_self_governance_share = models.DecimalField(
        _("minimum share for self-governance projects"),
        default=constants.default("min_self_governance_share"),
        **SHARE,
    )
    self_governance_share = models.DecimalField(
        _("self-governance share of the allocation"),
        default=constants.default("self_governance_share"),
        **SHARE,
    )
    office_share = models.DecimalField(
        _("office share of the allocation"), default=constants.default("office_share"), **SHARE
    )
    office_cap = models.DecimalField(_("office funds cap (yuan)"), null=True, blank=True, **MONEY)
    per_project_cap = models.DecimalField(
        _("per-project cap (yuan)"), default=constants.default("per_project_cap"), **MONEY
    )
    publicity_days = models.PositiveSmallIntegerField(
        _("publicity days"), default=constants.default("publicity_days")
    )
    year_end = models.CharField(
        _("unspent money at year end"),
        max_length=16,
        choices=YearEndRule.choices,
        default=constants.default("year_end"),
    )
    return_open_commitments = models.BooleanField(
        _("unpaid commitments lapse at year end"),
        default=constants.default("return_open_commitments"),
    )
    negative_list = models.JSONField(
        _("negative list"), default=constants.default_negative_list, blank=True
    )
    require_deliberation = models.BooleanField(
        _("a resident deliberation record is required"),
        default=constants.default("require_deliberation"),
    )
    min_participation_rate = models.DecimalField(
        _("minimum participation rate"), null=True, blank=True, **SHARE
    )
    require_invoice = models.BooleanField(
        _("every payment needs an invoice"), default=constants.default("require_invoice")
    )
    payment_approvals = models.PositiveSmallIntegerField(
        _("approvals per payment"), default=constants.default("payment_approvals")
    )
    disclosure_days = models.PositiveSmallIntegerField(
        _("days to publish after a payment or completion"),
        default=constants.default("disclosure_days"),
    )
    min_reviewers = models.PositiveSmallIntegerField(
        _("reviewers scoring each project"), default=constants.default("min_reviewers")
    )
    pass_score = models.PositiveSmallIntegerField(
        _("review pass mark (of 100)"), default=constants.default("pass_score")
    )
    note = models.TextField(
        _("source document"),
        blank=True,
        help_text=_("The street's own document these numbers come from (title and number)."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("fund profile")
        verbose_name_plural = _("fund profiles")
        ordering = ["street", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["street", "year"], name="fund_profile_once_a_year"),
            models.CheckConstraint(
                condition=Q(min_self_governance_share__gte=0, min_self_governance_share__lte=1)
                & Q(self_governance_share__gte=F("min_self_governance_share"))
                & Q(office_share__gte=0)
                & Q(self_governance_share__lte=1 - F("office_share")),
                name="fund_profile_shares",
            ),
            models.CheckConstraint(
                condition=Q(min_participation_rate__isnull=True)
                | Q(min_participation_rate__gte=0, min_participation_rate__lte=1),
                name="fund_profile_participation_rate",
            ),
            models.CheckConstraint(
                condition=Q(per_project_cap__gt=0, min_reviewers__gte=1, pass_score__lte=100)
                & (Q(office_cap__isnull=True) | Q(office_cap__gte=0)),
                name="fund_profile_caps",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.street} {self.year}"

    @property
    def scope_place(self) -> str:
        return self.street.path

    @property
    def community_service_share(self):
        return 1 - self.office_share - self.self_governance_share

    def clean(self) -> None:
        errors = {}
        if self.street_id and self.street.kind != PlaceKind.STREET:
            errors["street"] = STREET_REQUIRED
        try:
            check_shares(self.office_share, self.self_governance_share)
        except ValidationError as exc:
            errors["office_share"] = exc.messages
        if self.self_governance_share < self.min_self_governance_share:
            errors["self_governance_share"] = _(
                "The self-governance share cannot be below the minimum share (%(min)s)."
            ) % {"min": self.min_self_governance_share}
        items = self.negative_list if isinstance(self.negative_list, list) else [None]
        unknown = {str(item) for item in items} - set(NegativeItem.values)
        if unknown:
            errors["negative_list"] = _("Unknown negative-list items: %(items)s.") % {
                "items": ", ".join(sorted(unknown))
            }
        if errors:
            raise ValidationError(errors)
