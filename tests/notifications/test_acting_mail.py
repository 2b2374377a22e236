"""Acting officers get the position's emails: real messages in a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from sqlmodel import col, select

from tests.admin.test_administration import add_finance_director, appoint, to_step
from workflow.extensions import db
from workflow.memos import reminders as reminder_sweep
from workflow.models import MemoStep, Notification, NotificationKind, NotificationStatus
from workflow.outbox import delivery

if TYPE_CHECKING:
    from tests.conftest import ApiClient, SmtpSink


@pytest.fixture
def app(make_app: Any, smtp_server: Any) -> Flask:
    """The app sending mail to the aiosmtpd sink; no broker, so the test delivers by hand."""
    return make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port,  # type: ignore[no-any-return]
                    REDIS_URL="")


def deliver_pending(app: Flask) -> None:
    with app.app_context():
        for notification_id in db.session.exec(select(Notification.id).where(
                Notification.status == NotificationStatus.PENDING)).all():
            assert notification_id is not None
            delivery.deliver(notification_id)


def test_arrival_and_reminders_reach_the_acting_officer_not_the_absent_holder(
        app: Flask, demo: dict[str, int], api: ApiClient, smtp_server: SmtpSink) -> None:
    add_finance_director(app)
    appoint(app, "finance")
    deliver_pending(app)
    smtp_server.messages.clear()

    to_step(api, demo["memo_id"], 3)
    deliver_pending(app)
    [arrival] = smtp_server.to("finance@example.com")
    assert "มีบันทึกข้อความรอท่านพิจารณา" in str(arrival["Subject"])
    text = arrival.get_body(preferencelist=("plain",)).get_content()
    assert "นายประหยัด คลังดี" in text and f"/memos/{demo['memo_id']}" in text
    assert not smtp_server.to("permsec@example.com")

    with app.app_context():
        step = db.session.exec(select(MemoStep).where(
            MemoStep.memo_id == demo["memo_id"], MemoStep.status == "pending")).one()
        due = step.next_reminder_at
        assert due is not None
        queued = reminder_sweep.queue_reminders(due + timedelta(minutes=1))
        assert len(queued) == 1
    deliver_pending(app)
    reminders = [m for m in smtp_server.to("finance@example.com") if m is not arrival]
    assert len(reminders) == 1
    assert "ขอเตือน: บันทึกข้อความยังรอท่านพิจารณา (ครั้งที่ ๑)" in str(reminders[0]["Subject"])
    assert not smtp_server.to("permsec@example.com")
    with app.app_context():
        rows = db.session.exec(select(Notification).where(
            Notification.memo_id == demo["memo_id"]).order_by(col(Notification.id))).all()
        sent_to = [(r.kind, r.email, r.status) for r in rows if r.email.startswith("finance")]
        assert sent_to == [
            (NotificationKind.ARRIVAL, "finance@example.com", NotificationStatus.SENT),
            (NotificationKind.REMINDER, "finance@example.com", NotificationStatus.SENT)]


def test_an_officer_appointed_while_a_memo_waits_hears_of_it_at_once(
        app: Flask, demo: dict[str, int], api: ApiClient, smtp_server: SmtpSink) -> None:
    add_finance_director(app)
    to_step(api, demo["memo_id"], 3)
    deliver_pending(app)
    assert not smtp_server.to("finance@example.com")
    appoint(app, "finance")
    deliver_pending(app)
    [arrival] = smtp_server.to("finance@example.com")
    assert "มีบันทึกข้อความรอท่านพิจารณา" in str(arrival["Subject"])
