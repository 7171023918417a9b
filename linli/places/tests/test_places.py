import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from linli.core.models import AuditEvent
from linli.demo.builder import _bulk_places
from linli.places.models import Place
from linli.places.selectors import subtree_counts
from linli.places.services import place_create


def test_created_place_gets_path_under_parent_and_audit(world, users):
    compound = place_create(
        actor=users["admin"], kind="compound", name="新建小区", parent=world.committees[0]
    )
    assert compound.path.startswith(world.committees[0].path)
    assert compound.depth == world.committees[0].depth + 1
    event = AuditEvent.objects.get(action="places.place.create", object_id=str(compound.pk))
    assert event.changes["name"]["new"] == "新建小区"


@pytest.mark.parametrize(
    ("kind", "code", "field"),
    [
        ("committee", "31010409000", "code"),
        ("committee", "310105090001", "code"),
        ("compound", "", None),
        ("building", "", "parent"),
    ],
)
def test_codes_and_parent_kinds_are_validated(world, users, kind, code, field):
    if field is None:
        place_create(
            actor=users["admin"], kind=kind, name="x", parent=world.committees[0], code=code
        )
        return
    with pytest.raises(ValidationError) as error:
        parent = world.street if kind == "committee" else world.committees[0]
        place_create(actor=users["admin"], kind=kind, name="x", parent=parent, code=code)
    assert field in error.value.message_dict


def test_subtree_counts_count_every_level(world):
    counts = subtree_counts(prefixes=[world.street.path])[world.street.path]
    assert counts["committee"] == len(world.committees)
    assert counts["compound"] == Place.objects.filter(kind="compound").count()
    assert counts["household"] == Place.objects.filter(kind="household").count()


def test_browser_drills_from_committee_to_household(client_as, world):
    client = client_as("worker")
    place = world.committees[0]
    for _ in range(3):
        response = client.get(reverse("places:detail", args=[place.pk]))
        assert response.status_code == 200
        child = Place.objects.filter(parent=place).order_by("path").first()
        assert child.name in response.content.decode()
        place = child
    assert place.kind == "household"
    assert client.get(reverse("places:detail", args=[place.pk])).status_code == 200


def test_htmx_request_gets_only_the_children_fragment(client_as, world):
    response = client_as("worker").get(
        reverse("places:detail", args=[world.committees[0].pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert b"<html" not in response.content and b"place-list" in response.content


def _compound_with_buildings(committee, n):
    (compound,) = _bulk_places([Place(kind="compound", name=f"压测{n}", parent=committee)])
    _bulk_places([Place(kind="building", name=f"{i}号楼", parent=compound) for i in range(n)])
    return compound


def test_place_page_query_count_does_not_grow_with_children(
    client_as, world, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_as("worker")
    small = _compound_with_buildings(world.committees[0], 10)
    large = _compound_with_buildings(world.committees[0], 1000)
    counts = []
    for compound in (small, large):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("places:detail", args=[compound.pk])).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(16):
        client.get(reverse("places:detail", args=[large.pk]))
