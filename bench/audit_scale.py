"""The audit trail at scale: 100k memos and 1M events on PostgreSQL.

Builds a throw-away database, fills it (COPY) with a valid hash chain, then
prints, for every filter the auditors' page offers, the query plan's access
path and its time, and how long `audit verify` takes over the whole chain.

    .venv/bin/python bench/audit_scale.py [--events 1000000] [--memos 100000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import TEST_CONFIG  # noqa: E402
from tests.support.database import PG_ADMIN_URL  # noqa: E402
from workflow import create_app  # noqa: E402
from workflow.audit import search as audit_search  # noqa: E402
from workflow.cli import upgrade_database  # noqa: E402
from workflow.trail.chain import GENESIS, chain_hash  # noqa: E402
from workflow.trail.verify import verify_chain  # noqa: E402

ACTIONS = ["memo_opened", "memo_approved", "memo_submitted", "login_succeeded",
           "notification_sent", "memo_created", "memo_sent_back", "login_failed"]
WEIGHTS = [20, 20, 10, 20, 20, 6, 3, 1]
STATES = ["pending_1", "pending_2", "pending_3", "pending_4", "approved", "returned"]
WORDS = ["รายงาน", "ขออนุมัติ", "จัดซื้อ", "โครงการ", "ประชุม", "งบประมาณ", "ซ่อมแซม",
         "ถนน", "ประปา", "ศูนย์พัฒนาเด็กเล็ก", "คุณธรรม", "ความโปร่งใส"]


def _copy(conn, table: str, columns: list[str], rows: list[tuple]) -> None:
    raw = conn.connection.dbapi_connection
    with raw.cursor() as cursor, cursor.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def fill(url: str, n_memos: int, n_events: int) -> None:
    rng = random.Random(2565)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    start = datetime(2024, 1, 1, 1, 0, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO organization (id, name, unit_line, phone, doc_prefix, "
                          "require_endorsement, thai_digits, created_at) VALUES (1, 'อบต.ทดสอบ', "
                          "'สำนักงานปลัด', '', 'สป ๑', true, true, now())"))
        conn.execute(text("INSERT INTO route (id, org_id, name, is_default) "
                          "VALUES (1, 1, 'ปกติ', true)"))
        users = [(i, 1, f"user{i}", f"นาย ทดสอบ{i} สกุล{i}", f"u{i}@example.com", "x", True,
                  "signer", True, False, start) for i in range(1, 201)]
        _copy(conn, "\"user\"", ["id", "org_id", "username", "full_name", "email",
                                 "password_hash", "is_active", "roles", "notify_arrivals",
                                 "daily_digest", "created_at"], users)
        memos = []
        for i in range(1, n_memos + 1):
            subject = " ".join(rng.sample(WORDS, 3)) + f" ครั้งที่ {i}"
            when = start + timedelta(minutes=i * 5)
            memos.append((i, 1, 1, rng.randint(1, 200), "สำนักงานปลัด",
                          f"สป ๑/{i}", when.date(), subject, "นายก", "normal", "<p>x</p>",
                          "approved", 1, 5, when, when))
        _copy(conn, "memo", ["id", "org_id", "route_id", "drafter_id", "unit_line", "number",
                             "memo_date", "subject", "addressee", "urgency", "body", "state",
                             "round", "version", "created_at", "updated_at"], memos)
        rows, prev = [], GENESIS
        span = (datetime(2026, 11, 1, tzinfo=UTC) - start).total_seconds()
        for seq in range(1, n_events + 1):
            action = rng.choices(ACTIONS, WEIGHTS)[0]
            memo_id = rng.randint(1, n_memos) if action.startswith("memo") else None
            event = SimpleNamespace(
                seq=seq, created_at=start + timedelta(seconds=span * seq / n_events),
                org_id=1, actor_id=rng.randint(1, 200), actor_name="นาย ทดสอบ",
                position_title="ปลัด", action=action, memo_id=memo_id,
                state_before="", state_after=rng.choice(STATES) if memo_id else "",
                text="เพื่อโปรดพิจารณา" if action == "memo_approved" else "",
                ip="127.0.0.1", user_agent="bench", details="{}", prev_hash=prev, hash="")
            event.hash = chain_hash(prev, event)
            prev = event.hash
            rows.append((seq, event.created_at, 1, event.actor_id, event.actor_name,
                         event.position_title, action, memo_id, "", event.state_after,
                         event.text, event.ip, event.user_agent, "{}", event.prev_hash,
                         event.hash))
            if len(rows) == 50_000:
                _copy(conn, "auditevent", COLUMNS, rows)
                rows = []
        if rows:
            _copy(conn, "auditevent", COLUMNS, rows)
        conn.execute(text("UPDATE audithead SET seq = :s, hash = :h WHERE id = 1"),
                     {"s": n_events, "h": prev})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


COLUMNS = ["seq", "created_at", "org_id", "actor_id", "actor_name", "position_title", "action",
           "memo_id", "state_before", "state_after", "text", "ip", "user_agent", "details",
           "prev_hash", "hash"]

FILTERS = {
    "newest first, no filter": audit_search.AuditFilter(),
    "memo by id": audit_search.AuditFilter(memo_id=4242),
    "memo by ที่": audit_search.AuditFilter(memo="สป ๑/4242"),
    "memo by subject words": audit_search.AuditFilter(memo="ศูนย์พัฒนาเด็กเล็ก ครั้งที่ 4242"),
    "actor by username": audit_search.AuditFilter(actor="user42"),
    "actor by part of name": audit_search.AuditFilter(actor="ทดสอบ42 "),
    "action (rare)": audit_search.AuditFilter(action="login_failed"),
    "action (common)": audit_search.AuditFilter(action="memo_approved"),
    "state": audit_search.AuditFilter(state="returned"),
    "date range (one week)": audit_search.AuditFilter(date_from=date(2025, 6, 1),
                                                      date_to=date(2025, 6, 7)),
    "action + date range": audit_search.AuditFilter(action="memo_sent_back",
                                                    date_from=date(2025, 6, 1),
                                                    date_to=date(2025, 6, 30)),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--memos", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    name = f"saraban_audit_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade_database(url)
        started = time.perf_counter()
        fill(url, args.memos, args.events)
        print(f"filled {args.memos:,} memos and {args.events:,} events "
              f"in {time.perf_counter() - started:.0f} s")
        app = create_app({**TEST_CONFIG, "DATABASE_URL": url})
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as conn:
            for label, audit_filter in FILTERS.items():
                with app.app_context():
                    from workflow.extensions import db

                    query = audit_search.build_query(db.session, 1, audit_filter).limit(51)
                    sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
                plan = [r[0] for r in conn.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql))]
                access = sorted({line.strip().split(" on ")[0].split("->")[-1].strip() + " on "
                                 + line.split(" on ")[1].split()[0]
                                 for line in plan if " on " in line and "Scan" in line})
                took = next(line for line in plan if "Execution Time" in line).split(":")[1]
                print(f"  {label:28} {took.strip():>12}   {'; '.join(access)}")
        with app.app_context():
            from workflow.extensions import db

            started = time.perf_counter()
            verdict = verify_chain(db.session)
            print(f"audit verify: {verdict.checked:,} events, ok={verdict.ok}, "
                  f"{time.perf_counter() - started:.1f} s")
        engine.dispose()
        app.extensions["saraban_db"].dispose()
    finally:
        if "--keep" in sys.argv:
            print(f"kept database {url}")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return 0


if __name__ == "__main__":
    sys.exit(main())
