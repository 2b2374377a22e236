"""One sweep serves every office, fairly: a busy office's backlog does not hold up a small
office's reminders or emails."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from sqlmodel import select

from tests.factories import make_memo, make_office, make_position, make_route, make_user
from workflow import clock, routing
from workflow.extensions import db
from workflow.memos import reminders
from workflow.models import MemoStep, Notification, Role
from workflow.outbox import delivery


def _office_with_waiting(session: Any, memos: int) -> int:
    office = make_office(session)
    drafter = make_user(session, office=office)
    signer = make_user(session, office=office, roles=Role.SIGNER)
    make_route(session, office=office, positions=[make_position(session, office=office,
                                                                holder=signer)])
    for _ in range(memos):
        make_memo(session, drafter=drafter, state=routing.pending(1))
    return office.id or 0


def test_a_small_office_is_reminded_in_the_first_sweep_beside_a_busy_one(
        app: Flask, monkeypatch: Any) -> None:
    monkeypatch.setattr(reminders, "SWEEP_STEPS", 4)
    with app.app_context():
        with db.write() as session:
            busy = _office_with_waiting(session, 12)
            small = _office_with_waiting(session, 1)
        later = clock.now() + timedelta(days=30)
        queued = reminders.queue_reminders(later)
        offices = {n.org_id for n in db.session.exec(
            select(Notification).where(Notification.id.in_(queued))).all()}  # type: ignore[union-attr]
        assert offices == {busy, small} and len(queued) == 4
        while reminders.queue_reminders(later):
            pass
        reminded = db.session.exec(select(MemoStep).where(MemoStep.reminders_sent == 1)).all()
        assert len(reminded) == 13  # and every step exactly once


def test_the_outbox_sweep_takes_turns_between_offices(app: Flask) -> None:
    with app.app_context():
        with db.write() as session:
            busy = _office_with_waiting(session, 8)
            small = _office_with_waiting(session, 1)
        due = delivery.sweep(limit=2)
        rows = db.session.exec(select(Notification).where(
            Notification.id.in_(due))).all()  # type: ignore[union-attr]
        assert {row.org_id for row in rows} == {busy, small}
