"""Postings at the same moment, in real concurrent database transactions (one connection per
thread): no balance is ever overdrawn, exactly the postings that fit succeed, nothing deadlocks,
and the books reconcile. PostgreSQL only (on SQLite the write lock serialises every posting; the
same rules are covered one transaction at a time in test_services and test_properties)."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linli.funds.choices import AccountKind, FundKind
from linli.funds.models import Account, Commitment, Fund, Transaction
from linli.funds.money import from_fen
from linli.funds.selectors import ledger_verify, statement_of
from linli.funds.services import (
    allocation_post,
    commitment_post,
    commitment_release,
    payment_post,
    refund_post,
    transaction_reverse,
)
from linli.funds.tests.factories import balance, fund, paid, remaining

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL concurrency"),
]

D = Decimal


def at_once(jobs) -> list[tuple[str, object]]:
    """Run each job in its own thread and connection, all released together; their outcomes:
    ("ok", result), ("refused", messages) for a ValidationError, ("error", repr) otherwise."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list = [None] * len(jobs)

    def run(index, job):
        try:
            barrier.wait(timeout=30)
            outcomes[index] = ("ok", job())
        except ValidationError as exc:
            outcomes[index] = ("refused", exc.messages)
        except Exception as exc:  # pragma: no cover - shown by the assertion below
            outcomes[index] = ("error", repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    errors = [o for o in outcomes if o is None or o[0] == "error"]
    assert not errors, errors
    return outcomes


def _reconciles() -> None:
    assert ledger_verify() == []
    for account in Account.objects.all():
        statement = statement_of(account)
        assert all(row.balance >= 0 for row in statement.rows)


def test_concurrent_payments_never_exceed_the_commitment(world, users):
    allocation_post(actor=None, place=world.committees[0], total="100000")
    commitment = commitment_post(
        actor=None, fund=fund(world.committees[0]), title="楼道灯", amount="100.00"
    )
    outcomes = at_once(
        [
            lambda: payment_post(actor=users["worker"], commitment=commitment, amount="30.00")
            for _ in range(8)
        ]
    )
    assert sum(1 for kind, _ in outcomes if kind == "ok") == 3
    refusals = [messages for kind, messages in outcomes if kind == "refused"]
    assert len(refusals) == 5 and all("¥10.00" in m[0] for m in refusals)
    assert paid(commitment) == D("90.00") and remaining(commitment) == D("10.00")
    assert balance(fund(world.committees[0]), AccountKind.SPENT) == D("90.00")
    _reconciles()


def test_concurrent_commitments_never_overdraw_the_available_money(world, users):
    allocation_post(actor=None, place=world.committees[0], total="100000")  # 30,000 to commit
    sg = fund(world.committees[0])
    outcomes = at_once(
        [
            lambda i=i: commitment_post(
                actor=users["director"], fund=sg, title=f"项目{i}", amount="4000.00"
            )
            for i in range(10)
        ]
    )
    assert sum(1 for kind, _ in outcomes if kind == "ok") == 7
    assert balance(sg) == D("2000.00") and balance(sg, AccountKind.COMMITTED) == D("28000.00")
    _reconciles()


def test_the_same_payment_is_reversed_once(world, users):
    allocation_post(actor=None, place=world.committees[0], total="100000")
    commitment = commitment_post(
        actor=None, fund=fund(world.committees[0]), title="x", amount="100.00"
    )
    payment = payment_post(actor=None, commitment=commitment, amount="60.00")
    outcomes = at_once(
        [
            lambda: transaction_reverse(actor=users["worker"], transaction=payment, reason="重复")
            for _ in range(4)
        ]
    )
    assert sorted(kind for kind, _ in outcomes) == ["ok", "refused", "refused", "refused"]
    assert Transaction.objects.filter(reverses=payment).count() == 1
    assert remaining(commitment) == D("100.00")
    _reconciles()


def test_allocations_across_funds_and_postings_in_each_do_not_deadlock(world, users):
    committee = world.committees[0]
    allocation_post(actor=None, place=committee, total="100000")
    office = fund(committee, FundKind.OFFICE)
    sg = fund(committee)
    jobs = []
    for i in range(4):
        jobs.append(lambda: allocation_post(actor=users["selfgov"], place=committee, total="10"))
        jobs.append(
            lambda i=i, target=(office, sg)[i % 2]: commitment_post(
                actor=users["worker"], fund=target, title=f"并发{i}", amount="1.00"
            )
        )
    outcomes = at_once(jobs)
    assert all(kind == "ok" for kind, _ in outcomes)
    assert balance(sg, AccountKind.INCOME) == D("30012.00")
    _reconciles()


# --- random concurrent operations -------------------------------------------------------------

operation = st.tuples(
    st.sampled_from(["pay", "pay", "refund", "commit", "allocate", "release", "reverse"]),
    st.integers(0, 3),
    st.integers(1, 3_000),
)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(threads=st.lists(st.lists(operation, min_size=1, max_size=3), min_size=2, max_size=4))
def test_random_concurrent_operations_keep_the_books(world, users, threads):
    committee = world.committees[0]
    # Each example adds its own money and commitments; the books carry over between examples.
    allocation_post(actor=None, place=committee, total="1000.00")
    funds = [fund(committee, kind) for kind in (FundKind.OFFICE, FundKind.SELF_GOVERNANCE)]
    commitments = [
        commitment_post(actor=None, fund=funds[i % 2], title=f"c{i}", amount="15.00")
        for i in range(4)
    ]
    payments = [payment_post(actor=None, commitment=c, amount="5.00") for c in commitments]

    def job(ops):
        def run():
            for name, index, amount_fen in ops:
                amount, target = from_fen(amount_fen), commitments[index]
                try:
                    if name == "pay":
                        payment_post(actor=None, commitment=target, amount=amount)
                    elif name == "refund":
                        refund_post(actor=None, commitment=target, amount=amount)
                    elif name == "commit":
                        commitment_post(
                            actor=None, fund=funds[index % 2], title="rand", amount=amount
                        )
                    elif name == "allocate":
                        allocation_post(actor=None, place=committee, total=amount)
                    elif name == "release":
                        commitment_release(actor=None, commitment=target)
                    else:
                        transaction_reverse(
                            actor=None, transaction=payments[index], reason="随机更正"
                        )
                except ValidationError:
                    pass  # a refusal is a valid outcome; the books are checked below

        return run

    at_once([job(ops) for ops in threads])
    _reconciles()
    for commitment in Commitment.objects.filter(fund__in=funds):
        assert D(0) <= remaining(commitment) and D(0) <= paid(commitment)
        assert remaining(commitment) + paid(commitment) <= commitment.amount
    for target in Fund.objects.all():
        assert balance(target) >= 0 and balance(target, AccountKind.COMMITTED) >= 0
