"""The staff pages of fund projects: each page for its roles and 404 for a sibling committee's
worker, the wizard refusing garbage without losing what was typed, the whole path walked by
posting the project page's forms, the reviewer's scoring page, invoices served only in scope,
and query budgets that do not grow with a project's lines, payments and steps."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from linli.notices.models import Notice
from linli.projects import services
from linli.projects.choices import PaymentState
from linli.projects.choices import ProjectState as S
from linli.projects.models import Payment, Project, Review
from linli.projects.tests.factories import (
    EVAL,
    GOOD,
    a_project,
    a_topic,
    funded,
    invoice,
    pay,
    profile,
    walk,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(world, users):
    funded(world)
    profile(world)
    return world


def _end_window(project):
    past = timezone.now() - dt.timedelta(minutes=1)
    Notice.objects.filter(pk=project.notice_id).update(
        published_at=past - dt.timedelta(days=8), window_until=past
    )


def _wizard_data(committee, topic=None, lines=None, **fields) -> dict:
    data = {
        "place": committee.pk,
        "year": timezone.localdate().year,
        "title": "楼道灯改造",
        "compound": "",
        "starts_on": "2026-12-10",
        "ends_on": "2026-12-31",
        "beneficiaries": "3–8 号楼住户",
        "beneficiary_count": "240",
        "plan": "更换 3 号楼至 8 号楼楼道灯。",
        "topic": topic.pk if topic else "",
        "meeting": "",
        "action": "save",
        **fields,
    }
    lines = lines if lines is not None else [("materials", "太阳能楼道灯 40 盏", "8000")]
    data["line-count"] = str(len(lines))
    for i, (category, item, amount) in enumerate(lines):
        data[f"line-{i}-category"] = category
        data[f"line-{i}-item"] = item
        data[f"line-{i}-amount"] = amount
    return data


def _messages(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


# --- who sees what ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["worker", "director", "secretary", "selfgov", "reviewer", "bureau"]
)
def test_list_and_detail_for_every_staff_role(ready, users, client_as, key):
    project = walk(a_project(ready, users), users, S.CHECKED)
    client = client_as(key)
    listing = client.get(reverse("projects:list"))
    assert listing.status_code == 200
    assert f'data-project="{project.pk}"' in listing.content.decode()
    detail = client.get(reverse("projects:detail", args=[project.pk]))
    assert detail.status_code == 200
    assert project.title in detail.content.decode()


def test_list_shows_nothing_of_another_committee(ready, users, client_as):
    project = a_project(ready, users)
    response = client_as("stranger").get(reverse("projects:list"))
    assert response.status_code == 200
    assert project.title not in response.content.decode()
    assert client_as("resident").get(reverse("projects:list")).status_code == 404


def test_reviewer_sees_the_queue_awaiting_their_scores(ready, users, client_as):
    project = walk(a_project(ready, users), users, S.CHECKED)
    client = client_as("reviewer")
    assert (
        f'data-queue-project="{project.pk}"'
        in client.get(reverse("projects:list")).content.decode()
    )
    services.review_submit(actor=users["reviewer"], project=project, stage="review", scores=GOOD)
    assert "data-queue-project" not in client.get(reverse("projects:list")).content.decode()
    # A worker has no queue.
    assert (
        "data-queue-project"
        not in client_as("worker").get(reverse("projects:list")).content.decode()
    )


def test_list_filters_by_state_and_year_and_counts(ready, users, client_as):
    draft = a_project(ready, users, title="草稿项目")
    submitted = walk(a_project(ready, users, title="已提交项目"), users, S.SUBMITTED)
    client = client_as("worker")
    page = client.get(reverse("projects:list"), {"state": "submitted"}).content.decode()
    assert f'data-project="{submitted.pk}"' in page and f'data-project="{draft.pk}"' not in page
    assert 'data-state-count="draft"' in page and 'data-state-count="submitted"' in page
    other_year = client.get(reverse("projects:list"), {"year": "1999"}).content.decode()
    assert "data-project=" not in other_year
    garbage = client.get(reverse("projects:list"), {"state": "x'", "year": "abc", "page": "zz"})
    assert garbage.status_code == 200


def test_every_page_answers_404_to_a_sibling_committee(ready, users, client_as):
    project = walk(a_project(ready, users), users, S.APPROVED)
    payment = pay(project, users, "100.00", approve=False)
    client = client_as("stranger")
    gets = [
        reverse("projects:detail", args=[project.pk]),
        reverse("projects:edit", args=[project.pk]),
        reverse("projects:review", args=[project.pk, "review"]),
        reverse("projects:review", args=[project.pk, "evaluation"]),
        reverse("projects:invoice", args=[payment.pk]),
        reverse("projects:new") + f"?topic={project.topic_id}",
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    posts = [
        reverse(f"projects:{name}", args=[project.pk])
        for name in (
            "submit",
            "check",
            "withdraw",
            "decide",
            "publicise",
            "approve",
            "pay",
            "disclose",
            "complete",
            "accept",
            "evaluate",
            "close",
            "edit",
        )
    ] + [
        reverse("projects:payment_approve", args=[payment.pk]),
        reverse("projects:payment_refuse", args=[payment.pk]),
    ]
    for url in posts:
        assert client.post(url, {"note": "x", "reason": "xx"}).status_code == 404, url
    payment.refresh_from_db()
    assert payment.state == PaymentState.REQUESTED


def test_steps_of_another_role_answer_403(ready, users, client_as):
    project = walk(a_project(ready, users), users, S.CHECKED)
    client = client_as("worker")
    response = client.post(reverse("projects:decide", args=[project.pk]), {"decision": "pass"})
    assert response.status_code == 403
    assert client.get(reverse("projects:review", args=[project.pk, "review"])).status_code == 404
    project.refresh_from_db()
    assert project.state == S.CHECKED


def test_anonymous_is_sent_to_sign_in(ready, users, client):
    project = a_project(ready, users)
    for url in (reverse("projects:list"), reverse("projects:detail", args=[project.pk])):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


# --- the wizard -------------------------------------------------------------------------------


def test_wizard_starts_from_a_topic_and_saves_a_draft(ready, users, client_as):
    topic = a_topic(ready, users)
    client = client_as("worker")
    page = client.get(reverse("projects:new"), {"topic": topic.pk})
    assert page.status_code == 200
    html = page.content.decode()
    assert topic.title in html and f'<option value="{topic.pk}" selected' in html
    assert "data-participation" in html  # the community's participation rate beside it
    data = _wizard_data(
        ready.committees[0],
        topic,
        lines=[("materials", "太阳能楼道灯 40 盏", "8000"), ("services", "电工安装", "2000.50")],
    )
    response = client.post(reverse("projects:new"), data)
    project = Project.objects.get(title="楼道灯改造")
    assert response.status_code == 302
    assert response["Location"] == reverse("projects:detail", args=[project.pk])
    assert project.state == S.DRAFT and project.topic_id == topic.pk
    assert project.budget == Decimal("10000.50") and project.lines.count() == 2
    assert project.created_by == users["worker"]


def test_wizard_needs_apply_and_an_own_topic(ready, users, client_as):
    assert client_as("selfgov").get(reverse("projects:new")).status_code == 404
    assert client_as("reviewer").get(reverse("projects:new")).status_code == 404
    topic = a_topic(ready, users)
    assert (
        client_as("stranger").get(reverse("projects:new"), {"topic": topic.pk}).status_code == 404
    )
    garbage = client_as("worker").get(reverse("projects:new"), {"topic": "1e9"})
    assert garbage.status_code == 404


@pytest.mark.parametrize(
    "lines, field_error",
    [
        ([("materials", "灯具", "abc")], True),  # not an amount
        ([("materials", "灯具", "-5")], True),
        ([("materials", "灯具", "1.001")], True),
        ([("materials", "", "100")], True),
        ([("banquets_and_meals", "志愿者午餐", "600")], False),  # negative list (category)
        ([("materials", "慰问老人购物卡", "500")], False),  # negative list (words)
        ([("materials", "灯具", "15000"), ("services", "安装", "5000.01")], False),  # over the cap
        ([], False),  # no line at all
    ],
)
def test_wizard_refuses_garbage_and_keeps_what_was_typed(
    ready, users, client_as, lines, field_error
):
    client = client_as("worker")
    data = _wizard_data(ready.committees[0], title="留住我的输入", lines=lines)
    response = client.post(reverse("projects:new"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert not Project.objects.filter(title="留住我的输入").exists()
    assert "data-errors" in html
    assert 'value="留住我的输入"' in html and "更换 3 号楼至 8 号楼楼道灯。" in html
    for _category, item, amount in lines:
        assert f'value="{item}"' in html or not item
        assert f'value="{amount}"' in html
    if field_error:
        assert 'class="field has-error" data-field="amount"' in html or (
            'class="field has-error" data-field="item"' in html
        )
    else:
        assert "data-lines-errors" in html


def test_wizard_field_errors_from_the_service_land_on_the_field(ready, users, client_as):
    client = client_as("worker")
    data = _wizard_data(ready.committees[0], title="x")  # the service's 2 to 200 characters
    html = client.post(reverse("projects:new"), data).content.decode()
    assert 'has-error" data-field="title"' in html
    data = _wizard_data(ready.committees[0], starts_on="2026-12-31", ends_on="2026-12-01")
    html = client.post(reverse("projects:new"), data).content.decode()
    assert 'has-error" data-field="ends_on"' in html
    assert not Project.objects.exists()


def test_wizard_rows_are_added_and_removed_keeping_the_others(ready, users, client_as):
    client = client_as("worker")
    data = _wizard_data(
        ready.committees[0], lines=[("materials", "灯具", "100"), ("services", "安装", "50")]
    )
    data["action"] = "add"
    html = client.post(reverse("projects:new"), data).content.decode()
    assert html.count("data-line=") == 3 and 'value="灯具"' in html and 'value="安装"' in html
    data["action"] = "remove-0"
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "wizard-lines"}
    fragment = client.post(reverse("projects:new"), data, **htmx).content.decode()
    assert "<html" not in fragment and 'id="wizard-lines"' in fragment
    assert fragment.count("data-line=") == 1 and 'value="安装"' in fragment
    assert 'value="灯具"' not in fragment
    assert 'id="wizard-summary" hx-swap-oob="true"' in fragment
    assert not Project.objects.exists()


def test_wizard_live_total_against_the_cap(ready, users, client_as):
    profile(ready, per_project_cap=Decimal("10000.00"))
    client = client_as("worker")
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "wizard-summary"}
    data = _wizard_data(
        ready.committees[0],
        lines=[("materials", "灯具", "9000"), ("banquets_and_meals", "午餐", "1000.01")],
    )
    data.pop("action")
    fragment = client.post(reverse("projects:new"), data, **htmx).content.decode()
    assert "<html" not in fragment
    assert 'data-summary-total="10000.01"' in fragment and "data-over-cap" in fragment
    assert 'data-negative-hits="1"' in fragment
    assert 'id="lines-total"' in fragment and 'hx-swap-oob="true"' in fragment
    assert not Project.objects.exists()


def test_live_summary_never_saves_even_with_the_save_button_value(ready, users, client_as):
    # htmx sends the last clicked submit button's value with a request fired by a change event
    # during that click: the summary must not create a second draft.
    client = client_as("worker")
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "wizard-summary"}
    data = _wizard_data(ready.committees[0], lines=[("materials", "灯具", "900")])
    assert data["action"] == "save"
    client.post(reverse("projects:new"), data, **htmx)
    assert not Project.objects.exists()


def test_draft_is_edited_in_the_wizard(ready, users, client_as):
    project = a_project(ready, users)
    client = client_as("worker")
    html = client.get(reverse("projects:edit", args=[project.pk])).content.decode()
    assert 'value="太阳能楼道灯 40 盏"' in html and 'value="8000.00"' in html
    data = _wizard_data(
        ready.committees[0],
        project.topic,
        lines=[("materials", "太阳能楼道灯 40 盏", "8000"), ("publicity", "告示打印", "120")],
        title="楼道灯改造（修改）",
    )
    response = client.post(reverse("projects:edit", args=[project.pk]), data)
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.title == "楼道灯改造（修改）" and project.budget == Decimal("8120.00")
    walk(project, users, S.SUBMITTED)
    assert client.get(reverse("projects:edit", args=[project.pk])).status_code == 404


# --- the whole path by posting the project page's forms -------------------------------------------


def _post(client, name, project, data=None, **extra):
    response = client.post(reverse(f"projects:{name}", args=[project.pk]), data or {}, **extra)
    assert response.status_code == 302, (name, response.status_code, _messages(response))
    project.refresh_from_db()
    return response


def test_walk_from_draft_to_closed_by_posting_the_forms(ready, users, client_as):
    project = a_project(ready, users)
    worker_page = client_as("worker").get(reverse("projects:detail", args=[project.pk]))
    assert 'data-action="submit"' in worker_page.content.decode()
    _post(client_as("worker"), "submit", project)
    assert project.state == S.SUBMITTED
    director = client_as("director")
    assert (
        'data-action="check"'
        in director.get(reverse("projects:detail", args=[project.pk])).content.decode()
    )
    _post(director, "check", project, {"decision": "pass", "note": ""})
    assert project.state == S.CHECKED
    for key in ("reviewer", "reviewer2", "reviewer3"):
        scores = {f"score_{code}": value for code, value in GOOD.items()}
        response = client_as(key).post(
            reverse("projects:review", args=[project.pk, "review"]), {**scores, "opinion": "可行"}
        )
        assert response.status_code == 302
    assert Review.objects.filter(project=project, stage="review").count() == 3
    selfgov = client_as("selfgov")
    page = selfgov.get(reverse("projects:detail", args=[project.pk])).content.decode()
    assert 'data-action="decide"' in page and 'data-stage="review"' in page
    _post(selfgov, "decide", project, {"decision": "pass", "note": ""})
    assert project.state == S.REVIEWED and project.review_score == Decimal("78.00")
    _post(selfgov, "publicise", project)
    assert project.state == S.PUBLICISED and project.notice_id
    page = selfgov.get(reverse("projects:detail", args=[project.pk])).content.decode()
    assert "data-approval-errors" in page and 'data-action="approve"' not in page
    _post(selfgov, "approve", project)  # refused: the window is open (message, no 500)
    assert project.state == S.PUBLICISED
    _end_window(project)
    _post(selfgov, "approve", project)
    assert project.state == S.APPROVED and project.commitment_id
    worker = client_as("worker")
    line = project.lines.get(position=1)
    _post(
        worker,
        "pay",
        project,
        {
            "line": line.pk,
            "amount": "3000",
            "payee": "上海某某照明器材有限公司",
            "memo": "灯具首批",
            "invoice": invoice(),
            "invoice_number": "No.31001234",
            "on": "",
        },
    )
    payment = Payment.objects.get(project=project)
    assert payment.state == PaymentState.REQUESTED and payment.invoice
    director = client_as("director")
    page = director.get(reverse("projects:detail", args=[project.pk])).content.decode()
    assert 'data-action="sign"' in page
    response = director.post(reverse("projects:payment_approve", args=[payment.pk]))
    assert response.status_code == 302
    payment.refresh_from_db()
    assert payment.state == PaymentState.PAID
    worker = client_as("worker")
    assert (
        'data-action="disclose"'
        in worker.get(reverse("projects:detail", args=[project.pk])).content.decode()
    )
    _post(worker, "disclose", project)
    payment.refresh_from_db()
    assert payment.disclosed_in_id
    _post(worker, "complete", project, {"report": "40 盏灯已安装完毕。"})
    assert project.state == S.COMPLETED
    selfgov = client_as("selfgov")
    _post(selfgov, "accept", project, {"passed": "yes", "note": "现场验收合格"})
    assert project.state == S.ACCEPTED
    for key in ("reviewer", "reviewer2", "reviewer3"):
        scores = {f"score_{code}": value for code, value in EVAL.items()}
        response = client_as(key).post(
            reverse("projects:review", args=[project.pk, "evaluation"]), scores
        )
        assert response.status_code == 302
    selfgov = client_as("selfgov")
    _post(selfgov, "evaluate", project, {"note": "达到预期"})
    assert project.state == S.EVALUATED and project.evaluation_score == Decimal("80.00")
    _post(selfgov, "close", project, {"outcome": "楼道灯全部更换，夜间照明改善。"})
    assert project.state == S.CLOSED
    page = selfgov.get(reverse("projects:detail", args=[project.pk])).content.decode()
    assert "data-no-action" in page and "夜间照明改善" in page
    assert page.count('class="done"') == 9 and 'aria-current="step"' in page
    for step in ("create", "submit", "check", "review_pass", "approve", "payment", "close"):
        assert f'data-step="{step}"' in page


def test_refusals_are_shown_on_the_form_without_a_500(ready, users, client_as):
    project = walk(a_project(ready, users), users, S.SUBMITTED)
    director = client_as("director")
    response = director.post(
        reverse("projects:check", args=[project.pk]), {"decision": "return", "note": ""}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-panel="check"' in html and 'class="error"' in html
    project.refresh_from_db()
    assert project.state == S.SUBMITTED
    project = walk(project, users, S.APPROVED)
    worker = client_as("worker")
    line = project.lines.get(position=2)  # 2,000
    data = {
        "line": line.pk,
        "amount": "2500",
        "payee": "留住的收款人",
        "memo": "安装",
        "invoice": invoice(),
        "invoice_number": "No.1",
    }
    response = worker.post(reverse("projects:pay", args=[project.pk]), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "¥2,000.00" in html and 'value="留住的收款人"' in html
    assert re.search(r'<details open data-panel="payment"', html)
    garbage = {**data, "amount": "1e400", "invoice": invoice("发票.exe")}
    html = worker.post(reverse("projects:pay", args=[project.pk]), garbage).content.decode()
    assert 'has-error" data-field="amount"' in html and 'has-error" data-field="invoice"' in html
    fake = {**data, "amount": "10", "invoice": invoice("发票.png")}  # PDF bytes named .png
    html = worker.post(reverse("projects:pay", args=[project.pk]), fake).content.decode()
    assert 'has-error" data-field="invoice"' in html
    assert not Payment.objects.filter(project=project).exists()
    response = worker.post(reverse("projects:complete", args=[project.pk]), {"report": "x"})
    assert response.status_code == 200  # too short: on the form
    response = client_as("selfgov").post(reverse("projects:publicise", args=[project.pk]))
    assert response.status_code == 302  # wrong state: a message, not a 500
    assert _messages(response)


def test_payment_refused_with_a_reason(ready, users, client_as):
    project = walk(a_project(ready, users), users, S.APPROVED)
    payment = pay(project, users, "500.00", approve=False)
    director = client_as("director")
    url = reverse("projects:payment_refuse", args=[payment.pk])
    response = director.post(url, {"refuse-reason": ""})
    assert response.status_code == 200
    response = director.post(url, {"refuse-reason": "发票抬头有误"})
    assert response.status_code == 302
    payment.refresh_from_db()
    assert payment.state == PaymentState.REFUSED
    assert client_as("worker").post(url, {"refuse-reason": "不行"}).status_code == 403


def test_withdraw_and_reject_end_the_project(ready, users, client_as):
    project = a_project(ready, users)
    worker = client_as("worker")
    response = worker.post(reverse("projects:withdraw", args=[project.pk]), {"withdraw-reason": ""})
    assert response.status_code == 200
    _post(worker, "withdraw", project, {"withdraw-reason": "居民改变主意"})
    assert project.state == S.WITHDRAWN
    page = worker.get(reverse("projects:detail", args=[project.pk])).content.decode()
    assert "data-ended" in page and "data-no-action" in page


# --- the reviewer's scoring page --------------------------------------------------------------


def test_scoring_page_shows_criteria_and_the_reviewers_scores(ready, users, client_as):
    project = walk(a_project(ready, users), users, S.CHECKED)
    client = client_as("reviewer")
    html = client.get(reverse("projects:review", args=[project.pk, "review"])).content.decode()
    for code in GOOD:
        assert f'data-criterion="{code}"' in html
    assert "太阳能楼道灯 40 盏" in html and "data-conflict-required" not in html
    bad = {f"score_{code}": value for code, value in GOOD.items()} | {"score_need": "26"}
    response = client.post(reverse("projects:review", args=[project.pk, "review"]), bad)
    assert response.status_code == 200 and not Review.objects.exists()
    missing = {"score_need": "20"}
    response = client.post(reverse("projects:review", args=[project.pk, "review"]), missing)
    assert response.status_code == 200 and not Review.objects.exists()
    good = {f"score_{code}": value for code, value in GOOD.items()}
    client.post(reverse("projects:review", args=[project.pk, "review"]), good)
    html = client.get(reverse("projects:review", args=[project.pk, "review"])).content.decode()
    assert "data-mine" in html and 'value="20"' in html
    assert client.get(reverse("projects:review", args=[project.pk, "other"])).status_code == 404
    closed = client.get(reverse("projects:review", args=[project.pk, "evaluation"]))
    assert "data-closed" in closed.content.decode()


def test_reviewer_with_a_conflict_must_declare_it(ready, users, client_as):
    from linli.accounts.roles import Role
    from linli.accounts.services import role_assign

    household = users["resident"].assignments.get().place
    role_assign(actor=None, user=users["reviewer3"], role=Role.RESIDENT, place=household)
    project = walk(a_project(ready, users), users, S.CHECKED)
    client = client_as("reviewer3")
    url = reverse("projects:review", args=[project.pk, "review"])
    assert "data-conflict-required" in client.get(url).content.decode()
    scores = {f"score_{code}": value for code, value in GOOD.items()}
    response = client.post(url, scores)
    assert response.status_code == 200 and not Review.objects.exists()
    response = client.post(url, {"conflict": "on", "conflict_note": "本人居住在该小区"})
    assert response.status_code == 302
    review = Review.objects.get()
    assert review.conflict and review.total is None


# --- invoices ---------------------------------------------------------------------------------


def test_invoice_only_for_staff_who_see_the_project(ready, users, client_as, client, settings):
    project = walk(a_project(ready, users), users, S.APPROVED)
    payment = pay(project, users, "100.00")
    url = reverse("projects:invoice", args=[payment.pk])
    for key in ("director", "selfgov", "bureau"):
        response = client_as(key).get(url)
        assert response.status_code == 200, key
        assert b"".join(response.streaming_content).startswith(b"%PDF")
        assert response["Content-Type"] == "application/pdf"
        assert "private" in response["Cache-Control"]
    assert client_as("stranger").get(url).status_code == 404
    assert client_as("resident").get(url).status_code == 404
    client.logout()
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    # No public media route serves the stored file.
    for prefix in ("/media/", "/", settings.MEDIA_URL or "/"):
        assert client.get(prefix + payment.invoice.name).status_code == 404
    assert client_as("worker").get(reverse("projects:invoice", args=[999999])).status_code == 404


# --- the topic page, the home page and the navigation -----------------------------------------


def test_topic_page_offers_to_turn_it_into_a_project_and_links_them(ready, users, client_as):
    topic = a_topic(ready, users)
    url = reverse("deliberation:topic", args=[topic.pk])
    html = client_as("worker").get(url).content.decode()
    assert f'href="{reverse("projects:new")}?topic={topic.pk}"' in html
    assert "to-project" not in client_as("resident").get(url).content.decode()
    assert "to-project" not in client_as("selfgov").get(url).content.decode()
    project = a_project(ready, users, topic=topic)
    html = client_as("director").get(url).content.decode()
    assert f'data-project-link="{project.pk}"' in html
    assert reverse("projects:detail", args=[project.pk]) in html


def test_home_and_navigation_link_the_projects(ready, users, client_as):
    for key in ("worker", "selfgov", "reviewer", "bureau"):
        html = client_as(key).get(reverse("accounts:home")).content.decode()
        assert reverse("projects:list") in html, key
    html = client_as("resident").get(reverse("accounts:home")).content.decode()
    assert f'href="{reverse("projects:list")}"' not in html


# --- query budgets ----------------------------------------------------------------------------


def _busy_project(world, users, n: int):
    lines = [
        {"category": "materials", "item": f"物料 {i}", "amount": "100.00"} for i in range(3 * n)
    ]
    project = walk(a_project(world, users, lines=lines), users, S.APPROVED)
    for i in range(n):
        line = project.lines.get(position=i + 1)
        pay(project, users, "10.00", line=line, memo=f"第 {i} 批")
    pay(project, users, "10.00", approve=False)
    return project


def _count(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_pages_run_a_fixed_number_of_queries(
    ready, users, client_as, django_assert_max_num_queries
):
    small, busy = _busy_project(ready, users, 1), _busy_project(ready, users, 10)
    assert busy.lines.count() == 30 and busy.payments.count() == 11
    assert busy.steps.count() > 5 * small.steps.count() / 2
    for key, name, budget in (
        ("director", "projects:detail", 24),
        ("selfgov", "projects:detail", 24),
        ("reviewer", "projects:detail", 24),
        ("worker", "projects:list", 16),
        ("reviewer", "projects:list", 16),
        ("reviewer", "projects:review", 14),
    ):
        client = client_as(key)
        client.get(reverse("projects:list"))  # warm the session
        counts = []
        for project in (small, busy):
            args = (
                [project.pk, "review"]
                if name == "projects:review"
                else ([project.pk] if name == "projects:detail" else [])
            )
            url = reverse(name, args=args)
            with django_assert_max_num_queries(budget):
                counts.append(_count(client, url))
        assert counts[0] == counts[1], (key, name, counts)


def test_returned_draft_shows_why_to_the_worker(ready, users, client_as):
    project = walk(a_project(ready, users), users, S.SUBMITTED)
    _post(client_as("director"), "check", project, {"decision": "return", "note": "预算请细化"})
    assert project.state == S.DRAFT
    html = client_as("worker").get(reverse("projects:detail", args=[project.pk])).content.decode()
    assert "data-returned" in html and "预算请细化" in html and 'data-action="edit"' in html
