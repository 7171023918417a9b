"""Peak memory of one residents import, in a fresh process; used by bench/run.py.

    python bench/import_memory.py FILE --committee CODE [--warm-up SMALL_FILE]

Runs the engine the way `linli import residents FILE --committee CODE` does (operator, actor
None), inside a transaction that is rolled back at the end, so the register is left as it was.
A fresh process, because a process's peak resident set size only ever grows: in the bench's
own process the demo build has long set it. The peak is Linux's VmHWM (/proc/self/status), reset
to the current size just before the import by writing 5 to /proc/self/clear_refs. Not
getrusage's ru_maxrss: Linux carries it over an exec, so a child of the big bench process would
report the parent's size. The warm-up file (a dry run of a few rows) loads what any first import
loads once (modules, translations, the ORM's first-use queries), so the growth is what an
import of this file adds. Prints one JSON object.

Needs the bench's environment (DATABASE_URL, DJANGO_SETTINGS_MODULE …), which run.py passes.
"""

import argparse
import gc
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def status_kib(name: str) -> int:
    """VmRSS (now) or VmHWM (peak) of this process, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {name} in /proc/self/status")


def peak_reset() -> bool:
    """Start VmHWM again from the current size (Linux 4.0+); False if not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class _Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--committee", required=True, metavar="CODE")
    parser.add_argument("--warm-up", metavar="FILE", help="a small file to dry-run first")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import transaction

    from linli.people.imports import committee_by_code, import_check, import_commit, rows_estimate
    from linli.people.models import ImportKind

    committee = committee_by_code(args.committee)
    if committee is None:
        sys.exit(f"no residents' committee with code {args.committee}")

    def run(engine, path: Path):
        def opener():
            return path.open("rb")

        return engine(
            actor=None,
            committee=committee,
            kind=ImportKind.RESIDENTS,
            opener=opener,
            file_name=path.name,
            total=rows_estimate(opener=opener, file_name=path.name),
        )

    if args.warm_up:
        run(import_check, Path(args.warm_up))
    gc.collect()
    reset = peak_reset()
    before = status_kib("VmRSS")
    started = time.perf_counter()
    try:
        with transaction.atomic():
            result = run(import_commit, Path(args.file))
            raise _Rollback
    except _Rollback:
        pass
    seconds = time.perf_counter() - started
    peak = status_kib("VmHWM")
    print(
        json.dumps(
            {
                "rows": result.rows,
                "committed_then_rolled_back": result.committed,
                **result.counts(),
                "seconds": seconds,
                "rss_before_kib": before,
                "peak_rss_kib": peak,
                # Without the reset the peak may be the warm-up's: an upper bound.
                "peak_reset": reset,
                "growth_kib": max(peak - before, 0),
            }
        )
    )


if __name__ == "__main__":
    main()
