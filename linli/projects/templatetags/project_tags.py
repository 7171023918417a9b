"""{% load project_tags %}: what other apps' pages show of fund projects.

The deliberation app may not import the projects app (projects imports deliberation), so the
topic page asks through this tag:

- `amount|yuan`: money as the services' messages write it (¥12,345.60);
- {% topic_projects topic %}: the fund projects the topic raised (staff: those under their
  places, linked to the staff page; residents: those public, linked to the public page), and,
  for a worker who may apply at the topic's committee, the button that starts an application
  from it (projects:new?topic=<id>). Renders nothing for anyone else.
"""

from django import template
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli.funds.templatetags.money import yuan
from linli.projects import perms, selectors
from linli.projects.choices import PUBLIC
from linli.projects.models import Project

register = template.Library()

BUCKET_LABELS = (
    ("applying", _("Applying")),
    ("under_way", _("Under way")),
    ("finishing", _("Accepted, being evaluated")),
    ("closed", pgettext_lazy("projects", "Closed")),
    ("not_funded", _("Rejected or withdrawn")),
)


register.filter("yuan", yuan)


@register.inclusion_tag("projects/_topic_projects.html", takes_context=True)
def topic_projects(context, topic) -> dict:
    request = context.get("request")
    viewer = getattr(request, "user", None) or context.get("user")
    if viewer is None or not viewer.is_authenticated:
        return {"show": False}
    staff = viewer.has_perm(perms.VIEW_PROJECTS)
    if staff:
        rows = selectors.projects_for(viewer=viewer)
    else:  # residents: the projects on public notice or later (the public pages)
        rows = Project.objects.filter(state__in=PUBLIC)
    projects = list(rows.filter(topic=topic).order_by("-created_at"))
    can_apply = viewer.has_perm(perms.APPLY, topic.place)
    return {
        "show": bool(projects) or can_apply,
        "topic": topic,
        "projects": projects,
        "staff": staff,
        "can_apply": can_apply,
    }


@register.inclusion_tag("projects/_committees_projects.html", takes_context=True)
def committees_projects(context, page, year) -> dict:
    """On the street overview: each committee's projects of the year, by stage."""
    viewer = context["request"].user
    places = [row.place for row in page]
    figures = selectors.committees_projects(viewer=viewer, places=places, year=year)
    rows = [
        (
            place,
            figures[place.pk],
            [(code, label, figures[place.pk].counts[code]) for code, label in BUCKET_LABELS],
        )
        for place in places
    ]
    return {"rows": rows, "year": year, "buckets": BUCKET_LABELS, "request": context["request"]}


@register.inclusion_tag("projects/_place_projects.html", takes_context=True)
def place_projects(context, place, year) -> dict:
    """On a committee's (or street's) funds page: its projects of the year."""
    viewer = context["request"].user
    may_view = viewer.is_authenticated and bool(viewer.scope_prefixes(perms.VIEW_PROJECTS))
    projects = selectors.place_projects(viewer=viewer, place=place, year=year) if may_view else []
    return {"projects": projects, "place": place, "year": year, "may_view": may_view}
