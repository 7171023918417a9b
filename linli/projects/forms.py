"""Input forms of the fund-project staff pages: field validation only; the services hold the
rules (cap, negative list, deliberation, participation, signatures)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli.funds.money import parse_money
from linli.projects import services
from linli.projects.choices import ExpenseCategory
from linli.projects.constants import CRITERIA

MAX_INVOICE_BYTES = 10 * 1024 * 1024
# What an invoice may be: a PDF or a photo of the paper one, told by its first bytes.
INVOICE_MAGIC = {
    ".pdf": (b"%PDF",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
}
INVOICE_TYPE = _("Attach the invoice as a PDF, JPEG or PNG file of at most 10 MB.")
AMOUNT_LABEL = _("Amount (yuan)")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class PlaceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class CompoundChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.parent.name})" if obj.parent_id else obj.name


class TopicChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"#{obj.pk} {obj.title} · {obj.get_state_display()}"


class MeetingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        starts = timezone.localtime(obj.starts_at)
        return f"{obj.title} · {starts:%Y-%m-%d} · {obj.get_state_display()}"


def money_field(label=AMOUNT_LABEL, **kwargs) -> forms.CharField:
    """Yuan typed as text (a phone's numeric keyboard), parsed exactly by funds.money."""
    return forms.CharField(
        label=label,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        **kwargs,
    )


def clean_money(value):
    try:
        return parse_money(value)
    except ValidationError as error:
        raise forms.ValidationError(error.messages) from None


class ApplicationForm(forms.Form):
    """Steps 1 and 2 of the application: the basics and the deliberation record."""

    place = PlaceChoiceField(label=_("Community"), queryset=None, empty_label=None)
    year = forms.TypedChoiceField(label=_("Money of the year"), coerce=int, choices=())
    title = forms.CharField(
        label=_("Project name"),
        max_length=services.MAX_TITLE,
        widget=forms.TextInput(
            attrs={"maxlength": services.MAX_TITLE, "placeholder": _("e.g. New stairwell lights")}
        ),
    )
    compound = CompoundChoiceField(
        label=_("Compound served (optional)"),
        queryset=None,
        required=False,
        empty_label=_("The whole community"),
        help_text=_("When the project serves one compound, its participation rate counts."),
    )
    starts_on = forms.DateField(label=_("Starts"), widget=DateInput)
    ends_on = forms.DateField(label=_("Ends"), widget=DateInput)
    beneficiaries = forms.CharField(
        label=_("Who benefits"),
        max_length=services.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": services.MAX_TEXT}),
        help_text=_("e.g. households of buildings 3 to 8, about 80 of them aged over 60"),
    )
    beneficiary_count = forms.IntegerField(
        label=_("Number of beneficiaries"),
        min_value=1,
        max_value=10_000_000,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    plan = forms.CharField(
        label=_("Plan"),
        max_length=services.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": services.MAX_TEXT}),
        help_text=_("What will be done, by whom, when, and why."),
    )
    topic = TopicChoiceField(
        label=_("Residents' topic that raised it"),
        queryset=None,
        required=False,
        empty_label=_("No topic"),
    )
    meeting = MeetingChoiceField(
        label=_("Meeting that decided it"),
        queryset=None,
        required=False,
        empty_label=_("No meeting"),
        help_text=_("Only meetings already held can be chosen."),
    )

    def __init__(self, *args, places, compounds, topics, meetings, years=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places
        self.fields["compound"].queryset = compounds
        self.fields["topic"].queryset = topics
        self.fields["meeting"].queryset = meetings
        if years:
            self.fields["year"].choices = [(y, y) for y in years]
        else:  # editing: the place and the year are the draft's own
            del self.fields["year"]
            del self.fields["place"]

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", services.DATES_ORDER)
        return data


class LineForm(forms.Form):
    """One budget line (step 3). A row left wholly blank is dropped."""

    category = forms.ChoiceField(label=_("Category"), choices=[("", "—"), *ExpenseCategory.choices])
    item = forms.CharField(
        label=_("What it buys"),
        max_length=200,
        widget=forms.TextInput(attrs={"maxlength": 200}),
    )
    amount = money_field()

    def clean_amount(self):
        return clean_money(self.cleaned_data["amount"])


LINE_FIELDS = ("category", "item", "amount")


def posted_rows(data, limit: int = services.MAX_LINES) -> list[dict]:
    """The budget rows of a posted wizard (`line-<i>-<field>`, `line-count`), as typed."""
    try:
        count = int(data.get("line-count", 0))
    except (TypeError, ValueError):
        count = 0
    rows = []
    for i in range(max(0, min(count, limit + 1))):
        rows.append({name: str(data.get(f"line-{i}-{name}", ""))[:250] for name in LINE_FIELDS})
    return rows


def is_blank(row: dict) -> bool:
    return not any(str(row.get(name, "")).strip() for name in ("item", "amount"))


def line_forms(rows: list[dict], *, bound: bool) -> list[LineForm]:
    """One form per row, prefixed `line-<i>`: bound (to validate) or showing the typed values."""
    forms_ = []
    for i, row in enumerate(rows):
        prefix = f"line-{i}"
        if bound:
            data = {f"{prefix}-{name}": row.get(name, "") for name in LINE_FIELDS}
            forms_.append(LineForm(data, prefix=prefix))
        else:
            forms_.append(LineForm(prefix=prefix, initial=row))
    return forms_


# --- the steps on the project page ------------------------------------------------------------


class CheckForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("pass", _("Pass it to the street")),
            ("return", _("Return it for changes")),
            ("reject", pgettext_lazy("decision", "Reject")),
        ],
        widget=forms.RadioSelect,
        initial="pass",
    )
    note = forms.CharField(
        label=_("Note (required to return or reject)"),
        required=False,
        max_length=services.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("pass", _("Passed review")), ("reject", pgettext_lazy("decision", "Reject"))],
        widget=forms.RadioSelect,
        initial="pass",
    )
    note = forms.CharField(
        label=_("Note (required to reject)"),
        required=False,
        max_length=services.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class PaymentForm(forms.Form):
    line = forms.ModelChoiceField(label=_("Budget line"), queryset=None, empty_label=None)
    amount = money_field()
    payee = forms.CharField(label=_("Payee"), max_length=200)
    memo = forms.CharField(label=_("What was bought"), max_length=200)
    invoice = forms.FileField(
        label=_("Invoice (PDF or photo)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
    invoice_number = forms.CharField(label=_("Invoice number"), max_length=40, required=False)
    on = forms.DateField(
        label=_("Date paid"),
        required=False,
        widget=DateInput,
        help_text=_("Blank: today."),
    )

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = lines
        self.fields["line"].label_from_instance = lambda line: f"{line.position}. {line.item}"

    def clean_amount(self):
        return clean_money(self.cleaned_data["amount"])

    def clean_invoice(self):
        upload = self.cleaned_data.get("invoice")
        if not upload:
            return upload
        name = (upload.name or "").lower()
        magic = next((m for ext, m in INVOICE_MAGIC.items() if name.endswith(ext)), None)
        if magic is None or upload.size > MAX_INVOICE_BYTES:
            raise forms.ValidationError(INVOICE_TYPE)
        head = upload.read(8)
        upload.seek(0)
        if not any(head.startswith(m) for m in magic):
            raise forms.ValidationError(INVOICE_TYPE)
        return upload


class ReportForm(forms.Form):
    report = forms.CharField(
        label=_("Completion report"),
        max_length=services.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What was done, for whom, what it cost."),
    )


class AcceptForm(forms.Form):
    passed = forms.TypedChoiceField(
        label=_("Acceptance"),
        choices=[("yes", _("Accepted")), ("no", _("Not accepted: to be put right"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        initial="yes",
    )
    note = forms.CharField(
        label=_("Acceptance record"),
        max_length=services.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class EvaluateForm(forms.Form):
    note = forms.CharField(
        label=_("Evaluation note"),
        required=False,
        max_length=services.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CloseForm(forms.Form):
    outcome = forms.CharField(
        label=_("Outcome to publish"),
        max_length=services.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReviewForm(forms.Form):
    """A reviewer's scores, one whole number per published criterion, or a declared conflict."""

    opinion = forms.CharField(
        label=_("Opinion"),
        required=False,
        max_length=services.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    conflict = forms.BooleanField(
        label=_("I declare a conflict of interest and stand aside"), required=False
    )
    conflict_note = forms.CharField(
        label=_("What is the conflict of interest?"), required=False, max_length=500
    )

    def __init__(self, *args, stage: str, conflict_required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = CRITERIA[stage]
        self.conflict_required = conflict_required
        scores = {}
        for criterion in self.criteria:
            scores[f"score_{criterion.code}"] = forms.IntegerField(
                label=criterion.label,
                required=False,
                min_value=0,
                max_value=criterion.points,
                widget=forms.NumberInput(
                    attrs={"inputmode": "numeric", "min": 0, "max": criterion.points}
                ),
            )
        # The scores first, in the published order.
        self.fields = {**scores, **self.fields}

    def score_fields(self):
        return [(c, self[f"score_{c.code}"]) for c in self.criteria]

    def clean(self):
        data = super().clean()
        if data.get("conflict"):
            if len((data.get("conflict_note") or "").strip()) < 2:
                self.add_error("conflict_note", services.CONFLICT_NOTE)
            return data
        if self.conflict_required:
            self.add_error("conflict", services.CONFLICT_UNDECLARED)
        for criterion in self.criteria:
            name = f"score_{criterion.code}"
            if name not in self.errors and data.get(name) is None:
                self.add_error(name, services.SCORES_INVALID)
        return data

    def scores(self) -> dict:
        return {c.code: self.cleaned_data.get(f"score_{c.code}") for c in self.criteria}
