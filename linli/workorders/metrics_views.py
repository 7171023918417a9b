"""The metrics dashboard (/orders/metrics/): the table of every metric for a period, grouped by
street, grid, department, major or minor class; charts (closing on time and satisfaction by
month, both by department); the same table as .xlsx.

Whose figures: metrics.metrics_scope: the places the viewer sees orders in, or a department's
own row for its handlers; anyone else gets 404. The export holds aggregate figures only (no
person, no order), so it is not audited.
"""

import io
from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from linli.workorders import metrics
from linli.workorders.metrics import (
    GROUP_BY,
    METRICS,
    PERIOD_KINDS,
    PERIOD_LABELS,
    SECTIONS,
    Cell,
    Mean,
    MetricsScope,
    Period,
    Rate,
    Row,
)

TREND_MONTHS = 12
TREND_CODES = ("close_on_time_rate", "satisfied_rate")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class MetricsFilterForm(forms.Form):
    """The period and grouping of the dashboard (validation only)."""

    kind = forms.ChoiceField(
        label=gettext_lazy("Period"),
        choices=[(k, PERIOD_LABELS[k]) for k in PERIOD_KINDS],
        required=False,
    )
    day = forms.DateField(
        label=gettext_lazy("Including the day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    group_by = forms.ChoiceField(
        label=gettext_lazy("Rows by"),
        choices=[("", gettext_lazy("Whole area")), *list(GROUP_BY.items())],
        required=False,
    )


@dataclass
class Query:
    """What the dashboard shows: whose figures, which period, which rows."""

    scope: MetricsScope
    period: Period
    group_by: str | None

    def params(self, **changes) -> str:
        values = {
            "kind": self.period.kind,
            "day": self.period.first.isoformat(),
            "group_by": self.group_by or "",
            **changes,
        }
        return urlencode({k: v for k, v in values.items() if v})


def _query(request) -> Query:
    scope = metrics.metrics_scope(request.user)
    if scope is None:
        raise Http404
    form = MetricsFilterForm(request.GET)
    # A field that does not parse falls back to its default (this month, the whole area).
    data = form.cleaned_data if form.is_valid() else {}
    kind = data.get("kind") or "month"
    day = data.get("day") or timezone.localdate()
    group_by = data.get("group_by") or None
    if scope.department_only:
        group_by = "department"
    return Query(scope=scope, period=metrics.period_of(kind, day), group_by=group_by)


def _compute(query: Query) -> list[Row]:
    return metrics.metrics_compute(
        scope=query.scope,
        start=query.period.start,
        end=query.period.end,
        group_by=query.group_by,
        with_total=True,
    )


@dataclass
class Line:
    metric: metrics.Metric
    cells: list[Cell]


@dataclass
class Section:
    label: str
    lines: list[Line]


def _sections(rows: list[Row]) -> list[Section]:
    """The table turned: one line per metric, one column per row (the total first)."""
    sections = []
    for code, label in SECTIONS.items():
        lines = [
            Line(metric, [Cell(metric, row.values.get(metric.code)) for row in rows])
            for metric in METRICS
            if metric.section == code
        ]
        sections.append(Section(str(label), lines))
    return sections


@login_required
@require_GET
def metrics_page(request):
    query = _query(request)
    rows = _compute(query)
    form = MetricsFilterForm(
        initial={
            "kind": query.period.kind,
            "day": query.period.first,
            "group_by": query.group_by or "",
        }
    )
    context = {
        "form": form,
        "query": query,
        "period": query.period,
        "rows": rows,
        "sections": _sections(rows),
        "department_only": query.scope.department_only,
        "group_label": GROUP_BY.get(query.group_by or "", ""),
        "rule": metrics.DENOMINATOR_RULE,
        "metrics_list": METRICS,
        "params": query.params(),
        "previous": query.params(day=query.period.shift(-1).first.isoformat()),
        "next": query.params(day=query.period.shift(1).first.isoformat()),
    }
    template = "workorders/metrics/page.html"
    if request.htmx:
        template += "#table"
    return render(request, template, context)


# --- charts -----------------------------------------------------------------------------------

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 36


@dataclass
class Point:
    x: str
    y: str
    label: str
    text: str


@dataclass
class Series:
    code: str
    label: str
    colour: str
    segments: list[str]  # SVG polyline points; a gap where a month has no figure
    points: list[Point]


def _xy(value: float) -> str:
    # Coordinates are formatted here: a localized template would write "12,5" in some languages.
    return f"{value:.1f}"


def _trend(rows: list[Row], months: list[Period]) -> dict:
    """SVG geometry for the monthly trend, drawn by the server (no script, no inline style)."""
    by_month = {row.period: row for row in rows if row.key == ()}
    step = (WIDTH - LEFT - RIGHT) / max(len(months) - 1, 1)
    plot = HEIGHT - TOP - BOTTOM
    colours = {"close_on_time_rate": "#1d6fa5", "satisfied_rate": "#2f855a"}
    series = []
    for code in TREND_CODES:
        segments, current, points = [], [], []
        for index, month in enumerate(months):
            row = by_month.get(month)
            rate = row.values.get(code) if row else None
            value = rate.value if rate is not None else None
            if value is None:
                if current:
                    segments.append(" ".join(current))
                current = []
                continue
            x, y = _xy(LEFT + index * step), _xy(TOP + plot * (1 - float(value)))
            current.append(f"{x},{y}")
            points.append(Point(x, y, month.label, f"{rate.percent} ({rate.fraction})"))
        if current:
            segments.append(" ".join(current))
        label = str(metrics.METRIC[code].label)
        series.append(Series(code, label, colours[code], segments, points))
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "tick_x": LEFT - 6,
        "label_y": HEIGHT - BOTTOM + 18,
        "series": series,
        "ticks": [
            {"y": _xy(TOP + plot * (1 - share / 100)), "label": f"{share}%"}
            for share in (0, 25, 50, 75, 100)
        ],
        # Every other month labelled ("25-04"), so twelve fit on a phone.
        "labels": [
            {"x": _xy(LEFT + index * step), "label": month.label[2:]}
            for index, month in enumerate(months)
            if (len(months) - 1 - index) % 2 == 0
        ],
        "table": [
            (
                month,
                [by_month[month].values.get(c) if month in by_month else None for c in TREND_CODES],
            )
            for month in months
        ],
    }


def _bars(rows: list[Row], code: str) -> list[dict]:
    bars = []
    for row in rows:
        rate = row.values.get(code)
        value = rate.value if isinstance(rate, Rate) else None
        bars.append(
            {
                "label": row.label,
                "text": rate.percent if isinstance(rate, Rate) else "—",
                "title": rate.fraction if isinstance(rate, Rate) else "",
                "step": 0 if value is None else round(float(value) * 20) * 5,
                "key": row.key[0] if row.key else "",
            }
        )
    return bars


@login_required
@require_GET
def metrics_charts(request):
    """The charts, as a fragment the page loads after its table (they cover a year)."""
    query = _query(request)
    last = metrics.period_of("month", query.period.last)
    months = [last.shift(-n) for n in range(TREND_MONTHS - 1, -1, -1)]
    trend_rows = metrics.metrics_compute(
        scope=query.scope,
        start=months[0].start,
        end=months[-1].end,
        period="month",
        codes=TREND_CODES,
    )
    if query.scope.department_only:
        trend_rows = _departments_summed(trend_rows)
    department_rows = metrics.metrics_compute(
        scope=query.scope,
        start=query.period.start,
        end=query.period.end,
        group_by="department",
        codes=TREND_CODES,
    )
    context = {
        "query": query,
        "period": query.period,
        "trend": _trend(trend_rows, months),
        "bars": [
            {
                "code": code,
                "label": metrics.METRIC[code].label,
                "bars": _bars(department_rows, code),
            }
            for code in TREND_CODES
        ],
    }
    return render(request, "workorders/metrics/_charts.html", context)


def _departments_summed(rows: list[Row]) -> list[Row]:
    """A department-only viewer's trend: its departments' rows added up per month (each order
    counts under one department per month, so the sums are exact)."""
    months: dict = {}
    for row in rows:
        total = months.setdefault(row.period, Row(row.period, row.start, row.end, (), "", {}))
        for code, rate in row.values.items():
            before = total.values.get(code, Rate(0, 0))
            total.values[code] = Rate(
                before.numerator + rate.numerator, before.denominator + rate.denominator
            )
    return list(months.values())


# --- export -----------------------------------------------------------------------------------


def _excel_value(value):
    """A figure as a spreadsheet value: a count, a fraction of 1 (shown as %), hours, or "—"."""
    if value is None:
        return "—", None
    if isinstance(value, Rate):
        share = value.value
        return ("—", None) if share is None else (float(share), "0.0%")
    if isinstance(value, Mean):
        hours = value.value
        return ("—", None) if hours is None else (float(hours), "0.0")
    return value, None


@login_required
@require_GET
def metrics_export(request):
    """The dashboard's table as .xlsx: one sheet of figures, one of definitions."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    query = _query(request)
    rows = _compute(query)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Metrics"))

    def text(value: str):
        cell = WriteOnlyCell(sheet, value=str(value))
        cell.data_type = "s"  # a name is never read as a formula
        return cell

    sheet.append([text(_("Period")), text(query.period.label)])
    sheet.append(
        [
            text(_("From")),
            text(query.period.first.isoformat()),
            text(_("To")),
            text(query.period.last.isoformat()),
        ]
    )
    sheet.append([text(_("Rows by")), text(GROUP_BY.get(query.group_by or "", _("Whole area")))])
    sheet.append([])
    sheet.append([text(_("Group"))] + [text(m.label) for m in METRICS])
    for row in rows:
        cells = [text(row.label)]
        for metric in METRICS:
            value, number_format = _excel_value(row.values.get(metric.code))
            cell = WriteOnlyCell(sheet, value=value)
            if number_format:
                cell.number_format = number_format
            cells.append(cell)
        sheet.append(cells)
    definitions = workbook.create_sheet(_("Definitions"))
    definitions.append([_("Metric"), _("Formula")])
    for metric in METRICS:
        definitions.append([str(metric.label), str(metric.formula)])
    definitions.append([])
    definitions.append([str(metrics.DENOMINATOR_RULE)])
    out = io.BytesIO()
    workbook.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    filename = f"metrics-{query.period.label}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
