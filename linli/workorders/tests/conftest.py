import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from linli.workorders.choices import Source
from linli.workorders.models import Category
from linli.workorders.services import Report, order_report

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Monday morning with no holiday near it.
MONDAY = dt.datetime(2026, 3, 9, 9, 30, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Reporters are notified (notify.py): in-app only here, no console relay.
    settings.LINLI_NOTIFY_SENDERS = []


def jpeg_bytes(exif: bytes | None = None) -> bytes:
    """A real 8×8 JPEG (optionally carrying EXIF), as a phone would send."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 120, 40)).save(
        out, format="JPEG", **({"exif": exif} if exif else {})
    )
    return out.getvalue()


def photo(name: str = "site.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg_bytes(), content_type="image/jpeg")


def a_category(*, self_governable: bool = False) -> Category:
    return Category.objects.filter(self_governable=self_governable, active=True).order_by(
        "service_code"
    )[0]


def a_report(world, *, source=Source.PATROL, category=None, when=MONDAY, **fields) -> Report:
    values = {
        "source": source,
        "description": "3号楼门口的窨井盖碎了，晚上很危险",
        "category": category or a_category(),
        "place": world.compounds[0],
        "created_at": when,
        "photos": [photo()],
    }
    values.update(fields)
    return Report(**values)


@pytest.fixture
def new_order(world, users):
    def make(actor_key="gridworker", **fields):
        return order_report(
            actor=users[actor_key] if actor_key else None, report=a_report(world, **fields)
        )

    return make
