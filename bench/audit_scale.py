"""The audit trail at scale: every filter's plan and time, and ``audit verify`` over the whole
chain, at 100,000 memos and 1,000,000 events on PostgreSQL.

Builds a throw-away database with the demo office (``seed_demo``), fills it with the same
COPY as ``bench/read_scale.py`` (``bench/fill.py``), but with a real hash chain
(``chained=True``: each event hashed as the app hashes it, so that ``flask audit verify``
holds), then prints, for every filter the auditors' page offers, the access paths of its
query's plan and its execution time (EXPLAIN ANALYZE of the statement the app builds), and
how long verifying the office's chain takes in process (no CLI start-up).

    .venv/bin/python bench/audit_scale.py [--events 1000000] [--memos 100000] [--keep]
        [--reuse URL]

It measures PostgreSQL's plans and the verifier's Python, not HTTP: ``bench/read_scale.py``
times the audit search's pages over HTTP, and ``bench/offices_scale.py`` the CLI's
``audit verify --office`` for one office of many.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fill import OFFICE_TZ, fill  # noqa: E402
from bench.harness import pg_url  # noqa: E402
from tests.conftest import TEST_CONFIG  # noqa: E402
from tests.support.database import create_database, drop_database  # noqa: E402
from workflow import create_app  # noqa: E402
from workflow.audit import search as audit_search  # noqa: E402
from workflow.demo.seed import seed_demo  # noqa: E402
from workflow.trail.verify import verify_chain  # noqa: E402

WORD = "ซ่อมแซม"  # in about one subject of eight, as in read_scale


def filters(url: str) -> dict[str, audit_search.AuditFilter]:
    """Every filter of the auditors' page, with values this database has."""
    with psycopg.connect(pg_url(url)) as conn:
        memo_id, number, subject = conn.execute(
            "SELECT id, number, subject FROM memo WHERE number IS NOT NULL "
            # A thousand from the newest, or half-way down a small database (a smoke run).
            "ORDER BY id DESC LIMIT 1 OFFSET LEAST(1000, (SELECT count(*) / 2 FROM memo"
            " WHERE number IS NOT NULL))").fetchone()  # type: ignore[misc]
        newest = conn.execute("SELECT max(created_at) FROM auditevent").fetchone()[0]  # type: ignore[index]
        name = conn.execute("""SELECT full_name FROM "user" WHERE username = 'head'"""
                            ).fetchone()[0]  # type: ignore[index]
    newest = newest.astimezone(OFFICE_TZ).date()
    week = newest - timedelta(days=400)
    return {
        "newest first, no filter": audit_search.AuditFilter(),
        "memo by id": audit_search.AuditFilter(memo_id=memo_id),
        "memo by ที่": audit_search.AuditFilter(memo=number),
        "memo by its whole subject": audit_search.AuditFilter(memo=subject),
        f"memo by a common word ({WORD})": audit_search.AuditFilter(memo=WORD),
        "actor by username": audit_search.AuditFilter(actor="head"),
        "actor by part of a name": audit_search.AuditFilter(actor=name.split()[-1]),
        "action (rare)": audit_search.AuditFilter(action="login_failed"),
        "action (common)": audit_search.AuditFilter(action="memo_approved"),
        "state": audit_search.AuditFilter(state="returned"),
        "date range (one week)": audit_search.AuditFilter(date_from=week,
                                                          date_to=week + timedelta(days=6)),
        "action + date range (a month)": audit_search.AuditFilter(
            action="memo_sent_back", date_from=week, date_to=week + timedelta(days=30)),
    }


def explain(url: str, org_id: int) -> None:
    app = create_app({**TEST_CONFIG, "DATABASE_URL": url, "REDIS_URL": ""})
    engine = app.extensions["saraban_db"]
    with app.app_context():
        from workflow.extensions import db

        for label, audit_filter in filters(url).items():
            # The statement a page sends (built once per shape), with its values written in.
            query, params = audit_search.build_query(db.session, org_id, audit_filter)
            query = query.params({**params, "audit_limit": 51})
            sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
            with engine.connect() as conn:
                plan = [row[0] for row in conn.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS) " + sql.replace("%", "%%"))]
            access = sorted({line.strip().split(" on ")[0].split("->")[-1].strip() + " on "
                             + line.split(" on ")[1].split()[0]
                             for line in plan if " on " in line and "Scan" in line})
            took = next(line for line in plan if "Execution Time" in line).split(":")[1]
            print(f"  {label:34} {took.strip():>12}   {'; '.join(access)}", flush=True)
        started = time.perf_counter()
        verdict = verify_chain(db.session, org_id)
        print(f"audit verify (the office's chain, in process): {verdict.checked:,} events, "
              f"ok={verdict.ok}, {time.perf_counter() - started:.1f} s")
    app.extensions["saraban_db"].dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--memos", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", metavar="URL", help="a database kept by --keep")
    args = parser.parse_args()
    url = args.reuse or ""
    try:
        if not url:
            url = create_database("postgresql", Path("."))
            app = create_app({**TEST_CONFIG, "DATABASE_URL": url, "REDIS_URL": ""})
            with app.app_context():
                route_id = seed_demo()["route_id"]
            app.extensions["saraban_db"].dispose()
            started = time.perf_counter()
            counts = fill(url, route_id, args.memos, args.events, chained=True)
            print(f"filled in {time.perf_counter() - started:.0f} s: "
                  + ", ".join(f"{n:,} {table}" for table, n in counts.items()), flush=True)
        with psycopg.connect(pg_url(url)) as conn:
            org_id = conn.execute("SELECT id FROM organization ORDER BY id LIMIT 1"
                                  ).fetchone()[0]  # type: ignore[index]
        explain(url, org_id)
    finally:
        if url and (args.keep or args.reuse):
            print(f"kept database {url}")
        elif url:
            drop_database(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
