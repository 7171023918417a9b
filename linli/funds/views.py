"""Fund pages (/funds/): a committee's or street's funds, an account's statement, the street
overview of every committee, and the public accounts of the board (居务公开).

Staff pages look the place or account up in the viewer's `funds.view` scope first, so anything
outside it answers 404 like a missing one (also on the POST-only URLs); a form the viewer may
not use answers 403. Forms hand their values to linli.funds.services and show its refusals on
their fields. The public accounts need no sign-in, like the notice board, and carry no personal
data: no memos, no payees, and a resident donor is never named.
"""

import base64
import datetime as dt
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from linli.accounts.scoping import grants, home_paths
from linli.funds import exports, selectors, services
from linli.funds.choices import (
    COMMITTEE_FUNDS,
    AccountKind,
    CommitmentState,
    DonorKind,
    FundKind,
    TransactionKind,
    normal_sign,
)
from linli.funds.forms import (
    MAX_YEAR,
    MIN_YEAR,
    AllocationForm,
    DonationForm,
    FoundationForm,
    YearCloseForm,
)
from linli.funds.models import Account, Commitment, Donation, Entry, Fund, Transaction, YearClose
from linli.funds.money import from_fen
from linli.funds.overview import committees_overview
from linli.funds.perms import ALLOCATE, MANAGE_STREET_FUNDS, VIEW_FUNDS
from linli.places.choices import PlaceKind, level_path
from linli.places.models import Place

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FUND_PLACES = (PlaceKind.COMMITTEE, PlaceKind.STREET)
OVERVIEW_PLACES = (PlaceKind.STREET, PlaceKind.DISTRICT, PlaceKind.CITY)
RECENT = 20
OPEN_COMMITMENTS = 50
CLOSES_SHOWN = 15
# The columns of a fund's balances, in the order of the chart; "received" is the income or
# donations account, whichever the fund has.
COLUMNS = (
    AccountKind.AVAILABLE,
    AccountKind.COMMITTED,
    AccountKind.SPENT,
    AccountKind.RETURNED,
)
FUND_ORDER = {kind: n for n, kind in enumerate(FundKind.values)}

# Service refusals that belong to one field of the forms. The service's "parts" refusals (sum,
# minimum share, office cap) concern the three parts together: they go above the form.
FIELD_OF_CODE = {"date_future": "date"}


def _add_errors(form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form's fields (or above them)."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            for item in errors:
                field = FIELD_OF_CODE.get(item.code or "", name)
                form.add_error(field if field in form.fields else None, item)
    else:
        for item in error.error_list:
            field = FIELD_OF_CODE.get(item.code or "")
            form.add_error(field if field in form.fields else None, item)


def _year(request) -> int:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return timezone.localdate().year
    return year if MIN_YEAR <= year <= MAX_YEAR else timezone.localdate().year


def _fund_place(request, place_id: int) -> Place:
    """A committee or street whose funds the viewer may see; anything else is 404."""
    place = Place.objects.filter(pk=place_id, kind__in=FUND_PLACES).select_related("parent").first()
    if place is None or not request.user.has_perm(VIEW_FUNDS, place):
        raise Http404
    return place


def _data(request):
    """The posted form (an empty POST is still a submission), or None for a GET."""
    return request.POST if request.method == "POST" else None


def _require(request, perm: str, place: Place) -> None:
    if not request.user.has_perm(perm, place):
        raise PermissionDenied


# --- reads of one place's own books (bounded queries whatever the ledger's size) ---------------


def _place_funds(place: Place) -> list[dict]:
    """The place's own funds with each balance and the account it is read from: three queries
    (funds, their accounts, one grouped sum)."""
    funds = sorted(Fund.objects.filter(place=place), key=lambda f: FUND_ORDER[f.kind])
    accounts = list(Account.objects.filter(fund__in=funds))
    sums = selectors.balances_fen([a.pk for a in accounts])
    by_fund: dict[int, dict[str, dict]] = {f.pk: {} for f in funds}
    for account in accounts:
        sign = normal_sign(account.kind)
        by_fund[account.fund_id][account.kind] = {
            "account": account,
            "amount": from_fen(sums.get(account.pk, 0) * sign),
        }
    rows = []
    for fund in funds:
        cells = by_fund[fund.pk]
        received = cells.get(AccountKind.INCOME) or cells.get(AccountKind.DONATIONS)
        rows.append(
            {
                "fund": fund,
                "cells": [(kind, AccountKind(kind).label, cells.get(kind)) for kind in COLUMNS],
                "received": received,
                "held": sum(
                    (
                        cells[k]["amount"]
                        for k in (AccountKind.AVAILABLE, AccountKind.COMMITTED)
                        if k in cells
                    ),
                    from_fen(0),
                ),
            }
        )
    return rows


def _totals(rows: list[dict]) -> dict:
    total = {kind: from_fen(0) for kind in (*COLUMNS, "received", "held")}
    for row in rows:
        for kind, _label, cell in row["cells"]:
            if cell:
                total[kind] += cell["amount"]
        if row["received"]:
            total["received"] += row["received"]["amount"]
        total["held"] += row["held"]
    return {"cells": [(AccountKind(kind).label, total[kind]) for kind in COLUMNS], **total}


def _allocations(place: Place, years: list[int], *, public: bool = False) -> list[dict]:
    """Allocations posted to the place in those years with their parts per fund (two queries).
    The public board leaves reversed ones (and their reversals) out."""
    reversed_q = Exists(Transaction.objects.filter(reverses=OuterRef("pk")))
    rows = (
        Transaction.objects.filter(
            path=place.path,
            kind=TransactionKind.ALLOCATION,
            date__gte=dt.date(min(years), 1, 1),
            date__lte=dt.date(max(years), 12, 31),
        )
        .annotate(is_reversed=reversed_q)
        .select_related("source")
        .prefetch_related(
            Prefetch(
                "entries",
                queryset=Entry.objects.filter(
                    amount__gt=0, account__kind=AccountKind.AVAILABLE
                ).select_related("account__fund"),
                to_attr="parts",
            )
        )
        .order_by("date", "id")
    )
    result = []
    for txn in rows:
        if public and txn.is_reversed:
            continue
        parts = {entry.account.fund.kind: entry.amount for entry in txn.parts}
        result.append(
            {
                "transaction": txn,
                "parts": [(FundKind(k).label, parts[k]) for k in FundKind.values if k in parts],
            }
        )
    return result


def _open_commitments(place: Place) -> list[dict]:
    commitments = list(
        Commitment.objects.filter(fund__place=place, state=CommitmentState.OPEN)
        .select_related("fund")
        .order_by("-created_at", "-id")[:OPEN_COMMITMENTS]
    )
    sums = selectors.commitment_balances_fen([c.pk for c in commitments])
    return [
        {
            "commitment": c,
            "left": from_fen(sums.get((c.pk, AccountKind.COMMITTED), 0)),
            "paid": from_fen(sums.get((c.pk, AccountKind.SPENT), 0)),
        }
        for c in commitments
    ]


def _closes(place: Place) -> list[YearClose]:
    return list(
        YearClose.objects.filter(fund__place=place)
        .select_related("fund")
        .order_by("-year", "fund__kind")[:CLOSES_SHOWN]
    )


# --- staff pages ------------------------------------------------------------------------------


@login_required
@require_GET
def home(request):
    """/funds/: the viewer's own committee or street; from a district, its overview; a resident
    gets their committee's public accounts."""
    for grant in grants(request.user):
        if VIEW_FUNDS not in grant.perms or len(grant.prefixes) != 1:
            continue
        if grant.place_kind in FUND_PLACES:
            return redirect("funds:overview", place_id=grant.place_id)
        if grant.place_kind in OVERVIEW_PLACES:
            return redirect("funds:street_overview", place_id=grant.place_id)
    for path in home_paths(request.user):
        committee = Place.objects.filter(path=level_path(path, PlaceKind.COMMITTEE)).first()
        if committee is not None:
            return redirect("funds:public", board_id=committee.pk)
    raise Http404


def _overview_context(request, place: Place, year: int, **forms) -> dict:
    user = request.user
    today = timezone.localdate()
    can_allocate = user.has_perm(ALLOCATE, place)
    funds = _place_funds(place)
    foundation = next((r["fund"] for r in funds if r["fund"].kind == FundKind.FOUNDATION), None)
    street = place if place.kind == PlaceKind.STREET else place.parent
    context = {
        "place": place,
        "street": street,
        "year": year,
        "years": [y for y in range(today.year, today.year - 5, -1)],
        "funds": funds,
        "totals": _totals(funds),
        "allocations": _allocations(place, [year]),
        "commitments": _open_commitments(place),
        "recent": list(
            Transaction.objects.filter(path=place.path)
            .select_related("commitment")
            .order_by("-id")[:RECENT]
        ),
        "closes": _closes(place),
        "can_allocate": can_allocate,
        "can_donate": foundation is not None and user.has_perm(MANAGE_STREET_FUNDS, place),
        "foundation": foundation,
        "can_see_street": place.kind == PlaceKind.STREET
        or (street is not None and user.has_perm(VIEW_FUNDS, street)),
    }
    if can_allocate:
        profile = selectors.profile_for(street=street, year=today.year)
        context.update(
            profile=profile,
            allocation_form=forms.get("allocation_form")
            or AllocationForm(split=place.kind == PlaceKind.COMMITTEE),
            close_form=forms.get("close_form") or YearCloseForm(initial={"year": today.year - 1}),
            foundation_form=forms.get("foundation_form") or FoundationForm(),
        )
    if context["can_donate"]:
        context["donation_form"] = forms.get("donation_form") or DonationForm()
    return context


@login_required
@require_GET
def overview(request, place_id: int):
    place = _fund_place(request, place_id)
    return render(request, "funds/overview.html", _overview_context(request, place, _year(request)))


def _form_page(request, place: Place, form, *, template: str, **extra):
    context = _overview_context(request, place, timezone.localdate().year)
    return render(request, template, {**context, "form": form, **extra})


@login_required
@require_http_methods(["GET", "POST"])
def allocate(request, place_id: int):
    place = _fund_place(request, place_id)
    _require(request, ALLOCATE, place)
    form = AllocationForm(_data(request), split=place.kind == PlaceKind.COMMITTEE)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            txn = services.allocation_post(
                actor=request.user,
                place=place,
                total=data["total"],
                parts=form.parts(),
                on=data["date"],
                memo=data["memo"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                _("Allocation of %(amount)s to %(place)s posted.")
                % {"amount": f"¥{txn.amount:,.2f}", "place": place.name},
            )
            return redirect("funds:overview", place_id=place.pk)
    return _form_page(request, place, form, template="funds/allocate.html", allocation_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def year_close(request, place_id: int):
    place = _fund_place(request, place_id)
    _require(request, ALLOCATE, place)
    form = YearCloseForm(_data(request), initial={"year": timezone.localdate().year - 1})
    if request.method == "POST" and form.is_valid():
        year = form.cleaned_data["year"]
        try:
            closes = services.year_end_close(actor=request.user, place=place, year=year)
        except ValidationError as error:
            _add_errors(form, error)
            if not form.errors.get("year") and form.non_field_errors():
                # The service's refusals (not over yet, already closed) are about the year.
                form.errors["year"] = form.errors.pop("__all__")
        else:
            returned = sum((c.returned for c in closes), from_fen(0))
            carried = sum((c.carried for c in closes), from_fen(0))
            messages.success(
                request,
                _("%(year)s closed for %(place)s: %(returned)s returned, %(carried)s carried over.")
                % {
                    "year": year,
                    "place": place.name,
                    "returned": f"¥{returned:,.2f}",
                    "carried": f"¥{carried:,.2f}",
                },
            )
            return redirect(f"{reverse('funds:overview', args=[place.pk])}?year={year}")
    return _form_page(request, place, form, template="funds/close.html", close_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def donate(request, place_id: int):
    place = _fund_place(request, place_id)
    _require(request, MANAGE_STREET_FUNDS, place)
    foundation = Fund.objects.filter(place=place, kind=FundKind.FOUNDATION).first()
    if foundation is None:
        raise Http404
    form = DonationForm(_data(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.donation_post(
                actor=request.user,
                fund=foundation,
                amount=data["amount"],
                donor_kind=data["donor_kind"],
                donor_name=data["donor_name"],
                anonymous=data["anonymous"],
                on=data["date"],
                memo=data["memo"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Donation recorded."))
            return redirect("funds:overview", place_id=place.pk)
    return _form_page(request, place, form, template="funds/donate.html", donation_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def foundation_open(request, place_id: int):
    place = _fund_place(request, place_id)
    _require(request, ALLOCATE, place)
    form = FoundationForm(_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.fund_open(
                actor=request.user,
                place=place,
                kind=FundKind.FOUNDATION,
                name=form.cleaned_data["name"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Community foundation opened."))
            return redirect("funds:overview", place_id=place.pk)
    return _form_page(request, place, form, template="funds/foundation.html", foundation_form=form)


# --- statements -------------------------------------------------------------------------------


def _statement(request, account_id: int):
    year = _year(request)
    statement = selectors.account_statement(
        viewer=request.user, account=Account(pk=account_id), year=year
    )
    ids = {row.commitment_id for row in statement.rows if row.commitment_id}
    titles = dict(Commitment.objects.filter(pk__in=ids).values_list("pk", "title")) if ids else {}
    return statement, year, titles


@login_required
@require_GET
def statement(request, account_id: int):
    statement, year, titles = _statement(request, account_id)
    account = statement.account
    rows = [
        {
            "row": row,
            "kind": TransactionKind(row.kind).label,
            "commitment": titles.get(row.commitment_id, ""),
        }
        for row in statement.rows
    ]
    today = timezone.localdate()
    context = {
        "statement": statement,
        "account": account,
        "fund": account.fund,
        "place": account.fund.place,
        "rows": rows,
        "year": year,
        "previous_year": year - 1 if year > MIN_YEAR else None,
        "next_year": year + 1 if year < today.year else None,
        "siblings": Account.objects.filter(fund=account.fund).order_by("pk"),
    }
    return render(request, "funds/statement.html", context)


@login_required
@require_GET
def statement_xlsx(request, account_id: int):
    statement, year, titles = _statement(request, account_id)
    content = exports.statement_workbook(statement, year=year, titles=titles)
    response = HttpResponse(content, content_type=XLSX)
    name = f"statement-{statement.account.pk}-{year}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- street overview --------------------------------------------------------------------------


def _overview_place(request, place_id: int) -> Place:
    place = Place.objects.filter(pk=place_id, kind__in=OVERVIEW_PLACES).first()
    if place is None or not request.user.has_perm(VIEW_FUNDS, place):
        raise Http404
    return place


@login_required
@require_GET
def street_overview(request, place_id: int):
    place = _overview_place(request, place_id)
    year = _year(request)
    page = committees_overview(
        viewer=request.user, place=place, year=year, page=request.GET.get("page") or 1
    )
    today = timezone.localdate()
    context = {
        "place": place,
        "page": page,
        "year": year,
        "years": [y for y in range(today.year, today.year - 5, -1)],
        "query": f"year={year}&",
    }
    return render(request, "funds/street_overview.html", context)


@login_required
@require_GET
def street_overview_xlsx(request, place_id: int):
    place = _overview_place(request, place_id)
    year = _year(request)
    content = exports.street_overview_workbook(viewer=request.user, place=place, year=year)
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = (
        f'attachment; filename="funds-overview-{place.code or place.pk}-{year}.xlsx"'
    )
    return response


# --- public accounts (居务公开) ---------------------------------------------------------------


def _public_donor(donation: Donation) -> str:
    """Who gave, as the board may say it: a unit or organisation by name, never a resident."""
    if donation.anonymous:
        return _("Anonymous donor")
    if donation.donor_kind == DonorKind.RESIDENT:
        return _("A resident")
    return donation.donor_name


def _public_context(place: Place) -> dict:
    today = timezone.localdate()
    years = [today.year, today.year - 1]
    funds = _place_funds(place)
    allocations = _allocations(place, years, public=True)
    by_year = []
    for year in years:
        items = [a for a in allocations if a["transaction"].date.year == year]
        by_year.append(
            {
                "year": year,
                "items": items,
                "total": sum((a["transaction"].amount for a in items), from_fen(0)),
            }
        )
    donations = []
    if any(r["fund"].kind == FundKind.FOUNDATION for r in funds):
        rows = (
            Donation.objects.filter(
                fund__place=place,
                transaction__date__gte=dt.date(min(years), 1, 1),
                transaction__reversal__isnull=True,
            )
            .select_related("transaction")
            .order_by("-transaction__date", "-id")
        )
        donations = [
            {
                "date": d.transaction.date,
                "amount": d.transaction.amount,
                "donor": _public_donor(d),
                "kind": DonorKind(d.donor_kind).label,
            }
            for d in rows
        ]
    closes: dict[int, list[YearClose]] = {}
    for close in _closes(place):
        closes.setdefault(close.year, []).append(close)
    return {
        "place": place,
        "heading": [p for p in (place.parent, place) if p is not None],
        "funds": funds,
        "totals": _totals(funds),
        "allocation_years": by_year,
        "donations": donations,
        "closes": sorted(closes.items(), reverse=True),
        "committee_funds": COMMITTEE_FUNDS,
        "today": today,
    }


def _board_place(board_id: int) -> Place:
    place = Place.objects.filter(pk=board_id, kind__in=FUND_PLACES).select_related("parent").first()
    if place is None:
        raise Http404
    return place


@require_GET
def public(request, board_id: int):
    place = _board_place(board_id)
    context = _public_context(place)
    context["can_see_books"] = request.user.has_perm(VIEW_FUNDS, place)
    return render(request, "funds/public.html", context)


def _qr_data_uri(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=6)
    buffer = BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


@require_GET
def public_print(request, board_id: int):
    """The public accounts as an A4 sheet for the physical board."""
    place = _board_place(board_id)
    online = request.build_absolute_uri(reverse("funds:public", args=[place.pk]))
    context = {**_public_context(place), "online": online, "qr": _qr_data_uri(online)}
    return render(request, "funds/print.html", context)
