from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.http import Http404

from linli.funds.choices import AccountKind, FundKind
from linli.funds.models import Account, Commitment, Fund, Transaction
from linli.funds.selectors import (
    account_statement,
    commitments_for,
    fund_balances,
    fund_totals,
    ledger_verify,
)
from linli.funds.services import payment_post, refund_post, transaction_reverse
from linli.funds.tests.factories import a_commitment, allocated, fund

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def books(world):
    allocated(world)
    allocated(world, "50000", committee=world.committees[1])
    commitment = a_commitment(world, "10000")
    payment_post(actor=None, commitment=commitment, amount="2500")
    return commitment


# --- balances and scope -----------------------------------------------------------------------


def test_balances_of_a_subtree_take_two_queries(world, users, books, django_assert_num_queries):
    for index in range(2, len(world.committees)):
        allocated(world, "1000", committee=world.committees[index])
    viewer = users["selfgov"]
    viewer.scope_prefixes("funds.view")  # the grants are loaded once per request
    with django_assert_num_queries(2):
        rows = fund_balances(viewer=viewer, place=world.street)
    assert len(rows) == 3 * len(world.committees)
    sg = next(r for r in rows if r.fund == fund(world.committees[0]))
    assert (sg.available, sg.committed, sg.spent, sg.income) == (
        D("20000.00"),
        D("7500.00"),
        D("2500.00"),
        D("30000.00"),
    )
    assert sg.held == D("27500.00") and sg.returned == 0
    totals = fund_totals(viewer=viewer, place=world.street)
    assert totals[FundKind.SELF_GOVERNANCE][AccountKind.INCOME] == D("45300.00")


def test_each_viewer_sees_the_funds_of_their_own_places_only(world, users, books):
    first, second = world.committees[0], world.committees[1]
    mine = fund_balances(viewer=users["worker"], place=world.street)
    assert {r.fund.place for r in mine} == {first}
    assert fund_balances(viewer=users["stranger"], place=first) == []
    assert {r.fund.place for r in fund_balances(viewer=users["bureau"], place=world.district)} == {
        first,
        second,
    }
    for key in ("resident", "dispatcher", "handler", "gridworker", "property"):
        assert fund_balances(viewer=users[key], place=world.street) == []
    assert list(commitments_for(viewer=users["stranger"], place=world.street)) == []
    assert list(commitments_for(viewer=users["worker"], place=first)) == [books]


def test_a_statement_outside_ones_scope_answers_404(world, users, books):
    account = Account.objects.get(fund=fund(world.committees[0]), kind=AccountKind.AVAILABLE)
    with pytest.raises(Http404):
        account_statement(viewer=users["stranger"], account=account)
    with pytest.raises(Http404):
        account_statement(viewer=users["resident"], account=account)
    assert account_statement(viewer=users["bureau"], account=account).closing == D("20000.00")


def test_a_statement_runs_its_balance_entry_by_entry(world, users, books):
    refund_post(actor=None, commitment=books, amount="500")
    account = Account.objects.get(fund=fund(world.committees[0]), kind=AccountKind.COMMITTED)
    statement = account_statement(viewer=users["worker"], account=account)
    assert [row.balance for row in statement.rows] == [D("10000.00"), D("7500.00"), D("8000.00")]
    assert [(row.debit, row.credit) for row in statement.rows] == [
        (D("10000.00"), 0),
        (0, D("2500.00")),
        (D("500.00"), 0),
    ]
    assert statement.opening == 0 and statement.closing == D("8000.00")
    income = Account.objects.get(fund=fund(world.committees[0]), kind=AccountKind.INCOME)
    # A credit-normal account shows what it received as a positive balance.
    assert account_statement(viewer=users["worker"], account=income).closing == D("30000.00")
    assert account_statement(viewer=users["worker"], account=account, year=2024).rows == []


# --- verification -----------------------------------------------------------------------------


def _tamper(sql: str, params: list) -> None:
    """Change a ledger row as an attacker with database access would: around the triggers."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER IF EXISTS funds_entry_no_update")
            cursor.execute(sql, params)
        else:
            # Deferred checks (foreign keys) must have run before the table can be altered.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE funds_entry DISABLE TRIGGER funds_entry_append_only")
            cursor.execute(sql, params)
            cursor.execute("ALTER TABLE funds_entry ENABLE TRIGGER funds_entry_append_only")


def test_the_ledger_verifies_and_the_command_says_so(books, capsys):
    assert ledger_verify() == []
    call_command("ledger", "verify")
    assert "ledger OK" in capsys.readouterr().out


def test_verification_finds_an_edited_entry(world, books):
    entry = books.entries.filter(account__kind=AccountKind.SPENT).get()
    _tamper("UPDATE funds_entry SET amount = %s WHERE id = %s", [D("25000.00"), entry.pk])
    codes = {p.code for p in ledger_verify()}
    assert {"unbalanced", "fund_unbalanced", "amount", "commitment_exceeded"} <= codes
    with pytest.raises(CommandError, match="problem"):
        call_command("ledger", "verify")


def test_verification_finds_a_balance_on_the_wrong_side(world, books):
    payment = books.transactions.get(kind="payment")
    # Both entries of the payment grow alike: still balanced, but more is paid than committed.
    _tamper("UPDATE funds_entry SET amount = amount * 8 WHERE transaction_id = %s", [payment.pk])
    codes = {p.code for p in ledger_verify()}
    assert {"negative", "commitment_negative", "amount"} == codes


def test_verification_finds_a_reversal_that_does_not_mirror(world, books):
    payment = books.transactions.get(kind="payment")
    reversal = transaction_reverse(actor=None, transaction=payment, reason="退回")
    # The reversal's entries turned round: balanced, but it now pays a second time.
    _tamper("UPDATE funds_entry SET amount = -amount WHERE transaction_id = %s", [reversal.pk])
    assert {p.code for p in ledger_verify()} == {"reversal_mismatch"}


def test_verification_finds_a_commitment_left_open_inconsistently(world, books):
    Commitment.objects.filter(pk=books.pk).update(state="closed", closed_at=books.created_at)
    assert [p.code for p in ledger_verify()] == ["commitment_state"]


def test_every_fund_and_transaction_is_counted_once(world, books):
    assert Transaction.objects.count() == 4
    assert Fund.objects.count() == 6
