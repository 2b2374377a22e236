"""Approval throughput: the project under gunicorn against a bare Flask + SQLAlchemy Core floor.

Each run creates two fresh PostgreSQL databases, migrates both with
``workflow.cli.upgrade_database`` and seeds both with ``flask --app wsgi seed-demo``.
On the first it starts the project (``gunicorn wsgi:app``); on the second,
``bench/bare_app.py`` (the same writes of an approval in plain SQL; its docstring says
what it leaves out), with the same gunicorn settings, both on 127.0.0.1 and Redis
(``--redis-db``, which must be empty; it is flushed between runs and at the end).

Setup, not measured: the clerk creates and submits N memos through the project's API
(the bare database gets the same N memos, inserted as submitted, and bearer-token rows
for the same people). Measured: K client threads, one ``requests.Session`` each, take
memos from a queue and walk each up the four-step route — head, deputy, permsec, chief
each POST ``approve`` with the endorsement "เพื่อโปรดพิจารณา". Throughput is 200-answers
per second of wall time; latency is per approval. Afterwards every memo must read
"approved". Runs alternate which side goes first, so neither always meets a warmer or
busier machine.

    .venv/bin/python bench/approve.py [--memos 200] [--clients 8] [--runs 1] [--keep]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty, Queue
from typing import Any, TypeVar

import redis
import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import (  # noqa: E402
    BenchError,
    Server,
    bench_redis,
    code_version,
    cpu_seconds,
    percentile_ms,
    project_env,
)
from workflow.cli import upgrade_database  # noqa: E402

# The same server the tests use (tests/support/database.py), not imported from there: the
# tests are not a library and change under their own reasons.
PG_ADMIN_URL = os.environ.get(
    "TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DRAFTER = "clerk"
SIGNERS = ("head", "deputy", "permsec", "chief")  # the demo route, in order
PASSWORD = "demo"
ENDORSEMENT = "เพื่อโปรดพิจารณา"  # the demo office requires an endorsement on approval
TIMEOUT = (5, 60)  # (connect, read) seconds on every request

T = TypeVar("T")


@dataclass
class Result:
    """One side's measured phase."""

    name: str
    approvals: int = 0
    wall: float = 0.0
    latencies: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    first_failure: str = ""
    not_approved: int = 0
    unfinished: int = 0  # memos never taken because the deadline passed
    client_cpu: float = 0.0  # this process's CPU seconds while it walked
    app_cpu: float = 0.0  # gunicorn's (master and workers) CPU seconds while it walked
    database_cpu: float = 0.0  # PostgreSQL's CPU seconds while it walked


    @property
    def rate(self) -> float:
        return self.approvals / self.wall if self.wall else 0.0

    def per_approval_ms(self, seconds: float) -> float:
        return seconds / self.approvals * 1000 if self.approvals else float("nan")

    def percentile(self, q: int) -> float:
        """The q-th percentile of the approvals' latency, in milliseconds."""
        return percentile_ms(self.latencies, q)


@dataclass
class Side:
    """One server under test: where it listens and the bearer tokens of the demo people."""

    name: str
    base: str
    tokens: dict[str, str]
    memo_ids: list[int]


def pooled(items: Iterable[Any], work: Callable[[Any], T], threads: int,
           deadline: float) -> list[T]:
    """``work`` over ``items`` on ``threads`` threads, in order; the first error is raised."""
    items = list(items)
    results: list[Any] = [None] * len(items)
    errors: list[BaseException] = []
    queue: Queue[int] = Queue()
    for index in range(len(items)):
        queue.put(index)

    def run() -> None:
        while not errors and time.monotonic() < deadline:
            try:
                index = queue.get_nowait()
            except Empty:
                return
            try:
                results[index] = work(items[index])
            except BaseException as exc:  # noqa: BLE001 - handed to the caller below
                errors.append(exc)

    workers = [threading.Thread(target=run, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if errors:
        raise errors[0]
    if not queue.empty():
        raise BenchError("deadline passed during setup")
    return results


def create_database(label: str) -> tuple[str, str]:
    """A new empty PostgreSQL database: its name and URL."""
    name = f"saraban_approve_{uuid.uuid4().hex[:8]}_{label}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_database(name: str) -> None:
    """Drop a database this script made, whatever is still connected to it."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def migrate_and_seed(url: str, env: dict[str, str]) -> None:
    """Migrate with upgrade_database, then seed the demo office by its flask command."""
    upgrade_database(url)
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "seed-demo"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode:
        raise BenchError(f"seed-demo failed:\n{done.stdout}\n{done.stderr}")


def call(http: requests.Session, method: str, url: str, token: str,
         expect: int, **kwargs: Any) -> dict[str, Any]:
    """One setup request that must succeed; its JSON."""
    response = http.request(method, url, headers={"Authorization": f"Bearer {token}"},
                            timeout=TIMEOUT, **kwargs)
    if response.status_code != expect:
        raise BenchError(f"{method} {url}: {response.status_code} {response.text[:300]}")
    return dict(response.json())


def prepare_project(base: str, memos: int, clients: int, deadline: float) -> Side:
    """Log the demo people in, then create and submit the memos as the clerk."""
    tokens: dict[str, str] = {}
    with requests.Session() as http:
        for username in (DRAFTER, *SIGNERS):
            response = http.post(f"{base}/api/v1/auth/token", timeout=TIMEOUT,
                                 json={"username": username, "password": PASSWORD})
            if response.status_code != 201:
                raise BenchError(f"login {username}: {response.status_code} {response.text}")
            tokens[username] = response.json()["token"]
    local = threading.local()

    def create_and_submit(number: int) -> int:
        if not hasattr(local, "http"):
            local.http = requests.Session()
        memo = call(local.http, "POST", f"{base}/api/v1/memos", tokens[DRAFTER], 201,
                    json={"subject": f"ทดสอบปริมาณงานการอนุมัติ ฉบับที่ {number}",
                          "addressee": "นายกองค์การบริหารส่วนตำบลท่าตูม",
                          "body": "<p>เพื่อทดสอบปริมาณงานของการอนุมัติ</p>"})
        call(local.http, "POST", f"{base}/api/v1/memos/{memo['id']}/actions", tokens[DRAFTER],
             200, json={"action": "submit"})
        return int(memo["id"])

    memo_ids = pooled(range(1, memos + 1), create_and_submit, clients, deadline)
    return Side("project", base, tokens, memo_ids)


def prepare_bare(url: str, memos: int) -> tuple[list[int], dict[str, str], list[int]]:
    """On the bare database: the audit sequence, API tokens for the demo people, and the
    memos as the project leaves them after submission (waiting at step 1, version 2).
    Returns the memo ids, the tokens and the signers' user ids in route order."""
    engine = create_engine(url)
    tokens = {username: secrets.token_urlsafe(32) for username in (DRAFTER, *SIGNERS)}
    with engine.begin() as conn:
        # The bare app numbers audit rows from a sequence instead of locking audithead.
        conn.execute(text("CREATE SEQUENCE bare_audit_seq"))
        conn.execute(text("SELECT setval('bare_audit_seq', "
                          "(SELECT coalesce(max(seq), 0) + 1 FROM auditevent), false)"))
        rows = conn.execute(text('SELECT username, id FROM "user" WHERE username = ANY(:names)'),
                            {"names": list(tokens)}).all()
        ids: dict[str, int] = {username: int(user_id) for username, user_id in rows}
        for username, token in tokens.items():
            conn.execute(text(
                "INSERT INTO authsession (user_id, kind, token_hash, created_at, expires_at, "
                "ip, user_agent) VALUES (:u, 'api', :h, now(), now() + interval '12 hours', "
                "'127.0.0.1', 'bench')"),
                {"u": ids[username], "h": hashlib.sha256(token.encode()).hexdigest()})
        route_id, org_id, unit_line = conn.execute(text(
            "SELECT r.id, r.org_id, o.unit_line FROM route r JOIN organization o "
            "ON o.id = r.org_id WHERE r.is_default")).one()
        memo_ids = [int(row[0]) for row in conn.execute(text(
            "INSERT INTO memo (org_id, route_id, drafter_id, unit_line, memo_date, subject, "
            "addressee, urgency, body, state, round, revision, version, created_at, "
            "updated_at, submitted_at) SELECT :org, :route, :drafter, :unit, current_date, "
            "'ทดสอบปริมาณงานการอนุมัติ ฉบับที่ ' || n, 'นายกองค์การบริหารส่วนตำบลท่าตูม', "
            "'normal', '<p>เพื่อทดสอบปริมาณงานของการอนุมัติ</p>', 'pending_1', 1, 1, 2, "
            "now(), now(), now() FROM generate_series(1, :n) AS n ORDER BY n RETURNING id"),
            {"org": org_id, "route": route_id, "drafter": ids[DRAFTER], "unit": unit_line,
             "n": memos})]
    engine.dispose()
    return sorted(memo_ids), tokens, [ids[username] for username in SIGNERS]


def walk(side: Side, clients: int, deadline: float) -> Result:
    """The measured phase: K threads walk every memo up the route, one approval at a time."""
    result = Result(side.name)
    queue: Queue[int] = Queue()
    for memo_id in side.memo_ids:
        queue.put(memo_id)
    lock = threading.Lock()

    def client() -> None:
        with requests.Session() as http:
            while time.monotonic() < deadline:
                try:
                    memo_id = queue.get_nowait()
                except Empty:
                    return
                for signer in SIGNERS:
                    started = time.perf_counter()
                    try:
                        response = http.post(
                            f"{side.base}/api/v1/memos/{memo_id}/actions", timeout=TIMEOUT,
                            headers={"Authorization": f"Bearer {side.tokens[signer]}"},
                            json={"action": "approve", "comment": ENDORSEMENT})
                        outcome, body = str(response.status_code), response.text
                    except requests.RequestException as exc:
                        outcome, body = type(exc).__name__, str(exc)
                    took = time.perf_counter() - started
                    with lock:
                        if outcome == "200":
                            result.approvals += 1
                            result.latencies.append(took)
                            continue
                        result.failures[outcome] += 1
                        result.first_failure = result.first_failure or (
                            f"memo {memo_id}, {signer}: {outcome} {body[:300]}")
                    break  # the later signers cannot act on a memo that did not move

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    started, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.wall = time.perf_counter() - started
    # The client shares the machine with the server: a client near a full core caps the
    # faster side, and the ratio understates the gap.
    result.client_cpu = time.process_time() - cpu
    result.unfinished = queue.qsize()
    return result


def count_not_approved(side: Side, clients: int, deadline: float) -> int:
    """Read every memo back (GET /memos/{id}, not timed); how many are not "approved"."""
    local = threading.local()

    def state(memo_id: int) -> str:
        if not hasattr(local, "http"):
            local.http = requests.Session()
        return str(call(local.http, "GET", f"{side.base}/api/v1/memos/{memo_id}",
                        side.tokens[DRAFTER], 200)["state"])

    states = pooled(side.memo_ids, state, clients, deadline)
    return sum(1 for s in states if s != "approved")


def print_table(results: list[Result]) -> None:
    """Approvals, wall time, throughput and latency of each side."""
    print(f"  {'':8} {'approvals':>9} {'failed':>6} {'wall s':>7} {'approvals/s':>11} "
          f"{'p50 ms':>7} {'p95 ms':>7} {'client CPU':>10} {'CPU ms/approval: app':>20} "
          f"{'PostgreSQL':>10}")
    for r in results:
        print(f"  {r.name:8} {r.approvals:9d} {sum(r.failures.values()):6d} {r.wall:7.1f} "
              f"{r.rate:11.1f} {r.percentile(50):7.0f} {r.percentile(95):7.0f} "
              f"{r.client_cpu / r.wall if r.wall else 0:10.0%} "
              f"{r.per_approval_ms(r.app_cpu):20.2f} {r.per_approval_ms(r.database_cpu):10.2f}")
    for r in results:
        if r.failures:
            print(f"  {r.name} failures: {dict(r.failures)}; first: {r.first_failure}")
        if r.unfinished:
            print(f"  {r.name}: {r.unfinished} memos not started before the deadline")
        if r.not_approved:
            print(f"  {r.name}: {r.not_approved} memos did not end approved")


def one_run(number: int, args: argparse.Namespace, redis_url: str, deadline: float,
            keep: list[str], workdir: Path) -> float:
    """Create, start, set up, measure and tear down both sides once; the throughput ratio."""
    servers: list[Server] = []
    databases: list[str] = []
    try:
        project_db, project_url = create_database("project")
        databases.append(project_db)
        bare_db, bare_url = create_database("bare")
        databases.append(bare_db)
        env = project_env(project_url, redis_url, workdir)
        migrate_and_seed(project_url, env)
        migrate_and_seed(bare_url, {**env, "DATABASE_URL": bare_url})
        bare_ids, bare_tokens, signer_ids = prepare_bare(bare_url, args.memos)

        project = Server(env, workdir / f"project-{number}.log")
        servers.append(project)
        bare = Server({**env, "DATABASE_URL": bare_url,
                       "BARE_SIGNER_IDS": ",".join(map(str, signer_ids))},
                      workdir / f"bare-{number}.log", name="bare",
                      app=("--pythonpath", str(ROOT / "bench"), "bare_app:app"))
        servers.append(bare)
        project.wait_until_answers(deadline, "/api/v1/memos/0")
        bare.wait_until_answers(deadline, "/api/v1/memos/0")

        sides = {"project": prepare_project(project.base, args.memos, args.clients, deadline),
                 "bare": Side("bare", bare.base, bare_tokens, bare_ids)}
        # Warm every worker of both the same way (reads only), so neither side's first
        # measured requests pay for imports, connection pools or a cold Python.
        for side in sides.values():
            count_not_approved(side, args.clients, deadline)

        order = ["project", "bare"] if number % 2 else ["bare", "project"]
        print(f"run {number} of {args.runs}: {args.memos} memos × {len(SIGNERS)} approvals, "
              f"{args.clients} clients, {order[0]} first")
        results: dict[str, Result] = {}
        for name in order:
            group = (project if name == "project" else bare).proc.pid
            app_cpu, database_cpu = cpu_seconds(group=group), cpu_seconds(command="postgres")
            results[name] = walk(sides[name], args.clients, deadline)
            results[name].app_cpu = cpu_seconds(group=group) - app_cpu
            results[name].database_cpu = cpu_seconds(command="postgres") - database_cpu
            results[name].not_approved = count_not_approved(sides[name], args.clients,
                                                            deadline)
        print_table([results["project"], results["bare"]])
        ratio = results["project"].rate / results["bare"].rate if results["bare"].rate else 0.0
        print(f"  project/bare: throughput {ratio:.3f} "
              f"(bare is {1 / ratio if ratio else float('inf'):.1f}× faster); "
              f"p50 {results['project'].percentile(50) / results['bare'].percentile(50):.1f}×, "
              f"p95 {results['project'].percentile(95) / results['bare'].percentile(95):.1f}×")
        # What the throughput follows once the cores are busy, and moves less with the load
        # around the run: the server's CPU (gunicorn and PostgreSQL) per approval.
        cost = {name: r.per_approval_ms(r.app_cpu + r.database_cpu)
                for name, r in results.items()}
        if cost["project"] > 0 and cost["bare"] > 0:
            print(f"  server CPU per approval: project {cost['project']:.2f} ms, bare "
                  f"{cost['bare']:.2f} ms; bare/project {cost['bare'] / cost['project']:.3f}")
        queued = redis.Redis.from_url(redis_url)
        print(f"  redis: Celery queue holds {queued.llen('celery')} tasks, "
              f"bare outbox list {queued.llen('bare:outbox')} ids")
        queued.close()
        return ratio
    except BenchError as exc:
        # The servers' logs go with their temporary folder: say their ends with the failure.
        logs = "\n".join(f"--- the end of the {server.name} server's log ---\n{server.tail(60)}"
                         for server in servers)
        raise BenchError(f"{exc}\n{logs}") from None
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            keep += [PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}" for name in databases]
        else:
            for name in databases:
                drop_database(name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memos", type=int, default=200, help="memos walked up the route (N)")
    parser.add_argument("--clients", type=int, default=8, help="client threads (K)")
    parser.add_argument("--runs", type=int, default=1, help="repeat the whole measurement")
    parser.add_argument("--redis-db", type=int, default=9, help="an empty database number")
    parser.add_argument("--deadline", type=int, default=1800,
                        help="seconds after which everything stops, finished or not")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    args = parser.parse_args()
    if args.memos < 1 or args.clients < 1 or args.runs < 1:
        parser.error("--memos, --clients and --runs must be at least 1")
    # A TERM (say, from a CI timeout) unwinds through the finally blocks like Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    deadline = time.monotonic() + args.deadline
    redis_url = bench_redis(args.redis_db)
    store = redis.Redis.from_url(redis_url, socket_timeout=5)
    # The run flushes this database between runs (login budgets, queued tasks): it must be
    # nobody else's.
    if store.dbsize():
        parser.error(f"redis database {args.redis_db} is not empty; pick another --redis-db")
    print(f"project at {code_version()}; {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    kept: list[str] = []
    ratios: list[float] = []
    try:
        with tempfile.TemporaryDirectory(prefix="saraban-approve-") as folder:
            for number in range(1, args.runs + 1):
                if time.monotonic() >= deadline:
                    print("deadline reached; no more runs")
                    break
                store.flushdb()
                ratios.append(one_run(number, args, redis_url, deadline, kept, Path(folder)))
    except BenchError as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return 1
    finally:
        store.flushdb()
        store.close()
        for url in kept:
            print(f"kept database {url}")
    if len(ratios) > 1:
        print("throughput project/bare per run: " + ", ".join(f"{r:.3f}" for r in ratios)
              + f"; median {statistics.median(ratios):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
