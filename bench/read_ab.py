"""Reads, old code against new, at the same moment: for a machine too busy for runs made
minutes apart to be compared.

Two gunicorns (4 workers x 4 threads each, ``bench/harness.py``) on one database kept by
``bench/read_scale.py --keep``: one runs a copy of older code (``--old DIR``, for example
``git archive 06cdbd2 | tar -x -C /tmp/old``), the other this checkout. Each of
read_scale's pages but the PDF is warmed up on both, then measured in ``--rounds``
alternating rounds of ``--requests`` GETs from ``--clients`` threads (old first in even
rounds, new first in odd ones), so that both sides meet the same load. Prints p50 / p95 in ms
of each side. The two code versions must share the database's schema.

    .venv/bin/python bench/read_ab.py URL --old DIR [--rounds 4] [--requests 50]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402
from bench.harness import Clients, Server, bench_redis, project_env, sign_in  # noqa: E402
from bench.read_scale import facts_of, pages_for  # noqa: E402
from workflow.demo.seed import DEMO_CODE, DEMO_PASSWORD  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="a database kept by bench/read_scale.py --keep")
    parser.add_argument("--old", required=True, type=Path, help="a copy of the older code")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--requests", type=int, default=50, help="GETs per side per round")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--redis-dbs", type=int, nargs=2, default=(14, 15),
                        help="two empty Redis databases")
    args = parser.parse_args()
    stores = [redis.Redis.from_url(bench_redis(n)) for n in args.redis_dbs]
    if any(store.dbsize() for store in stores):
        parser.error(f"redis databases {args.redis_dbs} must be empty")
    facts = facts_of(args.url, 50)
    servers: dict[str, Server] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="saraban-ab-") as folder:
            for (side, root), db in zip((("old", args.old.resolve()), ("new", ROOT)),
                                        args.redis_dbs, strict=True):
                harness.ROOT = root  # where the server runs from: its code
                servers[side] = Server(
                    project_env(args.url, bench_redis(db), Path(folder) / side),
                    Path(folder) / f"{side}.log", name=side)
            harness.ROOT = ROOT
            clients: dict[str, Clients] = {}
            for side, server in servers.items():
                server.wait_until_answers()
                logins = {user: sign_in(server.base, DEMO_CODE, user, DEMO_PASSWORD)
                          for user in {page.user for page in pages_for(facts)}}
                clients[side] = Clients(server.base, logins, args.clients)
            print(f"old: {args.old}, new: {ROOT} at {harness.code_version()}; load average "
                  f"{os.getloadavg()[0]:.1f}; {args.rounds} rounds x {args.requests} GETs "
                  f"per side, {args.clients} clients\n", flush=True)
            print("| page | old p50 / p95 ms | new p50 / p95 ms |")
            print("|---|---:|---:|")
            pages = {side: pages_for(facts) for side in servers}
            for n, old in enumerate(pages["old"]):
                if not old.goal:
                    continue  # the PDF: minutes, and untouched by what this compares
                for side in servers:
                    clients[side].run(pages[side][n], args.clients * 4, record=False)
                for number in range(args.rounds):
                    for side in ("old", "new") if number % 2 == 0 else ("new", "old"):
                        clients[side].run(pages[side][n], args.requests, record=True)
                new = pages["new"][n]
                failed = sum(old.failures.values()) + sum(new.failures.values())
                print(f"| {old.label} | {old.percentile(50):.1f} / {old.percentile(95):.1f} | "
                      f"{new.percentile(50):.1f} / {new.percentile(95):.1f} |"
                      + (f" {failed} failed: {old.first_failure or new.first_failure}"
                         if failed else ""), flush=True)
            print(f"\nload average after: {os.getloadavg()[0]:.1f}")
    finally:
        for server in servers.values():
            server.stop()
        for store in stores:
            store.flushdb()
            store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
