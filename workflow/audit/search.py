"""Searching the audit trail: filters, keyset pages, export, and one memo's trail."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, bindparam, func, or_
from sqlmodel import Session, col, select

from ..db import PlanHints, per_thread_upto
from ..dbtypes import UTCDateTime
from ..errors import Forbidden, Invalid, NotFound
from ..extensions import db
from ..identity.access import require_view
from ..identity.principal import Principal
from ..models import (
    AuditAction,
    AuditEvent,
    Memo,
    User,
)
from ..office.calendar import office_tz
from ..trail.verify import Verdict, verify_memo

_LOGGER = logging.getLogger(__name__)


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
    events: list[Any]  # rows of _EVENT_COLUMNS: an AuditEvent's attributes, read-only
    next_before: int | None  # pass as ``before`` for the next (older) page


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, office_tz())


# Past this many memos, a subject search hands the audit query a subquery, not ids. Small:
# fetching ids is a bitmap scan of every match (5,000 of a common word's 12,500 took
# 30-150 ms at 100,000 memos, 500 take under 30), while past a few hundred memos the
# subquery's plan, the trail walked newest first with each memo looked up, is as quick.
_MEMO_IDS_MAX = 500
# Words (office, words) found in more than _MEMO_IDS_MAX subjects when last looked up: for
# five minutes their next searches, the next pages of this one among them, go straight to
# the subquery. Finding the 501st match of a common word read 3,900 index entries (5.6 ms
# for "ซ่อมแซม" at 100,000 memos). Ids or subquery, the same memos are searched.
_IN_MANY_SUBJECTS = PlanHints(seconds=300.0, entries=10_000)


def _memo_ids(session: Session, org_id: int, text_: str) -> list[int] | list[str]:
    """Memos meant by a search box: a document number if one matches exactly, else every
    memo whose subject has all the words. A short list comes back as ids, which the planner
    looks up in ix_audit_memo_seq; past ``_MEMO_IDS_MAX`` memos, as the words themselves,
    for the statement to look the memos up in a subquery, so that no memo is left out (the
    newest ones were, once)."""
    base = select(Memo.id).where(Memo.org_id == org_id)
    if any(character.isdigit() for character in text_):  # every ที่ has a digit, Thai or not
        by_number = session.exec(base.where(col(Memo.number) == text_)).all()
        if by_number:
            return [i for i in by_number if i is not None]
    # Every word must appear; a trigram index serves LIKE '%word%' on PostgreSQL.
    words = text_.split()
    hint = (org_id, tuple(words))
    if hint in _IN_MANY_SUBJECTS:
        return words
    found = session.exec(base.where(*(col(Memo.subject).contains(w) for w in words))
                         .limit(_MEMO_IDS_MAX + 1)).all()
    if len(found) <= _MEMO_IDS_MAX:
        return [i for i in found if i is not None]
    _IN_MANY_SUBJECTS.add(hint)
    return words


def _actor_ids(session: Session, org_id: int, who: str) -> list[int]:
    query = select(User.id).where(
        User.org_id == org_id,
        or_(col(User.username) == who.lower(), col(User.full_name).contains(who)))
    return [i for i in session.exec(query).all() if i is not None]


@dataclass(frozen=True)
class _Shape:
    """Which parts a search's statement has; its values are bound when it runs. Built per
    request, the statement and its cache key took about 0.4 ms of an auditor's page."""

    memo_id: bool = False
    memo_ids: bool = False  # the memos searched for, as a list of ids
    memo_words: int = 0  # ... or as this many words of their subjects (a subquery)
    actors: bool = False
    action: bool = False
    state: bool = False
    date_from: bool = False
    date_to: bool = False
    before: bool = False
    hide_drafting: bool = False  # not the drafter's working paper (a signer's view)


def build_query(session: Session, org_id: int, audit_filter: AuditFilter, *,
                before: int | None = None,
                hide_drafting: bool = False) -> tuple[Any, dict[str, Any]]:
    """The SELECT behind a search, newest first, and its values; every filter it offers has
    an index. Memo and actor filters are resolved to ids first, so that the planner sees a
    short list it can look up in ix_audit_memo_seq / ix_audit_actor_seq."""
    if audit_filter.action and audit_filter.action not in set(AuditAction):
        raise Invalid("ไม่รู้จักประเภทเหตุการณ์นี้", f"Unknown action {audit_filter.action!r}.",
                      code="unknown_action")
    params: dict[str, Any] = {"audit_org_id": org_id}
    shape: dict[str, Any] = {"hide_drafting": hide_drafting}
    if audit_filter.memo_id is not None:
        shape["memo_id"], params["audit_memo_id"] = True, audit_filter.memo_id
    if memo := audit_filter.memo.strip():
        found = _memo_ids(session, org_id, memo)
        if found and isinstance(found[0], str):
            shape["memo_words"] = len(found)
            params.update({f"audit_word_{n}": word for n, word in enumerate(found)})
        else:
            shape["memo_ids"], params["audit_memo_ids"] = True, found
    if actor := audit_filter.actor.strip():
        shape["actors"], params["audit_actor_ids"] = True, _actor_ids(session, org_id, actor)
    for field in ("action", "state"):
        if value := getattr(audit_filter, field):
            shape[field], params[f"audit_{field}"] = True, value
    if audit_filter.date_from:
        shape["date_from"], params["audit_start"] = True, _day_start(audit_filter.date_from)
    if audit_filter.date_to:
        shape["date_to"] = True
        params["audit_end"] = _day_start(audit_filter.date_to + timedelta(days=1))
    if before is not None:
        shape["before"], params["audit_before"] = True, before
    return _statement(_Shape(**shape)), params


@per_thread_upto(32)
def _statement(shape: _Shape) -> Any:
    org_id: Any = bindparam("audit_org_id")
    query = select(*_EVENT_COLUMNS).where(AuditEvent.org_id == org_id)
    if shape.memo_id:
        query = query.where(AuditEvent.memo_id == bindparam("audit_memo_id"))
    if shape.memo_ids:
        query = query.where(col(AuditEvent.memo_id).in_(
            bindparam("audit_memo_ids", expanding=True)))
    if shape.memo_words:
        query = query.where(col(AuditEvent.memo_id).in_(select(Memo.id).where(
            Memo.org_id == org_id,
            *(col(Memo.subject).contains(bindparam(f"audit_word_{n}"))
              for n in range(shape.memo_words)))))
    if shape.actors:
        query = query.where(col(AuditEvent.actor_id).in_(
            bindparam("audit_actor_ids", expanding=True)))
    if shape.action:
        query = query.where(AuditEvent.action == bindparam("audit_action"))
    if shape.state:
        query = query.where(AuditEvent.state_after == bindparam("audit_state"))
    # Events are appended in time order, so a date range is also a range of seq: looking up
    # its two ends by (org_id, created_at) lets the main scan walk the seq index directly.
    # Events may share a time (one whose server's clock was behind takes its predecessor's),
    # so ties go by seq: the first of them opens the range, the last closes it.
    # The times are still checked, for an office whose older events are on the legacy chain
    # of migration 0012 (numbered with every office's events of that time): there, seq and
    # time part. They are checked through COALESCE so that PostgreSQL cannot use them to
    # pick ix_audit_org_created: it then read a whole month by time and sorted it (6,658
    # rows, 15 ms) instead of walking ix_audit_org_seq back from the range's end and
    # stopping at the page (51 rows, under 1 ms).
    moment = func.coalesce(AuditEvent.created_at, AuditEvent.created_at)
    if shape.date_from:
        start = bindparam("audit_start", type_=UTCDateTime())
        first = (select(AuditEvent.seq)
                 .where(AuditEvent.org_id == org_id, col(AuditEvent.created_at) >= start)
                 .order_by(col(AuditEvent.created_at), col(AuditEvent.seq)).limit(1)
                 .scalar_subquery())
        query = query.where(moment >= start, col(AuditEvent.seq) >= first)
    if shape.date_to:
        end = bindparam("audit_end", type_=UTCDateTime())
        last = (select(AuditEvent.seq)
                .where(AuditEvent.org_id == org_id, col(AuditEvent.created_at) < end)
                .order_by(col(AuditEvent.created_at).desc(), col(AuditEvent.seq).desc())
                .limit(1).scalar_subquery())
        query = query.where(moment < end, col(AuditEvent.seq) <= last)
    if shape.before:
        query = query.where(AuditEvent.seq < bindparam("audit_before"))
    if shape.hide_drafting:
        query = query.where(~(col(AuditEvent.action).in_(DRAFTING_ACTIONS)
                              & col(AuditEvent.state_before).in_(("", "draft"))))
    return (query.order_by(col(AuditEvent.seq).desc())
            .limit(bindparam("audit_limit", type_=Integer())))


# A search reads events as rows of their columns, not as AuditEvent objects: nothing changes
# them, and the ORM's tracked objects cost a page of 51 about 1 ms more.
_EVENT_COLUMNS = tuple(getattr(AuditEvent, column.key)
                       for column in AuditEvent.__table__.columns)  # type: ignore[attr-defined]


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
    hide_drafting = False
    if not principal.oversees and audit_filter.memo_id is not None:
        memo = session.get(Memo, audit_filter.memo_id)
        hide_drafting = memo is not None and memo.drafter_id != principal.user_id
    query, params = build_query(session, principal.org_id, audit_filter, before=before,
                                hide_drafting=hide_drafting)
    rows = list(session.exec(query, params={**params, "audit_limit": limit + 1}).all())
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


def event_dict(event: Any, tz: ZoneInfo | None = None) -> dict[str, Any]:
    """An event (an AuditEvent or a search's row) as the API, JSON and CSV exports give it
    (``tz``: the office's time zone, looked up once by a caller that converts a page)."""
    local = event.created_at.astimezone(tz or office_tz())
    return {
        "seq": event.seq, "time_utc": event.created_at.isoformat(),
        "time_local": local.isoformat(), "action": event.action, "actor_id": event.actor_id,
        "actor_name": event.actor_name, "position": event.position_title,
        "memo_id": event.memo_id, "state_before": event.state_before,
        "state_after": event.state_after, "text": event.text, "ip": event.ip,
        "user_agent": event.user_agent, "details": json.loads(event.details or "{}"),
        "prev_hash": event.prev_hash, "hash": event.hash,
    }


def export_rows(principal: Principal, audit_filter: AuditFilter,
                cap: int = 100_000) -> Iterator[dict[str, Any]]:
    """Every event of the filter, newest first, page by page (for CSV and JSON export)."""
    before: int | None = None
    sent = 0
    tz = office_tz()
    while sent < cap:
        page = search(principal, audit_filter, before=before, limit=500)
        for event in page.events:
            yield event_dict(event, tz)
        sent += len(page.events)
        if page.next_before is None:
            return
        before = page.next_before
