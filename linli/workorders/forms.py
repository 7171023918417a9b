"""Input forms of the work-order pages: field validation only; the services hold the rules."""

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.workorders.choices import Rating, RejectReason, Urgency
from linli.workorders.machine import Action
from linli.workorders.services import (
    DESCRIPTION_REQUIRED,
    DESCRIPTION_TOO_LONG,
    MAX_DESCRIPTION,
    MAX_PHOTOS,
    PHOTO_TYPE,
    REASON_REQUIRED,
    REVIEW_DATE_PAST,
    TOO_MANY_PHOTOS,
    looks_like_image,
)


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True

    def __init__(self, attrs=None):
        base = {"accept": "image/*", "capture": "environment", "multiple": True}
        super().__init__(attrs={**base, **(attrs or {})})


class PhotosField(forms.FileField):
    """Several photos in one input; each must really be an image."""

    widget = MultiplePhotoInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        files = [super(PhotosField, self).clean(f, initial) for f in files if f]
        if self.required and not files:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(TOO_MANY_PHOTOS % {"n": MAX_PHOTOS})
        if any(not looks_like_image(f) for f in files):
            raise forms.ValidationError(PHOTO_TYPE)
        return files


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


# The largest id a form may name (the database's integer column; SQLite cannot even compare
# with a number beyond 64 bits).
MAX_ID = 2**31 - 1


def is_id(value) -> bool:
    """ASCII digits naming a possible row id (int() also accepts "٣", "1_0" and " 1 ")."""
    text = str(value)
    return text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ID


class IdsChoiceField(forms.ModelMultipleChoiceField):
    """Several rows by id; a value that cannot be an id is refused before any query."""

    def _check_values(self, value):
        for pk in value:
            if not is_id(pk):
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


# --- intake -----------------------------------------------------------------------------------


class ReportForm(forms.Form):
    """The phone report form. Places come from the viewer (compounds they may report at)."""

    description = forms.CharField(
        label=_("What is the problem?"),
        max_length=MAX_DESCRIPTION,
        error_messages={"required": DESCRIPTION_REQUIRED, "max_length": DESCRIPTION_TOO_LONG},
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": MAX_DESCRIPTION}),
    )
    photos = PhotosField(label=_("Photos"))
    lat = forms.DecimalField(
        required=False, max_digits=9, decimal_places=6, widget=forms.HiddenInput
    )
    lng = forms.DecimalField(
        required=False, max_digits=9, decimal_places=6, widget=forms.HiddenInput
    )
    place = forms.ModelChoiceField(
        label=_("Or choose the compound"),
        queryset=None,
        required=False,
        empty_label=_("— choose —"),
    )
    address = forms.CharField(
        label=_("Where exactly (optional)"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. in front of building 3")}),
    )
    category = CategoryChoiceField(
        label=_("Category"),
        queryset=None,
        error_messages={"required": _("Choose a category.")},
        empty_label=_("— choose —"),
    )
    # Set by report.js when the person picks a category, so suggestions stop overriding it.
    category_chosen = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, places, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places
        self.fields["category"].queryset = categories

    def clean_description(self):
        value = self.cleaned_data["description"].strip()
        if not value:
            raise forms.ValidationError(DESCRIPTION_REQUIRED)
        return value

    def clean(self):
        data = super().clean()
        has_point = data.get("lat") is not None and data.get("lng") is not None
        if not data.get("place") and not has_point and "place" not in self.errors:
            self.add_error(
                "place", _("Use your location or choose the compound where the problem is.")
            )
        return data


class ErrandForm(forms.Form):
    """一代理: the committee records an errand for a resident."""

    service_item = forms.ModelChoiceField(
        label=_("Service"), queryset=None, empty_label=_("— choose —")
    )
    beneficiary = forms.ModelChoiceField(
        label=_("For whom"),
        queryset=None,
        widget=forms.RadioSelect,
        error_messages={"required": _("Search and choose the resident.")},
    )
    description = forms.CharField(
        label=_("Details"),
        max_length=MAX_DESCRIPTION,
        error_messages={"required": _("Say what is to be done.")},
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, items, residents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service_item"].queryset = items
        self.fields["beneficiary"].queryset = residents


# --- actions on an order ----------------------------------------------------------------------

CHECK_CHOICES = [("pass", _("Passed: the problem is fixed")), ("fail", _("Failed: not fixed"))]


class ActionForm(forms.Form):
    """The fields one action needs, and the version of the order the form was shown with (so a
    form shown before someone else acted is refused rather than applied to a changed order)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(
        self,
        *args,
        action: Action,
        assignees=None,
        departments=None,
        duplicates=None,
        **kwargs,
    ):
        kwargs.setdefault("auto_id", f"{action.code}-%s")
        super().__init__(*args, **kwargs)
        self.action = action
        code = action.code
        f = self.fields
        if code in ("send_verify", "send_check"):
            f["assignee"] = forms.ModelChoiceField(
                label=_("Grid worker"), queryset=assignees, empty_label=_("— choose —")
            )
        if code in ("dispatch", "decide_summons"):
            f["department"] = forms.ModelChoiceField(
                label=_("Lead department"), queryset=departments, empty_label=_("— choose —")
            )
            f["co_departments"] = IdsChoiceField(
                label=_("Co-departments"),
                queryset=departments,
                required=False,
                widget=forms.CheckboxSelectMultiple,
            )
        if code == "decide_summons":
            f["venue"] = forms.CharField(label=_("Venue"), max_length=200, required=False)
        if code == "register":
            f["urgency"] = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices)
        if code == "request_extension":
            f["hours"] = forms.IntegerField(
                label=_("Extra working hours"),
                min_value=1,
                max_value=settings.LINLI_EXTENSION_MAX_HOURS,
            )
        if code == "request_suspension":
            f["review_on"] = forms.DateField(label=_("Review date"), widget=DateInput)
        if code == "check":
            f["passed"] = forms.ChoiceField(
                label=_("Result"), choices=CHECK_CHOICES, widget=forms.RadioSelect
            )
        if code == "rate":
            f["rating"] = forms.TypedChoiceField(
                label=_("How satisfied are you?"),
                choices=Rating.choices,
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": _("Choose a rating from 1 to 5.")},
            )
            f["comment"] = forms.CharField(
                label=_("Comment (optional)"), max_length=500, required=False
            )
        if code == "reject":
            f["reject_reason"] = forms.ChoiceField(
                label=_("Why not accepted"), choices=RejectReason.choices
            )
            f["duplicate_of"] = forms.ModelChoiceField(
                label=_("Duplicate of order"),
                queryset=duplicates,
                required=False,
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
                error_messages={"invalid_choice": _("No such order among those you can see.")},
                help_text=_("Only when it duplicates another report: that order's number."),
            )
        if action.needs_reason:
            f["reason"] = forms.CharField(
                label=_("Reason") if code not in ("feedback", "rc_close") else _("Result"),
                max_length=MAX_DESCRIPTION,
                widget=forms.Textarea(attrs={"rows": 2}),
                error_messages={"required": REASON_REQUIRED},
            )
        if action.needs_photo:
            f["photos"] = PhotosField(
                label=_("Photos"), required=True, error_messages={"required": _("Add a photo.")}
            )

    def clean_reason(self):
        value = self.cleaned_data["reason"].strip()
        if len(value) < 2:
            raise forms.ValidationError(REASON_REQUIRED)
        return value

    def clean_review_on(self):
        value = self.cleaned_data["review_on"]
        if value <= timezone.localdate():
            raise forms.ValidationError(REVIEW_DATE_PAST)
        return value

    def params(self) -> dict:
        """Keyword arguments for services.order_act (besides actor, order, action)."""
        data = dict(self.cleaned_data)
        data.pop("version", None)
        params = {
            "reason": data.pop("reason", ""),
            "photos": data.pop("photos", []),
        }
        if "passed" in data:
            data["passed"] = data["passed"] == "pass"
        if "co_departments" in data:
            data["co_departments"] = list(data["co_departments"])
        params.update(data)
        return params
