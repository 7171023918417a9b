"""Fallback load generator, used by bench/run.py only when `wrk` is unavailable.

Closed loop like wrk: N threads, each keeps one request in flight against one URL for a fixed
duration, reusing its connection while the server allows keep-alive and reconnecting when it
does not (gunicorn's sync workers close after every response). Prints one JSON object.
`--method POST --body …` sends the same form body with every request (what wrk does with the
Lua script run.py writes for it).

It is pure Python, so it tops out far below wrk (the GIL): figures measured with it are only
comparable with other figures measured with it. run.py records which generator was used.

    python bench/loadgen.py http://127.0.0.1:8000/bench/bare/ -c 8 -d 5 -H "Cookie: sessionid=…"
    python bench/loadgen.py http://127.0.0.1:8000/people/ -m POST --body "q=…" -H "X-CSRFToken: …"
"""

import argparse
import http.client
import json
import statistics
import threading
import time
from urllib.parse import urlsplit


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * (len(sorted_values) - 1))))
    return sorted_values[index]


def run(
    url: str,
    connections: int,
    duration: float,
    headers: dict[str, str],
    method: str = "GET",
    body: bytes | None = None,
) -> dict:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    host, port = parts.hostname, parts.port or 80
    deadline = time.perf_counter() + duration
    lock = threading.Lock()
    latencies: list[float] = []
    counters = {"non_2xx_3xx": 0, "errors": 0, "bytes": 0}

    def worker() -> None:
        local_lat: list[float] = []
        non_ok = errors = received = 0
        conn = None
        while time.perf_counter() < deadline:
            if conn is None:
                conn = http.client.HTTPConnection(host, port, timeout=30)
            started = time.perf_counter()
            try:
                conn.request(method, target, body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                conn = None
                continue
            local_lat.append(time.perf_counter() - started)
            received += len(payload)
            if response.status >= 400:
                non_ok += 1
            if response.will_close:
                conn.close()
                conn = None
        if conn is not None:
            conn.close()
        with lock:
            latencies.extend(local_lat)
            counters["non_2xx_3xx"] += non_ok
            counters["errors"] += errors
            counters["bytes"] += received

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    ms = [v * 1000 for v in latencies]
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "rps": len(latencies) / elapsed if elapsed else 0.0,
        "latency_ms": {
            "avg": statistics.fmean(ms) if ms else float("nan"),
            "p50": _percentile(ms, 50),
            "p90": _percentile(ms, 90),
            "p99": _percentile(ms, 99),
            "max": ms[-1] if ms else float("nan"),
        },
        "non_2xx_3xx": counters["non_2xx_3xx"],
        "socket_errors": counters["errors"],
        "bytes": counters["bytes"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("-c", "--connections", type=int, default=8)
    parser.add_argument("-d", "--duration", type=float, default=5.0)
    parser.add_argument("-H", "--header", action="append", default=[], help='"Name: value"')
    parser.add_argument("-m", "--method", default="GET", choices=["GET", "POST"])
    parser.add_argument("--body", default=None, help="request body (sent as UTF-8)")
    args = parser.parse_args()
    headers = {}
    for raw in args.header:
        name, _, value = raw.partition(":")
        headers[name.strip()] = value.strip()
    body = args.body.encode() if args.body is not None else None
    print(json.dumps(run(args.url, args.connections, args.duration, headers, args.method, body)))


if __name__ == "__main__":
    main()
