"""Spreadsheets of the fund pages: an account's statement and the street overview.

Amounts are written as numbers with two decimals (yuan), text cells always as text (a memo or
a name is never read as a formula). Workbooks are write-only, so a long overview streams.
"""

import io
from decimal import Decimal

from django.utils.translation import gettext as _

from linli.funds.choices import AccountKind, FundKind, TransactionKind
from linli.funds.overview import MAX_PER_PAGE, committees_overview
from linli.funds.selectors import Statement

MONEY_FORMAT = "#,##0.00"


def _book():
    from openpyxl import Workbook

    return Workbook(write_only=True)


def _cells(sheet, values) -> list:
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            cell.data_type = "s"  # never a formula
        elif isinstance(value, Decimal):
            cell.number_format = MONEY_FORMAT
        cells.append(cell)
    return cells


def _save(book) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def statement_workbook(statement: Statement, *, year: int, titles: dict[int, str]) -> bytes:
    """One sheet: the account, the opening balance, each entry with the running balance, the
    closing balance."""
    account = statement.account
    fund = account.fund
    book = _book()
    sheet = book.create_sheet(_("Statement"))
    sheet.append(_cells(sheet, [_("Place"), fund.place.name]))
    sheet.append(_cells(sheet, [_("Fund"), str(fund.name or FundKind(fund.kind).label)]))
    sheet.append(_cells(sheet, [_("Account"), str(AccountKind(account.kind).label)]))
    sheet.append(_cells(sheet, [_("Year"), str(year)]))
    sheet.append([])
    sheet.append(
        _cells(
            sheet,
            [
                _("Date"),
                _("Transaction"),
                _("Kind"),
                _("Memo"),
                _("Commitment"),
                _("Debit"),
                _("Credit"),
                _("Balance"),
            ],
        )
    )
    sheet.append(
        _cells(sheet, ["", "", "", _("Opening balance"), "", None, None, statement.opening])
    )
    for row in statement.rows:
        sheet.append(
            _cells(
                sheet,
                [
                    row.date.isoformat(),
                    f"#{row.transaction_id}",
                    str(TransactionKind(row.kind).label),
                    row.memo,
                    titles.get(row.commitment_id, ""),
                    row.debit or None,
                    row.credit or None,
                    row.balance,
                ],
            )
        )
    sheet.append(
        _cells(sheet, ["", "", "", _("Closing balance"), "", None, None, statement.closing])
    )
    return _save(book)


OVERVIEW_COLUMNS = (
    ("allocated", AccountKind.INCOME),
    ("available", AccountKind.AVAILABLE),
    ("committed", AccountKind.COMMITTED),
    ("spent", AccountKind.SPENT),
    ("returned", AccountKind.RETURNED),
    ("spent_in_year", None),
)


def overview_headers() -> list[str]:
    return [
        _("Street"),
        _("Residents' committee"),
        _("Allocated in the year"),
        _("Available"),
        _("Committed"),
        _("Spent"),
        _("Returned"),
        _("Spent in the year"),
        _("Share of the year's allocation spent (%)"),
    ]


def street_overview_workbook(*, viewer, place, year: int) -> bytes:
    """Every committee of the overview (all pages), then the totals row."""
    book = _book()
    sheet = book.create_sheet(_("Committees"))
    sheet.append(_cells(sheet, [_("Place"), place.name, _("Year"), str(year)]))
    sheet.append([])
    sheet.append(_cells(sheet, overview_headers()))
    number, totals = 1, None
    while True:
        page = committees_overview(
            viewer=viewer, place=place, year=year, page=number, per_page=MAX_PER_PAGE
        )
        totals = page.totals
        for row in page:
            sheet.append(_cells(sheet, _overview_row(row, row.place.parent.name, row.place.name)))
        if not page.has_next():
            break
        number += 1
    label = _("Total (%(count)s committees)") % {"count": totals.committees}
    sheet.append(_cells(sheet, _overview_row(totals, "", label)))
    return _save(book)


def _overview_row(row, street: str, name: str) -> list:
    percent = row.spent_percent
    return [
        street,
        name,
        *(getattr(row, figure) for figure, _kind in OVERVIEW_COLUMNS),
        float(percent) if percent is not None else None,
    ]
