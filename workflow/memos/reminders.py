"""Chasing memos that wait too long: reminders in office time, escalation, the daily digest."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, render_template
from sqlalchemy import func
from sqlmodel import col, select

from .. import clock, thai
from ..extensions import db
from ..identity.acting import answerers_for
from ..identity.principal import principal_for
from ..models import (
    URGENCY_LABELS,
    Memo,
    MemoStep,
    Notification,
    NotificationKind,
    Organization,
    StepStatus,
    Urgency,
    User,
    current_round,
    waiting_at,
)
from ..office.calendar import calendar_for, escalation_of, office_tz, reminder_delay
from ..officetime import OfficeCalendar
from ..outbox.queue import enqueue, enqueue_many
from .notices import MemoContext, memo_email, recipients_at


def queue_reminders(now: datetime | None = None) -> list[int]:
    """Queue one reminder for each pending step whose reminder is due; escalate after N."""
    now = now or clock.now()
    emails: list[dict[str, Any]] = []
    calendars: dict[int, OfficeCalendar] = {}
    with db.write() as session:
        due_steps = session.exec(
            select(MemoStep).where(col(MemoStep.id).in_(_next_due(now)))
            .order_by(col(MemoStep.next_reminder_at))
            .with_for_update(skip_locked=True)
        ).all()
        # What every due step needs, read once per sweep rather than once per step: the
        # memos, and who answers for their positions today.
        memos = {m.id: m for m in session.exec(
            select(Memo).where(col(Memo.id).in_({s.memo_id for s in due_steps}))).all()}
        answering = answerers_for(session, {s.position_id for s in due_steps},
                                  now.astimezone(office_tz()).date())
        for step in due_steps:
            memo = memos.get(step.memo_id)
            if memo is None or memo.round != step.round:
                step.next_reminder_at = None
                continue
            org = session.get(Organization, memo.org_id)
            assert org is not None and org.id is not None
            if org.id not in calendars:  # one calendar query per office, not per step
                calendars[org.id] = calendar_for(session, org.id)
            calendar = calendars[org.id]
            # Judge the due time by today's calendar: a holiday declared after the memo
            # arrived still pushes its reminder back.
            anchor = step.last_reminded_at or step.arrived_at or now
            due = calendar.add(anchor, reminder_delay(calendar, org, memo.urgency,
                                                      first=step.reminders_sent == 0))
            if due > now:
                step.next_reminder_at = due
                continue
            number = step.reminders_sent + 1
            ctx = MemoContext(memo, org)
            # The reminder goes to whoever answers for the position today: after an
            # acting officer is appointed, the next reminder is theirs.
            for recipient in recipients_at(session, memo, step.position_id, now, answering):
                emails.append(memo_email(
                    kind=NotificationKind.REMINDER, ctx=ctx, recipient=recipient,
                    dedupe_key=f"reminder:{step.key}:{number}:{recipient.id}", step=step,
                    reminder_no=number, n=thai.thai_digits(number)))
            step.reminders_sent = number
            step.last_reminded_at = now
            if number >= escalation_of(org):  # the office's, else ESCALATE_AFTER
                drafter = session.get(User, memo.drafter_id)
                if drafter is not None and drafter.is_active:
                    emails.append(memo_email(
                        kind=NotificationKind.ESCALATION, ctx=ctx, recipient=drafter,
                        dedupe_key=f"escalation:{step.key}", step=step,
                        position=step.position_title))
                step.next_reminder_at = None  # escalated: the drafter takes it from here
            else:
                step.next_reminder_at = calendar.add(
                    now, reminder_delay(calendar, org, memo.urgency, first=False))
        # The sweep's emails in a few multi-row inserts, and its steps in one executemany.
        ids = enqueue_many(session, emails)
        session.flush()
    return ids


# Steps one sweep takes on; the beat runs it again straight away while more are due.
SWEEP_STEPS = 500


def _next_due(now: datetime) -> Any:
    """The ids of the next due steps, fair between offices: each office's most overdue
    first, one office after another, so that one office's backlog cannot hold up another's
    reminders. A suspended office's steps wait, untouched, for its reactivation."""
    ranked = (
        select(col(MemoStep.id).label("step_id"), col(MemoStep.next_reminder_at).label("due"),
               func.row_number().over(
                   partition_by=col(MemoStep.org_id),
                   order_by=(col(MemoStep.next_reminder_at), col(MemoStep.id))).label("turn"))
        .where(MemoStep.status == StepStatus.PENDING, col(MemoStep.next_reminder_at) <= now,
               col(MemoStep.org_id).not_in(select(Organization.id).where(
                   col(Organization.suspended_at).is_not(None))))
        .subquery())
    return (select(ranked.c.step_id).order_by(ranked.c.turn, ranked.c.due)
            .limit(SWEEP_STEPS))


def queue_digests(now: datetime | None = None) -> list[int]:
    """Queue the morning summary for everyone who chose it and has memos waiting."""
    now = now or clock.now()
    tz = office_tz()
    today = now.astimezone(tz).date()
    ids: list[int] = []
    with db.write() as session:
        users = session.exec(
            select(User).join(Organization, col(Organization.id) == col(User.org_id))
            .where(User.daily_digest == True, User.is_active == True,  # noqa: E712
                   col(Organization.suspended_at).is_(None))).all()
        for user in users:
            if not calendar_for(session, user.org_id).is_working_day(today):
                continue
            answers_for = principal_for(session, user, today=today).answers_for
            waiting = session.exec(
                select(Memo, MemoStep)
                .join(MemoStep, current_round())
                .where(waiting_at(answers_for))
                .order_by(col(MemoStep.arrived_at))
            ).all() if answers_for else []
            if not waiting:
                continue
            org = session.get(Organization, user.org_id)
            assert org is not None
            base = current_app.config["BASE_URL"].rstrip("/")
            items = [{"subject": m.subject, "urgency": URGENCY_LABELS[Urgency(m.urgency)],
                      "arrived": thai.format_datetime(s.arrived_at, tz=tz.key),
                      "link": f"{base}/memos/{m.id}"} for m, s in waiting]
            values = {"recipient_name": user.full_name, "items": items, "org_name": org.name,
                      "today": thai.format_date(today)}
            row = Notification(
                org_id=user.org_id, recipient_id=user.id or 0, email=user.email,
                kind=NotificationKind.DIGEST, dedupe_key=f"digest:{user.id}:{today.isoformat()}",
                subject=f"สรุปบันทึกข้อความรอท่านพิจารณา {thai.thai_digits(len(items))} เรื่อง "
                        f"({thai.format_date(today)})",
                body_text=render_template("email/digest.txt", **values),
                body_html=render_template("email/digest.html", **values),
            )
            if enqueue(session, row) is None:
                continue
            session.flush()
            if row.id is not None:
                ids.append(row.id)
    return ids
