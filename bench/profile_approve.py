"""Where an approval's time goes, in process: the approve path without gunicorn or a network.

What it does. A throw-away PostgreSQL database migrated to head with the demo office
(``tests/support/database.py``, ``workflow/demo/seed.py``), the app built in this process
with Redis (``--redis-db``, flushed before and after), ``--memos`` memos drafted and
submitted by the clerk through the JSON API (Flask's test client), then each walked up the
demo's four-step route, one approval at a time from one thread. Ten memos are walked first
to warm up and are not counted.

It prints the wall and CPU time per approval and, with ``--profile``, the number of Python
function calls per approval (cProfile's count: unlike times, it does not move with the
machine's load, so it shows what a change to the code did) and the functions of
``workflow/`` by cumulative CPU time. ``--dump FILE`` keeps the profile for ``pstats`` or
snakeviz.

    .venv/bin/python bench/profile_approve.py [--memos 100] [--profile] [--dump FILE]

What it does not show: contention between threads and processes, the network, gunicorn,
and what PostgreSQL and Redis spend (``bench/approve.py`` measures all of that together).
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The configuration is read when the app's modules are imported: production settings,
# cheap password hashes (sign-in is setup, not what is measured).
os.environ.update({"SECRET_KEY": secrets.token_hex(16), "SARABAN_ENV": "production",
                   "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_KIB": "1024",
                   "SARABAN_INSTANCE": tempfile.mkdtemp(prefix="saraban-profile-")})

from bench.harness import bench_redis  # noqa: E402
from tests.support.database import create_database, drop_database  # noqa: E402

SIGNERS = ("head", "deputy", "permsec", "chief")  # the demo route, in order
WARM_UP = 10


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memos", type=int, default=100, help="memos walked and counted")
    parser.add_argument("--profile", action="store_true", help="count calls with cProfile")
    parser.add_argument("--dump", metavar="FILE", help="keep the profile in FILE")
    parser.add_argument("--redis-db", type=int, default=13, help="an empty Redis database")
    args = parser.parse_args()
    redis_url = bench_redis(args.redis_db)
    store = redis.Redis.from_url(redis_url)
    if store.dbsize():
        parser.error(f"redis database {args.redis_db} is not empty; pick another --redis-db")
    url = create_database("postgresql", Path(tempfile.mkdtemp()))
    try:
        from workflow import create_app
        from workflow.demo.seed import seed_demo

        app = create_app({"DATABASE_URL": url, "REDIS_URL": redis_url,
                          "RATELIMIT_ENABLED": False})
        with app.app_context():
            seed_demo()
        client = app.test_client()
        headers = {}
        for username in ("clerk", *SIGNERS):
            response = client.post("/api/v1/auth/token",
                                   json={"username": username, "password": "demo"})
            headers[username] = {"Authorization": f"Bearer {response.json['token']}"}

        def submitted(number: int) -> int:
            memo = client.post("/api/v1/memos", headers=headers["clerk"], json={
                "subject": f"ทดสอบเส้นทางการอนุมัติ ฉบับที่ {number}",
                "addressee": "นายกองค์การบริหารส่วนตำบลท่าตูม", "body": "<p>ทดสอบ</p>"})
            memo_id = int(memo.json["id"])
            client.post(f"/api/v1/memos/{memo_id}/actions", headers=headers["clerk"],
                        json={"action": "submit"})
            return memo_id

        def walk(memo_ids: list[int]) -> None:
            for memo_id in memo_ids:
                for signer in SIGNERS:
                    response = client.post(f"/api/v1/memos/{memo_id}/actions",
                                           headers=headers[signer],
                                           json={"action": "approve",
                                                 "comment": "เพื่อโปรดพิจารณา"})
                    if response.status_code != 200:
                        raise SystemExit(f"memo {memo_id}, {signer}: {response.status_code} "
                                         f"{response.text[:300]}")

        memo_ids = [submitted(n) for n in range(WARM_UP + args.memos)]
        walk(memo_ids[:WARM_UP])
        profile = cProfile.Profile(time.process_time) if args.profile or args.dump else None
        wall, cpu = time.perf_counter(), time.process_time()
        if profile:
            profile.enable()
        walk(memo_ids[WARM_UP:])
        if profile:
            profile.disable()
        approvals = args.memos * len(SIGNERS)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"{approvals} approvals: {1000 * wall / approvals:.2f} ms wall, "
              f"{1000 * cpu / approvals:.2f} ms CPU each"
              + (" (under the profiler)" if profile else ""))
        if profile:
            report(profile, approvals, args.dump)
    finally:
        drop_database(url)
        store.flushdb()
    return 0


def report(profile: cProfile.Profile, approvals: int, dump: str | None) -> None:
    stats: Any = pstats.Stats(profile)
    print(f"Python calls per approval: {stats.total_calls / approvals:.0f}")
    if dump:
        stats.dump_stats(dump)
    out = io.StringIO()
    stats.stream = out
    stats.sort_stats("cumulative").print_stats("workflow/", 25)
    print("\n".join(line for line in out.getvalue().splitlines() if "workflow/" in line
                    or "ncalls" in line))


if __name__ == "__main__":
    sys.exit(main())
