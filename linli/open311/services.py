"""Open311 writes: API clients (the key is shown once and kept only as a hash) and POST requests,
which enter through the work orders' one intake service like every other channel."""

import hashlib
import re
import secrets
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from linli.core.audit import audit_record
from linli.open311 import selectors
from linli.open311.render import Open311Error, clean_text
from linli.places.choices import PlaceKind
from linli.places.models import Place
from linli.workorders import selectors as order_selectors
from linli.workorders.choices import Source
from linli.workorders.models import Open311Client, WorkOrder
from linli.workorders.services import MAX_DESCRIPTION, Report, order_report

NOT_A_STREET = _("Open311 clients belong to a street.")
NOT_A_COORDINATE = _("%(name)s is not a WGS84 coordinate.")
BOTH_COORDINATES = _("Send both lat and long.")
OUTSIDE = _("The location is not in this jurisdiction.")
ADDRESS_UNKNOWN = _("address_string names no residential compound of this jurisdiction.")
ADDRESS_ID_UNSUPPORTED = _("address_id is not supported: send lat and long.")
LOCATION_REQUIRED = _("A location is required: lat and long, or address_string.")
KEY_OTHER_STREET = _("This api_key is not valid for this jurisdiction.")
SERVICE_CODE_REQUIRED = _("service_code is required.")
DESCRIPTION_TOO_LONG = _("description may be at most 4000 characters.")
KEY_INVALID = _("Invalid api_key received: cannot create the request.")
RECEIVED = _("Received. A grid worker verifies the report on site before it is registered.")
_CJK = re.compile("[\u2e80-\u9fff\uf900-\ufaff]")


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def open311_client_create(*, name: str, street: Place, actor=None) -> tuple[Open311Client, str]:
    """A client allowed to POST requests for one street; returns it and its key (shown once)."""
    if street.kind != PlaceKind.STREET:
        raise ValidationError({"street": [NOT_A_STREET]})
    key = secrets.token_urlsafe(32)
    client = Open311Client(name=name, street=street, key_hash=key_hash(key), key_prefix=key[:8])
    client.full_clean()
    client.save()
    audit_record(
        actor=actor,
        action="open311.client.create",
        obj=client,
        place=street,
        changes={"name": name, "key_prefix": client.key_prefix},
    )
    return client, key


def open311_client_authenticate(key: str) -> Open311Client | None:
    key = (key or "").strip()
    if not key or len(key) > 200:
        return None
    return (
        Open311Client.objects.select_related("street")
        .filter(key_hash=key_hash(key), active=True)
        .first()
    )


def _reporter_name(first: str, last: str) -> str:
    if first and last and _CJK.search(first + last):
        return f"{last}{first}"  # 姓 before 名
    return " ".join(p for p in (first, last) if p)


def _decimal(text: str, name: str, limit: int) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or not -limit <= value <= limit:
        raise Open311Error(400, NOT_A_COORDINATE % {"name": name})
    return value.quantize(Decimal("0.000001"))


def _compound_named(street: Place, text: str) -> Place | None:
    """The compound of the street whose name the address mentions (the longest such name)."""
    compounds = Place.objects.filter(kind=PlaceKind.COMPOUND, path__startswith=street.path).only(
        "id", "name", "path", "kind", "parent_id", "lat", "lng"
    )
    found = [c for c in compounds if c.name and c.name in text]
    return max(found, key=lambda c: len(c.name)) if found else None


def _location(street: Place, data) -> tuple[Place, Decimal | None, Decimal | None]:
    lat_text, lng_text = selectors.param(data, "lat"), selectors.param(data, "long")
    address = clean_text(selectors.param(data, "address_string"))
    if lat_text or lng_text:
        if not (lat_text and lng_text):
            raise Open311Error(400, BOTH_COORDINATES)
        lat, lng = _decimal(lat_text, "lat", 90), _decimal(lng_text, "long", 180)
        place = order_selectors.place_near(lat, lng)
        if place is None or not place.path.startswith(street.path):
            raise Open311Error(400, OUTSIDE)
        return place, lat, lng
    if address:
        place = _compound_named(street, address)
        if place is None:
            raise Open311Error(400, ADDRESS_UNKNOWN)
        return place, None, None
    if selectors.param(data, "address_id"):
        raise Open311Error(400, ADDRESS_ID_UNSUPPORTED)
    raise Open311Error(400, LOCATION_REQUIRED)


def open311_request_create(*, client: Open311Client, data) -> WorkOrder:
    """POST requests: jurisdiction, service, location and text checked, then the intake (T1)."""
    street = selectors.jurisdiction_get(data, required=False) or client.street
    if street.pk != client.street_id:
        raise Open311Error(403, KEY_OTHER_STREET)
    code = selectors.param(data, "service_code")
    if not code:
        raise Open311Error(400, SERVICE_CODE_REQUIRED)
    category = selectors.service_get(code)
    place, lat, lng = _location(street, data)
    description = clean_text(data.get("description") or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(400, DESCRIPTION_TOO_LONG)
    report = Report(
        source=Source.OPEN311,
        description=description or category.name,
        category=category,
        place=place,
        lat=lat,
        lng=lng,
        address=clean_text(selectors.param(data, "address_string"))[:200],
        reporter_name=_reporter_name(
            clean_text(selectors.param(data, "first_name")),
            clean_text(selectors.param(data, "last_name")),
        )[:64],
        reporter_phone=clean_text(selectors.param(data, "phone"))[:32],
    )
    try:
        return order_report(actor=None, report=report)
    except ValidationError as exc:
        raise Open311Error(400, " ".join(str(m) for m in exc.messages)) from None
