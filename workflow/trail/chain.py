"""Appending to the hash chain: one ``auditevent`` row per action, each hashing the one before.

``hash = SHA-256(prev_hash || canonical JSON of the event)``; ``audithead`` holds the end of
the chain. ``record()`` is the last thing a service does before commit, so the head row is
locked only for one insert and the commit.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from .. import clock
from ..models import (
    AuditAction,
    AuditEvent,
    AuditHead,
)


@dataclass(frozen=True)
class RequestInfo:
    """Where an action came from, for the record."""

    ip: str = ""
    user_agent: str = ""


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
