"""Positions (ตำแหน่ง) and who holds each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from ..errors import Conflict, Invalid
from ..extensions import db
from ..identity.principal import Principal, require_admin
from ..models import (
    DIVISION_MAX,
    Memo,
    MemoStep,
    Position,
    Route,
    RouteMember,
    RouteStep,
    User,
    current_round,
    waiting_at,
)
from ..office.records import office_record
from ..trail.chain import RequestInfo
from ..validation import one_line
from .changes import check_unchanged, fingerprint, record_change

TITLE_MAX = 200


def check_title(value: str) -> str:
    """A position's title, on one line."""
    return one_line(value, label="ชื่อตำแหน่ง", field="title", maximum=TITLE_MAX)


def check_division(value: str) -> str:
    """A position's division (กอง/สำนัก), on one line; empty for none."""
    return one_line(value, label="กอง/สำนัก", field="division", maximum=DIVISION_MAX,
                    required=False)


@dataclass(frozen=True)
class PositionRow:
    position: Position
    holder_name: str
    holder_active: bool
    in_routes: int


def list_positions(principal: Principal) -> list[PositionRow]:
    require_admin(principal)
    session = db.session
    rows = session.exec(
        select(Position, User)
        .outerjoin(User, User.id == Position.holder_id)  # type: ignore[arg-type]
        .where(Position.org_id == principal.org_id).order_by(col(Position.id))
    ).all()
    used = dict(session.exec(  # type: ignore[call-overload]
        select(RouteMember.position_id, func.count()).group_by(col(RouteMember.position_id))).all())
    return [PositionRow(p, u.full_name if u else "", bool(u and u.is_active),
                        used.get(p.id or 0, 0)) for p, u in rows]


def _position_dict(position: Position) -> dict[str, Any]:
    return {"title": position.title, "holder_id": position.holder_id,
            "division": position.division}


def _title_taken(session: Session, org_id: int, title: str, except_id: int | None = None) -> bool:
    found = session.exec(select(Position.id).where(Position.org_id == org_id,
                                                   Position.title == title)).first()
    return found is not None and found != except_id


def _check_holder(session: Session, principal: Principal, holder_id: int | None) -> None:
    if holder_id is None:
        return
    holder = office_record(session, User, holder_id, principal.org_id)
    if not holder.is_active:
        raise Invalid("ผู้ใช้นี้ถูกระงับ แต่งตั้งให้ดำรงตำแหน่งไม่ได้", "That account is deactivated.",
                      code="user_inactive", details={"field": "holder_id"})


def position_fingerprint(position: Position) -> str:
    """What the edit form carries back to detect a stale tab."""
    return fingerprint(_position_dict(position))


def set_position_active(*, principal: Principal, position_id: int, active: bool,
                        request_info: RequestInfo | None = None) -> Position:
    """Retire a post (no longer offered for routes, appointments or circulation) or bring it
    back. A post is retired only once nothing depends on it going forward: no route in use
    names it, and no memo waits at it."""
    require_admin(principal)
    with db.write() as session:
        position = office_record(session, Position, position_id, principal.org_id)
        if not active and position.is_active:
            routes = session.exec(
                select(Route.name).join(RouteStep, col(RouteStep.route_id) == col(Route.id))
                .join(RouteMember, col(RouteMember.route_step_id) == col(RouteStep.id))
                .where(RouteMember.position_id == position_id, Route.is_active == True)  # noqa: E712
                .distinct()).all()
            if routes:
                raise Conflict(
                    f"ยกเลิกตำแหน่งนี้ไม่ได้ เพราะยังอยู่ในสายการเสนอ: {', '.join(routes)} "
                    "กรุณานำออกจากสายการเสนอ หรือยกเลิกสายการเสนอนั้นก่อน",
                    "The position is in a route in use.", code="position_in_route",
                    details={"routes": list(routes)})
            waiting = session.exec(
                select(func.count()).select_from(MemoStep).join(Memo, current_round())
                .where(waiting_at({position_id}))).one()
            if waiting:
                raise Conflict(
                    f"ยกเลิกตำแหน่งนี้ไม่ได้ เพราะมีบันทึก {waiting} เรื่องรอการพิจารณาอยู่",
                    "Memos wait at the position.", code="position_has_waiting",
                    details={"waiting": waiting})
        if position.is_active != active:
            position.is_active = active
            record_change(session, principal,
                          "position_activated" if active else "position_retired",
                          before={"is_active": not active}, after={"is_active": active},
                          request_info=request_info, text=position.title,
                          position_id=position.id)
        return position


def division_of(principal: Principal, position_id: int) -> str:
    """A position's division as it stands (404 for another office's)."""
    require_admin(principal)
    return office_record(db.session, Position, position_id, principal.org_id).division


def save_position(*, principal: Principal, position_id: int | None, title: str,
                  holder_id: int | None, seen: str | None = None, division: str = "",
                  request_info: RequestInfo | None = None) -> Position:
    """Create a position, or rename it, change its holder or its division (กอง/สำนัก). Memos
    already on their way keep the title they were laid with; the new holder answers for
    waiting memos at once."""
    require_admin(principal)
    title = check_title(title)
    division = check_division(division)
    with db.write() as session:
        if position_id is None:
            position = Position(org_id=principal.org_id, title=title)
            before = None
        else:
            position = office_record(session, Position, position_id, principal.org_id)
            before = _position_dict(position)
            check_unchanged(seen, before)
        if _title_taken(session, principal.org_id, title, position.id):
            raise Conflict(f"มีตำแหน่ง \"{title}\" แล้ว", "That position exists.",
                           code="title_taken", details={"field": "title"})
        _check_holder(session, principal, holder_id)
        position.title, position.holder_id, position.division = title, holder_id, division
        session.add(position)
        session.flush()
        after = _position_dict(position)
        if before != after:
            record_change(session, principal, "position_created" if before is None
                          else "position_updated", before=before, after=after,
                          request_info=request_info, text=title, position_id=position.id)
        return position
