"""How long an email takes from the approval click to the SMTP server.

Runs the real pieces: the app (in-process, through its HTTP API via the
Flask test client), a Celery worker process, a private redis-server and an
aiosmtpd server. 25 memos go through submit + 3 approvals each, one action at
a time, giving 100 emails; each is timed from just before the POST to the
moment the SMTP server accepts the message.

    .venv/bin/python bench/email_latency.py [--db postgresql|sqlite] [--count 100]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import (  # noqa: E402
    TEST_CONFIG,
    ApiClient,
    CeleryProcesses,
    RedisServer,
    SmtpSink,
)
from tests.support.database import PG_ADMIN_URL  # noqa: E402
from workflow import create_app  # noqa: E402
from workflow.cli import upgrade_database  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--count", type=int, default=100)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="saraban-bench-"))
    name = f"saraban_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    if args.db == "postgresql":
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    else:
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    upgrade_database(url)

    smtp, redis = SmtpSink(), RedisServer(workdir)
    smtp.start()
    redis.start()
    config = {**TEST_CONFIG, "DATABASE_URL": url, "REDIS_URL": redis.url,
              "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port}
    app = create_app(config)
    env = {"DATABASE_URL": url, "REDIS_URL": redis.url, "MAIL_SERVER": "127.0.0.1",
           "MAIL_PORT": str(smtp.port), "SECRET_KEY": "bench", "BASE_URL": "http://localhost",
           "SARABAN_INSTANCE": str(workdir / "instance")}
    import os

    celery = CeleryProcesses({**os.environ, **env}, workdir)
    celery.start_worker()
    samples: list[float] = []
    try:
        from workflow.demo.seed import seed_demo

        with app.app_context():
            seed_demo()
        api = ApiClient(app.test_client())
        time.sleep(3)  # let the worker connect
        steps = [("clerk", "submit", ""), ("head", "approve", "เพื่อโปรดพิจารณา"),
                 ("deputy", "approve", "เพื่อโปรดพิจารณา"),
                 ("permsec", "approve", "เห็นควรนำเรียนนายกเพื่อโปรดทราบ")]
        while len(samples) < args.count:
            created = api.call("POST", "/memos", "clerk",
                               json={"subject": f"ทดสอบเวลาส่งอีเมล {len(samples)}",
                                     "addressee": "นายก", "body": "<p>ทดสอบ</p>"})
            memo_id = created.json["id"]
            for username, action, comment in steps:
                if len(samples) >= args.count:
                    break
                expected = len(smtp.messages) + 1
                started = time.perf_counter()
                response = api.act(memo_id, username, action, comment)
                assert response.status_code == 200, response.json
                smtp.wait_for(expected, timeout=30)
                samples.append(time.perf_counter() - started)
    finally:
        celery.stop()
        redis.stop()
        smtp.stop()
        app.extensions["saraban_db"].dispose()
        if args.db == "postgresql":
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    samples.sort()
    print(f"{len(samples)} emails on {args.db}: "
          f"median {statistics.median(samples) * 1000:.0f} ms, "
          f"p90 {samples[int(len(samples) * 0.9) - 1] * 1000:.0f} ms, "
          f"worst {samples[-1] * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
