"""GeoReport v2 endpoints under /open311/v2/: thin views over open311.selectors and services.

Public (no login): GETs publish only what selectors allow; POST requests needs an api_key.
Every failure answers in the GeoReport error format with 400, 403 or 404, never a server error
for what a client sends.
"""

from functools import wraps

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from linli.open311 import selectors, services
from linli.open311.openapi import openapi_document
from linli.open311.render import JSON, MIME_TYPES, XML, Open311Error, error, respond

FORMATS = (XML, JSON)


def _base_url(request) -> str:
    """This API's root as the client reached it (every endpoint sits right under it)."""
    return request.build_absolute_uri(request.path.rsplit("/", 1)[0])


def georeport(view):
    """Checks the format and turns Open311Error into the error body in that format."""

    @wraps(view)
    def wrapped(request, *args, fmt: str, **kwargs):
        if fmt not in FORMATS:
            return error(XML, 404, _("Unknown format: use .xml or .json."))
        try:
            return view(request, *args, fmt=fmt, **kwargs)
        except Open311Error as exc:
            return error(fmt, exc.status, exc.description)

    return wrapped


@require_GET
@georeport
def discovery(request, fmt: str):
    base = _base_url(request) + "/"
    return respond(
        fmt,
        "discovery",
        {
            "changeset": selectors.CHANGESET,
            "contact": _("The street's grid management centre (网格化综合管理中心)."),
            "key_service": _(
                "Ask the street's grid management centre for an api_key; "
                "one key serves one street (jurisdiction)."
            ),
            "endpoints": [
                {
                    "specification": selectors.SPECIFICATION,
                    "url": base,
                    "changeset": selectors.CHANGESET,
                    "type": "production",
                    "formats": [MIME_TYPES[XML], MIME_TYPES[JSON]],
                }
            ],
        },
    )


@require_GET
@georeport
def service_list(request, fmt: str):
    selectors.jurisdiction_get(request.GET)
    rows = [selectors.service_row(c) for c in selectors.services_public()]
    return respond(fmt, "services", rows)


@require_GET
@georeport
def service_definition(request, code: str, fmt: str):
    selectors.jurisdiction_get(request.GET)
    category = selectors.service_get(code)
    return respond(fmt, "service_definition", selectors.service_definition(category))


@csrf_exempt
@sensitive_post_parameters("api_key", "phone", "email", "first_name", "last_name")
@require_http_methods(["GET", "POST"])
@georeport
def requests_(request, fmt: str):
    if request.method == "POST":
        return _request_create(request, fmt)
    street = selectors.jurisdiction_get(request.GET)
    orders = selectors.requests_filter(street, request.GET)
    return respond(fmt, "service_requests", selectors.requests_rows(orders))


def _request_create(request, fmt: str):
    client = services.open311_client_authenticate(request.POST.get("api_key", ""))
    if client is None:
        raise Open311Error(403, services.KEY_INVALID)
    order = services.open311_request_create(client=client, data=request.POST)
    return respond(
        fmt,
        "service_requests",
        [{"service_request_id": str(order.pk), "service_notice": services.RECEIVED}],
        status=201,
    )


@require_GET
@georeport
def request_detail(request, pk: str, fmt: str):
    street = selectors.jurisdiction_get(request.GET)
    order = selectors.request_get(street, pk)
    return respond(fmt, "service_requests", selectors.request_rows([order]))


@require_GET
@georeport
def updates(request, fmt: str):
    street = selectors.jurisdiction_get(request.GET)
    transitions = selectors.updates_filter(street, request.GET)
    return respond(fmt, "service_requests_updates", selectors.update_rows(transitions))


@csrf_exempt
def not_found(request, rest: str = ""):
    fmt = JSON if rest.endswith(".json") else XML
    return error(fmt, 404, _("No such Open311 resource."))


@require_GET
def openapi(request):
    return JsonResponse(openapi_document(_base_url(request)))
