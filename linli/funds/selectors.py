"""Reads of the ledger: balances, statements, commitments, the profile in force, verification.

Every balance is a sum of entries, taken in whole fen (`fen_sum`) so that SQLite, which keeps a
decimal column as a binary float, adds exactly. Balances are reported on the account's normal
side: a positive number is money in an asset account or received in an income account.

Viewer-facing reads start from `for_viewer(viewer, VIEW_FUNDS)` (or the same prefixes applied to
an account's path) and answer 404 for anything out of scope, exactly as for a missing row.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import BigIntegerField, Case, Count, F, Q, Sum, Value, When
from django.db.models.functions import Cast, Coalesce, Round
from django.http import Http404

from linli.core.scoping import under_q
from linli.funds.choices import (
    AccountKind,
    CommitmentState,
    TransactionKind,
    normal_sign,
)
from linli.funds.models import (
    Account,
    Commitment,
    Entry,
    Fund,
    FundProfile,
    Transaction,
    YearClose,
)
from linli.funds.money import ZERO, from_fen, yuan
from linli.funds.perms import VIEW_FUNDS
from linli.places.models import Place


def fen_sum(field_name: str = "amount", *, positive_only: bool = False):
    """SUM of a money column in whole fen (an integer): exact on every database."""
    fen = Cast(Round(F(field_name) * 100), BigIntegerField())
    if positive_only:
        fen = Case(When(**{f"{field_name}__gt": 0}, then=fen), default=Value(0))
    return Coalesce(Sum(fen), Value(0), output_field=BigIntegerField())


def to_fen(amount: Decimal) -> int:
    return int(amount * 100)


# --- balances used by the services (inside their locks) ---------------------------------------


def balances_fen(account_ids) -> dict[int, int]:
    """Signed balance (debit positive) of each account, in fen."""
    rows = (
        Entry.objects.filter(account_id__in=list(account_ids))
        .values("account_id")
        .annotate(fen=fen_sum())
        .order_by()
    )
    return {row["account_id"]: int(row["fen"]) for row in rows}


def commitment_balances_fen(commitment_ids) -> dict[tuple[int, str], int]:
    """For each commitment: what is left (committed account) and what was paid net of refunds
    (spent account), in fen."""
    rows = (
        Entry.objects.filter(
            commitment_id__in=list(commitment_ids),
            account__kind__in=[AccountKind.COMMITTED, AccountKind.SPENT],
        )
        .values("commitment_id", "account__kind")
        .annotate(fen=fen_sum())
        .order_by()
    )
    return {(row["commitment_id"], row["account__kind"]): int(row["fen"]) for row in rows}


@dataclass(frozen=True)
class CommitmentStatus:
    commitment: Commitment
    remaining: Decimal
    paid: Decimal


def commitment_status(commitment: Commitment) -> CommitmentStatus:
    sums = commitment_balances_fen([commitment.pk])
    return CommitmentStatus(
        commitment=commitment,
        remaining=from_fen(sums.get((commitment.pk, AccountKind.COMMITTED), 0)),
        paid=from_fen(sums.get((commitment.pk, AccountKind.SPENT), 0)),
    )


def profile_for(*, street: Place, year: int) -> FundProfile:
    """The street's profile for the year, or (unsaved) the defaults of constants.DEFAULTS."""
    profile = FundProfile.objects.filter(street=street, year=year).first()
    return profile or FundProfile(street=street, year=year)


# --- viewer-facing reads ----------------------------------------------------------------------


def _scope_q(viewer, field_name: str) -> Q | None:
    prefixes = viewer.scope_prefixes(VIEW_FUNDS) if viewer is not None else []
    if not prefixes:
        return None
    condition = Q()
    for prefix in prefixes:
        condition |= under_q(prefix, field_name)
    return condition


@dataclass
class FundBalances:
    """One fund's balances on their normal sides, in yuan."""

    fund: Fund
    balances: dict[str, Decimal] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Decimal:
        # Only called for missing attributes: available, committed, spent … read the balances.
        if name in AccountKind.values:
            return self.__dict__.get("balances", {}).get(name, ZERO)
        raise AttributeError(name)

    @property
    def held(self) -> Decimal:
        """The cash the fund holds: available plus committed."""
        return self.available + self.committed


def fund_balances(*, viewer, place: Place) -> list[FundBalances]:
    """Every fund under `place` the viewer may see, with all its balances: two queries (the
    funds, one grouped sum over their entries), whatever the size of the subtree."""
    funds = list(
        Fund.objects.for_viewer(viewer, VIEW_FUNDS)
        .filter(under_q(place.path))
        .select_related("place")
        .order_by("path", "kind")
    )
    if not funds:
        return []
    scope = _scope_q(viewer, "account__path")
    rows = (
        Entry.objects.filter(scope, under_q(place.path, "account__path"))
        .values("account__fund_id", "account__kind")
        .annotate(fen=fen_sum())
        .order_by()
    )
    sums: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for row in rows:
        kind = row["account__kind"]
        sums[row["account__fund_id"]][kind] = from_fen(int(row["fen"]) * normal_sign(kind))
    return [FundBalances(fund=fund, balances=sums.get(fund.pk, {})) for fund in funds]


def fund_totals(*, viewer, place: Place) -> dict[str, dict[str, Decimal]]:
    """Balances per fund kind over the subtree (e.g. every self-governance fund of a street)."""
    totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for item in fund_balances(viewer=viewer, place=place):
        for kind, amount in item.balances.items():
            totals[item.fund.kind][kind] += amount
    return {kind: dict(values) for kind, values in totals.items()}


def account_for(*, viewer, pk: int) -> Account:
    account = (
        Account.objects.for_viewer(viewer, VIEW_FUNDS)
        .select_related("fund__place")
        .filter(pk=pk)
        .first()
    )
    if account is None:
        raise Http404
    return account


@dataclass(frozen=True)
class StatementRow:
    entry_id: int
    transaction_id: int
    date: dt.date
    kind: str
    memo: str
    commitment_id: int | None
    debit: Decimal
    credit: Decimal
    balance: Decimal  # after this entry, on the account's normal side


@dataclass(frozen=True)
class Statement:
    account: Account
    opening: Decimal
    rows: list[StatementRow]
    closing: Decimal


def account_statement(*, viewer, account: Account, year: int | None = None) -> Statement:
    """The account's entries in posting order with the running balance. With `year`, the
    entries dated in that year, starting from the balance of everything dated before it."""
    account = account_for(viewer=viewer, pk=account.pk)
    return statement_of(account, year=year)


def statement_of(account: Account, *, year: int | None = None) -> Statement:
    """`account_statement` without the viewer check (the ledger verification, tests)."""
    sign = normal_sign(account.kind)
    entries = Entry.objects.filter(account=account)
    opening_fen = 0
    if year is not None:
        start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
        opening_fen = int(
            entries.filter(transaction__date__lt=start).aggregate(fen=fen_sum())["fen"]
        )
        entries = entries.filter(transaction__date__gte=start, transaction__date__lte=end)
    running = opening_fen
    rows = []
    for entry in entries.select_related("transaction").order_by("id"):
        running += to_fen(entry.amount)
        rows.append(
            StatementRow(
                entry_id=entry.pk,
                transaction_id=entry.transaction_id,
                date=entry.transaction.date,
                kind=entry.transaction.kind,
                memo=entry.transaction.memo,
                commitment_id=entry.commitment_id,
                debit=entry.amount if entry.amount > 0 else ZERO,
                credit=-entry.amount if entry.amount < 0 else ZERO,
                balance=from_fen(running * sign),
            )
        )
    return Statement(
        account=account,
        opening=from_fen(opening_fen * sign),
        rows=rows,
        closing=from_fen(running * sign),
    )


def commitments_for(*, viewer, place: Place):
    return (
        Commitment.objects.for_viewer(viewer, VIEW_FUNDS)
        .filter(under_q(place.path))
        .select_related("fund")
    )


# --- verification -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    code: str
    message: str

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


def ledger_verify() -> list[Problem]:
    """Everything that must hold of the whole ledger; an empty list when it does.

    Balance rules are checked both at the end and along the way (each account's running balance
    in posting order), since the services check them at every posting.
    """
    problems: list[Problem] = []
    problems += _verify_transactions()
    problems += _verify_accounts()
    problems += _verify_commitments()
    problems += _verify_reversals()
    problems += _verify_year_closes()
    return problems


def _verify_transactions() -> list[Problem]:
    found = []
    declared = Transaction.objects.annotate(
        n=Count("entries"),
        fen=fen_sum("entries__amount"),
        debit_fen=fen_sum("entries__amount", positive_only=True),
    ).values_list("pk", "entry_count", "amount", "n", "fen", "debit_fen")
    for pk, entry_count, amount, n, fen, debit_fen in declared.iterator(chunk_size=2000):
        if n < 2 or n != entry_count:
            found.append(
                Problem("entries", f"transaction {pk}: {n} entries, {entry_count} declared")
            )
        if int(fen) != 0:
            found.append(
                Problem("unbalanced", f"transaction {pk}: entries sum to {from_fen(int(fen))}")
            )
        if int(debit_fen) != to_fen(amount):
            found.append(
                Problem(
                    "amount",
                    f"transaction {pk}: debits {from_fen(int(debit_fen))}, declared {amount}",
                )
            )
    per_fund = (
        Entry.objects.values("transaction_id", "account__fund_id")
        .annotate(fen=fen_sum())
        .exclude(fen=0)
        .order_by()
    )
    for row in per_fund:
        found.append(
            Problem(
                "fund_unbalanced",
                f"transaction {row['transaction_id']}: fund {row['account__fund_id']} "
                f"is off by {from_fen(int(row['fen']))}",
            )
        )
    elsewhere = Entry.objects.exclude(account__path=F("transaction__path")).values_list(
        "pk", "transaction_id"
    )
    for pk, txn in elsewhere:
        found.append(
            Problem("place", f"entry {pk} of transaction {txn}: an account of another place")
        )
    return found


def _verify_accounts() -> list[Problem]:
    found = []
    kinds = dict(Account.objects.values_list("pk", "kind"))
    # One pass over every entry in posting order per account: the running balance must never
    # be on the wrong side, at the end or on the way.
    account_id, running, flagged = None, 0, False
    rows = Entry.objects.order_by("account_id", "id").values_list("account_id", "pk", "amount")
    for current, pk, amount in rows.iterator(chunk_size=5000):
        if current != account_id:
            account_id, running, flagged = current, 0, False
        running += to_fen(amount)
        if not flagged and running * normal_sign(kinds[current]) < 0:
            flagged = True
            found.append(
                Problem(
                    "negative",
                    f"account {current} ({kinds[current]}): balance "
                    f"{yuan(from_fen(running * normal_sign(kinds[current])))} "
                    f"on the wrong side after entry {pk}",
                )
            )
    mismatched = Entry.objects.exclude(commitment__isnull=True).exclude(
        account__fund_id=F("commitment__fund_id")
    )
    for pk in mismatched.values_list("pk", flat=True):
        found.append(Problem("commitment_fund", f"entry {pk}: commitment of another fund"))
    return found


def _verify_commitments() -> list[Problem]:
    found = []
    sums = commitment_balances_fen(Commitment.objects.values_list("pk", flat=True))
    committed = dict(
        Entry.objects.filter(
            transaction__kind=TransactionKind.COMMITMENT, account__kind=AccountKind.COMMITTED
        )
        .values("commitment_id")
        .annotate(fen=fen_sum())
        .order_by()
        .values_list("commitment_id", "fen")
    )
    for pk, amount, state, path, fund_path in Commitment.objects.values_list(
        "pk", "amount", "state", "path", "fund__path"
    ).iterator(chunk_size=2000):
        remaining = sums.get((pk, AccountKind.COMMITTED), 0)
        paid = sums.get((pk, AccountKind.SPENT), 0)
        where = f"commitment {pk}"
        if remaining < 0 or paid < 0:
            found.append(
                Problem("commitment_negative", f"{where}: left {remaining} fen, paid {paid} fen")
            )
        if remaining + paid > to_fen(amount):
            found.append(
                Problem("commitment_exceeded", f"{where}: left + paid exceed {yuan(amount)}")
            )
        if int(committed.get(pk, 0)) != to_fen(amount):
            found.append(
                Problem("commitment_amount", f"{where}: its transaction does not commit {amount}")
            )
        if state != CommitmentState.OPEN and remaining != 0:
            found.append(Problem("commitment_state", f"{where}: {state} but {remaining} fen left"))
        if path != fund_path:
            found.append(Problem("commitment_place", f"{where}: path differs from its fund's"))
    return found


def _verify_reversals() -> list[Problem]:
    found = []
    reversals = Transaction.objects.filter(kind=TransactionKind.REVERSAL).select_related("reverses")
    pairs = list(reversals.values_list("pk", "reverses_id", "reverses__kind"))
    ids = {pk for pair in pairs for pk in pair[:2]}
    lines: dict[int, list] = defaultdict(list)
    for txn, account, commitment, amount in Entry.objects.filter(
        transaction_id__in=ids
    ).values_list("transaction_id", "account_id", "commitment_id", "amount"):
        lines[txn].append((account, commitment, to_fen(amount)))
    for pk, original, original_kind in pairs:
        if original_kind == TransactionKind.REVERSAL:
            found.append(Problem("reversal_of_reversal", f"transaction {pk} reverses a reversal"))
        mirrored = sorted((a, c, -fen) for a, c, fen in lines[original])
        if sorted(lines[pk]) != mirrored:
            found.append(
                Problem("reversal_mismatch", f"transaction {pk} does not mirror {original}")
            )
    return found


def _verify_year_closes() -> list[Problem]:
    found = []
    for close in YearClose.objects.select_related("transaction"):
        start, end = dt.date(close.year, 1, 1), dt.date(close.year, 12, 31)
        late = (
            Entry.objects.filter(
                account__fund_id=close.fund_id,
                transaction__date__gte=start,
                transaction__date__lte=end,
                transaction__posted_at__gt=close.closed_at,
            )
            .exclude(transaction_id=close.transaction_id)
            .values_list("transaction_id", flat=True)
            .distinct()
        )
        for txn in late:
            found.append(
                Problem(
                    "closed_year", f"transaction {txn} posted into {close.year} after its close"
                )
            )
        if close.transaction is not None and close.transaction.amount != close.returned:
            found.append(
                Problem("year_close", f"year close {close.pk}: returned differs from its posting")
            )
        if close.transaction is None and close.returned != 0:
            found.append(Problem("year_close", f"year close {close.pk}: returned without posting"))
    return found
