from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli.funds.choices import NegativeItem


class ProjectState(models.TextChoices):
    """项目化 from application to published outcome (issue 6 item 3). No step can be skipped:
    services.TRANSITIONS names the one state each step starts from."""

    DRAFT = "draft", pgettext_lazy("project state", "Draft")
    SUBMITTED = "submitted", pgettext_lazy("project state", "Awaiting the committee's check")
    CHECKED = "checked", pgettext_lazy("project state", "Under the street's review")
    REVIEWED = "reviewed", pgettext_lazy("project state", "Passed review, notice to publish")
    PUBLICISED = "publicised", pgettext_lazy("project state", "Public notice")
    APPROVED = "approved", pgettext_lazy("project state", "Approved, under way")
    COMPLETED = "completed", pgettext_lazy("project state", "Completed, awaiting acceptance")
    ACCEPTED = "accepted", pgettext_lazy("project state", "Accepted, under evaluation")
    EVALUATED = "evaluated", pgettext_lazy("project state", "Evaluated")
    CLOSED = "closed", pgettext_lazy("project state", "Closed")
    REJECTED = "rejected", pgettext_lazy("project state", "Rejected")
    WITHDRAWN = "withdrawn", pgettext_lazy("project state", "Withdrawn")


# The happy path, in order: what the progress bar shows.
PATH = (
    ProjectState.DRAFT,
    ProjectState.SUBMITTED,
    ProjectState.CHECKED,
    ProjectState.REVIEWED,
    ProjectState.PUBLICISED,
    ProjectState.APPROVED,
    ProjectState.COMPLETED,
    ProjectState.ACCEPTED,
    ProjectState.EVALUATED,
    ProjectState.CLOSED,
)
ENDED = frozenset({ProjectState.CLOSED, ProjectState.REJECTED, ProjectState.WITHDRAWN})
# States in which the project holds money (a commitment is open).
FUNDED = frozenset(
    {
        ProjectState.APPROVED,
        ProjectState.COMPLETED,
        ProjectState.ACCEPTED,
        ProjectState.EVALUATED,
    }
)
# What residents see on the public project list: from the public notice on.
PUBLIC = frozenset({*FUNDED, ProjectState.PUBLICISED, ProjectState.CLOSED})


class Step(models.TextChoices):
    CREATE = "create", _("Application drafted")
    EDIT = "edit", _("Application edited")
    SUBMIT = "submit", _("Submitted")
    CHECK = "check", _("Checked by the committee")
    RETURN = "return", _("Returned for changes")
    REJECT = "reject", _("Rejected")
    REVIEW = "review", _("Reviewer's scores")
    REVIEW_PASS = "review_pass", _("Review passed")
    PUBLICISE = "publicise", _("Public notice published")
    APPROVE = "approve", _("Approved and committed")
    PAYMENT_REQUEST = "payment_request", _("Payment requested")
    PAYMENT_APPROVE = "payment_approve", _("Payment approved")
    PAYMENT_REFUSE = "payment_refuse", _("Payment refused")
    PAYMENT = "payment", _("Paid")
    DISCLOSE = "disclose", _("Accounts published")
    COMPLETE = "complete", _("Completion reported")
    ACCEPT = "accept", _("Accepted")
    ACCEPT_FAIL = "accept_fail", _("Not accepted: to be put right")
    EVALUATE = "evaluate", _("Evaluated")
    CLOSE = "close", _("Closed, outcome published")
    WITHDRAW = "withdraw", _("Withdrawn")


class Stage(models.TextChoices):
    REVIEW = "review", _("Application review")
    EVALUATION = "evaluation", _("Evaluation")


class ExpenseCategory(models.TextChoices):
    """What a budget line buys. The last six are the negative-list items (funds.NegativeItem):
    a street's profile forbids those it lists."""

    MATERIALS = "materials", _("Materials and supplies")
    SERVICES = "services", _("Purchased services")
    VENUE = "venue", _("Venue hire")
    PUBLICITY = "publicity", _("Publicity and printing")
    TRANSPORT = "transport", _("Transport")
    INSURANCE = "insurance", _("Insurance")
    EXPERT_FEES = "expert_fees", _("Fees for outside experts and teachers")
    SMALL_EQUIPMENT = "small_equipment", _("Small equipment")
    REPAIRS = "repairs", _("Repairs and small works")
    OTHER = "other", pgettext_lazy("expense", "Other")
    STAFF_PAY = NegativeItem.STAFF_PAY.value, NegativeItem.STAFF_PAY.label
    BANQUETS = NegativeItem.BANQUETS.value, NegativeItem.BANQUETS.label
    GIFTS = NegativeItem.GIFTS.value, NegativeItem.GIFTS.label
    FIXED_ASSETS = NegativeItem.FIXED_ASSETS.value, NegativeItem.FIXED_ASSETS.label
    DOUBLE_FUNDING = NegativeItem.DOUBLE_FUNDING.value, NegativeItem.DOUBLE_FUNDING.label
    COMMERCIAL = NegativeItem.COMMERCIAL.value, NegativeItem.COMMERCIAL.label


class PaymentState(models.TextChoices):
    REQUESTED = "requested", _("Awaiting approval")
    PAID = "paid", pgettext_lazy("payment", "Paid")
    REFUSED = "refused", pgettext_lazy("payment", "Refused")
