"""Input forms of the notice pages: field validation only; the services hold the rules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.notices import services
from linli.notices.choices import NoticeKind


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class PublishForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=NoticeKind.choices)
    title = forms.CharField(
        label=_("Title"),
        min_length=services.MIN_TITLE,
        max_length=services.MAX_TITLE,
        error_messages={"min_length": services.TITLE_LENGTH, "max_length": services.TITLE_LENGTH},
    )
    body = forms.CharField(
        label=_("Text"),
        max_length=services.MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 12, "maxlength": services.MAX_BODY}),
        help_text=_(
            "Plain text; blank lines separate paragraphs. No ID numbers or mobile numbers; "
            "name people as 张* or 张*明."
        ),
        error_messages={"max_length": services.BODY_LENGTH},
    )
    window_days = forms.IntegerField(
        label=_("Publication window (days)"),
        min_value=services.MIN_WINDOW_DAYS,
        max_value=services.MAX_WINDOW_DAYS,
        initial=services.DEFAULT_WINDOW_DAYS,
        help_text=_(
            "Counted from the day after publication; objections are accepted until the end "
            "of the last day."
        ),
        error_messages={
            "min_value": services.WINDOW_DAYS_RANGE,
            "max_value": services.WINDOW_DAYS_RANGE,
        },
    )
    starts_at = forms.DateTimeField(
        label=_("Publish at (leave empty for now)"),
        required=False,
        widget=DateTimeInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )


class ObjectionForm(forms.Form):
    text = forms.CharField(
        label=_("Your objection"),
        min_length=services.MIN_OBJECTION,
        max_length=services.MAX_OBJECTION,
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": services.MAX_OBJECTION}),
        help_text=_(
            "Only the committee staff who answer for this board see who you are; the answer "
            "is published on the board without your name."
        ),
        error_messages={
            "min_length": services.OBJECTION_LENGTH,
            "max_length": services.OBJECTION_LENGTH,
        },
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Answer (published on the board)"),
        min_length=services.MIN_ANSWER,
        max_length=services.MAX_ANSWER,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": services.MAX_ANSWER}),
        error_messages={"min_length": services.ANSWER_LENGTH, "max_length": services.ANSWER_LENGTH},
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is it withdrawn? (shown on the board)"),
        min_length=services.MIN_REASON,
        max_length=services.MAX_REASON,
        error_messages={"min_length": services.REASON_LENGTH, "max_length": services.REASON_LENGTH},
    )
