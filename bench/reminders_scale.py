"""Reminders at scale: how long the sweep takes to queue 10,000 due reminders (PostgreSQL).

Builds a throw-away database with the demo office, then N memos waiting at the first step
whose reminder fell due an hour ago, and runs ``queue_reminders`` (the beat task's body)
until nothing is due. Prints the time, the sweeps it took, and checks that every step got
exactly one reminder. Run by hand:

    .venv/bin/python bench/reminders_scale.py [--steps 10000]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert
from sqlmodel import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import TEST_CONFIG  # noqa: E402
from tests.support.database import create_database, drop_database  # noqa: E402
from workflow import clock, create_app  # noqa: E402
from workflow.demo.seed import seed_demo  # noqa: E402
from workflow.extensions import db  # noqa: E402
from workflow.memos import reminders  # noqa: E402
from workflow.models import (  # noqa: E402
    Memo,
    MemoStep,
    Notification,
    NotificationKind,
    RouteMember,
    RouteStep,
    StepStatus,
)


def fill(app, steps: int) -> None:
    """N memos waiting at step 1 (the head's post), each reminder due an hour ago."""
    now = clock.now()
    with app.app_context(), db.write() as session:
        ids = seed_demo()
        # The head's post: the one member of the default route's first step.
        position_id = session.exec(
            select(RouteMember.position_id).join(RouteStep).where(
                RouteStep.route_id == ids["route_id"], RouteStep.step_no == 1)).one()
        base = session.get(Memo, ids["memo_id"])
        assert base is not None
        values = base.model_dump(exclude={"id"})
        memo_rows = [{**values, "subject": f"เรื่องทดสอบการเตือน {n}", "state": "pending_1",
                      "round": 1, "submitted_at": now - timedelta(days=7)}
                     for n in range(steps)]
        memo_ids = session.execute(insert(Memo).returning(Memo.id), memo_rows).scalars().all()
        session.execute(insert(MemoStep), [
            {"org_id": base.org_id, "memo_id": memo_id, "round": 1, "step_no": 1,
             "position_id": position_id,
             "position_title": "หัวหน้าสำนักปลัด", "status": StepStatus.PENDING,
             "arrived_at": now - timedelta(days=7), "next_reminder_at": now - timedelta(hours=1)}
            for memo_id in memo_ids])


def main() -> None:
    """Fill, sweep until nothing is due, and check exactly once."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    url = create_database("postgresql", Path("."))  # the folder is for SQLite only
    try:
        app = create_app({**TEST_CONFIG, "DATABASE_URL": url, "REDIS_URL": ""})
        started = time.perf_counter()
        fill(app, args.steps)
        print(f"filled {args.steps} due steps in {time.perf_counter() - started:.1f} s")
        sweeps, queued = 0, 0
        started = time.perf_counter()
        with app.app_context():
            while True:
                ids = reminders.queue_reminders()
                sweeps += 1
                if not ids:
                    break
                queued += len(ids)
        elapsed = time.perf_counter() - started
        with app.app_context():
            session = db.session
            rows = session.exec(select(func.count()).select_from(Notification).where(
                Notification.kind == NotificationKind.REMINDER)).one()
            once = session.exec(select(func.count()).select_from(MemoStep).where(
                MemoStep.reminders_sent == 1)).one()
        print(f"queued {queued} reminders in {elapsed:.1f} s over {sweeps} sweeps "
              f"({queued / elapsed:.0f}/s); reminder rows {rows}; steps reminded once {once}")
        assert rows == queued == once == args.steps, "not exactly once"
    finally:
        if not args.keep:
            drop_database(url)


if __name__ == "__main__":
    main()
