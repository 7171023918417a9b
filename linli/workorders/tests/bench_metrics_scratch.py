import datetime as dt, random, time
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from linli.workorders.metrics import metrics_compute, Period, TZ
from linli.workorders.models import Transition, WorkOrder, Category
from linli.workorders.choices import State, Level, Source

pytestmark = pytest.mark.django_db

def build(world, months=(1,2,3), per_month=2000, seed=1):
    rng = random.Random(seed)
    cats = list(Category.objects.values_list("pk", flat=True)[:50])
    orders = []
    for m in months:
        for i in range(per_month):
            day = rng.randint(1, 28)
            t = dt.datetime(2026, m, day, rng.randint(8, 18), rng.randint(0, 59), tzinfo=TZ)
            c = world.compounds[i % len(world.compounds)]
            orders.append(WorkOrder(kind="problem", source="patrol", level="street", state="rated",
                description="x", place=c, path=c.path, street=world.street, grid=world.grids[i % len(world.grids)],
                category_id=cats[i % len(cats)], created_at=t, updated_at=t))
    WorkOrder.objects.bulk_create(orders, batch_size=1000)
    rows = []
    deps = world.departments
    for o in orders:
        t = o.created_at
        d = deps[rng.randrange(len(deps))]
        def add(action, fs, ts, minutes, dept=None, **data):
            nonlocal t
            t = t + dt.timedelta(minutes=minutes)
            rows.append(Transition(order=o, action=action, from_state=fs, to_state=ts, level="street", at=t, department=dept, data=data))
        add("report", "", "reported", 0, source="patrol")
        add("register", "reported", "registered", 30, phase="register", due=(t+dt.timedelta(hours=1)).isoformat(), late=rng.random()<0.1)
        due = t + dt.timedelta(days=3)
        add("dispatch", "registered", "dispatched", 20, dept=d, phase="dispatch", late=rng.random()<0.1, handle_due=due.isoformat())
        if rng.random() < 0.1:
            add("request_return", "dispatched", "return_requested", 60, dept=d, phase="sign", late=False)
            add("approve_return", "return_requested", "registered", 60, dept=d, phase="handle", late=False)
            d = deps[rng.randrange(len(deps))]
            due = t + dt.timedelta(days=3)
            add("dispatch", "registered", "dispatched", 20, dept=d, phase="dispatch", late=False, handle_due=due.isoformat())
        add("sign_for", "dispatched", "in_progress", 60, dept=d, phase="sign", late=rng.random()<0.2)
        if rng.random() < 0.1:
            add("request_extension", "in_progress", "extension_requested", 60, dept=d, hours=8)
            due = due + dt.timedelta(hours=8)
            add("approve_extension", "extension_requested", "in_progress", 60, dept=d, hours=8, handle_due=due.isoformat())
        ft = rng.randint(60, 6000)
        add("feedback", "in_progress", "feedback", ft, dept=d, handle_due=due.isoformat(), handle_late=t > due)
        add("send_check", "feedback", "checking", 10, phase="check", late=False)
        add("check", "checking", "checking", 20, phase="check", late=False, passed=True)
        add("close", "checking", "closed", 10, phase="check", late=False)
        add("rate", "closed", "rated", 600, rating=rng.randint(1, 5), by_phone=False)
    Transition.objects.bulk_create(rows, batch_size=2000)
    return len(orders), len(rows)

def test_bench(world):
    n, r = build(world)
    print("orders", n, "rows", r)
    p = Period(dt.date(2026, 3, 1), "month")
    for g in (None, "department", "grid", "category"):
        with CaptureQueriesContext(connection) as q:
            t0 = time.process_time()
            rows = metrics_compute(place=world.street, start=p.start, end=p.end, group_by=g)
            el = time.process_time() - t0
        print(g, f"{el:.3f}s", len(q.captured_queries), "queries", len(rows), "rows")
        for qq in q.captured_queries:
            pass
    t0 = time.process_time()
    rows = metrics_compute(place=world.street, start=Period(dt.date(2026,1,1),"month").start, end=p.end, period="month")
    print("trend 3 months", f"{time.process_time()-t0:.3f}s")
    tot = metrics_compute(place=world.street, start=p.start, end=p.end)[0]
    print({k: str(v) for k, v in tot.values.items()})
    assert 0

def test_profile(world):
    build(world)
    import cProfile, pstats, io
    p = Period(dt.date(2026, 3, 1), "month")
    pr = cProfile.Profile(); pr.enable()
    metrics_compute(place=world.street, start=p.start, end=p.end, group_by="grid")
    pr.disable()
    s = io.StringIO(); pstats.Stats(pr, stream=s).sort_stats("cumulative").print_stats(35); print(s.getvalue())
    with CaptureQueriesContext(connection) as q:
        metrics_compute(place=world.street, start=p.start, end=p.end, group_by="grid")
    import time
    for qq in q.captured_queries:
        t0=time.process_time(); 
        with connection.cursor() as c:
            c.execute(qq["sql"]); c.fetchall()
        print(f"{time.process_time()-t0:.3f}", qq["sql"][:150])
    assert 0

def test_stages(world):
    build(world)
    import time
    from linli.workorders import metrics as M
    p = Period(dt.date(2026, 3, 1), "month")
    scope = M.MetricsScope(paths=(world.street.path,))
    bounds = [p.start, p.end]
    for i in range(2):
        raw = __import__("collections").defaultdict(lambda: __import__("collections").defaultdict(int))
        t0 = time.process_time(); M._step_counts(raw, scope, bounds, "grid", {"reports","registrations","dispatches","steps"}); t1 = time.process_time()
        M._suspended(raw, scope, bounds, "grid"); t2 = time.process_time()
        M._walk(raw, scope, bounds, "grid", p.end, set(M.METRIC)-{"handle_mean_hours"}); t3 = time.process_time()
        M._walk(raw, scope, bounds, "grid", p.end, set(M.METRIC)); t4 = time.process_time()
        print(f"steps {t1-t0:.3f} susp {t2-t1:.3f} walk {t3-t2:.3f} walk+min {t4-t3:.3f}")
    # fetch only
    from linli.workorders.models import Transition
    t0=time.process_time(); n=sum(1 for _ in Transition.objects.filter(at__lt=p.end, at__gte=p.start).values_list("order_id","action","at").iterator()); print("fetch rows", n, f"{time.process_time()-t0:.3f}")
    assert 0


def test_trend(world):
    build(world, months=range(1, 13))
    import time
    p = Period(dt.date(2026, 12, 1), "month")
    for codes in (("close_on_time_rate", "satisfied_rate"), None):
        t0 = time.process_time()
        rows = metrics_compute(place=world.street, start=p.shift(-11).start, end=p.end, period="month", codes=codes)
        print("trend12", codes, f"{time.process_time()-t0:.3f}", len(rows))
    t0 = time.process_time()
    rows = metrics_compute(place=world.street, start=p.start, end=p.end, group_by="grid", with_total=True)
    print("month grid+total", f"{time.process_time()-t0:.3f}", len(rows))
    t0 = time.process_time()
    rows = metrics_compute(place=world.street, start=p.start, end=p.end, group_by="department", codes=("close_on_time_rate", "satisfied_rate"))
    print("dept bars", f"{time.process_time()-t0:.3f}", len(rows))
    assert 0

def test_walksql(world):
    build(world)
    import time
    from linli.workorders import metrics as M
    p = Period(dt.date(2026, 3, 1), "month")
    scope = M.MetricsScope(paths=(world.street.path,))
    bounds = [p.start, p.end]
    raw = __import__("collections").defaultdict(lambda: __import__("collections").defaultdict(int))
    with CaptureQueriesContext(connection) as q:
        M._walk(raw, scope, bounds, "grid", p.end, set(M.METRIC) - {"handle_mean_hours"})
    sql = q.captured_queries[-1]["sql"]
    print(sql[:3000])
    for i in range(2):
        with connection.cursor() as c:
            t0 = time.process_time(); c.execute(sql); rows = c.fetchall(); t1 = time.process_time()
        print("raw sql", len(rows), f"{t1-t0:.3f}")
        with connection.cursor() as c:
            t0 = time.process_time(); c.execute("EXPLAIN QUERY PLAN " + sql); print(c.fetchall()); 
    assert 0
