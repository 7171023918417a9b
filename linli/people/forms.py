"""Input forms of the register pages: field validation only; the services hold the rules."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli.people.choices import (
    ETHNICITIES,
    OrganisationKind,
    Registration,
    Relation,
    Residence,
    ResidentStatus,
)
from linli.people.selectors import STATUS_ALL
from linli.people.services import MIN_REASON, REASON_REQUIRED

STATUS_CHOICES = [
    (ResidentStatus.ACTIVE, _("In the register")),
    (ResidentStatus.MOVED_OUT, _("Moved out")),
    (ResidentStatus.DECEASED, _("Deceased")),
    (STATUS_ALL, _("Everyone")),
]


class DateInput(forms.DateInput):
    """A date picker; browsers read and write its value as ISO 8601 whatever the language."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name, phone or ID number"),
        required=False,
        max_length=64,
        widget=forms.TextInput(
            attrs={"type": "search", "autocomplete": "off", "inputmode": "search"}
        ),
    )
    tag = forms.ChoiceField(label=_("Tag"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), choices=STATUS_CHOICES, required=False, initial=ResidentStatus.ACTIVE
    )
    place = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, tags=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tag"].choices = [("", _("Any tag")), *((t.code, t.name) for t in tags)]


class ResidentForm(forms.Form):
    """A resident's details. On edit the identifiers are never shown: blank keeps them."""

    name = forms.CharField(label=_("Name"), max_length=64)
    id_number = forms.CharField(label=_("ID number"), max_length=24)
    phone = forms.CharField(label=_("Phone"), max_length=24, required=False)
    clear_phone = forms.BooleanField(label=_("Remove the phone number"), required=False)
    ethnicity = forms.ChoiceField(
        label=_("Ethnicity"), required=False, choices=[("", "—"), *((e, e) for e in ETHNICITIES)]
    )
    registration = forms.ChoiceField(label=_("Registration status"), choices=Registration.choices)
    residence = forms.ChoiceField(label=_("Residence status"), choices=Residence.choices)
    relation = forms.ChoiceField(label=_("Relation to household head"), choices=Relation.choices)
    tags = forms.MultipleChoiceField(
        label=_("Tags"), required=False, widget=forms.CheckboxSelectMultiple
    )
    date = forms.DateField(label=_("Effective date"), widget=DateInput)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, tags=(), resident=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tags"].choices = [(t.code, t.name) for t in tags]
        self.fields["date"].initial = timezone.localdate()
        if resident is None:
            del self.fields["clear_phone"]
            self.fields["date"].label = _("Moved in on")
        else:
            self.fields["id_number"].required = False
            self.fields["id_number"].help_text = _("Leave blank to keep %(masked)s.") % {
                "masked": resident.id_masked
            }
            self.fields["phone"].help_text = (
                _("Leave blank to keep %(masked)s.") % {"masked": resident.phone_masked}
                if resident.phone_masked
                else ""
            )
            for name in ("id_number", "phone"):
                self.fields[name].widget.attrs["autocomplete"] = "off"


class TransferForm(forms.Form):
    dwelling = forms.ModelChoiceField(label=_("Move to"), queryset=None)
    date = forms.DateField(label=_("Moved on"), widget=DateInput)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, dwellings, returning: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dwelling"].queryset = dwellings
        self.fields["dwelling"].label_from_instance = lambda unit: " › ".join(
            p.name for p in (unit.parent.parent, unit.parent, unit)
        )
        self.fields["date"].initial = timezone.localdate()
        if returning:  # the same form records a return to the register
            self.fields["dwelling"].label = _("Lives at")
            self.fields["date"].label = _("Back since")
        if returning == ResidentStatus.DECEASED:
            self.fields["note"].required = True
            self.fields["note"].help_text = _("Why the death was recorded in error.")


class LeaveForm(forms.Form):
    MOVE_OUT = "move_out"
    DEATH = "death"

    kind = forms.ChoiceField(
        label=_("What happened"),
        choices=[(MOVE_OUT, _("Moved out of the area")), (DEATH, _("Died"))],
        widget=forms.RadioSelect,
    )
    date = forms.DateField(label=_("Date"), widget=DateInput)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date"].initial = timezone.localdate()


class RevealForm(forms.Form):
    field = forms.ChoiceField(
        choices=[("id", _("ID number")), ("phone", _("Phone"))], widget=forms.HiddenInput
    )
    contact = forms.IntegerField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason"),
        min_length=MIN_REASON,
        max_length=200,
        error_messages={"required": REASON_REQUIRED, "min_length": REASON_REQUIRED},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class OrganisationFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=pgettext_lazy("organisation", "Kind"),
        required=False,
        choices=[("", _("All kinds")), *OrganisationKind.choices],
    )
