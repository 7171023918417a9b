import pytest
from django.db import connection

from linli.core.scoping import collapse_prefixes, path_segment, path_successor, under_q
from linli.places.models import Place


def test_successor_bounds_exactly_the_prefix():
    prefix = path_segment(1) + path_segment(9)
    successor = path_successor(prefix)
    inside = prefix + path_segment(123)
    sibling = path_segment(1) + path_segment(10)
    assert prefix <= inside < successor
    assert not (prefix <= sibling < successor)


def test_successor_carries_over_nines():
    assert path_successor("0000000009") == "0000000010"
    with pytest.raises(ValueError):
        path_successor("9999999999")


def test_collapse_drops_covered_prefixes():
    a = path_segment(1)
    assert collapse_prefixes([a + path_segment(2), a, path_segment(3)]) == [a, path_segment(3)]


def test_under_includes_whole_subtree_and_nothing_else(world):
    committee = world.committees[0]
    under = set(Place.objects.filter(under_q(committee.path)).values_list("pk", flat=True))
    expected = {committee.pk}
    frontier = [committee.pk]
    while frontier:
        frontier = list(Place.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        expected.update(frontier)
    assert under == expected
    assert len(under) > 10


def test_subtree_query_uses_the_path_index(world):
    committee = world.committees[0]
    sql, params = Place.objects.filter(under_q(committee.path)).only("id").query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = " ".join(str(row) for row in cursor.fetchall())
            assert "INDEX" in plan and "path" in plan, plan
        else:
            cursor.execute("SET enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            plan = " ".join(row[0] for row in cursor.fetchall())
            cursor.execute("SET enable_seqscan = on")
            assert "Index" in plan and "path" in plan, plan
