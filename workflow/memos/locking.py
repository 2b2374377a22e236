"""Loading a memo to change it: the row lock, the actor as the transaction sees them, the
version a stale tab carries, and the rule of who may edit."""

from __future__ import annotations

from sqlmodel import Session, select

from .. import routing
from ..errors import Conflict, Forbidden, NotFound
from ..identity.access import require_view
from ..identity.principal import Principal, principal_for
from ..models import (
    Memo,
    User,
)


def lock_memo(session: Session, memo_id: int) -> Memo:
    """Load the memo and hold it until commit (FOR NO KEY UPDATE on PostgreSQL; SQLite's
    IMMEDIATE transaction already excludes other writers)."""
    memo = session.exec(select(Memo).where(Memo.id == memo_id)
                        .with_for_update(key_share=True)).first()  # see loaded.load_memo
    if memo is None:
        raise NotFound("ไม่พบบันทึกข้อความนี้", "Memo not found.", code="memo_not_found")
    return memo


def actor_in(session: Session, actor_id: int) -> Principal:
    """The actor as the database knows them inside this transaction, not as the session cached."""
    user = session.get(User, actor_id)
    if user is None or not user.is_active:
        raise Forbidden("บัญชีผู้ใช้นี้ถูกระงับ", "This account is not active.", code="inactive")
    return principal_for(session, user)


def check_version(memo: Memo, expected: int | None) -> None:
    if expected is not None and expected != memo.version:
        raise Conflict(
            "บันทึกนี้มีการเปลี่ยนแปลงหลังจากที่ท่านเปิดไว้ กรุณาตรวจสอบสถานะล่าสุดก่อนดำเนินการอีกครั้ง",
            "The memo changed since you opened it; reload and try again.",
            code="stale_version",
            details={"version": memo.version},
        )


def require_editable(memo: Memo, actor_id: int) -> None:
    """Only the drafter changes a memo, and only while it is a draft or sent back."""
    if memo.drafter_id != actor_id:
        raise Forbidden(
            "เฉพาะผู้ร่างเท่านั้นที่แก้ไขบันทึกนี้ได้",
            "Only the drafter may edit this memo.",
            code="not_drafter",
        )
    if not routing.is_editable(memo.state):
        raise Conflict(
            f"แก้ไขไม่ได้ เนื่องจากบันทึกอยู่ในสถานะ \"{routing.state_label(memo.state)}\"",
            f"A memo in state {memo.state!r} cannot be edited.",
            code="not_editable",
            details={"state": memo.state},
        )


def lock_for_editing(session: Session, *, memo_id: int, actor_id: int) -> tuple[Memo, Principal]:
    """Lock a memo its drafter is about to change (text or attachments)."""
    memo = lock_memo(session, memo_id)
    actor = actor_in(session, actor_id)
    require_view(session, actor, memo)
    require_editable(memo, actor.user_id)
    return memo, actor
