import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from linli.open311.services import open311_client_create
from linli.places.choices import PlaceKind
from linli.places.services import place_create
from linli.workorders.choices import CategoryKind, Source
from linli.workorders.models import Category
from linli.workorders.services import Report, order_report

BASE = "/open311/v2"
NAME = "钱阿姨"
PHONE = "13912345678"
FREE_ADDRESS = "银杏路88弄3号楼201室门口"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _category(code: str, name: str, **fields) -> Category:
    values = {
        "kind": CategoryKind.COMPONENT if code[0] == "C" else CategoryKind.EVENT,
        "major_code": code[1:3],
        "major_name": "测试大类",
        "minor_code": code[3:],
        "name": name,
        "description": f"{name}（测试）",
        "close_condition": "已修复并经核查",
    }
    values.update(fields)
    return Category.objects.update_or_create(service_code=code, defaults=values)[0]


@pytest.fixture
def services(db):
    """Categories of our own (major class 98 is not in the shipped classification)."""
    return {
        "cover": _category("C9801", "井盖破损"),
        "litter": _category("E9804", "暴露垃圾"),
        "clutter": _category("E9802", "楼道堆物", self_governable=True),
        "private": _category("E9803", "家庭纠纷", public=False),
    }


@pytest.fixture
def api_key(world):
    return open311_client_create(name="12345 热线对接", street=world.street)[1]


@pytest.fixture
def report(world, users, services):
    """report(days_ago=…, category=…) files an order by the grid worker, with reporter data that
    must never leave by GET."""

    def make(*, days_ago: float = 1, category: str = "cover", **fields):
        values = {
            "source": Source.PATROL,
            "description": "3号楼门口的窨井盖碎了，晚上很危险",
            "category": services[category],
            "place": world.compounds[0],
            "lat": world.compounds[0].lat,
            "lng": world.compounds[0].lng,
            "address": FREE_ADDRESS,
            "reporter_name": NAME,
            "reporter_phone": PHONE,
            "created_at": timezone.now() - dt.timedelta(days=days_ago),
        }
        values.update(fields)
        return order_report(actor=users["gridworker"], report=Report(**values))

    return make


@pytest.fixture
def second_street(world):
    street = place_create(
        actor=None,
        kind=PlaceKind.STREET,
        name="银杏路街道",
        parent=world.district,
        code="310104091000",
    )
    committee = place_create(
        actor=None,
        kind=PlaceKind.COMMITTEE,
        name="银杏居民委员会",
        parent=street,
        code="310104091001",
    )
    compound = place_create(actor=None, kind=PlaceKind.COMPOUND, name="远方花园", parent=committee)
    compound.lat, compound.lng = Decimal("31.300000"), Decimal("121.500000")
    compound.save(update_fields=["lat", "lng"])
    return street
