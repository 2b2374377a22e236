"""Acting appointments (รักษาราชการแทน / ปฏิบัติราชการแทน): who answers for a position today.

A position is answered for by its holder, unless an appointment in force says the
holder is away, and by every officer appointed to act for it. The inbox, the
reminders, the actions on offer and the signature block all ask this module, so
the rule lives in one place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, or_, select

from .. import clock
from ..errors import Conflict, Forbidden, Invalid
from ..extensions import db
from ..models import (
    CAPACITY_LABELS,
    Appointment,
    Capacity,
    Organization,
    Position,
    User,
)
from . import notifications
from .administration import office_record, one_line, record_change
from .common import RequestInfo, office_today

if TYPE_CHECKING:
    from .accounts import Principal

ORDER_NO_MAX = 100
NOTE_MAX = 300


@dataclass(frozen=True)
class ActingRole:
    """One appointment in force, as the principal carries it."""

    appointment_id: int
    position_id: int
    position_title: str
    capacity: str
    order_no: str
    starts_on: date
    ends_on: date

    @property
    def line(self) -> str:
        """The line printed under the signer's name: รักษาราชการแทนปลัด…"""
        return f"{CAPACITY_LABELS[Capacity(self.capacity)]}{self.position_title}"

    def snapshot(self) -> dict[str, Any]:
        """What a decision keeps of the appointment it was taken under."""
        return {"appointment_id": self.appointment_id, "position_id": self.position_id,
                "position_title": self.position_title, "capacity": self.capacity,
                "capacity_label": CAPACITY_LABELS[Capacity(self.capacity)],
                "order_no": self.order_no, "starts_on": self.starts_on.isoformat(),
                "ends_on": self.ends_on.isoformat()}


def _in_force(today: date) -> Any:
    return (col(Appointment.starts_on) <= today, col(Appointment.ends_on) >= today,
            col(Appointment.ended_at).is_(None))


def acting_roles(session: Session, user_id: int, today: date | None = None) -> list[ActingRole]:
    """The appointments in force today under which ``user_id`` acts for a position."""
    today = today or office_today()
    rows = session.exec(
        select(Appointment, Position.title)
        .join(Position, Position.id == Appointment.position_id)  # type: ignore[arg-type]
        .where(Appointment.acting_user_id == user_id, *_in_force(today))
        .order_by(col(Appointment.id))
    ).all()
    return [ActingRole(a.id or 0, a.position_id, title, a.capacity, a.order_no, a.starts_on,
                       a.ends_on) for a, title in rows]


def absent_from(session: Session, position_ids: frozenset[int],
                today: date | None = None) -> frozenset[int]:
    """Which of these positions have their holder marked away by an appointment in force."""
    if not position_ids:
        return frozenset()
    today = today or office_today()
    rows = session.exec(
        select(Appointment.position_id)
        .where(col(Appointment.position_id).in_(position_ids), Appointment.holder_absent == True,  # noqa: E712
               *_in_force(today))
    ).all()
    return frozenset(rows)


@dataclass(frozen=True)
class Answerer:
    """Someone who may decide at a position today, and the appointment that lets them."""

    user: User
    role: ActingRole | None = None  # None: the holder themselves

    @property
    def label(self) -> str:
        return self.user.full_name + (f" ({self.role.line})" if self.role else "")


def answerers(session: Session, position_id: int, today: date | None = None, *,
              drafter_id: int | None = None) -> list[Answerer]:
    """Everyone who answers for ``position_id`` today: the holder unless away, then the acting
    officers. Inactive accounts answer for nothing, and a memo's drafter (``drafter_id``)
    never answers for it: nobody decides on their own memo."""
    return [a for a in _answerers(session, position_id, today or office_today())
            if a.user.id != drafter_id]


def _answerers(session: Session, position_id: int, today: date) -> list[Answerer]:
    position = session.get(Position, position_id)
    if position is None:
        return []
    found: list[Answerer] = []
    if position.holder_id is not None and position_id not in absent_from(
            session, frozenset({position_id}), today):
        holder = session.get(User, position.holder_id)
        if holder is not None and holder.is_active:
            found.append(Answerer(holder))
    rows = session.exec(
        select(Appointment, User)
        .join(User, User.id == Appointment.acting_user_id)  # type: ignore[arg-type]
        .where(Appointment.position_id == position_id, User.is_active == True,  # noqa: E712
               *_in_force(today))
        .order_by(col(Appointment.id))
    ).all()
    for appointment, user in rows:
        if any(a.user.id == user.id for a in found):
            continue
        found.append(Answerer(user, ActingRole(
            appointment.id or 0, position_id, position.title, appointment.capacity,
            appointment.order_no, appointment.starts_on, appointment.ends_on)))
    return found


@dataclass(frozen=True)
class Unanswered:
    """A position where memos wait and nobody can decide on them today."""

    position_title: str
    waiting: int


def unanswered(org_id: int, today: date | None = None) -> list[Unanswered]:
    """Positions with waiting memos that nobody can decide today (holder deactivated,
    away or missing, no acting officer, or only the memo's own drafter): the chain is stuck
    there until an administrator appoints someone."""
    from ..models import Memo, MemoStep, StepStatus

    session = db.session
    today = today or office_today()
    rows = session.exec(
        select(MemoStep.position_id, MemoStep.position_title, Memo.drafter_id)
        .join(Memo, (Memo.id == MemoStep.memo_id) & (Memo.round == MemoStep.round))  # type: ignore[arg-type]
        .where(Memo.org_id == org_id, MemoStep.status == StepStatus.PENDING)
    ).all()
    cache: dict[int, list[Answerer]] = {}
    stuck: dict[str, int] = {}
    for position_id, title, drafter_id in rows:
        if position_id not in cache:
            cache[position_id] = _answerers(session, position_id, today)
        if not any(a.user.id != drafter_id for a in cache[position_id]):
            stuck[title] = stuck.get(title, 0) + 1
    return [Unanswered(title, count) for title, count in sorted(stuck.items())]


# -- administration ---------------------------------------------------------------


@dataclass(frozen=True)
class AppointmentRow:
    appointment: Appointment
    position_title: str
    acting_name: str
    holder_name: str
    status: str  # in_force | upcoming | ended
    can_end: bool = False

    @property
    def capacity_label(self) -> str:
        return CAPACITY_LABELS[Capacity(self.appointment.capacity)]


STATUS_LABELS = {"in_force": "มีผลอยู่", "upcoming": "ยังไม่ถึงวันเริ่ม", "ended": "สิ้นสุดแล้ว"}


def _status(appointment: Appointment, today: date) -> str:
    if appointment.ended_at is not None or appointment.ends_on < today:
        return "ended"
    if appointment.starts_on > today:
        return "upcoming"
    return "in_force"


def _may_manage(session: Session, principal: Principal, position: Position) -> None:
    """Admins appoint for any position; a holder for their own, where the office allows."""
    if principal.is_admin:
        return
    org = session.get(Organization, principal.org_id)
    if org is not None and org.holders_may_appoint and position.holder_id == principal.user_id:
        return
    raise Forbidden("ท่านไม่มีสิทธิ์แต่งตั้งผู้รักษาราชการแทนตำแหน่งนี้",
                    "You may not appoint an acting officer for this position.",
                    code="appointment_forbidden")


def manageable_positions(principal: Principal) -> list[Position]:
    """The positions this person may appoint an acting officer for."""
    session = db.session
    query = select(Position).where(Position.org_id == principal.org_id).order_by(col(Position.id))
    if not principal.is_admin:
        org = session.get(Organization, principal.org_id)
        if org is None or not org.holders_may_appoint:
            return []
        query = query.where(Position.holder_id == principal.user_id)
    return list(session.exec(query).all())


def candidate_choices(principal: Principal) -> list[tuple[str, str]]:
    """Active people of the office who may be appointed, with the post each holds."""
    session = db.session
    titles: dict[int, str] = {}
    for position in session.exec(select(Position).where(Position.org_id == principal.org_id)
                                 .order_by(col(Position.id))).all():
        if position.holder_id is not None:
            titles.setdefault(position.holder_id, position.title)
    users = session.exec(select(User).where(User.org_id == principal.org_id,
                                            User.is_active == True)  # noqa: E712
                         .order_by(col(User.full_name))).all()
    return [(str(u.id), u.full_name + (f" — {titles[u.id or 0]}" if u.id in titles else ""))
            for u in users]


def _may_end(principal: Principal, appointment: Appointment) -> bool:
    return bool(principal.is_admin or appointment.created_by_id == principal.user_id)


def list_appointments(principal: Principal) -> list[AppointmentRow]:
    """The office's appointments, in force and upcoming first; for admins (all) and holders
    (their own positions, where the office lets holders appoint)."""
    session = db.session
    today = office_today()
    holder = User.__table__.alias("holder")  # type: ignore[attr-defined]
    query = (
        select(Appointment, Position.title, User.full_name, holder.c.full_name)
        .join(Position, Position.id == Appointment.position_id)  # type: ignore[arg-type]
        .join(User, User.id == Appointment.acting_user_id)  # type: ignore[arg-type]
        .outerjoin(holder, holder.c.id == Position.holder_id)
        .where(Appointment.org_id == principal.org_id)
        .order_by(col(Appointment.ends_on).desc(), col(Appointment.id).desc())
    )
    if not principal.is_admin:
        query = query.where(or_(Position.holder_id == principal.user_id,
                                Appointment.acting_user_id == principal.user_id))
    rows = [AppointmentRow(a, title, name, holder_name or "", _status(a, today),
                           can_end=_may_end(principal, a) and _status(a, today) != "ended")
            for a, title, name, holder_name in session.exec(query).all()]
    order = {"in_force": 0, "upcoming": 1, "ended": 2}
    return sorted(rows, key=lambda r: order[r.status])


def of_person(principal: Principal) -> list[AppointmentRow]:
    """The appointments that concern one person: those they act under, and those made for
    the posts they hold (for their own page)."""
    return [r for r in list_appointments(principal)
            if r.appointment.acting_user_id == principal.user_id
            or r.appointment.position_id in principal.position_ids]


def _as_dict(appointment: Appointment) -> dict[str, Any]:
    return {"position_id": appointment.position_id, "acting_user_id": appointment.acting_user_id,
            "capacity": appointment.capacity, "starts_on": appointment.starts_on.isoformat(),
            "ends_on": appointment.ends_on.isoformat(), "order_no": appointment.order_no,
            "holder_absent": appointment.holder_absent, "note": appointment.note,
            "ended_at": appointment.ended_at.isoformat() if appointment.ended_at else None}


MAX_DAYS = 2 * 366  # an order longer than this is a new holder, not an acting officer


def _check_period(starts_on: date, ends_on: date) -> None:
    if ends_on < starts_on:
        raise Invalid("วันสิ้นสุดต้องไม่ก่อนวันเริ่ม", "The end date is before the start date.",
                      code="bad_period", details={"field": "ends_on"})
    if (ends_on - starts_on).days > MAX_DAYS:
        raise Invalid("ช่วงเวลารักษาราชการแทนยาวเกิน ๒ ปี หากเป็นการดำรงตำแหน่งถาวร "
                      "ให้เปลี่ยนผู้ดำรงตำแหน่งแทน", "The period is longer than two years.",
                      code="period_too_long", details={"field": "ends_on"})
    if abs((office_today() - starts_on).days) > 366:
        raise Invalid("วันเริ่มห่างจากวันนี้เกิน ๑ ปี กรุณาตรวจสอบปี พ.ศ.",
                      "The start date is more than a year from today.", code="bad_period",
                      details={"field": "starts_on"})


def create(*, principal: Principal, position_id: int, acting_user_id: int, capacity: str,
           starts_on: date, ends_on: date, order_no: str, holder_absent: bool, note: str = "",
           request_info: RequestInfo | None = None) -> Appointment:
    """Record an acting appointment, checked against the office's people and positions."""
    if capacity not in set(Capacity):
        raise Invalid("ไม่รู้จักฐานะนี้", "Unknown capacity.", code="bad_capacity",
                      details={"field": "capacity"})
    order_no = one_line(order_no, label="เลขที่คำสั่งแต่งตั้ง", field="order_no",
                        maximum=ORDER_NO_MAX)
    note = one_line(note, label="หมายเหตุ", field="note", maximum=NOTE_MAX, required=False)
    _check_period(starts_on, ends_on)
    with db.write() as session:
        position = office_record(session, Position, position_id, principal.org_id)
        _may_manage(session, principal, position)
        acting = office_record(session, User, acting_user_id, principal.org_id)
        if not acting.is_active:
            raise Invalid("ผู้ใช้นี้ถูกระงับ แต่งตั้งไม่ได้", "That account is deactivated.",
                          code="user_inactive", details={"field": "acting_user_id"})
        if position.holder_id == acting.id:
            raise Invalid("ผู้ดำรงตำแหน่งไม่ต้องรักษาราชการแทนตำแหน่งของตนเอง",
                          "The holder cannot act for their own position.",
                          code="acting_for_self", details={"field": "acting_user_id"})
        overlapping = session.exec(
            select(Appointment.id).where(
                Appointment.position_id == position_id,
                Appointment.acting_user_id == acting_user_id,
                col(Appointment.ended_at).is_(None),
                col(Appointment.starts_on) <= ends_on, col(Appointment.ends_on) >= starts_on)
        ).first()
        if overlapping is not None:
            raise Conflict("มีคำสั่งแต่งตั้งบุคคลนี้สำหรับตำแหน่งนี้ในช่วงเวลาที่ทับกันอยู่แล้ว",
                           "An overlapping appointment of this person exists.",
                           code="appointment_overlaps")
        appointment = Appointment(
            org_id=principal.org_id, position_id=position_id, acting_user_id=acting_user_id,
            capacity=Capacity(capacity), starts_on=starts_on, ends_on=ends_on, order_no=order_no,
            holder_absent=holder_absent, note=note, created_by_id=principal.user_id)
        session.add(appointment)
        session.flush()
        record_change(
            session, principal, "appointment_created", before=None,
            after=_as_dict(appointment), request_info=request_info,
            text=f"{acting.full_name} {CAPACITY_LABELS[Capacity(capacity)]}{position.title}",
            appointment_id=appointment.id)
        # In force already: what waits at the post is theirs now, so they hear of it now
        # rather than at the next reminder.
        announced = (notifications.announce_waiting(session, position_id=position_id,
                                                    recipient=acting)
                     if _status(appointment, office_today()) == "in_force" else [])
    notifications.dispatch(announced)
    return appointment


def end(*, principal: Principal, appointment_id: int,
        request_info: RequestInfo | None = None) -> Appointment:
    """End an appointment now (the holder is back early): its officer stops answering at once."""
    with db.write() as session:
        appointment = office_record(session, Appointment, appointment_id, principal.org_id)
        position = session.get(Position, appointment.position_id)
        assert position is not None
        _may_manage(session, principal, position)
        if not _may_end(principal, appointment):
            # A holder must not undo the administrator's order that they are away.
            raise Forbidden("ท่านสิ้นสุดได้เฉพาะคำสั่งที่ท่านบันทึกเอง",
                            "You may end only appointments you recorded.",
                            code="appointment_forbidden")
        if _status(appointment, office_today()) == "ended":
            raise Conflict("คำสั่งแต่งตั้งนี้สิ้นสุดแล้ว", "The appointment has already ended.",
                           code="appointment_ended")
        before = _as_dict(appointment)
        appointment.ended_at = clock.now()
        record_change(session, principal, "appointment_ended", before=before,
                      after=_as_dict(appointment), request_info=request_info,
                      appointment_id=appointment.id)
        return appointment


def snapshot_json(roles: list[ActingRole]) -> str:
    """The appointments a decision was taken under, as the decision stores them."""
    if not roles:
        return ""
    return json.dumps([r.snapshot() for r in roles], ensure_ascii=False, sort_keys=True)
