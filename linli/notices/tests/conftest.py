import pytest

from linli.accounts.roles import Role
from linli.accounts.services import role_assign, user_create
from linli.core.scoping import under_q
from linli.notices.choices import NoticeKind
from linli.notices.services import notice_publish
from linli.places.choices import PlaceKind
from linli.places.models import Place

PASSWORD = "Test-pass-123!"
# A format-valid ID number (GB 11643 check character) and a mobile, as they would be typed.
ID_NUMBER = "310104198001011234"
MOBILE = "13912345678"


class RecordingSender:
    """A test sender: remembers what it was handed (class-level, reset per test)."""

    sent: list = []

    def send(self, notification) -> None:
        RecordingSender.sent.append((notification.pk, notification.user_id, notification.kind))


class FailingSender:
    def send(self, notification) -> None:
        raise RuntimeError(f"gateway refused {notification.user.email}")


@pytest.fixture(autouse=True, scope="session")
def _urls_loaded():
    # Load the URLconf (and so the API schemas) before any test freezes time: pydantic cannot
    # build a schema for freezegun's fake datetime class.
    from django.urls import get_resolver

    assert get_resolver().url_patterns


@pytest.fixture(autouse=True)
def _recording(settings):
    RecordingSender.sent = []
    settings.LINLI_NOTIFY_SENDERS = ["linli.notices.tests.conftest.RecordingSender"]


@pytest.fixture
def committee(world):
    return world.committees[0]


@pytest.fixture
def publish(committee):
    def make(place=None, actor=None, **fields):
        values = {
            "kind": NoticeKind.RESOLUTION,
            "title": "关于加装电梯的居民会议决议",
            "body": "经居民会议表决，同意3号楼加装电梯。\n\n表决结果：同意42户，不同意5户。",
        }
        values.update(fields)
        return notice_publish(actor=actor, place=place or committee, **values)

    return make


@pytest.fixture
def neighbour(world):
    """A resident of the second committee (not of the first one's community)."""
    household = (
        Place.objects.filter(under_q(world.committees[1].path), kind=PlaceKind.HOUSEHOLD)
        .order_by("path")
        .first()
    )
    user = user_create(
        actor=None, username="neighbour", password=PASSWORD, display_name="居民 孙伯伯"
    )
    role_assign(actor=None, user=user, role=Role.RESIDENT, place=household)
    return user
