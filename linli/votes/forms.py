"""Input forms of the vote pages: field validation only; the services hold the rules."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.places.models import Place
from linli.votes import services
from linli.votes.choices import (
    Channel,
    MeetingMode,
    MotionAnswer,
    OwnersMatter,
    PollMethod,
    VoteKind,
    VotingUnit,
)
from linli.votes.models import Option, Vote
from linli.votes.services import MOTION_RULES, OptionSpec

RULE_LABELS = {
    "residents_meeting": _("Residents' meeting (quorum and majority of those present)"),
    "representatives_meeting": _("Residents' representatives' meeting"),
    "consultative_meeting": _("Hearing, coordination, review or joint meeting"),
}
OPTIONS_HELP = _(
    "One per line. For a budget, the project and its cost separated by “|”, e.g. 楼道照明 | 6000."
)


COMMON_FIELDS = (
    "place",
    "kind",
    "title",
    "description",
    "unit",
    "secret",
    "hide_results",
    "closes_at",
)
KIND_FIELDS = {
    VoteKind.MOTION: ("rule_id", "mode", "base_count"),
    VoteKind.OWNERS: ("owners_matter", "base_count"),
    VoteKind.ELECTION: ("options", "seats", "runoff"),
    VoteKind.BUDGET: ("options", "budget", "min_share", "min_projects", "max_projects"),
    VoteKind.POLL: ("method", "options", "score_max"),
}


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class PlaceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.get_kind_display()} · {obj.name}"


def _blank(choices) -> list:
    return [("", "—"), *choices]


class VoteForm(forms.Form):
    """Set up or change a draft vote. The kind decides which fields matter (the page shows
    them all, grouped, with hints)."""

    place = PlaceChoiceField(label=_("Community"), queryset=Place.objects.none())
    kind = forms.ChoiceField(label=_("Kind"), choices=VoteKind.choices)
    title = forms.CharField(label=_("Question"), max_length=200)
    description = forms.CharField(
        label=_("Explanation"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    unit = forms.ChoiceField(label=_("Who votes"), choices=VotingUnit.choices)
    rule_id = forms.ChoiceField(
        label=_("Rule (motions)"),
        required=False,
        choices=_blank([(r, RULE_LABELS[r]) for r in MOTION_RULES]),
    )
    mode = forms.ChoiceField(
        label=_("Residents' meeting: attendance mode"),
        required=False,
        choices=_blank(MeetingMode.choices),
    )
    owners_matter = forms.ChoiceField(
        label=_("Owners' matter"), required=False, choices=_blank(OwnersMatter.choices)
    )
    method = forms.ChoiceField(
        label=_("Poll method"), required=False, choices=_blank(PollMethod.choices)
    )
    options = forms.CharField(
        label=_("Options, candidates or projects"),
        required=False,
        max_length=20000,
        help_text=OPTIONS_HELP,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    seats = forms.IntegerField(
        label=_("Seats (elections)"), required=False, min_value=1, max_value=99
    )
    runoff = forms.BooleanField(label=_("Run-off for vacant seats"), required=False)
    budget = forms.DecimalField(
        label=_("Budget in yuan"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
    )
    min_share = forms.DecimalField(
        label=_("A ballot must use at least this share of the budget (0–1)"),
        required=False,
        min_value=0,
        max_value=1,
        max_digits=5,
        decimal_places=4,
    )
    min_projects = forms.IntegerField(
        label=_("Fewest projects"), required=False, min_value=0, max_value=200
    )
    max_projects = forms.IntegerField(
        label=_("Most projects"), required=False, min_value=0, max_value=200
    )
    score_max = forms.IntegerField(
        label=_("Highest score (score polls)"), initial=5, min_value=1, max_value=100
    )
    base_count = forms.IntegerField(
        label=_("Quorum base (a meeting's attendees vote)"),
        required=False,
        min_value=1,
        max_value=10_000_000,
    )
    secret = forms.BooleanField(label=_("Secret ballot"), required=False)
    hide_results = forms.BooleanField(label=_("Hide results until closed"), required=False)
    closes_at = forms.DateTimeField(
        label=_("Voting closes"), required=False, widget=DateTimeInput()
    )

    def __init__(self, *args, places=None, vote: Vote | None = None, kind: str = "", **kwargs):
        if vote is not None and "initial" not in kwargs:
            kwargs["initial"] = initial_for(vote)
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places if places is not None else Place.objects.none()
        if vote is not None:  # the community of a vote does not change
            del self.fields["place"]
        # Only the fields of the chosen kind (the page offers the kinds as a first step).
        kind = self.data.get("kind") or kind or (vote.kind if vote else "")
        if kind in KIND_FIELDS:
            self.chosen_kind = kind
            self.fields["kind"].initial = kind
            self.fields["kind"].widget = forms.HiddenInput()
            for name in [n for n in self.fields if n not in COMMON_FIELDS + KIND_FIELDS[kind]]:
                del self.fields[name]
            self.fields["unit"].choices = [
                (u, VotingUnit(u).label) for u in services.KIND_UNITS[kind]
            ]
        else:
            self.chosen_kind = ""

    def clean_options(self) -> list[OptionSpec]:
        specs = []
        for line in self.cleaned_data.get("options", "").splitlines():
            if not line.strip():
                continue
            label, _sep, cost = line.partition("|")
            specs.append(OptionSpec(label.strip(), cost.strip() or None))
        return specs

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data["method"] = data.get("method") or None
        data.setdefault("options", [])
        return data


def initial_for(vote: Vote) -> dict:
    fields = [f for f in VoteForm.base_fields if f not in ("place", "options")]
    initial = {name: getattr(vote, name) for name in fields}
    initial["options"] = "\n".join(
        f"{o.label} | {o.cost}" if o.cost is not None else o.label for o in vote.options.all()
    )
    return initial


# --- ballots ------------------------------------------------------------------------------------


def _option_choices(options: list[Option]) -> list[tuple[str, str]]:
    return [
        (str(o.pk), f"{o.label}（{o.cost} 元）" if o.cost is not None else o.label) for o in options
    ]


class BallotForm(forms.Form):
    """The ballot of one vote, shaped by its kind and method. `choice()` gives the service's
    choice (see services.choice_clean, which validates it again)."""

    def __init__(self, *args, vote: Vote, options: list[Option], **kwargs):
        super().__init__(*args, **kwargs)
        self.vote, self.options = vote, options
        choices = _option_choices(options)
        if vote.kind in (VoteKind.MOTION, VoteKind.OWNERS):
            self.fields["answer"] = forms.ChoiceField(
                label=_("Your answer"), choices=MotionAnswer.choices, widget=forms.RadioSelect
            )
        elif vote.method == PollMethod.SINGLE:
            self.fields["answer"] = forms.ChoiceField(
                label=_("Your choice"), choices=choices, widget=forms.RadioSelect
            )
        elif vote.method == PollMethod.RANKING:
            ranks = _blank([(str(i), str(i)) for i in range(1, len(options) + 1)])
            for o in options:
                self.fields[f"rank_{o.pk}"] = forms.ChoiceField(
                    label=o.label, required=False, choices=ranks
                )
        elif vote.method == PollMethod.SCORE:
            scores = _blank([(str(i), str(i)) for i in range(vote.score_max + 1)])
            for o in options:
                self.fields[f"score_{o.pk}"] = forms.ChoiceField(
                    label=o.label, required=False, choices=scores
                )
        else:  # election, budget, multiple
            label = {
                VoteKind.ELECTION: _("Candidates you vote for"),
                VoteKind.BUDGET: _("Projects you support"),
            }.get(vote.kind, _("Your choices"))
            self.fields["answers"] = forms.MultipleChoiceField(
                label=label,
                required=vote.kind != VoteKind.ELECTION,
                choices=choices,
                widget=forms.CheckboxSelectMultiple,
            )

    def choice(self):
        data = self.cleaned_data
        if "answer" in self.fields:
            return data["answer"]
        if "answers" in self.fields:
            return [int(v) for v in data["answers"]]
        if self.vote.method == PollMethod.RANKING:
            ranked = sorted(
                (int(data[f"rank_{o.pk}"]), o.pk) for o in self.options if data.get(f"rank_{o.pk}")
            )
            if len({rank for rank, _pk in ranked}) != len(ranked):
                raise forms.ValidationError(_("Give each rank to one option only."))
            return [pk for _rank, pk in ranked]
        return {
            str(o.pk): int(data[f"score_{o.pk}"]) for o in self.options if data.get(f"score_{o.pk}")
        }


class RecordForm(forms.Form):
    """A worker records a ballot given at the meeting, on paper or by proxy."""

    voter_key = forms.CharField(label=_("Voter"), max_length=24, widget=forms.HiddenInput)
    channel = forms.ChoiceField(
        label=_("How it was given"),
        choices=[
            (Channel.MEETING, Channel.MEETING.label),
            (Channel.PAPER, Channel.PAPER.label),
            (Channel.PROXY, Channel.PROXY.label),
        ],
        initial=Channel.PAPER,
        widget=forms.RadioSelect,
    )
    provenance = forms.CharField(
        label=_("Provenance: ballot sheet number, written authorisation"),
        required=False,
        max_length=200,
    )
    proxy_name = forms.CharField(label=_("Proxy's name"), required=False, max_length=64)


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Why it does not stand"), max_length=200)


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why the vote is called off"), max_length=200)
