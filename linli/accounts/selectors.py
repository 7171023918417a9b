"""Reads for the home page: what each of the user's roles does next."""

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import MANAGE_ACCOUNTS, Role
from linli.accounts.scoping import grants
from linli.core.perms import VIEW_AUDIT
from linli.deliberation.perms import MODERATE, PARTICIPATE, VIEW_TOPICS
from linli.meetings.perms import MANAGE_MEETINGS, VIEW_MEETINGS
from linli.notices.perms import PUBLISH
from linli.people.perms import MANAGE_REGISTER, VIEW_REGISTER
from linli.places.models import Department, Grid, Place
from linli.places.perms import VIEW_PLACE
from linli.places.selectors import subtree_counts
from linli.votes.perms import CAST, MANAGE_VOTES, VIEW_VOTES
from linli.workorders import perms as wo

# What each role is here to do, in the words of its home card.
ROLE_PURPOSE = {
    Role.RESIDENT: _("Report problems, back topics and vote in your community."),
    Role.COMMUNITY_WORKER: _("Keep your community's register and run its affairs."),
    Role.COMMITTEE_DIRECTOR: _("Lead the committee: meetings, votes, funds and cases."),
    Role.COMMITTEE_SECRETARY: _("Lead the committee: meetings, votes, funds and cases."),
    Role.GRID_WORKER: _("Patrol your grid, report problems and check that they are fixed."),
    Role.GRID_DISPATCHER: _("Dispatch the street's cases to the right department."),
    Role.GRID_SUPERVISOR: _(
        "Register and close the street's cases, approve returns and extensions, press on overdue ones."
    ),
    Role.PROPERTY_MANAGER: _("Report problems in the compounds you manage and follow them."),
    Role.SELF_GOVERNANCE_OFFICE: _(
        "Review the committees' fund projects and watch their progress."
    ),
    Role.DEPARTMENT_HANDLER: _("Sign for, handle and report the cases sent to your department."),
    Role.DEPARTMENT_HEAD: _(
        "Sign for and handle your department's cases, and ask the centre for more time."
    ),
    Role.PROJECT_REVIEWER: _("Score the committees' fund projects against the published criteria."),
    Role.DISTRICT_BUREAU: _("Oversee the streets and committees of your district."),
    Role.ADMINISTRATOR: _("Keep the place tree, accounts and roles in order."),
}


@dataclass
class HomeCard:
    role: str
    role_label: str
    purpose: str
    place: Place
    address: str
    counts: dict[str, int]
    grid: Grid | None = None
    department: Department | None = None
    links: list[tuple[str, str]] = field(default_factory=list)


def _register_links(g, place: Place, *, own: bool) -> list[tuple[str, str]]:
    """Links of the community register for a role that sees it."""
    profile = reverse("people:profile", args=[place.pk]) if own else reverse("people:profile_roots")
    links = [
        (reverse("people:search"), _("Search residents")),
        (reverse("people:organisations"), _("Organisations")),
        (profile, _("Community profile")),
    ]
    if MANAGE_REGISTER in g.perms:
        links.append((reverse("people:import"), _("Import a spreadsheet")))
    return links


_ORDER_BOARDS = (  # (any of these permissions, URL name, label)
    ({wo.REPORT}, "workorders:report", _("Report a problem")),
    ({wo.HANDLE_COMMITTEE}, "workorders:inbox", _("Committee inbox")),
    ({wo.PATROL}, "workorders:tasks", _("My tasks")),
    ({wo.DISPATCH}, "workorders:console", _("Dispatch console")),
    ({wo.HANDLE_DEPARTMENT}, "workorders:department_inbox", _("Department inbox")),
    ({wo.SUPERVISE, wo.DISTRICT_DISPATCH}, "workorders:overdue", _("Overdue board")),
    ({wo.DISTRICT_DISPATCH}, "workorders:district", _("District view")),
    ({wo.VIEW_ORDERS}, "workorders:map", _("Map of open orders")),
    ({wo.VIEW_ORDERS, wo.HANDLE_DEPARTMENT}, "workorders:metrics", _("Work-order metrics")),
    ({wo.MANAGE_ROUTING}, "workorders:routing_streets", _("Routing rules")),
    # Resident voice, meetings and votes (issue 5).
    ({CAST}, "votes:mine", _("My votes")),
    ({PARTICIPATE}, "deliberation:list", _("Community topics")),
    ({CAST}, "meetings:mine", _("My meetings")),
    ({CAST}, "notices:mine", _("Notice board")),
    ({MODERATE, VIEW_TOPICS}, "deliberation:inbox", _("Topics inbox")),
    ({MANAGE_MEETINGS, VIEW_MEETINGS}, "meetings:list", _("Meetings")),
    ({MANAGE_VOTES, VIEW_VOTES}, "votes:manage", _("Votes and elections")),
    ({PUBLISH}, "notices:manage", _("Public notices")),
)


def home_cards(*, viewer) -> list[HomeCard]:
    """One card per role assignment, with the counts of what lies under it (bounded queries)."""
    user_grants = grants(viewer)
    places = Place.objects.in_bulk([g.place_id for g in user_grants])
    # Address each card's place from its committee down (one query for all ancestors).
    ancestor_ids = {a for p in places.values() for a in p.ancestor_ids()}
    ancestors = Place.objects.in_bulk(ancestor_ids)
    grids = Grid.objects.prefetch_related("compounds").in_bulk(
        [g.grid_id for g in user_grants if g.grid_id]
    )
    departments = Department.objects.in_bulk(
        [g.department_id for g in user_grants if g.department_id]
    )
    counts = subtree_counts(prefixes=[p for g in user_grants for p in g.prefixes])
    cards = []
    for g in user_grants:
        place = places[g.place_id]
        merged: dict[str, int] = {}
        for prefix in g.prefixes:
            for kind, n in counts.get(prefix, {}).items():
                merged[kind] = merged.get(kind, 0) + n
        links = []
        if VIEW_PLACE in g.perms:
            # A grid worker's scope is the grid's compounds, not the street it is held at.
            own = (place.path,) == g.prefixes
            url = reverse("places:detail", args=[place.pk]) if own else reverse("places:browse")
            links.append((url, _("Browse places")))
        if VIEW_REGISTER in g.perms:
            links.extend(_register_links(g, place, own=(place.path,) == g.prefixes))
        links.extend(
            (reverse(name), label) for need, name, label in _ORDER_BOARDS if need & g.perms
        )
        if VIEW_AUDIT in g.perms:
            links.append((reverse("core:audit"), _("Search the audit trail")))
        if MANAGE_ACCOUNTS in g.perms:
            links.append((reverse("admin:index"), _("Administration")))
        cards.append(
            HomeCard(
                role=g.role,
                role_label=Role(g.role).label,
                purpose=ROLE_PURPOSE.get(g.role, ""),
                place=place,
                address=" ".join(
                    [ancestors[a].name for a in place.ancestor_ids() if ancestors[a].depth >= 3]
                    + [place.name]
                ),
                counts=merged,
                grid=grids.get(g.grid_id) if g.grid_id else None,
                department=departments.get(g.department_id) if g.department_id else None,
                links=links,
            )
        )
    return cards
