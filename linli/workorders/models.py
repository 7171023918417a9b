"""Work orders (工单): categories, time limits, routing, the calendar, orders and their log.

The transition log (`Transition`) is append-only (database triggers refuse UPDATE and DELETE)
and is the single source of every metric; the order row holds the current state and the
deadlines the pages filter on, written in the same transaction as the log entry.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.core.scoping import ScopedQuerySet
from linli.places.models import Department, Grid, Place
from linli.workorders.choices import (
    CategoryKind,
    DayKind,
    Kind,
    Level,
    LimitUnit,
    Phase,
    Rating,
    Source,
    State,
    Urgency,
)


class Category(models.Model):
    """A minor class (小类) of the urban-management classification of components and events.

    Codes are strings (leading zeros matter). `service_code` is what Open311 and imports use:
    the kind's letter, the major class and the minor class, e.g. C0101 or E0203.
    """

    kind = models.CharField(_("kind"), max_length=16, choices=CategoryKind.choices)
    major_code = models.CharField(_("major class code"), max_length=4)
    major_name = models.CharField(_("major class"), max_length=64)
    minor_code = models.CharField(_("minor class code"), max_length=4)
    name = models.CharField(_("name"), max_length=64)
    service_code = models.CharField(_("service code"), max_length=16, unique=True)
    description = models.TextField(_("description"), blank=True)
    examples = models.TextField(
        _("example reports"),
        blank=True,
        help_text=_("One per line; the category suggestion learns from them."),
    )
    self_governable = models.BooleanField(
        _("the committee may settle it itself"),
        default=False,
        help_text=_("自治事项: neighbour disputes, clutter in stairwells …"),
    )
    public = models.BooleanField(
        _("offered to residents"),
        default=True,
        help_text=_("Shown on the report form and Open311."),
    )
    duplicate_radius_m = models.PositiveIntegerField(_("duplicate radius (m)"), default=100)
    duplicate_window_days = models.PositiveIntegerField(_("duplicate window (days)"), default=7)
    register_condition = models.TextField(_("registration condition"), blank=True)
    close_condition = models.TextField(_("closing condition"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["kind", "major_code", "minor_code"]

    def __str__(self) -> str:
        return f"{self.service_code} {self.name}"


class TimeLimit(models.Model):
    """How long a phase may take, per category (or for all, when category is empty) and urgency."""

    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="time_limits",
        help_text=_("Empty: the default for every category."),
    )
    urgency = models.CharField(_("urgency"), max_length=16, choices=Urgency.choices)
    phase = models.CharField(_("phase"), max_length=16, choices=Phase.choices)
    amount = models.PositiveIntegerField(_("amount"))
    unit = models.CharField(_("unit"), max_length=16, choices=LimitUnit.choices)

    class Meta:
        verbose_name = _("time limit")
        verbose_name_plural = _("time limits")
        ordering = ["category", "phase", "urgency"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "urgency", "phase"], name="time_limit_unique"
            ),
            models.UniqueConstraint(
                fields=["urgency", "phase"],
                condition=Q(category__isnull=True),
                name="time_limit_unique_default",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="time_limit_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_phase_display()} {self.amount} {self.get_unit_display()}"


class RoutingRule(models.Model):
    """明责派单: (street, grid or the whole street, category) → lead department (+ co-departments).

    A rule for the grid wins over the street-wide rule for the same category.
    """

    street = models.ForeignKey(
        Place,
        verbose_name=_("street"),
        on_delete=models.CASCADE,
        related_name="routing_rules",
    )
    grid = models.ForeignKey(
        Grid,
        verbose_name=_("grid"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="routing_rules",
        help_text=_("Empty: the whole street."),
    )
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.CASCADE, related_name="routes"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("lead department"),
        on_delete=models.CASCADE,
        related_name="routes",
    )
    co_departments = models.ManyToManyField(
        Department, verbose_name=_("co-departments"), blank=True, related_name="co_routes"
    )

    objects = ScopedQuerySet.as_manager()
    scope_path = "street__path"

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["street", "category", "grid"]
        constraints = [
            models.UniqueConstraint(
                fields=["street", "grid", "category"], name="routing_unique_grid"
            ),
            models.UniqueConstraint(
                fields=["street", "category"],
                condition=Q(grid__isnull=True),
                name="routing_unique_street",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} → {self.department}"

    @property
    def scope_place(self):
        return self.street


class CalendarYear(models.Model):
    """A year whose holiday schedule is known. Deadlines running into a year without one fall
    back to Monday–Friday and warn the administrators."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    source = models.CharField(_("source"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(models.Model):
    """An exception to Monday–Friday: a statutory holiday on a weekday, or a make-up working
    day (调休) on a weekend."""

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(
        _("kind"),
        max_length=16,
        choices=[(DayKind.HOLIDAY, DayKind.HOLIDAY.label), (DayKind.MAKEUP, DayKind.MAKEUP.label)],
    )
    name = models.CharField(_("name"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"


class ServiceItem(models.Model):
    """一代理: a government service the committee may run for a resident, kept by the street."""

    street = models.ForeignKey(
        Place, verbose_name=_("street"), on_delete=models.CASCADE, related_name="service_items"
    )
    code = models.CharField(_("code"), max_length=16)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("what it takes"), blank=True)
    limit_days = models.PositiveIntegerField(_("time limit (working days)"), default=5)
    active = models.BooleanField(_("active"), default=True)

    objects = ScopedQuerySet.as_manager()
    scope_path = "street__path"

    class Meta:
        verbose_name = _("service item")
        verbose_name_plural = _("service items")
        ordering = ["street", "code"]
        constraints = [
            models.UniqueConstraint(fields=["street", "code"], name="service_item_unique_code")
        ]

    def __str__(self) -> str:
        return self.name


class WorkOrder(models.Model):
    """One reported problem (or one errand) from report to archive."""

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.PROBLEM)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    state = models.CharField(_("state"), max_length=24, choices=State.choices, db_index=True)
    # Compare-and-set counter: a transition updates the row only if it still has the version
    # it read, so of two dispatchers acting at once exactly one wins.
    version = models.PositiveIntegerField(default=0, editable=False)

    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    service_item = models.ForeignKey(
        ServiceItem,
        verbose_name=_("service item"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    beneficiary = models.ForeignKey(
        "people.Resident",
        verbose_name=_("for resident"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="errands",
        help_text=_("Errand agency: the resident the committee acts for."),
    )
    description = models.TextField(_("description"), max_length=4000)
    address = models.CharField(_("address"), max_length=200, blank=True)
    lat = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    place = models.ForeignKey(
        Place,
        verbose_name=_("place"),
        on_delete=models.PROTECT,
        related_name="work_orders",
        help_text=_("The most precise place known: a compound, or the committee or street."),
    )
    path = models.CharField(max_length=80, db_index=True, editable=False)
    street = models.ForeignKey(
        Place, verbose_name=_("street"), on_delete=models.PROTECT, related_name="street_orders"
    )
    grid = models.ForeignKey(
        Grid,
        verbose_name=_("grid"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )

    # The reporter is private: never in a public page or an Open311 GET.
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reporter"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_orders",
    )
    reporter_name = models.CharField(_("reporter's name"), max_length=64, blank=True)
    reporter_phone_cipher = models.TextField(blank=True, default="", editable=False)
    reporter_phone_masked = models.CharField(
        _("reporter's phone"), max_length=24, blank=True, default="", editable=False
    )
    external_id = models.CharField(
        _("external number"),
        max_length=64,
        blank=True,
        help_text=_("The 12345 order number, or the client's own id."),
    )

    urgency = models.CharField(
        _("urgency"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("lead department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    co_departments = models.ManyToManyField(
        Department, verbose_name=_("co-departments"), blank=True, related_name="co_orders"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("grid worker"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_orders",
        help_text=_("Who verifies or checks on site."),
    )
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("duplicate of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="duplicates",
    )

    # The clock of the current phase: started, yellow light at 80 % (in working time), due.
    phase = models.CharField(_("phase"), max_length=16, choices=Phase.choices, blank=True)
    phase_started_at = models.DateTimeField(null=True, blank=True)
    phase_warn_at = models.DateTimeField(null=True, blank=True)
    phase_due_at = models.DateTimeField(_("phase due"), null=True, blank=True, db_index=True)
    # The handling (处置) deadline runs from dispatch; only approved extensions move it.
    handle_due_at = models.DateTimeField(_("handling due"), null=True, blank=True)
    registered_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    review_on = models.DateField(_("review date"), null=True, blank=True)
    # Working minutes of handling time left when a suspension (挂账) was approved; resuming
    # gives back exactly this much, so suspended time neither counts nor refills the clock.
    handle_left_minutes = models.PositiveIntegerField(null=True, blank=True, editable=False)
    pending = models.JSONField(
        default=dict, blank=True, help_text="The open request (return, extension, suspension)."
    )

    check_passed = models.BooleanField(null=True, blank=True)
    rework_count = models.PositiveIntegerField(default=0)
    return_count = models.PositiveIntegerField(default=0)
    extension_hours = models.PositiveIntegerField(default=0)
    reopen_count = models.PositiveIntegerField(default=0)
    reminded_at = models.DateTimeField(null=True, blank=True)
    supervised_at = models.DateTimeField(null=True, blank=True)
    summons_requested = models.BooleanField(_("summons requested"), default=False)
    escalated = models.BooleanField(_("escalated to the district"), default=False)

    result = models.TextField(_("result"), blank=True)
    rating = models.PositiveSmallIntegerField(
        _("rating"), choices=Rating.choices, null=True, blank=True
    )
    rating_comment = models.CharField(_("rating comment"), max_length=500, blank=True)

    created_at = models.DateTimeField(_("reported at"), db_index=True)
    updated_at = models.DateTimeField(_("updated"))

    objects = ScopedQuerySet.as_manager()
    scope_path = "path"

    class Meta:
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["street", "state", "created_at"], name="wo_street_state"),
            models.Index(fields=["department", "state"], name="wo_department_state"),
            models.Index(fields=["category", "created_at"], name="wo_category_created"),
            models.Index(fields=["path", "state"], name="wo_path_state"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=State.values), name="wo_state_valid"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"

    @property
    def scope_place(self) -> str:
        return self.path


class Transition(models.Model):
    """One step of an order: who, in which role, when, why, with what. Append-only."""

    order = models.ForeignKey(
        WorkOrder, verbose_name=_("order"), on_delete=models.PROTECT, related_name="transitions"
    )
    action = models.CharField(_("action"), max_length=32)
    from_state = models.CharField(_("from"), max_length=24, blank=True)
    to_state = models.CharField(_("to"), max_length=24)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("by"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=40, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The department acted for, or dispatched to.",
    )
    at = models.DateTimeField(_("at"), db_index=True)
    reason = models.TextField(_("reason"), blank=True)
    # Facts metrics need, frozen at the time: deadlines met or missed, hours asked, rating …
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("transition")
        verbose_name_plural = _("transitions")
        ordering = ["order", "at", "id"]
        indexes = [models.Index(fields=["action", "at"], name="wo_transition_action_at")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


def _attachment_path(instance, filename: str) -> str:
    # Files are named by services.photo_scrub (random), never by the uploader's file name.
    return f"workorders/{instance.order_id}/{filename}"


class Attachment(models.Model):
    """A photo or document of an order (served only through a permission-checked view)."""

    order = models.ForeignKey(
        WorkOrder, verbose_name=_("order"), on_delete=models.PROTECT, related_name="attachments"
    )
    transition = models.ForeignKey(
        Transition,
        verbose_name=_("step"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="attachments",
    )
    file = models.FileField(_("file"), upload_to=_attachment_path)
    content_type = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.file.name


class Summons(models.Model):
    """约请: the committee asks the street to bring several departments to a hard case."""

    order = models.ForeignKey(
        WorkOrder, verbose_name=_("order"), on_delete=models.PROTECT, related_name="summonses"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"))
    reason = models.TextField(_("reason"))
    meets_at = models.DateTimeField(_("meeting time"), null=True, blank=True)
    venue = models.CharField(_("venue"), max_length=200, blank=True)
    departments = models.ManyToManyField(
        Department, verbose_name=_("departments summoned"), blank=True, related_name="summonses"
    )
    outcome = models.TextField(_("outcome"), blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("summons")
        verbose_name_plural = _("summonses")
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.order} {self.requested_at:%Y-%m-%d}"


class Open311Client(models.Model):
    """A system allowed to POST requests; the key is stored only as a hash."""

    name = models.CharField(_("name"), max_length=100)
    street = models.ForeignKey(
        Place,
        verbose_name=_("jurisdiction (street)"),
        on_delete=models.PROTECT,
        related_name="open311_clients",
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(max_length=8, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Open311 client")
        verbose_name_plural = _("Open311 clients")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"
