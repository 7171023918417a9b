import pytest
from django.urls import reverse

from linli.core.models import AuditEvent
from linli.workorders.models import Category, RoutingRule, ServiceItem
from linli.workorders.routing import ITEM_CODE_EXISTS, RULE_EXISTS
from linli.workorders.selectors import route_for

pytestmark = pytest.mark.django_db


def shown(message) -> str:
    """A message as the page shows it (in the tests' language, Chinese once translated)."""
    from django.utils import translation
    from django.utils.html import escape

    with translation.override("zh-hans"):
        return escape(str(message))


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


@pytest.mark.parametrize("edit", ["abc", "1.5", "-1", "１２", "9" * 30])
def test_a_malformed_rule_or_item_to_edit_is_404_not_a_crash(client_as, world, edit):
    client = client_as("supervisor")
    client.raise_request_exception = False
    for name in ("workorders:routing", "workorders:service_items"):
        url = reverse(name, args=[world.street.pk])
        assert client.get(url, {"edit": edit}).status_code == 404, name
        assert client.post(url, {"edit": edit, "code": "X"}).status_code == 404, name


def test_a_second_rule_for_the_same_category_and_grid_is_a_form_error(client_as, world):
    client = client_as("supervisor")
    client.raise_request_exception = False
    url = reverse("workorders:routing", args=[world.street.pk])
    category = Category.objects.filter(active=True).first()
    lead, other = world.departments[0], world.departments[1]
    for grid in ("", world.grids[0].pk):
        data = {"category": category.pk, "grid": grid, "department": lead.pk}
        assert client.post(url, data).status_code == 302
        again = client.post(url, {**data, "department": other.pk})
        assert again.status_code == 200
        assert shown(RULE_EXISTS) in again.content.decode()
    assert RoutingRule.objects.filter(department=lead).count() == 2
    # Editing a rule keeps its own category and grid.
    rule = RoutingRule.objects.get(grid__isnull=True)
    edited = client.post(
        url, {"edit": rule.pk, "category": category.pk, "grid": "", "department": other.pk}
    )
    assert edited.status_code == 302
    rule.refresh_from_db()
    assert rule.department == other


def test_a_second_service_item_with_the_same_code_is_a_form_error(client_as, world):
    client = client_as("supervisor")
    client.raise_request_exception = False
    url = reverse("workorders:service_items", args=[world.street.pk])
    data = {"code": "YL01", "name": "养老金资格认证", "limit_days": 3, "active": "on"}
    assert client.post(url, data).status_code == 302
    again = client.post(url, {**data, "name": "另一项"})
    assert again.status_code == 200
    assert shown(ITEM_CODE_EXISTS) in again.content.decode()
    item = ServiceItem.objects.get()
    edited = client.post(url, {**data, "edit": item.pk, "limit_days": 5})
    assert edited.status_code == 302


def test_a_service_item_time_limit_is_bounded(client_as, world):
    client = client_as("supervisor")
    url = reverse("workorders:service_items", args=[world.street.pk])
    data = {"code": "YL02", "name": "居住证", "limit_days": 10**15, "active": "on"}
    response = client.post(url, data)
    assert response.status_code == 200 and not ServiceItem.objects.exists()
