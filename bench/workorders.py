"""Work-order figures of the bench (issue 4, item 11), run by bench/run.py while its gunicorn is up.

1. **Dispatcher console with a million orders.** `fill_orders` writes N orders (`--orders`,
   1,000,000) with one server-side `INSERT … SELECT generate_series(…)` over ten streets: the demo
   street, whose GRID_DISPATCHER is measured, holds a tenth of them, nine more streets (created
   here) the rest. States, categories, sources, urgencies, dates and deadlines are spread
   deterministically (hashes of the row number), three years of history with about 3 % still open
   (open ones from the last five days, with deadlines that make about a quarter red). No
   Transition rows: the console does not read them. Then `VACUUM ANALYZE`. The console
   (`/orders/console/`, default filters, and `?state=registered&light=red`) is loaded like the other
   pages: bare view, page, bare view, page … with the dispatcher's session; req/s and p50 latency as
   ratios to the bare view, and its SQL statements per request counted in-process.
2. **Order intake.** Open311 `POST /open311/v2/requests.json` (form-encoded api_key,
   jurisdiction_id, service_code, lat, long, description; a client made with
   `open311_client_create`) under the same closed-loop load, against a raw baseline: the same
   order row, copied from an order the endpoint created, inserted with single-row `INSERT` in
   autocommit (one commit per row) into workorders_workorder itself, over as many psycopg
   connections as gunicorn has workers (the same number of concurrent writers), for the same time.
   Rounds alternate raw, HTTP, raw, HTTP …; the ratio is HTTP orders/s ÷ raw rows/s. The intake
   writes more than the baseline: the order, its `report` transition, in one transaction, after
   authenticating the key, finding the compound nearest the point, its grid and the deadline.
"""

import contextlib
import json
import threading
import time
from urllib.parse import urlencode

STREETS = 10  # the demo street plus nine others; the dispatcher's street holds 1 order in 10
EXTRA_COMMITTEES = 3  # per added street
EXTRA_COMPOUNDS = 4  # per added committee
HISTORY_DAYS = 3 * 365
OPEN_DAYS = 5  # open orders were reported within the last OPEN_DAYS days
RAW_MARK = "bench: raw insert"

# (state, weight per 1000, level, phase, department holds or held it, registered, closed, rated)
STATES = (
    ("reported", 4, "street", "register", False, False, False, False),
    ("verifying", 3, "street", "verify", False, False, False, False),
    ("accepted", 1, "street", "register", False, False, False, False),
    ("self_resolved", 1, "street", "register", False, False, False, False),
    ("registered", 8, "street", "dispatch", False, True, False, False),
    ("dispatched", 4, "street", "sign", True, True, False, False),
    ("in_progress", 6, "street", "handle", True, True, False, False),
    ("return_requested", 1, "street", "handle", True, True, False, False),
    ("extension_requested", 1, "street", "handle", True, True, False, False),
    ("suspension_requested", 1, "street", "handle", True, True, False, False),
    ("suspended", 1, "street", "", True, True, False, False),
    ("feedback", 2, "street", "check", True, True, False, False),
    ("checking", 2, "street", "check", True, True, False, False),
    ("rc_handling", 2, "committee", "committee", False, False, False, False),
    ("rejected", 50, "street", "", False, False, True, False),
    ("closed", 50, "street", "", True, True, True, False),
    ("rated", 150, "street", "", True, True, True, True),
    ("archived", 713, "street", "", True, True, True, True),
)
SOURCES = ("hotline",) * 7 + ("patrol",) * 7 + ("resident",) * 4 + ("property", "open311")
URGENCIES = ("normal",) * 17 + ("pressing", "pressing", "urgent")


def _h(seed: int) -> str:
    """A non-negative pseudo-random integer of the row number `g`, one stream per seed."""
    return f"(hashint8extended(g, {seed}) & 2147483647)::int"


# --- data ------------------------------------------------------------------------------------


def _extra_streets(world) -> list:
    """Nine more streets of the district, each with a few committees and compounds (no points:
    Open311's nearest-compound search must keep finding the demo street's)."""
    from linli.demo.builder import _bulk_places
    from linli.places.choices import PlaceKind
    from linli.places.models import Place

    streets = _bulk_places(
        [
            Place(
                kind=PlaceKind.STREET,
                name=f"基准{n}号街道",
                code=f"310104{100 + n:03d}000",
                parent=world.district,
            )
            for n in range(1, STREETS)
        ]
    )
    committees = _bulk_places(
        [
            Place(
                kind=PlaceKind.COMMITTEE,
                name=f"{street.name[:-2]}{c}居委",
                code=f"{street.code[:9]}{c:03d}",
                parent=street,
            )
            for street in streets
            for c in range(1, EXTRA_COMMITTEES + 1)
        ]
    )
    compounds = _bulk_places(
        [
            Place(kind=PlaceKind.COMPOUND, name=f"{committee.name}{k}号小区", parent=committee)
            for committee in committees
            for k in range(1, EXTRA_COMPOUNDS + 1)
        ]
    )
    by_street: dict[int, list] = {s.pk: [] for s in streets}
    for compound in compounds:
        by_street[compound.parent.parent_id].append(compound)
    return [(street, by_street[street.pk]) for street in streets]


def _columns(exprs: dict[str, str], literal) -> tuple[list[str], list[str]]:
    """Every column of workorders_workorder but the id, with its SQL: from `exprs`, else NULL,
    else the field's constant default. A new NOT NULL column without either stops the bench,
    so the fill never silently lags the model."""
    from django.db import models

    from linli.workorders.models import WorkOrder

    columns, values = [], []
    for f in WorkOrder._meta.concrete_fields:
        if f.primary_key:
            continue
        columns.append(f.column)
        if f.attname in exprs:
            values.append(exprs[f.attname])
        elif f.null:
            values.append("NULL")
        elif f.has_default() and f.default is dict:
            values.append("'{}'::jsonb")
        elif f.has_default() and not callable(f.default):
            values.append(literal(f.default))
        elif isinstance(f, models.CharField | models.TextField) and f.blank:
            values.append("''")
        else:
            raise RuntimeError(f"bench/workorders.py: no value to fill the new column {f.column}")
    return columns, values


def _insert_sql(
    columns: list[str], values: list[str], n: int, categories: int, created: str
) -> str:
    """INSERT … SELECT over generate_series: each row number picks a street (the demo street,
    s = 0, one time in STREETS), a compound of it, a category and a state from the lookup tables,
    by independent hashes; `o.created` is its report time."""
    return f"""
        INSERT INTO workorders_workorder ({", ".join(columns)})
        SELECT {", ".join(values)}
        FROM (
            SELECT g,
                   CASE WHEN {_h(1)} % {STREETS} = 0 THEN 0
                        ELSE 1 + {_h(2)} % {STREETS - 1} END AS s,
                   {_h(3)} AS hp, {_h(4)} AS hc, {_h(5)} % 1000 AS hz
            FROM generate_series(1, {int(n)}) AS g
        ) AS x
        JOIN bench_fill_street AS st ON st.s = x.s
        JOIN bench_fill_place AS p ON p.s = x.s AND p.k = x.hp % st.places
        JOIN bench_fill_category AS c ON c.k = x.hc % {categories}
        JOIN bench_fill_state AS z ON z.k = x.hz
        CROSS JOIN LATERAL (SELECT {created} AS created) AS o
    """  # noqa: S608 - the bench's own constants and the model's column names


def fill_orders(h, data: dict, n: int) -> dict:
    """N orders over ten streets, a tenth in the demo street; then VACUUM ANALYZE."""
    import psycopg
    from psycopg import sql

    from linli.places.models import Grid
    from linli.workorders.models import Category

    world = data["world"]
    started = time.perf_counter()
    streets = [(world.street, world.compounds), *_extra_streets(world)]
    grid_of = {}
    for grid in Grid.objects.filter(street=world.street).prefetch_related("compounds"):
        for compound in grid.compounds.all():
            if compound.pk not in grid_of or grid.code < grid_of[compound.pk][1]:
                grid_of[compound.pk] = (grid.pk, grid.code)
    place_rows = [
        (s, k, c.pk, c.path, street.pk, grid_of.get(c.pk, (None,))[0], c.lat, c.lng)
        for s, (street, compounds) in enumerate(streets)
        for k, c in enumerate(compounds)
    ]
    street_rows = [(s, len(compounds)) for s, (_street, compounds) in enumerate(streets)]
    # Zipf-like: a few categories take most reports, events (illegal parking, litter, stalls …)
    # before components, as in any hotline's statistics.
    categories = sorted(
        Category.objects.filter(active=True), key=lambda c: (c.kind != "event", c.service_code)
    )
    category_rows, k = [], 0
    for rank, category in enumerate(categories):
        for _ in range(1 + 200 // (rank + 2)):
            category_rows.append((k, category.pk, category.name))
            k += 1
    state_rows, k = [], 0
    for state, weight, level, phase, dept, registered, closed, rated in STATES:
        for _ in range(weight):
            state_rows.append((k, state, level, phase, dept, registered, closed, rated))
            k += 1
    assert k == 1000, k
    departments = [d.pk for d in world.departments]

    created = (
        "CASE WHEN z.closed THEN now() - make_interval(secs => "
        f"{_h(6)} % {HISTORY_DAYS * 86400}) "
        f"ELSE now() - make_interval(secs => {_h(6)} % {OPEN_DAYS * 86400}) END"
    )
    # An open order's phase limit: 1 to 8 days from the report, yellow at 80 %.
    limit = f"make_interval(secs => 86400 + {_h(7)} % {7 * 86400})"
    exprs = {
        "kind": "'problem'",
        "source": f"(ARRAY{list(SOURCES)})[1 + {_h(8)} % {len(SOURCES)}]",
        "level": "z.level",
        "state": "z.state",
        "version": "CASE WHEN z.closed THEN 6 ELSE 2 END",
        "category_id": "c.category_id",
        "description": "c.name || '（基准工单 ' || g || '）'",
        "lat": "p.lat",
        "lng": "p.lng",
        "place_id": "p.place_id",
        "path": "p.path",
        "street_id": "p.street_id",
        "grid_id": "p.grid_id",
        "urgency": f"(ARRAY{list(URGENCIES)})[1 + {_h(9)} % {len(URGENCIES)}]",
        "department_id": (
            f"CASE WHEN z.dept AND p.s = 0 THEN (ARRAY{departments})"
            f"[1 + {_h(10)} % {len(departments)}] END"
            if departments
            else "NULL"
        ),
        "phase": "z.phase",
        "phase_started_at": "CASE WHEN z.phase <> '' THEN o.created END",
        "phase_warn_at": f"CASE WHEN z.phase <> '' THEN o.created + 0.8 * {limit} END",
        "phase_due_at": f"CASE WHEN z.phase <> '' THEN o.created + {limit} END",
        "handle_due_at": f"CASE WHEN z.dept AND NOT z.closed THEN o.created + {limit} END",
        "registered_at": "CASE WHEN z.registered THEN o.created + interval '1 hour' END",
        "dispatched_at": "CASE WHEN z.dept THEN o.created + interval '2 hours' END",
        "closed_at": f"CASE WHEN z.closed THEN o.created + make_interval(hours => 24 + {_h(11)} % 240) END",
        "check_passed": "CASE WHEN z.state IN ('closed', 'rated', 'archived') THEN true END",
        "rating": f"CASE WHEN z.rated THEN 3 + {_h(12)} % 3 END",
        "created_at": "o.created",
        "updated_at": (
            f"CASE WHEN z.closed THEN o.created + make_interval(hours => 24 + {_h(11)} % 240) "
            "ELSE o.created END"
        ),
    }
    with psycopg.connect(host=h.PG_HOST, port=h.PG_PORT, user=h.PG_USER, dbname=h.DB_NAME) as conn:
        columns, values = _columns(exprs, lambda v: sql.Literal(v).as_string(conn))
        # now() is the transaction's start: one instant for every deadline of the fill.
        conn.execute("SET maintenance_work_mem = '256MB'")
        conn.execute("SET work_mem = '64MB'")
        # Rows made consistent by construction: skip the per-row foreign-key checks (deferred
        # RI triggers, five events a row), but only while the table has no trigger of its own
        # that this would skip too. Superuser only, this session only.
        own_triggers = conn.execute(
            "SELECT count(*) FROM pg_trigger "
            "WHERE tgrelid = 'workorders_workorder'::regclass AND NOT tgisinternal"
        ).fetchone()[0]
        if not own_triggers:
            conn.execute("SET session_replication_role = replica")
        with conn.cursor() as cur:
            cur.execute(
                "CREATE TEMP TABLE bench_fill_street (s int PRIMARY KEY, places int);"
                "CREATE TEMP TABLE bench_fill_place (s int, k int, place_id bigint, path text,"
                " street_id bigint, grid_id bigint, lat numeric, lng numeric, PRIMARY KEY (s, k));"
                "CREATE TEMP TABLE bench_fill_category (k int PRIMARY KEY, category_id bigint,"
                " name text);"
                "CREATE TEMP TABLE bench_fill_state (k int PRIMARY KEY, state text, level text,"
                " phase text, dept bool, registered bool, closed bool, rated bool)"
            )
            for table, rows in (
                ("bench_fill_street", street_rows),
                ("bench_fill_place", place_rows),
                ("bench_fill_category", category_rows),
                ("bench_fill_state", state_rows),
            ):
                with cur.copy(f"COPY {table} FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            cur.execute(
                "ANALYZE bench_fill_street, bench_fill_place, bench_fill_category, bench_fill_state"
            )
            cur.execute("SELECT now()")
            now = cur.fetchone()[0]
            # Building an index from sorted rows is far cheaper than 20-odd index insertions a
            # row: drop the plain indexes (not the primary key nor those behind constraints),
            # fill, and create them again with their own definitions, all in this transaction.
            cur.execute(
                """SELECT i.relname, pg_get_indexdef(x.indexrelid)
                   FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                   WHERE x.indrelid = 'workorders_workorder'::regclass
                     AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"""
            )
            indexes = cur.fetchall()
            for name, _definition in indexes:
                cur.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
            # No parameters: the statement goes as it is (its % are modulo operators).
            phase = time.perf_counter()
            cur.execute(_insert_sql(columns, values, n, len(category_rows), created))
            inserted = cur.rowcount
            insert_seconds = time.perf_counter() - phase
            phase = time.perf_counter()
            for _name, definition in indexes:
                cur.execute(definition)
            index_seconds = time.perf_counter() - phase
        conn.commit()
    fill_seconds = time.perf_counter() - started
    started = time.perf_counter()
    h.bench_sql("VACUUM ANALYZE workorders_workorder")
    analyze_seconds = time.perf_counter() - started
    return {
        "requested": n,
        "inserted": inserted,
        "streets": STREETS,
        "fill_seconds": fill_seconds,
        "insert_seconds": insert_seconds,
        "indexes": len(indexes),
        "index_seconds": index_seconds,
        "vacuum_analyze_seconds": analyze_seconds,
        "filled_at": now.isoformat(),
        **_fill_stats(h, world.street),
    }


def _fill_stats(h, street) -> dict:
    import psycopg

    from linli.workorders.choices import CLOSED_STATES

    closed = ", ".join(f"'{s}'" for s in sorted(CLOSED_STATES))
    with psycopg.connect(
        host=h.PG_HOST, port=h.PG_PORT, user=h.PG_USER, dbname=h.DB_NAME, autocommit=True
    ) as conn:
        row = conn.execute(
            f"""SELECT count(*),
                       count(*) FILTER (WHERE street_id = %(s)s),
                       count(*) FILTER (WHERE street_id = %(s)s AND state NOT IN ({closed})),
                       count(*) FILTER (WHERE street_id = %(s)s AND state NOT IN ({closed})
                                        AND phase_due_at < now()),
                       count(*) FILTER (WHERE street_id = %(s)s AND state = 'registered'
                                        AND phase_due_at < now()),
                       pg_total_relation_size('workorders_workorder')
                FROM workorders_workorder""",  # noqa: S608 - constant state names
            {"s": street.pk},
        ).fetchone()
    keys = ("table_rows", "street_rows", "street_open", "street_open_red", "street_registered_red")
    return {**dict(zip(keys, row[:5], strict=True)), "table_mib": row[5] / 2**20}


# --- sessions and targets --------------------------------------------------------------------


def profile(h, client, targets: dict[str, dict], repeat: int = 5) -> dict:
    """In-process, per page: median wall time of a request and of its SQL (the database's share
    of the page), and the plans of its statements on workorders_workorder (EXPLAIN ANALYZE)."""
    import psycopg
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    out = {}
    for label, target in targets.items():
        h.client_request(client, target)
        totals, sql_times = [], []
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                h.client_request(client, target)
                totals.append(time.perf_counter() - started)
            sql_times.append(sum(float(q["time"]) for q in ctx.captured_queries))
        plans = []
        with psycopg.connect(
            host=h.PG_HOST, port=h.PG_PORT, user=h.PG_USER, dbname=h.DB_NAME, autocommit=True
        ) as conn:
            for q in ctx.captured_queries:
                if "workorders_workorder" in q["sql"] and q["sql"].startswith("SELECT"):
                    rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + q["sql"]).fetchall()
                    plans.append({"sql": q["sql"], "plan": [r[0] for r in rows]})
        out[label] = {
            "ms": h.median(totals) * 1000,
            "sql_ms": h.median(sql_times) * 1000,
            "plans": plans,
        }
    return out


def _session(client) -> dict[str, str]:
    from django.conf import settings

    cookies = [settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME]
    jar = {name: client.cookies[name].value for name in cookies if name in client.cookies}
    return {
        "cookie": "; ".join(f"{k}={v}" for k, v in jar.items()),
        "csrf": jar.get(settings.CSRF_COOKIE_NAME, ""),
    }


def _intake_form(world) -> dict:
    from linli.open311.services import open311_client_create
    from linli.workorders.models import Category

    _client, key = open311_client_create(name="bench load client", street=world.street)
    category = (
        Category.objects.filter(active=True, public=True, self_governable=False)
        .order_by("service_code")
        .first()
    )
    compound = world.compounds[0]
    return {
        "api_key": key,
        "jurisdiction_id": world.street.code,
        "service_code": category.service_code,
        "lat": str(compound.lat),
        "long": str(compound.lng),
        "description": "小区门口路灯不亮，晚上很黑",
    }


def _post(h, port: int, path: str, form: dict) -> tuple[int, str]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _location, body = h.fetch(port, path, headers, urlencode(form))
    return status, body


def _settle(h, port: int) -> None:
    """Wait until the server has worked off what the last load left queued: a closed-loop run
    ends with up to one request per connection accepted but unanswered, which would otherwise
    count against the next run (a slow page's leftovers against the bare view)."""
    for _ in range(6):
        try:
            h.fetch(port, "/bench/bare/")
            return
        except OSError:  # a timeout: still busy
            continue


# --- raw baseline ------------------------------------------------------------------------------


def _raw_row(h, order_id: int) -> tuple[list[str], list]:
    """Column names and values of an order the intake created, to insert again as they are."""
    import psycopg
    from psycopg.types.json import Jsonb

    with psycopg.connect(
        host=h.PG_HOST, port=h.PG_PORT, user=h.PG_USER, dbname=h.DB_NAME, autocommit=True
    ) as conn:
        cur = conn.execute("SELECT * FROM workorders_workorder WHERE id = %s", (order_id,))
        names = [d.name for d in cur.description]
        row = dict(zip(names, cur.fetchone(), strict=True))
    row.pop("id")
    row["description"] = RAW_MARK
    values = [Jsonb(v) if isinstance(v, dict | list) else v for v in row.values()]
    return list(row), values


def raw_inserts(h, columns: list[str], values: list, seconds: float, connections: int) -> dict:
    """Single-row INSERT, each its own transaction (autocommit), over `connections` connections
    in parallel for `seconds`."""
    import psycopg

    names, marks = ", ".join(columns), ", ".join(["%s"] * len(columns))
    statement = f"INSERT INTO workorders_workorder ({names}) VALUES ({marks})"  # noqa: S608
    counts = [0] * connections
    barrier = threading.Barrier(connections + 1)
    deadline = [0.0]

    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            with psycopg.connect(
                host=h.PG_HOST, port=h.PG_PORT, user=h.PG_USER, dbname=h.DB_NAME, autocommit=True
            ) as conn:
                cur = conn.cursor()
                for _ in range(6):  # warm up: psycopg prepares the statement after 5 runs
                    cur.execute(statement, values)
                barrier.wait()
                n = 0
                while time.perf_counter() < deadline[0]:
                    cur.execute(statement, values)
                    n += 1
                counts[i] = n
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    deadline[0] = time.perf_counter() + 3600  # the real deadline is set once all are ready
    for t in threads:
        t.start()
    with contextlib.suppress(threading.BrokenBarrierError):  # a worker failed: raised below
        barrier.wait()
    started = time.perf_counter()
    deadline[0] = started + seconds
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"raw INSERT baseline failed: {errors[0]!r}")
    elapsed = time.perf_counter() - started
    return {"rows": sum(counts), "seconds": elapsed, "rows_per_second": sum(counts) / elapsed}


# --- the run ----------------------------------------------------------------------------------


def run(h, wrk, port: int, args, data: dict, failures: list[str]) -> dict:
    """Fill, count, check, load; gunicorn is up on `port` (h is bench/run.py)."""
    from django.db import connections
    from django.test import Client

    from linli.workorders.models import Transition, WorkOrder

    world = data["world"]
    out: dict = {}
    h.log(f"work orders: filling {args.orders:,} orders over {STREETS} streets")
    out["fill"] = fill_orders(h, data, args.orders)
    connections.close_all()  # the planner statistics changed: start afresh
    fill = out["fill"]
    h.log(
        f"work orders: {fill['inserted']:,} rows in {fill['fill_seconds']:.1f}s + VACUUM ANALYZE "
        f"{fill['vacuum_analyze_seconds']:.1f}s ({fill['table_mib']:.0f} MiB); the dispatcher's "
        f"street {fill['street_rows']:,}, open {fill['street_open']:,}, of them red "
        f"{fill['street_open_red']:,}, registered and red {fill['street_registered_red']:,}"
    )
    if fill["inserted"] != args.orders:
        failures.append(f"work orders: filled {fill['inserted']} rows, not {args.orders}")

    # The console, as the street's GRID_DISPATCHER sees it.
    dispatcher = h.logged_in_client(data["users"]["dispatcher"])
    targets = {
        "bare": {"path": "/bench/bare/", "expect": "ok"},
        "console": {"path": "/orders/console/", "expect": 'data-order="'},
        "console_filtered": {
            "path": "/orders/console/?" + urlencode({"state": "registered", "light": "red"}),
            "expect": 'data-order="',
        },
    }
    queries = h.count_queries(dispatcher, targets)
    out["profile"] = profile(
        h, dispatcher, {k: v for k, v in targets.items() if k.startswith("console")}
    )
    session = _session(dispatcher)

    # The intake: one order through the endpoint in-process (counted), one over HTTP (checked).
    path = "/open311/v2/requests.json"
    form = _intake_form(world)
    anonymous = Client(SERVER_NAME=h.HOST)
    intake_queries = h.count_queries(anonymous, {"intake": {"path": path, "form": form}})
    queries.update(intake_queries)
    for label, entry in queries.items():
        expected = 201 if label == "intake" else 200
        if entry["status"] != expected:
            failures.append(
                f"work orders: in-process {entry['method']} {entry['path']} returned "
                f"{entry['status']}, not {expected}"
            )
    status, body = _post(h, port, path, form)
    if status != 201 or "service_request_id" not in body:
        raise RuntimeError(f"POST {path}: HTTP {status} {body[:300]}")
    order_id = int(json.loads(body)[0]["service_request_id"])
    out["intake_writes"] = {
        "orders": 1,
        "transitions": Transition.objects.filter(order_id=order_id).count(),
        "attachments": 0,
    }
    columns, values = _raw_row(h, order_id)
    h.check_pages(port, session, targets)
    h.log(
        "work orders: queries per request: "
        + ", ".join(f"{k} {v['queries']}" for k, v in queries.items())
    )

    quick = type(args)(**{**vars(args), "duration": 1})
    for label in ("bare", "console", "console_filtered"):
        target = targets[label]
        url = f"http://{h.HOST}:{port}{target['path']}"
        h.load(wrk, url, h.request_headers(session, target), quick)
        _settle(h, port)
    intake_headers = {"Content-Type": "application/x-www-form-urlencoded"}
    intake_url = f"http://{h.HOST}:{port}{path}"
    h.load(wrk, intake_url, intake_headers, quick, urlencode(form))
    _settle(h, port)

    pages = ("console", "console_filtered")
    runs: dict[str, list] = {k: [] for k in pages} | {"bare_for_" + k: [] for k in pages}
    for round_no in range(1, args.runs + 1):
        for label in pages:
            for key, target in (("bare_for_" + label, targets["bare"]), (label, targets[label])):
                result = h.load(
                    wrk,
                    f"http://{h.HOST}:{port}{target['path']}",
                    h.request_headers(session, target),
                    args,
                )
                _settle(h, port)
                runs[key].append(result)
                h.log(
                    f"round {round_no}/{args.runs} {key:<24} {result['rps']:8.1f} req/s  "
                    f"p50 {result['latency_ms']['p50']:6.1f} ms"
                )
    h.check_pages(port, session, targets)
    figures = {}
    for label in pages:
        if not all(r["rps"] for r in runs[label] + runs["bare_for_" + label]):
            failures.append(f"{label}: a load run got no response at all (machine overloaded?)")
            continue
        fig = h.figure(targets[label]["path"], runs[label], runs["bare_for_" + label])
        fig["queries"] = queries[label]["queries"]
        for side in (fig["page"], fig["bare"]):
            if side["non_2xx_3xx"] or side["socket_errors"]:
                failures.append(
                    f"{label}: {side['non_2xx_3xx']} error responses, "
                    f"{side['socket_errors']} socket errors under load"
                )
        figures[label] = fig
    out["console"] = {"figures": figures, "runs": runs}

    # Intake: raw, HTTP, raw, HTTP … The HTTP side's orders are counted in the table too.
    intake_orders = WorkOrder.objects.filter(description=form["description"])
    before = intake_orders.count()
    raw_runs, http_runs = [], []
    for round_no in range(1, args.runs + 1):
        raw = raw_inserts(h, columns, values, args.duration, args.workers)
        raw_runs.append(raw)
        h.log(
            f"round {round_no}/{args.runs} raw INSERT+COMMIT {raw['rows_per_second']:8.1f} rows/s"
        )
        result = h.load(wrk, intake_url, intake_headers, args, urlencode(form))
        _settle(h, port)
        http_runs.append(result)
        h.log(
            f"round {round_no}/{args.runs} Open311 POST        {result['rps']:8.1f} req/s  "
            f"p50 {result['latency_ms']['p50']:6.1f} ms"
        )
    http_created = intake_orders.count() - before
    http_requests = sum(r["requests"] for r in http_runs)
    http = h.summarise(http_runs)
    raw_rates = [r["rows_per_second"] for r in raw_runs]
    raw_rate = h.median(raw_rates)
    if not raw_rate:
        raise RuntimeError("the raw INSERT baseline inserted nothing")
    out["intake"] = {
        "path": f"POST {path}",
        "form": {k: ("…" if k == "api_key" else v) for k, v in form.items()},
        "http": http,
        "raw": {
            "connections": args.workers,
            "runs": raw_runs,
            "rows_per_second": raw_rate,
            "rps_spread": max(raw_rates) / max(min(raw_rates), 1e-9),
        },
        "ratio": http["rps"] / raw_rate,
        "round_ratios": [
            p["rps"] / r["rows_per_second"] for p, r in zip(http_runs, raw_runs, strict=True)
        ],
        "queries": queries["intake"]["queries"],
        "http_requests": http_requests,
        "http_orders_created": http_created,
        "runs": http_runs,
    }
    # wrk counts completed responses; the request in flight on each connection when a run
    # ends is not counted but still commits.
    if not http_requests <= http_created <= http_requests + args.runs * args.connections:
        failures.append(
            f"Open311 intake: {http_requests} responses but {http_created} new orders in the table"
        )
    if http["non_2xx_3xx"] or http["socket_errors"]:
        failures.append(
            f"Open311 intake: {http['non_2xx_3xx']} error responses, "
            f"{http['socket_errors']} socket errors under load"
        )
    h.bench_sql(f"DELETE FROM workorders_workorder WHERE description = '{RAW_MARK}'")  # noqa: S608
    out["queries"] = queries
    out["worst_spread"] = max(
        [max(f["page"]["rps_spread"], f["bare"]["rps_spread"]) for f in figures.values()]
        + [http["rps_spread"], out["intake"]["raw"]["rps_spread"]]
    )
    return out


def report(out: dict) -> None:
    fill, intake = out["fill"], out["intake"]
    print()
    print(
        f"Work orders — {fill['table_rows']:,} orders in workorders_workorder "
        f"({fill['table_mib']:.0f} MiB) over {fill['streets']} streets, filled in "
        f"{fill['fill_seconds']:.0f}s + VACUUM ANALYZE {fill['vacuum_analyze_seconds']:.0f}s; "
        f"the dispatcher's street: {fill['street_rows']:,} orders, {fill['street_open']:,} open "
        f"({fill['street_open_red']:,} red), {fill['street_registered_red']:,} registered and red"
    )
    header = (
        f"{'figure':<40}{'page req/s':>11}{'bare req/s':>11}{'ratio':>7}"
        f"{'page p50':>10}{'bare p50':>10}{'p50 ratio':>10}{'SQL/req':>8}"
    )
    print(header)
    print("-" * len(header))
    names = {
        "console": "dispatcher console (open, by due)",
        "console_filtered": "console, registered + red",
    }
    for label, fig in out["console"]["figures"].items():
        print(
            f"{names[label]:<40}{fig['page']['rps']:>11.1f}{fig['bare']['rps']:>11.1f}"
            f"{fig['rps_ratio']:>7.2f}{fig['page']['latency_p50_ms']:>8.1f}ms"
            f"{fig['bare']['latency_p50_ms']:>8.1f}ms{fig['latency_p50_ratio']:>10.2f}"
            f"{fig['queries']:>8}"
        )
    for label, fig in out["console"]["figures"].items():
        ratios = ", ".join(f"{r:.2f}" for r in fig["round_ratios"])
        print(f"  {label}: ratio per round {ratios}")
    for label, entry in out["profile"].items():
        scans = []
        for plan in entry["plans"]:
            scan = next(
                (
                    line.strip().lstrip("-> ")
                    for line in plan["plan"]
                    if " Scan " in line and "workorders_workorder" in line
                ),
                "",
            )
            took = next((line for line in plan["plan"] if line.startswith("Execution Time")), "")
            scans.append(f"{scan.split('  (')[0]} {took.split(': ')[-1]}")
        print(
            f"  {label}, in-process: {entry['ms']:.0f} ms a request, SQL {entry['sql_ms']:.0f} ms "
            f"of it; orders read by: " + "; ".join(scans)
        )
    raw = intake["raw"]
    print(
        f"Order intake, {intake['path']}: {intake['http']['rps']:.1f} orders/s "
        f"(p50 {intake['http']['latency_p50_ms']:.1f} ms, {intake['queries']} SQL statements, "
        f"writes {out['intake_writes']['orders']} order + {out['intake_writes']['transitions']} "
        f"transition) vs raw single-row INSERT+COMMIT over {raw['connections']} connections "
        f"{raw['rows_per_second']:.0f} rows/s: ratio {intake['ratio']:.3f} "
        f"(per round {', '.join(f'{r:.3f}' for r in intake['round_ratios'])})"
    )
    if out["worst_spread"] > 1.5:
        print(
            f"  NOISY: the runs of one side differ by up to {out['worst_spread']:.1f}×; "
            "rerun on a quiet machine before comparing."
        )
