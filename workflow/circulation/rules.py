"""Who may circulate a memo, and when."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from .. import routing
from ..db import per_thread
from ..errors import Conflict, Forbidden, WorkflowError
from ..identity.principal import Principal
from ..models import Decision, Memo, Organization

# The most people one circulation may reach: more than the staff of any อบต. or เทศบาล, few
# enough that one transaction writes them (and their emails) in well under a second.
RECIPIENTS_MAX = 500
# The most positions or divisions one request may name.
POSITIONS_MAX = 200
DIVISIONS_MAX = 50
NOTE_MAX = 200


def final_signer_id(session: Session, memo: Memo,
                    decisions: Sequence[Decision] | None = None) -> int | None:
    """The user whose approval moved the memo to approved (this round's last approval);
    from the memo's ``decisions`` (oldest first) when the caller has read them already."""
    if decisions is not None:
        return next((d.actor_id for d in reversed(decisions)
                     if d.round == memo.round and d.state_after == routing.APPROVED), None)
    return session.exec(_final_signer_statement(),
                        params={"memo_id": memo.id, "round": memo.round}).first()


@per_thread  # every approved memo's page asks it
def _final_signer_statement() -> Any:
    return (select(Decision.actor_id)
            .where(Decision.memo_id == bindparam("memo_id"),
                   Decision.round == bindparam("round"),
                   Decision.state_after == routing.APPROVED)
            .order_by(col(Decision.id).desc()).limit(1))


def circulator_problem(session: Session, principal: Principal, memo: Memo,
                       org: Organization,
                       decisions: Sequence[Decision] | None = None) -> WorkflowError | None:
    """Why ``principal`` may not circulate ``memo`` now (409 not approved, 403 not theirs),
    or None if they may. The memo page asks it to offer the form, passing the decisions it
    has read; the service raises it."""
    if memo.state != routing.APPROVED:
        return Conflict(
            f"แจ้งเวียนได้เฉพาะบันทึกที่อนุมัติแล้ว (บันทึกนี้อยู่ในสถานะ "
            f"\"{routing.state_label(memo.state)}\")",
            f"Only an approved memo may be circulated; this one is {memo.state!r}.",
            code="not_approved", details={"state": memo.state})
    if final_signer_id(session, memo, decisions) == principal.user_id:
        return None
    if memo.drafter_id == principal.user_id:
        if org.drafters_may_circulate:
            return None
        return Forbidden(
            "หน่วยงานนี้ไม่ได้อนุญาตให้ผู้ร่างแจ้งเวียนเอง กรุณาให้ผู้ลงนามคนสุดท้ายเป็นผู้แจ้งเวียน",
            "This office does not let drafters circulate; the final signer may.",
            code="drafter_may_not_circulate")
    return Forbidden(
        "เฉพาะผู้ลงนามคนสุดท้าย (หรือผู้ร่าง หากหน่วยงานอนุญาต) เท่านั้นที่แจ้งเวียนบันทึกนี้ได้",
        "Only the final signer (or the drafter, where the office allows it) may circulate "
        "this memo.", code="not_circulator")
