"""Roles, the permissions each grants, and where each may be held.

This table is the single answer to "what may a role do"; *where* it may do it comes from the
place of the assignment (accounts.scoping).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.perms import VIEW_AUDIT
from linli.deliberation.perms import MODERATE, PARTICIPATE, VIEW_TOPICS
from linli.funds.perms import ALLOCATE, MANAGE_FUNDS, MANAGE_STREET_FUNDS, VIEW_FUNDS
from linli.meetings.perms import MANAGE_MEETINGS, VIEW_MEETINGS
from linli.notices.perms import PUBLISH
from linli.people.perms import MANAGE_REGISTER, REVEAL_PII, VIEW_REGISTER, VIEW_SENSITIVE_TAGS
from linli.places.choices import PlaceKind
from linli.places.perms import MANAGE_PLACES, VIEW_PLACE
from linli.projects.perms import APPLY, CHECK, DECIDE, REVIEW, VIEW_PROJECTS
from linli.votes.perms import CAST, MANAGE_VOTES, RECORD_BALLOTS, VIEW_VOTES
from linli.workorders.perms import (
    DISPATCH,
    DISTRICT_DISPATCH,
    HANDLE_COMMITTEE,
    HANDLE_DEPARTMENT,
    MANAGE_CALENDAR,
    MANAGE_ROUTING,
    PATROL,
    REPORT,
    REQUEST_EXTENSION,
    SUPERVISE,
    VIEW_ORDERS,
)


class Role(models.TextChoices):
    RESIDENT = "resident", _("Resident")
    COMMUNITY_WORKER = "community_worker", _("Community worker")
    COMMITTEE_DIRECTOR = "committee_director", _("Committee director")
    COMMITTEE_SECRETARY = "committee_secretary", _("Committee party secretary")
    GRID_WORKER = "grid_worker", _("Grid worker")
    GRID_DISPATCHER = "grid_dispatcher", _("Grid-centre dispatcher")
    GRID_SUPERVISOR = "grid_supervisor", _("Grid-centre supervisor")
    PROPERTY_MANAGER = "property_manager", _("Property manager")
    SELF_GOVERNANCE_OFFICE = "self_governance_office", _("Street self-governance office")
    PROJECT_REVIEWER = "project_reviewer", _("Fund project reviewer")
    DEPARTMENT_HANDLER = "department_handler", _("Department handler")
    DEPARTMENT_HEAD = "department_head", _("Department head")
    DISTRICT_BUREAU = "district_bureau", _("District bureau")
    ADMINISTRATOR = "administrator", _("Administrator")


MANAGE_ACCOUNTS = "accounts.manage_accounts"

_STAFF = frozenset({VIEW_PLACE})
# The committee keeps its own register: it edits it, may reveal an identifier with a reason and
# sees sensitive tags. Grid workers and the street see the register masked; departments do not.
_COMMITTEE = _STAFF | {
    VIEW_REGISTER,
    MANAGE_REGISTER,
    REVEAL_PII,
    VIEW_SENSITIVE_TAGS,
    VIEW_ORDERS,
    REPORT,
    HANDLE_COMMITTEE,
    PARTICIPATE,
    MODERATE,
    VIEW_TOPICS,
    MANAGE_MEETINGS,
    VIEW_MEETINGS,
    MANAGE_VOTES,
    RECORD_BALLOTS,
    VIEW_VOTES,
    PUBLISH,
    VIEW_FUNDS,
    MANAGE_FUNDS,
    VIEW_PROJECTS,
    APPLY,
}
# The committee's check and the second signature on payments belong to its leaders.
_COMMITTEE_LEAD = _COMMITTEE | {CHECK}
# Those who oversee committees' deliberation, votes and funds from above (read only).
_OVERSIGHT = frozenset({VIEW_TOPICS, VIEW_MEETINGS, VIEW_VOTES, VIEW_FUNDS, VIEW_PROJECTS})
# The street's grid centre: dispatchers route, the supervisor (值班长) approves and closes.
_CENTRE = _STAFF | {VIEW_ORDERS, DISPATCH}
# Departments act on the orders addressed to them (workorders.selectors), not by place; the
# head (负责人) may do all a handler does and also asks the centre for more time (T13 延期).
_DEPARTMENT = _STAFF | {HANDLE_DEPARTMENT}
ROLE_PERMS: dict[str, frozenset[str]] = {
    Role.RESIDENT: frozenset({REPORT, PARTICIPATE, CAST}),
    Role.COMMUNITY_WORKER: _COMMITTEE,
    Role.COMMITTEE_DIRECTOR: _COMMITTEE_LEAD,
    Role.COMMITTEE_SECRETARY: _COMMITTEE_LEAD,
    Role.GRID_WORKER: _STAFF | {VIEW_REGISTER, VIEW_ORDERS, REPORT, PATROL},
    Role.GRID_DISPATCHER: _CENTRE,
    Role.GRID_SUPERVISOR: _CENTRE | {SUPERVISE, MANAGE_ROUTING},
    Role.PROPERTY_MANAGER: frozenset({REPORT}),
    # The street office allocates to committees and runs the street's own funds (co-governance
    # fund, foundation); committees' funds it oversees but does not spend.
    Role.SELF_GOVERNANCE_OFFICE: _STAFF
    | _OVERSIGHT
    | {VIEW_REGISTER, VIEW_ORDERS, PUBLISH, ALLOCATE, MANAGE_STREET_FUNDS, DECIDE},
    Role.PROJECT_REVIEWER: _STAFF | {VIEW_PROJECTS, REVIEW},
    Role.DEPARTMENT_HANDLER: _DEPARTMENT,
    Role.DEPARTMENT_HEAD: _DEPARTMENT | {REQUEST_EXTENSION},
    Role.DISTRICT_BUREAU: _STAFF
    | _OVERSIGHT
    | {VIEW_AUDIT, VIEW_REGISTER, VIEW_ORDERS, DISTRICT_DISPATCH},
    Role.ADMINISTRATOR: _STAFF | {VIEW_AUDIT, MANAGE_PLACES, MANAGE_ACCOUNTS, MANAGE_CALENDAR},
}
ALL_PERMS = frozenset().union(*ROLE_PERMS.values())

# The kind of place each role is held at. Grid workers hold theirs at the grid's street (their
# scope is the grid's compounds); department handlers and heads at their department's area.
ROLE_PLACE_KINDS: dict[str, frozenset[str]] = {
    Role.RESIDENT: frozenset({PlaceKind.HOUSEHOLD}),
    Role.COMMUNITY_WORKER: frozenset({PlaceKind.COMMITTEE}),
    Role.COMMITTEE_DIRECTOR: frozenset({PlaceKind.COMMITTEE}),
    Role.COMMITTEE_SECRETARY: frozenset({PlaceKind.COMMITTEE}),
    Role.GRID_WORKER: frozenset({PlaceKind.STREET}),
    Role.GRID_DISPATCHER: frozenset({PlaceKind.STREET}),
    Role.GRID_SUPERVISOR: frozenset({PlaceKind.STREET}),
    Role.PROPERTY_MANAGER: frozenset({PlaceKind.COMPOUND, PlaceKind.COMMITTEE}),
    Role.SELF_GOVERNANCE_OFFICE: frozenset({PlaceKind.STREET}),
    Role.PROJECT_REVIEWER: frozenset({PlaceKind.STREET}),
    Role.DEPARTMENT_HANDLER: frozenset({PlaceKind.STREET, PlaceKind.DISTRICT}),
    Role.DEPARTMENT_HEAD: frozenset({PlaceKind.STREET, PlaceKind.DISTRICT}),
    Role.DISTRICT_BUREAU: frozenset({PlaceKind.DISTRICT}),
    Role.ADMINISTRATOR: frozenset({PlaceKind.CITY, PlaceKind.DISTRICT}),
}

# Roles whose holders must pass a TOTP second factor.
SECOND_FACTOR_ROLES = frozenset({Role.ADMINISTRATOR, Role.DISTRICT_BUREAU})
