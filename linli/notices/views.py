"""Notice-board pages.

Public (no sign-in, like the physical 居务公开栏): a place's board, its archive, a notice and its
printable A4 page. Signed-in: the objection form, the user's notification inbox. Staff
(`notices.publish`): publishing, their notices with objection counts, the objection inbox with
answers, withdrawal. Staff pages look every object up through the scoped selectors, so one
outside the viewer's places answers 404 like a missing one.
"""

import base64
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from linli.accounts.scoping import home_paths, user_can
from linli.notices import selectors, services
from linli.notices.choices import ObjectionState
from linli.notices.forms import AnswerForm, ObjectionForm, PublishForm, WithdrawForm
from linli.notices.perms import PUBLISH
from linli.places.choices import PlaceKind, level_path
from linli.places.models import Place

# The objection channel printed under every notice (RULES.md SH-07: the fixed board).
OBJECTION_CHANNEL = gettext_lazy(
    "Anyone who objects to this notice may raise it with the residents' committee, in writing "
    "or online, within the publication window."
)


def _add_service_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _next_url(request, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _publisher_name(place: Place) -> list[Place]:
    """The board's place with the committee above a compound (for headings and print)."""
    if place.kind == PlaceKind.COMPOUND and place.parent_id:
        return [place.parent, place]
    return [place]


# --- public -----------------------------------------------------------------------------------


@login_required
def mine(request):
    """ "My board": a resident's committee board; staff go to the notices they publish."""
    paths = home_paths(request.user)
    if paths:
        committee = Place.objects.filter(path=level_path(paths[0], PlaceKind.COMMITTEE)).first()
        if committee is not None:
            return redirect("notices:board", board_id=committee.pk)
    if user_can(request.user, PUBLISH):
        return redirect("notices:manage")
    raise Http404


def board(request, board_id: int):
    place = selectors.board_place(board_id)
    context = {
        "place": place,
        "heading": _publisher_name(place),
        "notices": selectors.board_notices(place=place),
        "now": timezone.now(),
        "can_publish": user_can(request.user, PUBLISH, place),
    }
    return render(request, "notices/board.html", context)


def archive(request, board_id: int):
    place = selectors.board_place(board_id)
    page = selectors.board_archive_page(place=place, page=request.GET.get("page"))
    context = {
        "place": place,
        "heading": _publisher_name(place),
        "page": page,
        "now": timezone.now(),
    }
    return render(request, "notices/archive.html", context)


def notice_detail(request, notice_id: int):
    notice = selectors.notice_get_public(notice_id)
    now = timezone.now()
    user = request.user
    context = {
        "notice": notice,
        "heading": _publisher_name(notice.place),
        "answers": selectors.public_answers(notice=notice),
        "window_open": notice.window_open(now),
        "can_object": services.is_community_member(user, notice),
        "own_objections": selectors.own_objections(user=user, notice=notice),
        "can_publish": user_can(user, PUBLISH, notice.path),
        "channel": OBJECTION_CHANNEL,
    }
    return render(request, "notices/notice.html", context)


def _qr_data_uri(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=6)
    buffer = BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def notice_print(request, notice_id: int):
    """The notice as an A4 sheet for the physical board (print stylesheet, no site chrome)."""
    notice = selectors.notice_get_public(notice_id)
    online = request.build_absolute_uri(reverse("notices:notice", args=[notice.pk]))
    context = {
        "notice": notice,
        "heading": _publisher_name(notice.place),
        "channel": OBJECTION_CHANNEL,
        "online": online,
        "qr": _qr_data_uri(online),
    }
    return render(request, "notices/print.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def notice_object(request, notice_id: int):
    notice = selectors.notice_get_public(notice_id)
    allowed = services.is_community_member(request.user, notice)
    form = ObjectionForm(request.POST or None)
    if request.method == "POST" and allowed and form.is_valid():
        try:
            services.objection_file(
                actor=request.user, notice=notice, text=form.cleaned_data["text"]
            )
        except PermissionDenied:
            allowed = False
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Your objection is filed. The committee will answer it on the board."),
            )
            return redirect("notices:notice", notice_id=notice.pk)
    context = {
        "notice": notice,
        "form": form,
        "allowed": allowed,
        "window_open": notice.window_open(),
    }
    return render(request, "notices/object.html", context, status=200 if allowed else 403)


# --- staff ------------------------------------------------------------------------------------


def _require_publisher(user) -> None:
    if not user_can(user, PUBLISH):
        raise Http404


@login_required
def manage(request):
    _require_publisher(request.user)
    page = selectors.staff_notices_page(viewer=request.user, page=request.GET.get("page"))
    context = {
        "page": page,
        "places": selectors.publish_places(viewer=request.user),
        "now": timezone.now(),
        "open_objections": selectors.objections_for(
            viewer=request.user, state=ObjectionState.OPEN
        ).count(),
    }
    return render(request, "notices/manage.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def publish(request, place_id: int):
    place = selectors.publish_place_get(viewer=request.user, pk=place_id)
    form = PublishForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            notice = services.notice_publish(
                actor=request.user,
                place=place,
                kind=data["kind"],
                title=data["title"],
                body=data["body"],
                window_days=data["window_days"],
                starts_at=data["starts_at"],
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("The notice is published on the board."))
            return redirect("notices:manage_notice", notice_id=notice.pk)
    context = {"place": place, "heading": _publisher_name(place), "form": form}
    return render(request, "notices/publish.html", context)


def _manage_notice_context(request, notice, *, withdraw_form=None, answer_forms=None) -> dict:
    answer_forms = answer_forms or {}
    objections = list(selectors.objections_for(viewer=request.user, notice=notice))
    rows = [
        {
            "objection": o,
            "form": answer_forms.get(o.pk)
            or (AnswerForm(prefix=f"o{o.pk}") if o.state == ObjectionState.OPEN else None),
        }
        for o in objections
    ]
    return {
        "notice": notice,
        "heading": _publisher_name(notice.place),
        "rows": rows,
        "withdraw_form": withdraw_form or (None if notice.withdrawn else WithdrawForm()),
        "now": timezone.now(),
    }


@login_required
def manage_notice(request, notice_id: int):
    notice = selectors.staff_notice_get(viewer=request.user, pk=notice_id)
    return render(request, "notices/manage_notice.html", _manage_notice_context(request, notice))


@login_required
@require_POST
def withdraw(request, notice_id: int):
    notice = selectors.staff_notice_get(viewer=request.user, pk=notice_id)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            services.notice_withdraw(
                actor=request.user, notice=notice, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("The notice is withdrawn; the board shows why."))
            return redirect("notices:manage_notice", notice_id=notice.pk)
    context = _manage_notice_context(request, notice, withdraw_form=form)
    return render(request, "notices/manage_notice.html", context, status=422)


@login_required
def objections(request):
    _require_publisher(request.user)
    state = request.GET.get("state", ObjectionState.OPEN)
    if state not in ObjectionState.values:
        state = ""
    page = selectors.objections_page(
        viewer=request.user, state=state or None, page=request.GET.get("page")
    )
    rows = [
        {
            "objection": o,
            "form": AnswerForm(prefix=f"o{o.pk}") if o.state == ObjectionState.OPEN else None,
        }
        for o in page.object_list
    ]
    context = {"page": page, "rows": rows, "state": state, "states": ObjectionState.choices}
    return render(request, "notices/objections.html", context)


@login_required
@require_POST
def answer(request, objection_id: int):
    objection = selectors.objection_get(viewer=request.user, pk=objection_id)
    form = AnswerForm(request.POST, prefix=f"o{objection.pk}")
    if form.is_valid():
        try:
            services.objection_answer(
                actor=request.user, objection=objection, answer=form.cleaned_data["answer"]
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("The answer is published on the board."))
            return redirect(_next_url(request, reverse("notices:objections")))
    notice = selectors.staff_notice_get(viewer=request.user, pk=objection.notice_id)
    context = _manage_notice_context(request, notice, answer_forms={objection.pk: form})
    return render(request, "notices/manage_notice.html", context, status=422)


# --- notifications ----------------------------------------------------------------------------


@login_required
def inbox(request):
    unread_only = request.GET.get("unread") == "1"
    page = selectors.notifications_page(
        user=request.user, page=request.GET.get("page"), unread_only=unread_only
    )
    context = {
        "page": page,
        "unread_only": unread_only,
        "unread": selectors.unread_count(user=request.user),
    }
    return render(request, "notices/inbox.html", context)


@login_required
@require_POST
def notification_read(request, notification_id: int):
    notification = selectors.notification_get(user=request.user, pk=notification_id)
    services.notification_read(actor=request.user, notification=notification)
    if "open" in request.POST and services.is_local_url(notification.url):
        return redirect(notification.url)
    return redirect(_next_url(request, reverse("notices:inbox")))


@login_required
@require_POST
def notifications_read_all(request):
    services.notifications_read(actor=request.user)
    return redirect("notices:inbox")
