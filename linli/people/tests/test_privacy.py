"""Plaintext ID numbers and phones never reach a log line, even with SQL logging on."""

import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from linli.people.tests.factories import a_household, a_resident, an_id_number

pytestmark = pytest.mark.django_db

PHONE = "13912340000"


def test_look_ups_reveals_and_edits_leave_no_plaintext_in_logs_or_sql(
    client_as, world, caplog, settings
):
    settings.DEBUG = True  # Django logs every SQL statement with its parameters
    number = an_id_number()
    resident = a_resident(a_household(world.committees[0]), id_number=number, phone=PHONE)
    client = client_as("worker")
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")  # Django's own default is INFO
    with CaptureQueriesContext(connection) as queries:
        client.post(reverse("people:search"), {"q": number.lower()})
        client.post(reverse("people:search"), {"q": "139 1234 0000"})
        client.get(f"/api/v1/people/residents?q={PHONE}")
        revealed = client.post(
            reverse("people:resident_reveal", args=[resident.pk]),
            {"field": "phone", "reason": "回访核实"},
        )
        client.get(reverse("people:resident", args=[resident.pk]))
    assert PHONE in revealed.content.decode()  # the reveal itself works …
    logged = "\n".join(r.getMessage() for r in caplog.records)
    sql = "\n".join(q["sql"] for q in queries.captured_queries)
    assert "people_resident" in logged  # … SQL logging was really on …
    for plaintext in (number, number.lower(), PHONE, "139 1234 0000"):
        assert plaintext not in logged  # … and never carried a plaintext value
        assert plaintext not in sql
