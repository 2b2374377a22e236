"""The outbox: who is told what, when, and how each email gets out exactly once.

Rows are written by the approval services in the same transaction as the
action (``on_transition``). After commit their ids go to Celery
(``dispatch``); if the broker is down the periodic sweep finds them. A worker
claims a row (pending -> sending) before it talks to SMTP and marks it sent
after, so a redelivered task finds nothing to do. Failed sends wait for a
retry with exponential backoff, driven by ``next_attempt_at`` in the database
rather than Celery countdowns, which Redis would redeliver after its
visibility timeout.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from flask import current_app, render_template
from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from .. import clock, mail, routing, thai
from ..errors import Conflict, NotFound
from ..extensions import db
from ..models import (
    URGENCY_LABELS,
    AuditAction,
    Memo,
    MemoStep,
    Notification,
    NotificationKind,
    NotificationStatus,
    OfficeDay,
    Organization,
    StepStatus,
    Urgency,
    User,
)
from ..officetime import OfficeCalendar
from . import office
from .accounts import Principal, principal_for
from .administration import require_admin
from .common import office_tz

_LOGGER = logging.getLogger(__name__)

INTRO = {
    NotificationKind.ARRIVAL: "มีบันทึกข้อความรอท่านพิจารณา",
    NotificationKind.REMINDER: "ขอเตือน: บันทึกข้อความยังรอท่านพิจารณา (ครั้งที่ {n})",
    NotificationKind.ESCALATION: "บันทึกข้อความของท่านค้างอยู่ที่ {position} เกินกำหนดแล้ว",
    NotificationKind.SENT_BACK: "บันทึกข้อความของท่านถูกส่งกลับให้แก้ไข",
    NotificationKind.REJECTED: "บันทึกข้อความของท่านไม่ได้รับอนุมัติ",
    NotificationKind.APPROVED: "บันทึกข้อความของท่านได้รับการอนุมัติแล้ว",
}
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


# -- office time and policy ------------------------------------------------------


def calendar_for(session: Session, org_id: int) -> OfficeCalendar:
    """The office's calendar: its hours (else the server's), extra holidays and working days."""
    org = session.get(Organization, org_id)
    if org is not None:
        opens, closes = office.hours_of(org)
    else:
        opens, closes = (time.fromisoformat(current_app.config["OFFICE_OPENS"]),
                         time.fromisoformat(current_app.config["OFFICE_CLOSES"]))
    days = session.exec(select(OfficeDay).where(OfficeDay.org_id == org_id)).all()
    return OfficeCalendar(
        tz=office_tz(),
        opens=opens,
        closes=closes,
        extra_holidays=frozenset(d.day for d in days if d.is_holiday),
        extra_working_days=frozenset(d.day for d in days if not d.is_holiday),
    )


def reminder_delay(calendar: OfficeCalendar, org: Organization, urgency: str, *,
                   first: bool) -> timedelta:
    """How much office time passes before the first (or the next) reminder, by the office's
    policy (else the server's REMINDER_POLICY)."""
    # A policy missing an urgency or a box must not stop the sweep for every office.
    entry = office.policy_of(org).get(str(urgency), {})
    text = entry.get("first" if first else "repeat") or entry.get("first") or "1d"
    return calendar.parse_duration(text)


# -- writing rows (inside the caller's transaction) -------------------------------


@dataclass(frozen=True)
class _Context:
    memo: Memo
    org: Organization
    actor_name: str = ""
    actor_position: str = ""
    reason: str = ""


def _render(
    kind: NotificationKind, ctx: _Context, recipient: User, **extra: Any
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
    return (subject, render_template("email/notification.txt", **values),
            render_template("email/notification.html", **values))


def _add(
    session: Session,
    *,
    kind: NotificationKind,
    ctx: _Context,
    recipient: User,
    dedupe_key: str,
    step: MemoStep | None = None,
    reminder_no: int | None = None,
    skip_reason: str = "",
    **extra: Any,
) -> Notification | None:
    """Queue one email, unless the same one (by ``dedupe_key``) is already queued."""
    subject, text, html = _render(kind, ctx, recipient, **extra)
    row = Notification(
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
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        _LOGGER.info("notification %s already queued", dedupe_key)
        return None
    return row


def _answerers(session: Session, memo: Memo, position_id: int, now: datetime) -> list[User]:
    """Who is told that a memo waits at a position: its holder unless away, and every
    officer acting for it on that office day; never the memo's own drafter."""
    from .appointments import answerers

    today = now.astimezone(office_tz()).date()
    return [a.user for a in answerers(session, position_id, today, drafter_id=memo.drafter_id)]


def _arrival(session: Session, ctx: _Context, step: MemoStep,
             recipient: User) -> Notification | None:
    """The "a memo waits for you" email, once per step and person, unless they opted out."""
    skip = ""
    if recipient.daily_digest:
        skip = "ผู้รับเลือกรับสรุปรายวันแทน"
    elif not recipient.notify_arrivals:
        skip = "ผู้รับปิดการแจ้งเตือนเรื่องเข้า"
    return _add(session, kind=NotificationKind.ARRIVAL, ctx=ctx, recipient=recipient,
                dedupe_key=f"arrival:{step.id}:{recipient.id}", step=step, skip_reason=skip)


def announce_waiting(session: Session, *, position_id: int, recipient: User) -> list[int]:
    """Tell someone just appointed to act for a position what already waits there (the
    arrival email they would have had); called before commit, dispatch the ids after."""
    rows = session.exec(
        select(MemoStep, Memo)
        .join(Memo, (Memo.id == MemoStep.memo_id) & (Memo.round == MemoStep.round))  # type: ignore[arg-type]
        .where(MemoStep.position_id == position_id, MemoStep.status == StepStatus.PENDING,
               Memo.drafter_id != recipient.id)
        .order_by(col(MemoStep.arrived_at))
    ).all()
    queued = []
    for step, memo in rows:
        org = session.get(Organization, memo.org_id)
        assert org is not None
        row = _arrival(session, _Context(memo, org), step, recipient)
        if row is not None:
            queued.append(row)
    session.flush()
    return [row.id for row in queued if row.id is not None]


def on_transition(
    session: Session,
    *,
    memo: Memo,
    trigger: str,
    steps: list[MemoStep],
    actor_name: str,
    actor_position: str,
    comment: str,
    now: datetime,
) -> list[Notification]:
    """Queue what a transition tells people; called by the approval services before commit."""
    org = session.get(Organization, memo.org_id)
    assert org is not None
    ctx = _Context(memo, org, actor_name, actor_position, comment)
    rows: list[Notification | None] = []
    step_no = routing.step_of(memo.state)
    if step_no is not None:
        step = steps[step_no - 1]
        calendar = calendar_for(session, org.id or 0)
        step.next_reminder_at = calendar.add(
            now, reminder_delay(calendar, org, memo.urgency, first=True))
        recipients = _answerers(session, memo, step.position_id, now)
        for recipient in recipients:
            rows.append(_arrival(session, ctx, step, recipient))
        if not recipients:
            _LOGGER.warning("memo %s waits at position %s, which nobody answers for", memo.id,
                            step.position_id)
    for step in steps:
        if step.status != StepStatus.PENDING:
            step.next_reminder_at = None
    outcome = {routing.SEND_BACK: NotificationKind.SENT_BACK,
               routing.REJECT: NotificationKind.REJECTED}.get(trigger)
    if memo.state == routing.APPROVED:
        outcome = NotificationKind.APPROVED
    if outcome is not None:
        drafter = session.get(User, memo.drafter_id)
        if drafter is not None and drafter.is_active:
            rows.append(_add(session, kind=outcome, ctx=ctx, recipient=drafter,
                             dedupe_key=f"{outcome}:{memo.id}:{memo.round}:{memo.version}"))
    return [r for r in rows if r is not None]


# -- handing ids to the worker ----------------------------------------------------


def dispatch(notification_ids: list[int]) -> None:
    """Hand freshly committed rows to Celery; if the broker is down, the sweep will."""
    if not notification_ids or not current_app.config.get("REDIS_URL"):
        return
    from ..tasks import deliver_notification

    for notification_id in notification_ids:
        try:
            deliver_notification.delay(notification_id)
        except Exception:  # noqa: BLE001 - any broker failure: the row stays pending
            _LOGGER.warning("broker unavailable; notification %s left for the sweep",
                            notification_id, exc_info=True)
            return


# -- delivery (in the worker) ------------------------------------------------------


def _claim(notification_id: int, now: datetime) -> Notification | None:
    with db.write() as session:
        claimed = session.exec(  # type: ignore[call-overload]
            update(Notification)
            .where(col(Notification.id) == notification_id,
                   col(Notification.status) == NotificationStatus.PENDING,
                   or_(col(Notification.next_attempt_at).is_(None),
                       col(Notification.next_attempt_at) <= now))
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
    from . import audit

    audit.record(session, audit.Entry(
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


# -- the periodic sweeps -------------------------------------------------------------


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
        due = session.exec(
            select(Notification.id)
            .where(Notification.status == NotificationStatus.PENDING,
                   or_(col(Notification.next_attempt_at).is_(None),
                       col(Notification.next_attempt_at) <= now))
            .order_by(col(Notification.id))
            .limit(limit)
        ).all()
    return [i for i in due if i is not None]


def queue_reminders(now: datetime | None = None) -> list[int]:
    """Queue one reminder for each pending step whose reminder is due; escalate after N."""
    now = now or clock.now()
    queued: list[Notification] = []
    calendars: dict[int, OfficeCalendar] = {}
    with db.write() as session:
        due_steps = session.exec(
            select(MemoStep)
            .where(MemoStep.status == StepStatus.PENDING,
                   col(MemoStep.next_reminder_at) <= now)
            .order_by(col(MemoStep.next_reminder_at))
            .limit(500)
            .with_for_update(skip_locked=True)
        ).all()
        for step in due_steps:
            memo = session.get(Memo, step.memo_id)
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
            ctx = _Context(memo, org)
            # The reminder goes to whoever answers for the position today: after an
            # acting officer is appointed, the next reminder is theirs.
            for recipient in _answerers(session, memo, step.position_id, now):
                row = _add(session, kind=NotificationKind.REMINDER, ctx=ctx, recipient=recipient,
                           dedupe_key=f"reminder:{step.id}:{number}:{recipient.id}", step=step,
                           reminder_no=number, n=thai.thai_digits(number))
                if row is not None:
                    queued.append(row)
            step.reminders_sent = number
            step.last_reminded_at = now
            if number >= office.escalation_of(org):  # the office's, else ESCALATE_AFTER
                drafter = session.get(User, memo.drafter_id)
                if drafter is not None and drafter.is_active:
                    row = _add(session, kind=NotificationKind.ESCALATION, ctx=ctx,
                               recipient=drafter, dedupe_key=f"escalation:{step.id}", step=step,
                               position=step.position_title)
                    if row is not None:
                        queued.append(row)
                step.next_reminder_at = None  # escalated: the drafter takes it from here
            else:
                step.next_reminder_at = calendar.add(
                    now, reminder_delay(calendar, org, memo.urgency, first=False))
        session.flush()
        ids = [row.id for row in queued if row.id is not None]
    return ids


def queue_digests(now: datetime | None = None) -> list[int]:
    """Queue the morning summary for everyone who chose it and has memos waiting."""
    now = now or clock.now()
    tz = office_tz()
    today = now.astimezone(tz).date()
    ids: list[int] = []
    with db.write() as session:
        users = session.exec(select(User).where(User.daily_digest == True,  # noqa: E712
                                                User.is_active == True)).all()  # noqa: E712
        for user in users:
            if not calendar_for(session, user.org_id).is_working_day(today):
                continue
            answers_for = principal_for(session, user, today=today).answers_for
            waiting = session.exec(
                select(Memo, MemoStep)
                .join(MemoStep, (MemoStep.memo_id == Memo.id) & (MemoStep.round == Memo.round))  # type: ignore[arg-type]
                .where(MemoStep.status == StepStatus.PENDING,
                       col(MemoStep.position_id).in_(answers_for or {0}))
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
            try:
                with session.begin_nested():
                    session.add(row)
            except IntegrityError:
                continue
            session.flush()
            if row.id is not None:
                ids.append(row.id)
    return ids


# -- reading and admin -----------------------------------------------------------------


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


def outbox(principal: Principal, status: str | None, limit: int = 200) -> list[NotificationView]:
    """The office's outbox for its admins, newest first."""
    require_admin(principal)
    query = (
        select(Notification, User.full_name, Memo.subject)
        .join(User, User.id == Notification.recipient_id)  # type: ignore[arg-type]
        .outerjoin(Memo, Memo.id == Notification.memo_id)  # type: ignore[arg-type]
        .where(Notification.org_id == principal.org_id)
    )
    if status:
        query = query.where(Notification.status == status)
    rows = db.session.exec(query.order_by(col(Notification.id).desc()).limit(limit)).all()
    return [NotificationView(n, name, subject or "") for n, name, subject in rows]


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
