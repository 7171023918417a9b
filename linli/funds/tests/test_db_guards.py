"""The database itself refuses what must never happen to the books (migration 0002), on SQLite
and PostgreSQL alike: edits and deletions of ledger rows, unbalanced or overfull transactions,
entries in another place's account or in a closed year."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from linli.funds.choices import AccountKind, FundKind, TransactionKind
from linli.funds.models import Account, Commitment, Entry, Fund, Transaction, YearClose
from linli.funds.selectors import ledger_verify
from linli.funds.services import year_end_close
from linli.funds.tests.factories import LAST_YEAR, a_commitment, allocated, fund

pytestmark = pytest.mark.django_db

D = Decimal


def refused(action) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        action()


@pytest.fixture
def books(world):
    allocated(world)
    return a_commitment(world, "1000")


def test_entries_cannot_be_changed_or_deleted(books):
    entry = Entry.objects.first()
    refused(lambda: Entry.objects.filter(pk=entry.pk).update(amount=D("1.00")))
    refused(lambda: Entry.objects.filter(pk=entry.pk).delete())
    refused(lambda: Entry.objects.all().delete())
    with connection.cursor() as cursor:
        refused(lambda: cursor.execute("DELETE FROM funds_entry"))
    assert Entry.objects.get(pk=entry.pk).amount == entry.amount


def test_transactions_accounts_and_year_closes_cannot_be_changed_or_deleted(world, books):
    txn = Transaction.objects.first()
    refused(lambda: Transaction.objects.filter(pk=txn.pk).update(memo="改过"))
    refused(lambda: Transaction.objects.filter(pk=txn.pk).update(amount=D("0.01")))
    refused(lambda: Transaction.objects.filter(pk=txn.pk).delete())
    refused(lambda: Account.objects.filter(pk=Account.objects.first().pk).update(kind="spent"))
    allocated(world, committee=world.committees[1], on=LAST_YEAR)
    year_end_close(actor=None, place=world.committees[1], year=2025)
    close = YearClose.objects.first()
    refused(lambda: YearClose.objects.filter(pk=close.pk).update(returned=0))
    refused(lambda: YearClose.objects.filter(pk=close.pk).delete())


def test_a_fund_keeps_its_place_and_a_commitment_its_amount(world, books):
    sg = fund(world.committees[0])
    refused(lambda: Fund.objects.filter(pk=sg.pk).update(place=world.committees[1]))
    Fund.objects.filter(pk=sg.pk).update(name="自治金")  # a name may change
    refused(lambda: Commitment.objects.filter(pk=books.pk).update(amount=D("1.00")))
    Commitment.objects.filter(pk=books.pk).update(state="open")  # its state may


def _raw_transaction(place, *, amount="10.00", entry_count=2, on=None) -> Transaction:
    return Transaction.objects.create(
        kind=TransactionKind.ALLOCATION,
        date=on or dt.date(2026, 1, 5),
        place=place,
        path=place.path,
        amount=D(amount),
        entry_count=entry_count,
    )


def _accounts(world, committee=None):
    sg = fund(committee or world.committees[0])
    return (
        Account.objects.get(fund=sg, kind=AccountKind.AVAILABLE),
        Account.objects.get(fund=sg, kind=AccountKind.INCOME),
    )


def test_an_unbalanced_transaction_is_refused(world, books):
    available, income = _accounts(world)

    def unbalanced():
        txn = _raw_transaction(world.committees[0])
        Entry.objects.bulk_create(
            [
                Entry(transaction=txn, account=available, amount=D("10.00")),
                Entry(transaction=txn, account=income, amount=D("-9.99")),
            ]
        )

    def wrong_amount():
        txn = _raw_transaction(world.committees[0], amount="10.01")
        Entry.objects.bulk_create(
            [
                Entry(transaction=txn, account=available, amount=D("10.00")),
                Entry(transaction=txn, account=income, amount=D("-10.00")),
            ]
        )

    def one_entry_at_a_time_still_checked():
        txn = _raw_transaction(world.committees[0])
        Entry.objects.create(transaction=txn, account=available, amount=D("10.00"))
        Entry.objects.create(transaction=txn, account=income, amount=D("-0.10"))

    refused(unbalanced)
    refused(wrong_amount)
    refused(one_entry_at_a_time_still_checked)


def test_a_balanced_transaction_is_accepted_and_closed_to_further_entries(world, books):
    available, income = _accounts(world)
    txn = _raw_transaction(world.committees[0], amount="0.30", entry_count=3)
    Entry.objects.bulk_create(
        [
            Entry(transaction=txn, account=available, amount=D("0.10")),
            Entry(transaction=txn, account=available, amount=D("0.20")),
            Entry(transaction=txn, account=income, amount=D("-0.30")),
        ]
    )
    refused(lambda: Entry.objects.create(transaction=txn, account=available, amount=D("1.00")))


def test_a_transaction_balanced_across_two_funds_is_refused(world, books):
    available, _income = _accounts(world)
    office_income = Account.objects.get(
        fund=fund(world.committees[0], FundKind.OFFICE), kind=AccountKind.INCOME
    )

    def across():
        txn = _raw_transaction(world.committees[0])
        Entry.objects.bulk_create(
            [
                Entry(transaction=txn, account=available, amount=D("10.00")),
                Entry(transaction=txn, account=office_income, amount=D("-10.00")),
            ]
        )

    refused(across)


def test_an_entry_goes_only_into_the_transactions_place(world, books):
    allocated(world, committee=world.committees[1])
    available, _income = _accounts(world)
    _other_available, other_income = _accounts(world, world.committees[1])

    def elsewhere():
        txn = _raw_transaction(world.committees[0])
        Entry.objects.bulk_create(
            [
                Entry(transaction=txn, account=available, amount=D("10.00")),
                Entry(transaction=txn, account=other_income, amount=D("-10.00")),
            ]
        )

    refused(elsewhere)


def test_no_entry_goes_into_a_closed_year(world):
    committee = world.committees[1]
    allocated(world, committee=committee, on=LAST_YEAR)
    year_end_close(actor=None, place=committee, year=2025)
    available, income = _accounts(world, committee)

    def into_closed_year():
        txn = _raw_transaction(committee, on=dt.date(2025, 7, 1))
        Entry.objects.bulk_create(
            [
                Entry(transaction=txn, account=available, amount=D("10.00")),
                Entry(transaction=txn, account=income, amount=D("-10.00")),
            ]
        )

    refused(into_closed_year)


def test_an_incomplete_transaction_is_refused_at_commit_or_reported(world, books):
    available, income = _accounts(world)

    def incomplete():
        txn = _raw_transaction(world.committees[0], entry_count=3)
        Entry.objects.bulk_create(
            [
                Entry(transaction=txn, account=available, amount=D("10.00")),
                Entry(transaction=txn, account=income, amount=D("-10.00")),
            ]
        )
        return txn

    if connection.vendor == "postgresql":

        def at_commit():
            incomplete()
            with connection.cursor() as cursor:  # what COMMIT does with a deferred trigger
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

        refused(at_commit)
    else:
        txn = incomplete()
        assert [p.code for p in ledger_verify()] == ["entries"]
        assert str(txn.pk) in ledger_verify()[0].message
