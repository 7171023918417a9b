import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import resolve

from linli.open311.openapi import openapi_document
from linli.open311.services import key_hash, open311_client_authenticate
from linli.workorders.models import Open311Client

pytestmark = pytest.mark.django_db


def test_the_command_creates_a_client_and_prints_its_key_once(world):
    out = StringIO()
    call_command("open311_client", "12345 热线对接", "--street", world.street.code, stdout=out)
    key = re.search(r"api_key: (\S+)", out.getvalue()).group(1)
    client = Open311Client.objects.get()
    assert client.street == world.street and client.name == "12345 热线对接"
    assert client.key_hash == key_hash(key) and key not in client.key_hash
    assert open311_client_authenticate(key) == client
    assert open311_client_authenticate(key + "x") is None
    assert open311_client_authenticate("") is None


def test_the_command_takes_the_only_street_by_default_and_refuses_unknown_ones(world):
    call_command("open311_client", "巡查 App", stdout=StringIO())
    assert Open311Client.objects.get().street == world.street
    with pytest.raises(CommandError):
        call_command("open311_client", "x", "--street", "999999999999", stdout=StringIO())


def test_the_command_needs_a_street_when_there_are_several(world, second_street):
    with pytest.raises(CommandError):
        call_command("open311_client", "x", stdout=StringIO())
    call_command("open311_client", "x", "--street", second_street.code, stdout=StringIO())
    assert Open311Client.objects.get().street == second_street


def test_the_openapi_document_is_served_and_matches_the_urls(client, db):
    response = client.get("/open311/v2/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert document["servers"] == [{"url": "http://testserver/open311/v2"}]
    assert document == openapi_document("http://testserver/open311/v2")
    for path in document["paths"]:
        for fmt in ("xml", "json"):
            url = "/open311/v2" + path.format(
                format=fmt, service_code="C0101", service_request_id="1"
            )
            assert resolve(url).url_name is not None, url
    request = document["components"]["schemas"]["ServiceRequest"]
    assert request["additionalProperties"] is False
    assert not {"media_url", "account_id", "email", "phone"} & set(request["properties"])
