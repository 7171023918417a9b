"""The street overview of committees' funds (issue 6, item 6): one row per residents' committee
under a street, district or city, with the year's allocation and the balances of its three
working funds, plus a totals row over every committee the viewer may see there.

Queries are bounded whatever the number of committees (four, with the viewer's grants already
loaded):

1. the paginator's count of the committees;
2. the page of committees (`Place.objects.for_viewer(viewer, VIEW_FUNDS)`, ordered by path);
3. the page's figures: one grouped sum over the entries of those committees' office,
   community-service and self-governance funds (Entry ⋈ Account ⋈ Fund ⋈ Transaction, GROUP BY
   the fund's place), each figure a filtered SUM in whole fen as `selectors.fen_sum` takes it;
4. the totals: the same sums without GROUP BY over every committee fund under the place that
   the viewer may see (the prefixes `Fund.objects.for_viewer(viewer, VIEW_FUNDS)` applies, on
   the funds' paths), not just the page's.

The committees' projects are shown beside the figures by the projects app (its template tag
`committees_projects`, one more grouped query for the page): funds does not import projects.

Figures, all in yuan on the accounts' normal sides:
- `allocated`: the allocations credited to the committee's income accounts in the calendar year
  (entries dated in that year; a reversal dated in the year counts against it);
- `available`, `committed`, `spent`, `returned`: balances now, across the three funds;
- `spent_in_year`: payments net of refunds dated in the year (the spent account's movement);
- `spent_rate`: spent_in_year ÷ allocated as an exact Fraction (None when nothing was
  allocated), `spent_percent` the same in per cent, rounded towards zero to one decimal place,
  so a figure never shows as reached before it is. The rate is taken from the year's spending,
  not the balance now: the spent account keeps every earlier year's payments too.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.core.paginator import Page, Paginator
from django.db.models import BigIntegerField, F, Q, Sum, Value
from django.db.models.functions import Cast, Coalesce, Round

from linli.core.scoping import under_q
from linli.funds.choices import COMMITTEE_FUNDS, AccountKind
from linli.funds.models import Entry
from linli.funds.money import ZERO, from_fen
from linli.funds.perms import VIEW_FUNDS
from linli.places.choices import PlaceKind
from linli.places.models import Place

PER_PAGE = 50
MAX_PER_PAGE = 200

# Figure → (account kind, only entries dated in the year?, sign that puts it on its normal side).
FIGURES = {
    "allocated": (AccountKind.INCOME, True, -1),
    "available": (AccountKind.AVAILABLE, False, 1),
    "committed": (AccountKind.COMMITTED, False, 1),
    "spent": (AccountKind.SPENT, False, 1),
    "returned": (AccountKind.RETURNED, False, 1),
    "spent_in_year": (AccountKind.SPENT, True, 1),
}


@dataclass
class CommitteeFigures:
    """One row of the overview: a committee's figures for the year (or, for the totals row, the
    sums over `committees` committees under `place`)."""

    place: Place
    year: int
    allocated: Decimal = ZERO
    available: Decimal = ZERO
    committed: Decimal = ZERO
    spent: Decimal = ZERO
    returned: Decimal = ZERO
    spent_in_year: Decimal = ZERO
    committees: int = 1

    @property
    def held(self) -> Decimal:
        """The cash the committee holds: available plus committed."""
        return self.available + self.committed

    @property
    def spent_rate(self) -> Fraction | None:
        if not self.allocated:
            return None
        return Fraction(self.spent_in_year) / Fraction(self.allocated)

    @property
    def spent_percent(self) -> Decimal | None:
        """spent_rate in per cent, towards zero to one decimal place (exact: integer arithmetic)."""
        rate = self.spent_rate
        if rate is None:
            return None
        tenths = abs(rate.numerator) * 1000 // rate.denominator
        return Decimal(tenths if rate >= 0 else -tenths).scaleb(-1)


class OverviewPage(Page):
    """A page of `CommitteeFigures` rows, with the totals row over all pages."""

    totals: CommitteeFigures
    year: int
    place: Place


def _fen(condition: Q):
    fen = Cast(Round(F("amount") * 100), BigIntegerField())
    return Coalesce(Sum(fen, filter=condition), Value(0), output_field=BigIntegerField())


def _sums(year: int) -> dict:
    in_year = Q(
        transaction__date__gte=dt.date(year, 1, 1), transaction__date__lte=dt.date(year, 12, 31)
    )
    sums = {}
    for name, (kind, dated, _sign) in FIGURES.items():
        condition = Q(account__kind=kind)
        sums[f"{name}_fen"] = _fen(condition & in_year if dated else condition)
    return sums


def _figures(row: CommitteeFigures, sums: dict) -> CommitteeFigures:
    for name, (_kind, _dated, sign) in FIGURES.items():
        setattr(row, name, from_fen(int(sums[f"{name}_fen"]) * sign))
    return row


def committees_overview(
    *, viewer, place: Place, year: int, page=1, per_page: int = PER_PAGE
) -> OverviewPage:
    """The residents' committees under `place` (a committee lists just itself) that the viewer
    may see with funds.view, by path, a page at a time, each with its figures for `year`; the
    page's `totals` cover every such committee, on every page. Four queries (module docstring)."""
    year = int(year)
    per_page = max(1, min(int(per_page), MAX_PER_PAGE))
    committees = (
        Place.objects.for_viewer(viewer, VIEW_FUNDS)
        .filter(under_q(place.path), kind=PlaceKind.COMMITTEE)
        .select_related("parent")
        .order_by("path")
    )
    paginator = Paginator(committees, per_page)
    found = paginator.get_page(page)
    rows = [CommitteeFigures(place=committee, year=year) for committee in found.object_list]
    totals = CommitteeFigures(place=place, year=year, committees=paginator.count)
    result = OverviewPage(rows, found.number, paginator)
    result.totals, result.year, result.place = totals, year, place
    if not rows:
        return result
    by_place = {row.place.pk: row for row in rows}
    committee_funds = Q(account__fund__kind__in=COMMITTEE_FUNDS)
    grouped = (
        Entry.objects.filter(committee_funds, account__fund__place_id__in=list(by_place))
        .values("account__fund__place_id")
        .annotate(**_sums(year))
        .order_by()
    )
    for sums in grouped:
        _figures(by_place[sums["account__fund__place_id"]], sums)
    # Every committee fund under the place that the viewer may see: the prefixes that
    # `Fund.objects.for_viewer(viewer, VIEW_FUNDS)` applies, on the joined fund's path, so that
    # the fund path index finds the funds first (a street's: 60 rows, not a scan of all funds).
    # There is at least one prefix: the page has rows.
    visible = Q()
    for prefix in viewer.scope_prefixes(VIEW_FUNDS):
        visible |= under_q(prefix, "account__fund__path")
    everything = Entry.objects.filter(
        visible, under_q(place.path, "account__fund__path"), committee_funds
    )
    _figures(totals, everything.aggregate(**_sums(year)))
    return result
