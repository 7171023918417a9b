"""Linli benchmark: serve the app the production way and report figures as ratios to baselines.

    make bench            # == .venv/bin/python bench/run.py
    .venv/bin/python bench/run.py --duration 3 --runs 3 --loadgen python

Steps: create and migrate a scratch PostgreSQL database, build the demo street in it, measure
query counts in-process, time a raw-SQL baseline, start gunicorn (sync workers) on a free
loopback port, load it with wrk (or the Python fallback), print the figures, write
bench/results/latest.json, stop gunicorn and drop the database. See bench/README.md.
"""

import argparse
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
import time
from datetime import UTC, datetime
from pathlib import Path

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
    dist = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", output, re.MULTILINE))
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


def load(wrk: str | None, url: str, cookie: str, args) -> dict:
    header = f"Cookie: sessionid={cookie}"
    if wrk:
        command = [
            wrk,
            f"-t{args.threads}",
            f"-c{args.connections}",
            f"-d{args.duration}s",
            "--latency",
            "-H",
            header,
            url,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=args.duration + 60)
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
        "-H",
        header,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=args.duration + 60)
    if done.returncode != 0:
        raise RuntimeError(f"loadgen failed: {done.stderr}")
    return json.loads(done.stdout)


# --- Database --------------------------------------------------------------------------------


def admin_sql(statement: str) -> None:
    import psycopg

    with psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True
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
    from linli.places.choices import PlaceKind
    from linli.places.models import Place

    started = time.perf_counter()
    world = build_street(seed=2026, size=DEMO_SIZE)
    built = time.perf_counter() - started
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
    import psycopg

    with psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=DB_NAME, autocommit=True
    ) as conn:
        conn.execute("VACUUM ANALYZE")
    kinds = dict(Place.objects.values_list("kind").order_by().annotate(n=Count("id")))
    return {
        "world": world,
        "users": users,
        "committee": committee,
        "small": small,
        "big": big,
        "build_street_seconds": built,
        "places_by_kind": kinds,
        "committee_children": Place.objects.filter(parent=committee).count(),
    }


def logged_in_client(user):
    from django.test import Client

    client = Client(SERVER_NAME=HOST)  # ALLOWED_HOSTS is 127.0.0.1 only, as on the server
    client.force_login(user)
    return client


def count_queries(client, paths: dict[str, str]) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for label, path in paths.items():
        client.get(path)  # warm-up: per-process first-use queries are not the page's cost
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path)
        counts[label] = {
            "path": path,
            "status": response.status_code,
            "queries": len(ctx.captured_queries),
            "sql": [q["sql"] for q in ctx.captured_queries],
        }
    return counts


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


def fetch(port: int, path: str, cookie: str | None = None) -> tuple[int, str, str]:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request("GET", path, headers={"Cookie": f"sessionid={cookie}"} if cookie else {})
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


def check_pages(port: int, cookie: str, targets: dict[str, dict]) -> None:
    """wrk only flags status >= 400: make sure nothing redirects (e.g. to the login page)."""
    for label, target in targets.items():
        status, location, body = fetch(port, target["path"], cookie)
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


def report(args, tool, figures, descriptions, queries, sql, noise) -> None:
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
        f"{'figure':<34}{'page req/s':>11}{'bare req/s':>11}{'ratio':>7}"
        f"{'page p50':>10}{'bare p50':>10}{'SQL/req':>8}"
    )
    print(header)
    print("-" * len(header))
    for label, fig in figures.items():
        print(
            f"{descriptions[label]:<34}{fig['page']['rps']:>11.1f}{fig['bare']['rps']:>11.1f}"
            f"{fig['rps_ratio']:>7.2f}{fig['page']['latency_p50_ms']:>8.1f}ms"
            f"{fig['bare']['latency_p50_ms']:>8.1f}ms{fig['queries']:>8}"
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
    q_small, q_big = queries["compound_10"]["queries"], queries["compound_1000"]["queries"]
    print()
    print(
        f"SQL statements per request (in-process, logged-in worker, incl. BEGIN/COMMIT of the "
        f"session save): bare view {queries['bare']['queries']}, committee "
        f"{queries['committee']['queries']}, compound with 10 buildings {q_small}, with 1,000 "
        f"buildings {q_big} — " + ("equal" if q_small == q_big else "NOT EQUAL")
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
        "--keep-db", action="store_true", help="do not drop the database at the end"
    )
    args = parser.parse_args()

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

        client = logged_in_client(data["users"]["worker"])
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        pages = {
            "committee": f"/places/{committee.pk}/",
            "compound_10": f"/places/{small.pk}/",
            "compound_1000": f"/places/{big.pk}/",
        }
        queries = count_queries(client, {"bare": "/bench/bare/", **pages})
        for entry in queries.values():
            if entry["status"] != 200:
                failures.append(f"in-process GET {entry['path']} returned {entry['status']}")
        q_small, q_big = queries["compound_10"]["queries"], queries["compound_1000"]["queries"]
        if q_small != q_big:
            failures.append(
                f"query count grows with data: {q_small} (10 buildings) vs {q_big} (1,000)"
            )
        log("queries per request: " + ", ".join(f"{k} {v['queries']}" for k, v in queries.items()))

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

        targets = {
            "bare": {"path": "/bench/bare/", "expect": "ok"},
            "committee": {"path": pages["committee"], "expect": committee.name},
            "compound_10": {"path": pages["compound_10"], "expect": small.name},
            "compound_1000": {"path": pages["compound_1000"], "expect": big.name},
        }
        check_pages(port, cookie, targets)
        quick = argparse.Namespace(**{**vars(args), "duration": 1})
        for target in targets.values():  # warm-up: DB connections, template cache, imports
            load(wrk, f"http://{HOST}:{port}{target['path']}", cookie, quick)

        load_before = os.getloadavg()
        runs: dict[str, list[dict]] = {"bare_for_" + k: [] for k in pages} | {k: [] for k in pages}
        for round_no in range(1, args.runs + 1):
            for label in pages:  # bare, page, bare, page … so drift hits both sides equally
                for key, path in (("bare_for_" + label, "/bench/bare/"), (label, pages[label])):
                    result = load(wrk, f"http://{HOST}:{port}{path}", cookie, args)
                    runs[key].append(result)
                    log(
                        f"round {round_no}/{args.runs} {key:<24} {result['rps']:8.1f} req/s  "
                        f"p50 {result['latency_ms']['p50']:6.1f} ms"
                    )
        check_pages(port, cookie, targets)  # still logged in, nothing started redirecting
        load_after = os.getloadavg()
        stop_gunicorn(proc)
        proc = None

        figures = {
            label: figure(path, runs[label], runs["bare_for_" + label])
            for label, path in pages.items()
        }
        for label, fig in figures.items():
            fig["queries"] = queries[label]["queries"]
            for side in (fig["page"], fig["bare"]):
                if side["non_2xx_3xx"] or side["socket_errors"]:
                    failures.append(
                        f"{label}: {side['non_2xx_3xx']} error responses, "
                        f"{side['socket_errors']} socket errors under load"
                    )
        if gunicorn_log.read_text().strip():
            failures.append(f"gunicorn logged errors, see {gunicorn_log}")
        noise = {
            "loadavg_before": load_before,
            "loadavg_after": load_after,
            "worst_spread": max(
                max(f["page"]["rps_spread"], f["bare"]["rps_spread"]) for f in figures.values()
            ),
        }
        descriptions = {
            "committee": f"committee page /places/{committee.pk}/",
            "compound_10": f"compound, 10 bldgs /places/{small.pk}/",
            "compound_1000": f"compound, 1000 bldgs /places/{big.pk}/",
        }
        report(args, tool, figures, descriptions, queries, sql, noise)

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
            },
            "figures": figures,
            "noise": noise,
            "query_counts": queries,
            "query_count_equal": q_small == q_big,
            "sql_baseline": sql,
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
