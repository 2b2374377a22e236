"""The audit trail: append-only, hash-chained, searchable.

``record`` appends events inside the caller's transaction, as its last step.
The chain needs one global order, so appending takes a row lock on the one
``audithead`` row; taking it last keeps it held only for the insert and the
commit, never while the memo is being judged or the outbox written. Hashing
one event is a few microseconds of SHA-256 over its canonical JSON.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from .. import clock, thai
from ..errors import Forbidden, Invalid, NotFound
from ..extensions import db
from ..models import AuditAction, AuditEvent, AuditHead, Decision, Memo, User
from .access import require_view
from .common import RequestInfo, office_tz

if TYPE_CHECKING:
    from .accounts import Principal

_LOGGER = logging.getLogger(__name__)

GENESIS = "0" * 64
CHAIN_ACTIONS = {
    "submit": AuditAction.MEMO_SUBMITTED,
    "approve": AuditAction.MEMO_APPROVED,
    "send_back": AuditAction.MEMO_SENT_BACK,
    "resubmit": AuditAction.MEMO_RESUBMITTED,
    "reject": AuditAction.MEMO_REJECTED,
    "withdraw": AuditAction.MEMO_WITHDRAWN,
}
_HASHED = ("seq", "created_at", "org_id", "actor_id", "actor_name", "position_title", "action",
           "memo_id", "state_before", "state_after", "text", "ip", "user_agent", "details",
           "memo_prev_hash")


def canonical(event: Any) -> bytes:
    """The bytes an event's hash covers: its content as sorted, compact JSON."""
    content = {name: getattr(event, name) for name in _HASHED}
    content["created_at"] = event.created_at.isoformat(timespec="microseconds")
    return json.dumps(content, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode()


def chain_hash(prev_hash: str, event: Any) -> str:
    """SHA-256 over the previous event's hash and this event's content."""
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(event)).hexdigest()


def _details(details: dict[str, Any] | None) -> str:
    return json.dumps(details or {}, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)


def _head(session: Session) -> AuditHead:
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is not None:
        return head
    try:
        with session.begin_nested():
            session.add(AuditHead(id=1, seq=0, hash=GENESIS))
    except IntegrityError:
        pass  # another transaction made it first; lock theirs
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).one()
    return head


@dataclass(frozen=True)
class Entry:
    """An event to append, before it has its place in the chain."""

    action: str
    org_id: int | None = None
    actor_id: int | None = None
    actor_name: str = ""
    position_title: str = ""
    memo_id: int | None = None
    state_before: str = ""
    state_after: str = ""
    text: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    request_info: RequestInfo | None = None


def record(session: Session, *entries: Entry) -> list[AuditEvent]:
    """Append events to the chain in the caller's transaction; call it last, just before commit."""
    if not entries:
        return []
    session.flush()  # everything else first, so the head lock is held for the least time
    head = _head(session)
    now = clock.now()
    if head.last_at is not None and head.last_at > now:
        now = head.last_at  # another server's clock ran ahead: never go back in time
    events = []
    memo_heads: dict[int, str] = {}
    for entry in entries:
        info = entry.request_info or RequestInfo()
        memo_prev = ""
        if entry.memo_id is not None:
            if entry.memo_id not in memo_heads:
                memo_heads[entry.memo_id] = session.exec(
                    select(AuditEvent.hash).where(AuditEvent.memo_id == entry.memo_id)
                    .order_by(col(AuditEvent.seq).desc()).limit(1)
                ).first() or GENESIS
            memo_prev = memo_heads[entry.memo_id]
        event = AuditEvent(
            seq=head.seq + 1, created_at=now, org_id=entry.org_id, actor_id=entry.actor_id,
            actor_name=entry.actor_name, position_title=entry.position_title,
            action=str(entry.action), memo_id=entry.memo_id, state_before=entry.state_before,
            state_after=entry.state_after, text=entry.text, ip=info.ip[:64],
            user_agent=info.user_agent[:300], details=_details(entry.details),
            prev_hash=head.hash, memo_prev_hash=memo_prev, hash="",
        )
        event.hash = chain_hash(head.hash, event)
        head.seq, head.hash, head.last_at = event.seq, event.hash, now
        if entry.memo_id is not None:
            memo_heads[entry.memo_id] = event.hash
        session.add(event)
        events.append(event)
    session.add(head)
    return events


# -- verification -----------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """The outcome of a verification: ok, or where the chain first breaks and why."""

    ok: bool
    checked: int
    seq: int | None = None
    reason: str = ""
    reason_en: str = ""


def _walk(session: Session, batch: int = 10_000) -> Iterator[Any]:
    """Every event in chain order, as plain rows (no ORM objects: a million of them add up)."""
    table = AuditEvent.__table__  # type: ignore[attr-defined]
    last = 0
    while True:
        rows = session.execute(
            select(table).where(table.c.seq > last).order_by(table.c.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def _check(event: Any, prev_hash: str) -> tuple[str, str] | None:
    if event.prev_hash != prev_hash:
        return ("ลำดับถูกแทรก ลบ หรือสลับก่อนเหตุการณ์นี้",
                "prev_hash does not match the event before it (inserted, deleted or reordered)")
    if chain_hash(prev_hash, event) != event.hash:
        return ("เนื้อหาของเหตุการณ์นี้ถูกแก้ไข", "content does not match its hash (altered)")
    return None


def verify_chain(session: Session) -> Verdict:
    """Walk the whole chain in order; name the first event that does not hold."""
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    for event in _walk(session):
        if event.seq != expected_seq:
            return Verdict(False, checked, expected_seq,
                           f"เหตุการณ์ลำดับที่ {expected_seq} หายไป",
                           f"event #{expected_seq} is missing (deleted)")
        problem = _check(event, prev_hash)
        if problem:
            return Verdict(False, checked, event.seq, *problem)
        prev_hash, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != expected_seq - 1 or head.hash != prev_hash):
        return Verdict(False, checked, expected_seq,
                       "เหตุการณ์ท้ายสายถูกลบ", "events at the end of the chain were removed")
    return Verdict(True, checked)


def verify_memo(session: Session, memo_id: int) -> Verdict:
    """Check one memo's events, their links on both sides, and that none is missing."""
    events = session.exec(
        select(AuditEvent).where(AuditEvent.memo_id == memo_id).order_by(col(AuditEvent.seq))
    ).all()
    if not events:
        return Verdict(False, 0, None, "ประวัติของบันทึกนี้หายไปทั้งหมด",
                       "the memo's whole history is missing")
    seqs = {e.seq for e in events}
    neighbours = {
        e.seq: e for e in session.exec(
            select(AuditEvent).where(
                col(AuditEvent.seq).in_({s - 1 for s in seqs} | {s + 1 for s in seqs}))
        ).all()
    }
    head = session.get(AuditHead, 1)
    memo_prev = GENESIS
    for event in events:
        if event.memo_prev_hash != memo_prev:
            return Verdict(False, 0, event.seq,
                           "เหตุการณ์ของบันทึกนี้ก่อนหน้าเหตุการณ์นี้หายไปหรือถูกแทรก",
                           "the memo's previous event is missing or was inserted")
        memo_prev = event.hash
        before = neighbours.get(event.seq - 1)
        if event.seq > 1 and before is None:
            return Verdict(False, 0, event.seq - 1, f"เหตุการณ์ลำดับที่ {event.seq - 1} หายไป",
                           f"event #{event.seq - 1} is missing")
        problem = _check(event, before.hash if before else GENESIS)
        if problem:
            return Verdict(False, 0, event.seq, *problem)
        after = neighbours.get(event.seq + 1)
        if after is None and head is not None and head.seq > event.seq:
            return Verdict(False, 0, event.seq + 1, f"เหตุการณ์ลำดับที่ {event.seq + 1} หายไป",
                           f"event #{event.seq + 1} is missing")
        if after is not None and after.prev_hash != event.hash:
            return Verdict(False, 0, after.seq, "ลำดับถูกแทรกหรือสลับหลังเหตุการณ์นี้",
                           "the next event does not link back")
    chain_events = sum(1 for e in events if e.action in CHAIN_ACTIONS.values())
    decisions = len(session.exec(select(Decision.id).where(Decision.memo_id == memo_id)).all())
    if chain_events != decisions:
        return Verdict(False, len(events), None,
                       "จำนวนเหตุการณ์ไม่ตรงกับการพิจารณาที่บันทึกไว้ (มีเหตุการณ์ถูกลบ)",
                       f"{chain_events} chain events for {decisions} decisions")
    return Verdict(True, len(events))


# -- search -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    """A search of the trail; every field optional. Dates are office-local days."""

    memo: str = ""  # ที่ or words of the subject
    memo_id: int | None = None
    actor: str = ""  # username or part of the name
    action: str = ""
    state: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def as_query(self) -> dict[str, str]:
        """The filter as URL parameters (a shareable link)."""
        values = {"memo": self.memo, "memo_id": self.memo_id or "", "actor": self.actor,
                  "action": self.action, "state": self.state,
                  "from": self.date_from.isoformat() if self.date_from else "",
                  "to": self.date_to.isoformat() if self.date_to else ""}
        return {k: str(v) for k, v in values.items() if v}


@dataclass(frozen=True)
class Page:
    events: list[AuditEvent]
    next_before: int | None  # pass as ``before`` for the next (older) page


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, office_tz())


def _memo_ids(session: Session, org_id: int, text_: str) -> list[int]:
    """Memos meant by a search box: a document number if one matches exactly, else subject words."""
    base = select(Memo.id).where(Memo.org_id == org_id)
    by_number = session.exec(base.where(col(Memo.number) == text_)).all()
    if by_number:
        return [i for i in by_number if i is not None]
    # Every word must appear; a trigram index serves LIKE '%word%' on PostgreSQL.
    words = base.where(*(col(Memo.subject).contains(w) for w in text_.split()))
    return [i for i in session.exec(words.limit(5000)).all() if i is not None]


def _actor_ids(session: Session, org_id: int, who: str) -> list[int]:
    query = select(User.id).where(
        User.org_id == org_id,
        or_(col(User.username) == who.lower(), col(User.full_name).contains(who)))
    return [i for i in session.exec(query).all() if i is not None]


def build_query(session: Session, org_id: int, audit_filter: AuditFilter, *,
                before: int | None = None) -> Any:
    """The SELECT behind a search, newest first; every filter it offers has an index.

    Memo and actor filters are resolved to ids first, so that the planner sees a
    short list it can look up in ix_audit_memo_seq / ix_audit_actor_seq.
    """
    if audit_filter.action and audit_filter.action not in set(AuditAction):
        raise Invalid("ไม่รู้จักประเภทเหตุการณ์นี้", f"Unknown action {audit_filter.action!r}.",
                      code="unknown_action")
    query = select(AuditEvent).where(AuditEvent.org_id == org_id)
    if audit_filter.memo_id is not None:
        query = query.where(AuditEvent.memo_id == audit_filter.memo_id)
    if audit_filter.memo.strip():
        query = query.where(
            col(AuditEvent.memo_id).in_(_memo_ids(session, org_id, audit_filter.memo.strip())))
    if audit_filter.actor.strip():
        query = query.where(
            col(AuditEvent.actor_id).in_(_actor_ids(session, org_id, audit_filter.actor.strip())))
    if audit_filter.action:
        query = query.where(AuditEvent.action == audit_filter.action)
    if audit_filter.state:
        query = query.where(AuditEvent.state_after == audit_filter.state)
    # Events are appended in time order, so a date range is also a range of seq: looking up
    # its two ends by (org_id, created_at) lets the main scan walk the seq index directly.
    if audit_filter.date_from:
        start = _day_start(audit_filter.date_from)
        first = (select(AuditEvent.seq)
                 .where(AuditEvent.org_id == org_id, col(AuditEvent.created_at) >= start)
                 .order_by(col(AuditEvent.created_at)).limit(1).scalar_subquery())
        query = query.where(col(AuditEvent.created_at) >= start, col(AuditEvent.seq) >= first)
    if audit_filter.date_to:
        end = _day_start(audit_filter.date_to + timedelta(days=1))
        last = (select(AuditEvent.seq)
                .where(AuditEvent.org_id == org_id, col(AuditEvent.created_at) < end)
                .order_by(col(AuditEvent.created_at).desc()).limit(1).scalar_subquery())
        query = query.where(col(AuditEvent.created_at) < end, col(AuditEvent.seq) <= last)
    if before is not None:
        query = query.where(AuditEvent.seq < before)
    return query.order_by(col(AuditEvent.seq).desc())


def search(principal: Principal, audit_filter: AuditFilter, *, before: int | None = None,
           limit: int = 50) -> Page:
    """Events matching the filter, newest first, paginated by ``seq`` (keyset, no OFFSET)."""
    session = db.session
    if not principal.oversees:
        # Signers and clerks see the trails of memos they may read, one memo at a time.
        if audit_filter.memo_id is None:
            raise Forbidden("เฉพาะผู้ตรวจสอบและผู้ดูแลระบบที่ค้นหาประวัติทั้งหมดได้",
                            "Only auditors and admins may search the whole trail.",
                            code="audit_forbidden")
        memo = session.get(Memo, audit_filter.memo_id)
        if memo is None:
            raise Forbidden("ท่านไม่มีสิทธิ์ดูประวัติของบันทึกนี้", "You may not see this trail.",
                            code="audit_forbidden")
        require_view(session, principal, memo)
    query = build_query(session, principal.org_id, audit_filter, before=before)
    if not principal.oversees and audit_filter.memo_id is not None:
        memo = session.get(Memo, audit_filter.memo_id)
        if memo is not None and memo.drafter_id != principal.user_id:
            query = query.where(~(col(AuditEvent.action).in_(DRAFTING_ACTIONS)
                                  & col(AuditEvent.state_before).in_(("", "draft"))))
    rows = list(session.exec(query.limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, rows[-1].seq if more and rows else None)


def memo_trail(principal: Principal, memo_id: int) -> tuple[Memo, list[AuditEvent], Verdict]:
    """One memo's events, oldest first, with the verdict of the per-memo check."""
    session = db.session
    memo = session.get(Memo, memo_id)
    if memo is None:
        raise NotFound("ไม่พบบันทึกข้อความนี้", "Memo not found.", code="memo_not_found")
    require_view(session, principal, memo)
    events = list(session.exec(
        select(AuditEvent).where(AuditEvent.memo_id == memo_id).order_by(col(AuditEvent.seq))
    ).all())
    verdict = verify_memo(session, memo_id)
    if memo.drafter_id != principal.user_id and not principal.oversees:
        events = [e for e in events if not _drafting(e)]
    return memo, events, verdict


DRAFTING_ACTIONS = {AuditAction.MEMO_CREATED, AuditAction.MEMO_EDITED,
                    AuditAction.ATTACHMENT_ADDED, AuditAction.ATTACHMENT_REMOVED}


def _drafting(event: AuditEvent) -> bool:
    """An event of the drafter's working paper before it was first submitted."""
    return event.action in DRAFTING_ACTIONS and event.state_before in ("", "draft")


def event_dict(event: AuditEvent) -> dict[str, Any]:
    """An event as the API, JSON and CSV exports give it."""
    local = event.created_at.astimezone(office_tz())
    return {
        "seq": event.seq, "time_utc": event.created_at.isoformat(),
        "time_local": local.isoformat(), "action": event.action, "actor_id": event.actor_id,
        "actor_name": event.actor_name, "position": event.position_title,
        "memo_id": event.memo_id, "state_before": event.state_before,
        "state_after": event.state_after, "text": event.text, "ip": event.ip,
        "user_agent": event.user_agent, "details": json.loads(event.details or "{}"),
        "prev_hash": event.prev_hash, "hash": event.hash,
    }


def filter_from_args(args: Any) -> tuple[AuditFilter, int | None, int]:
    """Read a filter, the keyset cursor and the page size from URL parameters.

    Dates may be typed in the Buddhist era (๑/๔/๒๕๖๕) or as ISO dates.
    """
    def day(name: str) -> date | None:
        raw = (args.get(name) or "").strip()
        if not raw:
            return None
        try:
            parsed = thai.parse_date(raw)
            if not 1900 <= parsed.year <= 2500:
                raise ValueError(raw)
            return parsed
        except ValueError:
            raise Invalid(f"วันที่ \"{raw}\" ไม่ถูกต้อง ตัวอย่าง ๑/๔/๒๕๖๕",
                          f"Bad date {raw!r}; use d/m/yyyy (Buddhist era) or yyyy-mm-dd.",
                          code="bad_date") from None

    def number(name: str, default: int | None) -> int | None:
        raw = (args.get(name) or "").strip()
        if not raw:
            return default
        try:
            value = int(thai.arabic_digits(raw))
        except ValueError:
            value = -1
        if not 0 <= value < 2**31:
            raise Invalid(f"{name} ต้องเป็นจำนวนเต็มบวก", f"{name} must be a positive integer.",
                          code="bad_number") from None
        return value

    audit_filter = AuditFilter(
        memo=(args.get("memo") or "").strip()[:200],
        memo_id=number("memo_id", None),
        actor=(args.get("actor") or "").strip()[:200],
        action=(args.get("action") or "").strip(),
        state=(args.get("state") or "").strip()[:30],
        date_from=day("from"),
        date_to=day("to"),
    )
    limit = number("limit", 50) or 50
    return audit_filter, number("before", None), min(max(limit, 1), 500)


def export_rows(principal: Principal, audit_filter: AuditFilter,
                cap: int = 100_000) -> Iterator[dict[str, Any]]:
    """Every event of the filter, newest first, page by page (for CSV and JSON export)."""
    before: int | None = None
    sent = 0
    while sent < cap:
        page = search(principal, audit_filter, before=before, limit=500)
        for event in page.events:
            yield event_dict(event)
        sent += len(page.events)
        if page.next_before is None:
            return
        before = page.next_before
