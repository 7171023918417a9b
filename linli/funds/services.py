"""Writes to the ledger: allocations, donations, commitments, payments, refunds, releases, the
year-end close and reversals. Each is atomic and writes its audit event in the same transaction.

Locking. A fund's row is the lock for all of its accounts and commitments: every posting first
takes `SELECT … FOR UPDATE` on the rows of the funds it touches, in ascending id order (so two
postings never wait on each other crosswise), then re-reads what it depends on (a commitment's
state, whether a transaction was already reversed), computes the balances it needs from the
entries, refuses if any account would end on the wrong side of its normal side or any commitment
would have less than nothing left or paid, and only then writes. On PostgreSQL (READ COMMITTED)
each statement after the lock sees everything committed before the lock was granted; on SQLite
the transaction takes the database's write lock when it begins (`transaction_mode` IMMEDIATE), so
postings are serialised outright. The audit event is written last: the audit chain's lock is
always taken after the funds' locks, never before.

Refusals raise ValidationError with a message naming the account or commitment, its balance and
the amount; a missing permission raises PermissionDenied.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.audit import audit_record
from linli.funds import perms
from linli.funds.choices import (
    COMMITTEE_FUNDS,
    FUND_ACCOUNTS,
    FUND_PLACE_KIND,
    AccountKind,
    CommitmentState,
    DonorKind,
    FundKind,
    TransactionKind,
    YearEndRule,
    normal_sign,
)
from linli.funds.models import (
    Account,
    Commitment,
    Donation,
    Entry,
    Fund,
    FundProfile,
    Transaction,
    YearClose,
)
from linli.funds.money import (
    ZERO,
    Split,
    at_least_share,
    from_fen,
    parse_money,
    split_allocation,
    yuan,
)
from linli.funds.selectors import (
    balances_fen,
    commitment_balances_fen,
    fen_sum,
    profile_for,
    to_fen,
)
from linli.places.choices import PlaceKind
from linli.places.models import Place

MAX_TITLE = 200
MAX_DONOR_NAME = 100

NOT_PERMITTED = _("You may not manage these funds.")
NOT_ALLOCATOR = _("You may not post allocations or close years here.")
ALLOCATION_PLACE = _("Allocations go to a residents' committee or to a street.")
FUND_PLACE = _("A %(fund)s belongs to a %(kind)s.")
SOURCE_NOT_ABOVE = _("The funder must be the street or district above %(place)s.")
PARTS_UNKNOWN = _("The parts are office, community_service and self_governance.")
PARTS_ONLY_COMMITTEES = _("Only a committee's allocation is split into parts.")
PARTS_TOTAL = _("The parts add up to %(sum)s, not to the total %(total)s.")
TOTAL_REQUIRED = _("Give the total or the parts of the allocation.")
MIN_SHARE = _(
    "The self-governance part %(part)s is below the minimum share %(share)s of the total %(total)s."
)
OFFICE_CAP = _("The office part %(part)s is above the street's office funds cap %(cap)s.")
OVERDRAWN = _("“%(account)s” holds %(balance)s; %(amount)s cannot be taken from it.")
COMMITMENT_OVERDRAWN = _(
    "Commitment “%(title)s” has %(balance)s left; %(amount)s cannot be taken from it."
)
REFUND_TOO_LARGE = _(
    "Only %(balance)s has been paid against commitment “%(title)s”; %(amount)s cannot be refunded."
)
COMMITMENT_NOT_OPEN = _("Commitment “%(title)s” is %(state)s: nothing more can be paid from it.")
PAYMENT_OF_CLOSED = _(
    "Commitment “%(title)s” is %(state)s: record a refund instead of reversing its payment."
)
NOT_A_FOUNDATION = _("Donations are received by a community foundation.")
DONOR_KIND_INVALID = _("Choose who gave: a unit, an organisation or a resident.")
DONOR_NAME_REQUIRED = _("Give the name of the donating unit or organisation.")
TITLE_REQUIRED = _("Give a title (at most 200 characters).")
REASON_REQUIRED = _("Give a reason (at least two characters).")
DATE_FUTURE = _("A posting cannot be dated in the future (%(date)s).")
YEAR_CLOSED = _("%(year)s is closed for “%(fund)s”: nothing more can be posted into it.")
YEAR_NOT_OVER = _("%(year)s can be closed from 31 December %(year)s on.")
YEAR_ALREADY_CLOSED = _("%(year)s is already closed for “%(fund)s”.")
NO_FUNDS = _("%(place)s has no funds to close.")
NOT_CLOSABLE = _("Only money allocated by the street or district closes at year end.")
REVERSAL_OF_REVERSAL = _("A reversal cannot itself be reversed: post the movement again.")
ALREADY_REVERSED = _("Transaction #%(id)s has already been reversed.")
YEAR_END_IRREVERSIBLE = _("A year-end close cannot be reversed.")


@dataclass(frozen=True)
class Line:
    """One entry to write: a signed amount (debit positive) on an account."""

    account: Account
    amount: Decimal
    commitment: Commitment | None = None


# --- helpers ----------------------------------------------------------------------------------


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _require(actor, perm: str, obj, message) -> None:
    # actor None is the system itself (demo builder, imports, tests), as in the other apps.
    if actor is not None and not actor.has_perm(perm, obj):
        raise PermissionDenied(message)


def manage_perm(fund: Fund) -> str:
    return perms.MANAGE_FUNDS if fund.kind in COMMITTEE_FUNDS else perms.MANAGE_STREET_FUNDS


def _date(value: dt.date | None) -> dt.date:
    today = timezone.localdate()
    if value is None:
        return today
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise TypeError("a posting date is a datetime.date")
    if value > today:
        raise ValidationError(DATE_FUTURE % {"date": value.isoformat()}, code="date_future")
    return value


def _text(value: str | None) -> str:
    return " ".join((value or "").split())


def _fund_get_or_create(place: Place, kind: str) -> Fund:
    """The place's fund of that kind with its chart of accounts (no audit event of its own:
    the posting that needed it records it, after its locks)."""
    expected = FUND_PLACE_KIND[kind]
    if place.kind != expected:
        raise ValidationError(
            FUND_PLACE % {"fund": FundKind(kind).label, "kind": PlaceKind(expected).label}
        )
    fund, created = Fund.objects.get_or_create(
        place=place, kind=kind, defaults={"path": place.path}
    )
    if created:
        Account.objects.bulk_create(
            Account(fund=fund, path=fund.path, kind=account_kind)
            for account_kind in FUND_ACCOUNTS[kind]
        )
    return fund


def _lock(funds: Iterable[Fund]) -> dict[int, Fund]:
    """Take the funds' row locks in ascending id order; the rows as they are now."""
    ids = sorted({fund.pk for fund in funds})
    # of=self: the fund rows only, not the joined places. NO KEY UPDATE conflicts with itself
    # (every posting takes it) but not with the key-share locks of foreign-key checks.
    locked = (
        Fund.objects.select_for_update(of=("self",), no_key=True)
        .filter(pk__in=ids)
        .select_related("place")
        .order_by("pk")
    )
    return {fund.pk: fund for fund in locked}


def _accounts(funds: Iterable[Fund]) -> dict[tuple[int, str], Account]:
    rows = Account.objects.filter(fund__in=list(funds)).select_related("fund__place")
    return {(account.fund_id, account.kind): account for account in rows}


def _check_open_year(funds: Iterable[Fund], on: dt.date) -> None:
    closed = (
        YearClose.objects.filter(fund__in=list(funds), year=on.year)
        .select_related("fund__place")
        .first()
    )
    if closed is not None:
        raise ValidationError(
            YEAR_CLOSED % {"year": on.year, "fund": closed.fund}, code="year_closed"
        )


def _guard(lines: Sequence[Line]) -> None:
    """Refuse a posting that would leave a commitment with less than nothing left or paid, or
    an account on the wrong side of its normal side. Called under the funds' locks."""
    by_commitment: dict[tuple[int, str], int] = defaultdict(int)
    titles = {}
    for line in lines:
        if line.commitment is not None and line.account.kind in (
            AccountKind.COMMITTED,
            AccountKind.SPENT,
        ):
            by_commitment[line.commitment.pk, line.account.kind] += to_fen(line.amount)
            titles[line.commitment.pk] = line.commitment.title
    if by_commitment:
        current = commitment_balances_fen({pk for pk, _kind in by_commitment})
        for (pk, kind), delta in sorted(by_commitment.items()):
            before = current.get((pk, kind), 0)
            if delta < 0 and before + delta < 0:
                message = (
                    COMMITMENT_OVERDRAWN if kind == AccountKind.COMMITTED else REFUND_TOO_LARGE
                )
                raise ValidationError(
                    message
                    % {
                        "title": titles[pk],
                        "balance": yuan(from_fen(before)),
                        "amount": yuan(from_fen(-delta)),
                    },
                    code="overdrawn",
                )
    by_account: dict[int, int] = defaultdict(int)
    accounts = {}
    for line in lines:
        by_account[line.account.pk] += to_fen(line.amount)
        accounts[line.account.pk] = line.account
    current = balances_fen(by_account)
    for pk, delta in sorted(by_account.items()):
        sign = normal_sign(accounts[pk].kind)
        before = current.get(pk, 0) * sign
        if delta * sign < 0 and before + delta * sign < 0:
            raise ValidationError(
                OVERDRAWN
                % {
                    "account": accounts[pk],
                    "balance": yuan(from_fen(before)),
                    "amount": yuan(from_fen(-delta * sign)),
                },
                code="overdrawn",
            )


def _write(
    *,
    actor,
    kind: str,
    place: Place,
    on: dt.date,
    lines: Sequence[Line],
    locked: dict[int, Fund],
    memo: str = "",
    reverses: Transaction | None = None,
    commitment: Commitment | None = None,
    source: Place | None = None,
    counterparty: str = "",
) -> Transaction:
    """Check and write one balanced transaction. The caller holds the funds' locks."""
    lines = [line for line in lines if line.amount != 0]
    fund_ids = {line.account.fund_id for line in lines}
    # Programming errors, not user errors: the services build balanced postings.
    if len(lines) < 2 or not fund_ids <= set(locked):
        raise ValueError("a posting has two or more entries, on locked funds only")
    per_fund: dict[int, int] = defaultdict(int)
    for line in lines:
        per_fund[line.account.fund_id] += to_fen(line.amount)
    if any(per_fund.values()):
        raise ValueError(f"unbalanced posting: {dict(per_fund)}")
    _check_open_year([locked[pk] for pk in fund_ids], on)
    _guard(lines)
    txn = Transaction.objects.create(
        kind=kind,
        date=on,
        place=place,
        path=place.path,
        memo=_text(memo),
        amount=sum((line.amount for line in lines if line.amount > 0), ZERO),
        entry_count=len(lines),
        reverses=reverses,
        commitment=commitment,
        source=source,
        counterparty=_text(counterparty)[:200],
        posted_by=_user(actor),
    )
    Entry.objects.bulk_create(
        Entry(transaction=txn, account=line.account, commitment=line.commitment, amount=line.amount)
        for line in lines
    )
    return txn


def _pair(debit: Account, credit: Account, amount: Decimal, commitment=None) -> list[Line]:
    return [Line(debit, amount, commitment), Line(credit, -amount, commitment)]


# --- funds ------------------------------------------------------------------------------------


@transaction.atomic
def fund_open(*, actor, place: Place, kind: str, name: str = "") -> Fund:
    """Open a fund with its chart of accounts (allocations open a committee's funds themselves)."""
    _require(actor, perms.ALLOCATE, place, NOT_ALLOCATOR)
    if kind not in FundKind.values:
        raise ValidationError(FUND_PLACE % {"fund": kind, "kind": "—"})
    fund = _fund_get_or_create(place, kind)
    name = _text(name)[:200]
    if name and fund.name != name:
        fund.name = name
        fund.save(update_fields=["name"])
    audit_record(
        actor=actor, action="funds.fund.open", obj=fund, place=place, changes={"kind": kind}
    )
    return fund


# --- allocations and donations ----------------------------------------------------------------


def _allocation_split(place: Place, total, parts, profile: FundProfile) -> dict[str, Decimal]:
    if place.kind == PlaceKind.STREET:
        if parts:
            raise ValidationError({"parts": PARTS_ONLY_COMMITTEES})
        if total in (None, ""):
            raise ValidationError({"total": TOTAL_REQUIRED})
        return {FundKind.CO_GOVERNANCE: parse_money(total)}
    if parts:
        if set(parts) - set(COMMITTEE_FUNDS):
            raise ValidationError({"parts": PARTS_UNKNOWN})
        values = {
            kind: parse_money(parts.get(kind, 0), allow_zero=True) for kind in COMMITTEE_FUNDS
        }
        split = Split(
            office=values[FundKind.OFFICE],
            community_service=values[FundKind.COMMUNITY_SERVICE],
            self_governance=values[FundKind.SELF_GOVERNANCE],
        )
        if split.total <= 0:
            raise ValidationError({"total": TOTAL_REQUIRED})
        if total not in (None, "") and parse_money(total) != split.total:
            raise ValidationError(
                {
                    "parts": PARTS_TOTAL
                    % {"sum": yuan(split.total), "total": yuan(parse_money(total))}
                }
            )
    else:
        if total in (None, ""):
            raise ValidationError({"total": TOTAL_REQUIRED})
        split = split_allocation(
            parse_money(total),
            office_share=profile.office_share,
            self_governance_share=profile.self_governance_share,
        )
    if not at_least_share(split.self_governance, split.total, profile.min_self_governance_share):
        raise ValidationError(
            {
                "parts": MIN_SHARE
                % {
                    "part": yuan(split.self_governance),
                    "share": profile.min_self_governance_share.normalize(),
                    "total": yuan(split.total),
                }
            },
            code="min_share",
        )
    if profile.office_cap is not None and split.office > profile.office_cap:
        raise ValidationError(
            {"parts": OFFICE_CAP % {"part": yuan(split.office), "cap": yuan(profile.office_cap)}},
            code="office_cap",
        )
    return {
        FundKind.OFFICE: split.office,
        FundKind.COMMUNITY_SERVICE: split.community_service,
        FundKind.SELF_GOVERNANCE: split.self_governance,
    }


@transaction.atomic
def allocation_post(
    *,
    actor,
    place: Place,
    total=None,
    parts: dict | None = None,
    on: dt.date | None = None,
    source: Place | None = None,
    memo: str = "",
) -> Transaction:
    """A yearly allocation. To a committee it is split into its office, community-service and
    self-governance funds by the street's profile for the year (or given as `parts`, checked
    against the profile's minimum share); to a street it goes to its co-governance fund.
    `source` is the paying street or district (default: the place's parent)."""
    _require(actor, perms.ALLOCATE, place, NOT_ALLOCATOR)
    if place.kind == PlaceKind.COMMITTEE:
        street = place.parent
    elif place.kind == PlaceKind.STREET:
        street = place
    else:
        raise ValidationError(ALLOCATION_PLACE)
    on = _date(on)
    source = source or place.parent
    if (
        source is None
        or source.kind not in (PlaceKind.STREET, PlaceKind.DISTRICT)
        or source.pk not in place.ancestor_ids()
    ):
        raise ValidationError({"source": SOURCE_NOT_ABOVE % {"place": place}})
    profile = profile_for(street=street, year=on.year)
    amounts = _allocation_split(place, total, parts, profile)
    funds = [_fund_get_or_create(place, kind) for kind in amounts]
    locked = _lock(funds)
    accounts = _accounts(funds)
    lines = []
    for fund in funds:
        lines += _pair(
            accounts[fund.pk, AccountKind.AVAILABLE],
            accounts[fund.pk, AccountKind.INCOME],
            amounts[fund.kind],
        )
    txn = _write(
        actor=actor,
        kind=TransactionKind.ALLOCATION,
        place=place,
        on=on,
        lines=lines,
        locked=locked,
        memo=memo,
        source=source,
        counterparty=source.name,
    )
    audit_record(
        actor=actor,
        action="funds.allocation.post",
        obj=txn,
        place=place,
        changes={
            "year": on.year,
            "total": str(txn.amount),
            "parts": {kind: str(amount) for kind, amount in amounts.items()},
            "profile": profile.pk or "defaults",
            "source": source.name,
        },
    )
    return txn


@transaction.atomic
def donation_post(
    *,
    actor,
    fund: Fund,
    amount,
    donor_kind: str,
    donor_name: str = "",
    anonymous: bool = False,
    on: dt.date | None = None,
    memo: str = "",
) -> Donation:
    """A donation to a community foundation. A resident donor's name is optional and kept only
    on the `Donation` (erasable), never in the ledger or the audit trail."""
    _require(actor, perms.MANAGE_STREET_FUNDS, fund, NOT_PERMITTED)
    if fund.kind != FundKind.FOUNDATION:
        raise ValidationError(NOT_A_FOUNDATION)
    if donor_kind not in DonorKind.values:
        raise ValidationError({"donor_kind": DONOR_KIND_INVALID})
    donor_name = _text(donor_name)[:MAX_DONOR_NAME]
    if donor_kind != DonorKind.RESIDENT and not donor_name:
        raise ValidationError({"donor_name": DONOR_NAME_REQUIRED})
    amount = parse_money(amount)
    on = _date(on)
    locked = _lock([fund])
    accounts = _accounts([fund])
    organisation = donor_kind != DonorKind.RESIDENT
    txn = _write(
        actor=actor,
        kind=TransactionKind.DONATION,
        place=fund.place,
        on=on,
        lines=_pair(
            accounts[fund.pk, AccountKind.AVAILABLE],
            accounts[fund.pk, AccountKind.DONATIONS],
            amount,
        ),
        locked=locked,
        memo=memo,
        counterparty=donor_name if organisation and not anonymous else "",
    )
    donation = Donation.objects.create(
        transaction=txn,
        fund=fund,
        donor_kind=donor_kind,
        donor_name=donor_name,
        anonymous=bool(anonymous),
    )
    audit_record(
        actor=actor,
        action="funds.donation.post",
        obj=donation,
        place=fund.place,
        changes={
            "transaction": txn.pk,
            "amount": str(amount),
            "donor_kind": donor_kind,
            **({"donor": donor_name} if organisation else {}),
        },
    )
    return donation


# --- commitments, payments, refunds -----------------------------------------------------------


@transaction.atomic
def commitment_post(
    *,
    actor,
    fund: Fund,
    title: str,
    amount,
    on: dt.date | None = None,
    memo: str = "",
    permitted: bool = False,
) -> Commitment:
    """Earmark money of the fund's available account for one purpose.

    `permitted` is for a caller that has checked its own permission for the step that commits
    (the street approving a project): the actor is recorded, the funds permission not asked."""
    if not permitted:
        _require(actor, manage_perm(fund), fund, NOT_PERMITTED)
    title = _text(title)
    if not title or len(title) > MAX_TITLE:
        raise ValidationError({"title": TITLE_REQUIRED})
    amount = parse_money(amount)
    on = _date(on)
    locked = _lock([fund])
    accounts = _accounts([fund])
    commitment = Commitment.objects.create(
        fund=fund, path=fund.path, title=title, amount=amount, created_by=_user(actor)
    )
    txn = _write(
        actor=actor,
        kind=TransactionKind.COMMITMENT,
        place=fund.place,
        on=on,
        lines=_pair(
            accounts[fund.pk, AccountKind.COMMITTED],
            accounts[fund.pk, AccountKind.AVAILABLE],
            amount,
            commitment,
        ),
        locked=locked,
        memo=memo or title,
        commitment=commitment,
    )
    audit_record(
        actor=actor,
        action="funds.commitment.post",
        obj=commitment,
        place=fund.place,
        changes={"transaction": txn.pk, "amount": str(amount), "fund": fund.kind},
    )
    return commitment


def _require_open(commitment: Commitment) -> None:
    if commitment.state != CommitmentState.OPEN:
        raise ValidationError(
            COMMITMENT_NOT_OPEN % {"title": commitment.title, "state": _state_label(commitment)},
            code="not_open",
        )


def _locked_commitment(commitment: Commitment) -> tuple[Commitment, dict[int, Fund]]:
    """Lock the commitment's fund, then read the commitment as it is now."""
    locked = _lock([Fund(pk=commitment.fund_id)])
    current = Commitment.objects.select_related("fund__place").get(pk=commitment.pk)
    return current, locked


def _move_on_commitment(
    *,
    actor,
    commitment: Commitment,
    locked,
    kind: str,
    debit: str,
    credit: str,
    amount,
    on,
    memo: str,
    counterparty: str = "",
) -> Transaction:
    """One pair of entries between two accounts of the commitment's fund, tagged with it."""
    fund = commitment.fund
    accounts = _accounts([fund])
    return _write(
        actor=actor,
        kind=kind,
        place=fund.place,
        on=on,
        lines=_pair(accounts[fund.pk, debit], accounts[fund.pk, credit], amount, commitment),
        locked=locked,
        memo=memo,
        commitment=commitment,
        counterparty=counterparty,
    )


def _state_label(commitment: Commitment) -> str:
    return str(CommitmentState(commitment.state).label)


@transaction.atomic
def payment_post(
    *,
    actor,
    commitment: Commitment,
    amount,
    payee: str = "",
    on: dt.date | None = None,
    memo: str = "",
) -> Transaction:
    """Pay against an open commitment; never more than is left of it."""
    _require(actor, manage_perm(commitment.fund), commitment, NOT_PERMITTED)
    amount = parse_money(amount)
    on = _date(on)
    commitment, locked = _locked_commitment(commitment)
    _require_open(commitment)
    txn = _move_on_commitment(
        actor=actor,
        commitment=commitment,
        locked=locked,
        kind=TransactionKind.PAYMENT,
        debit=AccountKind.SPENT,
        credit=AccountKind.COMMITTED,
        amount=amount,
        on=on,
        memo=memo,
        counterparty=payee,
    )
    audit_record(
        actor=actor,
        action="funds.payment.post",
        obj=txn,
        place=commitment.fund.place,
        changes={"commitment": commitment.pk, "amount": str(amount), "payee": txn.counterparty},
    )
    return txn


@transaction.atomic
def refund_post(
    *, actor, commitment: Commitment, amount, on: dt.date | None = None, memo: str = ""
) -> Transaction:
    """Money paid against a commitment comes back: to what is left of the commitment while it
    is open, else to the fund's available money. Never more than was paid, net of refunds."""
    _require(actor, manage_perm(commitment.fund), commitment, NOT_PERMITTED)
    amount = parse_money(amount)
    on = _date(on)
    commitment, locked = _locked_commitment(commitment)
    back_to = (
        AccountKind.COMMITTED if commitment.state == CommitmentState.OPEN else AccountKind.AVAILABLE
    )
    txn = _move_on_commitment(
        actor=actor,
        commitment=commitment,
        locked=locked,
        kind=TransactionKind.REFUND,
        debit=back_to,
        credit=AccountKind.SPENT,
        amount=amount,
        on=on,
        memo=memo,
    )
    audit_record(
        actor=actor,
        action="funds.refund.post",
        obj=txn,
        place=commitment.fund.place,
        changes={"commitment": commitment.pk, "amount": str(amount), "to": back_to},
    )
    return txn


@transaction.atomic
def commitment_release(
    *,
    actor,
    commitment: Commitment,
    reason: str = "",
    on: dt.date | None = None,
    permitted: bool = False,
) -> Commitment:
    """Close an open commitment and give what is left of it back to the available money.
    `permitted`: as for commitment_post (the street closing a project)."""
    if not permitted:
        _require(actor, manage_perm(commitment.fund), commitment, NOT_PERMITTED)
    on = _date(on)
    commitment, locked = _locked_commitment(commitment)
    _require_open(commitment)
    fund = commitment.fund
    remaining = from_fen(
        commitment_balances_fen([commitment.pk]).get((commitment.pk, AccountKind.COMMITTED), 0)
    )
    txn = None
    if remaining > 0:
        txn = _move_on_commitment(
            actor=actor,
            commitment=commitment,
            locked=locked,
            kind=TransactionKind.RELEASE,
            debit=AccountKind.AVAILABLE,
            credit=AccountKind.COMMITTED,
            amount=remaining,
            on=on,
            memo=reason or commitment.title,
        )
    else:
        _check_open_year([fund], on)
    commitment.state, commitment.closed_at = CommitmentState.CLOSED, timezone.now()
    commitment.save(update_fields=["state", "closed_at"])
    audit_record(
        actor=actor,
        action="funds.commitment.release",
        obj=commitment,
        place=fund.place,
        changes={"released": str(remaining), "transaction": txn.pk if txn else None},
        reason=_text(reason),
    )
    return commitment


# --- year end ---------------------------------------------------------------------------------


@transaction.atomic
def year_end_close(*, actor, place: Place, year: int) -> list[YearClose]:
    """Close a year of a committee's three funds or a street's co-governance fund, by the
    street's profile for that year: return what was available on 31 December (and, if the
    profile says so, what is left of commitments made that year or before, which lapse), or
    carry it over. Nothing can be posted into a closed year afterwards."""
    _require(actor, perms.ALLOCATE, place, NOT_ALLOCATOR)
    if place.kind == PlaceKind.COMMITTEE:
        street, kinds = place.parent, COMMITTEE_FUNDS
    elif place.kind == PlaceKind.STREET:
        street, kinds = place, (FundKind.CO_GOVERNANCE,)
    else:
        raise ValidationError(NOT_CLOSABLE)
    end = dt.date(year, 12, 31)
    if timezone.localdate() < end:
        raise ValidationError(YEAR_NOT_OVER % {"year": year}, code="year_not_over")
    funds = list(Fund.objects.filter(place=place, kind__in=kinds))
    if not funds:
        raise ValidationError(NO_FUNDS % {"place": place})
    profile = profile_for(street=street, year=year)
    locked = _lock(funds)
    accounts = _accounts(funds)
    closes, summary = [], {}
    for fund in sorted(locked.values(), key=lambda f: f.pk):
        if YearClose.objects.filter(fund=fund, year=year).exists():
            raise ValidationError(
                YEAR_ALREADY_CLOSED % {"year": year, "fund": fund}, code="year_closed"
            )
        available_fen = Entry.objects.filter(
            account=accounts[fund.pk, AccountKind.AVAILABLE], transaction__date__lte=end
        ).aggregate(fen=fen_sum())["fen"]
        # Backdated postings could make the sum up to 31 December negative; nothing to return.
        available = max(from_fen(int(available_fen)), ZERO)
        lapsing: list[tuple[Commitment, Decimal]] = []
        returning = profile.year_end == YearEndRule.RETURN
        if returning and profile.return_open_commitments:
            open_ones = list(
                Commitment.objects.filter(
                    fund=fund,
                    state=CommitmentState.OPEN,
                    transactions__kind=TransactionKind.COMMITMENT,
                    transactions__date__lte=end,
                ).order_by("pk")
            )
            left = commitment_balances_fen([c.pk for c in open_ones])
            lapsing = [(c, from_fen(left.get((c.pk, AccountKind.COMMITTED), 0))) for c in open_ones]
        lapsed = sum((amount for _c, amount in lapsing), ZERO)
        txn = None
        if returning and available + lapsed > 0:
            lines = [Line(accounts[fund.pk, AccountKind.RETURNED], available + lapsed)]
            lines.append(Line(accounts[fund.pk, AccountKind.AVAILABLE], -available))
            lines += [
                Line(accounts[fund.pk, AccountKind.COMMITTED], -amount, c) for c, amount in lapsing
            ]
            txn = _write(
                actor=actor,
                kind=TransactionKind.YEAR_END,
                place=place,
                on=end,
                lines=lines,
                locked=locked,
                memo=f"{year}",
                source=street if place.kind == PlaceKind.COMMITTEE else place.parent,
            )
        now = timezone.now()
        for commitment, amount in lapsing:
            # A fully paid commitment was simply never released: it closes, it does not lapse.
            state = CommitmentState.LAPSED if amount else CommitmentState.CLOSED
            commitment.state, commitment.closed_at = state, now
            commitment.save(update_fields=["state", "closed_at"])
        close = YearClose.objects.create(
            fund=fund,
            year=year,
            rule=profile.year_end,
            available=available,
            lapsed=lapsed,
            returned=available + lapsed if returning else ZERO,
            carried=ZERO if returning else available,
            transaction=txn,
            closed_by=_user(actor),
            closed_at=now,
        )
        closes.append(close)
        summary[fund.kind] = {
            "available": str(available),
            "lapsed": str(lapsed),
            "returned": str(close.returned),
            "carried": str(close.carried),
        }
    audit_record(
        actor=actor,
        action="funds.year.close",
        obj=closes[0],
        place=place,
        changes={"year": year, "rule": profile.year_end, "funds": summary},
    )
    return closes


# --- reversals --------------------------------------------------------------------------------


def _reverse_perm(original: Transaction, funds: Iterable[Fund]) -> str:
    if original.kind == TransactionKind.ALLOCATION:
        return perms.ALLOCATE
    if any(fund.kind not in COMMITTEE_FUNDS for fund in funds):
        return perms.MANAGE_STREET_FUNDS
    return perms.MANAGE_FUNDS


@transaction.atomic
def transaction_reverse(
    *, actor, transaction: Transaction, reason: str, on: dt.date | None = None
) -> Transaction:
    """Correct a mistake: a new transaction whose entries mirror the original's, dated `on`
    (default today). The original stays as it was. Refused when the mirror would overdraw an
    account or a commitment (reverse the payments before the commitment, the commitments
    before the allocation)."""
    original = Transaction.objects.select_related("place", "commitment").get(pk=transaction.pk)
    entries = list(original.entries.select_related("account__fund__place", "commitment"))
    funds = {entry.account.fund_id: entry.account.fund for entry in entries}
    _require(actor, _reverse_perm(original, funds.values()), original, NOT_PERMITTED)
    reason = _text(reason)
    if len(reason) < 2:
        raise ValidationError({"reason": REASON_REQUIRED})
    if original.kind == TransactionKind.REVERSAL:
        raise ValidationError(REVERSAL_OF_REVERSAL, code="reversal_of_reversal")
    if original.kind == TransactionKind.YEAR_END:
        raise ValidationError(YEAR_END_IRREVERSIBLE, code="year_end")
    on = _date(on)
    locked = _lock(funds.values())
    if Transaction.objects.filter(reverses=original).exists():
        raise ValidationError(ALREADY_REVERSED % {"id": original.pk}, code="already_reversed")
    commitment = None
    if original.commitment_id is not None:
        commitment = Commitment.objects.get(pk=original.commitment_id)
        if original.kind == TransactionKind.PAYMENT and commitment.state != CommitmentState.OPEN:
            raise ValidationError(
                PAYMENT_OF_CLOSED % {"title": commitment.title, "state": _state_label(commitment)},
                code="not_open",
            )
    txn = _write(
        actor=actor,
        kind=TransactionKind.REVERSAL,
        place=original.place,
        on=on,
        lines=[Line(entry.account, -entry.amount, entry.commitment) for entry in entries],
        locked=locked,
        memo=reason,
        reverses=original,
        commitment=commitment,
        source=original.source,
        counterparty=original.counterparty,
    )
    if commitment is not None and original.kind == TransactionKind.COMMITMENT:
        commitment.state, commitment.closed_at = CommitmentState.CANCELLED, timezone.now()
        commitment.save(update_fields=["state", "closed_at"])
    elif commitment is not None and original.kind == TransactionKind.RELEASE:
        commitment.state, commitment.closed_at = CommitmentState.OPEN, None
        commitment.save(update_fields=["state", "closed_at"])
    audit_record(
        actor=actor,
        action="funds.transaction.reverse",
        obj=txn,
        place=original.place,
        changes={"reverses": original.pk, "kind": original.kind, "amount": str(original.amount)},
        reason=reason,
    )
    return txn
