"""Public notices (公示, 居务公开), objections to them, and in-app notifications.

A notice is published on the board of a place (street, committee or compound) and carries a
publication window: from `published_at` until `window_until`, the moment the window closes
(midnight after its last day, RULES.md §0.1: a period in days ends at 24:00 of its last day).
Objections are accepted only inside it. Notices are never deleted: a withdrawn notice stays on
the board, marked withdrawn with the reason.
"""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.scoping import ScopedQuerySet
from linli.notices.choices import NoticeKind, NotificationKind, ObjectionState
from linli.places.models import Place


class Notice(models.Model):
    """A notice on a community's public board, with its publication (objection) window."""

    place = models.ForeignKey(
        Place, verbose_name=_("board of"), on_delete=models.PROTECT, related_name="notices"
    )
    # Copy of the place's path: staff lists scope by it, boards gather by it.
    path = models.CharField(_("path"), max_length=80, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=NoticeKind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    source = models.CharField(
        _("source"),
        max_length=64,
        blank=True,
        help_text=_("What the notice comes from, e.g. meeting:12."),
    )
    published_at = models.DateTimeField(_("published at"), db_index=True)
    window_until = models.DateTimeField(_("objections until"))
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdraw_reason = models.CharField(_("reason for withdrawal"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = ScopedQuerySet.as_manager()
    scope_path = "path"

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-published_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_until__gte=F("published_at")), name="notice_window_after_start"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=NoticeKind.values), name="notice_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_at__isnull=True) | ~Q(withdraw_reason=""),
                name="notice_withdrawal_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["path", "published_at"], name="notice_path_published")]

    def __str__(self) -> str:
        return self.title

    @property
    def scope_place(self) -> str:
        return self.path

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def last_day(self) -> dt.date:
        """The last day of the window, in local time (the window ends at midnight after it)."""
        return timezone.localtime(self.window_until - dt.timedelta(microseconds=1)).date()

    def is_published(self, now: dt.datetime | None = None) -> bool:
        return self.published_at <= (now or timezone.now())

    def window_open(self, now: dt.datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.withdrawn_at is None and self.published_at <= now < self.window_until


class Objection(models.Model):
    """An objection (异议) to a notice, filed within its window. Who filed it is private: only
    staff who publish at the notice's place see it; the answer is public, without the author."""

    notice = models.ForeignKey(
        Notice, verbose_name=_("notice"), on_delete=models.PROTECT, related_name="objections"
    )
    path = models.CharField(_("path"), max_length=80, db_index=True, editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("filed by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="notice_objections",
    )
    text = models.TextField(_("objection"))
    state = models.CharField(
        _("state"), max_length=16, choices=ObjectionState.choices, default=ObjectionState.OPEN
    )
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("filed at"), default=timezone.now)

    objects = ScopedQuerySet.as_manager()
    scope_path = "path"

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["notice", "author"],
                condition=Q(state=ObjectionState.OPEN),
                name="objection_one_open_per_author",
            ),
            models.CheckConstraint(
                condition=Q(state__in=ObjectionState.values), name="objection_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(state=ObjectionState.OPEN, answered_at__isnull=True)
                | (Q(state=ObjectionState.ANSWERED, answered_at__isnull=False) & ~Q(answer="")),
                name="objection_answered_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} · {self.notice_id}"

    @property
    def scope_place(self) -> str:
        return self.path

    def audit_label(self) -> str:
        # Never the author nor the text in the audit trail's label.
        return str(
            _("Objection #%(n)s to notice #%(notice)s") % {"n": self.pk, "notice": self.notice_id}
        )


class Notification(models.Model):
    """A message for one user in their in-app inbox; senders (e-mail, SMS) relay it too."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=24, choices=NotificationKind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=NotificationKind.values), name="notification_kind_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_user_unread"),
            models.Index(fields=["user", "-created_at"], name="notification_user_recent"),
        ]

    def __str__(self) -> str:
        return self.title
