"""Who a choice of targets means: the holders of chosen positions, of every position in a
division (กอง/สำนัก), or every active person of the office."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from .. import thai
from ..errors import Invalid
from ..models import Position, User
from .rules import DIVISIONS_MAX, POSITIONS_MAX, RECIPIENTS_MAX


@dataclass(frozen=True)
class Targets:
    """What the circulator chose: positions by id, divisions by name, or all staff."""

    position_ids: tuple[int, ...] = ()
    divisions: tuple[str, ...] = ()
    all_staff: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.position_ids or self.divisions or self.all_staff)


@dataclass(frozen=True)
class Resolved:
    """The people a choice reaches (active, not the circulator), and how it reads."""

    people: list[User]
    described: dict[str, Any] = field(default_factory=dict)


def _refuse(message: str, message_en: str, code: str, field_name: str,
            **details: Any) -> Invalid:
    return Invalid(message, message_en, code=code, details={"field": field_name, **details})


def resolve(session: Session, *, org_id: int, targets: Targets, circulator_id: int) -> Resolved:
    """The office's people ``targets`` names, each once, in a stable order; a Thai 422 for
    no choice, an unknown position or division, a choice that reaches nobody, or too many."""
    if targets.is_empty:
        raise _refuse("กรุณาเลือกผู้รับแจ้งเวียน: ตำแหน่ง กอง/สำนัก หรือบุคลากรทั้งหมด",
                      "Choose whom to circulate to: positions, divisions or all staff.",
                      "no_recipients", "recipients")
    if len(targets.position_ids) > POSITIONS_MAX or len(targets.divisions) > DIVISIONS_MAX:
        raise _refuse(f"เลือกได้ไม่เกิน {thai.thai_digits(POSITIONS_MAX)} ตำแหน่ง และ "
                      f"{thai.thai_digits(DIVISIONS_MAX)} กอง/สำนัก ต่อครั้ง",
                      f"At most {POSITIONS_MAX} positions and {DIVISIONS_MAX} divisions.",
                      "too_many_targets", "recipients")
    positions = list(session.exec(select(Position).where(
        Position.org_id == org_id, Position.is_active == True)).all())  # noqa: E712
    by_id = {p.id: p for p in positions}
    unknown_ids = sorted({i for i in targets.position_ids if i not in by_id})
    if unknown_ids:
        raise _refuse("ไม่พบตำแหน่งที่เลือกในหน่วยงานนี้", f"Unknown positions: {unknown_ids}.",
                      "unknown_position", "position_ids", unknown=unknown_ids)
    divisions = {p.division for p in positions if p.division}
    wanted = list(dict.fromkeys(" ".join(d.split()) for d in targets.divisions))
    unknown = [d for d in wanted if d not in divisions]
    if unknown:
        raise _refuse(f"ไม่พบกอง/สำนัก \"{unknown[0]}\" ในหน่วยงานนี้",
                      f"Unknown divisions: {unknown}.", "unknown_division", "divisions",
                      unknown=unknown)
    chosen = [by_id[i] for i in dict.fromkeys(targets.position_ids)]
    chosen += [p for p in positions if p.division in wanted and p.id not in targets.position_ids]
    query = select(User).where(User.org_id == org_id, User.is_active == True,  # noqa: E712
                               User.id != circulator_id)
    if not targets.all_staff:
        holder_ids = {p.holder_id for p in chosen if p.holder_id is not None}
        query = query.where(col(User.id).in_(holder_ids))
    people = list(session.exec(query.order_by(col(User.id))).all())
    if not people:
        raise _refuse("ตำแหน่งหรือกอง/สำนักที่เลือกไม่มีผู้ดำรงตำแหน่งที่จะรับแจ้งเวียนได้",
                      "The chosen positions and divisions have no one to circulate to.",
                      "nobody_to_circulate_to", "recipients")
    if len(people) > RECIPIENTS_MAX:
        raise _refuse(f"แจ้งเวียนได้ครั้งละไม่เกิน {thai.thai_digits(RECIPIENTS_MAX)} คน",
                      f"At most {RECIPIENTS_MAX} recipients per circulation.",
                      "too_many_recipients", "recipients")
    described = {"positions": [p.title for p in chosen if p.id in targets.position_ids],
                 "divisions": wanted, "all_staff": targets.all_staff}
    return Resolved(people, described)
