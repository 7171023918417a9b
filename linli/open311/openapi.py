"""Our own OpenAPI 3 description of GeoReport v2 as served here, with the paging and
FixMyStreet update extensions (served at /open311/v2/openapi.json; schemathesis reads it).

Written from the spec text (WORKORDERS.md §1), not from the "official" Swagger file, whose
paths, required jurisdiction and single-request schema are wrong (§1.7).
"""

_STR = {"type": "string"}
_DATETIME = {"type": "string", "format": "date-time"}


def _param(name: str, where: str, schema: dict, description: str, required: bool = False):
    return {
        "name": name,
        "in": where,
        "required": required or where == "path",
        "schema": schema,
        "description": description,
    }


FORMAT = _param("format", "path", {"type": "string", "enum": ["xml", "json"]}, "Answer format.")
JURISDICTION = _param(
    "jurisdiction_id",
    "query",
    _STR,
    "The street's 12-digit code. Optional while the server serves one street.",
)
PAGE = _param("page", "query", {"type": "integer", "minimum": 1, "maximum": 100000}, "Page (1…).")
PAGE_SIZE = _param(
    "page_size", "query", {"type": "integer", "minimum": 1, "maximum": 1000}, "Rows a page."
)
START = _param("start_date", "query", _DATETIME, "Earliest time (W3C); 90 days at most.")
END = _param("end_date", "query", _DATETIME, "Latest time (W3C); 90 days at most.")

SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": _STR},
    },
    "Errors": {"type": "array", "items": {"$ref": "#/components/schemas/Error"}},
    "Discovery": {
        "type": "object",
        "required": ["changeset", "contact", "key_service", "endpoints"],
        "properties": {
            "changeset": _STR,
            "contact": _STR,
            "key_service": _STR,
            "endpoints": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["specification", "url", "changeset", "type", "formats"],
                    "properties": {
                        "specification": _STR,
                        "url": _STR,
                        "changeset": _STR,
                        "type": {"type": "string", "enum": ["production", "test"]},
                        "formats": {"type": "array", "items": _STR},
                    },
                },
            },
        },
    },
    "Service": {
        "type": "object",
        "required": ["service_code", "service_name", "metadata", "type"],
        "properties": {
            "service_code": _STR,
            "service_name": _STR,
            "description": _STR,
            "metadata": {"type": "boolean"},
            "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]},
            "keywords": _STR,
            "group": _STR,
        },
    },
    "ServiceDefinition": {
        "type": "object",
        "required": ["service_code", "attributes"],
        "properties": {
            "service_code": _STR,
            "attributes": {"type": "array", "items": {"type": "object"}},
        },
    },
    "ServiceRequestCreated": {
        "type": "object",
        "required": ["service_request_id"],
        "properties": {"service_request_id": _STR, "service_notice": _STR},
    },
    "ServiceRequest": {
        "type": "object",
        "required": [
            "service_request_id",
            "status",
            "service_name",
            "service_code",
            "requested_datetime",
            "updated_datetime",
            "address",
        ],
        "properties": {
            "service_request_id": _STR,
            "status": {"type": "string", "enum": ["open", "closed"]},
            "status_notes": _STR,
            "service_name": _STR,
            "service_code": _STR,
            "description": {"type": "string", "maxLength": 4000},
            "agency_responsible": _STR,
            "service_notice": _STR,
            "requested_datetime": _DATETIME,
            "updated_datetime": _DATETIME,
            "expected_datetime": _DATETIME,
            "address": _STR,
            "lat": {"type": "number"},
            "long": {"type": "number"},
        },
        # No reporter, account, e-mail, phone or photo ever leaves by GET.
        "additionalProperties": False,
    },
    "RequestUpdate": {
        "type": "object",
        "required": [
            "update_id",
            "service_request_id",
            "status",
            "description",
            "updated_datetime",
        ],
        "properties": {
            "update_id": _STR,
            "service_request_id": _STR,
            "status": {
                "type": "string",
                "enum": [
                    "OPEN",
                    "IN_PROGRESS",
                    "ACTION_SCHEDULED",
                    "INVESTIGATING",
                    "DUPLICATE",
                    "NOT_COUNCILS_RESPONSIBILITY",
                    "NO_FURTHER_ACTION",
                    "INTERNAL_REFERRAL",
                    "FIXED",
                    "CLOSED",
                    "REOPEN",
                ],
            },
            "description": _STR,
            "updated_datetime": _DATETIME,
        },
        "additionalProperties": False,
    },
}


def _ok(description: str, schema: dict, status: str = "200") -> dict:
    return {
        status: {
            "description": description,
            "content": {
                "application/json": {"schema": schema},
                "text/xml": {"schema": _STR},
            },
        }
    }


def _errors(*statuses: int) -> dict:
    text = {
        400: "Missing or invalid argument.",
        403: "Missing or invalid api_key.",
        404: "Not found.",
    }
    return {
        str(s): {
            "description": text[s],
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Errors"}},
                "text/xml": {"schema": _STR},
            },
        }
        for s in statuses
    }


def _array(name: str) -> dict:
    return {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


POST_FIELDS = {
    "api_key": {"type": "string", "description": "The client's key (403 when wrong)."},
    "jurisdiction_id": _STR,
    "service_code": _STR,
    "lat": {"type": "number", "minimum": -90, "maximum": 90},
    "long": {"type": "number", "minimum": -180, "maximum": 180},
    "address_string": {"type": "string", "description": "Names a residential compound."},
    "address_id": _STR,
    "email": _STR,
    "device_id": _STR,
    "account_id": _STR,
    "first_name": _STR,
    "last_name": _STR,
    "phone": _STR,
    "description": {"type": "string", "maxLength": 4000},
    "media_url": _STR,
}


def openapi_document(server_url: str) -> dict:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Linli Open311 GeoReport v2",
            "version": "2",
            "description": (
                "GeoReport v2 (http://wiki.open311.org/GeoReport_v2) over Linli's work orders, "
                "with the paging extension (page, page_size) and the FixMyStreet "
                "servicerequestupdates extension. Errors are arrays of {code, description} "
                "with HTTP 400, 403 or 404; timestamps carry +08:00; codes and ids are strings; "
                "a parameter sent empty counts as absent. GETs carry no personal data."
            ),
        },
        "servers": [{"url": server_url}],
        "paths": {
            "/discovery.{format}": {
                "get": {
                    "operationId": "discovery",
                    "summary": "Service discovery",
                    "parameters": [FORMAT],
                    "responses": {**_ok("The endpoint list.", _ref("Discovery")), **_errors(404)},
                }
            },
            "/services.{format}": {
                "get": {
                    "operationId": "serviceList",
                    "summary": "Public categories as services",
                    "parameters": [FORMAT, JURISDICTION],
                    "responses": {
                        **_ok("Services.", _array("Service")),
                        **_errors(400, 404),
                    },
                }
            },
            "/services/{service_code}.{format}": {
                "get": {
                    "operationId": "serviceDefinition",
                    "summary": "A service definition (no extra attributes)",
                    "parameters": [
                        _param("service_code", "path", _STR, "The category's code, e.g. C0101."),
                        FORMAT,
                        JURISDICTION,
                    ],
                    "responses": {
                        **_ok("The definition.", _ref("ServiceDefinition")),
                        **_errors(400, 404),
                    },
                }
            },
            "/requests.{format}": {
                "get": {
                    "operationId": "serviceRequests",
                    "summary": "Requests: by default the last 90 days, at most 1000",
                    "parameters": [
                        FORMAT,
                        JURISDICTION,
                        _param(
                            "service_request_id",
                            "query",
                            _STR,
                            "Ids separated by commas; overrides every other filter.",
                        ),
                        _param("service_code", "query", _STR, "Codes separated by commas."),
                        START,
                        END,
                        _param(
                            "status",
                            "query",
                            {"type": "string", "enum": ["open", "closed", "open,closed"]},
                            "open, closed or both.",
                        ),
                        PAGE,
                        PAGE_SIZE,
                    ],
                    "responses": {
                        **_ok("Requests.", _array("ServiceRequest")),
                        **_errors(400, 404),
                    },
                },
                "post": {
                    "operationId": "createServiceRequest",
                    "summary": "Report a problem (needs an api_key)",
                    "parameters": [FORMAT],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/x-www-form-urlencoded": {
                                "schema": {
                                    "type": "object",
                                    "required": ["api_key", "service_code"],
                                    "properties": POST_FIELDS,
                                }
                            }
                        },
                    },
                    "responses": {
                        **_ok("Created.", _array("ServiceRequestCreated"), status="201"),
                        **_errors(400, 403, 404),
                    },
                },
            },
            "/requests/{service_request_id}.{format}": {
                "get": {
                    "operationId": "serviceRequest",
                    "summary": "One request, in the same array wrapper",
                    "parameters": [
                        _param("service_request_id", "path", _STR, "The request's id."),
                        FORMAT,
                        JURISDICTION,
                    ],
                    "responses": {
                        **_ok("A one-element array.", _array("ServiceRequest")),
                        **_errors(400, 404),
                    },
                }
            },
            "/servicerequestupdates.{format}": {
                "get": {
                    "operationId": "serviceRequestUpdates",
                    "summary": "FixMyStreet extension: status changes, oldest first",
                    "parameters": [FORMAT, JURISDICTION, START, END, PAGE, PAGE_SIZE],
                    "responses": {
                        **_ok("Updates.", _array("RequestUpdate")),
                        **_errors(400, 404),
                    },
                }
            },
        },
        "components": {"schemas": SCHEMAS},
    }
