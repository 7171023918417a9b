import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from linli.core.models import AuditEvent
from linli.funds.choices import AccountKind, CommitmentState, FundKind, TransactionKind
from linli.funds.models import Account, Commitment, Donation, Entry, Fund, Transaction
from linli.funds.selectors import ledger_verify
from linli.funds.services import (
    allocation_post,
    commitment_post,
    commitment_release,
    donation_post,
    fund_open,
    payment_post,
    refund_post,
    transaction_reverse,
)
from linli.funds.tests.factories import (
    a_commitment,
    a_foundation,
    allocated,
    balance,
    balances,
    fund,
    paid,
    remaining,
)

pytestmark = pytest.mark.django_db

D = Decimal


def _ok():
    assert ledger_verify() == []


# --- allocations ------------------------------------------------------------------------------


def test_an_allocation_splits_into_the_committees_three_funds(world, users):
    committee = world.committees[0]
    txn = allocation_post(actor=users["selfgov"], place=committee, total="100000")
    assert txn.kind == TransactionKind.ALLOCATION and txn.amount == D("100000.00")
    assert txn.source == world.street and txn.entries.count() == 6
    assert balance(fund(committee, FundKind.OFFICE)) == D("20000.00")
    assert balance(fund(committee, FundKind.COMMUNITY_SERVICE)) == D("50000.00")
    assert balance(fund(committee, FundKind.SELF_GOVERNANCE)) == D("30000.00")
    assert balance(fund(committee), AccountKind.INCOME) == D("30000.00")
    event = AuditEvent.objects.get(action="funds.allocation.post")
    assert event.changes["parts"]["self_governance"] == "30000.00"
    assert event.changes["profile"] == "defaults"
    _ok()


def test_an_allocation_to_the_street_goes_to_its_co_governance_fund(world, users):
    txn = allocation_post(actor=users["selfgov"], place=world.street, total="500000.00")
    co = fund(world.street, FundKind.CO_GOVERNANCE)
    assert balance(co) == D("500000.00") and txn.source == world.district
    with pytest.raises(ValidationError):
        allocation_post(actor=None, place=world.street, parts={"office": "1"})
    _ok()


def test_only_the_street_office_allocates(world, users):
    committee = world.committees[0]
    for key in ("worker", "director", "bureau", "stranger", "resident"):
        with pytest.raises(PermissionDenied):
            allocation_post(actor=users[key], place=committee, total="1000")
    assert not Transaction.objects.exists()


def test_an_allocation_refuses_other_places_and_funders(world):
    with pytest.raises(ValidationError):
        allocation_post(actor=None, place=world.compounds[0], total="1000")
    with pytest.raises(ValidationError):  # a sibling committee does not fund another
        allocation_post(
            actor=None, place=world.committees[0], total="1000", source=world.committees[1]
        )
    district_paid = allocation_post(
        actor=None, place=world.committees[0], total="1000", source=world.district
    )
    assert district_paid.counterparty == world.district.name


@pytest.mark.parametrize("amount", ["0", "-5", "0.001", "abc", "NaN", "1e20"])
def test_amounts_are_positive_yuan_with_at_most_two_decimals(world, amount):
    with pytest.raises(ValidationError):
        allocated(world, amount)
    assert not Transaction.objects.exists()


def test_floats_are_refused_outright(world):
    with pytest.raises(TypeError):
        allocated(world, 0.1)


def test_a_posting_cannot_be_dated_in_the_future(world):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(ValidationError, match="不能晚于今天"):
        allocated(world, on=tomorrow)


# --- donations --------------------------------------------------------------------------------


def test_a_foundation_receives_donations_from_units_organisations_and_residents(world, users):
    foundation = a_foundation(world)
    unit = donation_post(
        actor=users["selfgov"],
        fund=foundation,
        amount="50000",
        donor_kind="unit",
        donor_name="梧桐路小学",
    )
    resident = donation_post(
        actor=users["selfgov"], fund=foundation, amount="200", donor_kind="resident"
    )
    named = donation_post(
        actor=None, fund=foundation, amount="100", donor_kind="resident", donor_name="孟繁华"
    )
    assert balance(foundation) == D("50300.00")
    assert balance(foundation, AccountKind.DONATIONS) == D("50300.00")
    assert unit.transaction.counterparty == "梧桐路小学"
    assert resident.donor_name == "" and resident.transaction.counterparty == ""
    # A resident's name is kept on the donation only: not in the ledger, not in the audit trail.
    assert named.transaction.counterparty == ""
    assert named.donor_name == "孟繁华"
    trail = AuditEvent.objects.filter(action__startswith="funds.")
    assert "孟繁华" not in str(list(trail.values_list("changes", "object_repr")))
    _ok()


def test_donations_need_a_foundation_and_a_named_unit(world, users):
    foundation = a_foundation(world)
    allocated(world)
    with pytest.raises(ValidationError):
        donation_post(
            actor=None, fund=fund(world.committees[0]), amount="10", donor_kind="resident"
        )
    with pytest.raises(ValidationError):
        donation_post(actor=None, fund=foundation, amount="10", donor_kind="organisation")
    with pytest.raises(ValidationError):
        donation_post(actor=None, fund=foundation, amount="10", donor_kind="alien")
    with pytest.raises(PermissionDenied):
        donation_post(actor=users["worker"], fund=foundation, amount="10", donor_kind="resident")
    assert not Donation.objects.exists()


# --- commitments and payments -----------------------------------------------------------------


def test_a_commitment_moves_available_money_to_committed(world, users):
    allocated(world)
    sg = fund(world.committees[0])
    commitment = commitment_post(
        actor=users["worker"], fund=sg, title="  楼道  灯更换 ", amount="12000.50"
    )
    assert commitment.title == "楼道 灯更换" and commitment.state == CommitmentState.OPEN
    assert balance(sg) == D("17999.50") and balance(sg, AccountKind.COMMITTED) == D("12000.50")
    assert remaining(commitment) == D("12000.50")
    _ok()


def test_a_commitment_cannot_exceed_the_money_available(world):
    allocated(world)
    sg = fund(world.committees[0])
    with pytest.raises(ValidationError) as caught:
        commitment_post(actor=None, fund=sg, title="加装电梯", amount="30000.01")
    message = caught.value.messages[0]
    assert "自治金" in message or "Self-governance" in message
    assert "¥30,000.00" in message and "¥30,000.01" in message
    assert not Commitment.objects.exists()
    # Exactly all of it is fine.
    commitment_post(actor=None, fund=sg, title="加装电梯", amount="30000.00")
    assert balance(sg) == 0


def test_committee_staff_commit_only_their_own_committees_money(world, users):
    allocated(world)
    allocated(world, committee=world.committees[1])
    with pytest.raises(PermissionDenied):
        commitment_post(
            actor=users["stranger"], fund=fund(world.committees[0]), title="x", amount="1"
        )
    with pytest.raises(PermissionDenied):  # the street oversees, it does not spend
        commitment_post(
            actor=users["selfgov"], fund=fund(world.committees[0]), title="x", amount="1"
        )
    assert commitment_post(
        actor=users["stranger"], fund=fund(world.committees[1]), title="x", amount="1"
    )


def test_payments_never_exceed_what_is_left_of_the_commitment(world, users):
    allocated(world)
    commitment = a_commitment(world, "10000.00")
    payment_post(actor=users["worker"], commitment=commitment, amount="6000", payee="某装修公司")
    with pytest.raises(ValidationError) as caught:
        payment_post(actor=users["worker"], commitment=commitment, amount="4000.01")
    assert "¥4,000.00" in caught.value.messages[0] and "楼道灯更换" in caught.value.messages[0]
    payment_post(actor=users["worker"], commitment=commitment, amount="4000.00")
    assert remaining(commitment) == 0 and paid(commitment) == D("10000.00")
    sg = fund(world.committees[0])
    assert balance(sg, AccountKind.SPENT) == D("10000.00")
    assert balance(sg) == D("20000.00")
    with pytest.raises(ValidationError):
        payment_post(actor=None, commitment=commitment, amount="0.01")
    _ok()


def test_refunds_come_back_to_the_commitment_and_never_exceed_what_was_paid(world):
    allocated(world)
    commitment = a_commitment(world, "10000.00")
    payment_post(actor=None, commitment=commitment, amount="3000")
    with pytest.raises(ValidationError) as caught:
        refund_post(actor=None, commitment=commitment, amount="3000.01")
    assert "¥3,000.00" in caught.value.messages[0]
    refund_post(actor=None, commitment=commitment, amount="1000")
    assert remaining(commitment) == D("8000.00") and paid(commitment) == D("2000.00")
    # Once the commitment is closed, a refund goes back to the available money.
    commitment_release(actor=None, commitment=commitment, reason="项目结项")
    refund_post(actor=None, commitment=commitment, amount="500")
    sg = fund(world.committees[0])
    assert balance(sg) == D("28500.00") and paid(commitment) == D("1500.00")
    assert remaining(commitment) == 0
    _ok()


def test_a_release_closes_the_commitment_and_frees_the_rest(world):
    allocated(world)
    commitment = a_commitment(world, "10000.00")
    payment_post(actor=None, commitment=commitment, amount="7500")
    released = commitment_release(actor=None, commitment=commitment, reason="结余")
    assert released.state == CommitmentState.CLOSED and released.closed_at is not None
    sg = fund(world.committees[0])
    assert balance(sg) == D("22500.00") and balance(sg, AccountKind.COMMITTED) == 0
    with pytest.raises(ValidationError):
        payment_post(actor=None, commitment=commitment, amount="1")
    with pytest.raises(ValidationError):
        commitment_release(actor=None, commitment=commitment)
    _ok()


# --- reversals --------------------------------------------------------------------------------


def test_a_reversal_restores_every_balance(world, users):
    allocated(world)
    sg = fund(world.committees[0])
    commitment = a_commitment(world, "10000.00")
    before = balances(sg)
    payment = payment_post(actor=None, commitment=commitment, amount="2500")
    reversal = transaction_reverse(actor=users["worker"], transaction=payment, reason="重复付款")
    assert reversal.kind == TransactionKind.REVERSAL and reversal.reverses == payment
    assert balances(sg) == before and remaining(commitment) == D("10000.00")
    assert sorted(reversal.entries.values_list("amount", flat=True)) == sorted(
        -a for a in payment.entries.values_list("amount", flat=True)
    )
    assert AuditEvent.objects.filter(action="funds.transaction.reverse", reason="重复付款").exists()
    _ok()


def test_reversals_are_refused_when_they_would_overdraw_or_repeat(world, users):
    allocation = allocated(world)
    commitment = a_commitment(world, "10000.00")
    payment = payment_post(actor=None, commitment=commitment, amount="2500")
    # The allocation's money is committed: reversing it would overdraw the available account.
    with pytest.raises(ValidationError, match=r"30,000.00|20,000.00"):
        transaction_reverse(actor=None, transaction=allocation, reason="录错")
    # The commitment has a payment against it.
    commitment_txn = commitment.transactions.get(kind=TransactionKind.COMMITMENT)
    with pytest.raises(ValidationError, match=r"7,500.00"):
        transaction_reverse(actor=None, transaction=commitment_txn, reason="取消")
    reversal = transaction_reverse(actor=None, transaction=payment, reason="退回")
    with pytest.raises(ValidationError, match="已被冲正"):
        transaction_reverse(actor=None, transaction=payment, reason="again")
    with pytest.raises(ValidationError):
        transaction_reverse(actor=None, transaction=reversal, reason="undo")
    with pytest.raises(ValidationError):
        transaction_reverse(actor=None, transaction=commitment_txn, reason="")
    # Now the commitment can be cancelled, then the allocation reversed.
    transaction_reverse(actor=None, transaction=commitment_txn, reason="取消项目")
    commitment.refresh_from_db()
    assert commitment.state == CommitmentState.CANCELLED
    transaction_reverse(actor=users["selfgov"], transaction=allocation, reason="录错")
    for kind in (FundKind.OFFICE, FundKind.COMMUNITY_SERVICE, FundKind.SELF_GOVERNANCE):
        assert set(balances(fund(world.committees[0], kind)).values()) == {D("0.00")}
    _ok()


def test_reversing_needs_the_permission_of_the_original(world, users):
    allocation = allocated(world)
    commitment = a_commitment(world)
    with pytest.raises(PermissionDenied):
        transaction_reverse(actor=users["worker"], transaction=allocation, reason="录错")
    with pytest.raises(PermissionDenied):
        transaction_reverse(
            actor=users["stranger"], transaction=commitment.transactions.get(), reason="x"
        )


def test_reversing_a_release_reopens_the_commitment(world):
    allocated(world)
    commitment = a_commitment(world, "1000")
    commitment_release(actor=None, commitment=commitment)
    release = commitment.transactions.get(kind=TransactionKind.RELEASE)
    transaction_reverse(actor=None, transaction=release, reason="误结项")
    commitment.refresh_from_db()
    assert commitment.state == CommitmentState.OPEN and remaining(commitment) == D("1000.00")
    payment_post(actor=None, commitment=commitment, amount="1000")
    _ok()


def test_a_payment_of_a_closed_commitment_is_corrected_by_a_refund(world):
    allocated(world)
    commitment = a_commitment(world, "1000")
    payment = payment_post(actor=None, commitment=commitment, amount="400")
    commitment_release(actor=None, commitment=commitment)
    with pytest.raises(ValidationError, match="请登记退款"):
        transaction_reverse(actor=None, transaction=payment, reason="付错")
    refund_post(actor=None, commitment=commitment, amount="400")
    assert balance(fund(world.committees[0])) == D("30000.00")
    _ok()


# --- decimal exactness ------------------------------------------------------------------------


def test_sums_are_exact_to_the_fen(world):
    """0.1 + 0.2 is 0.3 here; a thousand ten-fen postings are exactly one hundred yuan."""
    allocation_post(actor=None, place=world.street, total="0.10")
    allocation_post(actor=None, place=world.street, total="0.20")
    co = fund(world.street, FundKind.CO_GOVERNANCE)
    assert balance(co) == D("0.30")
    for _ in range(10):
        allocation_post(actor=None, place=world.street, total="1234567.89")
    assert balance(co) == D("12345678.90") + D("0.30")
    commitment = commitment_post(actor=None, fund=co, title="零钱", amount="0.30")
    for _ in range(3):
        payment_post(actor=None, commitment=commitment, amount="0.10")
    assert remaining(commitment) == D("0.00") and paid(commitment) == D("0.30")
    entries = Entry.objects.filter(account__fund=co)
    assert all(isinstance(e.amount, Decimal) for e in entries)
    _ok()


def test_many_small_amounts_add_up_exactly(world):
    allocation_post(actor=None, place=world.street, total="5.00")
    co = fund(world.street, FundKind.CO_GOVERNANCE)
    commitment = commitment_post(actor=None, fund=co, title="小额", amount="5.00")
    for _ in range(60):  # 0.07 has no exact binary float
        payment_post(actor=None, commitment=commitment, amount="0.07")
    assert paid(commitment) == D("4.20") and remaining(commitment) == D("0.80")
    assert balance(co, AccountKind.SPENT) == D("4.20")
    _ok()


def test_fund_open_is_idempotent_and_checks_the_place(world, users):
    first = fund_open(actor=users["selfgov"], place=world.street, kind=FundKind.FOUNDATION)
    again = fund_open(actor=None, place=world.street, kind=FundKind.FOUNDATION, name="基金会")
    assert first.pk == again.pk and Fund.objects.get(pk=first.pk).name == "基金会"
    assert Account.objects.filter(fund=first).count() == 4
    with pytest.raises(ValidationError):
        fund_open(actor=None, place=world.committees[0], kind=FundKind.FOUNDATION)
    with pytest.raises(PermissionDenied):
        fund_open(actor=users["worker"], place=world.committees[0], kind=FundKind.OFFICE)
