"""The two GeoReport formats, chosen by the URL's extension.

XML is the JSON tree spelled out: a list becomes an element holding one child per item, named by
ITEM_TAGS (services → service, service_requests → request …); absent values are left out.
Timestamps are W3C/ISO 8601 in Asia/Shanghai (+08:00); codes and ids are always strings.
"""

import datetime as dt
import json
import re
from io import StringIO

from django.http import HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.xmlutils import SimplerXMLGenerator

XML, JSON = "xml", "json"
CONTENT_TYPES = {XML: "text/xml; charset=utf-8", JSON: "application/json; charset=utf-8"}
MIME_TYPES = {XML: "text/xml", JSON: "application/json"}

ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "service_requests_updates": "request_update",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
}

# Characters XML 1.0 cannot carry (and NUL, which PostgreSQL text cannot either).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


NOT_A_DATE = _("%(name)s is not a W3C date-time such as 2026-03-09T09:30:00+08:00.")


class Open311Error(Exception):
    """An answer in the GeoReport error format: HTTP 400, 403 or 404 with errors/error."""

    def __init__(self, status: int, description: str):
        self.status = status
        self.description = str(description)
        super().__init__(self.description)


def clean_text(value: str) -> str:
    return _NOT_XML.sub("", value or "")


def w3c(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return timezone.localtime(value, timezone.get_default_timezone()).isoformat(timespec="seconds")


def parse_w3c(value: str, name: str) -> dt.datetime:
    """A W3C date or date-time; one without an offset is read in Asia/Shanghai."""
    text = value.strip()
    try:
        moment = parse_datetime(text)
        if moment is None:
            day = parse_date(text)
            if day is not None:
                moment = dt.datetime.combine(day, dt.time.min)
    except (ValueError, OverflowError):
        moment = None
    if moment is None or not 1900 <= moment.year <= 2999:
        raise Open311Error(400, NOT_A_DATE % {"name": name})
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    return moment


def _scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return clean_text(str(value))


def _write(xml: SimplerXMLGenerator, tag: str, value) -> None:
    if value is None:
        return
    if isinstance(value, dict):
        xml.startElement(tag, {})
        for key, child in value.items():
            _write(xml, key, child)
        xml.endElement(tag)
    elif isinstance(value, list | tuple):
        xml.startElement(tag, {})
        for child in value:
            _write(xml, ITEM_TAGS.get(tag, "item"), child)
        xml.endElement(tag)
    else:
        xml.addQuickElement(tag, _scalar(value))


def _xml(root: str, value) -> str:
    stream = StringIO()
    xml = SimplerXMLGenerator(stream, "utf-8")
    xml.startDocument()
    _write(xml, root, value)
    xml.endDocument()
    return stream.getvalue()


def _json_clean(value):
    if isinstance(value, dict):
        return {k: _json_clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_json_clean(v) for v in value]
    if isinstance(value, str | Promise):
        return clean_text(str(value))
    return value


def respond(fmt: str, root: str, value, status: int = 200) -> HttpResponse:
    """`value` is a list (a GeoReport array, e.g. root service_requests) or a dict (an object,
    e.g. root discovery)."""
    if fmt == JSON:
        body = json.dumps(_json_clean(value), ensure_ascii=False, separators=(",", ":"))
    else:
        body = _xml(root, value)
    return HttpResponse(body.encode(), status=status, content_type=CONTENT_TYPES[fmt])


def error(fmt: str, status: int, description: str) -> HttpResponse:
    return respond(fmt, "errors", [{"code": status, "description": description}], status=status)
