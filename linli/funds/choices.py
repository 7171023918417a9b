from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.places.choices import PlaceKind


class FundKind(models.TextChoices):
    """Whose money for what: 办公经费 / 社区服务经费 / 自治金 (RULES.md ZZ-02), 共治金 and
    社区基金会 (seed 002)."""

    OFFICE = "office", _("Office funds")
    COMMUNITY_SERVICE = "community_service", _("Community service funds")
    SELF_GOVERNANCE = "self_governance", _("Self-governance fund")
    CO_GOVERNANCE = "co_governance", _("Co-governance fund")
    FOUNDATION = "foundation", _("Community foundation")


# A committee's working funds, in the order the allocation split names them (ZZ-02).
COMMITTEE_FUNDS = (FundKind.OFFICE, FundKind.COMMUNITY_SERVICE, FundKind.SELF_GOVERNANCE)
# Funds paid for by the street or district: they receive allocations and close at year end.
ALLOCATED_FUNDS = (*COMMITTEE_FUNDS, FundKind.CO_GOVERNANCE)
FUND_PLACE_KIND = {
    FundKind.OFFICE: PlaceKind.COMMITTEE,
    FundKind.COMMUNITY_SERVICE: PlaceKind.COMMITTEE,
    FundKind.SELF_GOVERNANCE: PlaceKind.COMMITTEE,
    FundKind.CO_GOVERNANCE: PlaceKind.STREET,
    FundKind.FOUNDATION: PlaceKind.STREET,
}


class AccountKind(models.TextChoices):
    """The chart of accounts of one fund.

    The fund's money is split by purpose into `available` and `committed` (together: the cash the
    fund holds); `income` and `donations` say where it came from, `spent` and `returned` where it
    went. Amounts are signed, debit positive: so available + committed + spent + returned =
    income + donations (as credit balances) for every fund at every moment.
    """

    AVAILABLE = "available", _("Available")
    COMMITTED = "committed", _("Committed to projects")
    SPENT = "spent", _("Spent")
    RETURNED = "returned", _("Returned at year end")
    INCOME = "income", _("Allocations received")
    DONATIONS = "donations", _("Donations received")


# Debit-normal accounts hold a balance >= 0, credit-normal ones <= 0 (signed, debit positive).
# No account may ever hold a balance on its other side: that is the "never negative" rule.
DEBIT_NORMAL = frozenset(
    {AccountKind.AVAILABLE, AccountKind.COMMITTED, AccountKind.SPENT, AccountKind.RETURNED}
)
CREDIT_NORMAL = frozenset({AccountKind.INCOME, AccountKind.DONATIONS})
_ALLOCATED_CHART = (
    AccountKind.AVAILABLE,
    AccountKind.COMMITTED,
    AccountKind.SPENT,
    AccountKind.RETURNED,
    AccountKind.INCOME,
)
FUND_ACCOUNTS = {
    **dict.fromkeys(ALLOCATED_FUNDS, _ALLOCATED_CHART),
    FundKind.FOUNDATION: (
        AccountKind.AVAILABLE,
        AccountKind.COMMITTED,
        AccountKind.SPENT,
        AccountKind.DONATIONS,
    ),
}


def normal_sign(kind: str) -> int:
    """+1 for a debit-normal account, -1 for a credit-normal one."""
    return 1 if kind in DEBIT_NORMAL else -1


class TransactionKind(models.TextChoices):
    ALLOCATION = "allocation", _("Allocation")
    DONATION = "donation", _("Donation")
    COMMITMENT = "commitment", _("Commitment")
    PAYMENT = "payment", _("Payment")
    REFUND = "refund", _("Refund")
    RELEASE = "release", _("Release of a commitment")
    YEAR_END = "year_end", _("Year-end return")
    REVERSAL = "reversal", _("Reversal")


class DonorKind(models.TextChoices):
    UNIT = "unit", _("Resident unit (company, school, hospital …)")
    ORGANISATION = "organisation", _("Social organisation")
    RESIDENT = "resident", _("Resident")


class CommitmentState(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed, remainder released")
    LAPSED = "lapsed", _("Lapsed at year end")
    CANCELLED = "cancelled", _("Cancelled (commitment reversed)")


class YearEndRule(models.TextChoices):
    RETURN = "return", _("Return unspent money to the funder")
    CARRY_OVER = "carry_over", _("Carry unspent money over to the next year")


class NegativeItem(models.TextChoices):
    """Spending the funds may never buy (RULES.md §4 suggested negative list, UNVERIFIED)."""

    STAFF_PAY = "staff_salary_bonus_welfare", _("Staff salaries, bonuses or welfare")
    BANQUETS = "banquets_and_meals", _("Banquets and meals")
    GIFTS = "gift_cards_cash_gifts", _("Gift cards and cash gifts")
    FIXED_ASSETS = "fixed_assets_over_threshold", _("Fixed assets above the threshold")
    DOUBLE_FUNDING = (
        "items_already_funded_by_other_budgets",
        _("Items already funded by other budgets"),
    )
    COMMERCIAL = "commercial_or_profit_activities", _("Commercial or profit-making activities")
