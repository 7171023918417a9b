"""Residents' pages of fund projects: public like the board (居务公开), no sign-in needed, and
no person named anywhere. Only the satisfaction survey needs a signed-in resident of the
project's community (services.may_answer_survey)."""

import base64
import datetime as dt
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from linli.accounts.scoping import home_paths
from linli.places.choices import PlaceKind, level_path
from linli.places.models import Place
from linli.projects import selectors, services
from linli.projects.choices import PATH, ProjectState

# The survey's scale, 1 to 5 (constants.SATISFIED_FROM: 4 and 5 count as satisfied).
SCALE = (
    (5, gettext_lazy("Very satisfied")),
    (4, gettext_lazy("Satisfied")),
    (3, gettext_lazy("Neither satisfied nor dissatisfied")),
    (2, gettext_lazy("Dissatisfied")),
    (1, gettext_lazy("Very dissatisfied")),
)
SURVEY_RESULTS = frozenset({ProjectState.EVALUATED, ProjectState.CLOSED})


def _progress(state: str) -> dict:
    """Where a project stands on the happy path: step n of N and a bar width in 5 % steps."""
    n = PATH.index(state) + 1 if state in PATH else len(PATH)
    width = 5 * round(100 * n / len(PATH) / 5)
    return {"n": n, "total": len(PATH), "width": f"w{width}"}


def _heading(place: Place) -> list[Place]:
    if place.kind == PlaceKind.COMMITTEE and place.parent_id:
        return [place.parent, place]
    return [place]


@login_required
def mine(request):
    """A resident's way in from the home page: their committee's projects."""
    for path in home_paths(request.user):
        committee = Place.objects.filter(path=level_path(path, PlaceKind.COMMITTEE)).first()
        if committee is not None:
            return redirect("projects:public_list", place_id=committee.pk)
    raise Http404


def public_list(request, place_id: int):
    place = selectors.public_community(place_id)
    page = selectors.public_projects(place=place, page=request.GET.get("page"))
    paid = selectors.public_paid(p.pk for p in page.object_list)
    rows = [
        {"project": p, "spent": paid.get(p.pk, 0), "progress": _progress(p.state)}
        for p in page.object_list
    ]
    context = {
        "place": place,
        "heading": _heading(place),
        "page": page,
        "rows": rows,
        "year": timezone.localdate().year,
    }
    return render(request, "projects/public_list.html", context)


def _detail_context(request, project) -> dict:
    user = request.user
    rows = selectors.budget_rows(project)
    context = {
        "project": project,
        "progress": _progress(project.state),
        "rows": rows,
        "spent": sum((row.paid for row in rows), 0),
        "payments": selectors.public_payments(project),
        "timeline": selectors.public_timeline(project),
        "notice_open": project.notice is not None and project.notice.window_open(),
        "survey_open": project.state == ProjectState.ACCEPTED,
        "scale": SCALE,
    }
    if project.state == ProjectState.ACCEPTED and user.is_authenticated:
        context["may_answer"] = services.may_answer_survey(user, project)
        context["answered"] = selectors.survey_answered(user=user, project=project)
    if project.state in SURVEY_RESULTS:
        summary = selectors.survey_summary(project)
        context["survey"] = summary
        if summary.satisfied_rate is not None:
            context["satisfied_percent"] = round(float(summary.satisfied_rate) * 100)
    return context


def public_detail(request, pk: int):
    project = selectors.project_get_public(pk)
    return render(request, "projects/public_detail.html", _detail_context(request, project))


@require_POST
def survey(request, pk: int):
    project = selectors.project_get_public(pk)
    detail = reverse("projects:public_detail", args=[project.pk])
    if not request.user.is_authenticated:
        return redirect_to_login(detail)
    try:
        services.survey_answer(
            actor=request.user,
            project=project,
            score=request.POST.get("score", ""),
            comment=request.POST.get("comment", ""),
        )
    except PermissionDenied as error:
        messages.error(request, str(error) or _("You may not answer this survey."))
        context = _detail_context(request, project)
        return render(request, "projects/public_detail.html", context, status=403)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Thank you: your answer is recorded."))
    return redirect(f"{detail}#survey")


def _qr_data_uri(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=6)
    buffer = BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _year(value) -> int:
    today = timezone.localdate()
    try:
        year = int(str(value or "").strip())
    except ValueError:
        return today.year
    return year if dt.MINYEAR <= year <= today.year + 1 else today.year


def public_print(request, place_id: int):
    """The community's project accounts of one year as A4 sheets for the physical board."""
    place = selectors.public_community(place_id)
    year = _year(request.GET.get("year"))
    accounts = selectors.public_accounts(place=place, year=year)
    online = request.build_absolute_uri(reverse("projects:public_list", args=[place.pk]))
    context = {
        "place": place,
        "heading": _heading(place),
        "year": year,
        "years": selectors.public_years(place),
        "accounts": accounts,
        "budget": sum((a.project.budget for a in accounts), 0),
        "spent": sum((a.spent for a in accounts), 0),
        "today": timezone.localdate(),
        "online": online,
        "qr": _qr_data_uri(online),
    }
    context["left"] = context["budget"] - context["spent"]
    return render(request, "projects/public_print.html", context)
