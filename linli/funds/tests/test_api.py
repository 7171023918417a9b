"""Funds API (/api/v1/funds/): scoped reads, the street office's postings, error bodies, the
OpenAPI document and a fuzz of every funds operation against real objects."""

from decimal import Decimal

import pytest

from linli.funds.choices import FundKind
from linli.funds.models import Donation, Transaction, YearClose
from linli.funds.services import payment_post
from linli.funds.tests.factories import LAST_YEAR, a_commitment, a_foundation, allocated, fund

pytestmark = pytest.mark.django_db

BASE = "/api/v1/funds"
JSON = "application/json"
D = Decimal


def _post(client, url, body):
    return client.post(url, body, content_type=JSON)


@pytest.fixture
def books(world):
    allocated(world)
    allocated(world, "50000", committee=world.committees[1])
    commitment = a_commitment(world, "10000")
    payment_post(actor=None, commitment=commitment, amount="2500")
    return commitment


def test_openapi_lists_the_funds_endpoints_with_summaries(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    expected = {
        (f"{BASE}/", "get"),
        (f"{BASE}/{{fund_id}}", "get"),
        (f"{BASE}/{{fund_id}}/statement", "get"),
        (f"{BASE}/overview", "get"),
        (f"{BASE}/allocations", "post"),
        (f"{BASE}/donations", "post"),
        (f"{BASE}/year-closes", "post"),
    }
    for path, method in expected:
        assert paths[path][method]["summary"], (path, method)


def test_anonymous_callers_are_refused(client, world, books):
    response = client.get(f"{BASE}/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_funds_list_is_scoped_with_balances(client_as, world, books, django_assert_max_num_queries):
    client = client_as("worker")
    client.get(f"{BASE}/")
    with django_assert_max_num_queries(12):
        body = client.get(f"{BASE}/").json()
    assert body["count"] == 3
    assert {f["place_id"] for f in body["results"]} == {world.committees[0].pk}
    sg = next(f for f in body["results"] if f["kind"] == FundKind.SELF_GOVERNANCE)
    assert D(sg["balances"]["available"]) == D("20000.00")
    assert D(sg["balances"]["committed"]) == D("7500.00")
    assert D(sg["balances"]["spent"]) == D("2500.00")
    assert D(sg["balances"]["received"]) == D("30000.00")
    street = client_as("selfgov").get(f"{BASE}/", {"place_id": world.street.pk}).json()
    assert street["count"] == 6
    filtered = client_as("selfgov").get(f"{BASE}/", {"kind": "office"}).json()
    assert filtered["count"] == 2


def test_one_fund_and_its_statement(client_as, world, books):
    target = fund(world.committees[0])
    client = client_as("worker")
    detail = client.get(f"{BASE}/{target.pk}").json()
    assert {a["kind"] for a in detail["accounts"]} >= {"available", "income"}
    statement = client.get(
        f"{BASE}/{target.pk}/statement", {"account": "available", "year": 2026}
    ).json()
    assert D(statement["opening"]) == 0 and D(statement["closing"]) == D("20000.00")
    assert [D(r["balance"]) for r in statement["rows"]] == [D("30000.00"), D("20000.00")]
    earlier = client.get(f"{BASE}/{target.pk}/statement", {"year": 2025}).json()
    assert earlier["rows"] == []
    bad = client.get(f"{BASE}/{target.pk}/statement", {"account": "nope"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid"


@pytest.mark.parametrize("key", ["stranger", "resident", "handler"])
def test_out_of_scope_funds_answer_404(client_as, world, books, key):
    target = fund(world.committees[0])
    client = client_as(key)
    for url in (f"{BASE}/{target.pk}", f"{BASE}/{target.pk}/statement"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}
    overview = client.get(f"{BASE}/overview", {"place_id": world.street.pk})
    assert overview.status_code == 404


def test_the_overview_by_api(client_as, world, books, django_assert_max_num_queries):
    client = client_as("selfgov")
    client.get(f"{BASE}/overview", {"place_id": world.street.pk})
    with django_assert_max_num_queries(12):
        response = client.get(
            f"{BASE}/overview", {"place_id": world.street.pk, "year": 2026, "per_page": 2}
        )
    body = response.json()
    assert response.status_code == 200 and len(body["results"]) == 2
    assert body["count"] == len(world.committees) and body["pages"] > 1
    assert D(body["totals"]["allocated"]) == D("150000.00")
    assert body["totals"]["committees"] == len(world.committees)
    first = body["results"][0]
    assert first["place_id"] == world.committees[0].pk
    assert D(first["spent_in_year"]) == D("2500.00") and D(first["spent_percent"]) == D("2.5")
    assert (
        client.get(f"{BASE}/overview", {"place_id": world.street.pk, "year": 1}).status_code == 422
    )
    committee = client.get(f"{BASE}/overview", {"place_id": world.committees[0].pk})
    assert committee.status_code == 404  # a committee has no overview: its funds are /funds/


# --- postings -------------------------------------------------------------------------------


def test_street_office_posts_an_allocation(client_as, world):
    client = client_as("selfgov")
    response = _post(
        client,
        f"{BASE}/allocations",
        {"place_id": world.committees[0].pk, "total": "80000", "memo": "2026年度"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert D(body["amount"]) == D("80000.00")
    assert {k: D(v) for k, v in body["parts"].items()} == {
        "office": D("16000.00"),
        "community_service": D("40000.00"),
        "self_governance": D("24000.00"),
    }


def test_allocation_refusals_have_the_error_body(client_as, world):
    client = client_as("selfgov")
    short = _post(
        client,
        f"{BASE}/allocations",
        {
            "place_id": world.committees[0].pk,
            "parts": {"office": "30000", "community_service": "60000", "self_governance": "10000"},
        },
    )
    assert short.status_code == 422
    error = short.json()["error"]
    assert error["code"] == "invalid" and error["details"][0]["loc"] == ["body", "parts"]
    nothing = _post(client, f"{BASE}/allocations", {"place_id": world.committees[0].pk})
    assert nothing.status_code == 422
    assert nothing.json()["error"]["details"][0]["loc"] == ["body", "total"]
    for garbage in ({"total": 12.5}, {"total": "-1"}, {"total": "1.234"}, {"date": "x"}):
        body = {"place_id": world.committees[0].pk, **garbage}
        assert _post(client, f"{BASE}/allocations", body).status_code == 422, garbage
    future = {"place_id": world.committees[0].pk, "total": "1", "date": "2099-01-01"}
    response = _post(client, f"{BASE}/allocations", future)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["type"] == "date_future"
    assert not Transaction.objects.exists()


def test_allocations_need_the_permission(client_as, world):
    body = {"place_id": world.committees[0].pk, "total": "1000"}
    forbidden = _post(client_as("worker"), f"{BASE}/allocations", body)
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "forbidden"
    assert _post(client_as("stranger"), f"{BASE}/allocations", body).status_code == 404
    missing = {"place_id": 999_999, "total": "1000"}
    assert _post(client_as("selfgov"), f"{BASE}/allocations", missing).status_code == 404
    assert not Transaction.objects.exists()


def test_donations_by_api(client_as, world):
    foundation = a_foundation(world)
    client = client_as("selfgov")
    ok = _post(
        client,
        f"{BASE}/donations",
        {"fund_id": foundation.pk, "amount": "800", "donor_kind": "resident", "anonymous": True},
    )
    assert ok.status_code == 201 and ok.json()["anonymous"] is True
    nameless = _post(client, f"{BASE}/donations", {"fund_id": foundation.pk, "amount": "800"})
    assert nameless.status_code == 422
    assert nameless.json()["error"]["details"][0]["loc"] == ["body", "donor_name"]
    allocated(world)
    not_foundation = _post(
        client,
        f"{BASE}/donations",
        {"fund_id": fund(world.committees[0]).pk, "amount": "1", "donor_name": "某公司"},
    )
    assert not_foundation.status_code == 422  # only a foundation receives donations
    worker = _post(
        client_as("worker"),
        f"{BASE}/donations",
        {"fund_id": foundation.pk, "amount": "1", "donor_name": "某公司"},
    )
    assert worker.status_code == 404
    assert Donation.objects.count() == 1


def test_year_close_by_api(client_as, world):
    allocated(world, on=LAST_YEAR)
    client = client_as("selfgov")
    body = {"place_id": world.committees[0].pk, "year": 2025}
    response = _post(client, f"{BASE}/year-closes", body)
    assert response.status_code == 201
    assert {row["fund_kind"] for row in response.json()} == {
        "office",
        "community_service",
        "self_governance",
    }
    assert sum(D(row["returned"]) for row in response.json()) == D("100000.00")
    again = _post(client, f"{BASE}/year-closes", body)
    assert again.status_code == 422
    assert again.json()["error"]["details"][0]["type"] == "year_closed"
    assert _post(client_as("worker"), f"{BASE}/year-closes", body).status_code == 403
    assert YearClose.objects.count() == 3


# --- fuzzing every funds operation against real objects -------------------------------------


@pytest.fixture
def wsgi_app():
    """Django's WSGI handler, its per-request connection reset off so every request sees the
    test's uncommitted data (as in linli/open311/tests/test_schemathesis.py)."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _bearer(user) -> dict:
    import datetime as dt
    import secrets

    from django.utils import timezone

    from linli.accounts.models import ApiToken

    key = secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user,
        key_hash=ApiToken.hash_key(key),
        prefix=key[:8],
        expires_at=timezone.now() + dt.timedelta(days=1),
    )
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize("persona", ["selfgov", "worker"])
def test_fuzzing_the_funds_api_finds_no_server_error(wsgi_app, world, users, books, persona):
    import zlib
    from collections import Counter

    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error

    foundation = a_foundation(world)
    fund_ids = [fund(world.committees[0]).pk, foundation.pk]
    place_ids = [world.committees[0].pk, world.street.pk, world.district.pk]

    def steer(case, draw: int) -> None:
        params = case.path_parameters or {}
        if "fund_id" in params:
            params["fund_id"] = fund_ids[draw % len(fund_ids)]
        if isinstance(case.query, dict) and "place_id" in case.query:
            case.query["place_id"] = place_ids[draw % len(place_ids)]
        if isinstance(case.body, dict):
            if "place_id" in case.body:
                case.body["place_id"] = place_ids[draw % 2]
            if "fund_id" in case.body:
                case.body["fund_id"] = fund_ids[draw % len(fund_ids)]

    answers: Counter = Counter()
    headers = _bearer(users[persona])

    def check(case, label: str) -> None:
        draw = zlib.crc32(repr((case.path_parameters, case.query, case.body)).encode())
        if draw % 4:
            steer(case, draw // 4)
        response = case.call(headers=headers)
        answers[label, response.status_code] += 1
        case.validate_response(response, checks=[not_a_server_error])

    def labelled(label: str):
        def run(case):
            check(case, label)

        return run

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app).include(
        path_regex="^/api/v1/funds/"
    )
    for result in schema.get_all_operations():
        operation = result.ok()
        run = labelled(operation.label)
        for mode, count in ((GenerationMode.POSITIVE, 8), (GenerationMode.NEGATIVE, 3)):
            settings(
                max_examples=count,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )(given(case=operation.as_strategy(generation_mode=mode))(run))()
    assert len({label for label, _ in answers}) == 7
    assert {200, 404, 422} <= {status for _, status in answers}
