"""Meeting pages: the list, the resident's phone pages (invitations with QR code, register, check
in, vote), the worker's console (attendance, live quorum, agenda, motions, minutes) and the
petition and 四议两公开 pages.

Every object is looked up through a selector first, so one outside the viewer's scope answers
404 on every URL, exactly like a missing one; staff-only actions answer 404 to residents too.
"""

import base64
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from linli.core.scoping import under_q
from linli.meetings import perms, selectors, services
from linli.meetings.choices import (
    MODES,
    REGISTER_UNITS,
    AttendanceMode,
    CheckInMethod,
    MeetingKind,
    MeetingState,
    MotionKind,
    MotionState,
    Party,
    PetitionKind,
    StepKey,
)
from linli.meetings.forms import (
    AgendaForm,
    AnnounceForm,
    CancelForm,
    MeetingCreateForm,
    MeetingEditForm,
    MemberForm,
    MinutesForm,
    MotionForm,
    PetitionForm,
    ProcedureForm,
    SignForm,
    StepForm,
    TemplateForm,
    TopicAgendaForm,
)
from linli.meetings.models import Invitation, Meeting, Minutes, ProcedureTemplate
from linli.places.choices import PlaceKind
from linli.places.models import Place

MEETINGS_PER_PAGE = 20
SIGNATURES_PER_PAGE = 50
MATCHES = 20


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _error_text(error: ValidationError) -> str:
    return " ".join(str(m) for m in error.messages)


def _back(request, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _managed_places(user, kinds) -> "list[Place]":
    prefixes = user.scope_prefixes(perms.MANAGE_MEETINGS)
    if not prefixes:
        return Place.objects.none()
    condition = Q(pk__in=[])
    for prefix in prefixes:
        condition |= under_q(prefix)
    return Place.objects.filter(condition, kind__in=kinds).order_by("path")


def _qr_data_uri(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _checkin_url(request, invitation: Invitation) -> str:
    return request.build_absolute_uri(
        reverse("meetings:checkin_token", args=[invitation.checkin_token])
    )


# --- lists ------------------------------------------------------------------------------------


@login_required
def meeting_list(request):
    """Residents: the meetings of their community; staff: those under their places."""
    state = request.GET.get("state", "")
    kind = request.GET.get("kind", "")
    meetings = selectors.meetings_list(
        viewer=request.user,
        state=state if state in MeetingState.values else "",
        kind=kind if kind in MeetingKind.values else "",
    )
    page = Paginator(meetings, MEETINGS_PER_PAGE).get_page(request.GET.get("page"))
    can_create = bool(request.user.scope_prefixes(perms.MANAGE_MEETINGS))
    return render(
        request,
        "meetings/list.html",
        {
            "page": page,
            "states": MeetingState.choices,
            "kinds": MeetingKind.choices,
            "state": state,
            "kind": kind,
            "can_create": can_create,
            "invitations": selectors.my_invitations(viewer=request.user, limit=5),
        },
    )


@login_required
def mine(request):
    """The resident's phone page: my invitations, each with its QR code for the door."""
    rows = []
    for invitation in selectors.my_invitations(viewer=request.user):
        meeting = invitation.meeting
        live = meeting.state in (MeetingState.ANNOUNCED, MeetingState.IN_PROGRESS)
        rows.append(
            {
                "invitation": invitation,
                "meeting": meeting,
                "live": live,
                "qr": _qr_data_uri(_checkin_url(request, invitation))
                if live and not meeting.written and invitation.checked_at is None
                else None,
                "can_register": meeting.state == MeetingState.ANNOUNCED
                and invitation.registered_at is None,
                "can_check_in": meeting.state == MeetingState.IN_PROGRESS
                and not meeting.written
                and invitation.checked_at is None,
            }
        )
    return render(request, "meetings/mine.html", {"rows": rows})


# --- create and prepare -----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def meeting_create(request):
    places = _managed_places(
        request.user, (PlaceKind.COMMITTEE, PlaceKind.COMPOUND, PlaceKind.STREET)
    )
    if not places.exists():
        raise Http404
    initial = {}
    kind = request.GET.get("kind", "")
    if kind in MeetingKind.values:
        initial["kind"] = kind
    place_id = request.GET.get("place", "")
    if place_id.isascii() and place_id.isdigit():
        initial["place"] = int(place_id)
    form = MeetingCreateForm(request.POST or None, places=places, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            meeting = services.meeting_create(
                actor=request.user,
                place=data["place"],
                kind=data["kind"],
                title=data["title"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                attendance_mode=data["attendance_mode"] or None,
                form=data["form"],
                location=data["location"],
                description=data["description"],
                chair=data["chair"],
                convener_body=data["convener_body"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request, _("The meeting is drafted. Add its agenda, then announce it.")
            )
            return redirect("meetings:detail", pk=meeting.pk)
    return render(request, "meetings/form.html", {"form": form, "modes": MODES})


@login_required
@require_http_methods(["GET", "POST"])
def meeting_edit(request, pk):
    meeting = selectors.meeting_get_managed(viewer=request.user, pk=pk)
    if meeting.state != MeetingState.DRAFT:
        raise Http404
    fields = ("title", "starts_at", "ends_at", "location", "chair", "convener_body", "description")
    form = MeetingEditForm(
        request.POST or None, initial={name: getattr(meeting, name) for name in fields}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_update(actor=request.user, meeting=meeting, **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("meetings:detail", pk=meeting.pk)
    return render(request, "meetings/edit.html", {"form": form, "meeting": meeting})


@login_required
@require_http_methods(["GET", "POST"])
def members(request, pk):
    """The named members of a representatives', group representatives', 三会 or joint meeting."""
    meeting = selectors.meeting_get_managed(viewer=request.user, pk=pk)
    if meeting.attendance_mode in REGISTER_UNITS:
        raise Http404
    form = MemberForm(request.POST or None)
    if request.method == "POST":
        if "remove" in request.POST:
            invitation = selectors.invitation_get(meeting=meeting, pk=request.POST.get("remove"))
            try:
                services.member_remove(actor=request.user, invitation=invitation)
            except ValidationError as error:
                messages.error(request, _error_text(error))
            return redirect("meetings:members", pk=meeting.pk)
        if form.is_valid():
            resident = None
            number = form.cleaned_data["resident"]
            if number:
                from linli.people.models import Resident
                from linli.people.perms import VIEW_REGISTER

                resident = (
                    Resident.objects.for_viewer(request.user, VIEW_REGISTER)
                    .filter(pk=number)
                    .first()
                )
                if resident is None:
                    form.add_error("resident", services.RESIDENT_ELSEWHERE)
            if form.is_valid():
                try:
                    services.member_add(
                        actor=request.user,
                        meeting=meeting,
                        label=form.cleaned_data["label"],
                        party=form.cleaned_data["party"],
                        resident=resident,
                    )
                except ValidationError as error:
                    _add_errors(form, error)
                else:
                    messages.success(request, _("Added to the list."))
                    return redirect("meetings:members", pk=meeting.pk)
    invitations = meeting.invitations.order_by("position", "id")
    counts = {
        (Party(party).label if party in Party.values else "—"): n
        for party, n in meeting.invitations.values_list("party")
        .annotate(n=Count("id"))
        .order_by("party")
    }
    return render(
        request,
        "meetings/members.html",
        {"meeting": meeting, "form": form, "invitations": invitations, "counts": counts},
    )


@login_required
@require_POST
def agenda_add(request, pk):
    meeting = selectors.meeting_get_managed(viewer=request.user, pk=pk)
    form = AgendaForm(request.POST, topics=_topics_for(meeting))
    if form.is_valid():
        try:
            services.agenda_add(actor=request.user, meeting=meeting, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(request, _("Agenda item added."))
    else:
        messages.error(request, _("Give the agenda item a title or choose a topic."))
    return redirect(_back(request, reverse("meetings:detail", args=[meeting.pk])))


def _topics_for(meeting: Meeting):
    """Residents' topics of the meeting's committee that may go on an agenda."""
    from linli.deliberation.choices import ANSWERABLE_STATES
    from linli.deliberation.models import Topic

    committee = meeting.path[:40]
    return Topic.objects.filter(path__startswith=committee, state__in=ANSWERABLE_STATES).order_by(
        "-support_count", "-id"
    )


@login_required
@require_http_methods(["GET", "POST"])
def agenda_from_topic(request, topic_id):
    """From a topic's page: put the residents' topic on one of its committee's draft or announced
    meetings (agenda_add, which marks the topic scheduled for that meeting)."""
    from linli.deliberation.selectors import topic_get

    topic = topic_get(viewer=request.user, pk=topic_id)
    if not selectors.may_put_on_agenda(viewer=request.user, topic=topic):
        raise Http404
    meetings = selectors.meetings_for_topic(viewer=request.user, topic=topic)
    form = TopicAgendaForm(request.POST or None, meetings=meetings)
    if request.method == "POST" and form.is_valid():
        meeting = form.cleaned_data["meeting"]
        try:
            services.agenda_add(actor=request.user, meeting=meeting, topic=topic)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                _("“%(topic)s” is on the agenda of %(meeting)s.")
                % {"topic": topic.title, "meeting": meeting.title},
            )
            return redirect("meetings:detail", pk=meeting.pk)
    return render(
        request,
        "meetings/agenda_from_topic.html",
        {
            "topic": topic,
            "form": form,
            "has_meetings": bool(form.fields["meeting"].choices),
            "held": selectors.meetings_holding_topic(viewer=request.user, topic=topic),
        },
    )


@login_required
@require_POST
def motion_add(request, pk):
    from linli.meetings.models import AgendaItem

    item = (
        AgendaItem.objects.select_related("meeting")
        .filter(pk=selectors._pk(pk), meeting__in=selectors.meetings_visible(request.user))
        .first()
    )
    if item is None or not selectors.can_manage(request.user, item.meeting):
        raise Http404
    form = MotionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.motion_add(
                actor=request.user,
                agenda_item=item,
                text=data["text"],
                kind=data["kind"],
                matter=data["matter"],
                candidates=data["candidates"],
                seats=data["seats"],
            )
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(request, _("Motion added."))
    else:
        messages.error(request, _("Give the text of the motion."))
    return redirect(_back(request, reverse("meetings:console", args=[item.meeting_id])))


@login_required
@require_http_methods(["GET", "POST"])
def announce(request, pk):
    meeting = selectors.meeting_get_managed(viewer=request.user, pk=pk)
    form = AnnounceForm(request.POST if request.method == "POST" else None)
    short = False
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_announce(
                actor=request.user,
                meeting=meeting,
                short_notice_ok=form.cleaned_data["short_notice_ok"],
            )
        except ValidationError as error:
            short = getattr(error, "code", "") == "short_notice"
            _add_errors(form, error)
        else:
            messages.success(
                request, _("Announced: the notice is on the board and invitations are sent.")
            )
            return redirect("meetings:detail", pk=meeting.pk)
    context = {
        "meeting": meeting,
        "form": form,
        "short": short,
        "notice_days": services.notice_days(meeting.kind),
        "agenda": list(meeting.agenda.order_by("position")),
        "preview": services.meeting_notice_body(meeting),
    }
    return render(request, "meetings/announce.html", context)


def _transition(request, pk, service, done: str, *, reason: bool = False):
    meeting = selectors.meeting_get_managed(viewer=request.user, pk=pk)
    kwargs = {}
    if reason:
        form = CancelForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Say why it is cancelled."))
            return redirect("meetings:detail", pk=meeting.pk)
        kwargs["reason"] = form.cleaned_data["reason"]
    try:
        service(actor=request.user, meeting=meeting, **kwargs)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, done)
    return redirect(_back(request, reverse("meetings:console", args=[meeting.pk])))


@login_required
@require_POST
def start(request, pk):
    return _transition(
        request, pk, services.meeting_start, _("The meeting is open: check-in has started.")
    )


@login_required
@require_POST
def close(request, pk):
    return _transition(request, pk, services.meeting_close, _("The meeting is closed."))


@login_required
@require_POST
def cancel(request, pk):
    return _transition(
        request, pk, services.meeting_cancel, _("The meeting is cancelled."), reason=True
    )


# --- the meeting page (everyone who may see it) -----------------------------------------------


@login_required
def detail(request, pk):
    meeting = selectors.meeting_get(viewer=request.user, pk=pk)
    manager = selectors.can_manage(request.user, meeting)
    invitation = services.invitation_of(request.user, meeting)
    attended = invitation is not None and invitation.attendances.exists()
    motions = selectors.motions_of(meeting)
    context = {
        "meeting": meeting,
        "manager": manager,
        "staff": manager or selectors.is_staff(request.user, meeting),
        "invitation": invitation,
        "attended": attended,
        "agenda": list(meeting.agenda.select_related("topic").order_by("position")),
        "motions": motions,
        "open_rows": _open_rows(request.user, motions),
        "resolutions": selectors.resolutions_of(meeting),
        "minutes": Minutes.objects.filter(meeting=meeting, notice__isnull=False).first(),
        "quorum": selectors.meeting_quorum(meeting=meeting)
        if meeting.state in (MeetingState.IN_PROGRESS, MeetingState.CLOSED)
        else None,
        "agenda_form": AgendaForm(topics=_topics_for(meeting)) if manager else None,
        "cancel_form": CancelForm() if manager else None,
        "invited_count": meeting.invitations.count() if manager else None,
        "qr": _qr_data_uri(_checkin_url(request, invitation))
        if invitation is not None
        and not attended
        and not meeting.written
        and meeting.state in (MeetingState.ANNOUNCED, MeetingState.IN_PROGRESS)
        else None,
    }
    return render(request, "meetings/detail.html", context)


def _open_rows(user, motions) -> list[dict]:
    """The open motions the user may vote on, and whether they already did."""
    from linli.votes.models import Participation
    from linli.votes.services import entitlements_of

    rows = []
    for motion in motions:
        if motion.state != MotionState.OPEN or motion.vote is None:
            continue
        entitlements = entitlements_of(vote=motion.vote, user=user)
        if not entitlements:
            continue
        used = (
            Participation.objects.filter(vote=motion.vote, entitlement__in=entitlements)
            .exclude(state="rejected")
            .count()
        )
        rows.append(
            {
                "motion": motion,
                "voted": used >= len(entitlements),
                "simple": motion.kind == MotionKind.DECISION,
                "vote_url": f"/votes/{motion.vote_id}/",
            }
        )
    return rows


@login_required
@require_POST
def register(request, pk):
    meeting = selectors.meeting_get(viewer=request.user, pk=pk)
    try:
        services.meeting_register(actor=request.user, meeting=meeting)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("You are registered. Show your QR code at the door."))
    return redirect(_back(request, reverse("meetings:detail", args=[meeting.pk])))


@login_required
@require_POST
def motion_cast(request, pk):
    """Two taps: the meeting page shows the open motion, the resident taps yes, no or abstain."""
    motion = selectors.motion_get(viewer=request.user, pk=pk)
    choice = request.POST.get("choice", "")
    if choice not in services.ANSWERS or motion.kind != MotionKind.DECISION:
        messages.error(request, services.BAD_CHOICE)
    else:
        try:
            services.motion_cast(actor=request.user, motion=motion, choice=choice)
        except PermissionDenied:
            messages.error(request, _("You are not on the list of voters for this motion."))
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(request, _("Your vote is counted."))
    return redirect(_back(request, reverse("meetings:detail", args=[motion.meeting_id])))


# --- check-in ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def checkin_token(request, token):
    """The URL in the QR code. The worker's phone scanning it checks the person in (method qr);
    the invited resident opening it while the meeting runs checks themself in."""
    invitation = selectors.invitation_by_token(token=token)
    meeting = invitation.meeting
    manager = selectors.can_manage(request.user, meeting)
    own = meeting.invitations.filter(services.invitation_q(request.user), pk=invitation.pk).exists()
    if not manager and not own:
        raise Http404
    if request.method == "POST":
        method = CheckInMethod.QR if manager and not own else CheckInMethod.SELF
        try:
            services.meeting_check_in(
                actor=request.user, meeting=meeting, invitation=invitation, method=method
            )
        except services.AlreadyCheckedIn as already:
            messages.info(request, already.message)
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(request, _("Checked in: %(name)s.") % {"name": invitation.label})
        if manager and not own:
            return redirect("meetings:console", pk=meeting.pk)
        return redirect("meetings:detail", pk=meeting.pk)
    attendance = invitation.attendances.first()
    return render(
        request,
        "meetings/checkin.html",
        {
            "invitation": invitation,
            "meeting": meeting,
            "manager": manager,
            "attendance": attendance,
        },
    )


@login_required
@require_POST
def checkin(request, pk):
    """The console's check-in: a scanned code in the input, or the ticked rows of the list."""
    meeting = selectors.meeting_get_managed(viewer=request.user, pk=pk)
    code = (request.POST.get("code") or "").strip()
    ids = []
    for raw in request.POST.getlist("ids"):
        try:
            ids.append(selectors._pk(raw))
        except Http404:
            continue
    if code:
        try:
            attendance = services.meeting_check_in(
                actor=request.user,
                meeting=meeting,
                token=services.token_from_code(code),
                method=CheckInMethod.QR,
            )
        except services.AlreadyCheckedIn as error:
            messages.info(request, error.message)
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(
                request, _("Checked in: %(names)s.") % {"names": attendance.invitation.label}
            )
    found = {i.pk: i for i in meeting.invitations.filter(pk__in=ids[:200])} if ids else {}
    ticked = [found[pk_] for pk_ in dict.fromkeys(ids[:200]) if pk_ in found]
    if ticked:
        # Ticked rows someone checked in meanwhile (on their phone, another tablet) are skipped.
        try:
            new, skipped = services.meeting_check_in_list(
                actor=request.user, meeting=meeting, invitations=ticked
            )
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            _report_ticked(request, new, skipped)
    if not code and not ticked:
        messages.error(request, _("Scan a code or tick someone on the list."))
    return redirect(_back(request, reverse("meetings:console", args=[meeting.pk])))


def _report_ticked(request, new, skipped) -> None:
    skipped_text = (
        ngettext(
            "%(n)d ticked was already checked in: skipped.",
            "%(n)d ticked were already checked in: skipped.",
            len(skipped),
        )
        % {"n": len(skipped)}
        if skipped
        else ""
    )
    if new:
        text = ngettext(
            "%(n)d checked in: %(names)s.", "%(n)d checked in: %(names)s.", len(new)
        ) % {"n": len(new), "names": "、".join(a.invitation.label for a in new)}
        messages.success(request, f"{text} {skipped_text}".strip())
    elif skipped:
        messages.info(request, skipped_text)


# --- the console ------------------------------------------------------------------------------


@login_required
def console(request, pk):
    """The worker's tablet page: attendance with tick boxes and the QR input, the live quorum,
    the agenda and its motions with their live tallies."""
    meeting = selectors.meeting_get_managed(viewer=request.user, pk=pk)
    q = selectors.clean_query(request.GET.get("q"))
    status = request.GET.get("status", "")
    page = selectors.attendance_page(
        meeting=meeting, q=q, status=status, page=request.GET.get("page")
    )
    if request.htmx and request.htmx.target == "attendance":
        return render(
            request,
            "meetings/console.html#attendance",
            {
                "meeting": meeting,
                "page": page,
                "q": q,
                "status": status,
                "here": request.get_full_path(),
                "owners": meeting.attendance_mode == AttendanceMode.OWNERS,
            },
        )
    motions = selectors.motions_of(meeting)
    for motion in motions:
        motion.tally = selectors.motion_tally(motion=motion)
    context = {
        "meeting": meeting,
        "page": page,
        "q": q,
        "status": status,
        "quorum": selectors.meeting_quorum(meeting=meeting),
        "agenda": list(meeting.agenda.order_by("position")),
        "motions": motions,
        "motion_form": MotionForm(),
        "agenda_form": AgendaForm(topics=_topics_for(meeting)),
        "resolutions": selectors.resolutions_of(meeting),
        "owners": meeting.attendance_mode == AttendanceMode.OWNERS,
        "here": request.get_full_path(),
    }
    return render(request, "meetings/console.html", context)


@login_required
def quorum(request, pk):
    """htmx (polled every 5 s): the live quorum panel. From the console, which sends the rows it
    shows as not yet here (`shown`), also those rows now checked in elsewhere, swapped out of
    band so the list is live without losing the boxes the worker is ticking."""
    meeting = selectors.meeting_get(viewer=request.user, pk=pk)
    shown = request.GET.getlist("shown")
    arrived = []
    if shown and selectors.can_manage(request.user, meeting):
        arrived = list(selectors.arrived_rows(meeting=meeting, shown=shown))
    return render(
        request,
        "meetings/_quorum_poll.html",
        {
            "meeting": meeting,
            "quorum": selectors.meeting_quorum(meeting=meeting),
            "arrived": arrived,
            "owners": meeting.attendance_mode == AttendanceMode.OWNERS,
        },
    )


# --- motions ----------------------------------------------------------------------------------


def _managed_motion(request, pk):
    motion = selectors.motion_get(viewer=request.user, pk=pk)
    if not selectors.can_manage(request.user, motion.meeting):
        raise Http404
    return motion


@login_required
@require_POST
def motion_open(request, pk):
    motion = _managed_motion(request, pk)
    try:
        services.motion_open_vote(actor=request.user, motion=motion)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("Voting is open."))
    return redirect(_back(request, reverse("meetings:console", args=[motion.meeting_id])))


@login_required
@require_POST
def motion_close(request, pk):
    motion = _managed_motion(request, pk)
    try:
        motion = services.motion_close(actor=request.user, motion=motion)
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return redirect(_back(request, reverse("meetings:console", args=[motion.meeting_id])))
    if (motion.result.get("outcome") or {}).get("passed"):
        messages.success(request, _("Voting is closed: the motion passed."))
    else:
        messages.info(request, _("Voting is closed: the motion did not pass."))
    return redirect("meetings:motion", pk=motion.pk)


@login_required
@require_http_methods(["GET", "POST"])
def motion_hands(request, pk):
    """Record answers: hands at the meeting, or for a written consultation paper ballots and
    proxies collected door to door (a second worker confirms those in the votes app)."""
    motion = _managed_motion(request, pk)
    meeting = motion.meeting
    if motion.kind != MotionKind.DECISION:
        raise Http404
    written = services.everyone_votes(meeting)
    if request.method == "POST" and motion.state != MotionState.OPEN:
        messages.error(request, services.MOTION_NOT_OPEN)
        return redirect("meetings:motion", pk=motion.pk)
    if request.method == "POST":
        channel = request.POST.get("channel", "meeting")
        if channel not in ("meeting", "paper", "proxy"):
            channel = "meeting"
        choices = {}
        for name, value in request.POST.items():
            if name.startswith("answer-") and value in services.ANSWERS:
                try:
                    choices[selectors._pk(name.removeprefix("answer-"))] = value
                except Http404:
                    continue
        if not choices:
            messages.error(request, _("Choose an answer for at least one person."))
        else:
            try:
                n = _record(request, motion, choices, channel)
            except ValidationError as error:
                messages.error(request, _error_text(error))
            else:
                messages.success(request, _("%(n)d answers recorded.") % {"n": n})
        return redirect(_back(request, reverse("meetings:motion_hands", args=[motion.pk])))
    rows = selectors.attendance_rows(meeting)
    if not written:
        rows = rows.filter(attendances__isnull=False)
    voted = set()
    if motion.vote is not None:
        voted = set(
            motion.vote.participations.exclude(state="rejected").values_list(
                "entitlement__key", flat=True
            )
        )
    q = selectors.clean_query(request.GET.get("q"))
    if q:
        rows = rows.filter(Q(label__icontains=q) | Q(address__icontains=q))
    page = Paginator(rows, selectors.ATTENDANCE_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "motion": motion,
        "meeting": meeting,
        "page": page,
        "voted": voted,
        "written": written,
        "q": q,
        "tally": selectors.motion_tally(motion=motion),
    }
    return render(request, "meetings/hands.html", context)


def _record(request, motion, choices, channel) -> int:
    """Record the answers; refusals (voted already, not on the list …) are shown one by one."""
    if channel == "meeting":
        n = services.motion_record_hands(actor=request.user, motion=motion, choices=choices)
        for text in getattr(motion, "_refused", []):
            messages.warning(request, text)
        return n
    from linli.votes.services import ballot_record

    provenance = (request.POST.get("provenance") or "").strip()
    proxy_name = (request.POST.get("proxy_name") or "").strip()
    rows = motion.meeting.invitations.filter(pk__in=list(choices)).values_list("pk", "key", "label")
    n = 0
    for invitation_id, key, label in rows:
        try:
            ballot_record(
                actor=request.user,
                vote=motion.vote,
                voter_key=key,
                choice=choices[invitation_id],
                channel=channel,
                proxy_name=proxy_name,
                provenance=provenance,
            )
        except ValidationError as error:
            messages.warning(request, f"{label}: {_error_text(error)}")
        else:
            n += 1
    return n


@login_required
def motion_tally(request, pk):
    """htmx (polled while voting is open): the live tally of a motion."""
    motion = selectors.motion_get(viewer=request.user, pk=pk)
    if not selectors.is_staff(request.user, motion.meeting):
        raise Http404
    return render(
        request,
        "meetings/_tally.html",
        {"motion": motion, "tally": selectors.motion_tally(motion=motion)},
    )


@login_required
def motion_detail(request, pk):
    """The result of a motion with the arithmetic: who was entitled, who took part, the
    fractions, and which rule and article decided it."""
    motion = selectors.motion_get(viewer=request.user, pk=pk)
    tally = selectors.motion_tally(motion=motion)
    staff = selectors.is_staff(request.user, motion.meeting)
    if tally is not None and motion.state == MotionState.OPEN and not staff:
        tally = None  # residents see the result once voting has closed
    steps, verified = [], ""
    if tally and not tally.get("hidden") and motion.vote is not None:
        from linli.votes.selectors import VERIFIED_LABELS, step_rows

        outcome = tally.get("outcome")
        steps = step_rows(motion.vote, outcome)
        if outcome:
            verified = VERIFIED_LABELS.get(outcome.get("verified"), "")
    return render(
        request,
        "meetings/motion.html",
        {
            "motion": motion,
            "meeting": motion.meeting,
            "tally": tally,
            "staff": staff,
            "steps": steps,
            "verified_label": verified,
            "everyone": services.everyone_votes(motion.meeting),
            "resolution": getattr(motion, "resolution", None),
            "can_publish": selectors.can_manage(request.user, motion.meeting),
            "here": request.get_full_path(),
        },
    )


@login_required
@require_POST
def resolution_publish(request, pk):
    resolution = selectors.resolution_get(viewer=request.user, pk=pk)
    if not selectors.can_manage(request.user, resolution.meeting):
        raise Http404
    try:
        resolution = services.resolution_publish(actor=request.user, resolution=resolution)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("The resolution is on the notice board."))
    return redirect(_back(request, reverse("meetings:detail", args=[resolution.meeting_id])))


# --- minutes ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def minutes(request, pk):
    meeting = selectors.meeting_get_managed(viewer=request.user, pk=pk)
    record = (
        Minutes.objects.filter(meeting=meeting).select_related("recorder", "approved_by").first()
    )
    form = MinutesForm(request.POST or None, initial={"text": record.text if record else ""})
    if request.method == "POST":
        op = request.POST.get("op", "save")
        try:
            if op == "approve" and record is not None:
                services.minutes_approve(actor=request.user, minutes=record)
                messages.success(request, _("The minutes are approved."))
            elif op == "publish" and record is not None:
                services.minutes_publish(actor=request.user, minutes=record)
                messages.success(request, _("The minutes are on the notice board."))
            elif op == "save" and form.is_valid():
                services.minutes_save(
                    actor=request.user, meeting=meeting, text=form.cleaned_data["text"]
                )
                messages.success(request, _("The minutes are saved."))
            else:
                raise ValidationError(services.MINUTES_REQUIRED)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            return redirect("meetings:minutes", pk=meeting.pk)
    return render(
        request,
        "meetings/minutes.html",
        {
            "meeting": meeting,
            "record": record,
            "form": form,
            "can_approve": record is not None
            and record.approved_at is None
            and record.recorder_id != request.user.pk,
            "resolutions": selectors.resolutions_of(meeting),
        },
    )


# --- petitions --------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def petitions(request):
    visible = selectors.petitions_visible(request.user)
    places = _managed_places(request.user, (PlaceKind.COMMITTEE, PlaceKind.COMPOUND))
    if not visible.exists() and not places.exists():
        raise Http404
    form = PetitionForm(request.POST or None, places=places) if places.exists() else None
    if request.method == "POST":
        if form is None:
            raise Http404
        if form.is_valid():
            data = form.cleaned_data
            try:
                petition = services.petition_create(
                    actor=request.user,
                    place=data["place"],
                    kind=data["kind"],
                    subject=data["subject"],
                    mode=data["mode"] or None,
                    groups_total=data["groups_total"],
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                return redirect("meetings:petition", pk=petition.pk)
    rows = visible.select_related("place", "meeting").annotate(n=Count("signatures"))
    page = Paginator(rows.order_by("-created_at", "-id"), MEETINGS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "meetings/petitions.html", {"page": page, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def petition(request, pk):
    petition = selectors.petition_get(viewer=request.user, pk=pk)
    manager = selectors.can_manage(request.user, petition)
    if request.method == "POST":
        if not manager:
            raise Http404
        if "remove" in request.POST:
            signature = petition.signatures.filter(
                pk=selectors._pk(request.POST.get("remove"))
            ).first()
            if signature is None:
                raise Http404
            services.petition_unsign(actor=request.user, signature=signature)
            messages.success(request, _("Signature removed."))
        else:
            form = SignForm(request.POST)
            form.is_valid()
            try:
                signature = services.petition_sign(
                    actor=request.user,
                    petition=petition,
                    key=form.cleaned_data.get("key", ""),
                    group=form.cleaned_data.get("group", ""),
                )
            except ValidationError as error:
                messages.error(request, _error_text(error))
            else:
                messages.success(
                    request, _("Signature recorded: %(name)s.") % {"name": signature.label}
                )
        return redirect(_back(request, reverse("meetings:petition", args=[petition.pk])))
    q = selectors.clean_query(request.GET.get("q"))
    matches = []
    if manager and q and petition.mode != AttendanceMode.GROUP_REPS:
        signed = set(petition.signatures.values_list("key", flat=True))
        for voter in services.petition_electorate(petition):
            if q in voter.label or q in (voter.address or ""):
                key = f"head:{voter.head}" if voter.head else voter.key
                matches.append({"voter": voter, "signed": key in signed or voter.key in signed})
                if len(matches) >= MATCHES:
                    break
    signatures = Paginator(
        petition.signatures.select_related("recorded_by").order_by("-id"), SIGNATURES_PER_PAGE
    ).get_page(request.GET.get("page"))
    status = selectors.petition_status(petition=petition)
    return render(
        request,
        "meetings/petition.html",
        {
            "petition": petition,
            "status": status,
            "manager": manager,
            "q": q,
            "matches": matches,
            "signatures": signatures,
            "owners": petition.kind == PetitionKind.OWNERS_EXTRAORDINARY,
            "groups": petition.mode == AttendanceMode.GROUP_REPS,
        },
    )


# --- 四议两公开 -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def procedures(request):
    visible = selectors.procedures_visible(request.user)
    places = _managed_places(request.user, (PlaceKind.COMMITTEE,))
    if not visible.exists() and not places.exists():
        raise Http404
    templates = ProcedureTemplate.objects.filter(committee__in=places).order_by("name")
    form = (
        ProcedureForm(request.POST or None, places=places, templates=templates)
        if places.exists()
        else None
    )
    if request.method == "POST":
        if form is None:
            raise Http404
        if form.is_valid():
            data = form.cleaned_data
            try:
                procedure = services.procedure_create(
                    actor=request.user,
                    place=data["place"],
                    title=data["title"],
                    description=data["description"],
                    template=data["template"],
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                return redirect("meetings:procedure", pk=procedure.pk)
    page = Paginator(
        visible.select_related("place").order_by("-created_at", "-id"), MEETINGS_PER_PAGE
    ).get_page(request.GET.get("page"))
    return render(request, "meetings/procedures.html", {"page": page, "form": form})


def _step_meetings(procedure, key: str):
    if key == StepKey.RESOLUTION:
        return selectors.meetings_with_resolutions(procedure)
    return (
        Meeting.objects.filter(path__startswith=procedure.path)
        .exclude(state__in=(MeetingState.DRAFT, MeetingState.CANCELLED))
        .order_by("-starts_at")
    )


@login_required
@require_http_methods(["GET", "POST"])
def procedure(request, pk):
    procedure = selectors.procedure_get(viewer=request.user, pk=pk)
    manager = selectors.can_manage(request.user, procedure)
    rows = selectors.procedure_steps(procedure)
    current = next((r for r in rows if r.status == "next"), None)
    form = None
    if manager and current is not None:
        form = StepForm(
            request.POST or None,
            meetings=_step_meetings(procedure, current.step.key),
            initial={"position": current.step.position},
        )
    if request.method == "POST":
        if form is None:
            raise Http404
        if form.is_valid():
            try:
                services.procedure_step_complete(
                    actor=request.user,
                    procedure=procedure,
                    position=form.cleaned_data["position"],
                    record=form.cleaned_data["record"],
                    meeting=form.cleaned_data["meeting"],
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, _("Step recorded."))
                return redirect("meetings:procedure", pk=procedure.pk)
    return render(
        request,
        "meetings/procedure.html",
        {
            "procedure": procedure,
            "rows": rows,
            "current": current,
            "form": form,
            "manager": manager,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def procedure_templates(request):
    places = _managed_places(request.user, (PlaceKind.COMMITTEE,))
    if not places.exists():
        raise Http404
    form = TemplateForm(request.POST or None, places=places)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.procedure_template_save(
                actor=request.user, committee=data["place"], name=data["name"], steps=data["steps"]
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Template saved."))
            return redirect("meetings:procedure_templates")
    labels = dict(StepKey.choices)
    templates = [
        (template, [s.get("label") or labels.get(s.get("key"), "") for s in template.steps])
        for template in ProcedureTemplate.objects.filter(committee__in=places)
        .select_related("committee")
        .order_by("committee__path", "name")
    ]
    return render(
        request,
        "meetings/procedure_templates.html",
        {"form": form, "templates": templates},
    )
