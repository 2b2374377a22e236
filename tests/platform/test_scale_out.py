"""Two offices on a scaled-out installation (issue #12, point 6): two web instances, two
Celery workers and one beat, each a process of its own, on one PostgreSQL database and
one Redis, mailing a real SMTP server (aiosmtpd).

The clerks of two demo offices draft and submit six memos each through the API, and the
four signers of each office approve every memo up the route, from concurrent client
threads whose requests alternate between the two instances; the chiefs' final approvals
of all twelve memos start together. Then: every memo is approved; every arrival email and
every approval email reached the SMTP server exactly once; each office's document numbers
are 1..6 without a gap or a repeat; no request failed and every thread finished in time.

PostgreSQL only: SQLite is a file for one machine, not for a scaled-out installation.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlmodel import col, select

from tests.support.net import free_port
from tests.support.paths import ROOT
from tests.support.redis_server import RedisServer
from tests.support.smtp import SmtpSink
from tests.support.workers import CeleryProcesses
from workflow.demo.seed import seed_demo
from workflow.extensions import db
from workflow.models import (
    Memo,
    Notification,
    NotificationKind,
    NotificationStatus,
    Organization,
    RegisterEntry,
)
from workflow.thai import arabic_digits

OFFICES = ("alpha", "beta")
MEMOS_PER_OFFICE = 6
SIGNERS = (("head", "เพื่อโปรดพิจารณา"), ("deputy", "เพื่อโปรดพิจารณา"),
           ("permsec", "เห็นควรนำเรียนนายกเพื่อโปรดทราบ"), ("chief", "อนุมัติ"))
ARRIVAL = "มีบันทึกข้อความรอท่านพิจารณา"
APPROVED = "บันทึกข้อความของท่านได้รับการอนุมัติแล้ว"
THREAD_DEADLINE = 75.0  # seconds for all the clients' threads together
MAIL_DEADLINE = 60.0  # seconds for the last email after the last approval


class WebInstance:
    """One web instance: ``gunicorn wsgi:app`` on a port of its own, logging to a file."""

    def __init__(self, name: str, env: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"web-{name}.log"
        with self.log.open("ab") as output:
            self.process: Any = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}",
                 "--workers", "1", "--threads", "4", "--timeout", "120",
                 "--graceful-timeout", "10", "wsgi:app"],
                cwd=ROOT, env=env, start_new_session=True, stdout=output,
                stderr=subprocess.STDOUT)

    def wait_ready(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                requests.get(f"{self.url}/login", timeout=10)
                return
            except requests.RequestException:  # not listening yet, or slow on a busy machine
                time.sleep(0.2)
        raise AssertionError(f"web instance {self.name} did not start: {self.log.read_text()}")

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass
        self.process = None


class NamedWorkers(CeleryProcesses):
    """``CeleryProcesses`` whose worker has a node name of its own, so that two workers on
    one machine do not share one."""

    def __init__(self, env: dict[str, str], workdir: Path, node: str) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        super().__init__(env, workdir)
        self.node = node

    def start_worker(self) -> None:
        self.worker = self._spawn("worker", "--hostname", f"{self.node}@%h", "--concurrency",
                                  "1", "--pool", "prefork", "--loglevel", "INFO",
                                  "--without-mingle", "--without-gossip", log="worker.log")

    def stop(self) -> None:
        """A warm shutdown: SIGTERM to the main process alone, which lets the task under way
        finish (SIGTERM to the whole group would kill the pool child mid-task); then the
        group, whatever is left of it."""
        for process in (self.worker, self.beat):
            if process is None:
                continue
            try:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=10)
        self.worker = self.beat = None


@dataclass
class Call:
    """One HTTP request of a client thread, for the report and the assertions."""

    what: str
    instance: str
    status: int
    seconds: float
    body: str = ""


@dataclass
class Clients:
    """The two instances as the client threads see them: every request goes to the next
    instance in turn, and every answer is kept."""

    instances: list[WebInstance]
    tokens: dict[tuple[str, str], str] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    _turn: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next_instance(self) -> WebInstance:
        with self._lock:
            self._turn += 1
            return self.instances[self._turn % len(self.instances)]

    def request(self, what: str, method: str, path: str, *, token: str = "",
                json: dict[str, Any]) -> requests.Response:
        instance = self.next_instance()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        started = time.monotonic()
        try:
            response = requests.request(method, f"{instance.url}{path}", json=json,
                                        headers=headers, timeout=60)
        except requests.RequestException as exc:
            with self._lock:
                self.calls.append(Call(what, instance.name, 0, time.monotonic() - started,
                                       repr(exc)))
            raise
        with self._lock:
            self.calls.append(Call(what, instance.name, response.status_code,
                                   time.monotonic() - started,
                                   "" if response.ok else response.text[:500]))
        return response

    def sign_in(self, office: str, username: str) -> None:
        response = self.request(f"token {office}/{username}", "POST", "/api/v1/auth/token",
                                json={"office": office, "username": username,
                                      "password": "demo"})
        assert response.status_code == 201, response.text
        self.tokens[office, username] = response.json()["token"]

    def api(self, office: str, username: str, what: str, method: str, path: str,
            **body: Any) -> dict[str, Any]:
        response = self.request(what, method, f"/api/v1{path}",
                                token=self.tokens[office, username], json=body)
        assert response.ok, f"{what}: {response.status_code} {response.text[:500]}"
        return dict(response.json())


def _run_threads(targets: list[Callable[[], None]], deadline: float) -> list[str]:
    """Run each target in a thread of its own; the errors, and the threads still running
    at the deadline (which would mean a deadlock)."""
    errors: list[str] = []
    lock = threading.Lock()

    def guarded(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - reported below, with the others
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=guarded, args=(t,), daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    stuck = sum(1 for thread in threads if thread.is_alive())
    if stuck:
        errors.append(f"{stuck} of {len(threads)} client threads still running at the deadline")
    return errors


def _wait_until(check: Callable[[], bool], deadline: float) -> bool:
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


def _address(message: Any) -> str:
    return str(message["To"].addresses[0].addr_spec)


def _exceptions(*logs: Path) -> list[str]:
    """The exception lines in the processes' logs (a deadlock shows up here first)."""
    found = []
    for log in logs:
        if log.exists():
            found += [f"{log.parent.name}/{log.name}: {line.strip()}"
                      for line in log.read_text(errors="replace").splitlines()
                      if re.match(r"^[\w.]+(Error|Exception|Detected)\b", line.strip())]
    return found


def test_two_offices_on_two_web_instances_two_workers_and_a_beat(
        app: Flask, backend: str, database_url: str, smtp_server: SmtpSink,
        redis_server: RedisServer, tmp_path: Path) -> None:
    if backend != "postgresql":
        pytest.skip("a scaled-out installation shares a PostgreSQL database; SQLite is one file")
    began = time.monotonic()
    with app.app_context():
        for code in OFFICES:
            seed_demo(code)
        org_ids = {code: db.session.exec(select(Organization.id).where(
            Organization.code == code)).one() for code in OFFICES}

    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_server.url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_server.port),
        "SECRET_KEY": "test-secret",
        "SARABAN_INSTANCE": str(tmp_path / "instance"),
        "BASE_URL": "http://localhost",
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_KIB": "1024",
        # The beat's sweep every 2 s races the web instances' own hand-over to the workers:
        # the same email is offered twice, and must still go out once.
        "OUTBOX_SWEEP_SECONDS": "2",
        "MAIL_RETRY_BASE_SECONDS": "1",
        "MAIL_RETRY_MAX_SECONDS": "2",
        "MAIL_TIMEOUT": "10",
        # Redis may answer slowly on a busy test machine: a handed-over task is what this
        # test is about, not the broker's circuit breaker.
        "BROKER_CONNECT_TIMEOUT": "2",
    }
    # Start everything at once (the imports take the time), then wait for the web.
    workers = [NamedWorkers(env, tmp_path / f"celery-{n}", f"worker{n}") for n in (1, 2)]
    web: list[WebInstance] = []
    try:
        for processes in workers:
            processes.start_worker()
        workers[0].start_beat()
        web = [WebInstance(name, env, tmp_path) for name in ("web1", "web2")]
        for instance in web:
            instance.wait_ready(time.monotonic() + 60)
        started = time.monotonic()
        print(f"\n[scale-out] processes up in {started - began:.1f} s")

        clients = Clients(web)
        for code in OFFICES:
            for username in ("clerk", *(s for s, _ in SIGNERS)):
                clients.sign_in(code, username)

        memos: dict[tuple[str, int], dict[str, Any]] = {}
        final_round = threading.Barrier(len(OFFICES) * MEMOS_PER_OFFICE)

        def drive(code: str, n: int) -> None:
            """One memo from draft to the chief's approval, each request to the next
            instance; all twelve chiefs' approvals start together."""
            try:
                subject = f"[{code}] ขออนุมัติจัดซื้อวัสดุสำนักงาน รายการที่ {n}"
                made = clients.api(code, "clerk", f"create {code}#{n}", "POST", "/memos",
                                   subject=subject, addressee="นายกองค์การบริหารส่วนตำบลท่าตูม",
                                   body=f"<p>ด้วยสำนักปลัดขออนุมัติจัดซื้อวัสดุ รายการที่ {n}</p>")
                memo_id = int(made["id"])
                memos[code, n] = {"id": memo_id, "subject": subject}
                clients.api(code, "clerk", f"submit {code}#{n}", "POST",
                            f"/memos/{memo_id}/actions", action="submit")
                for username, phrase in SIGNERS:
                    if username == "chief":
                        final_round.wait(timeout=THREAD_DEADLINE)
                    answer = clients.api(code, username, f"{username} {code}#{n}", "POST",
                                         f"/memos/{memo_id}/actions", action="approve",
                                         comment=phrase)
                memos[code, n].update(state=answer["state"], number=answer["number"])
            except BaseException:
                final_round.abort()  # nobody waits for a memo that will not come
                raise

        errors = _run_threads([lambda c=code, n=n: drive(c, n) for code in OFFICES
                               for n in range(1, MEMOS_PER_OFFICE + 1)],
                              time.monotonic() + THREAD_DEADLINE)
        approved_at = time.monotonic()
        failed = [c for c in clients.calls if not 200 <= c.status < 300]
        logs = [i.log for i in web] + [p.workdir / "worker.log" for p in workers]
        assert not errors and not failed, (
            [e for e in errors if "BrokenBarrierError" not in e]  # the others gave up waiting
            or errors, failed, _exceptions(*logs))
        per_instance = Counter(c.instance for c in clients.calls)
        slowest = max(clients.calls, key=lambda c: c.seconds)
        print(f"[scale-out] {len(clients.calls)} requests in {approved_at - started:.1f} s, "
              f"{dict(per_instance)}; slowest {slowest.what} {slowest.seconds:.2f} s")
        assert set(per_instance) == {"web1", "web2"}

        # Every memo is approved, as both the last answer and the database say.
        assert len(memos) == len(OFFICES) * MEMOS_PER_OFFICE
        assert {m["state"] for m in memos.values()} == {"approved"}
        memo_ids = [m["id"] for m in memos.values()]
        with app.app_context():
            stored = db.session.exec(select(Memo).where(col(Memo.id).in_(memo_ids))).all()
            assert {m.state for m in stored} == {"approved"}

            # Numbers: 1..6 in each office, each once, as the register and the memos say.
            for code in OFFICES:
                numbers = sorted(int(arabic_digits(m["number"].rsplit("/", 1)[1]))
                                 for (office, _), m in memos.items() if office == code)
                assert numbers == list(range(1, MEMOS_PER_OFFICE + 1)), (code, numbers)
                entries = db.session.exec(select(RegisterEntry).where(
                    RegisterEntry.org_id == org_ids[code])).all()
                assert sorted(e.number for e in entries) == numbers
                ours = {m["id"]: m["number"] for (office, _), m in memos.items()
                        if office == code}
                assert {e.memo_id: e.document_number for e in entries} == ours
                assert {m.id: m.number for m in stored if m.org_id == org_ids[code]} == ours

        # The emails: four arrivals and one approval per memo, each once, nothing else.
        expected = Counter()
        for (_, _), memo in memos.items():
            for username, _ in SIGNERS:
                expected[f"{username}@example.com", f"{ARRIVAL}: {memo['subject']}"] += 1
            expected["clerk@example.com", f"{APPROVED}: {memo['subject']}"] += 1
        assert len(expected) == 5 * len(memos) and set(expected.values()) == {1}

        def all_sent() -> bool:
            with app.app_context():
                rows = db.session.exec(select(Notification.status).where(
                    col(Notification.memo_id).in_(memo_ids))).all()
            return (len(rows) == len(expected)
                    and set(rows) == {NotificationStatus.SENT}
                    and len(smtp_server.messages) >= len(expected))

        delivered = _wait_until(all_sent, time.monotonic() + MAIL_DEADLINE)
        mailed_at = time.monotonic()
        # Stop the workers (warm shutdown: a send under way finishes) before counting, so
        # that a late duplicate cannot arrive after the count.
        for processes in workers:
            processes.stop()
        with app.app_context():
            rows = db.session.exec(select(Notification).where(
                col(Notification.memo_id).in_(memo_ids))).all()
        statuses = Counter(str(r.status) for r in rows)
        assert delivered, (f"{len(smtp_server.messages)} of {len(expected)} emails; outbox "
                           f"{dict(statuses)}; {[r.last_error for r in rows if r.last_error]}",
                           _exceptions(*logs))
        received = list(smtp_server.messages)
        got = Counter((_address(m), str(m["Subject"])) for m in received)
        assert got == expected, {
            "missing": expected - got, "extra": got - expected,
            "twice": [k for k, v in got.items() if v > 1]}
        # ... and each outbox row was sent once, as itself: Message-ID names the row.
        kinds = Counter(r.kind for r in rows)
        assert kinds == {NotificationKind.ARRIVAL: 4 * len(memos),
                         NotificationKind.APPROVED: len(memos)}
        message_ids = Counter(str(m["Message-ID"]).split("@")[0].removeprefix("<notification-")
                              for m in received)
        assert message_ids == Counter(str(r.id) for r in rows)
        by_office = Counter(r.org_id for r in rows)
        assert by_office == {org_ids[code]: 5 * MEMOS_PER_OFFICE for code in OFFICES}

        sent_by = {p.node: p.log().count("succeeded") for p in workers}
        print(f"[scale-out] {len(received)} emails, the last {mailed_at - approved_at:.1f} s "
              f"after the last approval; task runs per worker {sent_by}; "
              f"total {time.monotonic() - began:.1f} s")
        assert _exceptions(*logs) == []
    finally:
        for instance in web:
            instance.stop()
        for processes in workers:
            processes.stop()
