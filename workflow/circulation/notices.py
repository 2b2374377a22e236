"""A circulation's emails: one to each recipient when it is circulated, and reminders by the
office's reminder policy until they acknowledge it.

Rows go into the outbox in the caller's transaction, each under a dedupe key
(``circulation:<memo>:<user>``, ``circulation_reminder:<recipient row>:<n>``), so no retry or
race queues one twice; the ids are dispatched after commit.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import current_app
from sqlmodel import Session, col, select

from .. import clock, thai
from ..extensions import db
from ..models import (
    URGENCY_LABELS,
    CirculationRecipient,
    Memo,
    NotificationKind,
    Organization,
    Urgency,
    User,
)
from ..office.calendar import calendar_for, escalation_of, reminder_delay
from ..officetime import OfficeCalendar
from ..outbox.queue import enqueue_many, new_row

_LOGGER = logging.getLogger(__name__)

INTRO = {
    NotificationKind.CIRCULATION: "มีบันทึกข้อความแจ้งเวียนให้ท่านทราบ",
    NotificationKind.CIRCULATION_REMINDER:
        "ขอเตือน: บันทึกข้อความแจ้งเวียนยังรอท่านกด “ทราบ” (ครั้งที่ {n})",
}


def circulation_email(*, kind: NotificationKind, memo: Memo, org: Organization,
                      recipient: User, dedupe_key: str, circulated_by: str = "",
                      reminder_no: int | None = None) -> dict[str, Any]:
    """One email about a circulated memo, rendered for ``recipient``: its outbox row's values.
    Circulation emails go out whatever the recipient's arrival settings: each is a single
    message asking for one click, not a stream of arrivals."""
    intro = INTRO[kind].format(n=thai.thai_digits(reminder_no or 0))
    urgency = URGENCY_LABELS[Urgency(memo.urgency)]
    subject = f"{intro}: {memo.subject}"
    if len(subject) > 390:
        subject = subject[:389] + "…"
    values = {
        "recipient_name": recipient.full_name, "intro": intro, "memo": memo,
        "number": memo.number or f"{org.doc_prefix}/(ยังไม่ออกเลข)", "urgency": urgency,
        "actor_label": "แจ้งเวียนโดย", "actor_name": circulated_by, "actor_position": "",
        "reason": "",
        "link": f"{current_app.config['BASE_URL'].rstrip('/')}/memos/{memo.id}",
        "org_name": org.name,
    }
    env = current_app.jinja_env
    return new_row(
        org_id=memo.org_id, memo_id=memo.id, recipient_id=recipient.id or 0,
        email=recipient.email, kind=kind, reminder_no=reminder_no, dedupe_key=dedupe_key,
        subject=subject, body_text=env.get_template("email/notification.txt").render(values),
        body_html=env.get_template("email/notification.html").render(values))


def first_reminder_at(calendar: OfficeCalendar, org: Organization, memo: Memo,
                      now: datetime) -> datetime:
    """When a new recipient's first reminder falls due, by the office's policy for the memo's
    urgency, in office time."""
    return calendar.add(now, reminder_delay(calendar, org, memo.urgency, first=True))


# Recipient rows one sweep takes on; the beat runs it again while more are due.
SWEEP_ROWS = 500


def queue_reminders(now: datetime | None = None) -> list[int]:
    """Queue one reminder for each unacknowledged recipient whose reminder is due; after the
    office's escalation count of reminders, stop chasing them (the memo page keeps showing
    who has not acknowledged). Returns the ids of the emails queued."""
    now = now or clock.now()
    emails: list[dict[str, Any]] = []
    calendars: dict[int, OfficeCalendar] = {}
    with db.write() as session:
        due = session.exec(
            select(CirculationRecipient)
            .where(col(CirculationRecipient.next_reminder_at) <= now,
                   col(CirculationRecipient.acknowledged_at).is_(None),
                   col(CirculationRecipient.org_id).not_in(select(Organization.id).where(
                       col(Organization.suspended_at).is_not(None))))
            .order_by(col(CirculationRecipient.next_reminder_at))
            .limit(SWEEP_ROWS)
            .with_for_update(skip_locked=True)
        ).all()
        memos = _by_id(session, Memo, {r.memo_id for r in due})
        users = _by_id(session, User, {r.user_id for r in due})
        for row in due:
            memo, user = memos.get(row.memo_id), users.get(row.user_id)
            org = session.get(Organization, row.org_id)
            if memo is None or user is None or org is None or not user.is_active:
                row.next_reminder_at = None  # nobody left to remind
                continue
            if row.org_id not in calendars:
                calendars[row.org_id] = calendar_for(session, row.org_id)
            calendar = calendars[row.org_id]
            # Judged by today's calendar and policy: a holiday declared since, or a changed
            # policy, moves the reminder.
            anchor = row.last_reminded_at or row.circulated_at
            due_at = calendar.add(anchor, reminder_delay(
                calendar, org, memo.urgency, first=row.reminders_sent == 0))
            if due_at > now:
                row.next_reminder_at = due_at
                continue
            number = row.reminders_sent + 1
            emails.append(circulation_email(
                kind=NotificationKind.CIRCULATION_REMINDER, memo=memo, org=org,
                recipient=user, dedupe_key=f"circulation_reminder:{row.id}:{number}",
                reminder_no=number))
            row.reminders_sent, row.last_reminded_at = number, now
            row.next_reminder_at = (
                None if number >= escalation_of(org)
                else calendar.add(now, reminder_delay(calendar, org, memo.urgency, first=False)))
        ids = enqueue_many(session, emails)
        session.flush()
    if ids:
        _LOGGER.info("queued %d circulation reminder(s)", len(ids))
    return ids


def _by_id(session: Session, model: Any, ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    return {row.id: row for row in session.exec(select(model).where(col(model.id).in_(ids)))}
