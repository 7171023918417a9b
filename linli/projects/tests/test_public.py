"""Residents' pages of fund projects: public from the notice on, never a person's name, only
paid money, and the satisfaction survey for the community's residents once."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from linli.projects import services
from linli.projects.choices import ProjectState as S
from linli.projects.models import Project, SurveyResponse
from linli.projects.tests.factories import a_project, funded, pay, profile, walk

pytestmark = pytest.mark.django_db

PEOPLE = ("worker", "director", "secretary", "selfgov", "reviewer", "reviewer2", "reviewer3")


@pytest.fixture
def ready(world, users):
    funded(world)
    profile(world)
    return world


def _project(world, users, title: str, state: str) -> Project:
    """A project of the first committee taken by the services to `state`."""
    project = a_project(world, users, title=title)
    if state == S.REJECTED:
        project = walk(project, users, S.SUBMITTED)
        return services.project_check(
            actor=users["director"], project=project, decision="reject", note="不符合要求"
        )
    if state == S.WITHDRAWN:
        return services.project_withdraw(actor=users["worker"], project=project, reason="重新规划")
    if state == S.DRAFT:
        return project
    return walk(project, users, state)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _list_url(place) -> str:
    return reverse("projects:public_list", args=[place.pk])


def _detail_url(project) -> str:
    return reverse("projects:public_detail", args=[project.pk])


def _survey_url(project) -> str:
    return reverse("projects:survey", args=[project.pk])


def test_list_shows_only_the_communitys_public_projects(ready, users, client):
    hidden = {
        state: _project(ready, users, f"未公开{state}", state)
        for state in (S.DRAFT, S.SUBMITTED, S.CHECKED, S.REVIEWED, S.REJECTED, S.WITHDRAWN)
    }
    shown = {
        state: _project(ready, users, f"已公示{state}", state)
        for state in (S.PUBLICISED, S.APPROVED, S.CLOSED)
    }
    # A public project of the sibling committee is not on the first committee's list.
    other = _project(ready, users, "别的居委项目", S.PUBLICISED)
    sibling = ready.committees[1]
    Project.objects.filter(pk=other.pk).update(place=sibling, path=sibling.path)

    response = client.get(_list_url(ready.committees[0]))
    assert response.status_code == 200
    html = response.content.decode()
    for project in shown.values():
        assert project.title in html
        assert _detail_url(project) in html
    for project in [*hidden.values(), other]:
        assert project.title not in html
    assert response.context["page"].paginator.count == len(shown)
    # Newest activity first: the closed project moved last.
    assert response.context["rows"][0]["project"].pk == shown[S.CLOSED].pk

    # The street's list holds its committees' projects; the sibling's lists only its own.
    street = client.get(_list_url(ready.street)).content.decode()
    assert all(p.title in street for p in [*shown.values(), other])
    sibling_html = client.get(_list_url(sibling)).content.decode()
    assert other.title in sibling_html and shown[S.APPROVED].title not in sibling_html


def test_list_is_404_for_a_place_that_is_not_a_community(ready, client):
    for place in (ready.city, ready.district, ready.compounds[0]):
        assert client.get(_list_url(place)).status_code == 404
        url = reverse("projects:public_print", args=[place.pk])
        assert client.get(url).status_code == 404
    assert client.get("/projects/community/999999/").status_code == 404


def test_detail_is_404_until_the_public_notice(ready, users, client):
    project = _project(ready, users, "楼道灯改造", S.REVIEWED)
    assert client.get(_detail_url(project)).status_code == 404
    assert client.post(_survey_url(project), {"score": 5}).status_code == 404
    project = services.project_publicise(actor=users["selfgov"], project=project)
    response = client.get(_detail_url(project))
    assert response.status_code == 200
    html = response.content.decode()
    # The public notice, with the way to object while its window is open.
    assert reverse("notices:notice", args=[project.notice_id]) in html
    assert "data-object" in html
    assert reverse("deliberation:topic", args=[project.topic_id]) in html
    assert client.get("/projects/p/999999/").status_code == 404


def test_pages_show_no_personal_data_and_only_paid_money(ready, users, client):
    project = _project(ready, users, "楼道灯改造", S.APPROVED)
    pay(project, users, "1234.00")
    pending = pay(project, users, "777.00", memo="待审批的一笔", approve=False)
    response = client.get(_detail_url(project))
    assert "777.00" not in response.content.decode().replace(",", "")
    assert response.context["rows"][0].paid == 1234
    assert response.context["spent"] == 1234
    services.payment_refuse(actor=users["director"], payment=pending, reason="票据不全")
    project = walk(project, users, S.ACCEPTED)
    services.survey_answer(actor=users["resident"], project=project, score=5, comment="很好")
    project = walk(project, users, S.CLOSED)

    pages = [
        client.get(_detail_url(project)),
        client.get(_list_url(ready.committees[0])),
        client.get(
            reverse("projects:public_print", args=[ready.committees[0].pk]),
            {"year": project.year},
        ),
    ]
    for response in pages:
        assert response.status_code == 200
        html = response.content.decode()
        for key in (*PEOPLE, "resident"):
            assert users[key].display_name not in html, key
        assert "No.3100" not in html  # the invoice number
        assert "发票" not in html  # nor the invoice file
        assert "777.00" not in html.replace(",", "")  # nor the refused payment
        assert "票据不全" not in html and "很好" not in html  # nor staff notes or comments
        assert "1234.00" in html.replace(",", "")  # grouped or not, as the locale says
    detail = pages[0].content.decode()
    assert "上海某某照明器材有限公司" in detail  # the payee organisation
    assert "楼道灯全部更换" in detail  # the published outcome
    assert pages[0].context["survey"].answers == 1
    assert pages[0].context["satisfied_percent"] == 100
    assert "data-review-score" in detail and str(project.review_score) in detail
    assert str(project.evaluation_score) in detail


def test_resident_answers_the_survey_once(ready, users, client_as):
    project = _project(ready, users, "楼道灯改造", S.ACCEPTED)
    client = client_as("resident")
    page = client.get(_detail_url(project)).content.decode()
    assert 'name="score"' in page and _survey_url(project) in page

    response = client.post(_survey_url(project), {"score": "4", "comment": "亮多了"}, follow=True)
    assert response.redirect_chain[-1][0].startswith(_detail_url(project))
    assert len(_messages(response)) == 1
    answer = SurveyResponse.objects.get(project=project)
    assert (answer.user, answer.score, answer.comment) == (users["resident"], 4, "亮多了")
    assert 'name="score"' not in response.content.decode()
    assert "data-answered" in response.content.decode()

    again = client.post(_survey_url(project), {"score": "5"}, follow=True)
    assert _messages(again) == [str(services.SURVEY_DUPLICATE)]
    assert SurveyResponse.objects.filter(project=project).count() == 1


def test_survey_refuses_garbage_strangers_and_closed_projects(ready, users, client, client_as):
    project = _project(ready, users, "楼道灯改造", S.ACCEPTED)
    # Anonymous: asked to sign in, on the page and on posting.
    page = client.get(_detail_url(project)).content.decode()
    assert "data-sign-in" in page and 'name="score"' not in page
    response = client.post(_survey_url(project), {"score": "5"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    # Garbage scores: a message, nothing recorded.
    resident = client_as("resident")
    for score in ("", "abc", "0", "6", "4.5", "9" * 30):
        response = resident.post(_survey_url(project), {"score": score}, follow=True)
        assert response.status_code == 200
        assert _messages(response) == [str(services.SCORE_RANGE)], score
    assert not SurveyResponse.objects.exists()
    # A GET is not an answer.
    assert resident.get(_survey_url(project)).status_code == 405
    # A worker of the sibling committee is not a resident here.
    stranger = client_as("stranger")
    assert 'name="score"' not in stranger.get(_detail_url(project)).content.decode()
    response = stranger.post(_survey_url(project), {"score": "5"})
    assert response.status_code == 403
    assert not SurveyResponse.objects.exists()


def test_survey_is_closed_outside_acceptance(ready, users, client_as):
    project = _project(ready, users, "楼道灯改造", S.APPROVED)
    resident = client_as("resident")
    assert 'name="score"' not in resident.get(_detail_url(project)).content.decode()
    response = resident.post(_survey_url(project), {"score": "5"}, follow=True)
    assert _messages(response) == [str(services.SURVEY_CLOSED)]
    assert not SurveyResponse.objects.exists()


def test_print_page_holds_the_years_accounts_with_totals(ready, users, client):
    first = _project(ready, users, "楼道灯改造", S.APPROVED)
    pay(first, users, "1000.00")
    second = _project(ready, users, "睦邻花园", S.PUBLICISED)
    draft = _project(ready, users, "还在起草", S.DRAFT)
    url = reverse("projects:public_print", args=[ready.committees[0].pk])
    response = client.get(url, {"year": first.year})
    assert response.status_code == 200
    html = response.content.decode()
    assert "@page" not in html  # the A4 sheet comes from the print stylesheet
    assert "notices/print.css" in html
    assert first.title in html and second.title in html and draft.title not in html
    assert "¥20000.00" in html.replace(",", "")  # both budgets
    assert "¥1000.00" in html.replace(",", "")
    assert response.context["spent"] == 1000
    # Another year has none; garbage years fall back to this one.
    empty = client.get(url, {"year": first.year - 5})
    assert first.title not in empty.content.decode()
    assert client.get(url, {"year": "abc"}).context["year"] == timezone.localdate().year


def test_board_and_home_lead_residents_to_the_projects(ready, users, client, client_as):
    committee = ready.committees[0]
    board = client.get(reverse("notices:board", args=[committee.pk])).content.decode()
    assert _list_url(committee) in board
    home = client_as("resident").get(reverse("accounts:home")).content.decode()
    assert reverse("projects:public_mine") in home
    response = client_as("resident").get(reverse("projects:public_mine"))
    assert response.status_code == 302 and response["Location"] == _list_url(committee)


def _queries(client, url, django_assert_max_num_queries, bound):
    with django_assert_max_num_queries(bound):
        assert client.get(url).status_code == 200


def test_query_counts_do_not_grow_with_projects_lines_or_payments(
    ready, users, client_as, django_assert_max_num_queries
):
    client = Client()  # anonymous (client_as signs the shared `client` fixture in)
    committee = ready.committees[0]
    lines = [
        {"category": "materials", "item": f"材料 {n}", "amount": "500.00"} for n in range(1, 7)
    ]
    project = _project(ready, users, "楼道灯改造", S.APPROVED)
    pay(project, users, "100.00")
    list_url, print_url = (
        _list_url(committee),
        reverse("projects:public_print", args=[committee.pk]),
    )
    resident = client_as("resident")
    bounds = {"list": 5, "print": 6, "detail": 7, "resident": 15}

    def check():
        _queries(client, list_url, django_assert_max_num_queries, bounds["list"])
        _queries(client, print_url, django_assert_max_num_queries, bounds["print"])
        _queries(client, _detail_url(project), django_assert_max_num_queries, bounds["detail"])
        _queries(resident, _detail_url(project), django_assert_max_num_queries, bounds["resident"])

    check()
    for n in range(3):
        more = a_project(ready, users, title=f"项目 {n}", lines=lines)
        walk(more, users, S.APPROVED)
        pay(more, users, "200.00")
    for n in range(4):
        pay(project, users, "50.00", memo=f"第 {n} 批")
    project = walk(project, users, S.ACCEPTED)
    check()
