"""The outgoing register (ทะเบียนหนังสือส่ง): document numbers, once each, without gaps.

A number is ``<office prefix>/<running number>``, the running number restarting
each 1 January (office time zone). It is issued inside the transaction of the
action that earns it, under a lock on that year's counter row: concurrent
approvals queue for the counter, and a transaction that rolls back takes its
number back with it, so the register has no gaps and never reuses a number.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from .. import thai
from ..errors import Forbidden
from ..extensions import db
from ..identity.principal import Principal
from ..models import Memo, Organization, RegisterCounter, RegisterEntry, Role
from ..office.calendar import office_tz


def _counter(session: Session, org_id: int, year: int) -> RegisterCounter:
    query = select(RegisterCounter).where(
        RegisterCounter.org_id == org_id, RegisterCounter.year == year).with_for_update()
    counter = session.exec(query).first()
    if counter is None:
        try:
            with session.begin_nested():
                session.add(RegisterCounter(org_id=org_id, year=year, last_number=0))
        except IntegrityError:
            pass  # another approval opened the year first; queue for its row
        counter = session.exec(query).one()
    return counter


def issue_number(session: Session, *, memo: Memo, org: Organization, now: datetime) -> str:
    """Give ``memo`` the next number of this year's register, and date it today."""
    if memo.number:
        return memo.number  # issued once, never again
    today = now.astimezone(office_tz()).date()
    counter = _counter(session, org.id or 0, today.year)
    counter.last_number += 1
    running = str(counter.last_number)
    if org.thai_digits:
        running = thai.thai_digits(running)
    document_number = f"{org.doc_prefix}/{running}" if org.doc_prefix else running
    memo.number = document_number
    memo.memo_date = today
    session.add(RegisterEntry(
        org_id=org.id or 0, year=today.year, number=counter.last_number, memo_id=memo.id or 0,
        document_number=document_number, subject=memo.subject, issued_at=now,
    ))
    return document_number


def entries(principal: Principal, year: int) -> list[RegisterEntry]:
    """The numbers issued in ``year`` (Christian), latest first, for the office's staff."""
    if not principal.has_role(Role.CLERK, Role.ADMIN, Role.AUDITOR):
        raise Forbidden("เฉพาะเจ้าหน้าที่ธุรการ ผู้ดูแลระบบ และผู้ตรวจสอบ ที่ดูทะเบียนหนังสือส่งได้",
                        "Only clerks, admins and auditors may read the register.",
                        code="register_forbidden")
    return list(db.session.exec(
        select(RegisterEntry).where(RegisterEntry.org_id == principal.org_id,
                                    RegisterEntry.year == year)
        .order_by(col(RegisterEntry.number).desc())
    ).all())
