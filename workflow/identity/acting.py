"""Who answers for a position today: its holder unless an appointment in force marks them away,
plus every officer acting for it (รักษาราชการแทน / ปฏิบัติราชการแทน)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from ..extensions import db
from ..models import (
    CAPACITY_LABELS,
    Appointment,
    Capacity,
    Memo,
    MemoStep,
    Position,
    StepStatus,
    User,
    current_round,
)
from ..office.calendar import office_today


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
    found = answerers_for(session, {position_id}, today or office_today())
    return [a for a in found.get(position_id, []) if a.user.id != drafter_id]


def answerers_for(session: Session, position_ids: set[int] | frozenset[int],
                  today: date) -> dict[int, list[Answerer]]:
    """Who answers for each of ``position_ids`` today, in two queries however many there are:
    the one rule behind the inbox, the actions on offer, arrival emails, reminders and the
    route card."""
    if not position_ids:
        return {}
    holders = session.exec(
        select(Position, User)
        .outerjoin(User, User.id == Position.holder_id)  # type: ignore[arg-type]
        .where(col(Position.id).in_(position_ids))
    ).all()
    appointments = session.exec(
        select(Appointment, User)
        .join(User, User.id == Appointment.acting_user_id)  # type: ignore[arg-type]
        .where(col(Appointment.position_id).in_(position_ids), *_in_force(today))
        .order_by(col(Appointment.id))
    ).all()
    away = {a.position_id for a, _ in appointments if a.holder_absent}
    found: dict[int, list[Answerer]] = {}
    titles: dict[int, str] = {}
    for position, holder in holders:
        assert position.id is not None
        titles[position.id] = position.title
        found[position.id] = ([Answerer(holder)] if holder is not None and holder.is_active
                              and position.id not in away else [])
    for appointment, user in appointments:
        answering = found.get(appointment.position_id)
        if answering is None or not user.is_active or any(a.user.id == user.id
                                                          for a in answering):
            continue
        answering.append(Answerer(user, ActingRole(
            appointment.id or 0, appointment.position_id, titles[appointment.position_id],
            appointment.capacity, appointment.order_no, appointment.starts_on,
            appointment.ends_on)))
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
    session = db.session
    today = today or office_today()
    rows = session.exec(
        select(MemoStep.position_id, MemoStep.position_title, Memo.drafter_id)
        .join(Memo, current_round())
        .where(Memo.org_id == org_id, MemoStep.status == StepStatus.PENDING)
    ).all()
    answering = answerers_for(session, {position_id for position_id, _, _ in rows}, today)
    stuck: dict[str, int] = {}
    for position_id, title, drafter_id in rows:
        if not any(a.user.id != drafter_id for a in answering.get(position_id, [])):
            stuck[title] = stuck.get(title, 0) + 1
    return [Unanswered(title, count) for title, count in sorted(stuck.items())]


def snapshot_json(roles: list[ActingRole]) -> str:
    """The appointments a decision was taken under, as the decision stores them."""
    if not roles:
        return ""
    return json.dumps([r.snapshot() for r in roles], ensure_ascii=False, sort_keys=True)
