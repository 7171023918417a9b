"""Input forms of the fund pages: field validation only; the services hold the rules (the split,
the minimum share, the office cap, overdrafts, closed years)."""

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from linli.funds.choices import DonorKind
from linli.funds.money import parse_money

MIN_YEAR, MAX_YEAR = 2000, 2100


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _money(value: str, *, allow_zero: bool = False):
    """Yuan as the ledger takes it (two places, positive): the service's own parser and its
    messages, shown on the field."""
    value = (value or "").strip().replace(",", "").replace("，", "").lstrip("¥￥")
    if not value:
        return None
    return parse_money(value, allow_zero=allow_zero)


def _date_field() -> forms.DateField:
    return forms.DateField(
        label=_("Date"),
        required=False,
        widget=DateInput,
        help_text=_("Leave empty for today."),
    )


def _bounded(value: dt.date | None) -> dt.date | None:
    if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValidationError(
            _("Give a date between %(start)s and %(end)s."),
            params={"start": MIN_YEAR, "end": MAX_YEAR},
        )
    return value


class MoneyField(forms.CharField):
    def __init__(self, *, allow_zero: bool = False, **kwargs):
        kwargs.setdefault("max_length", 24)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(**kwargs)
        self.allow_zero = allow_zero

    def clean(self, value):
        return _money(super().clean(value), allow_zero=self.allow_zero)


class AllocationForm(forms.Form):
    """A yearly allocation: the total (split by the street's profile) or the three parts."""

    total = MoneyField(
        label=_("Total (yuan)"),
        required=False,
        help_text=_("Split by the street's profile; or give the parts below instead."),
    )
    office = MoneyField(label=_("Office funds (yuan)"), required=False, allow_zero=True)
    community_service = MoneyField(
        label=_("Community service funds (yuan)"), required=False, allow_zero=True
    )
    self_governance = MoneyField(
        label=_("Self-governance fund (yuan)"), required=False, allow_zero=True
    )
    date = _date_field()
    memo = forms.CharField(label=_("Memo"), max_length=500, required=False)

    PARTS = ("office", "community_service", "self_governance")

    def __init__(self, *args, split: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not split:
            # A street's allocation goes whole to its co-governance fund.
            for name in self.PARTS:
                del self.fields[name]

    def clean_date(self):
        return _bounded(self.cleaned_data.get("date"))

    def parts(self) -> dict | None:
        values = {n: self.cleaned_data.get(n) for n in self.PARTS if n in self.fields}
        if not any(v is not None for v in values.values()):
            return None
        return {name: value for name, value in values.items() if value is not None}


class YearCloseForm(forms.Form):
    year = forms.IntegerField(label=_("Year to close"), min_value=MIN_YEAR, max_value=MAX_YEAR)


class DonationForm(forms.Form):
    amount = MoneyField(label=_("Amount (yuan)"))
    donor_kind = forms.ChoiceField(label=_("Donor"), choices=DonorKind.choices)
    donor_name = forms.CharField(
        label=_("Donor's name"),
        max_length=100,
        required=False,
        help_text=_(
            "Required for a unit or an organisation; optional for a resident, whose name is "
            "never published."
        ),
    )
    anonymous = forms.BooleanField(
        label=_("Anonymous (publish without the donor's name)"), required=False
    )
    date = _date_field()
    memo = forms.CharField(label=_("Memo"), max_length=500, required=False)

    def clean_date(self):
        return _bounded(self.cleaned_data.get("date"))


class FoundationForm(forms.Form):
    name = forms.CharField(label=_("Registered name of the foundation"), max_length=200)
