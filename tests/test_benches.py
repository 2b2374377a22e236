"""Every benchmark under ``bench/`` that builds its own database still runs, at a size of
seconds (``read_ab.py`` and ``profile_reads.py`` measure a database kept by another).

The benchmarks are run by hand, and a schema change once broke two of them unnoticed for
several sessions (``audit_scale.py`` inserted offices without their newer columns,
``reminders_scale.py`` read a column routes no longer have). Here each runs end to end on a
tiny database: what it measures is not checked, only that it gets to its report.

They use the PostgreSQL and Redis at 127.0.0.1 as they do by hand, each on a Redis database
of its own that no other test touches.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import redis

from tests.support.paths import ROOT

# bench, its arguments, and a line of its report
BENCHES = {
    "audit_scale": (["--memos", "200", "--events", "2000"], "audit verify"),
    "read_scale": (["--memos", "300", "--events", "3000", "--requests", "3", "--warm-up", "1",
                    "--clients", "2", "--redis-db", "2"], "floor after"),
    "approve": (["--memos", "6", "--clients", "2", "--runs", "1", "--redis-db", "3"],
                "project/bare"),
    "offices_scale": (["--offices", "3", "--memos-per-office", "60", "--events-per-memo", "10",
                       "--measure", "2", "--requests", "3", "--warm-up", "1", "--clients", "2",
                       "--redis-db", "4"], "| o003 |"),
    "profile_approve": (["--memos", "4", "--redis-db", "5"], "approvals:"),
    "reminders_scale": (["--steps", "50"], "steps reminded once 50"),
    "email_latency": (["--count", "3"], "3 emails on postgresql"),
}


@pytest.mark.parametrize("bench", sorted(BENCHES))
def test_the_bench_runs_to_its_report(bench: str) -> None:
    arguments, report = BENCHES[bench]
    if "--redis-db" in arguments:  # its own database, emptied as the bench asks
        number = int(arguments[arguments.index("--redis-db") + 1])
        redis.Redis.from_url(f"redis://127.0.0.1:6379/{number}").flushdb()
    env = {**os.environ, "SECRET_KEY": "bench smoke run", "BENCH_GUNICORN_WORKERS": "1"}
    done = subprocess.run([sys.executable, f"bench/{bench}.py", *arguments], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert report in output, output[-4000:]
