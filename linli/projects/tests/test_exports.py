"""The fund projects' spreadsheets: the figures match the ledger and the records, people appear
by role only, and a place or project outside the caller's scope answers 404."""

from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from linli.projects import services
from linli.projects.choices import ProjectState as S
from linli.projects.choices import Stage
from linli.projects.tests.factories import a_project, funded, pay, profile, review_all, walk

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def ready(world, users):
    funded(world)
    profile(world)
    return world


def _sheets(response) -> dict[str, list[tuple]]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == XLSX
    book = load_workbook(BytesIO(response.content), read_only=True)
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book}


def _body(rows: list[tuple]) -> tuple[tuple, list[tuple]]:
    """The table under the title rows: its header (the first row of five or more labels)."""
    start = next(i for i, row in enumerate(rows) if sum(1 for v in row if v) >= 5)
    return rows[start], rows[start + 1 :]


def _money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


@pytest.fixture
def projects(ready, users):
    """An evaluated project (a paid and a pending payment, a survey) and a draft."""
    evaluated = walk(a_project(ready, users, title="楼道灯改造"), users, S.APPROVED)
    pay(evaluated, users, "8000.00")
    pay(evaluated, users, "1500.00", line=evaluated.lines.get(position=2), memo="安装")
    walk(evaluated, users, S.ACCEPTED)
    services.survey_answer(actor=users["resident"], project=evaluated, score=4)
    review_all(evaluated, users, Stage.EVALUATION)
    evaluated = services.project_evaluate(actor=users["selfgov"], project=evaluated)
    draft = a_project(ready, users, title="花园认养")
    return evaluated, draft


def test_the_project_list_has_each_projects_figures(client_as, ready, users, projects):
    evaluated, _draft = projects
    year = timezone.localdate().year
    url = reverse("projects:export_list")
    rows = _sheets(client_as("selfgov").get(url, {"place": ready.street.pk, "year": year}))
    header, body = _body(next(iter(rows.values())))
    assert len(header) == 15
    by_title = {row[1]: row for row in body if row[1]}
    assert set(by_title) == {"楼道灯改造", "花园认养"}
    row = by_title["楼道灯改造"]
    assert row[0] == ready.committees[0].name and row[2] == str(S.EVALUATED.label)
    # budget, committed, paid, left of the budget
    assert [_money(v) for v in row[3:7]] == [_money(x) for x in (10000, 10000, 9500, 500)]
    assert _money(row[7]) == evaluated.review_score and _money(row[8]) == _money(80)
    assert (row[9], row[10]) == (1, 1)  # one answer, all satisfied
    assert (row[11], row[12]) == (evaluated.starts_on.isoformat(), evaluated.ends_on.isoformat())
    plan = by_title["花园认养"]
    assert [_money(v) for v in plan[3:7]] == [_money(x) for x in (10000, 0, 0, 10000)]
    assert (plan[7], plan[9], plan[10]) == (None, 0, None)
    total = body[-1]
    assert [_money(v) for v in total[3:7]] == [_money(x) for x in (20000, 10000, 9500, 10500)]
    # Another year: none.
    rows = _sheets(client_as("selfgov").get(url, {"place": ready.street.pk, "year": year - 1}))
    _header, body = _body(next(iter(rows.values())))
    assert len(body) == 1  # the total only


def test_one_projects_accounts_by_line_payments_and_steps(client_as, ready, users, projects):
    from linli.accounts.roles import Role

    evaluated, _draft = projects
    url = reverse("projects:export_project", args=[evaluated.pk])
    budget, payments, steps = _sheets(client_as("worker").get(url)).values()
    _header, lines = _body(budget)
    first, second, total = lines
    assert (first[0], first[2]) == (1, evaluated.lines.get(position=1).item)
    # amount, paid, pending, left
    assert [_money(v) for v in first[3:7]] == [_money(x) for x in (8000, 8000, 0, 0)]
    assert [_money(v) for v in second[3:7]] == [_money(x) for x in (2000, 1500, 0, 500)]
    assert [_money(v) for v in total[3:7]] == [_money(x) for x in (10000, 9500, 0, 500)]
    _header, rows = _body(payments)
    assert sorted(_money(p[6]) for p in rows) == [_money(1500), _money(8000)]
    assert all(str(p[4]).startswith("No.") for p in rows) and len({p[4] for p in rows}) == 2
    signed = rows[0][8]
    assert str(Role.COMMUNITY_WORKER.label) in signed
    assert str(Role.COMMITTEE_DIRECTOR.label) in signed
    _header, rows = _body(steps)
    assert len(rows) == evaluated.steps.count()
    text = " ".join(
        str(v) for sheet in (budget, payments, steps) for row in sheet for v in row if v
    )
    for user in users.values():  # people by role only
        assert user.display_name not in text


def test_a_pending_payment_shows_as_pending(client_as, ready, users):
    project = walk(a_project(ready, users), users, S.APPROVED)
    pay(project, users, "300.00", approve=False)
    url = reverse("projects:export_project", args=[project.pk])
    budget, payments, _steps = _sheets(client_as("worker").get(url)).values()
    _header, lines = _body(budget)
    assert [_money(v) for v in lines[0][3:7]] == [_money(x) for x in (8000, 0, 300, 7700)]
    _header, rows = _body(payments)
    assert len(rows) == 1 and rows[0][9] is None  # not paid yet


@pytest.mark.parametrize("key", ["stranger", "resident"])
def test_exports_outside_the_callers_scope_are_404(client_as, ready, users, projects, key):
    evaluated, _draft = projects
    client = client_as(key)
    url = reverse("projects:export_project", args=[evaluated.pk])
    assert client.get(url).status_code == 404
    listing = reverse("projects:export_list")
    for place in (ready.committees[0], ready.street):
        assert client.get(listing, {"place": place.pk}).status_code == 404
    assert client.get(listing).status_code == 404
    assert client.get(listing, {"place": "x"}).status_code == 404


def test_the_stranger_exports_their_own_committee_without_the_first(client_as, ready, projects):
    url = reverse("projects:export_list")
    rows = _sheets(client_as("stranger").get(url, {"place": ready.committees[1].pk}))
    _header, body = _body(next(iter(rows.values())))
    assert len(body) == 1 and "楼道灯改造" not in str(body)


def test_exports_need_sign_in(client, ready):
    response = client.get(reverse("projects:export_list"), {"place": ready.street.pk})
    assert response.status_code == 302
