"""Reads at scale: the pages people open every day, over HTTP, on ten years of a big office.

What it builds. A throw-away PostgreSQL database (``tests/support/database.py``: migrated
to head), the demo office (``workflow/demo/seed.py``), then, with PostgreSQL COPY (psycopg 3
``cursor.copy``, no ORM inserts), ``--memos`` memos drafted by the clerk over ten years on
the demo's four-step route (head → deputy → permsec → chief), each with its steps
(``memostep``, one row per step and round), its submitted version (``memoversion``), its
decisions and its audit events:

* ``--memos / 40`` waiting at each of the four steps (2,500 each at 100,000; the waiting
  memos are among the most recent), the rest approved (90,000 at 100,000), each with its
  document number from the outgoing register (``registerentry``, numbers restart each
  year); 5 % of the approved ones were sent back once by the deputy, edited and approved
  in a second round (revision 2). The head (step 1) so has 2,500 memos waiting and
  97,500 decided; the clerk drafted all of them.
* ``--events`` audit events (1,000,000 by default), in time order: every memo's created,
  submitted, opened (read receipt), approved, sent back, edited and resubmitted events,
  then sign-ins and sign-outs to make up the number. The hash chain is NOT valid: ``hash``,
  ``prev_hash`` are placeholders (the seq in hex) and ``memo_prev_hash`` is empty, which
  costs nothing to a search but makes ``flask audit verify`` and the per-memo verification
  badge fail on this database. The office's chain head (``audithead``) is set past the
  last event, so new events (sign-ins of this run) append normally.
* Then ``VACUUM (ANALYZE)``: statistics and the visibility map a database that has lived
  ten years under autovacuum would have.

What it measures. The project under gunicorn (4 workers × 4 threads, gthread, like
``bench/approve.py``) on that database and Redis (``--redis-db``, which must be empty; it
is flushed at the end). ``--clients`` client threads (4) send ``--requests`` GETs (200) per
page, after a warm-up that is not counted, and the table gives the count of 200 answers
and their p50/p95 wall time in ms as the client sees it (loopback, same machine). Pages:
the inbox tabs on the web (``/inbox?tab=…``) and in the API (``/api/v1/memos?box=…``) of
the head (2,500 waiting, 97,500 decided) and the clerk's "mine" (every memo); the
auditor's all-memos; a word and a number search (API ``?q=`` / ``?number=`` and the web
search box); a memo page (``/memos/<id>``) and its JSON (``/api/v1/memos/<id>``), on
approved memos the head decided; the auditors' trail search (``/audit`` with its filters,
``/api/v1/audit``); and the PDF of an approved memo (``/api/v1/memos/<id>/pdf``). The goal
is p95 < 25 ms for every page but the PDF.

    .venv/bin/python bench/read_scale.py [--memos 100000] [--events 1000000]
        [--requests 200] [--clients 4] [--keep] [--reuse URL]

``--keep`` keeps the database (its URL is printed, for psql and EXPLAIN); ``--reuse URL``
measures such a kept database again without filling it (and never drops it).

What it does not do: no notification (email) rows, attachments, acting appointments,
rejected or withdrawn memos, other offices or other drafters; only the first page of
each list is read (no ``before`` cursor); no writes are measured (sign-in is setup, and
the memo pages are of decided memos, so the read receipt costs one read and writes
nothing); the client shares the machine's two cores with gunicorn and PostgreSQL, so its
own CPU, and anything else running on the machine, is part of each number (the load
average is printed before and after).
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import json
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from queue import Empty, Queue
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import psycopg
import redis
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import TEST_CONFIG  # noqa: E402
from tests.support.database import create_database, drop_database  # noqa: E402
from workflow import create_app  # noqa: E402
from workflow.demo.seed import DEMO_CODE, DEMO_PASSWORD, ROUTE, seed_demo  # noqa: E402
from workflow.thai import thai_digits  # noqa: E402

VENV_BIN = ROOT / ".venv" / "bin"
GUNICORN = [str(VENV_BIN / "gunicorn"), "--workers", "4", "--threads", "4",
            "--worker-class", "gthread"]
TIMEOUT = (5, 120)  # (connect, read) seconds on every request
START_SECONDS = 90
GOAL_MS = 25.0
OFFICE_TZ = ZoneInfo("Asia/Bangkok")
YEARS = 10
SECOND_ROUND_SHARE = 0.05  # approved memos that were sent back once and resubmitted
WORD = "ซ่อมแซม"  # the word searched for (in about one subject in eight)

# -- what the memos say ---------------------------------------------------------------

PREFIXES = ("ขออนุมัติ", "ขอความเห็นชอบ", "รายงานผล", "ขออนุญาต", "ขอรายงาน", "ขอเชิญประชุมเรื่อง")
TOPICS = (
    "จัดซื้อวัสดุสำนักงาน", "จัดซื้อวัสดุเชื้อเพลิงและหล่อลื่น", "จ้างเหมาซ่อมแซมถนนลูกรัง",
    "จ้างเหมาซ่อมแซมระบบประปาหมู่บ้าน", "โครงการฝึกอบรมคุณธรรมจริยธรรมบุคลากร",
    "เบิกจ่ายค่าตอบแทนการปฏิบัติงานนอกเวลาราชการ", "จัดซื้ออาหารเสริม (นม) โรงเรียน",
    "โครงการศูนย์พัฒนาเด็กเล็กน่าอยู่", "จัดซื้อวัสดุคอมพิวเตอร์", "เดินทางไปราชการ",
    "โครงการป้องกันและลดอุบัติเหตุทางถนนช่วงเทศกาล", "จ้างเหมาซ่อมแซมรถยนต์ส่วนกลาง",
    "โครงการส่งเสริมอาชีพกลุ่มสตรี", "ปรับปรุงแผนพัฒนาท้องถิ่น", "จัดเก็บภาษีที่ดินและสิ่งปลูกสร้าง",
    "โครงการรณรงค์ป้องกันโรคไข้เลือดออก", "จัดซื้อครุภัณฑ์สำนักงาน", "ประชุมสภาองค์การบริหารส่วนตำบล",
    "การมาตรการส่งเสริมคุณธรรมและความโปร่งใส", "โอนงบประมาณรายจ่าย", "จ้างเหมาบริการรักษาความปลอดภัย",
    "จัดงานประเพณีลอยกระทง", "ช่วยเหลือผู้ประสบภัยน้ำท่วม", "ขยายเขตไฟฟ้าสาธารณะ",
)
PARAGRAPHS = (
    ("<p>ตามที่องค์การบริหารส่วนตำบลท่าตูมได้ตั้งงบประมาณรายจ่ายประจำปีไว้ในแผนงานบริหารงานทั่วไป "
     "งานบริหารทั่วไป หมวดค่าใช้สอย เพื่อใช้ในการดำเนินงานตามภารกิจของสำนักงานปลัด นั้น</p>",
     "<p>ด้วยสำนักงานปลัดได้รับแจ้งจากกองคลังว่า การดำเนินการตามระเบียบกระทรวงมหาดไทยว่าด้วยวิธีการงบประมาณ "
     "ขององค์กรปกครองส่วนท้องถิ่น จะต้องดำเนินการให้แล้วเสร็จภายในกำหนดเวลา</p>"),
    ("<p>ในการนี้ สำนักงานปลัดได้ตรวจสอบรายละเอียดแล้ว เห็นว่าเป็นไปตามระเบียบกระทรวงการคลังว่าด้วย"
     "การจัดซื้อจัดจ้างและการบริหารพัสดุภาครัฐ พ.ศ. ๒๕๖๐ และมีงบประมาณเพียงพอ</p>",
     "<p>ในการนี้ เจ้าหน้าที่ได้จัดทำรายละเอียดคุณลักษณะเฉพาะและราคากลางเรียบร้อยแล้ว "
     "ปรากฏรายละเอียดตามเอกสารที่แนบมาพร้อมนี้</p>"),
    ("<p>จึงเรียนมาเพื่อโปรดพิจารณา หากเห็นชอบโปรดลงนามในบันทึกนี้ "
     "เพื่อสำนักงานปลัดจะได้ดำเนินการในส่วนที่เกี่ยวข้องต่อไป</p>",
     "<p>จึงเรียนมาเพื่อโปรดทราบและพิจารณาอนุมัติ</p>"),
)
ADDED_PARAGRAPH = "<p>ทั้งนี้ ได้แก้ไขรายละเอียดงบประมาณตามที่รองปลัดเกษียนสั่งการไว้แล้ว</p>"
ENDORSEMENTS = ("เพื่อโปรดพิจารณา", "เห็นควรนำเรียนนายกเพื่อโปรดทราบ", "เห็นชอบ",
                "ทราบ อนุมัติตามเสนอ")
SEND_BACK_REASON = "ส่งกลับแก้ไข เนื่องจากรายละเอียดงบประมาณไม่ครบถ้วน"
USER_AGENTS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0",
               "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Safari/604.1",
               "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0")

MEMO_COLUMNS = ("id", "org_id", "route_id", "drafter_id", "unit_line", "number", "memo_date",
                "subject", "addressee", "urgency", "body", "state", "round", "revision",
                "version", "created_at", "updated_at", "submitted_at")
STEP_COLUMNS = ("id", "org_id", "memo_id", "round", "step_no", "position_id", "position_title",
                "status", "arrived_at", "decided_at", "decided_by_id", "opened_at",
                "reminders_sent", "last_reminded_at", "next_reminder_at")
VERSION_COLUMNS = ("id", "org_id", "memo_id", "revision", "subject", "addressee", "urgency",
                   "body", "attachments", "content_hash", "created_by_id", "created_at")
DECISION_COLUMNS = ("id", "org_id", "memo_id", "memo_step_id", "round", "step_no", "action",
                    "actor_id", "actor_name", "position_id", "position_title", "comment",
                    "signed_as", "through_step", "appointments", "state_before", "state_after",
                    "memo_version", "revision", "content_hash", "created_at")
REGISTER_COLUMNS = ("id", "org_id", "year", "number", "memo_id", "document_number", "subject",
                    "issued_at")
AUDIT_COLUMNS = ("id", "chain", "seq", "created_at", "org_id", "actor_id", "actor_name",
                 "position_title", "action", "memo_id", "state_before", "state_after", "text",
                 "ip", "user_agent", "details", "prev_hash", "memo_prev_hash", "hash")


class BenchError(RuntimeError):
    """Something the benchmark needs did not happen; the message says what."""


# -- the plan of each memo's life -------------------------------------------------------


@dataclass(slots=True)
class Step:
    """One step of one round: what happened there and when (None: not reached)."""

    status: str  # waiting | pending | approved | sent_back | cancelled
    arrived: datetime | None = None
    opened: datetime | None = None
    decided: datetime | None = None


@dataclass(slots=True)
class Plan:
    """One memo, from draft to where it stands now."""

    id: int
    created: datetime
    subject: str
    urgency: str
    state: str
    submitted: datetime
    rounds: list[list[Step]]
    edited: datetime | None = None  # a second round: the clerk's edit, then resubmission
    resubmitted: datetime | None = None
    number: str | None = None
    number_seq: int = 0
    memo_date: date | None = None
    hashes: list[str] = field(default_factory=list)  # content hash of each revision

    @property
    def updated(self) -> datetime:
        """The memo's last change: its last decision, or its (re)submission."""
        last = self.resubmitted or self.submitted
        for step in self.rounds[-1]:
            if step.decided is not None:
                last = step.decided
        return last

    @property
    def final(self) -> datetime:
        return self.rounds[-1][-1].decided or self.updated


@dataclass(frozen=True)
class Office:
    """The seeded demo office as the fill needs it."""

    org_id: int
    route_id: int
    unit_line: str
    doc_prefix: str
    users: dict[str, tuple[int, str]]  # username: (id, full name)
    steps: list[tuple[int, str]]  # the route's (position id, title), in order
    addressee: str


def body_of(plan: Plan, revision: int) -> str:
    """The memo's HTML (a second revision adds one paragraph)."""
    parts = [f"<p>เรื่อง {plan.subject}</p>"]
    parts += [pair[(plan.id >> shift) & 1] for shift, pair in enumerate(PARAGRAPHS)]
    if revision > 1:
        parts.insert(-1, ADDED_PARAGRAPH)
    return "".join(parts)


def content_hash(plan: Plan, revision: int, addressee: str) -> str:
    """``workflow.memos.versions.content_hash`` of a revision (no attachments)."""
    content = {"subject": plan.subject, "addressee": addressee, "urgency": plan.urgency,
               "body": body_of(plan, revision), "attachments": []}
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def plan_memos(count: int, first_id: int, now: datetime, rng: random.Random) -> list[Plan]:
    """Every memo's life: when it was drafted, submitted, opened and decided at each step."""
    waiting_per_step = count // 40
    start = now - timedelta(days=365 * YEARS)
    span = (timedelta(days=365 * YEARS) - timedelta(days=10)).total_seconds()
    moments = sorted(rng.random() * span for _ in range(count))
    # The waiting memos are every other one of the newest, taking the steps in turn.
    pending_at: dict[int, int] = {}
    newest = count - 1
    for n in range(waiting_per_step * 4):
        pending_at[newest - 2 * n] = n % 4 + 1

    def took(mean_hours: float, cap_hours: float) -> timedelta:
        hours = min(rng.expovariate(1 / mean_hours), cap_hours) + 5 / 60
        return timedelta(hours=hours)

    def decide(at: datetime) -> Step:
        duration = took(8, 30)
        return Step("approved", at, at + duration * rng.uniform(0.05, 0.9), at + duration)

    plans = []
    for index, offset in enumerate(moments):
        created = start + timedelta(seconds=offset)
        submitted = created + timedelta(minutes=rng.uniform(5, 240))
        topic = rng.randrange(len(TOPICS))
        subject = f"{rng.choice(PREFIXES)}{TOPICS[topic]}"
        if rng.random() < 0.3:
            subject += f" หมู่ที่ {thai_digits(rng.randint(1, 12))}"
        local_year = created.astimezone(OFFICE_TZ).year + 543
        subject += f" ประจำปีงบประมาณ พ.ศ. {thai_digits(local_year)}"
        urgency = rng.choices(("normal", "urgent", "very_urgent", "most_urgent"),
                              (85, 10, 4, 1))[0]
        stop = pending_at.get(index)
        rounds: list[list[Step]] = []
        at = submitted
        plan = Plan(first_id + index, created, subject, urgency, "approved", submitted, rounds)
        if stop is None and rng.random() < SECOND_ROUND_SHARE:
            head = decide(at)
            back = decide(head.decided or at)
            back.status = "sent_back"
            rounds.append([head, back, Step("cancelled"), Step("cancelled")])
            plan.edited = (back.decided or at) + timedelta(hours=rng.uniform(1, 24))
            plan.resubmitted = plan.edited + timedelta(minutes=rng.uniform(5, 120))
            at = plan.resubmitted
        steps: list[Step] = []
        for step_no in range(1, 5):
            if stop is not None and step_no > stop:
                steps.append(Step("waiting"))
            elif step_no == stop:
                opened = at + timedelta(hours=rng.uniform(0.1, 6)) if rng.random() < 0.5 else None
                steps.append(Step("pending", at, opened))
                plan.state = f"pending_{stop}"
            else:
                steps.append(decide(at))
                at = steps[-1].decided or at
        rounds.append(steps)
        plans.append(plan)
    return plans


def issue_numbers(plans: list[Plan], prefix: str) -> dict[int, int]:
    """The outgoing register: numbers in order of final approval, restarting each year."""
    approved = sorted((p for p in plans if p.state == "approved"), key=lambda p: p.final)
    last: dict[int, int] = {}
    for plan in approved:
        local = plan.final.astimezone(OFFICE_TZ)
        last[local.year] = last.get(local.year, 0) + 1
        plan.number_seq = last[local.year]
        running = thai_digits(plan.number_seq)
        plan.number = f"{prefix}/{running}" if prefix else running
        plan.memo_date = local.date()
    for plan in plans:
        plan.memo_date = plan.memo_date or plan.created.astimezone(OFFICE_TZ).date()
    return last


def _details(**values: Any) -> str:
    return json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def events_of(plan: Plan, office: Office, with_opened: bool) -> list[tuple[Any, ...]]:
    """The memo's audit events as (time, memo id, order, columns from org_id to details)."""
    org = office.org_id
    clerk_id, clerk_name = office.users["clerk"]
    clerk_ip, clerk_ua = "10.1.0.10", USER_AGENTS[0]
    out: list[tuple[Any, ...]] = []

    def add(at: datetime, actor: str, title: str, action: str, before: str, after: str,
            text: str, details: str) -> None:
        user_id, name = office.users[actor]
        ip = f"10.1.0.{10 + ROUTE.index(actor) + 1}" if actor in ROUTE else clerk_ip
        ua = clerk_ua if actor == "clerk" else USER_AGENTS[1 + user_id % 2]
        out.append((at, plan.id, len(out), org, user_id, name, title, action, plan.id, before,
                    after, text, ip, ua, details))

    add(plan.created, "clerk", "", "memo_created", "", "draft", "",
        _details(subject=plan.subject, urgency=plan.urgency))
    add(plan.submitted, "clerk", "", "memo_submitted", "draft", "pending_1", "",
        _details(round=1, step=None, version=1))
    version = 2
    for round_no, steps in enumerate(plan.rounds, start=1):
        if round_no == 2:
            assert plan.edited is not None and plan.resubmitted is not None
            changes = {"body": {"old": body_of(plan, 1), "new": body_of(plan, 2)}}
            add(plan.edited, "clerk", "", "memo_edited", "returned", "returned", "",
                _details(changes=changes, version=version + 1))
            add(plan.resubmitted, "clerk", "", "memo_resubmitted", "returned", "pending_1", "",
                _details(round=2, step=None, version=version + 1))
            version += 2
        for step_no, step in enumerate(steps, start=1):
            actor = ROUTE[step_no - 1]
            title = office.steps[step_no - 1][1]
            state = f"pending_{step_no}"
            if step.opened is not None and with_opened:
                add(step.opened, actor, title, "memo_opened", state, state, "",
                    _details(round=round_no, step=step_no))
            if step.decided is None:
                continue
            if step.status == "sent_back":
                add(step.decided, actor, title, "memo_sent_back", state, "returned",
                    SEND_BACK_REASON, _details(round=round_no, step=step_no, version=version))
            else:
                after = f"pending_{step_no + 1}" if step_no < 4 else "approved"
                extra = {"number": plan.number} if after == "approved" else {}
                add(step.decided, actor, title, "memo_approved", state, after,
                    ENDORSEMENTS[step_no - 1],
                    _details(round=round_no, step=step_no, version=version, **extra))
            version += 1
    return out


def count_events(plan: Plan, with_opened: bool) -> int:
    steps = [s for steps in plan.rounds for s in steps]
    opened = sum(1 for s in steps if s.opened is not None) if with_opened else 0
    return 2 + (2 if plan.edited else 0) + opened + sum(1 for s in steps if s.decided)


def memo_event_stream(plans: list[Plan], office: Office,
                      with_opened: bool) -> Iterator[tuple[Any, ...]]:
    """Every memo's events in time order: memos begin in order, so an event can be let out
    once the next memo begins after it."""
    flight: list[tuple[Any, ...]] = []
    for plan in plans:
        while flight and flight[0][0] <= plan.created:
            yield heapq.heappop(flight)
        for event in events_of(plan, office, with_opened):
            heapq.heappush(flight, event)
    while flight:
        yield heapq.heappop(flight)


def session_event_stream(count: int, start: datetime, end: datetime, office: Office,
                         rng: random.Random) -> Iterator[tuple[Any, ...]]:
    """Sign-ins and sign-outs of the office's people, spread evenly, in time order."""
    span = (end - start).total_seconds()
    people = [("clerk", 5), ("head", 3), ("deputy", 2), ("permsec", 2), ("chief", 2),
              ("auditor", 1), ("admin", 1)]
    names = [p for p, _ in people]
    weights = [w for _, w in people]
    for n, offset in enumerate(sorted(rng.random() * span for _ in range(count))):
        who = rng.choices(names, weights)[0]
        user_id, name = office.users[who]
        action = "logout" if rng.random() < 0.2 else "login_succeeded"
        kind = "web" if rng.random() < 0.9 else "api"
        yield (start + timedelta(seconds=offset), 0, n, office.org_id, user_id, name, "",
               action, None, "", "", "", f"10.1.0.{10 + n % 7}", USER_AGENTS[n % 3],
               _details(kind=kind))


# -- the fill -----------------------------------------------------------------------------


def pg_url(url: str) -> str:
    """The SQLAlchemy URL as psycopg takes it."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def load_office(conn: psycopg.Connection[Any], route_id: int) -> Office:
    org_id, unit_line, doc_prefix, name = conn.execute(
        "SELECT o.id, o.unit_line, o.doc_prefix, o.name FROM route r "
        "JOIN organization o ON o.id = r.org_id WHERE r.id = %s", (route_id,)).fetchone() or (
        0, "", "", "")
    users = {u: (i, n) for u, i, n in conn.execute(
        'SELECT username, id, full_name FROM "user" WHERE org_id = %s', (org_id,))}
    steps = [(p, t) for p, t in conn.execute(
        "SELECT p.id, p.title FROM routestep s JOIN position p ON p.id = s.position_id "
        "WHERE s.route_id = %s ORDER BY s.step_no", (route_id,))]
    if len(steps) != 4:
        raise BenchError(f"the demo route has {len(steps)} steps, not 4")
    return Office(org_id, route_id, unit_line, doc_prefix, users, steps, f"นายก{name}")


def copy_rows(conn: psycopg.Connection[Any], table: str, columns: tuple[str, ...],
              rows: Iterator[tuple[Any, ...]]) -> int:
    written = 0
    with conn.cursor() as cursor, cursor.copy(
            f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)
            written += 1
    return written


def fill(url: str, route_id: int, memos: int, events: int) -> dict[str, int]:
    """COPY the memos, their steps, versions, decisions, register and audit events."""
    rng = random.Random(2569)
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    counts: dict[str, int] = {}
    with psycopg.connect(pg_url(url)) as conn:
        office = load_office(conn, route_id)
        ids = {table: int(conn.execute(f'SELECT coalesce(max(id), 0) FROM "{table}"')
                          .fetchone()[0])  # type: ignore[index]
               for table in ("memo", "memostep", "memoversion", "decision", "registerentry",
                             "auditevent")}
        # Each office has its own chain, numbered from its own head (id = the office's id).
        head = conn.execute("SELECT seq FROM audithead WHERE id = %s",
                            (office.org_id,)).fetchone()
        head_seq = int(head[0]) if head else 0
        plans = plan_memos(memos, ids["memo"] + 1, now, rng)
        last_numbers = issue_numbers(plans, office.doc_prefix)
        for plan in plans:
            plan.hashes = [content_hash(plan, r, office.addressee)
                           for r in range(1, len(plan.rounds) + 1)]
        with_opened = True
        memo_events = sum(count_events(p, True) for p in plans)
        if memo_events > events:
            with_opened = False
            memo_events = sum(count_events(p, False) for p in plans)
        if memo_events > events:
            raise BenchError(f"--events {events:,} is fewer than the memos' own "
                             f"{memo_events:,} events; raise --events or lower --memos")

        clerk_id = office.users["clerk"][0]
        counts["memo"] = copy_rows(conn, "memo", MEMO_COLUMNS, (
            (p.id, office.org_id, route_id, clerk_id, office.unit_line, p.number, p.memo_date,
             p.subject, office.addressee, p.urgency, body_of(p, len(p.rounds)), p.state,
             len(p.rounds), len(p.rounds), 6 if len(p.rounds) == 1 and p.state == "approved"
             else (10 if len(p.rounds) == 2 else int(p.state[-1]) + 1),
             p.created, p.updated, p.submitted) for p in plans))

        step_ids: dict[tuple[int, int, int], int] = {}

        def step_rows() -> Iterator[tuple[Any, ...]]:
            next_id = ids["memostep"]
            for p in plans:
                for round_no, steps in enumerate(p.rounds, start=1):
                    for step_no, s in enumerate(steps, start=1):
                        next_id += 1
                        step_ids[(p.id, round_no, step_no)] = next_id
                        position_id, title = office.steps[step_no - 1]
                        decider = (office.users[ROUTE[step_no - 1]][0]
                                   if s.decided is not None else None)
                        reminded = (s.arrived + timedelta(days=6)
                                    if s.status == "pending" and s.arrived else None)
                        yield (next_id, office.org_id, p.id, round_no, step_no, position_id,
                               title, s.status,
                               s.arrived, s.decided, decider, s.opened,
                               3 if reminded else 0, reminded, None)

        counts["memostep"] = copy_rows(conn, "memostep", STEP_COLUMNS, step_rows())

        def version_rows() -> Iterator[tuple[Any, ...]]:
            next_id = ids["memoversion"]
            for p in plans:
                for revision in range(1, len(p.rounds) + 1):
                    next_id += 1
                    at = p.submitted if revision == 1 else p.resubmitted
                    yield (next_id, office.org_id, p.id, revision, p.subject, office.addressee,
                           p.urgency, body_of(p, revision), "", p.hashes[revision - 1],
                           clerk_id, at)

        counts["memoversion"] = copy_rows(conn, "memoversion", VERSION_COLUMNS, version_rows())

        def decision_rows() -> Iterator[tuple[Any, ...]]:
            next_id = ids["decision"]
            clerk_name = office.users["clerk"][1]
            for p in plans:
                version = 1
                for round_no, steps in enumerate(p.rounds, start=1):
                    revision, digest = round_no, p.hashes[round_no - 1]
                    opening = p.submitted if round_no == 1 else p.resubmitted
                    if round_no == 2:
                        version += 1  # the clerk's edit
                    next_id += 1
                    trigger = "submit" if round_no == 1 else "resubmit"
                    before = "draft" if round_no == 1 else "returned"
                    yield (next_id, office.org_id, p.id, None, round_no, None, trigger,
                           clerk_id, clerk_name,
                           None, "ผู้ร่าง", "", "", None, "", before, "pending_1", version,
                           revision, digest, opening)
                    version += 1
                    for step_no, s in enumerate(steps, start=1):
                        if s.decided is None:
                            continue
                        actor_id, name = office.users[ROUTE[step_no - 1]]
                        position_id, title = office.steps[step_no - 1]
                        state = f"pending_{step_no}"
                        if s.status == "sent_back":
                            action, after, comment = "send_back", "returned", SEND_BACK_REASON
                        else:
                            action, comment = "approve", ENDORSEMENTS[step_no - 1]
                            after = f"pending_{step_no + 1}" if step_no < 4 else "approved"
                        next_id += 1
                        yield (next_id, office.org_id, p.id,
                               step_ids[(p.id, round_no, step_no)], round_no,
                               step_no, action, actor_id, name, position_id, title, comment,
                               title, None, "", state, after, version, revision, digest,
                               s.decided)
                        version += 1

        counts["decision"] = copy_rows(conn, "decision", DECISION_COLUMNS, decision_rows())
        numbered = sorted((p for p in plans if p.number), key=lambda p: p.final)
        counts["registerentry"] = copy_rows(conn, "registerentry", REGISTER_COLUMNS, (
            (ids["registerentry"] + n, office.org_id, p.final.astimezone(OFFICE_TZ).year,
             p.number_seq, p.id, p.number, p.subject, p.final)
            for n, p in enumerate(numbered, start=1)))
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO registercounter (org_id, year, last_number) VALUES (%s, %s, %s)",
                [(office.org_id, year, last) for year, last in sorted(last_numbers.items())])

        start = now - timedelta(days=365 * YEARS)
        merged = heapq.merge(
            memo_event_stream(plans, office, with_opened),
            session_event_stream(events - memo_events, start, now, office, rng))
        last: dict[str, Any] = {"seq": head_seq, "at": None}

        def audit_rows() -> Iterator[tuple[Any, ...]]:
            next_id, seq = ids["auditevent"], head_seq
            for event in merged:
                next_id += 1
                seq += 1
                last["seq"], last["at"] = seq, event[0]
                # Placeholders, not a chain: see the module docstring.
                yield (next_id, office.org_id, seq, event[0], *event[3:], f"{seq - 1:064x}",
                       "", f"{seq:064x}")

        counts["auditevent"] = copy_rows(conn, "auditevent", AUDIT_COLUMNS, audit_rows())
        conn.execute("INSERT INTO audithead (id, seq, hash, last_at) VALUES (%s, %s, %s, %s) "
                     "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, "
                     "last_at = excluded.last_at",
                     (office.org_id, last["seq"], f"{last['seq']:064x}", last["at"]))
        for table in ("memo", "memostep", "memoversion", "decision", "registerentry",
                      "auditevent", "registercounter"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                         f'(SELECT max(id) FROM "{table}"))')
        conn.commit()
    with psycopg.connect(pg_url(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    return counts


# -- the server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """gunicorn in its own process group, so that stopping it stops all its workers."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [*GUNICORN, "--bind", f"127.0.0.1:{self.port}", "wsgi:app"], cwd=ROOT,
                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_until_answers(self) -> None:
        stop = time.monotonic() + START_SECONDS
        while time.monotonic() < stop:
            if self.proc.poll() is not None:
                raise BenchError(f"gunicorn exited ({self.proc.returncode})\n{self.tail()}")
            try:
                requests.get(f"{self.base}/login", timeout=(1, 5))
                return
            except requests.RequestException:
                time.sleep(0.2)
        raise BenchError(f"no answer on {self.base}\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
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


# -- signing in and measuring ---------------------------------------------------------------

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass(frozen=True)
class Login:
    """How one user's requests authenticate: cookies (web) or a bearer token (API)."""

    cookies: requests.cookies.RequestsCookieJar
    token: str


def sign_in(base: str, username: str) -> Login:
    """The login form (with its CSRF token) for the web, POST /api/v1/auth/token for the API."""
    with requests.Session() as http:
        page = http.get(f"{base}/login", timeout=TIMEOUT)
        match = _CSRF.search(page.text)
        if not match:
            raise BenchError("no csrf_token on the login page")
        done = http.post(f"{base}/login", timeout=TIMEOUT, allow_redirects=False,
                         data={"office": DEMO_CODE, "username": username,
                               "password": DEMO_PASSWORD, "csrf_token": match.group(1)})
        if done.status_code != 302:
            raise BenchError(f"web login {username}: {done.status_code} {done.text[:300]}")
        cookies = http.cookies
        issued = http.post(f"{base}/api/v1/auth/token", timeout=TIMEOUT,
                           json={"office": DEMO_CODE, "username": username,
                                 "password": DEMO_PASSWORD})
        if issued.status_code != 201:
            raise BenchError(f"API token {username}: {issued.status_code} {issued.text[:300]}")
        return Login(cookies, issued.json()["token"])


@dataclass
class Page:
    """One row of the table: the URLs a user GETs in turn."""

    label: str
    user: str
    paths: list[str]
    goal: bool = True  # p95 < 25 ms applies
    latencies: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    first_failure: str = ""

    def percentile(self, q: int) -> float:
        if not self.latencies:
            return float("nan")
        if len(self.latencies) == 1:
            return self.latencies[0] * 1000
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[q - 1] * 1000


class Clients:
    """One requests.Session per client thread and user, signed in as that user."""

    def __init__(self, base: str, logins: dict[str, Login], count: int) -> None:
        self.base = base
        self.logins = logins
        self.count = count
        self.sessions: list[dict[str, requests.Session]] = [{} for _ in range(count)]

    def session(self, thread: int, user: str) -> requests.Session:
        sessions = self.sessions[thread]
        if user not in sessions:
            http = requests.Session()
            http.cookies.update(self.logins[user].cookies)
            sessions[user] = http
        return sessions[user]

    def get(self, thread: int, user: str, path: str) -> requests.Response:
        headers = ({"Authorization": f"Bearer {self.logins[user].token}"}
                   if path.startswith("/api/") else {})
        return self.session(thread, user).get(self.base + path, headers=headers,
                                              timeout=TIMEOUT, allow_redirects=False)

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
                    response = self.get(thread, page.user, path)
                    outcome, body = str(response.status_code), response.text
                except requests.RequestException as exc:
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
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def close(self) -> None:
        for sessions in self.sessions:
            for http in sessions.values():
                http.close()


@dataclass(frozen=True)
class Facts:
    """What the pages are built from, read from the filled database."""

    memo_ids: list[int]  # approved memos the head decided on
    number: str
    number_hits: int
    word_hits: int
    waiting: int
    decided: int
    drafted: int
    memos: int
    events: int
    month: tuple[date, date]


def facts_of(url: str, sample: int) -> Facts:
    with psycopg.connect(pg_url(url)) as conn:
        def one(sql: str, *args: Any) -> Any:
            row = conn.execute(sql, args).fetchone()  # type: ignore[call-overload]
            return row[0] if row else None

        head = one("""SELECT id FROM "user" WHERE username = 'head'""")
        clerk = one("""SELECT id FROM "user" WHERE username = 'clerk'""")
        ids = [r[0] for r in conn.execute(
            "SELECT m.id FROM memo m WHERE m.state = 'approved' AND EXISTS (SELECT 1 FROM "
            "decision d WHERE d.memo_id = m.id AND d.actor_id = %s) ORDER BY random() LIMIT %s",
            (head, sample))]
        if not ids:
            raise BenchError("no approved memo the head decided on: is the database filled?")
        number = one("SELECT number FROM memo WHERE id = %s", ids[0])
        # One calendar month, a year before the newest event.
        newest = one("SELECT max(created_at) FROM auditevent").astimezone(OFFICE_TZ).date()
        month_start = date(newest.year - 1, newest.month, 1)
        month_end = (month_start + timedelta(days=32)).replace(day=1)
        return Facts(
            memo_ids=ids, number=number,
            number_hits=one("SELECT count(*) FROM memo WHERE number LIKE %s", f"%{number}%"),
            word_hits=one("SELECT count(*) FROM memo WHERE subject LIKE %s", f"%{WORD}%"),
            waiting=one("SELECT count(*) FROM memostep s JOIN memo m ON m.id = s.memo_id AND "
                        "m.round = s.round JOIN position p ON p.id = s.position_id "
                        "WHERE s.status = 'pending' AND p.holder_id = %s", head),
            decided=one("SELECT count(DISTINCT memo_id) FROM decision WHERE actor_id = %s "
                        "AND action IN ('approve', 'send_back', 'reject')", head),
            drafted=one("SELECT count(*) FROM memo WHERE drafter_id = %s", clerk),
            memos=one("SELECT count(*) FROM memo"),
            events=one("SELECT count(*) FROM auditevent"),
            month=(month_start, month_end - timedelta(days=1)))


def pages_for(facts: Facts) -> list[Page]:
    memo_pages = [f"/memos/{i}" for i in facts.memo_ids]
    memo_json = [f"/api/v1/memos/{i}" for i in facts.memo_ids]
    pdfs = [f"/api/v1/memos/{i}/pdf" for i in facts.memo_ids]
    word, number = quote(WORD), quote(facts.number)
    since, until = (d.isoformat() for d in facts.month)
    waiting, decided = f"{facts.waiting:,} waiting", f"{facts.decided:,} decided"
    return [
        Page(f"web inbox: waiting (head, {waiting})", "head", ["/inbox?tab=waiting"]),
        Page("web inbox: mine (head, 0 drafted)", "head", ["/inbox?tab=mine"]),
        Page(f"web inbox: decided (head, {decided})", "head", ["/inbox?tab=decided"]),
        Page("API box=inbox (head)", "head", ["/api/v1/memos?box=inbox"]),
        Page("API box=mine (head)", "head", ["/api/v1/memos?box=mine"]),
        Page("API box=decided (head)", "head", ["/api/v1/memos?box=decided"]),
        Page("API box=all (head)", "head", ["/api/v1/memos?box=all"]),
        Page(f"web inbox: mine (clerk, {facts.drafted:,} drafted)", "clerk",
             ["/inbox?tab=mine"]),
        Page("API box=mine (clerk)", "clerk", ["/api/v1/memos?box=mine"]),
        Page("API box=all (auditor: all memos)", "auditor", ["/api/v1/memos?box=all"]),
        Page(f"API word search q={WORD} (head; {facts.word_hits:,} hits)", "head",
             [f"/api/v1/memos?q={word}"]),
        Page(f"API word search q={WORD} (auditor)", "auditor", [f"/api/v1/memos?q={word}"]),
        Page(f"web search box q={WORD} (head)", "head", [f"/inbox?q={word}"]),
        Page(f"API number search ({facts.number}; {facts.number_hits} hits, head)", "head",
             [f"/api/v1/memos?number={number}"]),
        Page("web search box number (head)", "head", [f"/inbox?number={number}"]),
        Page("web memo page /memos/<id> (head)", "head", memo_pages),
        Page("API memo JSON /api/v1/memos/<id> (head)", "head", memo_json),
        Page("web audit search: newest (auditor)", "auditor", ["/audit"]),
        Page("API audit search: newest (auditor)", "auditor", ["/api/v1/audit"]),
        Page("web audit search: actor=head", "auditor", ["/audit?actor=head"]),
        Page("web audit search: action=memo_sent_back", "auditor",
             ["/audit?action=memo_sent_back"]),
        Page("web audit search: memo=<number>", "auditor", [f"/audit?memo={number}"]),
        Page(f"web audit search: memo={WORD}", "auditor", [f"/audit?memo={word}"]),
        Page(f"web audit search: one month ({since} to {until})", "auditor",
             [f"/audit?from={since}&to={until}"]),
        Page("API PDF /api/v1/memos/<id>/pdf (head)", "head", pdfs, goal=False),
    ]


def print_table(pages: list[Page]) -> None:
    print("| page | n | p50 ms | p95 ms | goal | met? |")
    print("|---|---:|---:|---:|---|---|")
    for page in pages:
        p95 = page.percentile(95)
        failed = sum(page.failures.values())
        if page.goal:
            goal, met = f"p95 < {GOAL_MS:.0f} ms", "yes" if p95 < GOAL_MS else "**no**"
        else:
            goal, met = "none (PDF)", "–"
        if failed:
            met = f"**no** ({failed} failed)"
        print(f"| {page.label} | {len(page.latencies)} | {page.percentile(50):.1f} | "
              f"{p95:.1f} | {goal} | {met} |")
    for page in pages:
        if page.first_failure:
            print(f"  {page.label}: {dict(page.failures)}; first: {page.first_failure}")


def code_version() -> str:
    def git(*argv: str) -> str:
        done = subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True,
                              timeout=30, check=False)
        return done.stdout.strip()

    dirty = git("status", "--porcelain", "--", "workflow", "wsgi.py", "config.py",
                "templates")
    return git("rev-parse", "--short", "HEAD") + (" + uncommitted changes" if dirty else "")


def measure(url: str, args: argparse.Namespace, redis_url: str, workdir: Path) -> None:
    facts = facts_of(url, args.requests)
    print(f"database: {facts.memos:,} memos, {facts.events:,} audit events; head: "
          f"{facts.waiting:,} waiting, {facts.decided:,} decided; "
          f"load average before measuring: {os.getloadavg()[0]:.1f}")
    server = Server(project_env(url, redis_url, workdir), workdir / "gunicorn.log")
    clients: Clients | None = None
    try:
        server.wait_until_answers()
        logins = {user: sign_in(server.base, user) for user in ("head", "clerk", "auditor")}
        clients = Clients(server.base, logins, args.clients)
        pages = pages_for(facts)
        for page in pages:
            # Warm-up, not counted: every worker and every client connection has served it.
            clients.run(page, args.clients * 4, record=False)
            if page.first_failure:
                raise BenchError(f"{page.label}: {page.first_failure}")
            clients.run(page, args.requests, record=True)
            print(f"  {page.label}: p50 {page.percentile(50):.1f} ms, "
                  f"p95 {page.percentile(95):.1f} ms", flush=True)
        print(f"\nload average after measuring: {os.getloadavg()[0]:.1f} "
              f"({args.clients} clients x {args.requests} requests per page)\n")
        print_table(pages)
    finally:
        if clients is not None:
            clients.close()
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memos", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="measured GETs per page")
    parser.add_argument("--clients", type=int, default=4, help="client threads")
    parser.add_argument("--redis-db", type=int, default=10, help="an empty Redis database")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", metavar="URL",
                        help="measure a database kept by --keep, without filling it")
    args = parser.parse_args()
    if args.memos < 40 or args.requests < 1 or args.clients < 1:
        parser.error("--memos must be at least 40, --requests and --clients at least 1")
    # A TERM unwinds through the finally blocks like Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"
    store = redis.Redis.from_url(redis_url, socket_timeout=5)
    if store.dbsize():
        parser.error(f"redis database {args.redis_db} is not empty; pick another --redis-db")
    print(f"project at {code_version()}; {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    url = args.reuse or ""
    try:
        if not url:
            url = create_database("postgresql", Path("."))  # the folder is for SQLite only
            print(f"database {url}", flush=True)
            app = create_app({**TEST_CONFIG, "DATABASE_URL": url, "REDIS_URL": ""})
            with app.app_context():
                route_id = seed_demo()["route_id"]
            app.extensions["saraban_db"].dispose()
            started = time.perf_counter()
            counts = fill(url, route_id, args.memos, args.events)
            print(f"filled in {time.perf_counter() - started:.0f} s (COPY and VACUUM ANALYZE): "
                  + ", ".join(f"{n:,} {table}" for table, n in counts.items()), flush=True)
        with tempfile.TemporaryDirectory(prefix="saraban-read-") as folder:
            measure(url, args, redis_url, Path(folder))
    except BenchError as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return 1
    finally:
        store.flushdb()
        store.close()
        if url and (args.keep or args.reuse):
            print(f"kept database {url}  (psql {pg_url(url)})")
        elif url:
            drop_database(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
