"""What the bench scripts share: the project under gunicorn, its environment, signing in, and
client threads that time GETs and print p50/p95 tables.

Imported by ``bench/approve.py``, ``bench/read_scale.py`` and ``bench/offices_scale.py``
(each puts the repository root on ``sys.path`` first). gunicorn is run from the same Python
as the bench (``python -m gunicorn``), so any virtualenv works, not only ``.venv``.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty, Queue

import requests
import urllib3

ROOT = Path(__file__).resolve().parent.parent
# Uncounted GETs of each page before it is timed, so that the numbers are those of a server
# that has been up a while. Under 4 workers x 4 threads a page's requests are spread over
# 16 threads, each with its own database connection and its own statements: a thread builds
# a statement on first use (``db.per_thread``), psycopg prepares it on a connection at its
# 5th run, and PostgreSQL plans a prepared statement's first 5 runs for their values before
# it keeps a generic plan. With 16 warm-up GETs (the default until December 6) most of that
# fell in the timed ones: one client, one connection, the memo page took 9.4 ms in process
# after no warm-up and 6.1 ms after 40 (its memo read 1.20 ms against 0.34 ms).
WARM_UP = 200

# The settings of issue #11's measurements: 4 workers x 4 threads. The suite's smoke run of
# each bench (tests/test_benches.py) sets BENCH_GUNICORN_WORKERS=1: it checks that a bench
# gets to its report, and four workers would each start the app for nothing.
WORKERS = os.environ.get("BENCH_GUNICORN_WORKERS", "4")
GUNICORN = [sys.executable, "-m", "gunicorn", "--workers", WORKERS, "--threads", "4",
            "--worker-class", "gthread"]
# The Redis the benches use, one numbered database each (--redis-db); the suite's smoke runs
# point BENCH_REDIS at a private redis-server of their own.
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379")
TIMEOUT = (5, 120)  # (connect, read) seconds on every request
START_SECONDS = 90
GOAL_MS = 25.0



def percentile_ms(latencies: list[float], q: int) -> float:
    """The q-th percentile of latencies in seconds, in milliseconds (NaN with none)."""
    if not latencies:
        return float("nan")
    if len(latencies) == 1:
        return latencies[0] * 1000
    return statistics.quantiles(latencies, n=100, method="inclusive")[q - 1] * 1000

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(*, group: int | None = None, command: str | None = None) -> float:
    """The CPU seconds used so far by the processes of process group ``group`` (a
    ``Server``'s gunicorn: master and workers) or named ``command`` (``postgres``: the
    server and its backends), each with its children already reaped (a backend that
    ended counts in its postmaster's). Linux only (``/proc``); 0.0 elsewhere.

    On a machine whose cores are all busy, throughput follows the CPU each request costs,
    which moves less than wall time when the load around it changes."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        name, _, rest = text.partition(" (")[2].rpartition(") ")
        fields = rest.split()
        # Fields after the name (proc(5)): 0 state, 1 ppid, 2 pgrp; 11-14 utime, stime,
        # cutime, cstime in clock ticks.
        if (group is not None and int(fields[2]) == group) or (
                command is not None and name == command):
            total += sum(int(value) for value in fields[11:15])
    return total / _TICKS


class BenchError(RuntimeError):
    """Something the benchmark needs did not happen; the message says what."""


def bench_redis(number: int) -> str:
    """The URL of the benches' Redis database ``number``."""
    return f"{REDIS}/{number}"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A gunicorn in its own process group, so that stopping it stops all its workers."""

    def __init__(self, env: dict[str, str], log: Path, *, name: str = "project",
                 app: tuple[str, ...] = ("wsgi:app",)) -> None:
        self.name = name
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        if WORKERS != "4":
            print(f"{name}: gunicorn with {WORKERS} worker(s) (BENCH_GUNICORN_WORKERS), not the "
                  "4 of the measurements: these figures are not comparable", flush=True)
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [*GUNICORN, "--bind", f"127.0.0.1:{self.port}", *app], cwd=ROOT, env=env,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_until_answers(self, deadline: float | None = None, path: str = "/login") -> None:
        """Poll until any HTTP answer comes back (a 401 or 404 is an answer)."""
        stop = time.monotonic() + START_SECONDS
        if deadline is not None:
            stop = min(stop, deadline)
        while time.monotonic() < stop:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name}: gunicorn exited ({self.proc.returncode})\n"
                                 + self.tail())
            try:
                requests.get(f"{self.base}{path}", timeout=(1, 5))
                return
            except requests.RequestException:
                time.sleep(0.2)
        raise BenchError(f"{self.name}: no answer on {self.base}\n" + self.tail())

    def tail(self, lines: int = 30) -> str:
        """The end of the server's log, for error messages."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """TERM the whole group, then KILL it if it has not gone in 15 s."""
        if self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)
        except ProcessLookupError:
            pass


def project_env(url: str, redis_url: str, workdir: Path) -> dict[str, str]:
    """The environment the project runs (and is seeded) with: production settings on plain
    HTTP, cheap password hashes (sign-in is setup, not what is measured), and an instance
    folder of the run's own."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MAIL_", "RATELIMIT_", "DATABASE_", "REDIS_", "SESSION_"))}
    env.update({
        "DATABASE_URL": url, "REDIS_URL": redis_url, "SECRET_KEY": secrets.token_hex(16),
        "SARABAN_ENV": "production", "BASE_URL": "http://127.0.0.1",
        # Plain HTTP on loopback: the session cookie must come back without TLS.
        "SESSION_COOKIE_SECURE": "false",
        "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_KIB": "1024",
        "SARABAN_INSTANCE": str(workdir / "instance"),
    })
    return env


def pg_url(url: str) -> str:
    """The SQLAlchemy URL as psycopg takes it."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def code_version() -> str:
    """The commit measured, and whether the code differs from it."""
    def git(*argv: str) -> str:
        done = subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True,
                              timeout=30, check=False)
        return done.stdout.strip()

    dirty = git("status", "--porcelain", "--", "workflow", "wsgi.py", "config.py",
                "templates")
    return git("rev-parse", "--short", "HEAD") + (" + uncommitted changes" if dirty else "")


# -- signing in and measuring ---------------------------------------------------------------

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass(frozen=True)
class Login:
    """How one user's requests authenticate: cookies (web) or a bearer token (API)."""

    cookies: requests.cookies.RequestsCookieJar
    token: str

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.cookies)


def sign_in(base: str, office: str, username: str, password: str) -> Login:
    """The login form (with its CSRF token) for the web, POST /api/v1/auth/token for the API."""
    with requests.Session() as http:
        page = http.get(f"{base}/login", timeout=TIMEOUT)
        match = _CSRF.search(page.text)
        if not match:
            raise BenchError("no csrf_token on the login page")
        done = http.post(f"{base}/login", timeout=TIMEOUT, allow_redirects=False,
                         data={"office": office, "username": username,
                               "password": password, "csrf_token": match.group(1)})
        if done.status_code != 302:
            raise BenchError(f"web login {office}/{username}: {done.status_code} "
                             f"{done.text[:300]}")
        cookies = http.cookies
        issued = http.post(f"{base}/api/v1/auth/token", timeout=TIMEOUT,
                           json={"office": office, "username": username, "password": password})
        if issued.status_code != 201:
            raise BenchError(f"API token {office}/{username}: {issued.status_code} "
                             f"{issued.text[:300]}")
        return Login(cookies, issued.json()["token"])


@dataclass
class Page:
    """One row of a table: the URLs one or more users GET in turn (``users`` pairs with
    ``paths`` by position when both have several: request n goes to path n as user n)."""

    label: str
    user: str
    paths: list[str]
    goal: bool = True  # p95 < 25 ms applies
    no_goal: str = "none (PDF)"  # what the goal column says when it does not
    floor: bool = False  # the bare endpoint's list, measured before and after the pages
    users: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    first_failure: str = ""
    client_cpu: float = 0.0  # seconds of this process's CPU (the client threads) while timed

    def who(self, n: int) -> str:
        return self.users[n % len(self.users)] if self.users else self.user

    def percentile(self, q: int) -> float:
        return percentile_ms(self.latencies, q)


class Clients:
    """One keep-alive connection per client thread, each GET sent as the page's user.

    urllib3 itself, not a ``requests.Session``: the client shares the machine's two cores
    with gunicorn and PostgreSQL, and ``requests`` spent 2.1-2.3 ms of CPU on each GET (its
    cookie jar, hooks and environment lookups) against urllib3's 0.8, time the pages were
    charged for (measured on the project's API list of 100 memos, 4 threads). The
    requests are the same: the user's cookies, and the bearer token on /api/ paths."""

    def __init__(self, base: str, logins: dict[str, Login], count: int) -> None:
        self.base = base
        self.count = count
        parsed = urllib3.util.parse_url(base)
        self.pools = [urllib3.HTTPConnectionPool(str(parsed.host), parsed.port, maxsize=1,
                                                 retries=False)
                      for _ in range(count)]
        self.headers = {user: {"Cookie": login.cookie_header} for user, login in logins.items()}
        self.api_headers = {user: {**self.headers[user],
                                   "Authorization": f"Bearer {login.token}"}
                            for user, login in logins.items()}
        self.timeout = urllib3.Timeout(connect=TIMEOUT[0], read=TIMEOUT[1])

    def get(self, thread: int, user: str, path: str) -> tuple[int, str]:
        """The status and the decoded body of one GET (redirects are not followed)."""
        headers = (self.api_headers if path.startswith("/api/") else self.headers)[user]
        response = self.pools[thread].request("GET", path, headers=headers, redirect=False,
                                              timeout=self.timeout)
        return response.status, response.data.decode("utf-8", "replace")

    def run(self, page: Page, requests_: int, *, record: bool) -> None:
        """``requests_`` GETs of the page's URLs in turn, on every client thread at once."""
        queue: Queue[int] = Queue()
        for n in range(requests_):
            queue.put(n)
        lock = threading.Lock()

        def client(thread: int) -> None:
            while True:
                try:
                    n = queue.get_nowait()
                except Empty:
                    return
                path = page.paths[n % len(page.paths)]
                started = time.perf_counter()
                try:
                    status, body = self.get(thread, page.who(n), path)
                    outcome = str(status)
                except urllib3.exceptions.HTTPError as exc:
                    outcome, body = type(exc).__name__, str(exc)
                took = time.perf_counter() - started
                if not record:
                    if outcome != "200":
                        with lock:
                            page.first_failure = page.first_failure or (
                                f"{path}: {outcome} {body[:300]}")
                    continue
                with lock:
                    if outcome == "200":
                        page.latencies.append(took)
                    else:
                        page.failures[outcome] += 1
                        page.first_failure = page.first_failure or (
                            f"{path}: {outcome} {body[:300]}")

        threads = [threading.Thread(target=client, args=(t,), daemon=True)
                   for t in range(self.count)]
        cpu = time.process_time()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if record:
            page.client_cpu += time.process_time() - cpu

    def measure(self, pages: list[Page], requests_: int, warm_up: int = WARM_UP) -> None:
        """Each page in turn: ``warm_up`` GETs that are not counted, then ``requests_``
        timed GETs."""
        for page in pages:
            self.run(page, warm_up, record=False)
            if page.first_failure:
                raise BenchError(f"{page.label}: {page.first_failure}")
            self.run(page, requests_, record=True)
            print(f"  {page.label}: p50 {page.percentile(50):.1f} ms, "
                  f"p95 {page.percentile(95):.1f} ms, the client's CPU "
                  f"{1000 * page.client_cpu / max(requests_, 1):.2f} ms a GET", flush=True)

    def close(self) -> None:
        for pool in self.pools:
            pool.close()


def print_table(pages: list[Page]) -> None:
    """The pages as a Markdown table, with the goal and whether it is met."""
    print("| page | n | p50 ms | p95 ms | goal | met? |")
    print("|---|---:|---:|---:|---|---|")
    for page in pages:
        p95 = page.percentile(95)
        failed = sum(page.failures.values())
        if page.goal:
            goal, met = f"p95 < {GOAL_MS:.0f} ms", "yes" if p95 < GOAL_MS else "**no**"
        else:
            goal, met = page.no_goal, "–"
        if failed:
            met = f"**no** ({failed} failed)"
        print(f"| {page.label} | {len(page.latencies)} | {page.percentile(50):.1f} | "
              f"{p95:.1f} | {goal} | {met} |")
    for page in pages:
        if page.first_failure:
            print(f"  {page.label}: {dict(page.failures)}; first: {page.first_failure}")
    print(summary(pages))


def summary(pages: list[Page]) -> str:
    """How many pages meet the goal and, the machine's speed moving from hour to hour, how far
    their p95 is above the floor's (the mean of its p95 before and after): what the code adds,
    which moves less than the page's own p95 when the machine slows down."""
    goals = [page for page in pages if page.goal]
    met = sum(1 for page in goals if page.percentile(95) < GOAL_MS and not page.failures)
    line = f"pages that meet p95 < {GOAL_MS:.0f} ms: {met} of {len(goals)}"
    floors = [page.percentile(95) for page in pages if page.floor and page.latencies]
    if goals and floors:
        above = sorted(page.percentile(95) - statistics.mean(floors) for page in goals)
        line += (f"; the floor's p95 {' and '.join(f'{f:.1f}' for f in floors)} ms, the "
                 f"pages' p95 above its mean: median {statistics.median(above):.1f} ms, "
                 f"highest {above[-1]:.1f} ms")
    return line
