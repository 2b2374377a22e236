"""Reads at scale: the pages people open every day, over HTTP, on ten years of a big office.

What it builds. A throw-away PostgreSQL database (``tests/support/database.py``: migrated
to head), the demo office (``workflow/demo/seed.py``), then, with PostgreSQL COPY (psycopg 3
``cursor.copy``, no ORM inserts), ``--memos`` memos drafted by the clerk over ten years on
the demo's four-step route (head → deputy → permsec → chief), each with its steps
(``memostep``, one row per step and round), its submitted version (``memoversion``), its
decisions and its audit events:

* ``--memos / 40`` waiting at each of the four steps (2,500 each at 100,000; the waiting
  memos are among the most recent), the rest approved (90,000 at 100,000), each with its
  document number from the outgoing register (``registerentry``, numbers restart each
  year); 5 % of the approved ones were sent back once by the deputy, edited and approved
  in a second round (revision 2). The head (step 1) so has 2,500 memos waiting and
  97,500 decided; the clerk drafted all of them.
* ``--events`` audit events (1,000,000 by default), in time order: every memo's created,
  submitted, opened (read receipt), approved, sent back, edited and resubmitted events,
  then sign-ins and sign-outs to make up the number. The hash chain is NOT valid: ``hash``,
  ``prev_hash`` are placeholders (the seq in hex) and ``memo_prev_hash`` is empty, which
  costs nothing to a search but makes ``flask audit verify`` and the per-memo verification
  badge fail on this database. The office's chain head (``audithead``) is set past the
  last event, so new events (sign-ins of this run) append normally.
* Then ``VACUUM (ANALYZE)``: statistics and the visibility map a database that has lived
  ten years under autovacuum would have; and a ``CHECKPOINT``, so that the gigabyte just
  written is not being written back while the pages are timed (``bench/fill.vacuum``).

What it measures. The project under gunicorn (4 workers × 4 threads, gthread, like
``bench/approve.py``) on that database and Redis (``--redis-db``, which must be empty; it
is flushed at the end). ``--clients`` client threads (4) send ``--requests`` GETs (200) per
page, after ``--warm-up`` GETs that are not counted (200: a server that has been up a
while, see ``harness.WARM_UP``), and the table gives the count of 200 answers
and their p50/p95 wall time in ms as the client sees it (loopback, same machine). Pages:
the inbox tabs on the web (``/inbox?tab=…``) and in the API (``/api/v1/memos?box=…``) of
the head (2,500 waiting, 97,500 decided) and the clerk's "mine" (every memo); the
auditor's all-memos; a word and a number search (API ``?q=`` / ``?number=`` and the web
search box); a memo page (``/memos/<id>``) and its JSON (``/api/v1/memos/<id>``), on
approved memos the head decided; the auditors' trail search (``/audit`` with its filters,
``/api/v1/audit``); and the PDF of an approved memo (``/api/v1/memos/<id>/pdf``). The goal
is p95 < 25 ms for every page but the PDF.

The floor. Before the pages and after them, the same clients ask ``bench/bare_app.py``
(same gunicorn settings, same database, the head's token) for the newest 100 memos: the
token, one SELECT and ``jsonify``, no application around them. Its p95 is what this
machine and this client give any page at all under the same concurrency; a page's p95
against it says how much of the time is the project's.

    .venv/bin/python bench/read_scale.py [--memos 100000] [--events 1000000]
        [--requests 200] [--warm-up 200] [--clients 4] [--keep] [--reuse URL]

``--keep`` keeps the database (its URL is printed, for psql and EXPLAIN); ``--reuse URL``
measures such a kept database again without filling it (and never drops it).

What it does not do: no notification (email) rows, attachments, acting appointments,
rejected or withdrawn memos, other offices or other drafters; only the first page of
each list is read (no ``before`` cursor); no writes are measured (sign-in is setup, and
the memo pages are of decided memos, so the read receipt costs one read and writes
nothing); the client shares the machine's two cores with gunicorn and PostgreSQL, so its
own CPU, and anything else running on the machine, is part of each number (the load
average is printed before and after). The client is kept light for that reason: urllib3
on one keep-alive connection per thread, 0.8 ms of CPU a GET (``requests`` took 2.2).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fill import OFFICE_TZ, fill  # noqa: E402
from bench.harness import (  # noqa: E402
    WARM_UP,
    BenchError,
    Clients,
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
from workflow.demo.seed import DEMO_CODE, DEMO_PASSWORD, seed_demo  # noqa: E402

WORD = "ซ่อมแซม"  # the word searched for (in about one subject in eight)



@dataclass(frozen=True)
class Facts:
    """What the pages are built from, read from the filled database."""

    memo_ids: list[int]  # approved memos the head decided on
    number: str
    number_hits: int
    word_hits: int
    waiting: int
    decided: int
    drafted: int
    memos: int
    events: int
    month: tuple[date, date]


def facts_of(url: str, sample: int) -> Facts:
    with psycopg.connect(pg_url(url)) as conn:
        def one(sql: str, *args: Any) -> Any:
            row = conn.execute(sql, args).fetchone()  # type: ignore[call-overload]
            return row[0] if row else None

        head = one("""SELECT id FROM "user" WHERE username = 'head'""")
        clerk = one("""SELECT id FROM "user" WHERE username = 'clerk'""")
        ids = [r[0] for r in conn.execute(
            "SELECT m.id FROM memo m WHERE m.state = 'approved' AND EXISTS (SELECT 1 FROM "
            "decision d WHERE d.memo_id = m.id AND d.actor_id = %s) ORDER BY random() LIMIT %s",
            (head, sample))]
        if not ids:
            raise BenchError("no approved memo the head decided on: is the database filled?")
        number = one("SELECT number FROM memo WHERE id = %s", ids[0])
        # One calendar month, a year before the newest event.
        newest = one("SELECT max(created_at) FROM auditevent").astimezone(OFFICE_TZ).date()
        month_start = date(newest.year - 1, newest.month, 1)
        month_end = (month_start + timedelta(days=32)).replace(day=1)
        return Facts(
            memo_ids=ids, number=number,
            number_hits=one("SELECT count(*) FROM memo WHERE number LIKE %s", f"%{number}%"),
            word_hits=one("SELECT count(*) FROM memo WHERE subject LIKE %s", f"%{WORD}%"),
            waiting=one("SELECT count(*) FROM memostep s JOIN memo m ON m.id = s.memo_id AND "
                        "m.round = s.round JOIN position p ON p.id = s.position_id "
                        "WHERE s.status = 'pending' AND p.holder_id = %s", head),
            decided=one("SELECT count(DISTINCT memo_id) FROM decision WHERE actor_id = %s "
                        "AND action IN ('approve', 'send_back', 'reject')", head),
            drafted=one("SELECT count(*) FROM memo WHERE drafter_id = %s", clerk),
            memos=one("SELECT count(*) FROM memo"),
            events=one("SELECT count(*) FROM auditevent"),
            month=(month_start, month_end - timedelta(days=1)))


def pages_for(facts: Facts) -> list[Page]:
    memo_pages = [f"/memos/{i}" for i in facts.memo_ids]
    memo_json = [f"/api/v1/memos/{i}" for i in facts.memo_ids]
    pdfs = [f"/api/v1/memos/{i}/pdf" for i in facts.memo_ids]
    word, number = quote(WORD), quote(facts.number)
    since, until = (d.isoformat() for d in facts.month)
    waiting, decided = f"{facts.waiting:,} waiting", f"{facts.decided:,} decided"
    return [
        Page(f"web inbox: waiting (head, {waiting})", "head", ["/inbox?tab=waiting"]),
        Page("web inbox: mine (head, 0 drafted)", "head", ["/inbox?tab=mine"]),
        Page(f"web inbox: decided (head, {decided})", "head", ["/inbox?tab=decided"]),
        Page("API box=inbox (head)", "head", ["/api/v1/memos?box=inbox"]),
        Page("API box=mine (head)", "head", ["/api/v1/memos?box=mine"]),
        Page("API box=decided (head)", "head", ["/api/v1/memos?box=decided"]),
        Page("API box=all (head)", "head", ["/api/v1/memos?box=all"]),
        Page(f"web inbox: mine (clerk, {facts.drafted:,} drafted)", "clerk",
             ["/inbox?tab=mine"]),
        Page("API box=mine (clerk)", "clerk", ["/api/v1/memos?box=mine"]),
        # The clerk decided nothing: their 100,001 decisions are submissions.
        Page("API box=decided (clerk, none among 100,001 submissions)", "clerk",
             ["/api/v1/memos?box=decided"]),
        Page("API box=all (auditor: all memos)", "auditor", ["/api/v1/memos?box=all"]),
        # A signer no memo names (กองคลัง, off the bench's route): what they may open is none.
        Page("API box=all (kongklang: may open none)", "kongklang", ["/api/v1/memos?box=all"]),
        Page(f"API word search q={WORD} (kongklang)", "kongklang", [f"/api/v1/memos?q={word}"]),
        Page(f"API word search q={WORD} (head; {facts.word_hits:,} hits)", "head",
             [f"/api/v1/memos?q={word}"]),
        Page(f"API word search q={WORD} (auditor)", "auditor", [f"/api/v1/memos?q={word}"]),
        Page(f"web search box q={WORD} (head)", "head", [f"/inbox?q={word}"]),
        Page(f"API number search ({facts.number}; {facts.number_hits} hits, head)", "head",
             [f"/api/v1/memos?number={number}"]),
        Page("web search box number (head)", "head", [f"/inbox?number={number}"]),
        # Too short for a trigram, found in no number: the office's every number was read.
        Page("API number search ab and one letter a (head, no hits)", "head",
             ["/api/v1/memos?number=ab", "/api/v1/memos?number=a"]),
        Page("web memo page /memos/<id> (head)", "head", memo_pages),
        Page("API memo JSON /api/v1/memos/<id> (head)", "head", memo_json),
        Page("web audit search: newest (auditor)", "auditor", ["/audit"]),
        Page("API audit search: newest (auditor)", "auditor", ["/api/v1/audit"]),
        Page("web audit search: actor=head", "auditor", ["/audit?actor=head"]),
        Page("web audit search: action=memo_sent_back", "auditor",
             ["/audit?action=memo_sent_back"]),
        Page("web audit search: memo=<number>", "auditor", [f"/audit?memo={number}"]),
        Page(f"web audit search: memo={WORD}", "auditor", [f"/audit?memo={word}"]),
        Page(f"web audit search: one month ({since} to {until})", "auditor",
             [f"/audit?from={since}&to={until}"]),
        Page("API PDF /api/v1/memos/<id>/pdf (head)", "head", pdfs, goal=False),
    ]


def measure(url: str, args: argparse.Namespace, redis_url: str, workdir: Path) -> None:
    facts = facts_of(url, args.requests)
    print(f"database: {facts.memos:,} memos, {facts.events:,} audit events; head: "
          f"{facts.waiting:,} waiting, {facts.decided:,} decided; "
          f"load average before measuring: {os.getloadavg()[0]:.1f}")
    env = project_env(url, redis_url, workdir)
    server = Server(env, workdir / "gunicorn.log")
    # The floor, on the same database with the same gunicorn settings: what this machine and
    # this client give a list of 100 memos with no application around the SELECT.
    bare = Server(env, workdir / "bare.log", name="bare",
                  app=("--pythonpath", str(ROOT / "bench"), "bare_app:app"))
    clients: list[Clients] = []
    try:
        server.wait_until_answers()
        bare.wait_until_answers(path="/api/v1/memos/0")
        logins = {user: sign_in(server.base, DEMO_CODE, user, DEMO_PASSWORD)
                  for user in ("head", "clerk", "auditor", "kongklang")}
        clients = [Clients(server.base, logins, args.clients),
                   Clients(bare.base, logins, args.clients)]
        pages = [page for page in pages_for(facts)
                 if not args.page or any(text in page.label for text in args.page)]
        floor = [Page(f"floor {when}: bare Flask, token + one SELECT, 100 memos as JSON (head)",
                      "head", ["/api/v1/memos?limit=100"], goal=False,
                      no_goal="none (the machine's floor)", floor=True)
                 for when in ("before", "after")]
        clients[1].measure(floor[:1], args.requests, args.warm_up)
        clients[0].measure(pages, args.requests, args.warm_up)
        clients[1].measure(floor[1:], args.requests, args.warm_up)
        print(f"\nload average after measuring: {os.getloadavg()[0]:.1f} "
              f"({args.clients} clients x {args.requests} requests per page)\n")
        print_table([floor[0], *pages, floor[1]])
    finally:
        for each in clients:
            each.close()
        bare.stop()
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memos", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="measured GETs per page")
    parser.add_argument("--warm-up", type=int, default=WARM_UP,
                        help="uncounted GETs per page first (see WARM_UP)")
    parser.add_argument("--clients", type=int, default=4, help="client threads")
    parser.add_argument("--page", action="append", default=[], metavar="TEXT",
                        help="only the pages whose label has this (repeatable)")
    parser.add_argument("--redis-db", type=int, default=10, help="an empty Redis database")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", metavar="URL",
                        help="measure a database kept by --keep, without filling it")
    args = parser.parse_args()
    if args.memos < 40 or args.requests < 1 or args.clients < 1:
        parser.error("--memos must be at least 40, --requests and --clients at least 1")
    # A TERM unwinds through the finally blocks like Ctrl-C.
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
            app = create_app({**TEST_CONFIG, "DATABASE_URL": url, "REDIS_URL": ""})
            with app.app_context():
                route_id = seed_demo()["route_id"]
            app.extensions["saraban_db"].dispose()
            started = time.perf_counter()
            counts = fill(url, route_id, args.memos, args.events)
            print(f"filled in {time.perf_counter() - started:.0f} s (COPY and VACUUM ANALYZE): "
                  + ", ".join(f"{n:,} {table}" for table, n in counts.items()), flush=True)
        with tempfile.TemporaryDirectory(prefix="saraban-read-") as folder:
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
