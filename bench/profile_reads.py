"""Where a read's time goes, in process: each page of ``bench/read_scale.py`` without gunicorn.

What it does. On a database kept by ``bench/read_scale.py --keep`` (100,000 memos), the app
is built in this process (production settings, Redis, the rate limiter; CSRF off for the
test client's sign-in) and each of read_scale's pages is asked ``--requests`` times, one
request at a time from one thread, through Flask's test client, after ``--warm-up``
requests that are not counted.
For each page it prints the mean wall time and CPU time of this process per request (their
difference is mostly PostgreSQL's time and the wait for it) and the SQL statements each
request issued.

With ``--profile`` it also counts the Python function calls per request of each page
(cProfile's count: it does not move with the machine's load, so it shows what a change to
the code did) and lists the functions by cumulative CPU time over the pages chosen by
``--page`` (a part of the label, e.g. ``--page "web memo"``). ``--dump FILE`` keeps the
profile. To compare with older code, copy this script into an older tree's ``bench/`` and
run it from there.

    .venv/bin/python bench/profile_reads.py URL [--requests 50] [--page TEXT] [--profile]

What it does not show: contention (4 clients on two cores, as read_scale measures), the
network and gunicorn. A page's p95 under read_scale is roughly its wall time here times the
clients per core, plus the client's own CPU.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update({"SECRET_KEY": secrets.token_hex(16), "SARABAN_ENV": "production",
                   "SARABAN_INSTANCE": tempfile.mkdtemp(prefix="saraban-profile-")})

from bench.harness import Page, bench_redis  # noqa: E402
from bench.read_scale import facts_of, pages_for  # noqa: E402
from workflow import create_app  # noqa: E402
from workflow.demo.seed import DEMO_CODE, DEMO_PASSWORD  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="a database kept by bench/read_scale.py --keep")
    parser.add_argument("--requests", type=int, default=50, help="counted requests per page")
    parser.add_argument("--warm-up", type=int, default=5, help="uncounted requests per page")
    parser.add_argument("--page", default="", help="only the pages whose label has this")
    parser.add_argument("--profile", action="store_true", help="count calls with cProfile")
    parser.add_argument("--dump", metavar="FILE", help="keep the profile in FILE")
    parser.add_argument("--sql", action="store_true",
                        help="list each page's statements with their mean time")
    parser.add_argument("--explain", action="store_true",
                        help="with --sql: EXPLAIN ANALYZE each page's slowest statement")
    parser.add_argument("--path", action="append", default=[], metavar="USER:PATH",
                        help="measure this GET as USER instead of read_scale's pages "
                             "(repeatable), e.g. auditor:/audit?memo=word")
    parser.add_argument("--office", default=DEMO_CODE,
                        help="the office whose users sign in (e.g. o101 of "
                             "bench/offices_scale.py's database, with --path)")
    parser.add_argument("--redis-db", type=int, default=12, help="a Redis database, flushed first")
    args = parser.parse_args()
    # Its sign-ins of earlier runs would count against the login rate limit.
    redis.Redis.from_url(bench_redis(args.redis_db)).flushdb()

    app = create_app({"DATABASE_URL": args.url,
                      "REDIS_URL": bench_redis(args.redis_db),
                      "WTF_CSRF_ENABLED": False, "SESSION_COOKIE_SECURE": False,
                      "REMEMBER_COOKIE_SECURE": False})
    statements = [0]
    timings: dict[str, list[float]] = {}
    sent: dict[str, tuple[str, Any]] = {}  # a statement as sent, with its last parameters

    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        statements[0] += 1
        conn.info["started"] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        took = time.perf_counter() - conn.info.pop("started", time.perf_counter())
        key = " ".join(statement.split())
        timings.setdefault(key, []).append(took)
        sent[key] = (statement, args[0] if args else None)

    engine = app.extensions["saraban_db"]
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    if args.path:
        pages = [Page(path, *path.split(":", 1)[0:1], [path.split(":", 1)[1]])
                 for path in args.path]
    else:
        pages = [p for p in pages_for(facts_of(args.url, args.requests))
                 if args.page in p.label and p.goal]  # the PDF has no goal and its own bench
    clients, tokens = {}, {}
    for user in {p.user for p in pages}:
        client = app.test_client()
        done = client.post("/login", data={"office": args.office, "username": user,
                                           "password": DEMO_PASSWORD})
        issued = client.post("/api/v1/auth/token", json={
            "office": args.office, "username": user, "password": DEMO_PASSWORD})
        if done.status_code != 302 or issued.status_code != 201:
            raise SystemExit(f"sign-in of {user}: {done.status_code}, {issued.status_code}")
        clients[user] = client
        tokens[user] = {"Authorization": f"Bearer {issued.json['token']}"}

    profiling = args.profile or bool(args.dump)
    stats: Any = None  # every page's profile, added up
    counted = 0
    print(f"{'page':<58} {'wall ms':>8} {'CPU ms':>7} {'SQL':>5}"
          + (f" {'calls':>7}" if profiling else ""))
    for page in pages:
        client, token = clients[page.user], tokens[page.user]
        for n in range(args.warm_up):
            get(client, token, page, n)
        statements[0] = 0
        timings.clear()
        profile = cProfile.Profile(time.process_time) if profiling else None
        wall, cpu = time.perf_counter(), time.process_time()
        if profile:
            profile.enable()
        for n in range(args.requests):
            get(client, token, page, n)
        if profile:
            profile.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        counted += args.requests
        calls = ""
        if profile:
            page_stats = pstats.Stats(profile)
            calls = f" {page_stats.total_calls / args.requests:7.0f}"  # type: ignore[attr-defined]
            stats = page_stats if stats is None else stats.add(page_stats)
        print(f"{page.label[:58]:<58} {1000 * wall / args.requests:8.2f} "
              f"{1000 * cpu / args.requests:7.2f} {statements[0] / args.requests:5.1f}{calls}",
              flush=True)
        if args.sql:
            for text, took in sorted(timings.items(), key=lambda kv: -sum(kv[1])):
                print(f"    {len(took) / args.requests:4.1f} x "
                      f"{1000 * sum(took) / len(took):6.2f} ms  {text[:300]}")
            if args.explain and timings:
                slowest = max(timings, key=lambda text: sum(timings[text]))
                statement, parameters = sent[slowest]
                if isinstance(parameters, list | tuple):  # an executemany: no one plan
                    print("      (the slowest was an executemany; nothing to explain)")
                else:
                    print(explain(engine, statement, parameters))
    if stats is not None:
        print(f"\nPython calls per request: {stats.total_calls / counted:.0f}"
              + (" (under the profiler: times above are inflated)"))
        if args.dump:
            stats.dump_stats(args.dump)
        out = io.StringIO()
        stats.stream = out
        stats.sort_stats("cumulative").print_stats(40)
        print(out.getvalue())
    app.extensions["saraban_db"].dispose()
    return 0


def explain(engine: Any, statement: str, parameters: Any) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of a statement as the app sent it (PostgreSQL), indented."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        plan = "\n".join("      " + row[0] for row in cursor.fetchall())
        connection.rollback()
        return plan
    finally:
        connection.close()


def get(client: Any, token: dict[str, str], page: Page, n: int) -> None:
    """The page's ``n``-th request (its paths in turn), which must answer 200."""
    path = page.paths[n % len(page.paths)]
    response = client.get(path, headers=token if path.startswith("/api/") else {})
    if response.status_code != 200:
        raise SystemExit(f"{page.label}: {path} answered {response.status_code}")


if __name__ == "__main__":
    sys.exit(main())
