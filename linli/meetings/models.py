"""Meetings and decisions: meetings of every kind, their invitations, check-in, agenda, motions,
minutes and resolutions; petitions to convene; and the 四议两公开 procedure.

Every row that a list shows carries `path`, copied from its place, so `for_viewer` scopes it with
one indexed range (core.scoping). What must hold is held by the database: one check-in per
invitation, one invitation per voter key, one signature per voter key, steps in order.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.scoping import ScopedQuerySet
from linli.meetings.choices import (
    AttendanceMode,
    CheckInMethod,
    MeetingForm,
    MeetingKind,
    MeetingState,
    MotionKind,
    MotionState,
    Party,
    PetitionKind,
    StepKey,
)
from linli.people.pii import mask_name_public
from linli.places.models import Place
from linli.votes.choices import OwnersMatter

_USER = settings.AUTH_USER_MODEL


class Meeting(models.Model):
    """A meeting of one kind at a committee, compound (owners) or street.

    `base_count` is frozen when the meeting is announced: the number of invitations, which is the
    quorum base (all adults, households, group representatives, members or owners).
    """

    place = models.ForeignKey(
        Place, verbose_name=_("place"), on_delete=models.PROTECT, related_name="meetings"
    )
    path = models.CharField(_("path"), max_length=80, db_index=True, editable=False)
    kind = models.CharField(_("kind"), max_length=32, choices=MeetingKind.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    attendance_mode = models.CharField(
        _("who attends"), max_length=16, choices=AttendanceMode.choices
    )
    form = models.CharField(
        _("form"), max_length=24, choices=MeetingForm.choices, default=MeetingForm.IN_PERSON
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    location = models.CharField(_("location"), max_length=200, blank=True)
    convener = models.ForeignKey(
        _USER,
        verbose_name=_("convened by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    convener_body = models.CharField(
        _("convening body"),
        max_length=100,
        blank=True,
        help_text=_("The residents' committee, or the party branch for a joint meeting."),
    )
    chair = models.CharField(_("chair"), max_length=100, blank=True)
    state = models.CharField(
        _("state"),
        max_length=20,
        choices=MeetingState.choices,
        default=MeetingState.DRAFT,
        db_index=True,
    )
    notice = models.ForeignKey(
        "notices.Notice",
        verbose_name=_("notice"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    base_count = models.PositiveIntegerField(_("quorum base"), null=True, blank=True)
    base_area = models.DecimalField(
        _("total floor area (m²)"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Owners' assemblies: the total exclusive area, frozen with the base."),
    )
    rule_id = models.CharField(_("vote rule"), max_length=40, blank=True)
    announced_at = models.DateTimeField(_("announced"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=200, blank=True)
    short_notice = models.BooleanField(
        _("announced at short notice"),
        default=False,
        help_text=_("Announced with fewer days of notice than the setting for this kind."),
    )
    created_by = models.ForeignKey(
        _USER,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ScopedQuerySet.as_manager()
    scope_path = "path"

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="meeting_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["path", "-starts_at"], name="meeting_path_starts")]

    def __str__(self) -> str:
        return self.title

    @property
    def scope_place(self) -> str:
        return self.path

    @property
    def written(self) -> bool:
        return self.form == MeetingForm.WRITTEN


class Invitation(models.Model):
    """One invited person, household or owner: their voter key (as votes.selectors.Voter has it)
    and, for a QR check-in, a random token."""

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="invitations"
    )
    key = models.CharField(_("voter key"), max_length=32)
    label = models.CharField(_("name"), max_length=120)
    address = models.CharField(_("address"), max_length=200, blank=True)
    party = models.CharField(_("from"), max_length=20, choices=Party.choices, blank=True)
    resident = models.ForeignKey(
        "people.Resident",
        verbose_name=_("resident"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    household = models.ForeignKey(
        "people.Household",
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    owner = models.ForeignKey(
        "people.Owner",
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    user = models.ForeignKey(
        _USER,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="meeting_invitations",
    )
    area = models.DecimalField(
        _("floor area (m²)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    head = models.CharField(_("head key"), max_length=32, blank=True)
    checkin_token = models.CharField(_("check-in token"), max_length=32, unique=True)
    registered_at = models.DateTimeField(_("registered"), null=True, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["meeting", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "key"], name="invitation_unique_key"),
        ]
        indexes = [
            models.Index(fields=["meeting", "label"], name="invitation_meeting_label"),
            models.Index(fields=["user", "meeting"], name="invitation_user_meeting"),
        ]

    def __str__(self) -> str:
        return self.display_label

    @property
    def display_label(self) -> str:
        return self.label or str(self.get_key_display())

    def audit_label(self) -> str:
        return f"#{self.pk} {mask_name_public(self.label)}"


class Attendance(models.Model):
    """A check-in: at most one per invitation (the database refuses a second)."""

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="attendances"
    )
    invitation = models.ForeignKey(
        Invitation,
        verbose_name=_("invitation"),
        on_delete=models.CASCADE,
        related_name="attendances",
    )
    method = models.CharField(_("how"), max_length=8, choices=CheckInMethod.choices)
    by = models.ForeignKey(
        _USER,
        verbose_name=_("checked in by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendances")
        ordering = ["meeting", "at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "invitation"], name="attendance_once_per_invitation"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invitation} @ {self.at:%H:%M}"


class AgendaItem(models.Model):
    """One item of a meeting's agenda (议程), maybe a residents' topic taken up."""

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="agenda"
    )
    position = models.PositiveSmallIntegerField(_("position"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    topic = models.ForeignKey(
        "deliberation.Topic",
        verbose_name=_("topic"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="agenda_items",
    )

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["meeting", "position"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "position"], name="agenda_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"


class Motion(models.Model):
    """A question put to the meeting under an agenda item; its vote is a votes.Vote."""

    agenda_item = models.ForeignKey(
        AgendaItem, verbose_name=_("agenda item"), on_delete=models.CASCADE, related_name="motions"
    )
    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="motions"
    )
    path = models.CharField(_("path"), max_length=80, db_index=True, editable=False)
    kind = models.CharField(
        _("kind"), max_length=16, choices=MotionKind.choices, default=MotionKind.DECISION
    )
    text = models.TextField(_("motion"))
    rule_id = models.CharField(_("vote rule"), max_length=40, blank=True)
    matter = models.CharField(
        _("owners' matter"),
        max_length=32,
        choices=OwnersMatter.choices,
        blank=True,
        help_text=_("For owners: which matter of Civil Code art. 278 (it sets the majority)."),
    )
    candidates = models.JSONField(
        _("candidates"),
        default=list,
        blank=True,
        help_text=_("Names scored in an evaluation or standing in an election."),
    )
    seats = models.PositiveSmallIntegerField(_("seats"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=8, choices=MotionState.choices, default=MotionState.PENDING
    )
    result = models.JSONField(_("result at closing"), default=dict, blank=True)
    vote = models.OneToOneField(
        "votes.Vote",
        verbose_name=_("vote"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="motion",
    )
    created_by = models.ForeignKey(
        _USER,
        verbose_name=_("proposed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path = "path"

    class Meta:
        verbose_name = _("motion")
        verbose_name_plural = _("motions")
        ordering = ["meeting", "agenda_item__position", "id"]

    def __str__(self) -> str:
        return self.text[:60]

    @property
    def scope_place(self) -> str:
        return self.path


class Minutes(models.Model):
    """The minutes (会议记录): written by a recorder, approved by a second person, published."""

    meeting = models.OneToOneField(
        Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="minutes"
    )
    text = models.TextField(_("minutes"))
    recorder = models.ForeignKey(
        _USER,
        verbose_name=_("recorded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    approved_by = models.ForeignKey(
        _USER,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    notice = models.ForeignKey(
        "notices.Notice",
        verbose_name=_("published notice"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("minutes")
        verbose_name_plural = _("minutes")

    def __str__(self) -> str:
        return str(self.meeting)


class Resolution(models.Model):
    """A passed motion (决议) with the vote's result as it stood when the vote closed."""

    motion = models.OneToOneField(
        Motion, verbose_name=_("motion"), on_delete=models.CASCADE, related_name="resolution"
    )
    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="resolutions"
    )
    path = models.CharField(_("path"), max_length=80, db_index=True, editable=False)
    text = models.TextField(_("resolution"))
    result = models.JSONField(_("result at closing"), default=dict)
    notice = models.ForeignKey(
        "notices.Notice",
        verbose_name=_("published notice"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path = "path"

    class Meta:
        verbose_name = _("resolution")
        verbose_name_plural = _("resolutions")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.text[:60]

    @property
    def scope_place(self) -> str:
        return self.path


class Petition(models.Model):
    """Residents (RC-05) or owners (OW-SH-03) asking for a meeting; workers record signatures."""

    place = models.ForeignKey(
        Place, verbose_name=_("place"), on_delete=models.PROTECT, related_name="meeting_petitions"
    )
    path = models.CharField(_("path"), max_length=80, db_index=True, editable=False)
    kind = models.CharField(_("kind"), max_length=24, choices=PetitionKind.choices)
    mode = models.CharField(_("counted by"), max_length=16, choices=AttendanceMode.choices)
    subject = models.CharField(_("subject"), max_length=200)
    groups_total = models.PositiveIntegerField(
        _("residents' groups in the committee"),
        null=True,
        blank=True,
        help_text=_("Only for a proposal by residents' groups (1/3 of the groups)."),
    )
    meeting = models.ForeignKey(
        Meeting,
        verbose_name=_("meeting convened"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="petitions",
    )
    created_by = models.ForeignKey(
        _USER,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path = "path"

    class Meta:
        verbose_name = _("petition")
        verbose_name_plural = _("petitions")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.subject

    @property
    def scope_place(self) -> str:
        return self.path


class PetitionSignature(models.Model):
    """One petitioner (a resident, household, owner or residents' group): one row per voter key."""

    petition = models.ForeignKey(
        Petition, verbose_name=_("petition"), on_delete=models.CASCADE, related_name="signatures"
    )
    key = models.CharField(_("voter key"), max_length=32)
    label = models.CharField(_("name"), max_length=120)
    recorded_by = models.ForeignKey(
        _USER,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        ordering = ["petition", "id"]
        constraints = [
            models.UniqueConstraint(fields=["petition", "key"], name="signature_unique_key"),
        ]

    def __str__(self) -> str:
        return self.display_label

    @property
    def display_label(self) -> str:
        return self.label or str(self.get_key_display())

    def audit_label(self) -> str:
        return f"#{self.pk} {mask_name_public(self.label)}"


class ProcedureTemplate(models.Model):
    """A committee's ordered list of steps for 四议两公开 (the six default steps unless changed).

    `steps` is a list of {"key": StepKey, "label": str}.
    """

    committee = models.ForeignKey(
        Place,
        verbose_name=_("committee"),
        on_delete=models.PROTECT,
        related_name="procedure_templates",
        limit_choices_to={"kind": "committee"},
    )
    path = models.CharField(_("path"), max_length=80, db_index=True, editable=False)
    name = models.CharField(_("name"), max_length=100)
    steps = models.JSONField(_("steps"), default=list)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path = "path"

    class Meta:
        verbose_name = _("procedure template")
        verbose_name_plural = _("procedure templates")
        ordering = ["path", "name"]
        constraints = [
            models.UniqueConstraint(fields=["committee", "name"], name="template_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Procedure(models.Model):
    """One major matter taken through 四议两公开, step by step and never skipping one."""

    place = models.ForeignKey(
        Place, verbose_name=_("committee"), on_delete=models.PROTECT, related_name="procedures"
    )
    path = models.CharField(_("path"), max_length=80, db_index=True, editable=False)
    title = models.CharField(_("matter"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    topic = models.ForeignKey(
        "deliberation.Topic",
        verbose_name=_("topic"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="procedures",
    )
    template = models.ForeignKey(
        ProcedureTemplate,
        verbose_name=_("template"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="procedures",
    )
    created_by = models.ForeignKey(
        _USER,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_path = "path"

    class Meta:
        verbose_name = _("procedure")
        verbose_name_plural = _("procedures")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def scope_place(self) -> str:
        return self.path


class ProcedureStep(models.Model):
    """One step of a procedure; `done_at` is set once, in order (the services refuse skipping)."""

    procedure = models.ForeignKey(
        Procedure, verbose_name=_("procedure"), on_delete=models.CASCADE, related_name="steps"
    )
    position = models.PositiveSmallIntegerField(_("position"))
    key = models.CharField(_("step"), max_length=24, choices=StepKey.choices)
    label = models.CharField(_("label"), max_length=100, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    actor = models.ForeignKey(
        _USER,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    record = models.TextField(_("record"), blank=True)
    meeting = models.ForeignKey(
        Meeting,
        verbose_name=_("meeting"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="procedure_steps",
    )
    notice = models.ForeignKey(
        "notices.Notice",
        verbose_name=_("notice"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("procedure step")
        verbose_name_plural = _("procedure steps")
        ordering = ["procedure", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["procedure", "position"], name="procedure_step_unique_position"
            ),
        ]

    def __str__(self) -> str:
        return self.display_label

    @property
    def display_label(self) -> str:
        return self.label or str(self.get_key_display())
