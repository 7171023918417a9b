"""The demo's fund history: three years through the ledger's services, consistent with the
ledger's own checks."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction

from linli.demo.funds import populate_funds
from linli.funds.choices import COMMITTEE_FUNDS, FundKind, TransactionKind, normal_sign
from linli.funds.models import Account, Donation, Fund, FundProfile, Transaction, YearClose
from linli.funds.selectors import balances_fen, ledger_verify

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 6)


@pytest.fixture(autouse=True)
def _on_the_demo_day(monkeypatch):
    # The services refuse postings after the local date and closes before 31 December: pin it.
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args, **kwargs: TODAY)


def test_three_years_of_allocations_donations_and_closes(world, users):
    calls = []

    def hook(**kwargs):
        calls.append(kwargs)
        year = kwargs["year"]
        # The year is open, the previous one closed: this year's money is all there is.
        for committee in world.committees:
            assert not YearClose.objects.filter(fund__place=committee, year=year).exists()
            assert YearClose.objects.filter(fund__place=committee, year=year - 1).exists() == (
                year > 2024
            )

    counts = populate_funds(world, users=users, seed=7, today=TODAY, projects_hook=hook)

    assert [call["year"] for call in calls] == [2024, 2025, 2026]
    assert all(
        call["world"] is world and call["users"] is users and call["rng"] is not None
        for call in calls
    )
    assert list(FundProfile.objects.order_by("year").values_list("year", flat=True)) == [
        2024,
        2025,
        2026,
    ]
    assert all("演示" in note for note in FundProfile.objects.values_list("note", flat=True))
    allocations = Transaction.objects.filter(kind=TransactionKind.ALLOCATION)
    for committee in world.committees:
        years = sorted(allocations.filter(place=committee).values_list("date__year", flat=True))
        assert years == [2024, 2025, 2026]
        for txn in allocations.filter(place=committee):
            assert Decimal(150_000) <= txn.amount <= Decimal(300_000)
            assert dt.date(txn.date.year, 2, 1) <= txn.date <= dt.date(txn.date.year, 3, 31)
            assert txn.posted_by == users["selfgov"]
    assert allocations.filter(place=world.street).count() == 3
    assert counts["allocations"] == allocations.count() == 3 * len(world.committees) + 3
    assert counts["allocated"] == sum(txn.amount for txn in allocations)

    foundation = Fund.objects.get(kind=FundKind.FOUNDATION)
    assert foundation.name == f"{world.street.name}社区基金会"
    donations = Donation.objects.filter(fund=foundation)
    assert counts["donations"] == donations.count() >= 30
    assert {d.donor_kind for d in donations} == {"unit", "organisation", "resident"}
    assert donations.filter(donor_kind="resident", anonymous=True).exists()
    assert not donations.filter(donor_kind="resident").exclude(donor_name="").exists()
    assert {d.transaction.date.year for d in donations} == {2024, 2025, 2026}
    assert max(d.transaction.date for d in donations) <= TODAY

    closes = YearClose.objects.all()
    assert set(closes.values_list("year", flat=True)) == {2024, 2025}
    funds_a_year = len(world.committees) * len(COMMITTEE_FUNDS) + 1
    assert counts["year_closes"] == closes.count() == 2 * funds_a_year
    # With no project spending, everything allocated in a closed year went back.
    closed_allocations = allocations.filter(date__year__lt=2026)
    assert counts["returned"] == sum(txn.amount for txn in closed_allocations)

    assert ledger_verify() == []
    kinds = dict(Account.objects.values_list("pk", "kind"))
    for pk, fen in balances_fen(kinds).items():
        assert fen * normal_sign(kinds[pk]) >= 0


def test_the_current_years_money_is_all_available_when_the_hook_runs(world, users):
    from linli.funds.selectors import fund_balances

    seen = {}

    def hook(*, year, world, users, rng):
        rows = fund_balances(viewer=users["selfgov"], place=world.street)
        seen[year] = {(row.fund.place_id, row.fund.kind): row.available for row in rows}

    populate_funds(world, users=users, seed=7, today=TODAY, projects_hook=hook)
    committee = world.committees[0]
    for year in (2024, 2025, 2026):
        allocated = Transaction.objects.get(
            kind=TransactionKind.ALLOCATION, place=committee, date__year=year
        ).amount
        own = sum(seen[year][committee.pk, kind] for kind in COMMITTEE_FUNDS)
        assert own == allocated
        assert seen[year][committee.pk, FundKind.SELF_GOVERNANCE] >= allocated * Decimal("0.30")


class _Undo(Exception):
    pass


def _history(world, seed: int):
    """Run the demo in a savepoint, note what it wrote, and roll it back (the ledger refuses
    DELETE, not a rollback)."""
    try:
        with transaction.atomic():
            counts = populate_funds(world, users=None, seed=seed, today=TODAY)
            assert ledger_verify() == []
            rows = list(
                Transaction.objects.order_by("pk").values_list("kind", "place_id", "date", "amount")
            )
            raise _Undo
    except _Undo:
        pass
    assert not Transaction.objects.exists()
    return counts, rows


def test_the_history_is_deterministic_for_a_seed_and_needs_no_users(world):
    first, rows = _history(world, seed=11)
    again, rows_again = _history(world, seed=11)
    other, _rows = _history(world, seed=12)
    assert first == again and rows == rows_again
    assert first["year_closes"] and first["allocated"] > 0 and first["donated"] > 0
    assert other["allocated"] != first["allocated"]
