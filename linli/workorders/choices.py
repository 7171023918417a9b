from django.db import models
from django.utils.translation import gettext_lazy as _


class State(models.TextChoices):
    """WORKORDERS.md §5.2. 约请 (summons) and 提级 (district escalation) are flags, not states."""

    REPORTED = "reported", _("Reported")
    RC_HANDLING = "rc_handling", _("Handled by the committee")
    VERIFYING = "verifying", _("Being verified")
    ACCEPTED = "accepted", _("Verified")
    REJECTED = "rejected", _("Not accepted")
    SELF_RESOLVED = "self_resolved", _("Settled on the spot")
    REGISTERED = "registered", _("Registered")
    DISPATCHED = "dispatched", _("Dispatched")
    IN_PROGRESS = "in_progress", _("In progress")
    RETURN_REQUESTED = "return_requested", _("Return requested")
    EXTENSION_REQUESTED = "extension_requested", _("Extension requested")
    SUSPENSION_REQUESTED = "suspension_requested", _("Suspension requested")
    SUSPENDED = "suspended", _("Suspended")
    FEEDBACK = "feedback", _("Handled, awaiting check")
    CHECKING = "checking", _("Being checked")
    CLOSED = "closed", _("Closed")
    RATED = "rated", _("Rated")
    ARCHIVED = "archived", _("Archived")


# Open311's `status`: closed for these, open for every other state.
CLOSED_STATES = frozenset({State.CLOSED, State.REJECTED, State.RATED, State.ARCHIVED})
OPEN_STATES = frozenset(State.values) - CLOSED_STATES
# States in which a department holds the order (the handling clock runs).
DEPARTMENT_STATES = frozenset(
    {
        State.DISPATCHED,
        State.IN_PROGRESS,
        State.RETURN_REQUESTED,
        State.EXTENSION_REQUESTED,
        State.SUSPENSION_REQUESTED,
    }
)


class Level(models.TextChoices):
    COMMITTEE = "committee", _("Residents' committee")
    STREET = "street", _("Street grid centre")
    DISTRICT = "district", _("District platform")


class Kind(models.TextChoices):
    PROBLEM = "problem", _("Problem report")
    ERRAND = "errand", _("Errand agency")


class Source(models.TextChoices):
    RESIDENT = "resident", _("Resident")
    PATROL = "patrol", _("Grid worker on patrol")
    PROPERTY = "property", _("Property manager")
    HOTLINE = "hotline", _("12345 hotline")
    OPEN311 = "open311", _("Open311 client")
    COMMITTEE = "committee", _("Residents' committee")
    DISTRICT = "district", _("Assigned from above")


class Urgency(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    PRESSING = "pressing", _("Pressing")
    NORMAL = "normal", _("Normal")


class CategoryKind(models.TextChoices):
    COMPONENT = "component", _("Component (部件)")
    EVENT = "event", _("Event (事件)")


class Phase(models.TextChoices):
    """Phases with their own time limit (WORKORDERS.md §3.5, §5.1)."""

    VERIFY = "verify", _("Verification")
    REGISTER = "register", _("Registration")
    DISPATCH = "dispatch", _("Dispatch")
    SIGN = "sign", _("Sign-for")
    HANDLE = "handle", _("Handling")
    CHECK = "check", _("Check")
    COMMITTEE = "committee", _("Committee handling")


class LimitUnit(models.TextChoices):
    MINUTES = "minutes", _("working minutes")
    HOURS = "hours", _("working hours")
    DAYS = "days", _("working days")
    NATURAL_DAYS = "natural_days", _("calendar days")


class RejectReason(models.TextChoices):
    UNTRUE = "untrue", _("Not true on site")
    DUPLICATE = "duplicate", _("Duplicate of another report")
    OUT_OF_SCOPE = "out_of_scope", _("Not something the grid handles")


class Rating(models.IntegerChoices):
    """政务服务 好差评, five levels."""

    VERY_SATISFIED = 5, _("Very satisfied")
    SATISFIED = 4, _("Satisfied")
    FAIRLY_SATISFIED = 3, _("Fairly satisfied")
    DISSATISFIED = 2, _("Dissatisfied")
    VERY_DISSATISFIED = 1, _("Very dissatisfied")


class Light(models.TextChoices):
    GREEN = "green", _("On time")
    YELLOW = "yellow", _("Due soon")
    RED = "red", _("Overdue")


class DayKind(models.TextChoices):
    WORKDAY = "workday", _("Working day")
    HOLIDAY = "holiday", _("Holiday")
    MAKEUP = "makeup", _("Make-up working day")
    WEEKEND = "weekend", _("Weekend")
