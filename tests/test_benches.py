"""Every benchmark under ``bench/`` that builds its own database still runs, at a size of
seconds (``read_ab.py`` and ``profile_reads.py`` measure a database kept by another).

The benchmarks are run by hand, and a schema change once broke two of them unnoticed for
several sessions (``audit_scale.py`` inserted offices without their newer columns,
``reminders_scale.py`` read a column routes no longer have). Here each runs end to end on a
tiny database: what it measures is not checked, only that it gets to its report.

They use the PostgreSQL at 127.0.0.1 as they do by hand, and a private redis-server of
their own (``BENCH_REDIS``), not the one at 6379 that benches run by hand use.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.paths import ROOT
from tests.support.redis_server import RedisServer

# bench, its arguments, and a line of its report
BENCHES = {
    "audit_scale": (["--memos", "200", "--events", "2000"], "audit verify"),
    "read_scale": (["--memos", "300", "--events", "3000", "--requests", "3", "--warm-up", "1",
                    "--clients", "2"], "floor after"),
    "approve": (["--memos", "6", "--clients", "2", "--runs", "1"], "project/bare"),
    "offices_scale": (["--offices", "3", "--memos-per-office", "60", "--events-per-memo", "10",
                       "--measure", "2", "--requests", "3", "--warm-up", "1", "--clients", "2"],
                      "| o003 |"),
    "profile_approve": (["--memos", "4"], "approvals:"),
    "reminders_scale": (["--steps", "50"], "steps reminded once 50"),
    "email_latency": (["--count", "3"], "3 emails on postgresql"),
}


@pytest.mark.parametrize("bench", sorted(BENCHES))
def test_the_bench_runs_to_its_report(bench: str, redis_server: RedisServer) -> None:
    arguments, report = BENCHES[bench]
    env = {**os.environ, "SECRET_KEY": "bench smoke run", "BENCH_GUNICORN_WORKERS": "1",
           "BENCH_REDIS": redis_server.url.rsplit("/", 1)[0]}
    done = subprocess.run([sys.executable, f"bench/{bench}.py", *arguments], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert report in output, output[-4000:]
