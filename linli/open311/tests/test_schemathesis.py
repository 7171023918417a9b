"""schemathesis against our two OpenAPI documents: Open311 (/open311/v2/openapi.json) and the
main API (/api/v1/openapi.json). No generated request may end in a server error.

Both documents are loaded from the running Django WSGI application and every case is sent to it
in-process (werkzeug's test client), inside the test's transaction: no live server, no flush.
Each operation gets a few positive and a few negative (schema-violating) examples, generated
deterministically (derandomize) so a failure reproduces. Random ids and codes almost never exist,
so every other case is steered to real ones (an order, a service code, the api_key, an action)
to reach the code behind the first lookup.
"""

import datetime as dt
import secrets
import zlib
from collections import Counter

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from linli.accounts.models import ApiToken
from linli.workorders.machine import ACTIONS

pytestmark = pytest.mark.django_db

EXAMPLES = {GenerationMode.POSITIVE: 5, GenerationMode.NEGATIVE: 3}


@pytest.fixture
def app():
    """Django's WSGI handler; the per-request connection reset is off so every request sees the
    test's (uncommitted) data, as Django's own test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _coin(case) -> int:
    """A deterministic draw from the generated case (Python's str hash is salted per run)."""
    return zlib.crc32(repr((case.path_parameters, case.query, case.body)).encode())


def _bound(check, label: str):
    def run(case):
        check(case, label)

    return run


def _fuzz(schema, *, headers=None, steer=None) -> Counter:
    """Run every operation of `schema`; counts the answers by (operation, status)."""
    answers: Counter = Counter()

    def check(case, label: str) -> None:
        draw = _coin(case)
        if steer is not None and draw % 2:
            steer(case, draw // 2)
        response = case.call(headers=headers)
        answers[label, response.status_code] += 1
        case.validate_response(response, checks=[not_a_server_error])

    for result in schema.get_all_operations():
        operation = result.ok()
        for mode, count in EXAMPLES.items():
            run = given(case=operation.as_strategy(generation_mode=mode))(
                _bound(check, operation.label)
            )
            settings(
                max_examples=count,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )(run)()
    return answers


def test_open311_document_finds_no_server_error(app, world, report, api_key):
    order = report(days_ago=1)
    report(days_ago=3, category="clutter")
    compound = world.compounds[0]

    def steer(case, draw):
        params = case.path_parameters or {}
        if case.query and "jurisdiction_id" in case.query:
            case.query["jurisdiction_id"] = world.street.code
        if "service_code" in params:
            params["service_code"] = "C9801"
        if "service_request_id" in params:
            params["service_request_id"] = str(order.pk)
        if isinstance(case.body, dict):
            case.body.update(api_key=api_key, service_code="C9801", jurisdiction_id="")
            if draw % 2:
                case.body.update(lat=str(compound.lat), long=str(compound.lng))

    schema = schemathesis.openapi.from_wsgi("/open311/v2/openapi.json", app)
    answers = _fuzz(schema, steer=steer)
    assert len({label for label, _ in answers}) == 7
    assert {200, 400, 403, 404} <= {status for _, status in answers}

    # Whether a generated body happens to be a valid report depends on what hypothesis draws
    # on this machine; the created path is checked against the document with a known-good body.
    post = schema["/requests.{format}"]["POST"]
    for fmt in ("json", "xml"):
        case = post.Case(
            path_parameters={"format": fmt},
            body={
                "api_key": api_key,
                "service_code": "C9801",
                "lat": str(compound.lat),
                "long": str(compound.lng),
                "description": "路灯不亮",
            },
            media_type="application/x-www-form-urlencoded",
        )
        response = case.call()
        assert response.status_code == 201, response.text
        case.validate_response(response)


def _token(user) -> str:
    key = secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user,
        key_hash=ApiToken.hash_key(key),
        prefix=key[:8],
        expires_at=timezone.now() + dt.timedelta(days=1),
    )
    return key


@pytest.mark.parametrize("persona", ["worker", "dispatcher"])
def test_main_api_document_finds_no_server_error(app, world, users, report, persona):
    """As a committee worker (register, reports) and as the street's dispatcher (actions)."""
    order = report(days_ago=1)
    actions = sorted(ACTIONS)

    def steer(case, draw):
        params = case.path_parameters or {}
        if "order_id" in params:
            params["order_id"] = order.pk
        if "action" in params:
            params["action"] = actions[draw % len(actions)]
        if "place_id" in params:
            params["place_id"] = world.committees[0].pk

    key = _token(users[persona])
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    answers = _fuzz(schema, headers={"Authorization": f"Bearer {key}"}, steer=steer)
    labels = {label for label, _ in answers}
    assert "POST /api/v1/workorders/orders/{order_id}/actions/{action}" in labels
    assert len(labels) >= 15
    assert {200, 404, 422} <= {status for _, status in answers}
    assert answers["GET /api/v1/workorders/orders/{order_id}", 200] > 0
