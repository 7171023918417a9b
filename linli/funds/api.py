"""Funds API (/api/v1/funds/): funds with their balances, an account's statement, the street
overview of committees, and the street office's postings (allocations, donations, year ends).

Scoped like the pages: a fund, account or place outside the caller's `funds.view` answers 404
like a missing one; a posting the caller may not make answers 403. Money is a decimal string in
yuan with at most two places ("12000.50"); amounts are never floats in the ledger.
Errors: 403 forbidden, 404 not_found, 422 invalid ([{loc, msg, type}]; type is the service's
error code where it has one, e.g. "min_share", "overdrawn", "year_closed").
"""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.utils import timezone
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import AfterValidator

from linli.core.scoping import under_q
from linli.funds import selectors, services
from linli.funds.choices import AccountKind, DonorKind, FundKind, normal_sign
from linli.funds.models import Account, Fund, Transaction
from linli.funds.money import from_fen
from linli.funds.overview import MAX_PER_PAGE, committees_overview
from linli.funds.perms import VIEW_FUNDS
from linli.places.choices import PlaceKind
from linli.places.models import Place

router = Router(tags=["funds"])

PER_PAGE = 50
MAX_ID = 2**31 - 1
MIN_YEAR, MAX_YEAR = 2000, 2100


class ApiError(HttpError):
    def __init__(self, status: int, message: str, code: str):
        super().__init__(status, message)
        self.code = code


# The services name the object (place, fund); the API's body names its id.
FIELD_NAMES = {"place": "place_id", "fund": "fund_id"}


def _details(errors, loc: list) -> list[dict]:
    return [
        {"loc": loc, "msg": " ".join(str(m) for m in e.messages), "type": e.code or "invalid"}
        for e in errors
    ]


def _invalid(error: ValidationError) -> NinjaValidationError:
    if hasattr(error, "error_dict"):
        details = [
            detail
            for name, errors in error.error_dict.items()
            for detail in _details(errors, ["body", FIELD_NAMES.get(name, name)])
        ]
    else:
        details = _details(error.error_list, ["body"])
    return NinjaValidationError(details)


def _run(action, **params):
    """A service call with its refusals as the API's errors."""
    try:
        return action(**params)
    except PermissionDenied as error:
        raise ApiError(403, str(error) or "Forbidden.", "forbidden") from None
    except ValidationError as error:
        raise _invalid(error) from None


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate would fail in the database
        raise ValueError("Text must be valid Unicode.") from None
    return value


def _day(value: dt.date | None) -> dt.date | None:
    if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"Give a date between {MIN_YEAR} and {MAX_YEAR}.")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Money = Annotated[
    str,
    Field(
        max_length=24,
        pattern=r"^\s*\d{1,12}(\.\d{1,2})?\s*$",
        description='Yuan, at most two decimals, as a string: "12000" or "12000.50".',
        examples=["12000.00"],
    ),
]
Day = Annotated[dt.date | None, AfterValidator(_day)]
Year = Annotated[int, Field(ge=MIN_YEAR, le=MAX_YEAR)]
AccountName = Literal[tuple(AccountKind.values)]  # type: ignore[valid-type]
DonorName = Literal[tuple(DonorKind.values)]  # type: ignore[valid-type]


# --- schemas ----------------------------------------------------------------------------------


class BalancesOut(Schema):
    available: Decimal
    committed: Decimal
    spent: Decimal
    returned: Decimal
    received: Decimal = Field(description="Allocations or donations received, all time.")


class AccountOut(Schema):
    id: int
    kind: str
    kind_label: str
    balance: Decimal


class FundOut(Schema):
    id: int
    kind: str
    kind_label: str
    name: str
    place_id: int
    place_name: str
    balances: BalancesOut
    accounts: list[AccountOut]


class FundPageOut(Schema):
    count: int
    page: int
    pages: int
    results: list[FundOut]


class FundQuery(Schema):
    place_id: int | None = Field(None, ge=1, le=MAX_ID, description="Only funds under it.")
    kind: Literal[("", *FundKind.values)] = ""  # type: ignore[valid-type]
    page: int = Field(1, ge=1, le=100_000)


class StatementQuery(Schema):
    account: AccountName = AccountKind.AVAILABLE  # type: ignore[assignment]
    year: Year | None = Field(None, description="Entries dated in this year (default: all).")


class StatementRowOut(Schema):
    entry_id: int
    transaction_id: int
    date: dt.date
    kind: str
    memo: str
    commitment_id: int | None
    debit: Decimal
    credit: Decimal
    balance: Decimal


class StatementOut(Schema):
    fund_id: int
    account_id: int
    account: str
    year: int | None
    opening: Decimal
    closing: Decimal
    rows: list[StatementRowOut]


class OverviewQuery(Schema):
    place_id: int = Field(..., ge=1, le=MAX_ID, description="A street, district or city.")
    year: Year | None = None
    page: int = Field(1, ge=1, le=100_000)
    per_page: int = Field(PER_PAGE, ge=1, le=MAX_PER_PAGE)


class CommitteeFiguresOut(Schema):
    place_id: int
    name: str
    allocated: Decimal
    available: Decimal
    committed: Decimal
    spent: Decimal
    returned: Decimal
    spent_in_year: Decimal
    spent_percent: Decimal | None


class TotalsOut(CommitteeFiguresOut):
    committees: int


class OverviewOut(Schema):
    place_id: int
    year: int
    count: int
    page: int
    pages: int
    results: list[CommitteeFiguresOut]
    totals: TotalsOut


class AllocationIn(Schema):
    # Defaults, so the place is looked up (404) and the permission checked (403) before the
    # amounts are judged (422).
    place_id: int = Field(0, ge=0, le=MAX_ID)
    total: Money | None = None
    parts: dict[Literal["office", "community_service", "self_governance"], Money] | None = Field(
        None, description="The three parts instead of (or as well as) the total."
    )
    date: Day = None
    memo: Text = Field("", max_length=500)


class TransactionOut(Schema):
    id: int
    kind: str
    date: dt.date
    place_id: int
    amount: Decimal
    memo: str
    parts: dict[str, Decimal]


class DonationIn(Schema):
    fund_id: int = Field(0, ge=0, le=MAX_ID)
    amount: Money = "0"
    donor_kind: DonorName = DonorKind.UNIT  # type: ignore[assignment]
    donor_name: Text = Field("", max_length=100)
    anonymous: bool = False
    date: Day = None
    memo: Text = Field("", max_length=500)


class DonationOut(Schema):
    id: int
    transaction_id: int
    fund_id: int
    date: dt.date
    amount: Decimal
    donor_kind: str
    anonymous: bool


class YearCloseIn(Schema):
    place_id: int = Field(0, ge=0, le=MAX_ID)
    year: Year = MIN_YEAR


class YearCloseOut(Schema):
    fund_id: int
    fund_kind: str
    year: int
    rule: str
    available: Decimal
    lapsed: Decimal
    returned: Decimal
    carried: Decimal


# --- helpers ----------------------------------------------------------------------------------


def _place(user, pk: int, kinds) -> Place:
    place = Place.objects.filter(pk=pk, kind__in=kinds).first()
    if place is None or not user.has_perm(VIEW_FUNDS, place):
        raise Http404
    return place


def _funds_out(funds: list[Fund]) -> list[dict]:
    """Each fund with its accounts and balances: two queries for the whole list."""
    accounts = list(Account.objects.filter(fund__in=funds).order_by("fund_id", "pk"))
    sums = selectors.balances_fen([a.pk for a in accounts])
    by_fund: dict[int, list[dict]] = {f.pk: [] for f in funds}
    for account in accounts:
        by_fund[account.fund_id].append(
            {
                "id": account.pk,
                "kind": account.kind,
                "kind_label": str(AccountKind(account.kind).label),
                "balance": from_fen(sums.get(account.pk, 0) * normal_sign(account.kind)),
            }
        )
    result = []
    for fund in funds:
        balances = {a["kind"]: a["balance"] for a in by_fund[fund.pk]}
        result.append(
            {
                "id": fund.pk,
                "kind": fund.kind,
                "kind_label": str(FundKind(fund.kind).label),
                "name": fund.name,
                "place_id": fund.place_id,
                "place_name": fund.place.name,
                "balances": {
                    "available": balances.get(AccountKind.AVAILABLE, from_fen(0)),
                    "committed": balances.get(AccountKind.COMMITTED, from_fen(0)),
                    "spent": balances.get(AccountKind.SPENT, from_fen(0)),
                    "returned": balances.get(AccountKind.RETURNED, from_fen(0)),
                    "received": balances.get(AccountKind.INCOME)
                    or balances.get(AccountKind.DONATIONS)
                    or from_fen(0),
                },
                "accounts": by_fund[fund.pk],
            }
        )
    return result


def _figures(row) -> dict:
    return {
        "place_id": row.place.pk,
        "name": row.place.name,
        "allocated": row.allocated,
        "available": row.available,
        "committed": row.committed,
        "spent": row.spent,
        "returned": row.returned,
        "spent_in_year": row.spent_in_year,
        "spent_percent": row.spent_percent,
    }


def _transaction(txn: Transaction) -> dict:
    parts = {
        entry.account.fund.kind: entry.amount
        for entry in txn.entries.filter(
            amount__gt=0, account__kind=AccountKind.AVAILABLE
        ).select_related("account__fund")
    }
    return {
        "id": txn.pk,
        "kind": txn.kind,
        "date": txn.date,
        "place_id": txn.place_id,
        "amount": txn.amount,
        "memo": txn.memo,
        "parts": parts,
    }


# --- reads ------------------------------------------------------------------------------------


@router.get("/", response=FundPageOut, summary="Funds the caller may see, with balances, 50 a page")
def fund_list(request, query: Query[FundQuery]):
    funds = Fund.objects.for_viewer(request.user, VIEW_FUNDS).select_related("place")
    if query.place_id is not None:
        place = _place(request.user, query.place_id, PlaceKind.values)
        funds = funds.filter(under_q(place.path))
    if query.kind:
        funds = funds.filter(kind=query.kind)
    page = Paginator(funds.order_by("path", "kind", "pk"), PER_PAGE).get_page(query.page)
    return {
        "count": page.paginator.count,
        "page": page.number,
        "pages": page.paginator.num_pages,
        "results": _funds_out(list(page)),
    }


@router.get(
    "/overview",
    response=OverviewOut,
    summary="Every committee under a street or district with its figures and a totals row",
)
def overview(request, query: Query[OverviewQuery]):
    place = _place(
        request.user, query.place_id, (PlaceKind.STREET, PlaceKind.DISTRICT, PlaceKind.CITY)
    )
    year = query.year or timezone.localdate().year
    page = committees_overview(
        viewer=request.user, place=place, year=year, page=query.page, per_page=query.per_page
    )
    return {
        "place_id": place.pk,
        "year": year,
        "count": page.paginator.count,
        "page": page.number,
        "pages": page.paginator.num_pages,
        "results": [_figures(row) for row in page],
        "totals": {**_figures(page.totals), "committees": page.totals.committees},
    }


# --- postings ---------------------------------------------------------------------------------


@router.post(
    "/allocations",
    response={201: TransactionOut},
    summary="Post a yearly allocation to a committee (split by the street's profile) or street",
)
def allocation_create(request, payload: AllocationIn):
    place = _place(request.user, payload.place_id, (PlaceKind.COMMITTEE, PlaceKind.STREET))
    txn = _run(
        services.allocation_post,
        actor=request.user,
        place=place,
        total=payload.total.strip() if payload.total else None,
        parts={k: v.strip() for k, v in payload.parts.items()} if payload.parts else None,
        on=payload.date,
        memo=payload.memo,
    )
    return Status(201, _transaction(txn))


@router.post(
    "/donations",
    response={201: DonationOut},
    summary="Record a donation to a community foundation (a resident donor is never published)",
)
def donation_create(request, payload: DonationIn):
    fund = Fund.objects.for_viewer(request.user, VIEW_FUNDS).filter(pk=payload.fund_id).first()
    if fund is None:
        raise Http404
    donation = _run(
        services.donation_post,
        actor=request.user,
        fund=fund,
        amount=payload.amount.strip(),
        donor_kind=payload.donor_kind,
        donor_name=payload.donor_name,
        anonymous=payload.anonymous,
        on=payload.date,
        memo=payload.memo,
    )
    txn = donation.transaction
    return Status(
        201,
        {
            "id": donation.pk,
            "transaction_id": txn.pk,
            "fund_id": fund.pk,
            "date": txn.date,
            "amount": txn.amount,
            "donor_kind": donation.donor_kind,
            "anonymous": donation.anonymous,
        },
    )


@router.post(
    "/year-closes",
    response={201: list[YearCloseOut]},
    summary="Close a year of a committee's funds or a street's co-governance fund",
)
def year_close(request, payload: YearCloseIn):
    place = _place(request.user, payload.place_id, (PlaceKind.COMMITTEE, PlaceKind.STREET))
    closes = _run(services.year_end_close, actor=request.user, place=place, year=payload.year)
    return Status(
        201,
        [
            {
                "fund_id": c.fund_id,
                "fund_kind": c.fund.kind,
                "year": c.year,
                "rule": c.rule,
                "available": c.available,
                "lapsed": c.lapsed,
                "returned": c.returned,
                "carried": c.carried,
            }
            for c in closes
        ],
    )


# --- one fund (after the fixed paths: /{fund_id} would also match them) ------------------------


@router.get("/{fund_id}", response=FundOut, summary="One fund with its accounts and balances")
def fund_detail(request, fund_id: int = Path(..., ge=1, le=MAX_ID)):
    fund = (
        Fund.objects.for_viewer(request.user, VIEW_FUNDS)
        .select_related("place")
        .filter(pk=fund_id)
        .first()
    )
    if fund is None:
        raise Http404
    return _funds_out([fund])[0]


@router.get(
    "/{fund_id}/statement",
    response=StatementOut,
    summary="One account of a fund: opening balance, entries with running balance, closing",
)
def fund_statement(
    request, query: Query[StatementQuery], fund_id: int = Path(..., ge=1, le=MAX_ID)
):
    account = (
        Account.objects.for_viewer(request.user, VIEW_FUNDS)
        .filter(fund_id=fund_id, kind=query.account)
        .first()
    )
    if account is None:
        raise Http404
    statement = selectors.account_statement(viewer=request.user, account=account, year=query.year)
    return {
        "fund_id": fund_id,
        "account_id": account.pk,
        "account": account.kind,
        "year": query.year,
        "opening": statement.opening,
        "closing": statement.closing,
        "rows": [row.__dict__ for row in statement.rows],
    }
