"""Who may read which memo. Checked on the server for every record, page and API call."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from ..errors import Forbidden, NotFound
from ..models import CirculationRecipient, Decision, Memo, MemoStep, StepStatus, waiting_at
from .principal import Principal


def can_view(session: Session, principal: Principal, memo: Memo,
             current_steps: Sequence[MemoStep] = ()) -> bool:
    """The drafter, the office's admins and auditors, anyone on the memo's route once it is
    submitted, and the people it was circulated to; nobody from another office.
    ``current_steps``, the memo's steps of this round when the caller has them loaded,
    answers the common case without a query."""
    if memo.org_id != principal.org_id:
        return False
    if memo.drafter_id == principal.user_id or principal.oversees:
        return True
    if memo.round == 0:
        # A draft never submitted is its drafter's working paper, not yet the signers'.
        return False
    acting_ids = {a.position_id for a in principal.acting}
    if any(s.round == memo.round and (s.position_id in principal.position_ids or (
            s.status == StepStatus.PENDING and s.position_id in acting_ids))
           for s in current_steps):
        return True
    if acting_ids:
        # An acting officer reads what waits at the position now, not its whole history.
        waiting = session.exec(
            select(MemoStep.id).where(
                MemoStep.memo_id == memo.id, MemoStep.round == memo.round,
                waiting_at(acting_ids)
            ).limit(1)
        ).first()
        if waiting is not None:
            return True
    if principal.position_ids:
        on_route = session.exec(
            select(MemoStep.id).where(
                MemoStep.memo_id == memo.id,
                col(MemoStep.position_id).in_(principal.position_ids)
            ).limit(1)
        ).first()
        if on_route is not None:
            return True
    # Someone who decided on it keeps reading it after leaving the position.
    decided = session.exec(
        select(Decision.id).where(
            Decision.memo_id == memo.id, Decision.actor_id == principal.user_id
        ).limit(1)
    ).first()
    if decided is not None:
        return True
    # A memo circulated to someone (แจ้งเวียน) is theirs to read, not the rest of the office's.
    circulated = session.exec(
        select(CirculationRecipient.id).where(
            CirculationRecipient.memo_id == memo.id,
            CirculationRecipient.user_id == principal.user_id
        ).limit(1)
    ).first()
    return circulated is not None


def require_view(session: Session, principal: Principal, memo: Memo,
                 current_steps: Sequence[MemoStep] = ()) -> None:
    """Raise 403 unless the principal may read the memo; 404 if it is another office's, which
    is answered exactly as a memo that does not exist."""
    if memo.org_id != principal.org_id:
        raise NotFound("ไม่พบบันทึกข้อความนี้", "Memo not found.", code="memo_not_found")
    if not can_view(session, principal, memo, current_steps):
        raise Forbidden(
            "ท่านไม่มีสิทธิ์เข้าถึงบันทึกข้อความนี้",
            "You may not see this memo.",
            code="memo_forbidden",
        )
