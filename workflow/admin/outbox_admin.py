"""The office's outbox for its administrators, and sending a failed email again."""

from __future__ import annotations

from sqlmodel import col, select

from ..errors import Conflict, NotFound
from ..extensions import db
from ..identity.principal import Principal, require_admin
from ..models import (
    Memo,
    Notification,
    NotificationStatus,
    User,
)
from ..outbox.queue import LISTED, NotificationView, dispatch


def outbox(principal: Principal, status: str | None, limit: int = 200) -> list[NotificationView]:
    """The office's outbox for its admins, newest first."""
    require_admin(principal)
    query = (
        select(*LISTED, User.full_name,  # type: ignore[call-overload]
               col(Memo.subject).label("memo_subject"))
        .join(User, User.id == Notification.recipient_id)  # type: ignore[arg-type]
        .outerjoin(Memo, Memo.id == Notification.memo_id)  # type: ignore[arg-type]
        .where(Notification.org_id == principal.org_id)
    )
    if status:
        query = query.where(Notification.status == status)
    rows = db.session.exec(query.order_by(col(Notification.id).desc()).limit(limit)).all()
    return [NotificationView(row, row.full_name, row.memo_subject or "") for row in rows]


def retry(*, notification_id: int, principal: Principal) -> None:
    """An admin sends a failed email again."""
    require_admin(principal)
    with db.write() as session:
        row = session.get(Notification, notification_id)
        if row is None or row.org_id != principal.org_id:
            raise NotFound("ไม่พบรายการนี้", "Notification not found.")
        if row.status != NotificationStatus.FAILED:
            raise Conflict("ส่งใหม่ได้เฉพาะรายการที่ส่งไม่สำเร็จ",
                           "Only failed notifications can be retried.", code="not_failed")
        row.status = NotificationStatus.PENDING
        row.attempts = 0
        row.next_attempt_at = None
    dispatch([notification_id])
