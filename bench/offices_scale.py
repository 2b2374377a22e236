"""Many offices at scale: the list and search pages of users of several offices, over HTTP, on
an installation of 200 offices with ten years of memos each, and ``audit verify --office``.

What it builds. A throw-away PostgreSQL database migrated to head, ``--offices`` demo
offices (``seed_demo(code)``: codes ``o001`` … ``o200``, each with the demo logins, password
``demo``, and the four-step route), then, with COPY, ``--memos-per-office`` memos in each
(``bench/fill.py``, the same life as ``bench/read_scale.py`` gives its one office: 1/40
waiting at each step, the rest approved, 5 % sent back once; their steps, versions,
decisions, register entries) and ``--events-per-memo`` audit events per memo (10, as
read_scale's 1,000,000 for 100,000 memos), the memos' own events and sign-ins. Unlike
read_scale's placeholders, every office's audit chain is real (each event hashed as
``workflow/trail/chain.py`` does, with its memo's own link), so ``flask --app wsgi audit
verify --office CODE`` passes and its time means something. Then ``VACUUM (ANALYZE)`` and a
``CHECKPOINT`` (``bench/fill.vacuum``: nothing left to write back while pages are timed).

What it measures. The project under gunicorn (4 workers x 4 threads, gthread;
``bench/harness.py``) and Redis (``--redis-db``, empty; flushed at the end), ``--clients``
client threads, ``--requests`` GETs per row after ``--warm-up`` uncounted ones (200, see
``harness.WARM_UP``). Each row is one
page, asked in turn by the same user of ``--measure`` offices spread over the installation
(the first, the last and evenly between): the head's waiting and decided tabs (web and API),
the head's box=all, the clerk's "mine", the auditor's all-memos, a word search (head and
auditor, API and web), and a document-number search (head). Goal: p95 < 25 ms each. Before
the pages and after them, the same clients ask ``bench/bare_app.py`` (the same gunicorn
settings, same database) for 100 of the office's memos: the machine's floor in this run, as
``bench/read_scale.py`` measures it, so that a run on a slow moment reads as one. Then the
wall time of ``flask --app wsgi audit verify --office CODE`` (the CLI, start-up included) for
the same offices; goal < 5 s.

    .venv/bin/python bench/offices_scale.py [--offices 200] [--memos-per-office 5000]
        [--events-per-memo 10] [--measure 3] [--requests 100] [--warm-up 200] [--clients 4]
        [--keep] [--reuse URL]

``--keep`` keeps the database (its URL is printed); ``--reuse URL`` measures a kept one again
without filling it. Smaller ``--offices`` / ``--memos-per-office`` make a quick run; the
README gives the full size's figures.

What it does not do: attachments, notifications, acting appointments; offices all have the
same people and route; only first pages of lists; the client shares the machine's cores.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fill import fill_office, finish, now_for_fill, vacuum  # noqa: E402
from bench.harness import (  # noqa: E402
    WARM_UP,
    BenchError,
    Clients,
    Login,
    Page,
    Server,
    bench_redis,
    code_version,
    pg_url,
    print_table,
    project_env,
    sign_in,
)
from tests.conftest import TEST_CONFIG  # noqa: E402
from tests.support.database import create_database, drop_database  # noqa: E402
from workflow import create_app  # noqa: E402
from workflow.demo.seed import DEMO_PASSWORD, seed_demo  # noqa: E402

WORD = "ซ่อมแซม"  # the word searched for (in about one subject in eight)
VERIFY_GOAL_S = 5.0


def office_code(n: int) -> str:
    return f"o{n:03d}"


def build(url: str, offices: int, memos: int, events_per_memo: int) -> None:
    """Seed the offices, then COPY each one's ten years, then VACUUM (ANALYZE)."""
    started = time.perf_counter()
    app = create_app({**TEST_CONFIG, "DATABASE_URL": url, "REDIS_URL": ""})
    with app.app_context():
        routes = [seed_demo(office_code(n))["route_id"] for n in range(1, offices + 1)]
    app.extensions["saraban_db"].dispose()
    print(f"seeded {offices} offices in {time.perf_counter() - started:.0f} s", flush=True)
    now = now_for_fill()
    totals: dict[str, int] = {}
    with psycopg.connect(pg_url(url)) as conn:
        for n, route_id in enumerate(routes, start=1):
            counts = fill_office(conn, route_id, memos, memos * events_per_memo,
                                 random.Random(2569 + n), chained=True, now=now)
            for table, count in counts.items():
                totals[table] = totals.get(table, 0) + count
            if n % 10 == 0 or n == offices:
                print(f"  {n} offices filled, {time.perf_counter() - started:.0f} s", flush=True)
        finish(conn)
    copied = time.perf_counter() - started
    vacuum(url)
    print(f"filled in {time.perf_counter() - started:.0f} s ({copied:.0f} s seeding and COPY, "
          "the rest VACUUM ANALYZE): " + ", ".join(f"{n:,} {t}" for t, n in totals.items()),
          flush=True)


@dataclass(frozen=True)
class OfficeFacts:
    code: str
    number: str  # a document number the head decided on
    waiting: int
    decided: int
    memos: int
    events: int


def facts_of(url: str, codes: list[str]) -> list[OfficeFacts]:
    found = []
    with psycopg.connect(pg_url(url)) as conn:
        def one(sql: str, *args: Any) -> Any:
            row = conn.execute(sql, args).fetchone()  # type: ignore[call-overload]
            return row[0] if row else None

        for code in codes:
            org = one("SELECT id FROM organization WHERE code = %s", code)
            if org is None:
                raise BenchError(f"no office {code}: is the database filled?")
            head = one("""SELECT id FROM "user" WHERE org_id = %s AND username = 'head'""", org)
            number = one("SELECT m.number FROM memo m WHERE m.org_id = %s AND m.state = "
                         "'approved' ORDER BY m.id DESC LIMIT 1", org)
            found.append(OfficeFacts(
                code, number,
                waiting=one("SELECT count(*) FROM memostep s JOIN memo m ON m.id = s.memo_id "
                            "AND m.round = s.round JOIN position p ON p.id = s.position_id "
                            "WHERE s.status = 'pending' AND p.holder_id = %s", head),
                decided=one("SELECT count(DISTINCT memo_id) FROM decision WHERE actor_id = %s "
                            "AND action IN ('approve', 'send_back', 'reject')", head),
                memos=one("SELECT count(*) FROM memo WHERE org_id = %s", org),
                events=one("SELECT count(*) FROM auditevent WHERE chain = %s", org)))
    return found


def pages_for(offices: list[OfficeFacts]) -> list[Page]:
    codes = [o.code for o in offices]
    word = quote(WORD)

    def row(label: str, user: str, path: str | list[str]) -> Page:
        paths = path if isinstance(path, list) else [path]
        return Page(f"{label} ({user})", user, paths, users=[f"{c}/{user}" for c in codes])

    numbers = [f"/api/v1/memos?number={quote(o.number)}" for o in offices]
    return [
        row("web inbox: waiting", "head", "/inbox?tab=waiting"),
        row("web inbox: decided", "head", "/inbox?tab=decided"),
        row("API box=inbox", "head", "/api/v1/memos?box=inbox"),
        row("API box=decided", "head", "/api/v1/memos?box=decided"),
        row("API box=all", "head", "/api/v1/memos?box=all"),
        row("web inbox: mine", "clerk", "/inbox?tab=mine"),
        row("API box=mine", "clerk", "/api/v1/memos?box=mine"),
        row("API box=all (all memos)", "auditor", "/api/v1/memos?box=all"),
        row(f"API word search q={WORD}", "head", f"/api/v1/memos?q={word}"),
        row(f"API word search q={WORD}", "auditor", f"/api/v1/memos?q={word}"),
        row(f"web search box q={WORD}", "head", f"/inbox?q={word}"),
        row("API number search", "head", numbers),
        # Too short for a trigram: before the search sorted its matches first, the head's
        # probe of every memo of the office took 240 ms in process (December 7, session 14).
        row("API number search, two digits ๑๒", "head", f"/api/v1/memos?number={quote('๑๒')}"),
    ]


def time_cli(url: str, argv: list[str], workdir: Path) -> tuple[float, list[str]]:
    """Wall time of ``flask --app wsgi ARGV`` (start-up included) and its output lines."""
    env = project_env(url, "", workdir)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *argv], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    took = time.perf_counter() - started
    out = (done.stdout + done.stderr).strip().splitlines()
    if done.returncode:
        raise BenchError(f"flask {' '.join(argv)} exited {done.returncode}: "
                         + "\n".join(out[-5:]))
    return took, out


def measure(url: str, args: argparse.Namespace, redis_url: str, workdir: Path) -> None:
    with psycopg.connect(pg_url(url)) as conn:
        offices = int(conn.execute("SELECT count(*) FROM organization "
                                   "WHERE code ~ '^o[0-9]{3}$'").fetchone()[0])  # type: ignore[index]
        memos = int(conn.execute("SELECT count(*) FROM memo").fetchone()[0])  # type: ignore[index]
        events = int(conn.execute("SELECT count(*) FROM auditevent").fetchone()[0])  # type: ignore[index]
    count = min(args.measure, offices)
    picks = sorted({1 + round(i * (offices - 1) / max(count - 1, 1)) for i in range(count)})
    facts = facts_of(url, [office_code(n) for n in picks])
    print(f"database: {offices} offices, {memos:,} memos, {events:,} audit events; measuring "
          + "; ".join(f"{f.code} ({f.memos:,} memos, {f.events:,} events, head {f.waiting:,} "
                      f"waiting / {f.decided:,} decided)" for f in facts)
          + f"; load average {os.getloadavg()[0]:.1f}", flush=True)
    env = project_env(url, redis_url, workdir)
    server = Server(env, workdir / "gunicorn.log")
    bare = Server(env, workdir / "bare.log", name="bare",
                  app=("--pythonpath", str(ROOT / "bench"), "bare_app:app"))
    clients: list[Clients] = []
    try:
        server.wait_until_answers()
        bare.wait_until_answers(path="/api/v1/memos/0")
        logins: dict[str, Login] = {}
        for f in facts:
            for user in ("head", "clerk", "auditor"):
                logins[f"{f.code}/{user}"] = sign_in(server.base, f.code, user, DEMO_PASSWORD)
        clients = [Clients(server.base, logins, args.clients),
                   Clients(bare.base, logins, args.clients)]
        pages = pages_for(facts)
        floor = [Page(f"floor {when}: bare Flask, token + one SELECT, 100 memos as JSON (head)",
                      "head", ["/api/v1/memos?limit=100"], goal=False,
                      no_goal="none (the machine's floor)", floor=True,
                      users=[f"{f.code}/head" for f in facts]) for when in ("before", "after")]
        clients[1].measure(floor[:1], args.requests, args.warm_up)
        clients[0].measure(pages, args.requests, args.warm_up)
        clients[1].measure(floor[1:], args.requests, args.warm_up)
        print(f"\nload average after measuring: {os.getloadavg()[0]:.1f} "
              f"({args.clients} clients x {args.requests} requests per page, users of "
              f"{', '.join(f.code for f in facts)} in turn)\n")
        print_table([floor[0], *pages, floor[1]])
    finally:
        for each in clients:
            each.close()
        bare.stop()
        server.stop()
    # The CLI's own start-up (imports, create_app), which every command pays, apart.
    startup, _ = time_cli(url, ["audit", "--help"], workdir)
    print("\n| audit verify --office | events | wall s (CLI) | of which start-up s | goal | met? |")
    print("|---|---:|---:|---:|---|---|")
    for f in facts:
        took, said = time_cli(url, ["audit", "verify", "--office", f.code], workdir)
        met = "yes" if took < VERIFY_GOAL_S else "**no**"
        print(f"| {f.code} | {f.events:,} | {took:.1f} | {startup:.1f} | < {VERIFY_GOAL_S:.0f} s "
              f"| {met} |")
        print(f"  {said[-1] if said else ''}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offices", type=int, default=200)
    parser.add_argument("--memos-per-office", type=int, default=5_000)
    parser.add_argument("--events-per-memo", type=int, default=10)
    parser.add_argument("--measure", type=int, default=3,
                        help="offices whose users are measured (first, last, between)")
    parser.add_argument("--requests", type=int, default=100, help="measured GETs per page")
    parser.add_argument("--warm-up", type=int, default=WARM_UP,
                        help="uncounted GETs per page first (see WARM_UP)")
    parser.add_argument("--clients", type=int, default=4, help="client threads")
    parser.add_argument("--redis-db", type=int, default=12, help="an empty Redis database")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", metavar="URL",
                        help="measure a database kept by --keep, without filling it")
    args = parser.parse_args()
    if (not 1 <= args.offices <= 999 or args.memos_per_office < 40 or args.requests < 1
            or args.clients < 1 or args.measure < 1 or args.events_per_memo < 1):
        parser.error("--offices 1-999, --memos-per-office at least 40, --events-per-memo, "
                     "--measure, --requests and --clients at least 1")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    redis_url = bench_redis(args.redis_db)
    store = redis.Redis.from_url(redis_url, socket_timeout=5)
    if store.dbsize():
        parser.error(f"redis database {args.redis_db} is not empty; pick another --redis-db")
    print(f"project at {code_version()}; {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    url = args.reuse or ""
    try:
        if not url:
            url = create_database("postgresql", Path("."))  # the folder is for SQLite only
            print(f"database {url}", flush=True)
            build(url, args.offices, args.memos_per_office, args.events_per_memo)
        with tempfile.TemporaryDirectory(prefix="saraban-offices-") as folder:
            measure(url, args, redis_url, Path(folder))
    except BenchError as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return 1
    finally:
        store.flushdb()
        store.close()
        if url and (args.keep or args.reuse):
            print(f"kept database {url}  (psql {pg_url(url)})")
        elif url:
            drop_database(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
