"""Topic fixtures: neighbours in the first committee's households, topics raised by them."""

import io
import itertools

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from linli.accounts.roles import Role
from linli.accounts.services import role_assign, user_create
from linli.conftest import PASSWORD
from linli.core.scoping import under_q
from linli.deliberation import services
from linli.deliberation.choices import TopicCategory
from linli.places.choices import PlaceKind
from linli.places.models import Place

_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def households(committee: Place) -> list[Place]:
    return list(
        Place.objects.filter(under_q(committee.path), kind=PlaceKind.HOUSEHOLD).order_by("path")
    )


def jpeg_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (40, 160, 90)).save(out, format="JPEG")
    return out.getvalue()


def photo(name: str = "bench.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg_bytes(), content_type="image/jpeg")


@pytest.fixture
def neighbour(world):
    """neighbour(3) → a resident account living in household 3 of the first committee (index 0
    is where the persona "resident" lives); committee=1 for the second committee."""

    def make(index: int, committee: int = 0):
        place = households(world.committees[committee])[index]
        n = next(_numbers)
        user = user_create(
            actor=None, username=f"neighbour{n}", password=PASSWORD, display_name=f"邻居{n}号"
        )
        role_assign(actor=None, user=user, role=Role.RESIDENT, place=place)
        return user

    return make


@pytest.fixture
def raise_topic(world, users):
    def make(actor=None, *, committee=None, **fields):
        values = {
            "title": "小花园增设休息长椅",
            "body": "小花园里没有地方坐，老人散步累了只能站着，建议增设几张长椅。",
            "category": TopicCategory.FACILITIES,
        }
        values.update(fields)
        return services.topic_raise(
            actor=actor or users["resident"],
            committee=committee or world.committees[0],
            **values,
        )

    return make


@pytest.fixture
def rules(world, users):
    """rules(support_threshold=3, …) → the first committee's settings, set by its director."""

    def set_rules(committee=None, **values):
        committee = committee or world.committees[0]
        current = services.settings_for(committee)
        data = {
            "support_unit": current.support_unit,
            "support_threshold": current.support_threshold,
            "hide_after_reports": current.hide_after_reports,
            "archive_after_days": current.archive_after_days,
        }
        data.update(values)
        actor = users["director"] if committee == world.committees[0] else users["stranger"]
        return services.committee_settings_update(actor=actor, committee=committee, **data)

    return set_rules
