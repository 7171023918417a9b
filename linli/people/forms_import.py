"""Forms of the spreadsheet import and export pages: field validation only."""

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from linli.people.choices import ImportKind
from linli.people.exports import FORMATS
from linli.people.imports import columns_for
from linli.people.models import ImportJob
from linli.people.services import MIN_REASON, REASON_REQUIRED

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
UPLOAD_TYPES = (".xlsx", ".csv")
BAD_TYPE = _("Choose an .xlsx or .csv file (save an older .xls file as .xlsx first).")
TOO_BIG = _("The file is larger than 20 MB; split it into several files.")
EMPTY_FILE = _("The file is empty.")


class CommitteeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} ({obj.code})" if obj.code else obj.name


def _committee_field(form: forms.Form, committees) -> None:
    field = form.fields["committee"]
    field.queryset = committees
    if len(committees) == 1:
        field.initial = committees[0].pk


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("The file holds"), choices=ImportKind.choices)
    committee = CommitteeChoiceField(label=_("Committee"), queryset=None, empty_label=None)
    file = forms.FileField(
        label=_("Spreadsheet"),
        help_text=_(".xlsx or .csv, at most 20 MB; the first row holds the column headers."),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(UPLOAD_TYPES)}),
    )

    def __init__(self, *args, committees, **kwargs):
        super().__init__(*args, **kwargs)
        _committee_field(self, committees)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(UPLOAD_TYPES):
            raise forms.ValidationError(BAD_TYPE)
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(TOO_BIG)
        if upload.size == 0:
            raise forms.ValidationError(EMPTY_FILE)
        return upload


class MappingForm(forms.Form):
    """One select per column header of the file: the field it fills, or ignore it."""

    def __init__(self, *args, job: ImportJob, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("— ignore this column —"))]
        chinese = (get_language() or "").startswith("zh")
        for column in columns_for(job.kind):
            # The Chinese header is the field's name in the Chinese interface.
            label = column.header if chinese else f"{column.header} · {column.label}"
            choices.append((column.key, f"{label} *" if column.required else label))
        self.headers = []
        for index, (header, key) in enumerate(job.mapping):
            name = f"column_{index}"
            self.headers.append((name, header))
            self.fields[name] = forms.ChoiceField(
                label=header, choices=choices, required=False, initial=key
            )

    def mapping(self) -> dict[str, str]:
        return {header: self.cleaned_data.get(name, "") for name, header in self.headers}


class ExportForm(forms.Form):
    kind = forms.ChoiceField(label=_("Export"), choices=ImportKind.choices)
    committee = CommitteeChoiceField(label=_("Committee"), queryset=None, empty_label=None)
    file_format = forms.ChoiceField(
        label=_("Format"),
        choices=[(f, f".{f}") for f in FORMATS],
        initial=FORMATS[0],
    )
    reveal = forms.BooleanField(
        label=_("Reveal ID numbers and phones"),
        required=False,
        help_text=_("Recorded in the audit trail with your reason. Otherwise they are masked."),
    )
    reason = forms.CharField(label=_("Reason for revealing"), required=False, max_length=200)

    def __init__(self, *args, committees, can_reveal: bool, **kwargs):
        super().__init__(*args, **kwargs)
        _committee_field(self, committees)
        if not can_reveal:
            del self.fields["reveal"]
            del self.fields["reason"]

    def clean(self):
        data = super().clean()
        if data.get("reveal") and len((data.get("reason") or "").strip()) < MIN_REASON:
            self.add_error("reason", REASON_REQUIRED)
        return data
