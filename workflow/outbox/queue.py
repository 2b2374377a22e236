"""Writing outbox rows, once per ``dedupe_key``, and handing their ids to the worker after
commit."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from ..extensions import db
from ..jobs import BrokerCircuit
from ..models import (
    Notification,
    NotificationKind,
    NotificationStatus,
    User,
)

_LOGGER = logging.getLogger(__name__)


KIND_LABELS = {
    NotificationKind.ARRIVAL: "แจ้งเรื่องเข้า",
    NotificationKind.REMINDER: "เตือน",
    NotificationKind.ESCALATION: "แจ้งเรื่องค้าง",
    NotificationKind.SENT_BACK: "แจ้งส่งกลับแก้ไข",
    NotificationKind.REJECTED: "แจ้งไม่อนุมัติ",
    NotificationKind.APPROVED: "แจ้งอนุมัติ",
    NotificationKind.DIGEST: "สรุปประจำวัน",
    NotificationKind.PASSWORD_RESET: "ลิงก์ตั้งรหัสผ่าน",
}


STATUS_LABELS = {
    NotificationStatus.PENDING: "รอส่ง",
    NotificationStatus.SENDING: "กำลังส่ง",
    NotificationStatus.SENT: "ส่งแล้ว",
    NotificationStatus.FAILED: "ส่งไม่สำเร็จ",
    NotificationStatus.SKIPPED: "ไม่ส่ง (ตามการตั้งค่าของผู้รับ)",
}


DELIVER_TASK = "workflow.tasks.deliver_notification"


def enqueue(session: Session, row: Notification) -> Notification | None:
    """Add one email to the outbox in the caller's transaction, unless the same one (by its
    ``dedupe_key``) is already there: no race of web processes, beat schedulers or workers
    queues an email twice. One ``INSERT … ON CONFLICT DO NOTHING`` (both databases speak
    it), rather than a savepoint around an insert that may fail. Returns the row with its
    id, or None if it was a duplicate."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (insert(Notification).values(**row.model_dump(exclude={"id"}))
                 .on_conflict_do_nothing(index_elements=["dedupe_key"])
                 .returning(col(Notification.id)))
    row.id = session.execute(statement).scalar_one_or_none()
    if row.id is None:
        _LOGGER.info("notification %s already queued", row.dedupe_key)
        return None
    return row


def dispatch(notification_ids: list[int]) -> None:
    """Hand freshly committed rows to the worker; if the broker is down, the sweep will.

    The task is named, not imported: the outbox sits below the tasks that call into it."""
    config = current_app.config
    if not notification_ids or not config.get("REDIS_URL"):
        return
    circuit: BrokerCircuit = current_app.extensions["broker_circuit"]
    if circuit.is_open():
        _LOGGER.info("broker marked down; %d notification(s) left for the sweep",
                     len(notification_ids))
        return
    celery = current_app.extensions["celery"]
    for notification_id in notification_ids:
        try:
            celery.send_task(DELIVER_TASK, args=[notification_id])
        except Exception:  # noqa: BLE001 - any broker failure: the row stays pending
            circuit.trip(float(config["BROKER_CIRCUIT_SECONDS"]))
            _LOGGER.warning("broker unavailable; notification %s left for the sweep, broker "
                            "skipped for %.0f s", notification_id,
                            float(config["BROKER_CIRCUIT_SECONDS"]), exc_info=True)
            return
    circuit.reset()


@dataclass(frozen=True)
class NotificationView:
    notification: Notification
    recipient_name: str
    memo_subject: str = ""


def for_memo(memo_id: int) -> list[NotificationView]:
    """The emails queued for one memo, oldest first (the caller has checked access)."""
    rows = db.session.exec(
        select(Notification, User.full_name)
        .join(User, User.id == Notification.recipient_id)  # type: ignore[arg-type]
        .where(Notification.memo_id == memo_id)
        .order_by(col(Notification.id))
    ).all()
    return [NotificationView(n, name) for n, name in rows]
