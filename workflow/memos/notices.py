"""What a memo's moves tell people by email: arrival, sent back, rejected, approved.

Rows are written in the same transaction as the action (``on_transition``) and dispatched
after commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlmodel import Session, col, select

from .. import routing
from ..identity.acting import Answerer, answerers_for
from ..models import (
    URGENCY_LABELS,
    Memo,
    MemoStep,
    NotificationKind,
    NotificationStatus,
    Organization,
    StepStatus,
    Urgency,
    User,
    current_round,
    waiting_at,
)
from ..office.calendar import calendar_for, office_tz, reminder_delay
from ..outbox.queue import enqueue_many, new_row

_LOGGER = logging.getLogger(__name__)


INTRO = {
    NotificationKind.ARRIVAL: "มีบันทึกข้อความรอท่านพิจารณา",
    NotificationKind.REMINDER: "ขอเตือน: บันทึกข้อความยังรอท่านพิจารณา (ครั้งที่ {n})",
    NotificationKind.ESCALATION: "บันทึกข้อความของท่านค้างอยู่ที่ {position} เกินกำหนดแล้ว",
    NotificationKind.SENT_BACK: "บันทึกข้อความของท่านถูกส่งกลับให้แก้ไข",
    NotificationKind.RETURNED_TO_STEP: "บันทึกข้อความของท่านถูกส่งกลับให้ {position} พิจารณาใหม่",
    NotificationKind.STEP_CLOSED: "บันทึกข้อความไม่ต้องรอการพิจารณาของท่าน ({position}) แล้ว "
                                  "เนื่องจากลำดับนี้ได้รับความเห็นครบตามที่กำหนด",
    NotificationKind.REJECTED: "บันทึกข้อความของท่านไม่ได้รับอนุมัติ",
    NotificationKind.APPROVED: "บันทึกข้อความของท่านได้รับการอนุมัติแล้ว",
}


@dataclass(frozen=True)
class MemoContext:
    memo: Memo
    org: Organization
    actor_name: str = ""
    actor_position: str = ""
    reason: str = ""


def _render(
    kind: NotificationKind, ctx: MemoContext, recipient: User, **extra: Any
) -> tuple[str, str, str]:
    intro = INTRO[kind].format(**extra)
    urgency = URGENCY_LABELS[Urgency(ctx.memo.urgency)]
    prefix = f"[{urgency}] " if ctx.memo.urgency != Urgency.NORMAL else ""
    subject = f"{prefix}{intro}: {ctx.memo.subject}"
    if len(subject) > 390:
        subject = subject[:389] + "…"
    values = {
        "recipient_name": recipient.full_name,
        "intro": intro,
        "memo": ctx.memo,
        "number": ctx.memo.number or f"{ctx.org.doc_prefix}/(ยังไม่ออกเลข)",
        "urgency": urgency,
        "actor_label": "เสนอโดย" if kind in (NotificationKind.ARRIVAL, NotificationKind.REMINDER)
        else "โดย",
        "actor_name": ctx.actor_name,
        "actor_position": ctx.actor_position,
        "reason": ctx.reason,
        "link": f"{current_app.config['BASE_URL'].rstrip('/')}/memos/{ctx.memo.id}",
        "org_name": ctx.org.name,
    }
    # Straight from the Jinja environment: an email needs none of a page's context, and a
    # sweep renders thousands.
    env = current_app.jinja_env
    return (subject, env.get_template("email/notification.txt").render(values),
            env.get_template("email/notification.html").render(values))


def queue_memo_email(session: Session, **email: Any) -> int | None:
    """Queue one email (see ``memo_email``), unless the same one (by ``dedupe_key``) is
    already queued; its id, or None."""
    return next(iter(enqueue_many(session, [memo_email(**email)])), None)


def memo_email(
    *,
    kind: NotificationKind,
    ctx: MemoContext,
    recipient: User,
    dedupe_key: str,
    step: MemoStep | None = None,
    reminder_no: int | None = None,
    skip_reason: str = "",
    **extra: Any,
) -> dict[str, Any]:
    """One email about a memo, rendered for ``recipient``: the values of its outbox row."""
    subject, text, html = _render(kind, ctx, recipient, **extra)
    return new_row(
        org_id=ctx.memo.org_id,
        memo_id=ctx.memo.id,
        memo_step_id=step.id if step else None,
        recipient_id=recipient.id or 0,
        email=recipient.email,
        kind=kind,
        reminder_no=reminder_no,
        dedupe_key=dedupe_key,
        subject=subject,
        body_text=text,
        body_html=html,
        status=NotificationStatus.SKIPPED if skip_reason else NotificationStatus.PENDING,
        last_error=skip_reason,
    )


def recipients_at(session: Session, memo: Memo, position_id: int, now: datetime,
                  answering: dict[int, list[Answerer]] | None = None) -> list[User]:
    """Who is told that a memo waits at a position: its holder unless away, and every
    officer acting for it on that office day; never the memo's own drafter. A sweep over
    many steps passes ``answering``, looked up once for all their positions."""
    if answering is None:
        answering = answerers_for(session, {position_id}, now.astimezone(office_tz()).date())
    return [a.user for a in answering.get(position_id, []) if a.user.id != memo.drafter_id]


def _arrival(ctx: MemoContext, step: MemoStep, recipient: User) -> dict[str, Any]:
    """The "a memo waits for you" email, once per step and person, unless they opted out."""
    skip = ""
    if recipient.daily_digest:
        skip = "ผู้รับเลือกรับสรุปรายวันแทน"
    elif not recipient.notify_arrivals:
        skip = "ผู้รับปิดการแจ้งเตือนเรื่องเข้า"
    return memo_email(kind=NotificationKind.ARRIVAL, ctx=ctx, recipient=recipient,
                      dedupe_key=f"arrival:{step.key}:{recipient.id}", step=step,
                      skip_reason=skip)


def announce_waiting(session: Session, *, position_id: int, recipient: User) -> list[int]:
    """Tell someone just appointed to act for a position what already waits there (the
    arrival email they would have had); called before commit, dispatch the ids after."""
    rows = session.exec(
        select(MemoStep, Memo)
        .join(Memo, current_round())
        .where(waiting_at({position_id}), Memo.drafter_id != recipient.id)
        .order_by(col(MemoStep.arrived_at))
    ).all()
    emails = []
    for step, memo in rows:
        org = session.get(Organization, memo.org_id)
        assert org is not None
        emails.append(_arrival(MemoContext(memo, org), step, recipient))
    return enqueue_many(session, emails)


def on_transition(
    session: Session,
    *,
    memo: Memo,
    org: Organization,
    trigger: str,
    steps: list[MemoStep],
    opened: list[MemoStep],
    released: list[MemoStep],
    answering: dict[int, list[Answerer]],
    actor_name: str,
    actor_position: str,
    comment: str,
    now: datetime,
) -> list[int]:
    """Queue what a transition tells people; called by the approval services before commit,
    with who answers for the memo's steps (``answering``) already looked up. ``opened`` are
    the rows that now wait (each member of a group has their own arrival email and
    reminders), ``released`` the members whose step closed without them. Returns the ids of
    the emails queued, to dispatch after commit."""
    ctx = MemoContext(memo, org, actor_name, actor_position, comment)
    emails: list[dict[str, Any]] = []
    arrivals: list[tuple[MemoStep, User]] = []
    # Read what the emails need before the first write: each step's reminder time then goes
    # out in the same UPDATE as its new status, not in one of its own.
    with session.no_autoflush:
        if opened:
            calendar = calendar_for(session, org.id or 0)
            first = calendar.add(now, reminder_delay(calendar, org, memo.urgency, first=True))
        for step in opened:
            step.next_reminder_at = first
            recipients = recipients_at(session, memo, step.position_id, now, answering)
            if not recipients:
                _LOGGER.warning("memo %s waits at position %s, which nobody answers for",
                                memo.id, step.position_id)
            arrivals += [(step, recipient) for recipient in recipients]
        for other in steps:
            if other.status != StepStatus.PENDING:
                other.next_reminder_at = None
        told = [(step, recipient) for step in released if step.arrived_at is not None
                for recipient in recipients_at(session, memo, step.position_id, now,
                                               answering)]
    emails += [_arrival(ctx, step, recipient) for step, recipient in arrivals]
    emails += [memo_email(kind=NotificationKind.STEP_CLOSED, ctx=ctx, recipient=recipient,
                          dedupe_key=f"step_closed:{step.key}:{recipient.id}", step=step,
                          position=step.position_title)
               for step, recipient in told]
    outcome = {routing.SEND_BACK: NotificationKind.SENT_BACK,
               routing.REJECT: NotificationKind.REJECTED}.get(trigger)
    if trigger == routing.SEND_BACK and routing.step_of(memo.state) is not None:
        outcome = NotificationKind.RETURNED_TO_STEP
    if memo.state == routing.APPROVED:
        outcome = NotificationKind.APPROVED
    if outcome is not None:
        drafter = session.get(User, memo.drafter_id)
        if drafter is not None and drafter.is_active:
            emails.append(memo_email(
                kind=outcome, ctx=ctx, recipient=drafter,
                dedupe_key=f"{outcome}:{memo.id}:{memo.round}:{memo.version}",
                position=" และ ".join(s.position_title for s in opened)))
    return enqueue_many(session, emails)
