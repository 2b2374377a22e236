"""Filling a database with years of one office's memos by COPY: the memos drafted by the
clerk on the demo office's four-step route, their steps, versions, decisions, register entries
and audit events. ``bench/read_scale.py`` fills one office with it, ``bench/offices_scale.py``
many; the plan of each memo's life and the rows it becomes are described in
``bench/read_scale.py``'s docstring.

The audit events are either placeholders (``chained=False``: ``hash`` and ``prev_hash`` are
the seq in hex and ``memo_prev_hash`` is empty, which costs nothing to a search but makes
``flask audit verify`` fail) or a real chain (``chained=True``: each event hashed as
``workflow.trail.chain`` does, the office's chain and each memo's own link, so
``flask audit verify --office CODE`` passes and can be timed).
"""

from __future__ import annotations

import hashlib
import heapq
import json
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from bench.harness import BenchError, pg_url
from workflow.demo.seed import ROUTE
from workflow.thai import thai_digits
from workflow.trail.chain import GENESIS, chain_hash

OFFICE_TZ = ZoneInfo("Asia/Bangkok")
YEARS = 10
SECOND_ROUND_SHARE = 0.05  # approved memos that were sent back once and resubmitted

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

def load_office(conn: psycopg.Connection[Any], route_id: int) -> Office:
    org_id, unit_line, doc_prefix, name = conn.execute(
        "SELECT o.id, o.unit_line, o.doc_prefix, o.name FROM route r "
        "JOIN organization o ON o.id = r.org_id WHERE r.id = %s", (route_id,)).fetchone() or (
        0, "", "", "")
    users = {u: (i, n) for u, i, n in conn.execute(
        'SELECT username, id, full_name FROM "user" WHERE org_id = %s', (org_id,))}
    steps = [(p, t) for p, t in conn.execute(
        # Each step of the demo route is a group of one member (route_groups, 0018).
        "SELECT p.id, p.title FROM routestep s JOIN routemember m ON m.route_step_id = s.id "
        "JOIN position p ON p.id = m.position_id WHERE s.route_id = %s ORDER BY s.step_no",
        (route_id,))]
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


def fill(url: str, route_id: int, memos: int, events: int, *,
         chained: bool = False) -> dict[str, int]:
    """One office: COPY the memos, their steps, versions, decisions, register and audit
    events, then VACUUM (ANALYZE) and CHECKPOINT."""
    with psycopg.connect(pg_url(url)) as conn:
        counts = fill_office(conn, route_id, memos, events, random.Random(2569),
                             chained=chained)
        finish(conn)
    vacuum(url)
    return counts


def now_for_fill() -> datetime:
    """The "now" a fill's ten years end at: a few minutes ago, so the run's own events follow."""
    return datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)


def fill_office(conn: psycopg.Connection[Any], route_id: int, memos: int, events: int,
                rng: random.Random, *, chained: bool = False,
                now: datetime | None = None) -> dict[str, int]:
    """COPY ten years of the office of ``route_id`` (its memos, steps, versions, decisions,
    register and audit events) after whatever the database holds; commit."""
    now = now or now_for_fill()
    counts: dict[str, int] = {}
    office = load_office(conn, route_id)
    ids = {table: int(conn.execute(f'SELECT coalesce(max(id), 0) FROM "{table}"')
                      .fetchone()[0])  # type: ignore[index]
           for table in ("memo", "memostep", "memoversion", "decision", "registerentry",
                         "auditevent")}
    # Each office has its own chain, numbered from its own head (id = the office's id).
    head = conn.execute("SELECT seq, hash FROM audithead WHERE id = %s",
                        (office.org_id,)).fetchone()
    head_seq, head_hash = (int(head[0]), str(head[1])) if head else (0, GENESIS)
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
    last: dict[str, Any] = {"seq": head_seq, "hash": head_hash, "at": None}

    def audit_rows() -> Iterator[tuple[Any, ...]]:
        next_id, seq, prev = ids["auditevent"], head_seq, head_hash
        memo_heads: dict[int, str] = {}
        for event in merged:
            next_id += 1
            seq += 1
            if chained:
                memo_id = event[8]
                memo_prev = memo_heads.get(memo_id, GENESIS) if memo_id else ""
                digest = chain_hash(prev, _Hashed(seq, event[0], *event[3:], memo_prev).as_dict())
                if memo_id:
                    memo_heads[memo_id] = digest
                row = (next_id, office.org_id, seq, event[0], *event[3:], prev,
                       memo_prev, digest)
                prev = digest
            else:  # placeholders, not a chain: see the module docstring
                prev = f"{seq:064x}"
                row = (next_id, office.org_id, seq, event[0], *event[3:],
                       f"{seq - 1:064x}", "", prev)
            last["seq"], last["hash"], last["at"] = seq, prev, event[0]
            yield row

    counts["auditevent"] = copy_rows(conn, "auditevent", AUDIT_COLUMNS, audit_rows())
    conn.execute("INSERT INTO audithead (id, seq, hash, last_at) VALUES (%s, %s, %s, %s) "
                 "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, "
                 "last_at = excluded.last_at",
                 (office.org_id, last["seq"], last["hash"], last["at"]))
    conn.commit()
    return counts


@dataclass(slots=True)
class _Hashed:
    """An event's hashed columns, for ``workflow.trail.chain.canonical`` (``as_dict``)."""

    seq: int
    created_at: datetime
    org_id: int
    actor_id: int | None
    actor_name: str
    position_title: str
    action: str
    memo_id: int | None
    state_before: str
    state_after: str
    text: str
    ip: str
    user_agent: str
    details: str
    memo_prev_hash: str

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]


def finish(conn: psycopg.Connection[Any]) -> None:
    """Move every id sequence past the rows COPY wrote, so the app's inserts follow; commit."""
    for table in ("memo", "memostep", "memoversion", "decision", "registerentry",
                  "auditevent", "registercounter"):
        conn.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                     f'(SELECT max(id) FROM "{table}"))')
    conn.commit()


def vacuum(url: str) -> None:
    """Statistics and the visibility map a database that lived years under autovacuum has,
    and its pages on disk, not waiting to be written.

    The fill writes about 1.6 GB at 100,000 memos, past ``max_wal_size`` (1 GB by default),
    and its VACUUM dirties every page again (hint bits, the visibility map). Without the
    CHECKPOINT and the ``sync``, PostgreSQL's checkpointer and the kernel write them back
    over the next minutes (``checkpoint_completion_target`` × ``checkpoint_timeout``, 4.5 min
    by default): while the pages were measured. A run straight after its fill then gave a
    floor of 9.8/16.7 ms p50/p95 and met the goal on 20 of 27 pages; the same database
    measured again two minutes later (``--reuse``), 4.8/10.2 ms and 27 of 27; a new fill with
    the CHECKPOINT, measured straight after it, 4.0/7.4 ms and 25 of 27 (December 7, session
    14). A database that has lived years is not in the middle of being written. CHECKPOINT
    needs a superuser or ``pg_checkpoint``, as the benches' own databases have; the ``sync``
    helps when PostgreSQL runs on this machine, as it does for them."""
    with psycopg.connect(pg_url(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
        conn.execute("CHECKPOINT")
    os.sync()

