import datetime as dt
import re

import pytest
import xmltodict
from django.utils import timezone, translation

from linli.open311 import selectors, services
from linli.open311.tests.conftest import BASE, FREE_ADDRESS, NAME, PHONE
from linli.workorders.choices import RejectReason, Source, State
from linli.workorders.models import Open311Client, WorkOrder
from linli.workorders.services import order_act
from linli.workorders.tests.conftest import photo

pytestmark = pytest.mark.django_db

XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>'
OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")


def get(client, path: str, fmt: str, **params):
    return client.get(f"{BASE}/{path}.{fmt}", params)


def body(response, fmt: str):
    """The response as Python: JSON as is, XML through xmltodict (lists forced)."""
    if fmt == "json":
        assert response["Content-Type"] == "application/json; charset=utf-8"
        return response.json()
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    text = response.content.decode()
    assert text.startswith(XML_DECLARATION)
    return xmltodict.parse(
        text, force_list=("service", "request", "request_update", "error", "endpoint", "format")
    )


def errors(response, fmt: str) -> list[dict]:
    data = body(response, fmt)
    rows = data if fmt == "json" else data["errors"]["error"]
    return [{"code": int(e["code"]), "description": e["description"]} for e in rows]


def request_list(response, fmt: str) -> list[dict]:
    data = body(response, fmt)
    if fmt == "json":
        return data
    return (data["service_requests"] or {}).get("request", [])


FORMATS = pytest.mark.parametrize("fmt", ["xml", "json"])


def zh(message) -> str:
    """A message as the API sends it: Chinese first."""
    with translation.override("zh-hans"):
        return str(message)


# --- discovery and services ---------------------------------------------------------------------


@FORMATS
def test_discovery_lists_the_endpoint_with_both_formats(client, db, fmt):
    response = get(client, "discovery", fmt)
    assert response.status_code == 200
    data = body(response, fmt)
    data = data if fmt == "json" else data["discovery"]
    assert {"changeset", "contact", "key_service", "endpoints"} <= set(data)
    endpoints = data["endpoints"] if fmt == "json" else data["endpoints"]["endpoint"]
    (endpoint,) = endpoints
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2/"
    assert endpoint["type"] == "production"
    formats = endpoint["formats"] if fmt == "json" else endpoint["formats"]["format"]
    assert formats == ["text/xml", "application/json"]


@FORMATS
def test_services_are_the_public_categories_with_string_codes(client, world, services, fmt):
    response = get(client, "services", fmt)
    assert response.status_code == 200
    data = body(response, fmt)
    rows = data if fmt == "json" else data["services"]["service"]
    by_code = {row["service_code"]: row for row in rows}
    assert "C9801" in by_code and "E9802" in by_code
    assert "E9803" not in by_code  # not public
    cover = by_code["C9801"]
    assert cover["service_name"] == "井盖破损" and cover["group"] == "测试大类"
    assert cover["type"] == "realtime" and cover["keywords"]
    assert cover["metadata"] == (False if fmt == "json" else "false")


@FORMATS
def test_a_service_definition_answers_for_known_codes_only(client, world, services, fmt):
    response = get(client, "services/C9801", fmt)
    assert response.status_code == 200
    data = body(response, fmt)
    if fmt == "json":
        assert data == {"service_code": "C9801", "attributes": []}
    else:
        assert data["service_definition"]["service_code"] == "C9801"
    for code in ("E9803", "NOPE", "C9801.json"):
        missing = get(client, f"services/{code}", fmt)
        assert missing.status_code == 404
        assert errors(missing, fmt)[0]["code"] == 404


@FORMATS
def test_jurisdiction_is_optional_with_one_street_and_checked_when_given(
    client, world, services, fmt
):
    assert get(client, "services", fmt, jurisdiction_id="").status_code == 200
    assert get(client, "services", fmt, jurisdiction_id=world.street.code).status_code == 200
    wrong = get(client, "services", fmt, jurisdiction_id="example.org")
    assert wrong.status_code == 404
    assert errors(wrong, fmt) == [
        {"code": 404, "description": zh(selectors.JURISDICTION_NOT_FOUND)}
    ]


@FORMATS
def test_with_two_streets_the_jurisdiction_is_required(client, world, services, second_street, fmt):
    missing = get(client, "requests", fmt)
    assert missing.status_code == 400
    assert errors(missing, fmt)[0]["description"] == zh(selectors.JURISDICTION_REQUIRED)
    assert get(client, "requests", fmt, jurisdiction_id=second_street.code).status_code == 200


def test_unknown_paths_and_formats_answer_404_in_the_error_format(client, db):
    for path in ("/open311/v2/nothing.json", "/open311/v2/services.html", "/open311/v2/"):
        response = client.get(path)
        assert response.status_code == 404
        assert response["Content-Type"].startswith(("text/xml", "application/json"))


# --- POST requests ------------------------------------------------------------------------------


def post(client, fmt: str, **fields):
    return client.post(f"{BASE}/requests.{fmt}", fields)


@FORMATS
def test_post_needs_a_valid_api_key(client, world, services, api_key, fmt):
    point = {"lat": str(world.compounds[0].lat), "long": str(world.compounds[0].lng)}
    for key in ({}, {"api_key": ""}, {"api_key": "not-the-key"}, {"api_key": api_key[:-1]}):
        response = post(client, fmt, service_code="C9801", **point, **key)
        assert response.status_code == 403
        assert errors(response, fmt)[0]["code"] == 403
    assert not WorkOrder.objects.exists()


def test_post_needs_no_csrf_token(world, services, api_key):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        f"{BASE}/requests.json",
        {"api_key": api_key, "service_code": "C9801", "address_string": world.compounds[0].name},
    )
    assert response.status_code == 201, response.content


def test_the_key_is_kept_only_as_a_hash(world, api_key):
    client = Open311Client.objects.get()
    assert client.key_hash != api_key and len(client.key_hash) == 64
    assert api_key not in repr(Open311Client.objects.values().get())
    assert api_key.startswith(client.key_prefix)


@FORMATS
def test_post_creates_an_order_through_the_intake(client, world, services, api_key, fmt):
    compound = world.compounds[1]
    response = post(
        client,
        fmt,
        api_key=api_key,
        jurisdiction_id=world.street.code,
        service_code="C9801",
        lat=str(compound.lat),
        long=str(compound.lng),
        description="路口井盖松动",
        first_name="阿姨",
        last_name="钱",
        phone=PHONE,
        email="qian@example.com",
    )
    assert response.status_code == 201, response.content
    rows = request_list(response, fmt)
    assert len(rows) == 1 and rows[0]["service_notice"]
    order = WorkOrder.objects.get(pk=int(rows[0]["service_request_id"]))
    assert (order.source, order.state, order.place) == (Source.OPEN311, State.REPORTED, compound)
    assert order.street == world.street and order.category == services["cover"]
    assert order.reporter is None and order.reporter_name == "钱阿姨"
    assert order.reporter_phone_masked and PHONE not in order.reporter_phone_masked
    log = order.transitions.get()
    assert (log.action, log.actor, log.role) == ("report", None, "system")


def test_post_finds_the_compound_named_in_address_string(client, world, services, api_key):
    compound = world.compounds[2]
    response = post(
        client,
        "json",
        api_key=api_key,
        service_code="C9801",
        address_string=f"梧桐路街道{compound.name}5号楼东侧",
        description="",
    )
    assert response.status_code == 201, response.content
    order = WorkOrder.objects.get(pk=int(response.json()[0]["service_request_id"]))
    assert order.place == compound and order.lat is None
    assert order.description == "井盖破损"  # an empty description falls back to the service name


LAT = services.NOT_A_COORDINATE % {"name": "lat"}


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"service_code": "C9801"}, 400, services.LOCATION_REQUIRED),
        (
            {"service_code": "C9801", "address_string": "不存在的地方"},
            400,
            services.ADDRESS_UNKNOWN,
        ),
        ({"service_code": "C9801", "address_id": "77"}, 400, services.ADDRESS_ID_UNSUPPORTED),
        ({"service_code": "C9801", "lat": "31.2"}, 400, services.BOTH_COORDINATES),
        ({"service_code": "C9801", "lat": "abc", "long": "121.4"}, 400, LAT),
        ({"service_code": "C9801", "lat": "NaN", "long": "121.4"}, 400, LAT),
        ({"service_code": "C9801", "lat": "91", "long": "121.4"}, 400, LAT),
        ({"service_code": "C9801", "lat": "40.0", "long": "116.4"}, 400, services.OUTSIDE),
        ({"lat": "31.2050", "long": "121.4250"}, 400, services.SERVICE_CODE_REQUIRED),
        ({"service_code": "E9803", "address_string": "x"}, 404, selectors.SERVICE_NOT_FOUND),
        ({"service_code": "X0000", "address_string": "x"}, 404, selectors.SERVICE_NOT_FOUND),
        ({"service_code": "C9801", "jurisdiction_id": "x"}, 404, selectors.JURISDICTION_NOT_FOUND),
    ],
)
def test_post_refuses_what_is_missing_or_wrong(
    client, world, services, api_key, fields, status, message
):
    response = post(client, "json", api_key=api_key, **fields)
    assert response.status_code == status
    assert errors(response, "json") == [{"code": status, "description": zh(message)}]
    assert not WorkOrder.objects.exists()


def test_post_refuses_a_description_over_4000_characters(client, world, services, api_key):
    compound = world.compounds[0]
    point = {"lat": str(compound.lat), "long": str(compound.lng)}
    too_long = post(
        client, "xml", api_key=api_key, service_code="C9801", description="坏" * 4001, **point
    )
    assert too_long.status_code == 400
    assert errors(too_long, "xml")[0]["code"] == 400
    ok = post(
        client, "xml", api_key=api_key, service_code="C9801", description="坏" * 4000, **point
    )
    assert ok.status_code == 201


def test_post_refuses_a_key_of_another_street(client, world, services, second_street):
    from linli.open311.services import open311_client_create

    _, other_key = open311_client_create(name="外街", street=second_street)
    response = post(
        client,
        "json",
        api_key=other_key,
        jurisdiction_id=world.street.code,
        service_code="C9801",
        lat=str(world.compounds[0].lat),
        long=str(world.compounds[0].lng),
    )
    assert response.status_code == 403
    # Without jurisdiction_id the key's own street applies; this point is not in it.
    response = post(
        client,
        "json",
        api_key=other_key,
        service_code="C9801",
        lat=str(world.compounds[0].lat),
        long=str(world.compounds[0].lng),
    )
    assert response.status_code == 400


def test_an_inactive_client_is_refused(client, world, services, api_key):
    Open311Client.objects.update(active=False)
    response = post(client, "json", api_key=api_key, service_code="C9801", address_string="x")
    assert response.status_code == 403


# --- GET requests -------------------------------------------------------------------------------


@FORMATS
def test_requests_default_to_the_last_90_days(client, world, report, fmt):
    recent, old = report(days_ago=1), report(days_ago=100)
    rows = request_list(get(client, "requests", fmt), fmt)
    assert [r["service_request_id"] for r in rows] == [str(recent.pk)]
    row = rows[0]
    assert row["status"] == "open" and row["service_code"] == "C9801"
    assert row["service_name"] == "井盖破损" and row["status_notes"] == zh(State.REPORTED.label)
    assert row["address"].startswith(world.compounds[0].name + ", ")
    assert row["address"].endswith("梧桐路街道, 徐汇区, 上海市")
    assert OFFSET.match(row["requested_datetime"]) and OFFSET.match(row["updated_datetime"])
    assert float(row["lat"]) == float(world.compounds[0].lat)
    assert "media_url" not in row
    # An explicit window finds the old one.
    start = (timezone.now() - dt.timedelta(days=120)).isoformat()
    end = (timezone.now() - dt.timedelta(days=50)).isoformat()
    rows = request_list(get(client, "requests", fmt, start_date=start, end_date=end), fmt)
    assert [r["service_request_id"] for r in rows] == [str(old.pk)]


@FORMATS
def test_a_window_over_90_days_is_refused(client, world, services, fmt):
    response = get(
        client,
        "requests",
        fmt,
        start_date="2026-01-01T00:00:00+08:00",
        end_date="2026-04-02T00:00:00+08:00",
    )
    assert response.status_code == 400
    assert errors(response, fmt)[0]["description"] == zh(selectors.SPAN_TOO_LONG)
    ok = get(
        client,
        "requests",
        fmt,
        start_date="2026-01-01T00:00:00Z",
        end_date="2026-03-31T00:00:00Z",
    )
    assert ok.status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "yesterday"},
        {"end_date": "2026-13-45T00:00:00Z"},
        {"start_date": "2026-03-09T00:00:00Z", "end_date": "2026-03-01T00:00:00Z"},
        {"start_date": "0001-01-01"},
        {"end_date": "0001-01-01T00:00:00+08:00"},
        {"status": "pending"},
        {"page": "0"},
        {"page_size": "1001"},
        {"page_size": "ten"},
        {"service_request_id": "1,abc"},
        {"service_request_id": "9" * 40},
        {"service_request_id": "²"},
        {"page": "٣"},
    ],
)
def test_garbage_parameters_are_400_not_a_crash(client, world, services, params):
    for fmt in ("json", "xml"):
        response = get(client, "requests", fmt, **params)
        assert response.status_code == 400, (params, response.content)
        assert errors(response, fmt)[0]["code"] == 400


@FORMATS
def test_status_filter_splits_open_and_closed(client, world, users, report, fmt):
    open_order, closed_order = report(), report()
    order_act(
        actor=users["dispatcher"],
        order=closed_order,
        action="reject",
        reason="现场无此情况",
        reject_reason="untrue",
    )

    def ids(**params):
        return {
            r["service_request_id"]
            for r in request_list(get(client, "requests", fmt, **params), fmt)
        }

    assert ids(status="open") == {str(open_order.pk)}
    assert ids(status="closed") == {str(closed_order.pk)}
    assert ids(status="open,closed") == ids(status="") == {str(open_order.pk), str(closed_order.pk)}
    (closed,) = [r for r in request_list(get(client, "requests", fmt, status="closed"), fmt)]
    assert closed["status"] == "closed"
    assert closed["status_notes"] == zh(RejectReason.UNTRUE.label)
    assert "现场无此情况" not in get(client, "requests", fmt).content.decode()


@FORMATS
def test_service_request_id_overrides_the_other_filters(client, world, report, fmt):
    old, recent = report(days_ago=200), report(days_ago=1)
    rows = request_list(
        get(
            client,
            "requests",
            fmt,
            service_request_id=f"{old.pk}, {recent.pk},999999",
            status="closed",
            service_code="X",
        ),
        fmt,
    )
    assert {r["service_request_id"] for r in rows} == {str(old.pk), str(recent.pk)}


@FORMATS
def test_service_code_filter_and_paging(client, world, report, fmt):
    covers = [report(days_ago=d) for d in (1, 2, 3)]
    litter = report(category="litter")
    rows = request_list(get(client, "requests", fmt, service_code="C9801,C0000"), fmt)
    assert [r["service_request_id"] for r in rows] == [str(o.pk) for o in covers]
    page2 = request_list(get(client, "requests", fmt, page="2", page_size="2"), fmt)
    assert [r["service_request_id"] for r in page2] == [str(covers[1].pk), str(covers[2].pk)]
    assert str(litter.pk) in {
        r["service_request_id"] for r in request_list(get(client, "requests", fmt), fmt)
    }


def test_the_committees_own_matters_are_not_published(client, world, report):
    clutter = report(category="clutter")  # a stairwell between neighbours: their affair
    rows = client.get(f"{BASE}/requests.json").json()
    assert str(clutter.pk) not in {r["service_request_id"] for r in rows}
    assert client.get(f"{BASE}/requests/{clutter.pk}.json").status_code == 404


def test_private_categories_and_errands_are_never_listed(client, world, report):
    hidden = report(category="private")
    rows = client.get(f"{BASE}/requests.json").json()
    assert str(hidden.pk) not in {r["service_request_id"] for r in rows}
    assert client.get(f"{BASE}/requests/{hidden.pk}.json").status_code == 404


@FORMATS
def test_one_request_comes_in_the_same_array_wrapper(client, world, report, fmt):
    order = report()
    response = get(client, f"requests/{order.pk}", fmt)
    assert response.status_code == 200
    rows = request_list(response, fmt)
    assert len(rows) == 1 and rows[0]["service_request_id"] == str(order.pk)
    for missing in ("999999", "abc", "1.5", "²", "%00", "9" * 30):
        response = get(client, f"requests/{missing}", fmt)
        assert response.status_code == 404
        assert errors(response, fmt)[0]["code"] == 404


def test_a_closed_request_carries_its_close_time_and_agency(client, world, users, report):
    order = report()
    order = order_act(actor=users["supervisor"], order=order, action="register")
    order = order_act(
        actor=users["dispatcher"],
        order=order,
        action="dispatch",
        department=world.departments[0],
    )
    (row,) = client.get(f"{BASE}/requests/{order.pk}.json").json()
    assert row["agency_responsible"] == world.departments[0].name
    assert OFFSET.match(row["expected_datetime"])
    assert row["service_notice"] == "已修复并经核查"
    WorkOrder.objects.filter(pk=order.pk).update(
        state=State.CLOSED, closed_at=timezone.now() - dt.timedelta(hours=3)
    )
    (row,) = client.get(f"{BASE}/requests/{order.pk}.json").json()
    closed_at = WorkOrder.objects.get(pk=order.pk).closed_at
    assert row["status"] == "closed"
    assert dt.datetime.fromisoformat(row["updated_datetime"]) == closed_at.replace(microsecond=0)
    assert "expected_datetime" not in row


def test_the_list_is_a_bounded_number_of_queries(
    client, world, report, django_assert_max_num_queries
):
    for i in range(25):
        report(days_ago=i % 10 + 1, place=world.compounds[i % len(world.compounds)])
    with django_assert_max_num_queries(5):
        rows = client.get(f"{BASE}/requests.json").json()
    assert len(rows) == 25
    with django_assert_max_num_queries(5):
        client.get(f"{BASE}/requests.xml")


# --- no personal data ---------------------------------------------------------------------------


def test_no_get_carries_personal_data(client, world, users, report, api_key):
    order = report()
    posted = post(
        client,
        "json",
        api_key=api_key,
        service_code="C9801",
        address_string=f"{world.compounds[1].name}{FREE_ADDRESS}",
        first_name="伯伯",
        last_name="陆",
        phone="13966667777",
        email="lu@example.com",
    )
    assert posted.status_code == 201
    mine = WorkOrder.objects.exclude(pk=order.pk).get()
    order_act(
        actor=users["dispatcher"], order=order, action="send_verify", assignee=users["gridworker"]
    )
    secrets = [
        NAME,
        PHONE,
        order.reporter_phone_masked,
        "陆伯伯",
        "13966667777",
        mine.reporter_phone_masked,
        "lu@example.com",
        FREE_ADDRESS,
        users["gridworker"].username,
        users["dispatcher"].username,
        users["gridworker"].display_name,
        api_key,
    ]
    paths = [
        "discovery",
        "services",
        "services/C9801",
        "requests",
        f"requests/{order.pk}",
        f"requests/{mine.pk}",
        "servicerequestupdates",
    ]
    for path in paths:
        for fmt in ("json", "xml"):
            text = get(client, path, fmt).content.decode()
            for secret in secrets:
                assert secret not in text, (path, fmt, secret)
            for field in ("reporter", "phone", "email", "account_id", "media_url", "first_name"):
                assert field not in text, (path, fmt, field)


# --- FixMyStreet updates ------------------------------------------------------------------------


@FORMATS
def test_updates_follow_the_transition_log_with_fixed_wording(client, world, users, report, fmt):
    order = report()
    duplicate = report()
    order = order_act(
        actor=users["dispatcher"],
        order=order,
        action="send_verify",
        assignee=users["gridworker"],
        reason="请核实 13800000000",
    )
    order = order_act(actor=users["gridworker"], order=order, action="verify", photos=[photo()])
    order = order_act(actor=users["supervisor"], order=order, action="register")
    order = order_act(
        actor=users["dispatcher"], order=order, action="dispatch", department=world.departments[0]
    )
    order_act(
        actor=users["dispatcher"],
        order=duplicate,
        action="reject",
        reason="与前单重复，联系人王先生",
        reject_reason="duplicate",
        duplicate_of=order,
    )
    data = body(get(client, "servicerequestupdates", fmt), fmt)
    rows = data if fmt == "json" else data["service_requests_updates"]["request_update"]
    mine = [(r["service_request_id"], r["status"]) for r in rows]
    assert mine == [
        (str(order.pk), "OPEN"),
        (str(duplicate.pk), "OPEN"),
        (str(order.pk), "INVESTIGATING"),
        (str(order.pk), "INVESTIGATING"),
        (str(order.pk), "ACTION_SCHEDULED"),
        (str(order.pk), "ACTION_SCHEDULED"),
        (str(duplicate.pk), "DUPLICATE"),
    ]
    assert rows[5]["description"] == zh(
        selectors.DISPATCHED_TO % {"department": world.departments[0].name}
    )
    assert rows[6]["description"] == zh(RejectReason.DUPLICATE.label)
    assert all(OFFSET.match(r["updated_datetime"]) and r["update_id"] for r in rows)
    text = get(client, "servicerequestupdates", fmt).content.decode()
    assert "13800000000" not in text and "王先生" not in text


@FORMATS
def test_updates_take_the_same_date_window(client, world, report, fmt):
    report(days_ago=100)
    assert get(client, "servicerequestupdates", fmt).status_code == 200
    far = get(
        client,
        "servicerequestupdates",
        fmt,
        start_date="2025-01-01T00:00:00+08:00",
        end_date="2025-06-01T00:00:00+08:00",
    )
    assert far.status_code == 400
    old = body(
        get(
            client,
            "servicerequestupdates",
            fmt,
            start_date=(timezone.now() - dt.timedelta(days=101)).isoformat(),
        ),
        fmt,
    )
    rows = old if fmt == "json" else old["service_requests_updates"]["request_update"]
    assert [r["status"] for r in rows] == ["OPEN"]


def test_garbage_in_the_body_or_the_path_never_breaks_the_server(client, world, services, api_key):
    nasty = ["\x00", "'; DROP TABLE x; --", "9" * 400, "%00", "<a>&amp;</a>", "\x1b[31m", "\uffff"]
    for value in nasty:
        for fmt in ("json", "xml"):
            for path in ("requests", "servicerequestupdates", "services"):
                response = client.get(
                    f"{BASE}/{path}.{fmt}",
                    {"jurisdiction_id": value, "start_date": value, "page": value},
                )
                # NUL and the like are dropped (the parameter may then count as absent).
                assert response.status_code in (200, 400, 404), (path, value)
            response = post(
                client,
                fmt,
                api_key=api_key,
                service_code="C9801",
                address_string=world.compounds[0].name + value,
                description=value,
                first_name=value,
                phone=value,
                lat=value,
                long=value,
            )
            assert response.status_code in (201, 400), (value, response.content)
    texts = "".join(WorkOrder.objects.values_list("description", flat=True))
    assert "\x00" not in texts


def test_bytes_that_are_not_utf8_are_read_leniently(client, world, services, api_key):
    for fmt in ("json", "xml"):
        response = client.get(f"{BASE}/requests.{fmt}?jurisdiction_id=%ED%A0%80&start_date=%FF")
        assert response.status_code in (400, 404)
        response = client.generic(
            "POST",
            f"{BASE}/requests.{fmt}",
            f"api_key={api_key}&service_code=C9801&description=%ED%A0%80%FF"
            f"&address_string={world.compounds[0].name}",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 201, response.content


def test_what_callers_and_residents_wrote_is_not_published(client, world, users, services):
    from linli.workorders.services import Report, order_report

    call = order_report(
        actor=users["dispatcher"],
        report=Report(
            source=Source.HOTLINE,
            description="市民钱阿姨（13912345678）来电反映302室门口井盖破损",
            category=services["cover"],
            place=world.compounds[0],
            created_at=timezone.now() - dt.timedelta(hours=2),
        ),
    )
    rows = client.get(f"{BASE}/requests/{call.pk}.json").json()
    assert rows[0]["description"] == services["cover"].name
    assert "13912345678" not in client.get(f"{BASE}/requests.json").content.decode()
    # The point published is the compound's, not the reporter's own.
    assert rows[0]["lat"] == float(world.compounds[0].lat)
