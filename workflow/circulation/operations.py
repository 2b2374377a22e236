"""The writes of circulation: circulate an approved memo, acknowledge it (ทราบ), and note a
recipient's first opening. Each loads, checks, writes its rows, outbox and audit event in
one unit of work, and hands the emails to the worker only after commit."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, update
from sqlmodel import col, select

from .. import clock
from ..db import per_thread
from ..errors import Conflict, Forbidden, NotFound
from ..extensions import db
from ..identity.access import can_view, require_view
from ..identity.principal import Principal
from ..memos.locking import actor_in, lock_memo
from ..models import (
    AuditAction,
    Circulation,
    CirculationRecipient,
    Memo,
    NotificationKind,
    Organization,
)
from ..office.calendar import calendar_for
from ..outbox.queue import dispatch, enqueue_many
from ..trail.chain import Entry, RequestInfo, record
from ..validation import one_line
from .notices import circulation_email, first_reminder_at
from .recipients import Targets, resolve
from .rules import NOTE_MAX, circulator_problem

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class Circulated:
    """What one circulation did: its row, the recipient rows it added, and who of those
    chosen had the memo already (and were left out)."""

    circulation: Circulation
    recipients: list[CirculationRecipient]
    already: list[int]


def circulate(*, memo_id: int, actor_id: int, targets: Targets,
              request_info: RequestInfo | None = None) -> Circulated:
    """Circulate an approved memo to the people ``targets`` names who have not had it yet:
    a recipient row, one email and a reminder schedule each, and one audit event.

    Raises 404/403 for a memo the actor may not read, 409 for one not approved or when
    everyone chosen has had it already, 403 for someone who may not circulate it, 422 for
    a choice that names nothing, something unknown, nobody or too many."""
    with db.write() as session:
        memo = lock_memo(session, memo_id)
        actor = actor_in(session, actor_id)
        require_view(session, actor, memo)
        org = session.get(Organization, memo.org_id)
        assert org is not None and memo.id is not None
        problem = circulator_problem(session, actor, memo, org)
        if problem is not None:
            raise problem
        resolved = resolve(session, org_id=memo.org_id, targets=targets,
                           circulator_id=actor.user_id)
        had = set(session.exec(select(CirculationRecipient.user_id)
                               .where(CirculationRecipient.memo_id == memo.id)).all())
        new = [person for person in resolved.people if person.id not in had]
        already = [person.id or 0 for person in resolved.people if person.id in had]
        if not new:
            raise Conflict("ผู้รับที่เลือกทุกคนได้รับแจ้งเวียนบันทึกนี้แล้ว",
                           "Everyone chosen has had this memo circulated to them already.",
                           code="already_circulated", details={"already": already})
        now = clock.now()
        circulation = Circulation(
            org_id=memo.org_id, memo_id=memo.id, circulated_by_id=actor.user_id,
            circulated_by_name=actor.full_name, created_at=now, recipient_count=len(new),
            targets=json.dumps(resolved.described, ensure_ascii=False, sort_keys=True))
        session.add(circulation)
        session.flush()
        remind_at = first_reminder_at(calendar_for(session, org.id or 0), org, memo, now)
        rows = [CirculationRecipient(
            org_id=memo.org_id, circulation_id=circulation.id or 0, memo_id=memo.id,
            user_id=person.id or 0, circulated_at=now, next_reminder_at=remind_at)
            for person in new]
        session.add_all(rows)
        email_ids = enqueue_many(session, [circulation_email(
            kind=NotificationKind.CIRCULATION, memo=memo, org=org, recipient=person,
            dedupe_key=f"circulation:{memo.id}:{person.id}", circulated_by=actor.full_name)
            for person in new])
        record(session, Entry(
            AuditAction.MEMO_CIRCULATED, org_id=memo.org_id, actor_id=actor.user_id,
            actor_name=actor.full_name, position_title=", ".join(actor.position_titles)[:200],
            memo_id=memo.id, state_before=memo.state, state_after=memo.state,
            details={"circulation": circulation.id, **resolved.described,
                     "recipients": [person.id for person in new], "already": already},
            request_info=request_info))
    dispatch(email_ids)
    _LOGGER.info("memo %s circulated by user %s to %d people", memo_id, actor_id, len(new))
    return Circulated(circulation, rows, already)


@dataclass(frozen=True)
class Acknowledged:
    recipient: CirculationRecipient
    now: bool  # False when it had been acknowledged already (a second click, a stale tab)


def acknowledge(*, memo_id: int, principal: Principal, note: str = "",
                request_info: RequestInfo | None = None) -> Acknowledged:
    """Record that a recipient has read the circulated memo (ทราบ), with an optional short
    note, and its audit event; a second acknowledgement changes nothing and is no error.

    Raises 404/403 for a memo the principal may not read, 403 if it was not circulated to
    them, 422 for a note too long or on more than one line."""
    note = one_line(note or "", label="หมายเหตุ", field="note", maximum=NOTE_MAX,
                    required=False)
    with db.write() as session:
        row = session.exec(
            select(CirculationRecipient)
            .where(CirculationRecipient.memo_id == memo_id,
                   CirculationRecipient.user_id == principal.user_id)
            .with_for_update()).first()
        memo = session.get(Memo, memo_id)
        if memo is None:
            raise NotFound("ไม่พบบันทึกข้อความนี้", "Memo not found.", code="memo_not_found")
        actor = actor_in(session, principal.user_id)
        if row is None:
            require_view(session, actor, memo)
            raise Forbidden("บันทึกนี้ไม่ได้แจ้งเวียนถึงท่าน จึงไม่ต้องกดทราบ",
                            "This memo was not circulated to you.", code="not_a_recipient")
        if row.acknowledged_at is not None:
            return Acknowledged(row, False)
        now = clock.now()
        row.acknowledged_at, row.note, row.next_reminder_at = now, note, None
        row.opened_at = row.opened_at or now
        session.add(row)
        record(session, Entry(
            AuditAction.MEMO_ACKNOWLEDGED, org_id=memo.org_id, actor_id=actor.user_id,
            actor_name=actor.full_name, position_title=", ".join(actor.position_titles)[:200],
            memo_id=memo.id, state_before=memo.state, state_after=memo.state, text=note,
            details={"circulation": row.circulation_id}, request_info=request_info))
    _LOGGER.info("memo %s acknowledged by user %s", memo_id, principal.user_id)
    return Acknowledged(row, True)


@per_thread  # every memo page asks it
def _unopened() -> Any:
    return (select(CirculationRecipient.id)
            .where(CirculationRecipient.memo_id == bindparam("memo_id"),
                   CirculationRecipient.user_id == bindparam("user_id"),
                   col(CirculationRecipient.opened_at).is_(None)))


def mark_opened(*, memo_id: int, principal: Principal) -> None:
    """Note when a recipient first opens the circulated memo's page. One read in the common
    case (not a recipient, or opened before); the write is a conditional UPDATE, so two tabs
    opened at once keep the first time."""
    pending = db.session.exec(_unopened(), params={
        "memo_id": memo_id, "user_id": principal.user_id}).first()
    if pending is None:
        return
    memo = db.session.get(Memo, memo_id)
    if memo is None or not can_view(db.session, principal, memo):
        return
    with db.write() as session:
        session.exec(update(CirculationRecipient)  # type: ignore[call-overload]
                     .where(col(CirculationRecipient.id) == pending,
                            col(CirculationRecipient.opened_at).is_(None))
                     .values(opened_at=clock.now()))
