"""Property-based tests of the ledger (issue 6, "Done when"): random sequences of allocations,
commitments, payments, refunds, releases and reversals, run through the services and through a
plain model of the books side by side.

After every step the services must have accepted exactly what the model accepts (a refusal
being a ValidationError that names the amounts); after every sequence the database balances
must equal the model's, no account may be on the wrong side, every statement's running balance
must end at the derived balance without ever going below zero, and `ledger_verify()` must find
nothing.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from linli.funds.choices import AccountKind, CommitmentState, FundKind, TransactionKind, normal_sign
from linli.funds.models import Account, Fund
from linli.funds.money import from_fen, split_allocation
from linli.funds.selectors import balances_fen, commitment_balances_fen, ledger_verify, statement_of
from linli.funds.services import (
    allocation_post,
    commitment_post,
    commitment_release,
    fund_open,
    payment_post,
    refund_post,
    transaction_reverse,
)

pytestmark = pytest.mark.django_db

A, C, S, INCOME = (
    AccountKind.AVAILABLE,
    AccountKind.COMMITTED,
    AccountKind.SPENT,
    AccountKind.INCOME,
)
FUNDS = (  # (place key, fund kind): the committee's three funds and the street's fund
    ("committee", FundKind.OFFICE),
    ("committee", FundKind.COMMUNITY_SERVICE),
    ("committee", FundKind.SELF_GOVERNANCE),
    ("street", FundKind.CO_GOVERNANCE),
)

fen = st.integers(min_value=1, max_value=40_000)
# Weighted: payments and refunds need commitments still open, so they come often.
NAMES = ["pay"] * 3 + ["refund"] * 2 + ["reverse"] * 2 + ["commit", "allocate", "release"]
operations = st.lists(
    st.tuples(st.sampled_from(NAMES), st.integers(0, 40), st.integers(1, 8_000)),
    min_size=4,
    max_size=16,
)
# Each sequence starts with money in every fund and two commitments (sometimes of little money,
# so that refusals come early too).
plenty = st.one_of(st.integers(1, 10_000), st.integers(400_000, 50_000_000))
opening = st.tuples(plenty, plenty, fen, fen, st.integers(1, 8_000))


@dataclass
class Model:
    """The books as plain numbers (fen), and what the services should accept."""

    balance: dict = field(default_factory=lambda: defaultdict(int))  # (fund, account) -> fen
    left: dict = field(default_factory=lambda: defaultdict(int))  # commitment -> fen
    paid: dict = field(default_factory=lambda: defaultdict(int))
    state: dict = field(default_factory=dict)  # commitment -> state
    fund_of: dict = field(default_factory=dict)  # commitment -> fund index
    txns: list = field(default_factory=list)  # [kind, lines, commitment, reversed]

    def fits(self, lines) -> bool:
        balance, left, paid = dict(self.balance), dict(self.left), dict(self.paid)
        for fund, account, commitment, amount in lines:
            key = (fund, account)
            balance[key] = balance.get(key, 0) + amount
            if commitment is not None and account == C:
                left[commitment] = left.get(commitment, 0) + amount
            if commitment is not None and account == S:
                paid[commitment] = paid.get(commitment, 0) + amount
        return (
            all(value * normal_sign(key[1]) >= 0 for key, value in balance.items())
            and all(value >= 0 for value in left.values())
            and all(value >= 0 for value in paid.values())
        )

    def apply(self, kind, lines, commitment=None) -> None:
        for fund, account, tag, amount in lines:
            self.balance[fund, account] += amount
            if tag is not None and account == C:
                self.left[tag] += amount
            if tag is not None and account == S:
                self.paid[tag] += amount
        self.txns.append([kind, lines, commitment, False])


def _run(model: Model, world, op, commitments: list, txns: list) -> None:
    name, target, amount_fen = op
    if name == "allocate" and isinstance(target, int):
        target, amount_fen = ("committee", "street")[target % 2], amount_fen * 50
    elif name == "commit":
        target %= len(FUNDS)
    amount = from_fen(amount_fen)

    def attempt(expected: bool, call):
        if currently_in_test_context():  # shown by --hypothesis-show-statistics
            event(f"{name}: {'accepted' if expected else 'refused'}")
        try:
            result = call()
        except ValidationError as exc:
            assert not expected, f"{op} refused: {exc.messages}"
            return None
        assert expected, f"{op} accepted, the model refuses it"
        return result

    if name == "allocate":
        split = split_allocation(
            amount, office_share=Decimal("0.20"), self_governance_share=Decimal("0.30")
        )
        if target == "street":
            lines = [(3, A, None, amount_fen), (3, INCOME, None, -amount_fen)]
            place = world.street
        else:
            parts = (split.office, split.community_service, split.self_governance)
            lines = []
            for index, part in enumerate(parts):
                if part:
                    lines += [
                        (index, A, None, int(part * 100)),
                        (index, INCOME, None, -int(part * 100)),
                    ]
            place = world.committees[0]
        txn = attempt(True, lambda: allocation_post(actor=None, place=place, total=amount))
        model.apply(TransactionKind.ALLOCATION, lines)
        txns.append(txn)
    elif name == "commit":
        fund = _fund(world, target)
        number = len(commitments)
        lines = [(target, C, number, amount_fen), (target, A, number, -amount_fen)]
        ok = model.fits(lines)
        created = attempt(
            ok, lambda: commitment_post(actor=None, fund=fund, title=f"项目{number}", amount=amount)
        )
        if ok:
            commitments.append(created)
            model.state[number], model.fund_of[number] = CommitmentState.OPEN, target
            model.apply(TransactionKind.COMMITMENT, lines, number)
            txns.append(created.transactions.get())
    elif name in ("pay", "refund", "release"):
        if not commitments:
            return
        number = target % len(commitments)
        commitment, fund, is_open = (
            commitments[number],
            model.fund_of[number],
            model.state[number] == CommitmentState.OPEN,
        )
        if name == "pay":
            lines = [(fund, S, number, amount_fen), (fund, C, number, -amount_fen)]
            ok = is_open and model.fits(lines)
            txn = attempt(
                ok, lambda: payment_post(actor=None, commitment=commitment, amount=amount)
            )
        elif name == "refund":
            back = C if is_open else A
            lines = [(fund, back, number, amount_fen), (fund, S, number, -amount_fen)]
            ok = model.fits(lines)
            txn = attempt(ok, lambda: refund_post(actor=None, commitment=commitment, amount=amount))
        else:
            rest = model.left[number]
            lines = [(fund, A, number, rest), (fund, C, number, -rest)]
            ok = is_open
            attempt(ok, lambda: commitment_release(actor=None, commitment=commitment))
            if ok:
                model.state[number] = CommitmentState.CLOSED
                if rest:
                    model.apply(TransactionKind.RELEASE, lines, number)
                    txns.append(
                        commitment.transactions.filter(kind=TransactionKind.RELEASE).latest("pk")
                    )
            return
        if ok:
            model.apply(name, lines, number)
            txns.append(txn)
    elif name == "reverse":
        if not model.txns:
            return
        index = target % len(model.txns)
        kind, lines, number, reversed_ = model.txns[index]
        mirror = [(f, a, c, -x) for f, a, c, x in lines]
        ok = (
            kind != TransactionKind.REVERSAL
            and not reversed_
            and not (kind == "pay" and model.state[number] != CommitmentState.OPEN)
            and model.fits(mirror)
        )
        reversal = attempt(
            ok, lambda: transaction_reverse(actor=None, transaction=txns[index], reason="更正")
        )
        if ok:
            model.txns[index][3] = True
            model.apply(TransactionKind.REVERSAL, mirror, number)
            txns.append(reversal)
            if kind == TransactionKind.COMMITMENT:
                model.state[number] = CommitmentState.CANCELLED
            elif kind == TransactionKind.RELEASE:
                model.state[number] = CommitmentState.OPEN


def _fund(world, index: int) -> Fund:
    where, kind = FUNDS[index]
    place = world.street if where == "street" else world.committees[0]
    return Fund.objects.get(place=place, kind=kind)


def _check(model: Model, world, commitments) -> None:
    assert ledger_verify() == []
    for index in range(len(FUNDS)):
        fund = _fund(world, index)
        accounts = list(Account.objects.filter(fund=fund))
        derived = balances_fen([a.pk for a in accounts])
        for account in accounts:
            expected = model.balance[index, account.kind]
            assert derived.get(account.pk, 0) == expected, (fund, account.kind)
            assert expected * normal_sign(account.kind) >= 0
            statement = statement_of(account)
            assert statement.closing == from_fen(expected * normal_sign(account.kind))
            assert all(row.balance >= 0 for row in statement.rows)
    sums = commitment_balances_fen([c.pk for c in commitments])
    for number, commitment in enumerate(commitments):
        assert sums.get((commitment.pk, C), 0) == model.left[number]
        assert sums.get((commitment.pk, S), 0) == model.paid[number]
        commitment.refresh_from_db()
        assert commitment.state == model.state[number]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(start=opening, ops=operations)
def test_random_sequences_keep_the_books_exact(world, start, ops):
    with transaction.atomic():
        for where, kind in FUNDS:
            fund_open(
                actor=None,
                place=world.street if where == "street" else world.committees[0],
                kind=kind,
            )
        model, commitments, txns = Model(), [], []
        first = [
            ("allocate", "committee", start[0]),
            ("allocate", "street", start[1]),
            ("commit", 2, start[2]),
            ("commit", 3, start[3]),
            ("pay", 0, start[4]),
        ]
        for op in first + ops:
            _run(model, world, op, commitments, txns)
        _check(model, world, commitments)
        transaction.set_rollback(True)


def test_refusals_name_the_amounts(world):
    """Spot check of the messages the property test only counts."""
    allocation_post(actor=None, place=world.street, total="10")
    fund = Fund.objects.get(place=world.street)
    with pytest.raises(ValidationError) as caught:
        commitment_post(actor=None, fund=fund, title="x", amount="10.01")
    assert "¥10.00" in caught.value.messages[0] and "¥10.01" in caught.value.messages[0]
