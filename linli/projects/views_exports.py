"""Staff downloads of fund projects as spreadsheets: the projects of a place and year, and one
project's accounts. Scoped like the pages: a place or project outside the caller's
`projects.view` answers 404."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from linli.places.models import Place
from linli.projects import exports, selectors
from linli.projects.perms import VIEW_PROJECTS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MIN_YEAR, MAX_YEAR = 2000, 2100


def _download(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_GET
def export_list(request):
    """?place=<id>&year=<yyyy> (default: this year)."""
    place_id = request.GET.get("place", "")
    place = (
        Place.objects.filter(pk=int(place_id)).first()
        if place_id.isascii() and place_id.isdigit()
        else None
    )
    if place is None or not request.user.has_perm(VIEW_PROJECTS, place):
        raise Http404
    year = request.GET.get("year", "")
    year = (
        int(year)
        if year.isascii() and year.isdigit() and MIN_YEAR <= int(year) <= MAX_YEAR
        else None
    )
    year = year or timezone.localdate().year
    content = exports.project_list_workbook(viewer=request.user, place=place, year=year)
    return _download(content, f"projects-{place.code or place.pk}-{year}.xlsx")


@login_required
@require_GET
def export_project(request, pk: int):
    project = selectors.project_get(viewer=request.user, pk=pk)
    return _download(exports.project_workbook(project), f"project-{project.pk}-accounts.xlsx")
