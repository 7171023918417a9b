"""The third-party `georeport` client (PyPI) reads our server.

georeport calls `requests.get(url)`; a transport adapter hands each prepared request to Django's
test client, so the client's own URL building, parameters, status handling and XML/JSON parsing
run unchanged against our URL conf, middleware and views, inside the test's transaction (no live
server, no flush of the append-only tables).
"""

from urllib.parse import urlsplit

import pytest
import requests
from georeport import GeoReport
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from linli.workorders.choices import State
from linli.workorders.services import order_act

pytestmark = pytest.mark.django_db

ROOT = "http://testserver/open311/v2"


class DjangoAdapter(BaseAdapter):
    def __init__(self, client):
        super().__init__()
        self.client = client
        self.seen: list[str] = []

    def send(self, request, **kwargs):
        url = urlsplit(request.url)
        self.seen.append(request.url)
        path = url.path + (f"?{url.query}" if url.query else "")
        answer = self.client.generic(
            request.method,
            path,
            request.body or b"",
            content_type=request.headers.get("Content-Type", ""),
            HTTP_HOST=url.netloc,
        )
        response = requests.Response()
        response.status_code = answer.status_code
        response._content = answer.content
        response.headers = CaseInsensitiveDict(answer.items())
        response.encoding = "utf-8"
        response.url = request.url
        response.request = request
        return response

    def close(self):
        pass


@pytest.fixture
def transport(client, monkeypatch):
    adapter = DjangoAdapter(client)
    monkeypatch.setattr(requests.Session, "get_adapter", lambda self, url: adapter)
    return adapter


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_reads_services_and_requests(world, users, report, transport, fmt):
    first, second = report(days_ago=2), report(days_ago=1)
    order_act(
        actor=users["dispatcher"],
        order=first,
        action="reject",
        reason="不属实",
        reject_reason="untrue",
    )
    geo = GeoReport(ROOT, jurisdiction=world.street.code, output_format=fmt)

    services = geo.get_service_list()
    codes = {s["service_code"] for s in services}
    assert {"C9801", "E9802"} <= codes and "E9803" not in codes

    definition = geo.get_service_definition("C9801")
    assert definition["service_code"] == "C9801"

    rows = geo.get_service_requests()
    assert [r["service_request_id"] for r in rows] == [str(second.pk), str(first.pk)]
    assert [r["status"] for r in rows] == ["open", "closed"]
    assert geo.get_service_requests(status="closed")
    closed = geo.get_service_requests(status="closed")
    closed = [closed] if isinstance(closed, dict) else closed  # xmltodict: one element, no list
    assert [r["service_request_id"] for r in closed] == [str(first.pk)]

    one = geo.get_service_request(str(second.pk))
    assert one["service_request_id"] == str(second.pk)
    assert one["service_code"] == "C9801" and one["status"] == "open"
    assert one["requested_datetime"].endswith("+08:00")

    with pytest.raises(requests.HTTPError) as missing:
        geo.get_service_request("999999")
    assert missing.value.response.status_code == 404
    assert all(url.startswith(f"{ROOT}/") for url in transport.seen)
    assert any(f"jurisdiction_id={world.street.code}" in url for url in transport.seen)


def test_georeport_sees_a_wrong_jurisdiction_as_404(world, services, transport):
    geo = GeoReport(ROOT, jurisdiction="example.org")
    with pytest.raises(requests.HTTPError) as wrong:
        geo.get_service_list()
    assert wrong.value.response.status_code == 404
    assert wrong.value.response.json()[0]["code"] == 404


def test_georeport_reads_what_an_order_has_become(world, users, report, transport):
    order = report()
    order = order_act(actor=users["supervisor"], order=order, action="register")
    order_act(
        actor=users["dispatcher"], order=order, action="dispatch", department=world.departments[1]
    )
    one = GeoReport(ROOT).get_service_request(str(order.pk))
    assert one["agency_responsible"] == world.departments[1].name
    assert one["status"] == "open" and State.DISPATCHED.value not in one.values()
