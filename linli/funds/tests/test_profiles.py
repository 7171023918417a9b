"""The street's profile at its boundaries: the split, the minimum share, the office cap, and the
year-end rule (return or carry over; unpaid commitments lapse or not)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from freezegun import freeze_time

from linli.core.models import AuditEvent
from linli.funds.choices import AccountKind, CommitmentState, FundKind, YearEndRule
from linli.funds.models import Entry, FundProfile, Transaction, YearClose
from linli.funds.selectors import ledger_verify, profile_for
from linli.funds.services import (
    allocation_post,
    payment_post,
    year_end_close,
)
from linli.funds.tests.factories import LAST_YEAR, a_commitment, balance, balances, fund

pytestmark = pytest.mark.django_db

D = Decimal
PARTS = ("office", "community_service", "self_governance")


def a_profile(world, year=2026, **fields) -> FundProfile:
    fields.setdefault("street", world.street)
    profile = FundProfile(year=year, **fields)
    profile.full_clean()
    profile.save()
    return profile


def parts_of(world, committee=None) -> tuple[Decimal, ...]:
    place = committee or world.committees[0]
    return tuple(balance(fund(place, kind)) for kind in PARTS)


# --- the split --------------------------------------------------------------------------------


def test_without_a_profile_the_documented_defaults_apply(world):
    profile = profile_for(street=world.street, year=2026)
    assert profile.pk is None
    assert profile.min_self_governance_share == D("0.30")
    assert profile.year_end == YearEndRule.RETURN and profile.publicity_days == 7
    assert profile.per_project_cap == D("20000.00") and len(profile.negative_list) == 6


def test_the_streets_profile_sets_the_split(world):
    a_profile(world, office_share=D("0.10"), self_governance_share=D("0.40"))
    allocation_post(actor=None, place=world.committees[0], total="100000")
    assert parts_of(world) == (D("10000.00"), D("50000.00"), D("40000.00"))
    event = AuditEvent.objects.get(action="funds.allocation.post")
    assert event.changes["profile"] == FundProfile.objects.get().pk


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        ("100.00", ("33.33", "33.33", "33.34")),
        ("1.00", ("0.33", "0.33", "0.34")),
        ("0.02", ("0.00", "0.00", "0.02")),
        ("0.01", ("0.00", "0.00", "0.01")),
        ("1000000.01", ("333300.00", "333300.00", "333400.01")),
    ],
)
def test_a_three_way_split_loses_no_fen_and_the_remainder_goes_to_self_governance(
    world, total, expected
):
    a_profile(
        world,
        office_share=D("0.3333"),
        self_governance_share=D("0.3334"),
        min_self_governance_share=D("0.3334"),
    )
    txn = allocation_post(actor=None, place=world.committees[0], total=total)
    assert parts_of(world) == tuple(D(v) for v in expected)
    assert sum(parts_of(world)) == D(total) == txn.amount
    assert ledger_verify() == []


def test_the_minimum_share_exactly_met_is_accepted_and_a_fen_less_refused(world):
    committee = world.committees[0]
    with pytest.raises(ValidationError) as caught:
        allocation_post(
            actor=None,
            place=committee,
            parts={
                "office": "50000",
                "community_service": "20000.01",
                "self_governance": "29999.99",
            },
        )
    assert "¥29,999.99" in str(caught.value) and "0.3" in str(caught.value)
    assert not Transaction.objects.exists()
    allocation_post(
        actor=None,
        place=committee,
        parts={"office": "50000", "community_service": "20000", "self_governance": "30000"},
    )
    assert parts_of(world) == (D("50000.00"), D("20000.00"), D("30000.00"))


def test_the_minimum_share_of_an_odd_total_is_compared_exactly(world):
    # 30 % of 100.01 is 30.003: 30.00 is below it, 30.01 is not.
    committee = world.committees[0]
    with pytest.raises(ValidationError):
        allocation_post(
            actor=None,
            place=committee,
            parts={"office": "70.01", "self_governance": "30.00"},
        )
    allocation_post(
        actor=None, place=committee, parts={"office": "70.00", "self_governance": "30.01"}
    )


def test_parts_must_add_up_to_the_total_given(world):
    with pytest.raises(ValidationError, match=r"100.00"):
        allocation_post(
            actor=None,
            place=world.committees[0],
            total="100",
            parts={"office": "20", "community_service": "50", "self_governance": "31"},
        )
    with pytest.raises(ValidationError):
        allocation_post(actor=None, place=world.committees[0], parts={"party": "1"})


def test_the_office_cap_is_reached_exactly(world):
    a_profile(world, office_cap=D("50000.00"))
    committee = world.committees[0]
    allocation_post(actor=None, place=committee, total="250000.00")
    assert parts_of(world)[0] == D("50000.00")
    with pytest.raises(ValidationError, match=r"50,000.01"):
        allocation_post(actor=None, place=committee, total="250000.05")


def test_a_profile_cannot_put_self_governance_below_its_minimum(world):
    with pytest.raises(ValidationError):
        a_profile(world, self_governance_share=D("0.29"))
    with pytest.raises(ValidationError):
        a_profile(world, office_share=D("0.80"), self_governance_share=D("0.30"))
    with pytest.raises(ValidationError):
        a_profile(world, negative_list=["tobacco"])
    with pytest.raises(ValidationError):
        a_profile(world, street=world.committees[0])
    # The database holds it too.
    with pytest.raises(IntegrityError), transaction.atomic():
        FundProfile.objects.create(
            street=world.street, year=2026, self_governance_share=D("0.2999")
        )
    exact = a_profile(world, self_governance_share=D("0.30"), office_share=D("0.70"))
    assert exact.community_service_share == 0


# --- the year end -----------------------------------------------------------------------------


def _last_years_books(world):
    committee = world.committees[0]
    allocation_post(actor=None, place=committee, total="100000", on=LAST_YEAR)
    commitment = a_commitment(world, "10000", on=LAST_YEAR)
    payment_post(actor=None, commitment=commitment, amount="4000", on=LAST_YEAR)
    return committee, commitment


def test_the_year_end_returns_unspent_money_and_lapses_unpaid_commitments(world, users):
    committee, commitment = _last_years_books(world)
    closes = year_end_close(actor=users["selfgov"], place=committee, year=2025)
    assert len(closes) == 3
    sg = fund(committee)
    close = YearClose.objects.get(fund=sg)
    assert (close.available, close.lapsed, close.returned, close.carried) == (
        D("20000.00"),
        D("6000.00"),
        D("26000.00"),
        D("0.00"),
    )
    assert close.transaction.date == dt.date(2025, 12, 31)
    assert balances(sg) == {
        AccountKind.AVAILABLE: D("0.00"),
        AccountKind.COMMITTED: D("0.00"),
        AccountKind.SPENT: D("4000.00"),
        AccountKind.RETURNED: D("26000.00"),
        AccountKind.INCOME: D("30000.00"),
    }
    assert balance(fund(committee, FundKind.OFFICE), AccountKind.RETURNED) == D("20000.00")
    commitment.refresh_from_db()
    assert commitment.state == CommitmentState.LAPSED
    assert AuditEvent.objects.filter(action="funds.year.close").count() == 1
    assert ledger_verify() == []


def test_nothing_can_be_posted_into_a_closed_year(world):
    committee, _commitment = _last_years_books(world)
    year_end_close(actor=None, place=committee, year=2025)
    with pytest.raises(ValidationError, match="2025"):
        allocation_post(actor=None, place=committee, total="1", on=dt.date(2025, 6, 1))
    with pytest.raises(ValidationError, match="年度已结账"):
        year_end_close(actor=None, place=committee, year=2025)
    allocation_post(actor=None, place=committee, total="1000", on=dt.date(2026, 1, 5))
    assert ledger_verify() == []


def test_carry_over_keeps_the_money_and_the_commitments(world):
    a_profile(world, year=2025, year_end=YearEndRule.CARRY_OVER)
    committee, commitment = _last_years_books(world)
    transactions = Transaction.objects.count()
    year_end_close(actor=None, place=committee, year=2025)
    assert Transaction.objects.count() == transactions
    close = YearClose.objects.get(fund=fund(committee))
    assert (close.carried, close.returned, close.lapsed) == (D("20000.00"), 0, 0)
    commitment.refresh_from_db()
    assert commitment.state == CommitmentState.OPEN
    payment_post(actor=None, commitment=commitment, amount="6000", on=dt.date(2026, 2, 1))
    assert balance(fund(committee)) == D("20000.00")
    assert ledger_verify() == []


def test_returning_without_lapsing_keeps_open_commitments(world):
    a_profile(world, year=2025, return_open_commitments=False)
    committee, commitment = _last_years_books(world)
    year_end_close(actor=None, place=committee, year=2025)
    sg = fund(committee)
    assert balance(sg, AccountKind.RETURNED) == D("20000.00")
    assert balance(sg, AccountKind.COMMITTED) == D("6000.00")
    commitment.refresh_from_db()
    assert commitment.state == CommitmentState.OPEN


def test_the_return_counts_the_money_of_that_year_only(world):
    committee, _commitment = _last_years_books(world)
    allocation_post(actor=None, place=committee, total="50000", on=dt.date(2026, 1, 3))
    year_end_close(actor=None, place=committee, year=2025)
    sg = fund(committee)
    assert balance(sg, AccountKind.RETURNED) == D("26000.00")
    assert balance(sg) == D("15000.00")  # this year's 30 % of 50,000
    assert ledger_verify() == []


def test_a_year_closes_from_its_last_day_on(world):
    committee = world.committees[0]
    allocation_post(actor=None, place=committee, total="1000", on=dt.date(2026, 3, 1))
    with freeze_time("2026-12-30 12:00:00"), pytest.raises(ValidationError, match="31"):
        year_end_close(actor=None, place=committee, year=2026)
    with freeze_time("2026-12-31 03:00:00"):  # 11:00 in Shanghai
        year_end_close(actor=None, place=committee, year=2026)
    assert YearClose.objects.filter(year=2026).count() == 3


def test_only_the_street_office_closes_a_year(world, users):
    committee, _commitment = _last_years_books(world)
    for key in ("worker", "director", "bureau", "stranger"):
        with pytest.raises(PermissionDenied):
            year_end_close(actor=users[key], place=committee, year=2025)
    with pytest.raises(ValidationError):
        year_end_close(actor=None, place=world.committees[1], year=2025)  # no funds
    assert not YearClose.objects.exists()


def test_the_streets_co_governance_fund_closes_too(world):
    allocation_post(actor=None, place=world.street, total="80000", on=LAST_YEAR)
    year_end_close(actor=None, place=world.street, year=2025)
    co = fund(world.street, FundKind.CO_GOVERNANCE)
    assert balance(co, AccountKind.RETURNED) == D("80000.00") and balance(co) == 0
    close = YearClose.objects.get()
    assert close.transaction.source == world.district
    assert Entry.objects.filter(transaction=close.transaction).count() == 2
