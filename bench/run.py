"""Linli benchmark: serve the app the production way and report figures as ratios to baselines.

    make bench            # == .venv/bin/python bench/run.py
    .venv/bin/python bench/run.py --duration 3 --runs 3 --loadgen python

Steps: create and migrate a scratch PostgreSQL database, build the demo street and its register
in it, measure query counts in-process, time a raw-SQL baseline, start gunicorn (sync workers)
on a free loopback port, load it with wrk (or the Python fallback), stop gunicorn, time a
residents import against a raw COPY of the same rows, print the figures, write
bench/results/latest.json and drop the database. See bench/README.md.
"""

import argparse
import csv
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
DB_NAME = os.environ.get("BENCH_DB_NAME", "linli_bench")
DATABASE_URL = f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{DB_NAME}"
PASSWORD = "Bench-pass-123!"  # noqa: S105 - throwaway accounts in a scratch database
HOST = "127.0.0.1"

# The environment of every Django process of the bench (migrate, in-process, gunicorn).
# Development profile with DEBUG off: the production profile would force HTTPS redirects and
# demand secrets; everything that matters for speed (DEBUG, PostgreSQL, persistent connections,
# cached templates) is the same.
APP_ENV = {
    "DATABASE_URL": DATABASE_URL,
    "LINLI_ENV": "development",
    "DEBUG": "0",
    "ALLOWED_HOSTS": HOST,
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "PYTHONDONTWRITEBYTECODE": "1",
}

T0 = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - T0:6.1f}s] {message}", flush=True)


def median(values):
    return statistics.median(values) if values else float("nan")


def child_env() -> dict[str, str]:
    env = os.environ.copy()
    env.update(APP_ENV)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return env


# --- Load generator --------------------------------------------------------------------------


def find_wrk(mode: str) -> str | None:
    """Path of wrk, installing the Debian package if needed; None means use the Python fallback."""
    if mode == "python":
        return None
    path = shutil.which("wrk")
    if path:
        return path
    log("wrk not on PATH: trying `apt-get install -y wrk`")
    command = ["apt-get", "install", "-y", "-q", "wrk"]
    if os.geteuid() != 0:
        command = ["sudo", "-n", *command] if shutil.which("sudo") else []
    if command:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        try:
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
            if done.returncode != 0:
                log(f"apt-get failed ({done.returncode}): {done.stderr.strip().splitlines()[-1:]}")
        except (OSError, subprocess.TimeoutExpired) as exc:
            log(f"apt-get failed: {exc}")
    path = shutil.which("wrk")
    if path:
        return path
    if mode == "wrk":
        sys.exit("wrk is required (--loadgen wrk) but could not be installed")
    log("falling back to the Python load generator (bench/loadgen.py)")
    return None


def wrk_version(path: str) -> str:
    done = subprocess.run([path, "-v"], capture_output=True, text=True)
    return (
        (done.stdout + done.stderr).strip().splitlines()[0]
        if (done.stdout + done.stderr)
        else "wrk"
    )


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> dict:
    def grab(pattern: str) -> re.Match | None:
        return re.search(pattern, output, re.MULTILINE)

    latency = grab(r"^\s+Latency\s+(\S+)\s+(\S+)\s+(\S+)")
    dist = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    total = grab(r"^\s+(\d+) requests in ([\d.]+)(\w+)")
    rps = grab(r"^Requests/sec:\s+([\d.]+)")
    non_ok = grab(r"Non-2xx or 3xx responses: (\d+)")
    sock = grab(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
    if not (latency and rps and total):
        raise RuntimeError(f"could not parse wrk output:\n{output}")
    return {
        "requests": int(total.group(1)),
        "rps": float(rps.group(1)),
        "latency_ms": {
            "avg": _ms(latency.group(1)),
            "p50": _ms(dist["50"]) if "50" in dist else float("nan"),
            "p90": _ms(dist["90"]) if "90" in dist else float("nan"),
            "p99": _ms(dist["99"]) if "99" in dist else float("nan"),
            "max": _ms(latency.group(3)),
        },
        "non_2xx_3xx": int(non_ok.group(1)) if non_ok else 0,
        # connect/write/timeout are real trouble; "read" errors are counted separately because
        # wrk reports the server closing its side, which gunicorn's sync workers do by design.
        "socket_errors": sum(int(x) for i, x in enumerate(sock.groups()) if i != 1) if sock else 0,
        "socket_read_errors": int(sock.group(2)) if sock else 0,
    }


def load(wrk: str | None, url: str, headers: dict[str, str], args, body: str | None = None) -> dict:
    """One closed-loop run against `url`: GET, or POST of `body` (an urlencoded form)."""
    flags = [item for name, value in headers.items() for item in ("-H", f"{name}: {value}")]
    if wrk:
        with tempfile.TemporaryDirectory(prefix="linli-bench-") as tmp:
            command = [
                wrk,
                f"-t{args.threads}",
                f"-c{args.connections}",
                f"-d{args.duration}s",
                "--latency",
                *flags,
            ]
            if body is not None:
                # wrk takes the method and body from a Lua script. An urlencoded body is ASCII
                # without quotes or backslashes, so its JSON form is also a valid Lua string.
                if not body.isascii():
                    raise ValueError("POST bodies must be urlencoded")
                script = Path(tmp) / "post.lua"
                script.write_text(f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\n')
                command += ["-s", str(script)]
            command.append(url)
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=args.duration + 60
            )
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed: {done.stderr or done.stdout}")
        return parse_wrk(done.stdout)
    command = [
        sys.executable,
        str(BENCH_DIR / "loadgen.py"),
        url,
        "-c",
        str(args.connections),
        "-d",
        str(args.duration),
        *flags,
    ]
    if body is not None:
        command += ["--method", "POST", "--body", body]
    done = subprocess.run(command, capture_output=True, text=True, timeout=args.duration + 60)
    if done.returncode != 0:
        raise RuntimeError(f"loadgen failed: {done.stderr}")
    return json.loads(done.stdout)


def request_headers(session: dict[str, str], target: dict) -> dict[str, str]:
    """What a browser sends: the session and CSRF cookies; for a form post also the CSRF token
    header and the form's content type, and `HX-Request` where htmx sends the request."""
    headers = {"Cookie": session["cookie"]}
    if target.get("htmx"):
        headers["HX-Request"] = "true"
    if target.get("form") is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["X-CSRFToken"] = session["csrf"]
    return headers


def request_body(target: dict) -> str | None:
    return urlencode(target["form"]) if target.get("form") is not None else None


# --- Database --------------------------------------------------------------------------------


def admin_sql(statement: str) -> None:
    import psycopg

    with psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(statement)


def bench_sql(statement: str) -> None:
    """One statement in the bench database, in autocommit (VACUUM cannot run in a transaction)."""
    import psycopg

    with psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=DB_NAME, autocommit=True
    ) as conn:
        conn.execute(statement)


def create_database() -> None:
    admin_sql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    admin_sql(f'CREATE DATABASE "{DB_NAME}"')


def drop_database() -> None:
    try:
        admin_sql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        log(f"dropped database {DB_NAME}")
    except Exception as exc:  # cleanup must not hide the real error
        log(f"could not drop database {DB_NAME}: {exc}")


def migrate() -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.exit(f"migrate failed:\n{done.stdout}\n{done.stderr}")


def sql_baseline(prefixes: dict[str, str], seconds: float, rounds: int) -> dict:
    """Per-query time of the subtree range count vs `SELECT 1`, same connection, alternating.

    Each measurement runs its query in a loop for `seconds` (time-boxed, so a slow machine
    costs fewer iterations rather than more wall time).
    """
    import psycopg

    from linli.core.scoping import path_successor

    trivial = "SELECT 1"
    subtree = "SELECT count(*) FROM places_place WHERE path >= %s AND path < %s"
    result = {
        "seconds_per_measurement": seconds,
        "rounds": rounds,
        "trivial_sql": trivial,
        "subtree_sql": subtree,
        "subtrees": {},
    }
    with psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=DB_NAME, autocommit=True
    ) as conn:
        cur = conn.cursor()

        def timed(sql: str, params, budget: float) -> float:
            n, started = 0, time.perf_counter()
            while (elapsed := time.perf_counter() - started) < budget or n < 10:
                cur.execute(sql, params)
                cur.fetchone()
                n += 1
            return elapsed / n * 1e6  # µs per query

        timed(trivial, None, 0.1)  # warm up (psycopg prepares statements after 5 runs)
        trivial_runs = []
        for label, prefix in prefixes.items():
            params = (prefix, path_successor(prefix))
            timed(subtree, params, 0.1)
            runs = []
            for _ in range(rounds):
                trivial_runs.append(timed(trivial, None, seconds))
                runs.append(timed(subtree, params, seconds))
            cur.execute(subtree, params)
            rows = cur.fetchone()[0]
            cur.execute("EXPLAIN " + subtree, params)
            plan = [r[0] for r in cur.fetchall()]
            result["subtrees"][label] = {
                "prefix": prefix,
                "rows": rows,
                "runs_us": runs,
                "median_us": median(runs),
                "plan": plan,
            }
    result["trivial_runs_us"] = trivial_runs
    result["trivial_median_us"] = median(trivial_runs)
    for entry in result["subtrees"].values():
        entry["ratio_to_trivial"] = entry["median_us"] / result["trivial_median_us"]
    return result


# --- Django, in-process against the bench database -------------------------------------------


def setup_django() -> None:
    os.environ.update(APP_ENV)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def build_data() -> dict:
    from django.db import transaction
    from django.db.models import Count

    from linli.demo.builder import (
        DEMO_SIZE,
        _bulk_places,
        build_street,
        create_accounts,
        personas_for,
    )
    from linli.demo.register import populate_register
    from linli.places.choices import PlaceKind
    from linli.places.models import Place

    started = time.perf_counter()
    world = build_street(seed=2026, size=DEMO_SIZE)
    built = time.perf_counter() - started
    started = time.perf_counter()
    register = populate_register(world, seed=2026)
    register_seconds = time.perf_counter() - started
    personas = personas_for(world)
    users = create_accounts(personas, {p.key: PASSWORD for p in personas})
    committee = world.committees[0]
    with transaction.atomic():
        small, big = _bulk_places(
            [
                Place(kind=PlaceKind.COMPOUND, name="基准十楼小区", parent=committee),
                Place(kind=PlaceKind.COMPOUND, name="基准千楼小区", parent=committee),
            ]
        )
        _bulk_places(
            [Place(kind=PlaceKind.BUILDING, name=f"{n}号楼", parent=small) for n in range(1, 11)]
            + [Place(kind=PlaceKind.BUILDING, name=f"{n}号楼", parent=big) for n in range(1, 1001)]
        )
    # A freshly bulk-loaded table has no planner statistics and no visibility map yet; a live
    # database would have been auto-vacuumed. Do it now so plans are the steady-state ones.
    bench_sql("VACUUM ANALYZE")
    kinds = dict(Place.objects.values_list("kind").order_by().annotate(n=Count("id")))
    return {
        "world": world,
        "users": users,
        "committee": committee,
        "small": small,
        "big": big,
        "build_street_seconds": built,
        "register": register,
        "register_seconds": register_seconds,
        "places_by_kind": kinds,
        "committee_children": Place.objects.filter(parent=committee).count(),
    }


def logged_in_client(user):
    from django.test import Client

    client = Client(SERVER_NAME=HOST)  # ALLOWED_HOSTS is 127.0.0.1 only, as on the server
    client.force_login(user)
    return client


def client_request(client, target: dict):
    """The target's request through the test client (which does not check CSRF)."""
    extra = {"HTTP_HX_REQUEST": "true"} if target.get("htmx") else {}
    if target.get("form") is not None:
        return client.post(target["path"], target["form"], **extra)
    return client.get(target["path"], **extra)


def count_queries(client, targets: dict[str, dict]) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for label, target in targets.items():
        client_request(client, target)  # warm-up: first-use queries are not the page's cost
        with CaptureQueriesContext(connection) as ctx:
            response = client_request(client, target)
        counts[label] = {
            "path": target["path"],
            "method": "POST" if target.get("form") is not None else "GET",
            "status": response.status_code,
            "queries": len(ctx.captured_queries),
            "sql": [q["sql"] for q in ctx.captured_queries],
        }
    return counts


def register_targets(committee) -> dict:
    """Register pages of committee 0 as its community worker sees them, each in a small and a
    large case: a name search that finds one resident and one that finds the most (a common
    surname, first page of 50); an exact phone look-up; the household with the most members
    and one with a single member. `expect` is a name the page must show."""
    from django.db.models import Count
    from django.db.models.functions import Left

    from linli.core.crypto import decrypt
    from linli.core.scoping import under_q
    from linli.people.models import Household, Resident
    from linli.people.selectors import RESIDENTS_PER_PAGE

    active = Resident.objects.filter(under_q(committee.path), status="active")
    by_surname = (
        active.annotate(surname=Left("name", 1))
        .values("surname")
        .annotate(n=Count("id"))
        .order_by("-n", "surname")
    )
    surname = by_surname[0]["surname"]
    found = active.filter(name__contains=surname).order_by("path", "name", "id")
    single = (
        active.values("name").annotate(n=Count("id")).filter(n=1).order_by("name").first()["name"]
    )
    if active.filter(name__contains=single).count() != 1:  # a longer name may contain it
        single = next(
            row["name"]
            for row in active.values("name").annotate(n=Count("id")).filter(n=1).order_by("name")
            if active.filter(name__contains=row["name"]).count() == 1
        )
    # A phone only one resident of the committee has (the search shows every match).
    phone_hash = (
        active.exclude(phone_hash="")
        .values("phone_hash")
        .annotate(n=Count("id"))
        .filter(n=1)
        .order_by("phone_hash")
        .first()["phone_hash"]
    )
    by_phone = active.get(phone_hash=phone_hash)
    households = (
        Household.objects.filter(under_q(committee.path))
        .annotate(n=Count("members"))
        .order_by("-n", "pk")
    )
    large = households.first()
    small = households.filter(n=1).order_by("pk").first()

    def first_member(household) -> str:
        return household.members.order_by("id").first().name

    return {
        "search_name": {
            "path": f"/people/?{urlencode({'q': surname})}",
            "expect": found.first().name,
            "found": found.count(),
            "shown": min(found.count(), RESIDENTS_PER_PAGE),
        },
        "search_name_one": {
            "path": f"/people/?{urlencode({'q': single})}",
            "expect": single,
            "found": 1,
            "shown": 1,
        },
        # As the search box sends it: htmx posts the form, the results fragment comes back.
        "search_phone": {
            "path": "/people/",
            "form": {
                "q": decrypt(by_phone.phone_cipher),
                "tag": "",
                "status": "active",
                "place": "",
            },
            "htmx": True,
            "expect": by_phone.name,
            "found": 1,
            "shown": 1,
        },
        "household": {
            "path": f"/people/households/{large.pk}/",
            "expect": first_member(large),
            "members": large.n,
        },
        "household_one": {
            "path": f"/people/households/{small.pk}/",
            "expect": first_member(small),
            "members": small.n,
        },
    }


# --- Import throughput, in-process ------------------------------------------------------------

IMPORT_HEADERS = (
    "小区",
    "楼栋",
    "室号",
    "姓名",
    "身份证号",
    "联系电话",
    "民族",
    "户籍状态",
    "居住状态",
    "与户主关系",
    "标签",
    "迁入日期",
)
# People the demo register never draws: ID numbers from a region it does not use (Urumqi) and
# phones with a prefix it does not use, so every row of a generated file is a new resident.
IMPORT_REGION = "650102"
IMPORT_PHONE_PREFIX = "192"
IMPORT_FIRST_BIRTH = date(1950, 1, 1)
IMPORT_BIRTH_DAYS = 20_000  # births over 1950-2004; the sequence number tells the rest apart
IMPORT_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗顾陆沈钱"
IMPORT_GIVEN = (
    "建华",
    "丽娟",
    "志强",
    "海燕",
    "晓明",
    "秀英",
    "俊杰",
    "雨婷",
    "国平",
    "美玲",
    "伟",
    "敏",
)
# (registration, residence) as the sheet writes them, then as stored.
IMPORT_STATUS = (
    ("户籍", "人户一致", "registered", "living_registered"),
    ("来沪", "人在户不在", "migrant", "living_only"),
)
IMPORT_RELATIONS = (
    ("户主", "head"),
    ("配偶", "spouse"),
    ("子女", "child"),
    ("父母", "parent"),
    ("租户", "tenant"),
)


def import_person(i: int) -> tuple[str, str, str]:
    """(name, ID number, phone) of the i-th generated person; unique for i < 900 × 20,000."""
    from linli.people.pii import compose_id_number

    birth = IMPORT_FIRST_BIRTH + timedelta(days=i % IMPORT_BIRTH_DAYS)
    number = compose_id_number(IMPORT_REGION, birth, 100 + i // IMPORT_BIRTH_DAYS)
    surname = IMPORT_SURNAMES[i % len(IMPORT_SURNAMES)]
    given = IMPORT_GIVEN[i // len(IMPORT_SURNAMES) % len(IMPORT_GIVEN)]
    return surname + given, number, f"{IMPORT_PHONE_PREFIX}{i:08d}"


def committee_dwellings(committee) -> list[tuple[int, str, str, str, str]]:
    """(place id, path, compound, building, room) of the committee's dwellings, in path order."""
    from linli.core.scoping import under_q
    from linli.places.choices import PlaceKind
    from linli.places.models import Place

    dwellings = (
        Place.objects.filter(under_q(committee.path), kind=PlaceKind.HOUSEHOLD)
        .select_related("parent__parent")
        .order_by("path")
    )
    return [(d.pk, d.path, d.parent.parent.name, d.parent.name, d.name) for d in dwellings]


def write_residents_csv(path: Path, dwellings: list, first: int, count: int, tag: str) -> None:
    """A residents sheet as a committee keeps it: Chinese headers and words, saved by Excel as
    "CSV UTF-8" (with a BOM). People are spread over the dwellings; every 20th has a tag."""
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(IMPORT_HEADERS)
        for i in range(first, first + count):
            _pk, _path, compound, building, room = dwellings[i % len(dwellings)]
            name, number, phone = import_person(i)
            registration, residence, _r, _s = IMPORT_STATUS[i % len(IMPORT_STATUS)]
            writer.writerow(
                [
                    compound,
                    building,
                    room,
                    name,
                    number,
                    phone,
                    "回族" if i % 25 == 0 else "汉族",
                    registration,
                    residence,
                    IMPORT_RELATIONS[i % len(IMPORT_RELATIONS)][0],
                    tag if i % 20 == 0 else "",
                    f"{2010 + i % 15}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                ]
            )


def _copy_text(value) -> str:
    """One field in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    text = str(value)
    for char, escaped in (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r")):
        text = text.replace(char, escaped)
    return text


def raw_copy_payload(dwellings: list, first: int, count: int) -> tuple[list[str], bytes]:
    """The COPY columns of people_resident and the same people as the import's rows, as the
    bytes COPY reads: everything (ciphertexts, hashes, masks, dates) computed beforehand with the
    app's own functions, so the timed part is the database's work only."""
    from django.utils import timezone

    from linli.people.models import Household, Resident
    from linli.people.pii import parse_id_number
    from linli.people.services import pii_assign

    households = dict(
        Household.objects.filter(place_id__in=[d[0] for d in dwellings]).values_list(
            "place_id", "pk"
        )
    )
    fields = [f for f in Resident._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    lines = []
    for i in range(first, first + count):
        place_id, path, *_names = dwellings[i % len(dwellings)]
        name, number, phone = import_person(i)
        _r, _s, registration, residence = IMPORT_STATUS[i % len(IMPORT_STATUS)]
        parsed = parse_id_number(number)
        resident = Resident(
            household_id=households.get(place_id, place_id),  # the copy has no foreign keys
            path=path,
            name=name,
            gender=parsed.gender,
            birth_date=parsed.birth_date,
            ethnicity="回族" if i % 25 == 0 else "汉族",
            registration=registration,
            residence=residence,
            relation=IMPORT_RELATIONS[i % len(IMPORT_RELATIONS)][1],
            created_at=now,
            updated_at=now,
        )
        pii_assign(resident, "id", parsed.value)
        pii_assign(resident, "phone", phone)
        lines.append("\t".join(_copy_text(getattr(resident, f.attname)) for f in fields))
    return [f.column for f in fields], ("\n".join(lines) + "\n").encode()


def raw_copy(columns: list[str], payload: bytes) -> float:
    """Seconds to COPY the rows into an empty copy of people_resident (same columns, defaults
    and indexes, no foreign keys) and commit, over one psycopg connection."""
    import psycopg

    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=DB_NAME) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_resident_raw (LIKE people_resident INCLUDING ALL)"
        )
        conn.execute("TRUNCATE bench_resident_raw")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor().copy(
            f"COPY bench_resident_raw ({', '.join(columns)}) FROM STDIN"
        ) as copy:
            copy.write(payload)
        conn.commit()
        return time.perf_counter() - started


def timed_import(run, committee, path: Path) -> tuple[float, object]:
    """One run of the engine the way `linli import residents FILE --committee CODE` calls it."""
    from linli.people.imports import rows_estimate
    from linli.people.models import ImportKind

    def opener():
        return path.open("rb")

    started = time.perf_counter()
    result = run(
        actor=None,
        committee=committee,
        kind=ImportKind.RESIDENTS,
        opener=opener,
        file_name=path.name,
        total=rows_estimate(opener=opener, file_name=path.name),
    )
    return time.perf_counter() - started, result


def import_memory(path: Path, warm_up: Path, committee_code: str) -> dict:
    """Peak RSS growth of one import, in a fresh process (bench/import_memory.py)."""
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH_DIR / "import_memory.py"),
            str(path),
            "--committee",
            committee_code,
            "--warm-up",
            str(warm_up),
        ],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"import_memory.py failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout)


def import_bench(committee, rows: int, failures: list[str]) -> dict:
    """Residents import of `rows` new people into committee 0: dry run, commit, the same file
    again, each timed once; a raw COPY of the same rows three times between them (median); peak
    memory of a commit of `rows` and of 2 × `rows` in fresh processes, rolled back."""
    from linli.people.imports import import_check, import_commit
    from linli.people.models import Resident, Tag

    dwellings = committee_dwellings(committee)
    tag = Tag.objects.filter(active=True, sensitive=False).order_by("code").first()
    out: dict = {"rows": rows, "dwellings": len(dwellings), "committee": committee.code}
    before = Resident.objects.count()
    with tempfile.TemporaryDirectory(prefix="linli-bench-") as tmp:
        # (file, first person, rows): no two files share a person, so every probe inserts
        # all of its rows, as the timed commit does.
        files = {
            "timed": (Path(tmp) / "居民导入.csv", 0, rows),
            "memory_n": (Path(tmp) / "居民导入-n.csv", rows, rows),
            "memory_2n": (Path(tmp) / "居民导入-2n.csv", 2 * rows, 2 * rows),
            "warm_up": (Path(tmp) / "居民导入-warm.csv", 4 * rows, min(rows, 200)),
        }
        for path, first, count in files.values():
            write_residents_csv(path, dwellings, first, count, tag.name if tag else "")
        out["file_bytes"] = files["timed"][0].stat().st_size
        columns, payload = raw_copy_payload(dwellings, 0, rows)
        path = files["timed"][0]

        raw = [raw_copy(columns, payload)]
        log(f"import: raw COPY of {rows} rows {raw[-1]:.2f}s")
        seconds, result = timed_import(import_check, committee, path)
        out["dry_run"] = {"seconds": seconds, **result.counts()}
        log(f"import: dry run {seconds:.1f}s {result.counts()}")
        if not result.ok or result.created != rows:
            failures.append(f"import dry run: {result.counts()} {result.errors[:3]}")
        raw.append(raw_copy(columns, payload))
        seconds, result = timed_import(import_commit, committee, path)
        out["commit"] = {"seconds": seconds, "committed": result.committed, **result.counts()}
        log(f"import: commit {seconds:.1f}s {result.counts()}")
        if not result.committed or result.created != rows:
            failures.append(f"import commit: {result.counts()} {result.errors[:3]}")
        raw.append(raw_copy(columns, payload))
        seconds, result = timed_import(import_commit, committee, path)
        out["again"] = {"seconds": seconds, "committed": result.committed, **result.counts()}
        log(f"import: same file again {seconds:.1f}s {result.counts()}")
        if not result.committed or result.unchanged != rows:
            failures.append(f"import of the same file again: {result.counts()}")
        out["residents_added"] = Resident.objects.count() - before
        if out["residents_added"] != rows:
            failures.append(f"the import added {out['residents_added']} residents, not {rows}")

        out["raw_copy"] = {"runs_seconds": raw, "seconds": median(raw)}
        for key in ("raw_copy", "dry_run", "commit", "again"):
            out[key]["rows_per_second"] = rows / out[key]["seconds"]
        raw_rate = out["raw_copy"]["rows_per_second"]
        for key in ("dry_run", "commit", "again"):
            out[key]["ratio_to_raw"] = out[key]["rows_per_second"] / raw_rate

        warm_up = files["warm_up"][0]
        out["memory"] = {
            "n": import_memory(files["memory_n"][0], warm_up, committee.code),
            "2n": import_memory(files["memory_2n"][0], warm_up, committee.code),
        }
        small, large = out["memory"]["n"], out["memory"]["2n"]
        out["memory_bytes_per_extra_row"] = (
            (large["growth_kib"] - small["growth_kib"]) * 1024 / (large["rows"] - small["rows"])
        )
        for label, probe in out["memory"].items():
            log(
                f"import: memory, {probe['rows']} rows: peak RSS +{probe['growth_kib'] / 1024:.1f} MiB"
            )
            if probe["created"] != probe["rows"]:
                failures.append(f"import memory probe ({label}): {probe}")
    bench_sql("DROP TABLE IF EXISTS bench_resident_raw")
    return out


# --- gunicorn --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_gunicorn(port: int, workers: int, log_path: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "linli.wsgi:application",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--bind",
        f"{HOST}:{port}",
        "--chdir",
        str(ROOT),
        "--no-control-socket",
        "--log-level",
        "warning",
        "--error-logfile",
        str(log_path),
    ]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=child_env(),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_gunicorn(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log("gunicorn stopped")


def fetch(
    port: int, path: str, headers: dict[str, str] | None = None, body: str | None = None
) -> tuple[int, str, str]:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request("GET" if body is None else "POST", path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheader("Location") or "", response.read().decode()
    finally:
        conn.close()


def wait_ready(proc: subprocess.Popen, port: int, log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(
                f"gunicorn exited ({proc.returncode}); see {log_path}:\n{log_path.read_text()[-2000:]}"
            )
        try:
            if fetch(port, "/bench/bare/")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"gunicorn did not answer within 30 s; see {log_path}")


def check_pages(port: int, session: dict[str, str], targets: dict[str, dict]) -> None:
    """wrk only flags status >= 400: make sure nothing redirects (e.g. to the login page) and
    that a post passes the CSRF check and finds what it should."""
    for label, target in targets.items():
        status, location, body = fetch(
            port, target["path"], request_headers(session, target), request_body(target)
        )
        expect = target["expect"]
        if status != 200 or expect not in body:
            sys.exit(
                f"{label} {target['path']}: HTTP {status} {location} (expected 200 containing "
                f"{expect!r}); the load figures would be meaningless"
            )


# --- Report ----------------------------------------------------------------------------------


def summarise(runs: list[dict]) -> dict:
    return {
        "rps_runs": [r["rps"] for r in runs],
        "rps": median([r["rps"] for r in runs]),
        "rps_spread": max(r["rps"] for r in runs) / max(min(r["rps"] for r in runs), 1e-9),
        "latency_p50_ms": median([r["latency_ms"]["p50"] for r in runs]),
        "latency_avg_ms": median([r["latency_ms"]["avg"] for r in runs]),
        "latency_p99_ms": median([r["latency_ms"]["p99"] for r in runs]),
        "requests": sum(r["requests"] for r in runs),
        "non_2xx_3xx": sum(r["non_2xx_3xx"] for r in runs),
        "socket_errors": sum(r["socket_errors"] for r in runs),
    }


def figure(path: str, page_runs: list[dict], bare_runs: list[dict]) -> dict:
    page, bare = summarise(page_runs), summarise(bare_runs)
    return {
        "path": path,
        "page": page,
        "bare": bare,
        "rps_ratio": page["rps"] / bare["rps"],
        "latency_p50_ratio": page["latency_p50_ms"] / bare["latency_p50_ms"],
        # Each page run follows its own bare run: the ratio within a pair is less exposed to
        # slow drift of the machine than the ratio of medians.
        "round_ratios": [p["rps"] / b["rps"] for p, b in zip(page_runs, bare_runs, strict=True)],
    }


# Pages whose query count must not depend on the data: (small case, large case, what grows).
QUERY_CHECKS = {
    "compound": ("compound_10", "compound_1000", "buildings in the compound"),
    "search": ("search_name_one", "search_name", "residents found by the search"),
    "household": ("household_one", "household", "members of the household"),
}


def query_checks(queries: dict) -> dict:
    return {
        name: {
            "small": small,
            "large": large,
            "grows": what,
            "queries": [queries[small]["queries"], queries[large]["queries"]],
            "equal": queries[small]["queries"] == queries[large]["queries"],
        }
        for name, (small, large, what) in QUERY_CHECKS.items()
    }


def report(args, tool, figures, descriptions, queries, sql, noise, register, imported) -> None:
    print()
    print(
        f"Linli bench — gunicorn {args.workers} sync workers, PostgreSQL, {tool.split(' Copyright')[0]}"
    )
    print(
        f"{args.connections} connections, {args.runs} × {args.duration}s per side, medians; "
        "ratio = page req/s ÷ bare req/s (1.00 = as fast as an empty view)"
    )
    print()
    header = (
        f"{'figure':<40}{'page req/s':>11}{'bare req/s':>11}{'ratio':>7}"
        f"{'page p50':>10}{'bare p50':>10}{'p50 ratio':>10}{'SQL/req':>8}"
    )
    print(header)
    print("-" * len(header))
    for label, fig in figures.items():
        print(
            f"{descriptions[label]:<40}{fig['page']['rps']:>11.1f}{fig['bare']['rps']:>11.1f}"
            f"{fig['rps_ratio']:>7.2f}{fig['page']['latency_p50_ms']:>8.1f}ms"
            f"{fig['bare']['latency_p50_ms']:>8.1f}ms{fig['latency_p50_ratio']:>10.2f}"
            f"{fig['queries']:>8}"
        )
    print()
    for label, fig in figures.items():
        ratios = ", ".join(f"{r:.2f}" for r in fig["round_ratios"])
        print(f"  {label}: ratio per round {ratios}")
    if noise["worst_spread"] > 1.5:
        print(
            f"  NOISY: the runs of one side differ by up to {noise['worst_spread']:.1f}× "
            f"(load average {noise['loadavg_before'][0]:.1f} before, {noise['loadavg_after'][0]:.1f} "
            "after); something else is using the CPUs — rerun on a quiet machine before comparing."
        )
    checks = query_checks(queries)

    def verdict(name: str) -> str:
        return "equal" if checks[name]["equal"] else "NOT EQUAL"

    q = {label: entry["queries"] for label, entry in queries.items()}
    print()
    print(
        f"SQL statements per request (in-process, logged-in worker, incl. BEGIN/COMMIT of the "
        f"session save): bare view {q['bare']}, committee {q['committee']}, compound with 10 "
        f"buildings {q['compound_10']}, with 1,000 buildings {q['compound_1000']} — "
        + verdict("compound")
    )
    print(
        f"  register: name search finding 1 resident {q['search_name_one']}, finding "
        f"{register['search_name']['found']} ({register['search_name']['shown']} shown) "
        f"{q['search_name']} — {verdict('search')}; phone look-up (htmx POST, results only) "
        f"{q['search_phone']}; household of {register['household_one']['members']} "
        f"{q['household_one']}, of {register['household']['members']} {q['household']} — "
        + verdict("household")
    )
    print(
        f"Raw SQL over psycopg (time-boxed loops, median of 3): SELECT 1 {sql['trivial_median_us']:.0f} µs"
    )
    for label, entry in sql["subtrees"].items():
        scan = next(
            (line.strip().lstrip("-> ").split("  (")[0] for line in entry["plan"][1:2]), "?"
        )
        print(
            f"  subtree count under the {label} ({entry['rows']} rows): {entry['median_us']:.0f} µs "
            f"= {entry['ratio_to_trivial']:.1f} × SELECT 1   [{scan}]"
        )
    if not imported:
        return
    print()
    print(
        f"Residents import, in-process: {imported['rows']:,} new people into committee 0 "
        f"({imported['dwellings']:,} dwellings), as `linli import residents FILE --committee "
        f"{imported['committee']}`"
    )
    print(f"  {'':<44}{'time':>8}{'rows/s':>9}{'÷ raw':>8}")
    rows = [
        ("raw COPY of the same rows (median of 3)", imported["raw_copy"], ""),
        ("dry run", imported["dry_run"], "validates every row"),
        ("commit", imported["commit"], "validates all, then writes"),
        ("same file again", imported["again"], "every row unchanged"),
    ]
    for name, entry, note in rows:
        ratio = entry.get("ratio_to_raw", 1.0)
        print(
            f"  {name:<44}{entry['seconds']:>7.2f}s{entry['rows_per_second']:>9,.0f}"
            f"{ratio:>8.3f}  {note}"
        )
    memory = imported["memory"]
    print(
        "  peak RSS growth of a commit (fresh process, rolled back): "
        + ", ".join(
            f"{probe['rows']:,} rows +{probe['growth_kib'] / 1024:.1f} MiB"
            for probe in memory.values()
        )
        + f" — {imported['memory_bytes_per_extra_row']:.0f} bytes per extra row"
    )


def git_state() -> dict:
    def git(*argv: str) -> str:
        done = subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    return {
        "commit": git("rev-parse", "HEAD"),
        "dirty_paths": [
            line[3:]
            for line in git("status", "--porcelain").splitlines()
            if not line[3:].startswith("bench/")
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="Linli benchmark (see bench/README.md)")
    parser.add_argument("--duration", type=int, default=5, help="seconds per load run [5]")
    parser.add_argument("--runs", type=int, default=3, help="runs per page and per baseline [3]")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads [2]")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections [8]")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers [2]")
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument(
        "--sql-seconds", type=float, default=0.25, help="seconds per raw-SQL measurement [0.25]"
    )
    parser.add_argument(
        "--import-rows",
        type=int,
        default=20_000,
        help="rows of the residents import, N (memory is also measured for 2N); 0 skips it [20000]",
    )
    parser.add_argument(
        "--orders",
        type=int,
        default=1_000_000,
        help="work orders in the table for the console figure; 0 skips the work-order figures "
        "(bench/workorders.py) [1000000]",
    )
    parser.add_argument(
        "--ballots",
        type=int,
        default=1_000_000,
        help="ballots of the owners' vote for the tally figure; 0 skips the vote figures "
        "(bench/votes.py) [1000000]",
    )
    parser.add_argument(
        "--voters",
        type=int,
        default=400,
        help="voters casting twice each over HTTP; 0 skips the casting figure [400]",
    )
    if str(ROOT) not in sys.path:  # run as a script: bench/ is on the path, the root is not
        sys.path.insert(0, str(ROOT))
    from bench import funds

    funds.add_arguments(parser)
    parser.add_argument(
        "--only",
        choices=["all", "funds"],
        default="all",
        help="`funds`: only the funds figures, on the demo street without its register and "
        "without gunicorn, as `python bench/funds.py` does [all]",
    )
    parser.add_argument(
        "--keep-db", action="store_true", help="do not drop the database at the end"
    )
    args = parser.parse_args()
    if args.only == "funds":
        signal.signal(signal.SIGTERM, _interrupt)
        return funds.standalone(sys.modules[__name__], args)
    if args.import_rows * 5 > 900 * IMPORT_BIRTH_DAYS:  # the files hold 5N distinct people
        parser.error(f"--import-rows is at most {900 * IMPORT_BIRTH_DAYS // 5}")

    # SIGTERM (e.g. from make or CI) should clean up like Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    gunicorn_log = RESULTS_DIR / "gunicorn.log"
    gunicorn_log.write_text("")
    failures: list[str] = []
    proc = None
    created = False
    try:
        wrk = find_wrk(args.loadgen)
        tool = wrk_version(wrk) if wrk else "bench/loadgen.py (Python threads + http.client)"
        log(f"load generator: {tool}")

        create_database()
        created = True
        migrate()
        log(f"created and migrated {DB_NAME}")

        setup_django()
        import django
        from django.conf import settings

        data = build_data()
        committee, small, big = data["committee"], data["small"], data["big"]
        log(
            f"built the demo street in {data['build_street_seconds']:.1f}s: {data['places_by_kind']}"
        )
        log(f"built its register in {data['register_seconds']:.1f}s: {data['register']}")

        client = logged_in_client(data["users"]["worker"])
        register = register_targets(committee)
        targets = {
            "bare": {"path": "/bench/bare/", "expect": "ok"},
            "committee": {"path": f"/places/{committee.pk}/", "expect": committee.name},
            "compound_10": {"path": f"/places/{small.pk}/", "expect": small.name},
            "compound_1000": {"path": f"/places/{big.pk}/", "expect": big.name},
            **register,
        }
        # Load-tested (the rest only has its queries counted).
        pages = [
            "committee",
            "compound_10",
            "compound_1000",
            "search_name",
            "search_phone",
            "household",
        ]
        queries = count_queries(client, targets)
        for entry in queries.values():
            if entry["status"] != 200:
                failures.append(
                    f"in-process {entry['method']} {entry['path']} returned {entry['status']}"
                )
        checks = query_checks(queries)
        for check in checks.values():
            if not check["equal"]:
                small_n, large_n = check["queries"]
                failures.append(
                    f"query count grows with the {check['grows']}: {small_n} ({check['small']}) "
                    f"vs {large_n} ({check['large']})"
                )
        log("queries per request: " + ", ".join(f"{k} {v['queries']}" for k, v in queries.items()))
        # The worker's session, and a CSRF cookie for the search posts (any full page sets it).
        client.get("/people/")
        csrf = client.cookies[settings.CSRF_COOKIE_NAME].value
        session = {
            "cookie": f"{settings.SESSION_COOKIE_NAME}="
            f"{client.cookies[settings.SESSION_COOKIE_NAME].value}; "
            f"{settings.CSRF_COOKIE_NAME}={csrf}",
            "csrf": csrf,
        }

        prefixes = {"committee": committee.path, "street": data["world"].street.path}
        sql = sql_baseline(prefixes, args.sql_seconds, rounds=3)
        log(
            f"raw SQL: SELECT 1 {sql['trivial_median_us']:.0f} µs; "
            + ", ".join(
                f"{k} subtree ({v['rows']} rows) {v['median_us']:.0f} µs"
                for k, v in sql["subtrees"].items()
            )
        )

        port = free_port()
        proc = start_gunicorn(port, args.workers, gunicorn_log)
        wait_ready(proc, port, gunicorn_log)
        log(f"gunicorn: {args.workers} sync workers on {HOST}:{port} (pid {proc.pid})")

        check_pages(port, session, targets)
        quick = argparse.Namespace(**{**vars(args), "duration": 1})
        for label in ["bare", *pages]:  # warm-up: DB connections, template cache, imports
            target = targets[label]
            url = f"http://{HOST}:{port}{target['path']}"
            load(wrk, url, request_headers(session, target), quick, request_body(target))

        load_before = os.getloadavg()
        runs: dict[str, list[dict]] = {"bare_for_" + k: [] for k in pages} | {k: [] for k in pages}
        for round_no in range(1, args.runs + 1):
            for label in pages:  # bare, page, bare, page … so drift hits both sides equally
                for key, target in (
                    ("bare_for_" + label, targets["bare"]),
                    (label, targets[label]),
                ):
                    result = load(
                        wrk,
                        f"http://{HOST}:{port}{target['path']}",
                        request_headers(session, target),
                        args,
                        request_body(target),
                    )
                    runs[key].append(result)
                    log(
                        f"round {round_no}/{args.runs} {key:<24} {result['rps']:8.1f} req/s  "
                        f"p50 {result['latency_ms']['p50']:6.1f} ms"
                    )
        check_pages(port, session, targets)  # still logged in, nothing started redirecting
        load_after = os.getloadavg()
        orders = None
        if args.orders > 0:  # bench/workorders.py: fills the orders table, so after the pages
            from bench import workorders

            orders = workorders.run(sys.modules[__name__], wrk, port, args, data, failures)
        vote_figures = None
        if args.ballots > 0:  # bench/votes.py: an owners' vote of N ballots, then HTTP casting
            from bench import votes

            vote_figures = votes.run(sys.modules[__name__], port, args, data, failures)
        stop_gunicorn(proc)
        proc = None

        figures = {}
        for label in pages:
            target = targets[label]
            method = "POST " if target.get("form") is not None else ""
            fig = figure(method + target["path"], runs[label], runs["bare_for_" + label])
            fig["queries"] = queries[label]["queries"]
            for side in (fig["page"], fig["bare"]):
                if side["non_2xx_3xx"] or side["socket_errors"]:
                    failures.append(
                        f"{label}: {side['non_2xx_3xx']} error responses, "
                        f"{side['socket_errors']} socket errors under load"
                    )
            figures[label] = fig
        if gunicorn_log.read_text().strip():
            failures.append(f"gunicorn logged errors, see {gunicorn_log}")
        noise = {
            "loadavg_before": load_before,
            "loadavg_after": load_after,
            "worst_spread": max(
                max(f["page"]["rps_spread"], f["bare"]["rps_spread"]) for f in figures.values()
            ),
        }

        imported = None
        if args.import_rows > 0:
            imported = import_bench(committee, args.import_rows, failures)

        fund_figures = None
        if args.funds_committees > 0 or args.funds_seconds > 0:  # bench/funds.py, in-process
            fund_figures = funds.run(sys.modules[__name__], args, data, failures)

        descriptions = {
            "committee": f"committee page /places/{committee.pk}/",
            "compound_10": f"compound, 10 bldgs /places/{small.pk}/",
            "compound_1000": f"compound, 1000 bldgs /places/{big.pk}/",
            "search_name": f"search a surname ({register['search_name']['found']} found, "
            f"{register['search_name']['shown']} shown)",
            "search_phone": "search a phone (htmx POST)",
            "household": f"household of {register['household']['members']} "
            f"{targets['household']['path']}",
        }
        report(args, tool, figures, descriptions, queries, sql, noise, register, imported)
        if orders:
            workorders.report(orders)
        if vote_figures:
            votes.report(vote_figures)
        if fund_figures:
            funds.report(fund_figures)

        summary = {
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "git": git_state(),
            "environment": {
                "python": platform.python_version(),
                "django": django.get_version(),
                "cpus": os.cpu_count(),
                "postgres": _server_version(),
                "load_generator": tool,
                "settings": {
                    "DEBUG": settings.DEBUG,
                    "LINLI_ENV": settings.LINLI_ENV,
                    "CONN_MAX_AGE": settings.DATABASES["default"]["CONN_MAX_AGE"],
                    "CACHE": settings.CACHES["default"]["BACKEND"],
                    "SESSION_ENGINE": settings.SESSION_ENGINE,
                    "SESSION_SAVE_EVERY_REQUEST": settings.SESSION_SAVE_EVERY_REQUEST,
                },
            },
            "parameters": {k: v for k, v in vars(args).items() if k != "keep_db"},
            "data": {
                "places_by_kind": data["places_by_kind"],
                "committee_children": data["committee_children"],
                "build_street_seconds": data["build_street_seconds"],
                "register": data["register"],
                "register_seconds": data["register_seconds"],
            },
            # What the register figures look at; the phone look-up's number is left out.
            "register_targets": {
                label: {k: v for k, v in target.items() if k != "form"}
                for label, target in register.items()
            },
            "figures": figures,
            "noise": noise,
            "query_counts": queries,
            "query_count_equal": checks["compound"]["equal"],
            "query_count_checks": checks,
            "sql_baseline": sql,
            "import": imported,
            "workorders": orders,
            "votes": vote_figures,
            "funds": fund_figures,
            "runs": runs,
            "failures": failures,
            "total_seconds": time.perf_counter() - T0,
        }
        out = RESULTS_DIR / "latest.json"
        out.write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=str) + "\n")
        print(f"\nWritten {out.relative_to(ROOT)} ({summary['total_seconds']:.0f}s in all)")
    except KeyboardInterrupt:
        log("interrupted")
        failures.append("interrupted")
    finally:
        stop_gunicorn(proc)
        if created:
            if "django.db" in sys.modules:  # close our own connection before the drop
                from django.db import connections

                connections.close_all()
            if not args.keep_db:
                drop_database()
    for failure in failures:
        print(f"PROBLEM: {failure}", file=sys.stderr)
    return 1 if failures else 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _server_version() -> str:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        return cur.fetchone()[0]


if __name__ == "__main__":
    sys.exit(main())
