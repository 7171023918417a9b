"""Vote figures of the bench (issue 5, item 8), run by bench/run.py while its gunicorn is up, or
on their own: `python bench/votes.py` (its own database, demo street and gunicorn).

1. **Tallying an owners' vote of N ballots** (`--ballots`, 1,000,000). An owners' decision of
   committee 0 (maintenance fund use: 民法典 art. 278, ordinary majority) gets N frozen voters
   with areas of 50–150 m² and one head each, N online participations and N counted ballots
   (about 70 % yes, 20 % no, 10 % abstain), written with server-side `INSERT … SELECT
   generate_series` (consistent by construction, so without per-row foreign-key checks and
   guard triggers, and with the plain indexes built once afterwards), then `VACUUM ANALYZE`. Then, taking
   turns, median of 5 each: `votes.selectors.vote_result(vote=…)` in-process, which recomputes
   the result from the ballots (its SQL aggregates, the rule's arithmetic) — against the raw
   aggregate over psycopg, `SELECT answer, SUM(area), COUNT(DISTINCT head), COUNT(*) FROM
   votes_ballot WHERE vote_id = … AND counted GROUP BY answer`. **Ratio = raw seconds ÷
   vote_result seconds** (1.00: the result costs no more than the bare aggregate). The two
   must agree on every number (voted and yes area and heads), or the run fails.
2. **Casting concurrently over HTTP** (`--voters`, 400). A motion whose frozen list is V bench
   users, each with its own API token. `--connections` client threads (8) post
   `POST /api/v1/votes/<id>/ballots` for every voter twice, the two attempts of a voter queued
   apart so that they race in different threads. Expected, and checked: exactly V answers 201
   and V answers 409 (already voted), nothing else; V participations and V counted ballots in
   the database; `vote_result` counting each answer exactly as often as it was accepted.
   Figure: ballots/s (all 2V requests ÷ wall time) against the bare view fetched 2V times by
   the same threads over new connections (gunicorn's sync workers close each): **ratio =
   casts per second ÷ bare requests per second**. Every cast writes a participation, a ballot
   and an audit event (the audit chain is one locked row: writes serialize there).
"""

import argparse
import contextlib
import http.client
import io
import json
import random
import secrets
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROUNDS = 5
ANSWERS = (("yes", 717), ("no", 922), ("abstain", 1024))  # cumulative out of 1024
RAW_TALLY = (
    "SELECT answer, SUM(area), COUNT(DISTINCT head), COUNT(*) FROM votes_ballot "
    "WHERE vote_id = %s AND counted GROUP BY answer"
)


def _connect(h, **kwargs):
    import psycopg

    return psycopg.connect(
        host=h.PG_HOST, port=h.PG_PORT, user=h.PG_USER, dbname=h.DB_NAME, **kwargs
    )


# --- 1. tallying -------------------------------------------------------------------------------


FILLED_TABLES = ("votes_entitlement", "votes_participation", "votes_ballot")


def _drop_plain_indexes(cur, tables) -> list[str]:
    """Drop the indexes of `tables` that no constraint owns; their definitions, to recreate."""
    from psycopg import sql

    cur.execute(
        """SELECT i.relname, pg_get_indexdef(x.indexrelid)
           FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
           WHERE x.indrelid = ANY(%s::regclass[])
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)""",
        [list(tables)],
    )
    found = cur.fetchall()
    for name, _definition in found:
        cur.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    return [definition for _name, definition in found]


def fill_owners_vote(h, committee, n: int) -> dict:
    """An owners' vote of committee 0 with n voters, n participations and n counted ballots."""
    from django.utils import timezone

    from linli.votes.models import Vote
    from linli.votes.services import vote_create

    vote = vote_create(
        actor=None,
        place=committee,
        kind="owners",
        title="基准：使用专项维修资金更换电梯",
        unit="owner",
        owners_matter="maintenance_fund_use",
    )
    answer = " ".join(
        f"WHEN (hashint8extended(p.id, 7) & 1023) < {limit} THEN '{name}'"
        for name, limit in ANSWERS
    )
    started = time.perf_counter()
    with _connect(h) as conn, conn.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '256MB'")
        # The rows are consistent by construction (the vote is a draft while its voters are
        # written, it is not secret so its ballots may name their participation, every key
        # exists): skip the per-row foreign-key checks and the tables' guard triggers for this
        # session only, and build the plain indexes once at the end instead of row by row.
        cur.execute("SET session_replication_role = replica")
        indexes = _drop_plain_indexes(cur, FILLED_TABLES)
        cur.execute(
            """INSERT INTO votes_entitlement (vote_id, key, label, address, area, head)
               SELECT %(vote)s, 'o:b' || g, '业*主', '',
                      round(50 + (hashint8extended(g, 1) & 65535) / 655.35, 2), 'o:b' || g
               FROM generate_series(1, %(n)s) AS g""",
            {"vote": vote.pk, "n": n},
        )
        cur.execute(
            """INSERT INTO votes_participation
                 (vote_id, entitlement_id, channel, state, proxy_name, provenance, note, at,
                  pending_key)
               SELECT vote_id, id, 'online', 'counted', '', '', '', now(), ''
               FROM votes_entitlement WHERE vote_id = %s""",
            [vote.pk],
        )
        cur.execute(
            f"""INSERT INTO votes_ballot
                  (id, vote_id, participation_id, answer, choice, area, head, counted,
                   pending_key)
                SELECT gen_random_uuid(), p.vote_id, p.id, a.answer, to_jsonb(a.answer),
                       e.area, e.head, true, ''
                FROM votes_participation AS p
                JOIN votes_entitlement AS e ON e.id = p.entitlement_id
                CROSS JOIN LATERAL (SELECT CASE {answer} END AS answer) AS a
                WHERE p.vote_id = %s""",  # noqa: S608 - the bench's own constants
            [vote.pk],
        )
        for definition in indexes:
            cur.execute(definition)
        cur.execute("SET session_replication_role = origin")
        cur.execute(
            "SELECT count(*), sum(area), count(DISTINCT head) FROM votes_entitlement "
            "WHERE vote_id = %s",
            [vote.pk],
        )
        count, area, heads = cur.fetchone()
        conn.commit()
    now = timezone.now()
    Vote.objects.filter(pk=vote.pk).update(
        state="open",
        opens_at=now,
        on_date=timezone.localdate(now),
        entitled_count=count,
        entitled_area=area,
        entitled_heads=heads,
    )
    fill_seconds = time.perf_counter() - started
    started = time.perf_counter()
    h.bench_sql("VACUUM ANALYZE votes_entitlement, votes_participation, votes_ballot")
    return {
        "vote_id": vote.pk,
        "ballots": count,
        "fill_seconds": fill_seconds,
        "vacuum_analyze_seconds": time.perf_counter() - started,
    }


def tally_bench(h, vote_id: int, failures: list[str]) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from linli.votes.models import Vote
    from linli.votes.selectors import vote_result

    vote = Vote.objects.get(pk=vote_id)
    with CaptureQueriesContext(connection) as ctx:
        result = vote_result(vote=vote)  # warm-up, and its statements
    app_times, raw_times = [], []
    with _connect(h, autocommit=True) as conn:
        rows = conn.execute(RAW_TALLY, [vote_id]).fetchall()  # warm-up
        plan = [r[0] for r in conn.execute("EXPLAIN (ANALYZE) " + RAW_TALLY, [vote_id])]
        for _ in range(ROUNDS):
            started = time.perf_counter()
            rows = conn.execute(RAW_TALLY, [vote_id]).fetchall()
            raw_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            result = vote_result(vote=vote)
            app_times.append(time.perf_counter() - started)
    raw = {answer: (area, heads, n) for answer, area, heads, n in rows}
    facts = result["facts"]
    expected = {
        "voted_area": str(sum((area for area, _h, _n in raw.values()), 0)),
        "voted_heads": sum(heads for _a, heads, _n in raw.values()),
        "yes_area": str(raw["yes"][0]),
        "yes_heads": raw["yes"][1],
    }
    got = {key: facts[key] for key in expected}
    if got != expected or result["took_part"] != sum(n for *_x, n in raw.values()):
        failures.append(f"votes: vote_result {got} disagrees with the raw aggregate {expected}")
    app, raw_median = statistics.median(app_times), statistics.median(raw_times)
    return {
        "ballots": result["took_part"],
        "vote_result_seconds": app_times,
        "raw_seconds": raw_times,
        "vote_result_median": app,
        "raw_median": raw_median,
        "ratio": raw_median / app,
        "ballots_per_second": result["took_part"] / app,
        "queries": [q["sql"] for q in ctx.captured_queries],
        "plan": plan,
        "outcome": {
            "passed": result["outcome"]["passed"],
            "steps": [
                f"{s['key']}: {s['value']} {s['op']} {s['fraction']} × {s['base']} → {s['ok']}"
                for s in result["outcome"]["steps"]
            ],
        },
    }


# --- 2. casting over HTTP ----------------------------------------------------------------------


def make_voters(committee, n: int) -> tuple[int, list[tuple[int, str]]]:
    """n bench users with API tokens, and a motion whose frozen list is exactly them."""
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from linli.accounts.models import ApiToken, User
    from linli.votes.electorate import Voter
    from linli.votes.services import vote_create, vote_open

    stamp = secrets.token_hex(3)
    unusable = make_password(None)
    users = User.objects.bulk_create(
        [
            User(username=f"bench-voter-{stamp}-{i}", display_name=f"投票人{i}", password=unusable)
            for i in range(n)
        ]
    )
    keys = [secrets.token_urlsafe(32) for _ in users]
    expires = timezone.now() + timedelta(days=settings.LINLI_API_TOKEN_DAYS)
    ApiToken.objects.bulk_create(
        [
            ApiToken(user=u, key_hash=ApiToken.hash_key(k), prefix=k[:8], expires_at=expires)
            for u, k in zip(users, keys, strict=True)
        ]
    )
    vote = vote_create(
        actor=None,
        place=committee,
        kind="motion",
        title="基准：并发表决",
        rule_id="consultative_meeting",
        unit="list",
    )
    voters = [Voter(key=f"u:{u.pk}", label=u.display_name, user_id=u.pk) for u in users]
    # Opening notifies every voter; the console sender would print each one.
    with contextlib.redirect_stdout(io.StringIO()):
        vote_open(actor=None, vote=vote, voters=voters)
    return vote.pk, [(u.pk, k) for u, k in zip(users, keys, strict=True)]


def _request(h, port: int, method: str, path: str, headers=None, body=None):
    conn = http.client.HTTPConnection(h.HOST, port, timeout=60)
    try:
        started = time.perf_counter()
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        payload = response.read()
        return response.status, payload, time.perf_counter() - started
    finally:
        conn.close()


def _closed_loop(jobs: list, threads: int, call) -> tuple[float, list]:
    """Run `call(job)` for every job over `threads` threads; (wall seconds, results in order)."""
    results: list = [None] * len(jobs)
    cursor = iter(range(len(jobs)))
    lock = threading.Lock()
    barrier = threading.Barrier(threads + 1)

    def worker():
        barrier.wait()
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                return
            try:
                results[index] = call(jobs[index])
            except OSError as exc:
                results[index] = (0, repr(exc).encode(), 0.0)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in pool:
        t.join()
    return time.perf_counter() - started, results


def cast_bench(h, port: int, committee, voters: int, threads: int, failures: list[str]) -> dict:
    from linli.votes.models import Ballot, Participation, Vote
    from linli.votes.selectors import vote_result

    vote_id, tokens = make_voters(committee, voters)
    rng = random.Random(2026)
    choice = {user_id: rng.choice(["yes", "yes", "no", "abstain"]) for user_id, _k in tokens}
    # Every voter twice, the two attempts half the queue apart: they race in different threads.
    first = tokens[:]
    rng.shuffle(first)
    second = first[len(first) // 2 :] + first[: len(first) // 2]
    jobs = [job for pair in zip(first, second, strict=True) for job in pair]
    path = f"/api/v1/votes/{vote_id}/ballots"

    def cast(job):
        user_id, key = job
        body = json.dumps({"choice": choice[user_id]})
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        return (*_request(h, port, "POST", path, headers, body), user_id)

    status, _body, _t = _request(h, port, "GET", "/bench/bare/")
    if status != 200:
        raise RuntimeError(f"GET /bench/bare/: HTTP {status}")
    bare_seconds, bare = _closed_loop(
        [None] * len(jobs), threads, lambda _j: _request(h, port, "GET", "/bench/bare/")
    )
    cast_seconds, results = _closed_loop(jobs, threads, cast)
    statuses = Counter(r[0] for r in results)
    accepted = Counter(choice[r[3]] for r in results if r[0] == 201)
    accepted_voters = Counter(r[3] for r in results if r[0] == 201)
    problems = []
    if statuses != Counter({201: voters, 409: voters}):
        sample = next((r[1][:300] for r in results if r[0] not in (201, 409)), b"")
        problems.append(f"answers {dict(statuses)} (expected {voters} × 201 and × 409) {sample!r}")
    if any(n != 1 for n in accepted_voters.values()) or len(accepted_voters) != voters:
        problems.append("some voter was accepted twice or never")
    vote = Vote.objects.get(pk=vote_id)
    stored = {
        "participations": Participation.objects.filter(vote=vote).count(),
        "counted_ballots": Ballot.objects.filter(vote=vote, counted=True).count(),
    }
    if stored != {"participations": voters, "counted_ballots": voters}:
        problems.append(f"stored {stored}, expected {voters} of each")
    facts = vote_result(vote=vote)["facts"]
    counted = {a: facts[a] for a in ("yes", "no", "abstain")}
    if counted != {a: accepted.get(a, 0) for a in counted}:
        problems.append(f"vote_result counts {counted}, the 201 answers {dict(accepted)}")
    failures.extend(f"votes, concurrent casting: {p}" for p in problems)
    latencies = sorted(r[2] for r in results if r[0] in (201, 409))
    bare_ok = sum(1 for r in bare if r[0] == 200)
    casts_per_second = len(jobs) / cast_seconds
    bare_per_second = bare_ok / bare_seconds
    return {
        "vote_id": vote_id,
        "voters": voters,
        "threads": threads,
        "requests": len(jobs),
        "statuses": {str(k): v for k, v in statuses.items()},
        "stored": stored,
        "counted": counted,
        "seconds": cast_seconds,
        "requests_per_second": casts_per_second,
        "latency_p50_ms": latencies[len(latencies) // 2] * 1000 if latencies else None,
        "bare_requests_per_second": bare_per_second,
        "ratio": casts_per_second / bare_per_second if bare_per_second else 0.0,
        "no_lost_or_double_vote": not problems,
    }


# --- the run -----------------------------------------------------------------------------------


def run(h, port: int, args, data: dict, failures: list[str]) -> dict:
    """Both figures; gunicorn is up on `port` (h is bench/run.py)."""
    committee = data["committee"]
    out: dict = {}
    h.log(f"votes: filling an owners' vote with {args.ballots:,} ballots")
    out["fill"] = fill_owners_vote(h, committee, args.ballots)
    h.log(
        f"votes: {out['fill']['ballots']:,} voters, participations and ballots in "
        f"{out['fill']['fill_seconds']:.1f}s + VACUUM ANALYZE "
        f"{out['fill']['vacuum_analyze_seconds']:.1f}s"
    )
    out["tally"] = tally_bench(h, out["fill"]["vote_id"], failures)
    tally = out["tally"]
    h.log(
        f"votes: vote_result {tally['vote_result_median'] * 1000:.0f} ms, raw aggregate "
        f"{tally['raw_median'] * 1000:.0f} ms: ratio {tally['ratio']:.2f}"
    )
    if args.voters > 0:
        out["cast"] = cast_bench(h, port, committee, args.voters, args.connections, failures)
        cast = out["cast"]
        h.log(
            f"votes: {cast['requests']} casts by {cast['threads']} threads in "
            f"{cast['seconds']:.1f}s ({cast['requests_per_second']:.1f}/s; bare "
            f"{cast['bare_requests_per_second']:.1f}/s): {cast['statuses']}"
        )
    return out


def report(out: dict) -> None:
    fill, tally = out["fill"], out["tally"]
    print()
    print(
        f"Votes — an owners' vote of {fill['ballots']:,} ballots (filled in "
        f"{fill['fill_seconds']:.0f}s + VACUUM ANALYZE {fill['vacuum_analyze_seconds']:.0f}s)"
    )
    print(
        f"  tally: vote_result {tally['vote_result_median'] * 1000:.0f} ms "
        f"({len(tally['queries'])} SQL statements, {tally['ballots_per_second']:,.0f} ballots/s) "
        f"vs raw SUM(area), COUNT(DISTINCT head) … GROUP BY answer "
        f"{tally['raw_median'] * 1000:.0f} ms: ratio {tally['ratio']:.2f} "
        f"(raw ÷ vote_result, median of {ROUNDS}); passed: {tally['outcome']['passed']}"
    )
    cast = out.get("cast")
    if cast:
        verdict = "no lost or double vote" if cast["no_lost_or_double_vote"] else "PROBLEM"
        print(
            f"  casting over HTTP: {cast['voters']} voters × 2 attempts by {cast['threads']} "
            f"threads, {cast['requests_per_second']:.1f} requests/s (p50 "
            f"{cast['latency_p50_ms']:.0f} ms) vs bare view {cast['bare_requests_per_second']:.1f}"
            f"/s: ratio {cast['ratio']:.2f}; answers {cast['statuses']}; {verdict}"
        )


def main() -> int:
    """The vote figures alone: database, demo street and register, gunicorn (see run.py)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench import run as h

    parser = argparse.ArgumentParser(description="Linli vote benchmark (see bench/votes.py)")
    parser.add_argument("--ballots", type=int, default=1_000_000)
    parser.add_argument("--voters", type=int, default=400)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    failures: list[str] = []
    proc = None
    h.create_database()
    try:
        h.migrate()
        h.setup_django()
        data = h.build_data()
        h.log("built the demo street and its register")
        log_path = h.RESULTS_DIR / "gunicorn-votes.log"
        h.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        log_path.write_text("")
        port = h.free_port()
        proc = h.start_gunicorn(port, args.workers, log_path)
        h.wait_ready(proc, port, log_path)
        out = run(h, port, args, data, failures)
        h.stop_gunicorn(proc)
        proc = None
        report(out)
        if log_path.read_text().strip():
            failures.append(f"gunicorn logged errors, see {log_path}")
        (h.RESULTS_DIR / "votes.json").write_text(
            json.dumps(out, indent=2, ensure_ascii=False, default=str) + "\n"
        )
    finally:
        h.stop_gunicorn(proc)
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            h.drop_database()
    for failure in failures:
        print(f"PROBLEM: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
