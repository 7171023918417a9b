"""Funds figures of the bench (issue 6, item 8), run by bench/run.py after the import, or on
their own: `python bench/funds.py` or `python bench/run.py --only funds` (own database, the
demo street without its register, no gunicorn).

1. **Ledger posting throughput under concurrency.** The demo street's committees get a large
   allocation each (`allocation_post`). Then `--funds-threads` threads (8), each with its own
   Django connection, post for `--funds-seconds` (3) through `linli.funds.services` as the system
   (actor None): commitments of ¥500 (`commitment_post`), payments of ¥100 against them
   (`payment_post`), refunds of ¥50 (`refund_post`), in proportions 25 / 60 / 15. 30 % of a
   thread's postings go to one hot fund that every thread shares (committee 0's self-governance
   fund: they queue on its row lock), the rest to its own committee's self-governance and
   community-service funds. Every posting also appends to the audit chain (one locked row), as
   every audited write in Linli does. A refusal (ValidationError) is counted, not a success.
   Baseline in the same run, rounds alternating raw, postings, raw, postings …: single-row
   `INSERT` + `COMMIT` (autocommit) into a scratch copy of funds_entry (`LIKE … INCLUDING ALL`:
   no foreign keys, no triggers), over as many psycopg connections as threads, for as long.
   **Ratio = postings/s ÷ raw inserts/s** (medians of `--runs`). Then `ledger_verify()` must
   find nothing, no account may hold a balance on the wrong side, and the transactions written
   must be exactly the successful postings.
2. **Street overview with 6,000 committees' data** (`--funds-committees`, 6,000; 0 skips). 300
   streets × 20 committees are added to the demo district (`_bulk_places`), each committee with
   its three funds and their accounts and a year of ledger (last year: an allocation split by the
   default profile, a self-governance and a community-service commitment, three payments, a
   refund for every seventh committee), written with `bulk_create` in one database transaction
   with the ledger's triggers on: every transaction declares its entries and amount and its
   entries balance per fund, or the fill fails. Then `VACUUM ANALYZE` and `ledger_verify()`.
   Timed, as the district bureau: `funds.overview.committees_overview` for one street (20
   committees) and for the district (page 1 of 6,010), alternating with a raw baseline over
   psycopg, the same aggregate without Django: `SELECT f.place_id, a.kind, SUM(fen),
   SUM(fen) FILTER (WHERE date in the year) … GROUP BY f.place_id, a.kind` over every committee
   fund under the place. Median of `ROUNDS`; **ratio = raw seconds ÷ selector seconds** (1.00: the
   overview costs no more than one bare aggregate of the same committees). The selector's
   figures must equal the raw sums, and its query count must be the same for the street and
   the district. If the page `funds:street_overview` exists, it is also timed in-process with
   Django's test client (the bureau's session, second factor passed) against `/bench/bare/`
   through the same client: **ratio = bare seconds ÷ page seconds**.
"""

import argparse
import contextlib
import datetime as dt
import json
import random
import statistics
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

ROUNDS = 7  # timings of the overview, each side
HOT_SHARE = 0.3
ALLOCATION = "10000000.00"
COMMITTEES_PER_STREET = 20
RAW_TABLE = "bench_funds_raw"
ENTRY_BATCH = 5000
OVERVIEW_RAW = """
    SELECT f.place_id, a.kind,
           SUM(ROUND(e.amount * 100)::bigint),
           COALESCE(SUM(ROUND(e.amount * 100)::bigint)
                    FILTER (WHERE t.date >= %(start)s AND t.date <= %(end)s), 0)
    FROM funds_entry e
    JOIN funds_account a ON a.id = e.account_id
    JOIN funds_fund f ON f.id = a.fund_id
    JOIN funds_transaction t ON t.id = e.transaction_id
    WHERE a.path >= %(low)s AND a.path < %(high)s
      AND f.kind IN ('office', 'community_service', 'self_governance')
    GROUP BY f.place_id, a.kind
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--funds-committees",
        type=int,
        default=6000,
        help="committees (20 a street) with a year of ledger for the street-overview figure; "
        "0 skips it (bench/funds.py) [6000]",
    )
    parser.add_argument(
        "--funds-threads", type=int, default=8, help="threads posting to the ledger [8]"
    )
    parser.add_argument(
        "--funds-seconds",
        type=float,
        default=3.0,
        help="seconds per posting run and per raw-insert run; 0 skips the posting figure [3]",
    )


def _connect(h, **kwargs):
    import psycopg

    return psycopg.connect(
        host=h.PG_HOST, port=h.PG_PORT, user=h.PG_USER, dbname=h.DB_NAME, **kwargs
    )


def _in_threads(n: int, target, seconds: float) -> tuple[float, list[BaseException]]:
    """Run target(i, barrier, deadline) in n threads; each waits on the barrier once set up, and
    the deadline (a one-item list) is fixed when all are. (elapsed seconds, errors)."""
    barrier = threading.Barrier(n + 1)
    deadline = [time.perf_counter() + 3600]
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            target(i, barrier, deadline)
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait()
    started = time.perf_counter()
    deadline[0] = started + seconds
    for t in threads:
        t.join()
    return time.perf_counter() - started, errors


# --- 1. posting throughput ----------------------------------------------------------------------


def raw_inserts(h, threads: int, seconds: float) -> dict:
    """Single-row INSERT + COMMIT into the scratch copy of funds_entry, `threads` connections."""
    statement = (
        f"INSERT INTO {RAW_TABLE} (transaction_id, account_id, commitment_id, amount) "  # noqa: S608
        "VALUES (%s, %s, NULL, %s)"
    )
    counts = [0] * threads

    def worker(i, barrier, deadline):
        with _connect(h, autocommit=True) as conn:
            cur = conn.cursor()
            for _ in range(6):  # psycopg prepares the statement after 5 runs
                cur.execute(statement, (i, i, Decimal("100.00")))
            barrier.wait()
            n = 0
            while time.perf_counter() < deadline[0]:
                cur.execute(statement, (i, i, Decimal("100.00")))
                n += 1
            counts[i] = n

    elapsed, errors = _in_threads(threads, worker, seconds)
    if errors:
        raise RuntimeError(f"raw INSERT baseline failed: {errors[0]!r}")
    return {"rows": sum(counts), "seconds": elapsed, "per_second": sum(counts) / elapsed}


def postings(world, threads: int, seconds: float, seed: int) -> dict:
    """Threads posting commitments, payments and refunds through the services for `seconds`."""
    from django.core.exceptions import ValidationError
    from django.db import connections

    from linli.funds.choices import FundKind
    from linli.funds.models import Fund
    from linli.funds.services import commitment_post, payment_post, refund_post

    committees = world.committees
    funds = {
        (f.place_id, f.kind): f
        for f in Fund.objects.filter(place__in=committees).select_related("place")
    }
    hot = funds[committees[0].pk, FundKind.SELF_GOVERNANCE]
    others = committees[1:] or committees
    counts = [
        dict.fromkeys(("commitment", "payment", "refund", "refused"), 0) for _ in range(threads)
    ]

    def worker(i, barrier, deadline):
        try:
            rng = random.Random(seed * 1000 + i)
            home = others[i % len(others)]
            mine = [
                funds[home.pk, FundKind.SELF_GOVERNANCE],
                funds[home.pk, FundKind.COMMUNITY_SERVICE],
            ]
            # Per fund: [commitment, left in fen, paid in fen] of this thread's commitments.
            book: dict[int, list[list]] = {f.pk: [] for f in [hot, *mine]}
            tally = counts[i]
            Fund.objects.filter(pk=hot.pk).exists()  # connect before the clock starts
            barrier.wait()
            while time.perf_counter() < deadline[0]:
                target = hot if rng.random() < HOT_SHARE else rng.choice(mine)
                held = book[target.pk]
                payable = [c for c in held if c[1] >= 10000]
                refundable = [c for c in held if c[2] >= 5000]
                pick = rng.random()
                try:
                    if not payable or pick < 0.25:
                        commitment = commitment_post(
                            actor=None, fund=target, title=f"基准项目 {i}", amount="500.00"
                        )
                        held.append([commitment, 50000, 0])
                        tally["commitment"] += 1
                    elif pick < 0.85 or not refundable:
                        entry = payable[-1]
                        payment_post(actor=None, commitment=entry[0], amount="100.00")
                        entry[1] -= 10000
                        entry[2] += 10000
                        tally["payment"] += 1
                    else:
                        entry = rng.choice(refundable)
                        refund_post(actor=None, commitment=entry[0], amount="50.00")
                        entry[1] += 5000
                        entry[2] -= 5000
                        tally["refund"] += 1
                except ValidationError:
                    tally["refused"] += 1
                # Keep the book short: a commitment fully paid and never refunded is done.
                if len(held) > 20:
                    held[:] = [c for c in held if c[1] or c[2] >= 5000][-20:]
        finally:
            connections.close_all()  # this thread's connection

    elapsed, errors = _in_threads(threads, worker, seconds)
    if errors:
        raise RuntimeError(f"posting through the services failed: {errors[0]!r}")
    total = {key: sum(c[key] for c in counts) for key in counts[0]}
    ok = total["commitment"] + total["payment"] + total["refund"]
    return {"postings": ok, **total, "seconds": elapsed, "per_second": ok / elapsed}


def posting_statements(world) -> dict[str, int]:
    """SQL statements of one commitment, payment and refund (BEGIN/COMMIT are not captured)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from linli.funds.choices import FundKind
    from linli.funds.models import Fund
    from linli.funds.services import commitment_post, payment_post, refund_post

    target = Fund.objects.get(place=world.committees[0], kind=FundKind.COMMUNITY_SERVICE)
    counts = {}
    with CaptureQueriesContext(connection) as ctx:
        commitment = commitment_post(actor=None, fund=target, title="基准项目", amount="500.00")
    counts["commitment"] = len(ctx.captured_queries)
    with CaptureQueriesContext(connection) as ctx:
        payment_post(actor=None, commitment=commitment, amount="100.00")
    counts["payment"] = len(ctx.captured_queries)
    with CaptureQueriesContext(connection) as ctx:
        refund_post(actor=None, commitment=commitment, amount="50.00")
    counts["refund"] = len(ctx.captured_queries)
    return counts


def wrong_side_accounts(h) -> int:
    """Accounts whose balance now is on the wrong side of their normal side."""
    with _connect(h, autocommit=True) as conn:
        return conn.execute(
            """SELECT count(*) FROM (
                 SELECT a.kind, SUM(e.amount) AS balance FROM funds_entry e
                 JOIN funds_account a ON a.id = e.account_id GROUP BY a.id, a.kind) AS b
               WHERE (kind IN ('available', 'committed', 'spent', 'returned') AND balance < 0)
                  OR (kind IN ('income', 'donations') AND balance > 0)"""
        ).fetchone()[0]


def posting_bench(h, world, args, failures: list[str]) -> dict:
    from linli.funds.models import Transaction
    from linli.funds.selectors import ledger_verify
    from linli.funds.services import allocation_post

    for committee in world.committees:
        allocation_post(actor=None, place=committee, total=ALLOCATION)
    statements = posting_statements(world)
    with _connect(h, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {RAW_TABLE}")
        conn.execute(f"CREATE TABLE {RAW_TABLE} (LIKE funds_entry INCLUDING ALL)")
    before = Transaction.objects.count()
    raw_runs, post_runs = [], []
    for round_no in range(1, args.runs + 1):
        raw = raw_inserts(h, args.funds_threads, args.funds_seconds)
        raw_runs.append(raw)
        h.log(
            f"funds round {round_no}/{args.runs} raw INSERT+COMMIT {raw['per_second']:8.1f} rows/s"
        )
        run = postings(world, args.funds_threads, args.funds_seconds, seed=round_no)
        post_runs.append(run)
        h.log(
            f"funds round {round_no}/{args.runs} ledger postings   {run['per_second']:8.1f} /s "
            f"({run['commitment']} commitments, {run['payment']} payments, {run['refund']} "
            f"refunds, {run['refused']} refused)"
        )
    h.bench_sql(f"DROP TABLE IF EXISTS {RAW_TABLE}")
    written = Transaction.objects.count() - before
    posted = sum(r["postings"] for r in post_runs)
    if written != posted:
        failures.append(f"funds: {posted} successful postings but {written} new transactions")
    started = time.perf_counter()
    problems = ledger_verify()
    verify_seconds = time.perf_counter() - started
    wrong_side = wrong_side_accounts(h)
    if problems:
        failures.append(f"funds: ledger_verify found {len(problems)} problems: {problems[:3]}")
    if wrong_side:
        failures.append(f"funds: {wrong_side} accounts hold a balance on the wrong side")
    raw_rate = statistics.median(r["per_second"] for r in raw_runs)
    rate = statistics.median(r["per_second"] for r in post_runs)
    return {
        "threads": args.funds_threads,
        "seconds_per_run": args.funds_seconds,
        "hot_share": HOT_SHARE,
        "raw": {"runs": raw_runs, "per_second": raw_rate},
        "postings": {"runs": post_runs, "per_second": rate},
        "ratio": rate / raw_rate if raw_rate else 0.0,
        "round_ratios": [
            p["per_second"] / r["per_second"] for p, r in zip(post_runs, raw_runs, strict=True)
        ],
        "refused": sum(r["refused"] for r in post_runs),
        "statements": statements,
        "transactions_written": written,
        "ledger_problems": [str(p) for p in problems],
        "verify_seconds": verify_seconds,
        "wrong_side_accounts": wrong_side,
    }


# --- 2. the street overview over 6,000 committees ---------------------------------------------


def fill_committees(h, world, n: int, year: int) -> dict:
    """n committees, 20 a street, under the demo district, with funds and a year of ledger."""
    from django.db import connection, transaction
    from django.utils import timezone

    from linli.demo.builder import _bulk_places
    from linli.funds.choices import COMMITTEE_FUNDS, FUND_ACCOUNTS, AccountKind, FundKind
    from linli.funds.choices import TransactionKind as K
    from linli.funds.models import Account, Commitment, Entry, Fund, Transaction
    from linli.funds.money import from_fen, split_allocation
    from linli.funds.selectors import profile_for
    from linli.places.choices import PlaceKind
    from linli.places.models import Place

    started = time.perf_counter()
    tz = timezone.get_current_timezone()
    with transaction.atomic():
        streets = _bulk_places(
            [
                Place(kind=PlaceKind.STREET, name=f"基准{s + 1}号街道", parent=world.district)
                for s in range(-(-n // COMMITTEES_PER_STREET))
            ]
        )
        committees = _bulk_places(
            [
                Place(kind=PlaceKind.COMMITTEE, name=f"基准{s + 1}街{c + 1}居委", parent=street)
                for s, street in enumerate(streets)
                for c in range(COMMITTEES_PER_STREET)
            ][:n]
        )
        funds = Fund.objects.bulk_create(
            [Fund(place=c, path=c.path, kind=k) for c in committees for k in COMMITTEE_FUNDS],
            batch_size=5000,
        )
        accounts = Account.objects.bulk_create(
            [Account(fund=f, path=f.path, kind=k) for f in funds for k in FUND_ACCOUNTS[f.kind]],
            batch_size=10000,
        )
        account = {(a.fund_id, a.kind): a for a in accounts}
        fund_of = {(f.place_id, f.kind): f for f in funds}
        profile = profile_for(street=streets[0], year=year)

        def day(month: int, i: int) -> dt.date:
            return dt.date(year, month, 1 + i % 28)

        # First the commitments (their ids go on the transactions and entries).
        plans = []
        commitment_rows = []
        for i, committee in enumerate(committees):
            total = Decimal(100_000 + (i % 11) * 5_000)
            split = split_allocation(
                total,
                office_share=profile.office_share,
                self_governance_share=profile.self_governance_share,
            )
            sg_fen, cs_fen = int(split.self_governance * 100), int(split.community_service * 100)
            c1, c2 = sg_fen * 6 // 10, cs_fen * 4 // 10
            plan = {"committee": committee, "split": split, "c1": c1, "c2": c2, "i": i}
            for key, kind, fen, month in (
                ("sg", FundKind.SELF_GOVERNANCE, c1, 3),
                ("cs", FundKind.COMMUNITY_SERVICE, c2, 4),
            ):
                row = Commitment(
                    fund=fund_of[committee.pk, kind],
                    path=committee.path,
                    title=f"基准项目 {key}",
                    amount=from_fen(fen),
                    created_at=dt.datetime.combine(day(month, i), dt.time(10), tz),
                )
                commitment_rows.append(row)
                plan[key] = row
            plans.append(plan)
        Commitment.objects.bulk_create(commitment_rows, batch_size=5000)

        transactions, lines = [], []  # lines: per transaction, [(account, fen, commitment)]

        def post(kind, committee, on, entries, commitment=None, source=None):
            transactions.append(
                Transaction(
                    kind=kind,
                    date=on,
                    place=committee,
                    path=committee.path,
                    amount=from_fen(sum(fen for _a, fen, _c in entries if fen > 0)),
                    entry_count=len(entries),
                    commitment=commitment,
                    source=source,
                    counterparty=source.name if source else "",
                    memo="基准",
                )
            )
            lines.append(entries)

        def pair(fund, debit, credit, fen, commitment=None):
            return [
                (account[fund.pk, debit], fen, commitment),
                (account[fund.pk, credit], -fen, commitment),
            ]

        for plan in plans:
            committee, i = plan["committee"], plan["i"]
            street = streets[i // COMMITTEES_PER_STREET]
            parts = {
                FundKind.OFFICE: plan["split"].office,
                FundKind.COMMUNITY_SERVICE: plan["split"].community_service,
                FundKind.SELF_GOVERNANCE: plan["split"].self_governance,
            }
            allocation = []
            for kind, amount in parts.items():
                allocation += pair(
                    fund_of[committee.pk, kind],
                    AccountKind.AVAILABLE,
                    AccountKind.INCOME,
                    int(amount * 100),
                )
            post(K.ALLOCATION, committee, day(1, i), allocation, source=street)
            sg, cs = plan["sg"], plan["cs"]
            sg_fund = fund_of[committee.pk, FundKind.SELF_GOVERNANCE]
            cs_fund = fund_of[committee.pk, FundKind.COMMUNITY_SERVICE]
            c1, c2 = plan["c1"], plan["c2"]
            post(
                K.COMMITMENT,
                committee,
                day(3, i),
                pair(sg_fund, AccountKind.COMMITTED, AccountKind.AVAILABLE, c1, sg),
                sg,
            )
            post(
                K.COMMITMENT,
                committee,
                day(4, i),
                pair(cs_fund, AccountKind.COMMITTED, AccountKind.AVAILABLE, c2, cs),
                cs,
            )
            p3 = c2 // 2
            for month, fund, fen, commitment in (
                (6, sg_fund, c1 * (3 + i % 4) // 10, sg),
                (7, cs_fund, p3, cs),
                (9, sg_fund, c1 * 3 // 10, sg),
            ):
                post(
                    K.PAYMENT,
                    committee,
                    day(month, i),
                    pair(fund, AccountKind.SPENT, AccountKind.COMMITTED, fen, commitment),
                    commitment,
                )
            if i % 7 == 0:
                post(
                    K.REFUND,
                    committee,
                    day(10, i),
                    pair(cs_fund, AccountKind.COMMITTED, AccountKind.SPENT, p3 // 5, cs),
                    cs,
                )
        Transaction.objects.bulk_create(transactions, batch_size=5000)
        entries = [
            Entry(transaction=txn, account=acct, commitment=commitment, amount=from_fen(fen))
            for txn, entries in zip(transactions, lines, strict=True)
            for acct, fen, commitment in entries
        ]
        # The ledger's triggers (and the foreign-key checks) look rows up by key with plans
        # cached in this session: planned on the near-empty tables they would scan them whole
        # for every entry. Statistics taken inside this transaction (ANALYZE sees its own
        # uncommitted rows) make them index look-ups; ANALYZE again once entries exist.
        analyze = (
            "ANALYZE places_place, funds_fund, funds_account, funds_commitment, funds_transaction"
        )
        with connection.cursor() as cur:
            cur.execute(analyze)
        for start in range(0, len(entries), ENTRY_BATCH):
            Entry.objects.bulk_create(entries[start : start + ENTRY_BATCH])
            if start == 0:
                with connection.cursor() as cur:
                    cur.execute("ANALYZE funds_entry")
    fill_seconds = time.perf_counter() - started
    started = time.perf_counter()
    h.bench_sql(
        "VACUUM ANALYZE places_place, funds_fund, funds_account, funds_commitment, "
        "funds_transaction, funds_entry"
    )
    return {
        "streets": streets,
        "committees": len(committees),
        "funds": len(funds),
        "accounts": len(accounts),
        "commitments": len(commitment_rows),
        "transactions": len(transactions),
        "entries": len(entries),
        "year": year,
        "fill_seconds": fill_seconds,
        "vacuum_analyze_seconds": time.perf_counter() - started,
    }


def raw_overview(conn, place, year: int) -> dict[int, dict[str, tuple[int, int]]]:
    """{place id: {account kind: (fen now, fen dated in the year)}} by the raw aggregate."""
    from linli.core.scoping import path_successor

    params = {
        "low": place.path,
        "high": path_successor(place.path),
        "start": dt.date(year, 1, 1),
        "end": dt.date(year, 12, 31),
    }
    out: dict[int, dict[str, tuple[int, int]]] = {}
    for place_id, kind, now, in_year in conn.execute(OVERVIEW_RAW, params):
        out.setdefault(place_id, {})[kind] = (int(now), int(in_year))
    return out


def _expected(sums: dict[str, tuple[int, int]]) -> dict[str, Decimal]:
    from linli.funds.money import from_fen

    def now(kind):
        return sums.get(kind, (0, 0))[0]

    return {
        "allocated": from_fen(-sums.get("income", (0, 0))[1]),
        "available": from_fen(now("available")),
        "committed": from_fen(now("committed")),
        "spent": from_fen(now("spent")),
        "returned": from_fen(now("returned")),
        "spent_in_year": from_fen(sums.get("spent", (0, 0))[1]),
    }


def _check_figures(label, page, raw, failures: list[str]) -> None:
    fields = ("allocated", "available", "committed", "spent", "returned", "spent_in_year")
    for row in page.object_list:
        got = {k: getattr(row, k) for k in fields}
        if got != _expected(raw.get(row.place.pk, {})):
            failures.append(
                f"funds overview ({label}): {row.place} {got} ≠ raw {raw.get(row.place.pk)}"
            )
            return
    totals = {k: getattr(page.totals, k) for k in fields}
    summed = dict.fromkeys(fields, Decimal("0.00"))
    for sums in raw.values():
        for k, v in _expected(sums).items():
            summed[k] += v
    if totals != summed:
        failures.append(f"funds overview ({label}): totals {totals} ≠ raw {summed}")


def _page_client(h, user):
    """The test client signed in as `user` with the second factor passed (as tests do)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = h.logged_in_client(user)
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="bench", defaults={"confirmed": True}
    )
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


def overview_bench(h, data, args, failures: list[str]) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import NoReverseMatch, reverse
    from django.utils import timezone

    from linli.funds.overview import committees_overview

    world = data["world"]
    year = timezone.localdate().year - 1
    h.log(f"funds: filling {args.funds_committees:,} committees with a year ({year}) of ledger")
    fill = fill_committees(h, world, args.funds_committees, year)
    streets = fill.pop("streets")
    h.log(
        f"funds: {fill['committees']:,} committees, {fill['transactions']:,} transactions, "
        f"{fill['entries']:,} entries in {fill['fill_seconds']:.1f}s + VACUUM ANALYZE "
        f"{fill['vacuum_analyze_seconds']:.1f}s"
    )
    from linli.funds.selectors import ledger_verify

    started = time.perf_counter()
    problems = ledger_verify()
    fill["verify_seconds"] = time.perf_counter() - started
    fill["ledger_problems"] = [str(p) for p in problems]
    if problems:
        failures.append(f"funds: the filled ledger has {len(problems)} problems: {problems[:3]}")
    viewer = data["users"]["bureau"]
    viewer.scope_prefixes("funds.view")  # grants: once per request, before the count
    cases = {"street": streets[0], "district": world.district}
    out: dict = {"fill": fill, "viewer": "bureau (district)", "cases": {}}
    with _connect(h, autocommit=True) as conn:
        for label, place in cases.items():
            raw = raw_overview(conn, place, year)  # warm-up
            page = committees_overview(viewer=viewer, place=place, year=year)
            with CaptureQueriesContext(connection) as ctx:
                page = committees_overview(viewer=viewer, place=place, year=year)
            sql = [q["sql"] for q in ctx.captured_queries]
            _check_figures(label, page, raw, failures)
            app_times, raw_times = [], []
            for _ in range(ROUNDS):
                started = time.perf_counter()
                raw_overview(conn, place, year)
                raw_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                committees_overview(viewer=viewer, place=place, year=year)
                app_times.append(time.perf_counter() - started)
            app, raw_median = statistics.median(app_times), statistics.median(raw_times)
            out["cases"][label] = {
                "place": place.name,
                "committees": page.paginator.count,
                "shown": len(page),
                "queries": len(sql),
                "sql": sql,
                "selector_seconds": app_times,
                "raw_seconds": raw_times,
                "selector_median": app,
                "raw_median": raw_median,
                "ratio": raw_median / app,
            }
    counts = {k: v["queries"] for k, v in out["cases"].items()}
    out["queries_equal"] = len(set(counts.values())) == 1
    if not out["queries_equal"]:
        failures.append(f"funds overview: query counts differ between street and district {counts}")

    try:
        reverse("funds:street_overview", kwargs={"place_id": world.district.pk})
    except NoReverseMatch:
        out["page"] = {"skipped": "no URL named funds:street_overview"}
        return out
    client = _page_client(h, viewer)
    bare = "/bench/bare/"
    page_out: dict = {}
    for label, place in cases.items():
        path = reverse("funds:street_overview", kwargs={"place_id": place.pk})
        path += "?" + urlencode({"year": year})
        client.get(bare)
        response = client.get(path)  # warm-up
        first = next(iter(committees_overview(viewer=viewer, place=place, year=year)))
        if response.status_code != 200 or first.place.name not in response.content.decode():
            page_out[label] = {"path": path, "skipped": f"HTTP {response.status_code}"}
            failures.append(
                f"funds: GET {path} answered {response.status_code} or lacks {first.place}"
            )
            continue
        with CaptureQueriesContext(connection) as ctx:
            client.get(path)
        # Now: the log behind `captured_queries` is emptied when the next request starts.
        statements = len(ctx.captured_queries)
        page_times, bare_times = [], []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            client.get(bare)
            bare_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            client.get(path)
            page_times.append(time.perf_counter() - started)
        page_median, bare_median = statistics.median(page_times), statistics.median(bare_times)
        page_out[label] = {
            "path": path,
            "queries": statements,
            "page_seconds": page_times,
            "bare_seconds": bare_times,
            "page_median": page_median,
            "bare_median": bare_median,
            "ratio": bare_median / page_median,
        }
    page_counts = {k: v["queries"] for k, v in page_out.items() if "queries" in v}
    if len(set(page_counts.values())) > 1:
        failures.append(f"funds overview page: query counts differ {page_counts}")
    out["page"] = page_out
    return out


# --- the run -----------------------------------------------------------------------------------


def run(h, args, data: dict, failures: list[str]) -> dict:
    """Both figures, in-process (h is bench/run.py)."""
    out: dict = {}
    if args.funds_seconds > 0:
        h.log(
            f"funds: posting through the services, {args.funds_threads} threads × "
            f"{args.funds_seconds:g}s × {args.runs} rounds, against raw INSERT+COMMIT"
        )
        out["posting"] = posting_bench(h, data["world"], args, failures)
    if args.funds_committees > 0:
        out["overview"] = overview_bench(h, data, args, failures)
    return out


def report(out: dict) -> None:
    print()
    posting = out.get("posting")
    if posting:
        print(
            f"Funds — ledger postings through linli.funds.services, {posting['threads']} threads "
            f"({posting['hot_share']:.0%} on one shared fund): "
            f"{posting['postings']['per_second']:.1f} postings/s vs raw single-row "
            f"INSERT+COMMIT {posting['raw']['per_second']:.0f} rows/s: ratio {posting['ratio']:.3f} "
            f"(per round {', '.join(f'{r:.3f}' for r in posting['round_ratios'])}); "
            f"{posting['refused']} refused"
        )
        print(
            "  SQL statements per posting (in-process, without BEGIN/COMMIT): "
            + ", ".join(f"{k} {v}" for k, v in posting["statements"].items())
        )
        print(
            f"  ledger_verify: {len(posting['ledger_problems'])} problems "
            f"({posting['verify_seconds']:.1f}s); accounts on the wrong side: "
            f"{posting['wrong_side_accounts']}; {posting['transactions_written']} transactions "
            "written = successful postings"
        )
    overview = out.get("overview")
    if overview:
        fill = overview["fill"]
        print(
            f"Funds — street overview over {fill['committees']:,} committees' ledgers "
            f"({fill['transactions']:,} transactions, {fill['entries']:,} entries of {fill['year']}, "
            f"filled in {fill['fill_seconds']:.0f}s with the triggers on; ledger_verify "
            f"{len(fill['ledger_problems'])} problems), as the district bureau:"
        )
        for label, case in overview["cases"].items():
            print(
                f"  {label:<9} {case['committees']:>5} committees, {case['shown']} shown: "
                f"committees_overview {case['selector_median'] * 1000:.1f} ms "
                f"({case['queries']} SQL) vs raw GROUP BY over the same committees "
                f"{case['raw_median'] * 1000:.1f} ms: ratio {case['ratio']:.2f} "
                f"(raw ÷ selector, median of {ROUNDS})"
            )
        verdict = "equal" if overview["queries_equal"] else "NOT EQUAL"
        print(f"  query counts street vs district: {verdict}")
        page = overview.get("page", {})
        if "skipped" in page:
            print(f"  page: {page['skipped']}")
        for label, entry in page.items() if "skipped" not in page else ():
            if "skipped" in entry:
                print(f"  page {label}: {entry['skipped']}")
                continue
            print(
                f"  page {label:<9} GET {entry['path']} in-process {entry['page_median'] * 1000:.1f} ms "
                f"({entry['queries']} SQL) vs /bench/bare/ {entry['bare_median'] * 1000:.1f} ms: "
                f"ratio {entry['ratio']:.3f} (bare ÷ page)"
            )


def standalone(h, args) -> int:
    """The funds figures alone: database, demo street (no register), in-process (see run.py)."""
    failures: list[str] = []
    h.create_database()
    try:
        h.migrate()
        h.log(f"created and migrated {h.DB_NAME}")
        h.setup_django()
        from linli.demo.builder import DEMO_SIZE, build_street, create_accounts, personas_for

        started = time.perf_counter()
        world = build_street(seed=2026, size=DEMO_SIZE)
        personas = personas_for(world)
        users = create_accounts(personas, {p.key: h.PASSWORD for p in personas})
        h.bench_sql("VACUUM ANALYZE")
        h.log(f"built the demo street in {time.perf_counter() - started:.1f}s")
        out = run(h, args, {"world": world, "users": users}, failures)
        report(out)
        out["failures"] = failures
        out["total_seconds"] = time.perf_counter() - h.T0
        h.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        target = h.RESULTS_DIR / "funds.json"
        target.write_text(json.dumps(out, indent=2, ensure_ascii=False, default=str) + "\n")
        print(f"\nWritten {target.relative_to(h.ROOT)} ({out['total_seconds']:.0f}s in all)")
    except KeyboardInterrupt:
        h.log("interrupted")
        failures.append("interrupted")
    finally:
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        if not args.keep_db:
            h.drop_database()
    for failure in failures:
        print(f"PROBLEM: {failure}", file=sys.stderr)
    return 1 if failures else 0


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench import run as h

    parser = argparse.ArgumentParser(description="Linli funds benchmark (see bench/funds.py)")
    parser.add_argument("--runs", type=int, default=3, help="rounds of each side [3]")
    parser.add_argument("--keep-db", action="store_true")
    add_arguments(parser)
    return standalone(h, parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
