"""Fund helpers for tests: funds of the test street's committees and their balances."""

import datetime as dt
from decimal import Decimal

from linli.funds.choices import AccountKind, FundKind, normal_sign
from linli.funds.models import Account, Fund, Transaction
from linli.funds.money import from_fen
from linli.funds.selectors import balances_fen, commitment_status
from linli.funds.services import allocation_post, commitment_post, fund_open

# A day of a year that has ended (so it can be closed); postings may not be dated in the future.
LAST_YEAR = dt.date(2025, 3, 2)


def fund(place, kind=FundKind.SELF_GOVERNANCE) -> Fund:
    return Fund.objects.get(place=place, kind=kind)


def balance(target: Fund, kind: str = AccountKind.AVAILABLE) -> Decimal:
    """The account's balance on its normal side, in yuan."""
    account = Account.objects.get(fund=target, kind=kind)
    return from_fen(balances_fen([account.pk]).get(account.pk, 0) * normal_sign(kind))


def balances(target: Fund) -> dict[str, Decimal]:
    return {account.kind: balance(target, account.kind) for account in target.accounts.all()}


def remaining(commitment) -> Decimal:
    return commitment_status(commitment).remaining


def paid(commitment) -> Decimal:
    return commitment_status(commitment).paid


def allocated(world, total="100000.00", *, committee=None, on=None) -> Transaction:
    """A yearly allocation to the first committee (split by the default profile)."""
    return allocation_post(actor=None, place=committee or world.committees[0], total=total, on=on)


def a_commitment(world, amount="10000.00", *, title="楼道灯更换", committee=None, on=None):
    place = committee or world.committees[0]
    return commitment_post(actor=None, fund=fund(place), title=title, amount=amount, on=on)


def a_foundation(world, name="梧桐路社区基金会") -> Fund:
    return fund_open(actor=None, place=world.street, kind=FundKind.FOUNDATION, name=name)
