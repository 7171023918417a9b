import datetime as dt

import pytest

from linli.conftest import PASSWORD
from linli.core.models import AuditEvent
from linli.people.services import resident_update
from linli.people.tests.factories import (
    a_household,
    a_resident,
    an_id_number,
    an_organisation,
    an_owner,
    residents_in,
)

pytestmark = pytest.mark.django_db

PHONE = "13966667777"
CONTACT_PHONE = "13912345678"
NOT_FOUND = {"error": {"code": "not_found", "message": "Not found."}}


@pytest.fixture
def register(world):
    committee = world.committees[0]
    household = a_household(committee)
    number = an_id_number(birth=dt.date(1948, 12, 30))
    resident = a_resident(
        household, name="陆伯", id_number=number, phone=PHONE, tags=["low_income", "veteran"]
    )
    an_owner(household.place, name="陆伯", id_number=number, phone=PHONE, area="64")
    organisation = an_organisation(committee)
    return {
        "committee": committee,
        "household": household,
        "resident": resident,
        "number": number,
        "organisation": organisation,
    }


def _secrets(register):
    return (register["number"], PHONE, CONTACT_PHONE, "1948-12-30")


def test_the_openapi_document_lists_the_register_endpoints(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/people/residents",
        "/api/v1/people/residents/{id}",
        "/api/v1/people/residents/{id}/reveal",
        "/api/v1/people/households/{id}",
        "/api/v1/people/organisations",
        "/api/v1/people/places/{place_id}/profile",
    ):
        assert path in paths, path
    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    resident = schemas["ResidentOut"]["properties"]
    assert "id_number_masked" in resident and "phone_masked" in resident
    assert not {"id_number", "phone", "birth_date"} & set(resident)


def test_residents_are_listed_masked_and_scoped(client_as, register, world):
    a_resident(a_household(world.committees[1]), name="别委居民")
    response = client_as("worker").get("/api/v1/people/residents")
    body = response.json()
    assert response.status_code == 200 and body["count"] == 1
    (row,) = body["results"]
    assert row["name"] == "陆伯" and row["phone_masked"] == "139****7777"
    assert row["id_number_masked"] == register["number"][:6] + "********" + register["number"][-4:]
    assert {t["code"] for t in row["tags"]} == {"low_income", "veteran"}
    stranger = client_as("stranger").get("/api/v1/people/residents").json()
    assert [r["name"] for r in stranger["results"]] == ["别委居民"]


def test_the_street_sees_no_sensitive_tags(client_as, register):
    body = client_as("selfgov").get("/api/v1/people/residents").json()
    assert [t["code"] for t in body["results"][0]["tags"]] == ["veteran"]
    detail = client_as("selfgov").get(f"/api/v1/people/residents/{register['resident'].pk}")
    assert "low_income" not in detail.content.decode()


def test_exact_lookups_by_id_and_phone_go_by_post(client_as, register):
    client = client_as("worker")

    def search(q):
        return client.post(
            "/api/v1/people/residents/search", {"q": q}, content_type="application/json"
        ).json()

    by_id = search(register["number"].lower())
    assert by_id["lookup"] == "id" and by_id["count"] == 1
    by_phone = search("139 6666 7777")
    assert by_phone["lookup"] == "phone" and by_phone["count"] == 1


def test_a_number_in_the_url_is_refused_not_looked_up(client_as, register):
    client = client_as("worker")
    for q in (register["number"], "139 6666 7777"):
        response = client.get("/api/v1/people/residents", {"q": q})
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "identifier_in_url"
        assert "residents/search" in response.json()["error"]["message"]
    # A name still works over GET.
    assert client.get("/api/v1/people/residents", {"q": "陆"}).json()["count"] >= 1


def test_no_response_carries_a_plaintext_identifier(client_as, register):
    client = client_as("worker")
    responses = [
        client.get("/api/v1/people/residents"),
        client.post(
            "/api/v1/people/residents/search", {"q": PHONE}, content_type="application/json"
        ),
        client.get(f"/api/v1/people/residents/{register['resident'].pk}"),
        client.get(f"/api/v1/people/households/{register['household'].pk}"),
        client.get("/api/v1/people/organisations"),
        client.get(f"/api/v1/people/places/{register['committee'].pk}/profile"),
    ]
    for response in responses:
        assert response.status_code == 200
        for secret in _secrets(register):
            assert secret not in response.content.decode(), (response.request["PATH_INFO"], secret)


def test_reveal_returns_the_number_once_and_audits_the_reason(client, users, register):
    token = client.post(
        "/api/v1/auth/token",
        {"username": "worker", "password": PASSWORD},
        content_type="application/json",
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/people/residents/{register['resident'].pk}/reveal"
    response = client.post(
        url,
        {"field": "phone", "reason": "核对低保申请"},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 200
    assert response.json() == {"field": "phone", "value": PHONE}
    event = AuditEvent.objects.get(action="people.resident.reveal_phone")
    assert event.reason == "核对低保申请" and event.actor_id == users["worker"].pk
    identity = client.post(
        url,
        {"field": "id", "reason": "核对低保申请"},
        content_type="application/json",
        headers=headers,
    )
    assert identity.json()["value"] == register["number"]


@pytest.mark.parametrize("body", [{"field": "phone"}, {"field": "phone", "reason": " 看 "}])
def test_reveal_without_a_reason_is_422(client_as, register, body):
    url = f"/api/v1/people/residents/{register['resident'].pk}/reveal"
    response = client_as("worker").post(url, body, content_type="application/json")
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid"
    assert PHONE not in response.content.decode()
    assert not AuditEvent.objects.filter(action__contains="reveal").exists()


def test_reveal_of_an_unknown_field_is_422(client_as, register):
    url = f"/api/v1/people/residents/{register['resident'].pk}/reveal"
    response = client_as("worker").post(
        url, {"field": "name", "reason": "核对信息"}, content_type="application/json"
    )
    assert response.status_code == 422


def test_reveal_without_the_permission_is_403(client_as, register):
    url = f"/api/v1/people/residents/{register['resident'].pk}/reveal"
    for key in ("gridworker", "selfgov"):
        response = client_as(key).post(
            url, {"field": "phone", "reason": "核对信息"}, content_type="application/json"
        )
        assert response.status_code == 403, key
        assert response.json()["error"]["code"] == "forbidden"
        assert PHONE not in response.content.decode()


def test_out_of_scope_is_404_with_the_uniform_body(client_as, register):
    client = client_as("stranger")
    resident, household = register["resident"].pk, register["household"].pk
    for method, url in (
        ("get", f"/api/v1/people/residents/{resident}"),
        ("post", f"/api/v1/people/residents/{resident}/reveal"),
        ("get", f"/api/v1/people/households/{household}"),
        ("get", f"/api/v1/people/places/{register['committee'].pk}/profile"),
    ):
        response = (
            getattr(client, method)(
                url, {"field": "phone", "reason": "核对信息"}, content_type="application/json"
            )
            if method == "post"
            else client.get(url)
        )
        assert response.status_code == 404, url
        assert response.json() == NOT_FOUND
    assert not AuditEvent.objects.filter(action__contains="reveal").exists()
    assert client_as("dispatcher").get("/api/v1/people/residents").status_code == 404


def test_household_lists_members_owners_and_history(client_as, register):
    household = register["household"]
    resident = register["resident"]
    resident_update(
        actor=None,
        resident=resident,
        date=dt.date(2024, 4, 4),
        name=resident.name,
        id_number=register["number"],
        phone="13700001234",
        registration="registered",
        residence="living_registered",
        relation="head",
        tags=["veteran", "low_income"],
    )
    body = client_as("worker").get(f"/api/v1/people/households/{household.pk}").json()
    assert [m["name"] for m in body["members"]] == ["陆伯"]
    assert float(body["effective_area"]) == 64.0
    assert body["area_source"] == "registry"
    assert body["owners"][0]["phone_masked"] == "139****7777"
    update = next(e for e in body["events"] if e["kind"] == "update")
    assert update["date"] == "2024-04-04"
    assert {"field": "phone", "old": "139****7777", "new": "137****1234"} in [
        {k: c[k] for k in ("field", "old", "new")} for c in update["changes"]
    ]
    assert "13700001234" not in str(body)


def test_organisations_list_masked_contacts(client_as, register):
    body = client_as("worker").get("/api/v1/people/organisations").json()
    assert body["count"] == 1
    assert body["results"][0]["contacts"][0]["phone_masked"] == "139****5678"
    assert client_as("stranger").get("/api/v1/people/organisations").json()["count"] == 0


def test_profile_counts(client_as, register):
    residents_in(register["household"], 3, start=dt.date(2021, 1, 1))
    body = (
        client_as("worker").get(f"/api/v1/people/places/{register['committee'].pk}/profile").json()
    )
    assert body["residents"] == 4 and body["households"] == 1
    bands = {b["key"]: b["count"] for b in body["age_bands"]}
    assert bands["0-6"] == 3 and bands["60-79"] + bands["80+"] == 1
    assert {t["key"] for t in body["tags"]} == {"low_income", "veteran"}
    street = (
        client_as("selfgov").get(f"/api/v1/people/places/{register['committee'].pk}/profile").json()
    )
    assert {t["key"] for t in street["tags"]} == {"veteran"}


@pytest.mark.parametrize("count", [5, 60])
def test_the_resident_list_runs_bounded_queries(
    client_as, world, django_assert_max_num_queries, count
):
    residents_in(a_household(world.committees[0]), count, tags=["veteran", "disabled"])
    client = client_as("worker")
    client.get("/api/v1/auth/me")
    with django_assert_max_num_queries(11):
        response = client.get("/api/v1/people/residents")
    assert len(response.json()["results"]) == min(count, 50)
