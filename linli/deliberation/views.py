"""Topic pages: the community's list, raising one, the topic page with backing and comments,
and the committee's answer, merge, refer, moderation, inbox and settings pages.

Every topic is looked up through selectors.topic_get first, so a topic outside the viewer's
scope answers 404 on every URL (page, photos, actions), exactly like a missing one. Actions the
viewer may see but not take (a resident on a moderation page) answer 403. Backing and comments
also answer htmx requests with the page's fragment.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from linli.deliberation import selectors, services
from linli.deliberation.choices import (
    ANSWERABLE_STATES,
    REFERABLE_STATES,
    UNDER_WAY_STATES,
    AnswerKind,
)
from linli.deliberation.forms import (
    AnswerForm,
    AppealForm,
    CommentForm,
    DecideForm,
    DoneForm,
    FilterForm,
    HideForm,
    MergeForm,
    ReferForm,
    ReportForm,
    RestoreForm,
    SettingsForm,
    TopicForm,
)
from linli.deliberation.models import Comment, TopicPhoto
from linli.places.choices import PlaceKind
from linli.places.models import Place
from linli.workorders.models import Category


def _add_service_errors(form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form's fields (or above it)."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _messages_of(error: ValidationError) -> list[str]:
    return [str(m) for m in error.messages]


def _topic_url(topic) -> str:
    return reverse("deliberation:topic", args=[topic.pk])


def _work_categories():
    return Category.objects.filter(active=True).order_by("kind", "major_code", "minor_code")


def _action_page(request, *, title, form, topic=None, intro="", submit="", quote="", status=200):
    return render(
        request,
        "deliberation/action.html",
        {
            "title": title,
            "form": form,
            "topic": topic,
            "intro": intro,
            "submit": submit or _("Save"),
            "quote": quote,
        },
        status=status,
    )


# --- the list -----------------------------------------------------------------------------------


@dataclass
class Row:
    topic: object
    threshold: int
    progress: int


@login_required
def topic_list(request):
    """The topics of the viewer's community (or communities, for staff), filtered and paged."""
    viewer = request.user
    committees = selectors.committees_visible(viewer)
    if not committees:  # evaluated once; the filter form reuses the rows
        raise Http404
    form = FilterForm(request.GET or None, committees=committees)
    filters = selectors.TopicFilter()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        committee = data.get("committee")
        filters = selectors.TopicFilter(
            state=data["state"],
            category=data["category"],
            committee=committee.pk if committee else None,
            q=data["q"].strip(),
        )
    topics = selectors.topic_list(viewer=viewer, filters=filters)
    page = Paginator(topics, selectors.PER_PAGE).get_page(request.GET.get("page"))
    rules = selectors.thresholds([t.place_id for t in page.object_list])
    rows = []
    for topic in page.object_list:
        threshold = max(1, rules[topic.place_id].support_threshold)
        rows.append(Row(topic, threshold, min(100, topic.support_count * 100 // threshold)))
    query = {
        k: v
        for k, v in (form.cleaned_data if form.is_bound and form.is_valid() else {}).items()
        if v
    }
    if "committee" in query:
        query["committee"] = query["committee"].pk
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "base_query": urlencode(query) + "&" if query else "",
        "can_raise": selectors.committees_for_raising(viewer).exists(),
        "can_keep_inbox": selectors.committees_moderated(viewer).exists(),
    }
    template = "deliberation/list.html#results" if request.htmx else "deliberation/list.html"
    return render(request, template, context)


# --- raising a topic ----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def topic_new(request):
    committees = selectors.committees_for_raising(request.user)
    if not committees.exists():
        raise Http404
    compounds = Place.objects.filter(
        kind=PlaceKind.COMPOUND, parent_id__in=committees.values("pk")
    ).order_by("parent_id", "name")
    form = TopicForm(
        request.POST or None, request.FILES or None, committees=committees, compounds=compounds
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            topic = services.topic_raise(
                actor=request.user,
                committee=data["committee"],
                title=data["title"],
                body=data["body"],
                category=data["category"],
                compound=data["compound"],
                photos=data["photos"],
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Your topic is published. Neighbours can now back it."),
            )
            return redirect(_topic_url(topic))
    context = {"form": form, "photos_lost": form.is_bound and bool(request.FILES)}
    return render(request, "deliberation/new.html", context)


# --- the topic page -----------------------------------------------------------------------------


def _page_context(request, topic, *, comment_form=None, error="") -> dict:
    page = selectors.topic_page(viewer=request.user, topic=topic)
    return {
        "page": page,
        "topic": topic,
        "comment_form": comment_form or CommentForm(),
        "error": error,
        "answerable": topic.state in ANSWERABLE_STATES,
        "referable": topic.state in REFERABLE_STATES and not topic.work_order_id,
        "under_way": topic.state in UNDER_WAY_STATES,
        "done_form": DoneForm(),
    }


@login_required
def topic_detail(request, pk):
    topic = selectors.topic_get(viewer=request.user, pk=pk)
    return render(request, "deliberation/topic.html", _page_context(request, topic))


@login_required
def photo(request, pk, photo_id):
    """A photo of a topic, only for those who may see the topic (never a public media URL)."""
    topic = selectors.topic_get(viewer=request.user, pk=pk)
    item = get_object_or_404(TopicPhoto, pk=selectors.as_id(photo_id), topic=topic)
    response = FileResponse(item.file.open("rb"), content_type=item.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _fragment_or_redirect(request, topic, fragment: str, *, error="", done="", comment_form=None):
    if request.htmx:
        topic = selectors.topic_get(viewer=request.user, pk=topic.pk)
        context = _page_context(request, topic, comment_form=comment_form, error=error)
        return render(request, f"deliberation/topic.html#{fragment}", context)
    if error:
        messages.error(request, error)
    elif done:
        messages.success(request, done)
    return redirect(_topic_url(topic))


@login_required
@require_POST
def back(request, pk):
    """附议: back the topic (htmx: the backing block comes back)."""
    topic = selectors.topic_get(viewer=request.user, pk=pk)
    error = ""
    try:
        services.topic_support(actor=request.user, topic=topic)
    except ValidationError as exc:
        error = " ".join(_messages_of(exc))
    return _fragment_or_redirect(
        request, topic, "support", error=error, done=_("Thank you for backing this topic.")
    )


@login_required
@require_POST
def withdraw(request, pk):
    topic = selectors.topic_get(viewer=request.user, pk=pk)
    error = ""
    try:
        services.topic_support_withdraw(actor=request.user, topic=topic)
    except ValidationError as exc:
        error = " ".join(_messages_of(exc))
    return _fragment_or_redirect(
        request, topic, "support", error=error, done=_("Your backing is withdrawn.")
    )


@login_required
@require_POST
def comment_post(request, pk):
    topic = selectors.topic_get(viewer=request.user, pk=pk)
    form = CommentForm(request.POST)
    error = ""
    if form.is_valid():
        parent = None
        parent_id = form.cleaned_data.get("parent")
        if parent_id:
            parent = Comment.objects.filter(pk=parent_id, topic=topic).first()
        if parent_id and parent is None:
            error = str(services.REPLY_ELSEWHERE)
        else:
            try:
                services.comment_post(
                    actor=request.user, topic=topic, body=form.cleaned_data["body"], parent=parent
                )
            except ValidationError as exc:
                error = " ".join(_messages_of(exc))
            else:
                form = CommentForm()
    else:
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    return _fragment_or_redirect(
        request,
        topic,
        "comments",
        error=error,
        done=_("Your comment is posted."),
        comment_form=form if error else None,
    )


@login_required
@require_POST
def comment_report(request, pk, comment_id):
    topic = selectors.topic_get(viewer=request.user, pk=pk)
    comment = selectors.comment_get(topic=topic, pk=comment_id)
    form = ReportForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            services.comment_report(
                actor=request.user, comment=comment, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            error = " ".join(_messages_of(exc))
    else:
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    return _fragment_or_redirect(
        request,
        topic,
        "comments",
        error=error,
        done=_("Thank you. The committee will look at the comment."),
    )


# --- moderation ---------------------------------------------------------------------------------


def _moderator(request, topic) -> None:
    if not services.is_moderator(request.user, topic.place):
        raise PermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
def comment_hide(request, pk, comment_id):
    topic = selectors.topic_get(viewer=request.user, pk=pk)
    _moderator(request, topic)
    comment = selectors.comment_get(topic=topic, pk=comment_id)
    form = HideForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.comment_hide(
                actor=request.user, comment=comment, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("The comment is hidden; the reason is shown in its place."))
            return redirect(_topic_url(topic))
    return _action_page(
        request,
        title=_("Hide a comment"),
        form=form,
        topic=topic,
        intro=_("Residents will see your reason instead of the comment. Its author can appeal."),
        submit=_("Hide the comment"),
        quote=comment.body,
    )


@login_required
@require_POST
def comment_restore(request, pk, comment_id):
    topic = selectors.topic_get(viewer=request.user, pk=pk)
    _moderator(request, topic)
    comment = selectors.comment_get(topic=topic, pk=comment_id)
    form = RestoreForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.comment_restore(actor=request.user, comment=comment, note=note)
    except ValidationError as error:
        messages.error(request, " ".join(_messages_of(error)))
    else:
        messages.success(request, _("The comment is shown again."))
    return redirect(_topic_url(topic))


@login_required
@require_http_methods(["GET", "POST"])
def appeal(request, pk, comment_id):
    topic = selectors.topic_get(viewer=request.user, pk=pk)
    comment = selectors.comment_get(topic=topic, pk=comment_id)
    if comment.author_id != request.user.pk:
        raise PermissionDenied
    form = AppealForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.appeal_file(
                actor=request.user, comment=comment, text=form.cleaned_data["text"]
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("Your appeal is filed. The committee will decide on it."))
            return redirect(_topic_url(topic))
    return _action_page(
        request,
        title=_("Appeal the hiding of your comment"),
        form=form,
        topic=topic,
        intro=_("Tell the committee why your comment should be shown again."),
        submit=_("File the appeal"),
        quote=comment.body,
    )


@login_required
@require_http_methods(["GET", "POST"])
def appeal_decide(request, appeal_id):
    item = selectors.appeal_get(viewer=request.user, pk=appeal_id)
    topic = item.comment.topic
    form = DecideForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.appeal_decide(
                actor=request.user,
                appeal=item,
                upheld=form.cleaned_data["decision"] == "upheld",
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("The appeal is decided; its author is told."))
            return redirect("deliberation:committee_inbox", committee_id=topic.place_id)
    return _action_page(
        request,
        title=_("Decide an appeal"),
        form=form,
        topic=topic,
        intro=item.text,
        submit=_("Decide"),
        quote=item.comment.body,
    )


# --- the committee's answers --------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def answer(request, pk):
    topic = selectors.topic_get(viewer=request.user, pk=pk)
    _moderator(request, topic)
    form = AnswerForm(request.POST or None, categories=_work_categories())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.topic_answer(
                actor=request.user,
                topic=topic,
                kind=data["kind"],
                text=data["text"],
                category=data["category"],
                meeting_label=data["meeting_label"],
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Answered: %(answer)s. The author and the backers are told.")
                % {"answer": AnswerKind(data["kind"]).label},
            )
            return redirect(_topic_url(topic))
    return _action_page(
        request,
        title=_("Answer the topic"),
        form=form,
        topic=topic,
        intro=_(
            "Every topic gets an answer: accept it to a meeting agenda, refer it as a work "
            "order, or decline it with a reason the residents will read."
        ),
        submit=_("Send the answer"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def merge(request, pk):
    topic = selectors.topic_get(viewer=request.user, pk=pk)
    _moderator(request, topic)
    form = MergeForm(
        request.POST or None,
        candidates=selectors.merge_candidates(viewer=request.user, topic=topic),
    )
    if request.method == "POST" and form.is_valid():
        try:
            into = services.topic_merge(
                actor=request.user,
                topic=topic,
                into=form.cleaned_data["into"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("Merged. The backings moved over, each counted once."))
            return redirect(_topic_url(into))
    return _action_page(
        request,
        title=_("Merge a duplicate topic"),
        form=form,
        topic=topic,
        intro=_(
            "This topic closes and its backings move to the topic you choose; a household "
            "or person that backed both counts once."
        ),
        submit=_("Merge"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def refer(request, pk):
    topic = selectors.topic_get(viewer=request.user, pk=pk)
    _moderator(request, topic)
    form = ReferForm(request.POST or None, categories=_work_categories())
    if request.method == "POST" and form.is_valid():
        try:
            topic = services.topic_refer(
                actor=request.user,
                topic=topic,
                category=form.cleaned_data["category"],
                text=form.cleaned_data["text"],
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Referred as work order #%(number)s.") % {"number": topic.work_order_id},
            )
            return redirect(_topic_url(topic))
    return _action_page(
        request,
        title=_("Refer as a work order"),
        form=form,
        topic=topic,
        intro=_(
            "A work order is reported by the committee at the topic's place, with its "
            "photos; the topic links to it."
        ),
        submit=_("Refer"),
    )


@login_required
@require_POST
def done(request, pk):
    topic = selectors.topic_get(viewer=request.user, pk=pk)
    _moderator(request, topic)
    form = DoneForm(request.POST)
    outcome = form.cleaned_data["outcome"] if form.is_valid() else ""
    try:
        services.topic_done(actor=request.user, topic=topic, outcome=outcome)
    except ValidationError as error:
        messages.error(request, " ".join(_messages_of(error)))
    else:
        messages.success(request, _("Marked done. The author and the backers are told."))
    return redirect(_topic_url(topic))


# --- the committee's inbox and settings ---------------------------------------------------------


@login_required
def inbox(request):
    """The committee's inbox; staff of several committees choose one."""
    committees = list(selectors.committees_moderated(request.user)[:200])
    if not committees:
        raise Http404
    if len(committees) == 1:
        return _inbox_page(request, committees[0])
    return render(request, "deliberation/inbox_index.html", {"committees": committees})


@login_required
def committee_inbox(request, committee_id):
    committee = selectors.committee_get(viewer=request.user, pk=committee_id)
    return _inbox_page(request, committee)


def _inbox_page(request, committee):
    box = selectors.committee_inbox(viewer=request.user, committee=committee)
    return render(
        request,
        "deliberation/inbox.html",
        {"box": box, "restore_form": RestoreForm()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def committee_settings(request, committee_id):
    committee = selectors.committee_get(viewer=request.user, pk=committee_id, moderate=True)
    current = services.settings_for(committee)
    initial = {
        "support_unit": current.support_unit,
        "support_threshold": current.support_threshold,
        "hide_after_reports": current.hide_after_reports,
        "archive_after_days": current.archive_after_days,
    }
    form = SettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.committee_settings_update(
                actor=request.user, committee=committee, **form.cleaned_data
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("The committee's topic rules are saved."))
            return redirect("deliberation:committee_inbox", committee_id=committee.pk)
    return _action_page(
        request,
        title=_("Topic rules of %(committee)s") % {"committee": committee.name},
        form=form,
        intro=_(
            "How backing is counted, when a topic goes on the agenda list, when reported "
            "comments are hidden pending review, and when quiet topics are archived."
        ),
    )
