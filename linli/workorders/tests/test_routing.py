import pytest
from django.urls import reverse

from linli.core.models import AuditEvent
from linli.workorders.models import Category, RoutingRule
from linli.workorders.selectors import route_for

pytestmark = pytest.mark.django_db


def test_the_supervisor_keeps_the_streets_routing_rules(client_as, world):
    client = client_as("supervisor")
    url = reverse("workorders:routing", args=[world.street.pk])
    category = Category.objects.filter(active=True).first()
    lead, co = world.departments[0], world.departments[1]
    page = client.get(url)
    assert page.status_code == 200
    refused = client.post(
        url, {"category": category.pk, "department": lead.pk, "co_departments": [lead.pk]}
    )
    assert refused.status_code == 200 and not RoutingRule.objects.exists()
    saved = client.post(
        url, {"category": category.pk, "department": lead.pk, "co_departments": [co.pk]}
    )
    assert saved.status_code == 302
    grid_rule = client.post(
        url, {"category": category.pk, "grid": world.grids[0].pk, "department": co.pk}
    )
    assert grid_rule.status_code == 302
    assert AuditEvent.objects.filter(action="workorders.routing.save").count() == 2
    # The grid's own rule wins there; elsewhere the street-wide rule applies.
    here = route_for(street_id=world.street.pk, grid_id=world.grids[0].pk, category_id=category.pk)
    there = route_for(street_id=world.street.pk, grid_id=world.grids[1].pk, category_id=category.pk)
    assert here.department == co and there.department == lead


@pytest.mark.parametrize("key", ["dispatcher", "worker", "handler", "stranger", "resident"])
def test_only_the_supervisor_reaches_the_rules(client_as, world, key):
    client = client_as(key)
    assert client.get(reverse("workorders:routing", args=[world.street.pk])).status_code == 404
    assert (
        client.get(reverse("workorders:service_items", args=[world.street.pk])).status_code == 404
    )


def test_the_errand_catalogue_is_edited_by_the_street(client_as, world):
    client = client_as("supervisor")
    url = reverse("workorders:service_items", args=[world.street.pk])
    response = client.post(
        url, {"code": "YL01", "name": "养老金资格认证", "limit_days": 3, "active": "on"}
    )
    assert response.status_code == 302
    bad = client.post(url, {"code": "", "name": "", "limit_days": -1})
    assert bad.status_code == 200 and 'class="errorlist' in bad.content.decode()


def test_administrators_are_told_when_a_years_holidays_are_missing(client_as):
    from django.utils import timezone, translation
    from django.utils.html import escape

    from linli.workorders.calendar import calendar_reset, schedule_missing_message
    from linli.workorders.models import CalendarYear

    year = timezone.localdate().year
    CalendarYear.objects.filter(year=year).delete()
    calendar_reset()
    with translation.override("zh-hans"):
        message = escape(str(schedule_missing_message(year)))
    assert message in client_as("admin").get("/", follow=True).content.decode()
    assert message not in client_as("worker").get("/", follow=True).content.decode()
