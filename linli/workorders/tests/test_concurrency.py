"""Two dispatchers press "dispatch" on the same order at the same moment, in two real database
transactions: exactly one wins, the other gets a clear conflict. PostgreSQL only (row locks; the
SQLite suite covers the same compare-and-set with stale copies in test_machine)."""

import threading

import pytest
from django.db import connection, connections

from linli.workorders.models import WorkOrder
from linli.workorders.services import Conflict, order_act
from linli.workorders.tests.conftest import MONDAY

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]


def test_two_dispatchers_at_the_same_moment(world, users, new_order):
    order = new_order()
    order_act(actor=users["supervisor"], order=order, action="register", now=MONDAY)
    barrier = threading.Barrier(2)
    outcomes = {}

    def dispatch(key, department):
        stale = WorkOrder.objects.get(pk=order.pk)
        barrier.wait()
        try:
            order_act(actor=users[key], order=stale, action="dispatch", department=department)
            outcomes[key] = "won"
        except Conflict as exc:
            outcomes[key] = exc
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=dispatch, args=("dispatcher", world.departments[0])),
        threading.Thread(target=dispatch, args=("supervisor", world.departments[1])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(str(type(v).__name__) if v != "won" else v for v in outcomes.values()) == [
        "Conflict",
        "won",
    ]
    stored = WorkOrder.objects.get(pk=order.pk)
    assert stored.transitions.filter(action="dispatch").count() == 1
    winner = next(k for k, v in outcomes.items() if v == "won")
    expected = world.departments[0] if winner == "dispatcher" else world.departments[1]
    assert stored.department == expected
