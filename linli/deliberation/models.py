"""Topics (议题), their backing (附议) and moderated comments, per residents' committee.

Counters (`Topic.support_count`, `Comment.report_count`) are kept by the services in the same
transaction as the rows they count; the database enforces one backing per unit and one report
per reporter, so two clicks at once cannot count twice.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli.core.scoping import ScopedQuerySet
from linli.deliberation.choices import (
    AnswerKind,
    AppealState,
    CommentState,
    SupportUnit,
    TopicCategory,
    TopicState,
)
from linli.places.models import Place

DEFAULT_THRESHOLD = 10
DEFAULT_HIDE_AFTER_REPORTS = 3
DEFAULT_ARCHIVE_AFTER_DAYS = 60
MAX_TITLE = 80
MAX_BODY = 4000
MAX_COMMENT = 2000
MAX_REASON = 200
MAX_APPEAL = 1000


class CommitteeSettings(models.Model):
    """How a residents' committee runs its topics. A committee without a row uses the defaults."""

    committee = models.OneToOneField(
        Place,
        verbose_name=_("residents' committee"),
        on_delete=models.CASCADE,
        related_name="topic_settings",
        limit_choices_to={"kind": "committee"},
    )
    path = models.CharField(max_length=80, db_index=True, editable=False)
    support_unit = models.CharField(
        _("backing counted per"),
        max_length=16,
        choices=SupportUnit.choices,
        default=SupportUnit.HOUSEHOLD,
    )
    support_threshold = models.PositiveIntegerField(
        _("backings that put a topic on the agenda list"),
        default=DEFAULT_THRESHOLD,
    )
    hide_after_reports = models.PositiveIntegerField(
        _("reports that hide a comment pending review"),
        default=DEFAULT_HIDE_AFTER_REPORTS,
        help_text=_("Distinct residents reporting the same comment."),
    )
    archive_after_days = models.PositiveIntegerField(
        _("archive topics quiet for (days)"), default=DEFAULT_ARCHIVE_AFTER_DAYS
    )
    updated_at = models.DateTimeField(_("updated"), null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ScopedQuerySet.as_manager()
    scope_path = "path"

    class Meta:
        verbose_name = _("topic settings")
        verbose_name_plural = _("topic settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(support_threshold__gte=1), name="topic_settings_threshold_positive"
            ),
            models.CheckConstraint(
                condition=Q(hide_after_reports__gte=1), name="topic_settings_reports_positive"
            ),
            models.CheckConstraint(
                condition=Q(archive_after_days__gte=1), name="topic_settings_archive_positive"
            ),
            models.CheckConstraint(
                condition=Q(support_unit__in=SupportUnit.values), name="topic_settings_unit_valid"
            ),
        ]

    def __str__(self) -> str:
        return str(self.committee)


def _photo_path(instance, filename: str) -> str:
    # Files are named by photo_scrub (random), never by the uploader's file name.
    return f"topics/{instance.topic_id}/{filename}"


class Topic(models.Model):
    """A matter a resident or the committee raises for the community to deliberate."""

    place = models.ForeignKey(
        Place,
        verbose_name=_("residents' committee"),
        on_delete=models.PROTECT,
        related_name="topics",
    )
    compound = models.ForeignKey(
        Place,
        verbose_name=_("compound"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="compound_topics",
    )
    path = models.CharField(max_length=80, db_index=True, editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("raised by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="topics",
    )
    author_household = models.ForeignKey(
        Place,
        verbose_name=_("household of the author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    by_staff = models.BooleanField(_("raised by the committee"), default=False)
    title = models.CharField(pgettext_lazy("topic", "title"), max_length=MAX_TITLE)
    body = models.TextField(_("what it is about"), max_length=MAX_BODY)
    category = models.CharField(_("category"), max_length=24, choices=TopicCategory.choices)
    state = models.CharField(
        _("state"), max_length=24, choices=TopicState.choices, default=TopicState.OPEN
    )
    support_count = models.PositiveIntegerField(_("backings"), default=0)
    threshold_reached_at = models.DateTimeField(_("threshold reached"), null=True, blank=True)
    answer = models.TextField(_("the committee's answer"), blank=True)
    answer_kind = models.CharField(
        _("answer"), max_length=24, choices=AnswerKind.choices, blank=True
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_topics",
    )
    work_order = models.ForeignKey(
        "workorders.WorkOrder",
        verbose_name=_("work order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="topics",
    )
    project_ref = models.CharField(_("fund project"), max_length=64, blank=True)
    meeting_label = models.CharField(_("meeting"), max_length=200, blank=True)
    outcome = models.TextField(pgettext_lazy("topic", "outcome"), blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"), db_index=True)
    created_at = models.DateTimeField(_("raised"), db_index=True)

    objects = ScopedQuerySet.as_manager()
    scope_path = "path"

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        ordering = ["-last_activity_at", "-id"]
        indexes = [
            models.Index(fields=["place", "state", "last_activity_at"], name="topic_place_state"),
            models.Index(fields=["path", "state"], name="topic_path_state"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=TopicState.values), name="topic_state"),
            models.CheckConstraint(
                condition=Q(category__in=TopicCategory.values), name="topic_category"
            ),
            models.CheckConstraint(
                condition=Q(answer_kind__in=["", *AnswerKind.values]), name="topic_answer_kind"
            ),
            models.CheckConstraint(
                condition=~Q(merged_into=models.F("id")), name="topic_not_merged_into_itself"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class TopicPhoto(models.Model):
    """A photo of a topic (served only through a permission-checked view)."""

    topic = models.ForeignKey(
        Topic, verbose_name=_("topic"), on_delete=models.CASCADE, related_name="photos"
    )
    file = models.FileField(_("file"), upload_to=_photo_path)
    content_type = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("topic photo")
        verbose_name_plural = _("topic photos")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.topic_id}/{self.pk}"


class Support(models.Model):
    """One backing (附议). `unit_key` is "h:<household place id>" when the committee counts per
    household, "u:<user id>" per person, fixed when the backing is given."""

    topic = models.ForeignKey(
        Topic, verbose_name=_("topic"), on_delete=models.CASCADE, related_name="supports"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("backed by"),
        on_delete=models.PROTECT,
        related_name="topic_supports",
    )
    household = models.ForeignKey(
        Place,
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    unit_key = models.CharField(max_length=24)
    created_at = models.DateTimeField(_("backed"))

    class Meta:
        verbose_name = _("backing")
        verbose_name_plural = _("backings")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["topic", "unit_key"], name="support_one_per_unit"),
            models.UniqueConstraint(fields=["topic", "user"], name="support_one_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.topic_id} {self.unit_key}"


class Comment(models.Model):
    """A comment on a topic, or a reply to one (one level deep)."""

    topic = models.ForeignKey(
        Topic, verbose_name=_("topic"), on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="topic_comments",
    )
    by_staff = models.BooleanField(_("by the committee"), default=False)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("reply to"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="replies",
    )
    body = models.TextField(_("comment"), max_length=MAX_COMMENT)
    state = models.CharField(
        _("state"), max_length=16, choices=CommentState.choices, default=CommentState.VISIBLE
    )
    report_count = models.PositiveIntegerField(_("reports"), default=0)
    hidden_reason = models.CharField(_("why it is hidden"), max_length=MAX_REASON, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("hidden by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    hidden_at = models.DateTimeField(_("hidden"), null=True, blank=True)
    created_at = models.DateTimeField(_("posted"))

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["topic", "state"], name="comment_topic_state")]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=CommentState.values), name="comment_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic_id}/{self.pk}"


class CommentReport(models.Model):
    """A resident flags a comment. `cleared` reports were reviewed (the comment was restored) and
    no longer count towards hiding it."""

    comment = models.ForeignKey(
        Comment, verbose_name=_("comment"), on_delete=models.CASCADE, related_name="reports"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reported by"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=MAX_REASON, blank=True)
    cleared = models.BooleanField(_("reviewed"), default=False)
    created_at = models.DateTimeField(_("reported"))

    class Meta:
        verbose_name = _("comment report")
        verbose_name_plural = _("comment reports")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["comment", "reporter"], name="comment_report_one_per_reporter"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.comment_id} ← {self.reporter_id}"


class Appeal(models.Model):
    """The author of a hidden comment asks the committee to show it again."""

    comment = models.ForeignKey(
        Comment, verbose_name=_("comment"), on_delete=models.CASCADE, related_name="appeals"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("appellant"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    text = models.TextField(_("why it should be shown"), max_length=MAX_APPEAL)
    state = models.CharField(
        _("state"), max_length=16, choices=AppealState.choices, default=AppealState.OPEN
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.CharField(_("decision"), max_length=MAX_REASON, blank=True)
    created_at = models.DateTimeField(_("filed"))

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["comment"],
                condition=Q(state=AppealState.OPEN),
                name="appeal_one_open_per_comment",
            ),
            models.CheckConstraint(
                condition=Q(state__in=AppealState.values), name="appeal_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.comment_id} ({self.state})"
