"""Writing outbox rows, once per ``dedupe_key``, and handing their ids to the worker after
commit."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import current_app
from pydantic_core import PydanticUndefined
from sqlalchemy import Row, bindparam
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from ..db import per_thread
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
    NotificationKind.RETURNED_TO_STEP: "แจ้งส่งกลับให้พิจารณาใหม่",
    NotificationKind.STEP_CLOSED: "แจ้งไม่ต้องพิจารณาแล้ว",
    NotificationKind.REJECTED: "แจ้งไม่อนุมัติ",
    NotificationKind.APPROVED: "แจ้งอนุมัติ",
    NotificationKind.DIGEST: "สรุปประจำวัน",
    NotificationKind.PASSWORD_RESET: "ลิงก์ตั้งรหัสผ่าน",
    NotificationKind.CIRCULATION: "แจ้งเวียน",
    NotificationKind.CIRCULATION_REMINDER: "เตือนรับทราบเรื่องเวียน",
}


STATUS_LABELS = {
    NotificationStatus.PENDING: "รอส่ง",
    NotificationStatus.SENDING: "กำลังส่ง",
    NotificationStatus.SENT: "ส่งแล้ว",
    NotificationStatus.FAILED: "ส่งไม่สำเร็จ",
    NotificationStatus.SKIPPED: "ไม่ส่ง (ตามการตั้งค่าของผู้รับ)",
}


DELIVER_TASK = "workflow.tasks.deliver_notification"


# Rows per INSERT when a sweep queues many: 18 parameters each stays far below what either
# database takes in one statement.
_ROWS_PER_INSERT = 200


def new_row(**values: Any) -> dict[str, Any]:
    """The values of a new outbox row: ``values`` over the columns' defaults. A plain dict,
    not a model instance, because a reminder sweep builds thousands and an instance costs
    far more to make than the email's rendering."""
    row: dict[str, Any] = {}
    for name, info in Notification.model_fields.items():
        if name == "id":
            continue
        if info.default_factory is not None:
            row[name] = info.default_factory()  # type: ignore[call-arg]
        elif info.default is not PydanticUndefined:
            row[name] = info.default
    row.update(values)
    return row


def enqueue(session: Session, row: Notification) -> Notification | None:
    """Add one email to the outbox in the caller's transaction, unless the same one (by its
    ``dedupe_key``) is already there. Returns the row with its id, or None if it was a
    duplicate."""
    ids = enqueue_many(session, [row.model_dump(exclude={"id"})])
    if not ids:
        return None
    row.id = ids[0]
    return row


def enqueue_many(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Add emails (``new_row`` values) to the outbox in the caller's transaction, each unless
    the same one (by its ``dedupe_key``) is already there: no race of web processes, beat
    schedulers or workers queues an email twice. ``INSERT … ON CONFLICT DO NOTHING`` (both
    databases speak it), compiled once and sent a few hundred rows a statement, rather than
    a savepoint around each insert that may fail. Returns the ids of the rows inserted."""
    if not rows:
        return []
    statement = _insert_new(session.get_bind().dialect.name)
    connection = session.connection()
    inserted: dict[str, int] = {}
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        for row_id, key in connection.execute(statement, rows[start:start + _ROWS_PER_INSERT]):
            inserted[key] = row_id
    ids = []
    for row in rows:
        row_id = inserted.pop(row["dedupe_key"], None)  # pop: a key twice is queued once
        if row_id is None:
            _LOGGER.info("notification %s already queued", row["dedupe_key"])
        else:
            ids.append(row_id)
    return ids


@per_thread
def _insert_new(dialect: str) -> Any:
    """``INSERT … ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, dedupe_key``."""
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    table = Notification.__table__  # type: ignore[attr-defined]
    return (insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(table.c.id, table.c.dedupe_key))


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


# What a list of emails shows of each (the memo page's, the admins' outbox): not the
# bodies, which are most of a row (a few kilobytes of HTML and text each) and are never
# shown in a list.
LISTED: tuple[Any, ...] = tuple(col(c) for c in (
    Notification.id, Notification.memo_id, Notification.recipient_id, Notification.email,
    Notification.kind, Notification.reminder_no, Notification.subject, Notification.status,
    Notification.attempts, Notification.last_error, Notification.sent_at,
    Notification.created_at))


@dataclass(frozen=True)
class NotificationView:
    notification: Row[Any]  # the LISTED columns, by name: view.notification.status
    recipient_name: str
    memo_subject: str = ""


def for_memo(memo_id: int) -> list[NotificationView]:
    """The emails queued for one memo, oldest first (the caller has checked access)."""
    rows = db.session.exec(_of_memo(), params={"memo_id": memo_id}).all()
    return [NotificationView(row, row.full_name) for row in rows]


@per_thread  # every memo page asks it
def _of_memo() -> Any:
    return (select(*LISTED, User.full_name)  # type: ignore[call-overload]
            .join(User, User.id == Notification.recipient_id)  # type: ignore[arg-type]
            .where(Notification.memo_id == bindparam("memo_id"))
            .order_by(col(Notification.id)))
