"""Reads of the audit trail, scoped to the viewer."""

from datetime import date, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import Q

from linli.core.models import AuditEvent
from linli.core.perms import VIEW_AUDIT
from linli.core.scoping import under_q

EVENTS_PER_PAGE = 50


def audit_events(*, viewer):
    """Events under the viewer's audit scope. Events tied to no place (sign-ins, account
    changes) are visible only to those who audit at the top of the tree."""
    prefixes = viewer.scope_prefixes(VIEW_AUDIT)
    if not prefixes:
        return AuditEvent.objects.none()
    condition = Q()
    for prefix in prefixes:
        condition |= under_q(prefix, "place_path")
    if any(len(p) == 10 for p in prefixes):
        condition |= Q(place_path="")
    return AuditEvent.objects.filter(condition)


def audit_search_page(
    *,
    viewer,
    actor: str = "",
    action: str = "",
    place: str = "",
    since: date | None = None,
    until: date | None = None,
    page: int | str | None = None,
) -> Page:
    events = audit_events(viewer=viewer)
    if actor:
        events = events.filter(actor_name__icontains=actor)
    if action:
        events = events.filter(action__startswith=action)
    if place:
        events = events.filter(place_name__icontains=place)
    if since:
        events = events.filter(at__date__gte=since)
    if until:
        events = events.filter(at__lt=until + timedelta(days=1))
    return Paginator(events.order_by("-id"), EVENTS_PER_PAGE).get_page(page)
