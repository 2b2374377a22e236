"""Who answers for a position today: its holder unless an appointment in force marks them away,
plus every officer acting for it (รักษาราชการแทน / ปฏิบัติราชการแทน)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Date, and_, bindparam, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from ..db import per_thread
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


def _in_force(today: Any) -> Any:
    """The conditions of an appointment in force on ``today`` (a date or a bound parameter)."""
    return (col(Appointment.starts_on) <= today, col(Appointment.ends_on) >= today,
            col(Appointment.ended_at).is_(None))


def concerning(user_id: Any, held: Any, today: Any) -> Any:
    """The appointments in force that concern a person: those under which ``user_id`` acts,
    and those marking one of the positions they hold (``held``: ids, or a subquery) away."""
    return and_(or_(col(Appointment.acting_user_id) == user_id,
                    and_(col(Appointment.holder_absent) == True,  # noqa: E712
                         col(Appointment.position_id).in_(held))),
                *_in_force(today))


def read_roles(rows: Iterable[tuple[Appointment, str]], user_id: int,
               held: frozenset[int]) -> tuple[list[ActingRole], frozenset[int]]:
    """From the appointments ``concerning`` a person (each with its position's title), the
    roles they act in and the held positions they are away from."""
    rows = list(rows)
    roles = [ActingRole(a.id or 0, a.position_id, title, a.capacity, a.order_no, a.starts_on,
                        a.ends_on) for a, title in rows if a.acting_user_id == user_id]
    away = frozenset(a.position_id for a, _ in rows if a.holder_absent and a.position_id in held)
    return roles, away


def roles_and_absences(session: Session, user_id: int, held: frozenset[int],
                       today: date) -> tuple[list[ActingRole], frozenset[int]]:
    """In one query: the appointments in force under which ``user_id`` acts for a position,
    and which of the positions they hold (``held``) an appointment marks as away."""
    rows = session.exec(
        select(Appointment, Position.title)
        .join(Position, Position.id == Appointment.position_id)  # type: ignore[arg-type]
        .where(concerning(user_id, held, today))
        .order_by(col(Appointment.id))
    ).all()
    return read_roles(rows, user_id, held)


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
    """Who answers for each of ``position_ids`` today, in one query however many there are:
    the one rule behind the inbox, the actions on offer, arrival emails, reminders and the
    route card."""
    if not position_ids:
        return {}
    rows = session.exec(_answerers_statement(), params={
        "position_ids": list(position_ids), "today": today}).all()
    away = {a.position_id for _, _, a, _ in rows if a is not None and a.holder_absent}
    found: dict[int, list[Answerer]] = {}
    for position, held_by, appointment, acting_user in rows:
        assert position.id is not None
        answering = found.setdefault(position.id, [])
        if (not answering and held_by is not None and held_by.is_active
                and position.id not in away):
            answering.append(Answerer(held_by))
        if appointment is None or acting_user is None or not acting_user.is_active or any(
                a.user.id == acting_user.id for a in answering):
            continue
        answering.append(Answerer(acting_user, ActingRole(
            appointment.id or 0, position.id, position.title, appointment.capacity,
            appointment.order_no, appointment.starts_on, appointment.ends_on)))
    return found


@per_thread
def _answerers_statement() -> Any:
    """Each position asked about with its holder, and each appointment in force for it with
    the acting officer (``position_ids``, ``today``)."""
    holder, officer = aliased(User, name="holder"), aliased(User, name="officer")
    today = bindparam("today", type_=Date)
    return (
        select(Position, holder, Appointment, officer)
        .outerjoin(holder, col(holder.id) == col(Position.holder_id))
        .outerjoin(Appointment, and_(col(Appointment.position_id) == col(Position.id),
                                     *_in_force(today)))
        .outerjoin(officer, col(officer.id) == col(Appointment.acting_user_id))
        .where(col(Position.id).in_(bindparam("position_ids", expanding=True)))
        .order_by(col(Position.id), col(Appointment.id))
    )


@dataclass(frozen=True)
class Unanswered:
    """A position where memos wait and nobody can decide on them today."""

    position_title: str
    waiting: int


def unanswered(org_id: int, today: date | None = None) -> list[Unanswered]:
    """Positions with waiting memos that nobody can decide today (the holder deactivated,
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
