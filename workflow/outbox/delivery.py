"""Delivery in the worker: claim a row, send it, mark it sent, or schedule a retry.

A worker claims a row (pending -> sending) before it talks to SMTP and marks it sent
after, so a redelivered task finds nothing to do. Failed sends wait for a retry with
exponential backoff, driven by ``next_attempt_at`` in the database rather than Celery
countdowns, which Redis would redeliver after its visibility timeout.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from .. import clock, mail
from ..extensions import db
from ..models import (
    AuditAction,
    Notification,
    NotificationKind,
    NotificationStatus,
    Organization,
    User,
)
from ..trail.chain import Entry, record

_LOGGER = logging.getLogger(__name__)


def _claim(notification_id: int, now: datetime) -> Notification | None:
    with db.write() as session:
        claimed = session.exec(  # type: ignore[call-overload]
            update(Notification)
            .where(col(Notification.id) == notification_id,
                   col(Notification.status) == NotificationStatus.PENDING,
                   or_(col(Notification.next_attempt_at).is_(None),
                       col(Notification.next_attempt_at) <= now),
                   office_active())
            .values(status=NotificationStatus.SENDING, claimed_at=now,
                    attempts=col(Notification.attempts) + 1)
        )
        if claimed.rowcount != 1:
            return None
        return session.get(Notification, notification_id)


def deliver(notification_id: int) -> str:
    """Send one queued email if it is still ours to send; return what happened."""
    config = current_app.config
    row = _claim(notification_id, clock.now())
    if row is None:
        return "not-due-or-taken"
    with db.write() as session:
        recipient = session.get(User, row.recipient_id)
        org = session.get(Organization, row.org_id)
    try:
        message = mail.build_message(
            sender=config["MAIL_DEFAULT_SENDER"],
            sender_name=f"สารบรรณ {org.name}" if org else "สารบรรณ",
            to=row.email,
            to_name=recipient.full_name if recipient else "",
            subject=row.subject,
            text=row.body_text,
            html=row.body_html,
            message_id=f"<notification-{row.id}@{config.get('MAIL_ID_DOMAIN', 'saraban.local')}>",
        )
        mail.send(config, message)
    except Exception as exc:  # noqa: BLE001 - any failure to build or send is retried
        return _failed(row, exc)
    with db.write() as session:
        # ``attempts`` fences the claim: a worker that outlived its lease finds the row
        # reclaimed (attempts moved on) and writes nothing.
        marked = session.exec(  # type: ignore[call-overload]
            update(Notification)
            .where(col(Notification.id) == notification_id,
                   col(Notification.status) == NotificationStatus.SENDING,
                   col(Notification.attempts) == row.attempts)
            .values(status=NotificationStatus.SENT, sent_at=clock.now(), last_error="")
        )
        if marked.rowcount == 1:
            if row.kind == NotificationKind.PASSWORD_RESET:
                # The live one-time link must not linger in the outbox once it is out.
                session.exec(  # type: ignore[call-overload]
                    update(Notification).where(col(Notification.id) == notification_id)
                    .values(body_text="", body_html=""))
            _audit(session, row, AuditAction.NOTIFICATION_SENT)
    _LOGGER.info("notification %s sent to %s", notification_id, row.email)
    return "sent"


def _audit(session: Session, row: Notification, action: AuditAction, **details: Any) -> None:

    record(session, Entry(
        action, org_id=row.org_id, memo_id=row.memo_id,
        text=row.subject,
        details={"notification_id": row.id, "kind": row.kind, "to": row.email,
                 "recipient_id": row.recipient_id, **details}))


def _failed(row: Notification, exc: Exception) -> str:
    config = current_app.config
    attempts = row.attempts
    give_up = attempts >= int(config["MAIL_MAX_ATTEMPTS"])
    delay = min(float(config["MAIL_RETRY_BASE_SECONDS"]) * 2 ** (attempts - 1),
                float(config["MAIL_RETRY_MAX_SECONDS"]))
    with db.write() as session:
        marked = session.exec(  # type: ignore[call-overload]
            update(Notification)
            .where(col(Notification.id) == row.id,
                   col(Notification.status) == NotificationStatus.SENDING,
                   col(Notification.attempts) == attempts)
            .values(
                status=NotificationStatus.FAILED if give_up else NotificationStatus.PENDING,
                next_attempt_at=None if give_up else clock.now() + timedelta(seconds=delay),
                last_error=f"{type(exc).__name__}: {exc}"[:1000],
            )
        )
        if marked.rowcount == 1:
            _audit(session, row, AuditAction.NOTIFICATION_FAILED,
                   error=f"{type(exc).__name__}: {exc}"[:300], attempt=attempts, final=give_up)
    _LOGGER.warning("notification %s failed (attempt %s%s): %s", row.id, attempts,
                    ", giving up" if give_up else "", exc)
    return "failed" if give_up else "retry"


def sweep(now: datetime | None = None, limit: int = 500) -> list[int]:
    """Free rows whose worker died mid-send, and return the ids that are due now."""
    now = now or clock.now()
    lease = timedelta(seconds=float(current_app.config["NOTIFICATION_LEASE_SECONDS"]))
    with db.write() as session:
        session.exec(  # type: ignore[call-overload]
            update(Notification)
            .where(col(Notification.status) == NotificationStatus.SENDING,
                   col(Notification.claimed_at) < now - lease)
            .values(status=NotificationStatus.PENDING, next_attempt_at=None,
                    last_error="worker stopped during the send; retrying")
        )
        # Fair between offices: each office's oldest first, one office after another, so
        # that one office's backlog cannot hold up another's mail.
        ranked = (
            select(col(Notification.id).label("notification_id"),
                   func.row_number().over(partition_by=col(Notification.org_id),
                                          order_by=col(Notification.id)).label("turn"))
            .where(Notification.status == NotificationStatus.PENDING,
                   or_(col(Notification.next_attempt_at).is_(None),
                       col(Notification.next_attempt_at) <= now),
                   office_active())
            .subquery())
        due = session.exec(
            select(ranked.c.notification_id).order_by(ranked.c.turn, ranked.c.notification_id)
            .limit(limit)
        ).all()
    return [i for i in due if i is not None]


def office_active() -> Any:
    """Not an email of a suspended office: those wait, untouched, for its reactivation."""
    return col(Notification.org_id).not_in(
        select(Organization.id).where(col(Organization.suspended_at).is_not(None)))
