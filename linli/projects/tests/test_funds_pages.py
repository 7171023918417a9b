"""Projects beside the funds pages: the street overview counts each committee's projects of the
year by stage; a committee's funds page lists its projects. Scoped like everything else."""

import pytest
from django.urls import reverse

from linli.projects.choices import ProjectState as S
from linli.projects.tests.factories import a_project, funded, pay, profile, walk

pytestmark = pytest.mark.django_db


@pytest.fixture
def projects(world, users):
    funded(world)
    profile(world)
    under_way = walk(a_project(world, users, title="楼道灯改造"), users, S.APPROVED)
    pay(under_way, users, "1200.00")
    a_project(world, users, title="小花园长椅")  # a draft
    return under_way


def test_street_overview_counts_projects_by_stage(projects, world, client_as):
    client = client_as("selfgov")
    html = client.get(reverse("funds:street_overview", args=[world.street.pk])).content.decode()
    first = world.committees[0].pk
    row = html.split(f'data-committee-projects="{first}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-bucket="applying">1<' in row and 'data-bucket="under_way">1<' in row
    assert "¥10,000.00" in row and "¥1,200.00" in row
    second = world.committees[1].pk
    other = html.split(f'data-committee-projects="{second}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-bucket="applying">0<' in other


def test_committee_funds_page_lists_its_projects_and_a_sibling_sees_none(
    projects, world, client_as
):
    html = (
        client_as("worker")
        .get(reverse("funds:overview", args=[world.committees[0].pk]))
        .content.decode()
    )
    assert "楼道灯改造" in html and "小花园长椅" in html and "¥1,200.00" in html
    stranger = client_as("stranger").get(reverse("funds:overview", args=[world.committees[0].pk]))
    assert stranger.status_code == 404


def test_street_overview_project_queries_do_not_grow_with_projects(
    projects, world, users, client_as, django_assert_max_num_queries
):
    client = client_as("selfgov")
    url = reverse("funds:street_overview", args=[world.street.pk])
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as before:
        client.get(url)
    funded(world, "500000.00")
    for n in range(5):
        pay(walk(a_project(world, users, title=f"项目{n}"), users, S.APPROVED), users, "100.00")
    with django_assert_max_num_queries(len(before.captured_queries)):
        client.get(url)
