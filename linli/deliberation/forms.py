"""Input forms of the topic pages: field validation only; the services hold the rules."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli.deliberation import services
from linli.deliberation.choices import AnswerKind, SupportUnit, TopicCategory, TopicState
from linli.deliberation.models import MAX_APPEAL, MAX_BODY, MAX_COMMENT, MAX_REASON, MAX_TITLE
from linli.workorders.forms import MultiplePhotoInput


class PlaceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class PhotosField(forms.FileField):
    """Up to four photos in one input; each must really be an image (checked again in the
    service)."""

    widget = MultiplePhotoInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        files = [super(PhotosField, self).clean(f, initial) for f in files if f]
        if len(files) > services.MAX_PHOTOS:
            raise forms.ValidationError(services.TOO_MANY_PHOTOS % {"n": services.MAX_PHOTOS})
        if any(not services.looks_like_image(f) for f in files):
            raise forms.ValidationError(services.PHOTO_TYPE)
        return files


class TopicForm(forms.Form):
    committee = PlaceChoiceField(
        label=_("Residents' committee"),
        queryset=None,
        error_messages={"required": services.COMMITTEE_REQUIRED},
        empty_label=None,
    )
    title = forms.CharField(
        label=pgettext_lazy("topic", "Title"),
        max_length=MAX_TITLE,
        widget=forms.TextInput(
            attrs={"maxlength": MAX_TITLE, "placeholder": _("e.g. Benches for the garden")}
        ),
    )
    body = forms.CharField(
        label=_("What is it about, and what do you propose?"),
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": MAX_BODY}),
    )
    category = forms.ChoiceField(
        label=_("Category"),
        choices=TopicCategory.choices,
        error_messages={"required": services.CATEGORY_REQUIRED},
    )
    compound = PlaceChoiceField(
        label=_("Compound (optional)"),
        queryset=None,
        required=False,
        empty_label=_("— the whole community —"),
    )
    photos = PhotosField(label=_("Photos (up to four)"))

    def __init__(self, *args, committees, compounds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["committee"].queryset = committees
        self.fields["compound"].queryset = compounds
        if len(committees) == 1:
            self.fields["committee"].initial = committees[0].pk
            self.fields["committee"].widget = forms.HiddenInput()

    def clean(self):
        data = super().clean()
        committee, compound = data.get("committee"), data.get("compound")
        if committee and compound and compound.parent_id != committee.pk:
            self.add_error("compound", services.COMPOUND_ELSEWHERE)
        return data


class FilterForm(forms.Form):
    """The list's filters; anything unknown is simply ignored."""

    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("Current topics")), *TopicState.choices],
    )
    category = forms.ChoiceField(
        label=_("Category"),
        required=False,
        choices=[("", _("All categories")), *TopicCategory.choices],
    )
    committee = PlaceChoiceField(
        label=_("Community"),
        queryset=None,
        required=False,
        empty_label=_("All my communities"),
    )
    q = forms.CharField(label=_("Search"), required=False, max_length=50)

    def __init__(self, *args, committees, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["committee"].queryset = committees
        if len(committees) <= 1:
            del self.fields["committee"]


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Your comment"),
        max_length=MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": MAX_COMMENT}),
    )
    parent = forms.IntegerField(
        required=False, min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput
    )


class ReportForm(forms.Form):
    reason = forms.CharField(
        label=_("What is wrong with it? (optional)"), required=False, max_length=MAX_REASON
    )


class HideForm(forms.Form):
    reason = forms.CharField(
        label=_("Public reason (shown in place of the comment)"),
        max_length=MAX_REASON,
        widget=forms.TextInput(
            attrs={"maxlength": MAX_REASON, "placeholder": _("e.g. Personal attack on a neighbour")}
        ),
    )


class RestoreForm(forms.Form):
    note = forms.CharField(label=_("Note (optional)"), required=False, max_length=MAX_REASON)


class AppealForm(forms.Form):
    text = forms.CharField(
        label=_("Why should your comment be shown?"),
        max_length=MAX_APPEAL,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": MAX_APPEAL}),
    )


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=pgettext_lazy("appeal", "Decision"),
        choices=[
            ("upheld", _("Uphold: show the comment again")),
            ("rejected", _("Reject: keep it hidden")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": services.DECISION_REQUIRED},
    )
    note = forms.CharField(
        label=_("Reason for the decision (told to the author)"), max_length=MAX_REASON
    )


class WorkCategoryField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.major_name} › {obj.name}"


class AnswerForm(forms.Form):
    kind = forms.ChoiceField(
        label=pgettext_lazy("topic", "Answer"),
        choices=AnswerKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": services.ANSWER_KIND_REQUIRED},
    )
    text = forms.CharField(
        label=_("Answer to the residents (required when declining)"),
        required=False,
        max_length=services.MAX_ANSWER,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": services.MAX_ANSWER}),
    )
    meeting_label = forms.CharField(
        label=_("Meeting (optional, when accepting)"),
        required=False,
        max_length=services.MAX_MEETING_LABEL,
    )
    category = WorkCategoryField(
        label=_("Work-order category (when referring)"),
        queryset=None,
        required=False,
        empty_label=_("— choose —"),
    )

    def __init__(self, *args, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = categories

    def clean(self):
        data = super().clean()
        if data.get("kind") == AnswerKind.REFERRED and not data.get("category"):
            self.add_error("category", services.WORK_CATEGORY_REQUIRED)
        return data


class ReferForm(forms.Form):
    category = WorkCategoryField(
        label=_("Work-order category"),
        queryset=None,
        error_messages={"required": services.WORK_CATEGORY_REQUIRED},
        empty_label=_("— choose —"),
    )
    text = forms.CharField(
        label=_("Note to the residents (optional)"),
        required=False,
        max_length=services.MAX_ANSWER,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = categories


class TopicChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"#{obj.pk} {obj.title}"


class MergeForm(forms.Form):
    into = TopicChoiceField(
        label=_("Merge into"),
        queryset=None,
        error_messages={"required": services.MERGE_TARGET_REQUIRED},
        empty_label=_("— choose —"),
    )
    reason = forms.CharField(label=_("Reason (shown to the residents)"), max_length=MAX_REASON)

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["into"].queryset = candidates


class DoneForm(forms.Form):
    outcome = forms.CharField(
        label=_("Outcome (shown to the residents)"),
        required=False,
        max_length=services.MAX_ANSWER,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SettingsForm(forms.Form):
    support_unit = forms.ChoiceField(
        label=_("Backing counted per"), choices=SupportUnit.choices, widget=forms.RadioSelect
    )
    support_threshold = forms.IntegerField(
        label=_("Backings that put a topic on the agenda list"),
        min_value=1,
        max_value=services.MAX_THRESHOLD,
    )
    hide_after_reports = forms.IntegerField(
        label=_("Reports from distinct residents that hide a comment pending review"),
        min_value=1,
        max_value=services.MAX_HIDE_AFTER,
    )
    archive_after_days = forms.IntegerField(
        label=_("Archive topics with no activity for (days)"),
        min_value=1,
        max_value=services.MAX_ARCHIVE_DAYS,
    )
