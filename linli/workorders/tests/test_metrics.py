import datetime as dt
import pytest
from linli.workorders.metrics import metrics_compute, Period
from linli.workorders.services import order_act
from linli.workorders.tests.conftest import MONDAY, photo
from linli.workorders.choices import Source

pytestmark = pytest.mark.django_db

def at(h): return MONDAY + dt.timedelta(hours=h)

def test_smoke(world, users, new_order, django_assert_max_num_queries):
    d = world.departments[0]
    o = new_order(actor_key="resident", source=Source.RESIDENT)
    def act(k, a, h, **p):
        nonlocal o
        o = order_act(actor=users[k], order=o, action=a, now=at(h), **p)
    act("dispatcher", "send_verify", 0.2, assignee=users["gridworker"])
    act("gridworker", "verify", 0.4, photos=[photo()])
    act("supervisor", "register", 0.5, urgency="urgent")
    act("dispatcher", "dispatch", 0.6, department=d)
    act("handler", "sign_for", 1)
    act("handler", "feedback", 2, reason="done", photos=[photo()])
    act("dispatcher", "send_check", 2.1, assignee=users["gridworker"])
    act("gridworker", "check", 2.2, passed=True, photos=[photo()])
    act("supervisor", "close", 2.3)
    act("resident", "rate", 3, rating=5)
    p = Period(dt.date(2026, 3, 1), "month")
    for g in (None, "grid", "department", "major", "category", "street"):
        with django_assert_max_num_queries(10):
            rows = metrics_compute(place=world.street, start=p.start, end=p.end, group_by=g)
        for r in rows:
            print(g, r.label, {k: str(v) for k, v in r.values.items()})
    rows = metrics_compute(place=world.street, start=p.shift(-2).start, end=p.shift(2).end, period="month")
    for r in rows:
        print(r.period, r.label, r.values["closed"], r.values["satisfied_rate"])
    assert 0
