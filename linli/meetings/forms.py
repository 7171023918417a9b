"""Input forms of the meeting pages: field validation only; the services hold the rules."""

from django import forms
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from linli.meetings import services
from linli.meetings.choices import (
    AttendanceMode,
    MeetingForm,
    MeetingKind,
    MotionKind,
    Party,
    PetitionKind,
    StepKey,
)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class PlaceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.get_kind_display()})"


def title_field() -> forms.CharField:
    """A meeting's title: the heading of its notice on the board, so the board's bounds."""
    return forms.CharField(
        label=_("Title"),
        min_length=services.MIN_TITLE,
        max_length=services.MAX_TITLE,
        error_messages={
            "min_length": services.MEETING_TITLE_LENGTH,
            "max_length": services.MEETING_TITLE_LENGTH,
        },
    )


class MeetingCreateForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of meeting"), choices=MeetingKind.choices)
    place = PlaceChoiceField(label=_("Where (committee, compound or street)"), queryset=None)
    title = title_field()
    attendance_mode = forms.ChoiceField(
        label=_("Who attends"),
        choices=[("", _("The kind's usual attendance")), *AttendanceMode.choices],
        required=False,
        help_text=_(
            "A residents' meeting: all adults, one per household, or group representatives."
        ),
    )
    form = forms.ChoiceField(label=_("Form"), choices=MeetingForm.choices, initial="in_person")
    starts_at = forms.DateTimeField(label=_("Starts"), widget=DateTimeInput)
    ends_at = forms.DateTimeField(label=_("Ends"), widget=DateTimeInput)
    location = forms.CharField(label=_("Location"), max_length=200, required=False)
    chair = forms.CharField(
        label=_("Chair"),
        max_length=100,
        required=False,
        help_text=_("Blank: the committee director chairs residents' meetings and hearings."),
    )
    convener_body = forms.CharField(
        label=_("Convened by"), max_length=100, required=False, help_text=_("Blank: the default.")
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, places, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places


class MeetingEditForm(forms.Form):
    title = title_field()
    starts_at = forms.DateTimeField(label=_("Starts"), widget=DateTimeInput)
    ends_at = forms.DateTimeField(label=_("Ends"), widget=DateTimeInput)
    location = forms.CharField(label=_("Location"), max_length=200, required=False)
    chair = forms.CharField(label=_("Chair"), max_length=100, required=False)
    convener_body = forms.CharField(label=_("Convened by"), max_length=100, required=False)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class MemberForm(forms.Form):
    label = forms.CharField(label=_("Name"), max_length=120, required=False)
    party = forms.ChoiceField(label=_("From"), choices=Party.choices, initial=Party.RESIDENT_REP)
    resident = forms.IntegerField(
        label=_("Register resident number (optional)"),
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text=_("Link a resident of the register so they can check in on their phone."),
    )


class AnnounceForm(forms.Form):
    short_notice_ok = forms.BooleanField(
        label=_("Announce anyway, at short notice"), required=False
    )


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why is it cancelled?"), max_length=200)


class AgendaForm(forms.Form):
    title = forms.CharField(label=_("Agenda item"), max_length=200, required=False)
    description = forms.CharField(
        label=_("Details"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    topic = forms.ModelChoiceField(
        label=_("From a residents' topic"), queryset=None, required=False
    )

    def __init__(self, *args, topics, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topic"].queryset = topics


class MeetingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        starts = timezone.localtime(obj.starts_at)
        return f"{obj.title} · {starts:%Y-%m-%d %H:%M} · {obj.get_state_display()}"


class TopicAgendaForm(forms.Form):
    """Put a residents' topic on the agenda of one of the committee's coming meetings."""

    meeting = MeetingChoiceField(
        label=_("Meeting"), queryset=None, widget=forms.RadioSelect, empty_label=None
    )

    def __init__(self, *args, meetings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meeting"].queryset = meetings


class MotionForm(forms.Form):
    text = forms.CharField(label=_("Motion"), widget=forms.Textarea(attrs={"rows": 2}))
    kind = forms.ChoiceField(label=_("Kind"), choices=MotionKind.choices, initial="decision")
    matter = forms.ChoiceField(label=_("Owners' matter"), choices=(), required=False)
    candidates = forms.CharField(
        label=_("Names (one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("An evaluation scores each name; an election elects among them."),
    )
    seats = forms.IntegerField(label=_("Seats"), required=False, min_value=1, max_value=99)

    def __init__(self, *args, **kwargs):
        from linli.votes.choices import OwnersMatter

        super().__init__(*args, **kwargs)
        self.fields["matter"].choices = [("", "—"), *OwnersMatter.choices]


class CheckInForm(forms.Form):
    """A scanned QR code (the check-in URL or the bare token) or ticked invitations."""

    code = forms.CharField(
        label=_("Scan or type the check-in code"), max_length=300, required=False
    )
    ids = forms.TypedMultipleChoiceField(coerce=int, required=False, choices=())

    def __init__(self, *args, invitation_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ids"].choices = [(i, i) for i in invitation_ids]


class MinutesForm(forms.Form):
    text = forms.CharField(label=_("Minutes"), widget=forms.Textarea(attrs={"rows": 14}))


class PetitionForm(forms.Form):
    place = PlaceChoiceField(label=_("Committee (residents) or compound (owners)"), queryset=None)
    kind = forms.ChoiceField(label=_("Proposal"), choices=PetitionKind.choices)
    mode = forms.ChoiceField(
        label=_("Counted by"),
        choices=[
            ("", _("The usual count")),
            (AttendanceMode.ADULTS, AttendanceMode.ADULTS.label),
            (AttendanceMode.HOUSEHOLDS, AttendanceMode.HOUSEHOLDS.label),
            (AttendanceMode.GROUP_REPS, AttendanceMode.GROUP_REPS.label),
        ],
        required=False,
    )
    subject = forms.CharField(label=_("What should the meeting decide?"), max_length=200)
    groups_total = forms.IntegerField(
        label=_("Residents' groups in the committee"),
        required=False,
        min_value=1,
        max_value=1000,
    )

    def __init__(self, *args, places, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places


class SignForm(forms.Form):
    key = forms.CharField(max_length=32, required=False)
    group = forms.CharField(label=_("Residents' group"), max_length=100, required=False)


class ProcedureForm(forms.Form):
    place = PlaceChoiceField(label=_("Committee"), queryset=None)
    title = forms.CharField(label=_("Matter"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    template = forms.ModelChoiceField(
        label=_("Steps"), queryset=None, required=False, empty_label=_("The six standard steps")
    )

    def __init__(self, *args, places, templates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places
        self.fields["template"].queryset = templates


class StepForm(forms.Form):
    position = forms.IntegerField(min_value=1, max_value=100, widget=forms.HiddenInput)
    record = forms.CharField(
        label=_("What was done"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    meeting = forms.ModelChoiceField(label=_("Meeting"), queryset=None, required=False)

    def __init__(self, *args, meetings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meeting"].queryset = meetings


class TemplateForm(forms.Form):
    place = PlaceChoiceField(label=_("Committee"), queryset=None)
    name = forms.CharField(label=_("Name"), max_length=100)
    steps = forms.CharField(
        label=_("Steps, one per line: the step's code, then its label"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=format_lazy(_("Codes: {codes}."), codes=", ".join(StepKey.values)),
    )

    def __init__(self, *args, places, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places

    def clean_steps(self):
        steps = []
        for line in self.cleaned_data["steps"].splitlines():
            line = line.strip()
            if not line:
                continue
            key, _sep, label = line.partition(" ")
            steps.append({"key": key.strip(), "label": label.strip()})
        return steps
