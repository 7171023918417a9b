import pytest

from linli.demo.notices import populate_notices
from linli.notices.models import Notice, Notification, Objection

pytestmark = pytest.mark.django_db


def test_demo_notices_are_published_through_the_services(world, users, client):
    counts = populate_notices(world, users)
    assert counts == {"notices": 3 * len(world.committees), "objections": 1, "withdrawn": 1}
    assert Notice.objects.count() == 3 * len(world.committees) + 1
    assert Objection.objects.get().answer
    assert Notification.objects.filter(user=users["resident"]).count() == 2
    response = client.get(f"/board/{world.committees[0].pk}/")
    assert response.status_code == 200 and "检修时间调整" in response.content.decode()
