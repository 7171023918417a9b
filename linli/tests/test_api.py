import pytest
from django.urls import reverse

from linli.conftest import PASSWORD
from linli.core.models import AuditEvent


def _token(client, username, password=PASSWORD, otp=""):
    return client.post(
        "/api/v1/auth/token",
        {"username": username, "password": password, "otp": otp},
        content_type="application/json",
    )


def test_openapi_document_is_public_and_lists_the_endpoints(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/places/{place_id}" in paths and "/api/v1/audit/events" in paths
    assert client.get("/api/v1/docs").status_code == 200


def test_token_auth_scopes_like_the_pages(client, users, world):
    response = _token(client, "worker2")
    assert response.status_code == 201
    headers = {"Authorization": f"Bearer {response.json()['token']}"}
    own = client.get(f"/api/v1/places/{world.committees[1].pk}", headers=headers)
    assert own.status_code == 200 and own.json()["counts"]["compound"] >= 1
    other = client.get(f"/api/v1/places/{world.committees[0].pk}", headers=headers)
    assert other.status_code == 404
    assert other.json() == {"error": {"code": "not_found", "message": "Not found."}}
    assert AuditEvent.objects.filter(action="accounts.token.issue").exists()


def test_wrong_password_and_garbage_get_clear_errors(client, users):
    response = _token(client, "worker", "nope")
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid"
    garbage = client.post("/api/v1/auth/token", "{not json", content_type="application/json")
    assert garbage.status_code in (400, 422) and "error" in garbage.json()
    bad_page = client.get("/api/v1/places/1/children?page=abc", HTTP_AUTHORIZATION="Bearer x")
    assert bad_page.status_code == 401


def test_second_factor_roles_need_a_code_for_tokens(client, users):
    assert _token(client, "bureau").json()["error"]["code"] == "second_factor"


def test_unauthenticated_calls_are_refused(client, db):
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_children_are_paged(client_as, world):
    response = client_as("worker").get(f"/api/v1/places/{world.committees[0].pk}/children")
    body = response.json()
    assert response.status_code == 200 and body["count"] == len(body["results"]) >= 1


@pytest.mark.parametrize(("key", "status"), [("bureau", 200), ("worker", 404)])
def test_audit_events_need_the_audit_permission(client_as, key, status):
    assert client_as(key).get("/api/v1/audit/events").status_code == status


def test_audit_page_is_scoped_to_the_district(client_as, world):
    response = client_as("bureau").get(reverse("core:audit"), {"action": "accounts.role"})
    assert response.status_code == 200
    assert "accounts.role.assign" in response.content.decode()
