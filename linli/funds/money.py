"""Money arithmetic with no ORM: parsing yuan, the allocation split, share checks.

Money is `Decimal` yuan with two places (fen) everywhere; a float is refused outright. Sums in the
database are taken in whole fen (`selectors.fen_sum`), so SQLite (which stores a decimal column
as a binary float) adds as exactly as PostgreSQL.

The split rule: the office and community-service parts are the total times their share,
rounded *down* to the fen; the self-governance part is what is left. So the three parts always
add up to the total to the fen, and rounding only ever favours residents' self-governance money,
which therefore never falls below its share (nor below the profile's minimum share).
"""

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

FEN = Decimal("0.01")
ZERO = Decimal("0.00")
ONE = Decimal(1)
MAX_AMOUNT = Decimal("999999999999.99")  # the column holds 14 digits, 2 after the point

MONEY_INVALID = _("Give an amount in yuan, e.g. 12000 or 12000.50.")
MONEY_FEN = _("An amount has at most two decimals (fen): %(value)s.")
MONEY_POSITIVE = _("The amount must be more than zero.")
MONEY_TOO_LARGE = _("The amount is too large.")
SHARES_INVALID = _("The shares must each lie between 0 and 1 and together not exceed 1.")


def parse_money(value, *, allow_zero: bool = False) -> Decimal:
    """Yuan as a Decimal with exactly two places; refuses floats, fractions of a fen, <= 0."""
    if isinstance(value, float | bool):
        raise TypeError("money is never a float (or a bool): pass a str, int or Decimal")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(MONEY_INVALID, code="money_invalid") from None
    if not number.is_finite():
        raise ValidationError(MONEY_INVALID, code="money_invalid")
    if abs(number) > MAX_AMOUNT:
        raise ValidationError(MONEY_TOO_LARGE, code="money_too_large")
    if number != number.quantize(FEN):
        raise ValidationError(MONEY_FEN, code="money_fen", params={"value": number})
    if number < 0 or (number == 0 and not allow_zero):
        raise ValidationError(MONEY_POSITIVE, code="money_positive")
    return number.quantize(FEN)


def yuan(amount: Decimal) -> str:
    """¥12,345.60 — the form every message shows."""
    return f"¥{amount:,.2f}"


def from_fen(fen: int | None) -> Decimal:
    return (Decimal(fen or 0) / 100).quantize(FEN)


def at_least_share(part: Decimal, total: Decimal, share: Decimal) -> bool:
    """part >= share × total, exactly (以上 is inclusive: RULES.md §0.1)."""
    return part >= total * share


@dataclass(frozen=True)
class Split:
    office: Decimal
    community_service: Decimal
    self_governance: Decimal

    @property
    def total(self) -> Decimal:
        return self.office + self.community_service + self.self_governance


def check_shares(office_share: Decimal, self_governance_share: Decimal) -> None:
    if not (
        0 <= office_share <= 1
        and 0 <= self_governance_share <= 1
        and office_share + self_governance_share <= 1
    ):
        raise ValidationError(SHARES_INVALID, code="shares_invalid")


def split_allocation(
    total: Decimal, *, office_share: Decimal, self_governance_share: Decimal
) -> Split:
    """Split a committee's yearly total into its three funds (rule in the module docstring)."""
    check_shares(office_share, self_governance_share)
    service_share = ONE - office_share - self_governance_share
    office = (total * office_share).quantize(FEN, rounding=ROUND_DOWN)
    service = (total * service_share).quantize(FEN, rounding=ROUND_DOWN)
    return Split(office=office, community_service=service, self_governance=total - office - service)
