"""schemathesis against our two OpenAPI documents: Open311 (/open311/v2/openapi.json) and the
main API (/api/v1/openapi.json). No generated request may end in a server error.

Both documents are loaded from the running Django WSGI application and every case is sent to it
in-process (werkzeug's test client), inside the test's transaction: no live server, no flush.
Each operation gets a few positive and a few negative (schema-violating) examples, generated
deterministically (derandomize) so a failure reproduces.
"""

import datetime as dt
import secrets
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

pytestmark = pytest.mark.django_db

EXAMPLES = {GenerationMode.POSITIVE: 6, GenerationMode.NEGATIVE: 4}


@pytest.fixture
def app():
    """Django's WSGI handler; the per-request connection reset is off so every request sees the
    test's (uncommitted) data, as Django's own test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _fuzz(schema, *, headers=None, prepare=None) -> Counter:
    """Run every operation of `schema`; counts the answers by (operation, status)."""
    answers: Counter = Counter()
    import time; t0 = time.process_time(); w0 = time.time()
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode, count in EXAMPLES.items():

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=count,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def run(case):
                if prepare is not None:
                    prepare(case)
                response = case.call(headers=headers)
                answers[operation.label, response.status_code] += 1
                case.validate_response(response, checks=[not_a_server_error])

            run()
    print("CPU", time.process_time() - t0, "WALL", time.time() - w0)
    return answers


def test_open311_document_finds_no_server_error(app, world, report, api_key):
    report(days_ago=1)
    report(days_ago=3, category="clutter")
    schema = schemathesis.openapi.from_wsgi("/open311/v2/openapi.json", app)

    def with_key(case):
        # Half the POSTs carry the real key, so the checks behind the key are reached too.
        if isinstance(case.body, dict) and case.body.get("api_key", "")[:1] in "abcdefghijklm":
            case.body["api_key"] = api_key

    answers = _fuzz(schema, prepare=with_key)
    print(sorted(answers.items()))
    assert len({label for label, _ in answers}) == 7
    statuses = {status for _, status in answers}
    assert {200, 400, 404} <= statuses


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
    report(days_ago=1)
    key = _token(users[persona])
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    answers = _fuzz(schema, headers={"Authorization": f"Bearer {key}"})
    print(sorted(answers.items()))
    labels = {label for label, _ in answers}
    assert "POST /api/v1/workorders/orders/{order_id}/actions/{action}" in labels
    assert len(labels) >= 15
    assert {200, 404, 422} <= {status for _, status in answers}
