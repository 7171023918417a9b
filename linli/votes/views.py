"""Vote pages: the resident's phone view and ballot, results with the arithmetic shown, and the
staff pages (list, set up, open and close, paper and proxy ballots, confirmation, export).

Every page looks its vote up through selectors.vote_get first, so a vote outside the viewer's
reach answers 404 on every URL, exactly like a missing one; staff-only pages answer 404 to
those who may see the vote but not manage it or record ballots.
"""

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from linli.accounts.scoping import scope_prefixes, user_can
from linli.core.scoping import under_q
from linli.people.pii import mask_name_public
from linli.places.models import Place
from linli.votes import perms, selectors, services
from linli.votes.choices import (
    Channel,
    MotionAnswer,
    ParticipationState,
    VoteKind,
    VoteState,
)
from linli.votes.forms import BallotForm, CancelForm, RecordForm, RejectForm, VoteForm
from linli.votes.models import Participation, Vote

VOTES_PER_PAGE = 20
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _add_service_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _staff_only(check, viewer, vote: Vote) -> None:
    if not check(viewer, vote):
        raise Http404


# --- residents: my votes, the ballot ------------------------------------------------------------


@login_required
def mine(request):
    """Open votes I may cast (and those I already did), then recently closed ones."""
    rows = selectors.votes_for(viewer=request.user)
    context = {
        "open_rows": [r for r in rows if r.vote.state == VoteState.OPEN],
        "closed_rows": [r for r in rows if r.vote.state == VoteState.CLOSED],
        "staff": user_can(request.user, perms.VIEW_VOTES),
    }
    return render(request, "votes/mine.html", context)


def _describe_choice(vote: Vote, choice, options) -> str:
    if choice is None:
        return ""
    if vote.kind in (VoteKind.MOTION, VoteKind.OWNERS):
        return str(MotionAnswer(choice).label) if choice in MotionAnswer.values else ""
    labels = {str(o.pk): o.label for o in options}
    if isinstance(choice, dict):
        return "、".join(f"{labels.get(k, k)} {v}" for k, v in choice.items())
    if isinstance(choice, list):
        return "、".join(labels.get(str(k), str(k)) for k in choice) or _("blank ballot")
    return labels.get(str(choice), str(choice))


def _vote_context(request, vote: Vote, form=None) -> dict:
    user = request.user
    options = list(vote.options.all())
    mine = selectors.my_participation(vote=vote, user=user)
    if form is None and mine.can_vote:
        form = BallotForm(vote=vote, options=options)
    choice = selectors.my_choice(vote=vote, participation=mine.participation)
    staff = selectors.is_staff(user, vote)
    return {
        "vote": vote,
        "options": options,
        "mine": mine,
        "form": form if mine.can_vote else None,
        "my_choice": _describe_choice(vote, choice, options),
        "staff": staff,
        "can_manage": selectors.can_manage(user, vote),
        "can_record": selectors.can_record(user, vote),
        "result": selectors.vote_result(vote=vote) if staff else None,
        "cancel_form": CancelForm(),
        "time_up": vote.closes_at is not None and timezone.now() >= vote.closes_at,
    }


@login_required
@require_http_methods(["GET", "POST"])
def vote_detail(request, pk: int):
    """The vote page; POST casts the signed-in voter's ballot (tap an option, tap confirm)."""
    vote = selectors.vote_get(viewer=request.user, pk=pk)
    status = 200
    form = None
    if request.method == "POST":
        mine = selectors.my_participation(vote=vote, user=request.user)
        if not mine.can_vote:
            messages.error(request, _("You cannot vote on this question (any more)."))
            return redirect("votes:vote", pk=vote.pk)
        form = BallotForm(request.POST, vote=vote, options=list(vote.options.all()))
        if form.is_valid():
            try:
                services.ballot_cast(actor=request.user, vote=vote, choice=form.choice())
            except services.AlreadyVoted as error:
                _add_service_errors(form, error)
                status = 409
            except PermissionDenied:
                raise
            except ValidationError as error:
                _add_service_errors(form, error)
                status = 422
            else:
                if not request.htmx:
                    messages.success(request, _("Thank you: your vote is counted."))
                    return redirect("votes:vote", pk=vote.pk)
                form = None
        else:
            status = 422
    context = _vote_context(request, vote, form)
    if request.htmx:
        return render(request, "votes/vote.html#ballot", context, status=status)
    return render(request, "votes/vote.html", context, status=status)


# --- results ------------------------------------------------------------------------------------


def result_context(vote: Vote) -> dict:
    result = selectors.vote_result(vote=vote)
    outcome = result.get("outcome")
    counts = result.get("counts", [])
    top = max([int(r["count"]) for r in counts] or [0])
    for row in counts:
        share = int(row["count"]) * 100 // top if top else 0
        row["width"] = f"w{share // 5 * 5}"
    took = result["took_part"]
    return {
        "vote": vote,
        "result": result,
        "outcome": outcome,
        "steps": selectors.step_rows(vote, outcome),
        "verified_label": selectors.VERIFIED_LABELS.get(outcome["verified"], "") if outcome else "",
        "unverified": bool(outcome) and outcome["verified"] in ("UNVERIFIED", "SECONDARY"),
        "turnout": f"{took * 100 / result['entitled']:.1f}" if result["entitled"] else "",
        "channels": selectors.channel_counts(vote=vote) if not result["hidden"] else {},
        "channel_labels": dict(Channel.choices),
    }


@login_required
def vote_result_page(request, pk: int):
    vote = selectors.vote_get(viewer=request.user, pk=pk)
    context = result_context(vote)
    context["staff"] = selectors.is_staff(request.user, vote)
    return render(request, "votes/result.html", context)


# --- staff: list, set up, open, close -----------------------------------------------------------


@login_required
def staff_list(request):
    if not user_can(request.user, perms.VIEW_VOTES):
        raise Http404
    state = request.GET.get("state", "")
    votes = selectors.staff_votes(viewer=request.user, state=state)
    page = Paginator(votes, VOTES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "state": state if state in VoteState.values else "",
        "states": VoteState.choices,
        "can_create": user_can(request.user, perms.MANAGE_VOTES),
    }
    return render(request, "votes/staff_list.html", context)


def _manageable_places(user):
    prefixes = scope_prefixes(user, perms.MANAGE_VOTES)
    if not prefixes:
        raise Http404
    condition = Q(pk__in=[])
    for prefix in prefixes:
        condition |= under_q(prefix)
    return Place.objects.filter(condition, kind__in=services.VOTE_PLACE_KINDS).order_by("path")


@login_required
@require_http_methods(["GET", "POST"])
def vote_create(request):
    places = _manageable_places(request.user)
    form = VoteForm(request.POST or None, places=places, kind=request.GET.get("kind", ""))
    if request.method == "POST" and form.is_valid():
        data = form.service_fields()
        try:
            vote = services.vote_create(actor=request.user, **data)
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("The vote is set up as a draft. Open it when ready."))
            return redirect("votes:vote", pk=vote.pk)
    context = {"form": form, "vote": None, "kinds": VoteKind.choices}
    return render(request, "votes/form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def vote_edit(request, pk: int):
    vote = selectors.vote_get(viewer=request.user, pk=pk)
    _staff_only(selectors.can_manage, request.user, vote)
    if vote.state != VoteState.DRAFT:
        messages.error(request, _("Only a draft can be changed."))
        return redirect("votes:vote", pk=vote.pk)
    form = VoteForm(request.POST or None, vote=vote)
    if request.method == "POST" and form.is_valid():
        try:
            services.vote_update(actor=request.user, vote=vote, **form.service_fields())
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("votes:vote", pk=vote.pk)
    return render(request, "votes/form.html", {"form": form, "vote": vote})


def _act(request, pk: int, action, done: str, **params):
    vote = selectors.vote_get(viewer=request.user, pk=pk)
    _staff_only(selectors.can_manage, request.user, vote)
    try:
        action(actor=request.user, vote=vote, **params)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, done)
    return redirect("votes:vote", pk=vote.pk)


@login_required
@require_POST
def vote_open(request, pk: int):
    return _act(request, pk, services.vote_open, _("Voting is open; the list of voters is frozen."))


@login_required
@require_POST
def vote_close(request, pk: int):
    return _act(request, pk, services.vote_close, _("Voting is closed."))


@login_required
@require_POST
def vote_cancel(request, pk: int):
    form = CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _act(request, pk, services.vote_cancel, _("The vote is called off."), reason=reason)


# --- staff: paper and proxy ballots ---------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def record(request, pk: int):
    """Find a voter of the frozen list (masked name, address) and record their ballot."""
    vote = selectors.vote_get(viewer=request.user, pk=pk)
    _staff_only(selectors.can_record, request.user, vote)
    options = list(vote.options.all())
    data = request.POST if request.method == "POST" else None
    voter_key = (request.POST.get("voter_key") or request.GET.get("voter") or "")[:24]
    chosen = selectors.entitlement_by_key(vote=vote, key=voter_key) if voter_key else None
    form = RecordForm(data, initial={"voter_key": voter_key})
    ballot = BallotForm(data, vote=vote, options=options, prefix="b")
    status = 200
    if request.method == "POST":
        if form.is_valid() and ballot.is_valid():
            fields = form.cleaned_data
            try:
                participation = services.ballot_record(
                    actor=request.user,
                    vote=vote,
                    voter_key=fields["voter_key"],
                    choice=ballot.choice(),
                    channel=fields["channel"],
                    proxy_name=fields["proxy_name"],
                    provenance=fields["provenance"],
                )
            except ValidationError as error:
                _add_service_errors(form, error)
                status = 409 if isinstance(error, services.AlreadyVoted) else 422
            else:
                if participation.state == ParticipationState.PENDING:
                    messages.success(
                        request, _("Recorded. A second worker must confirm it before it counts.")
                    )
                else:
                    messages.success(request, _("Recorded and counted."))
                return redirect("votes:record", pk=vote.pk)
        else:
            status = 422
    q = " ".join((request.GET.get("q") or "").split())[:60]
    context = {
        "vote": vote,
        "q": q,
        "found": selectors.entitlement_search(vote=vote, q=q) if q else [],
        "chosen": chosen,
        "form": form,
        "ballot": ballot,
        "pending": selectors.pending_queue(vote=vote).count(),
    }
    return render(request, "votes/record.html", context, status=status)


@login_required
def pending(request, pk: int):
    """Paper and proxy ballots awaiting a second worker, with what each sheet says."""
    vote = selectors.vote_get(viewer=request.user, pk=pk)
    _staff_only(selectors.can_record, request.user, vote)
    rows = list(selectors.pending_queue(vote=vote)[:200])
    choices = selectors.pending_choices(vote=vote, participations=rows)
    options = list(vote.options.all())
    items = [
        {
            "participation": p,
            "choice": _describe_choice(vote, choices.get(p.pk), options),
            "mine": p.recorded_by_id == request.user.pk,
        }
        for p in rows
    ]
    context = {"vote": vote, "items": items, "reject_form": RejectForm()}
    return render(request, "votes/pending.html", context)


def _pending_action(request, pk: int, participation_id: int, run, done: str):
    vote = selectors.vote_get(viewer=request.user, pk=pk)
    participation = selectors.participation_get(viewer=request.user, vote=vote, pk=participation_id)
    try:
        run(participation)
    except PermissionDenied as error:
        messages.error(request, str(error) or _("You may not do this."))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, done)
    return redirect("votes:pending", pk=vote.pk)


@login_required
@require_POST
def confirm(request, pk: int, participation_id: int):
    return _pending_action(
        request,
        pk,
        participation_id,
        lambda p: services.ballot_confirm(actor=request.user, participation=p),
        _("Confirmed: the ballot counts."),
    )


@login_required
@require_POST
def reject(request, pk: int, participation_id: int):
    form = RejectForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _pending_action(
        request,
        pk,
        participation_id,
        lambda p: services.ballot_reject(actor=request.user, participation=p, reason=reason),
        _("Rejected: the voter may vote again."),
    )


# --- export -------------------------------------------------------------------------------------


@login_required
def export(request, pk: int):
    """The result as a spreadsheet: the counts and the rule's arithmetic; for an open ballot
    also who voted how (masked names). A secret vote's export names no one."""
    from openpyxl import Workbook

    vote = selectors.vote_get(viewer=request.user, pk=pk)
    _staff_only(selectors.is_staff, request.user, vote)
    context = result_context(vote)
    result, outcome = context["result"], context["outcome"]
    book = Workbook()
    sheet = book.active
    sheet.title = _("Result")
    sheet.append([_("Question"), vote.title])
    sheet.append([_("Community"), vote.place.name])
    sheet.append([_("State"), vote.get_state_display()])
    sheet.append([_("Entitled voters"), result["entitled"]])
    sheet.append([_("Took part"), result["took_part"]])
    if result["hidden"]:
        sheet.append([_("Results are hidden until the vote closes.")])
    else:
        if outcome:
            sheet.append([_("Rule"), outcome["rule_id"], outcome["basis"], outcome["verified"]])
            sheet.append([_("Passed"), _("yes") if outcome["passed"] else _("no")])
        elif result.get("error"):
            sheet.append([_("The rule cannot decide"), result["error"]])
        sheet.append([])
        sheet.append([_("Answer or option"), _("Votes"), _("Floor area (m²)"), _("Heads")])
        for row in result["counts"]:
            sheet.append([row["label"], row["count"], row.get("area", ""), row.get("heads", "")])
        sheet.append([])
        sheet.append([_("Step"), _("Value"), _("Comparison"), _("Fraction"), _("Of"), _("Met")])
        for step in context["steps"]:
            sheet.append(
                [
                    f"{step['label']} {step['subject_label']}".strip(),
                    step["value"],
                    str(step["op_label"]),
                    step["fraction"],
                    step["base"],
                    _("yes") if step["ok"] else _("no"),
                ]
            )
        if not vote.secret:
            ballots = book.create_sheet(_("Ballots"))
            ballots.append([_("Voter"), _("Channel"), _("At"), _("Choice")])
            rows = (
                Participation.objects.filter(vote=vote, state=ParticipationState.COUNTED)
                .select_related("entitlement", "ballot")
                .order_by("at", "id")
            )
            options = list(vote.options.all())
            for p in rows.iterator(chunk_size=2000):
                choice = getattr(p, "ballot", None)
                ballots.append(
                    [
                        mask_name_public(p.entitlement.label)
                        if not p.entitlement.key.startswith("h:")
                        else p.entitlement.label,
                        p.get_channel_display(),
                        timezone.localtime(p.at).strftime("%Y-%m-%d %H:%M"),
                        _describe_choice(vote, choice.choice if choice else None, options),
                    ]
                )
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="vote-{vote.pk}.xlsx"'
    return response
