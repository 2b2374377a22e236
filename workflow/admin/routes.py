"""Changing routes: their positions in order, the default, retiring and restoring."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, delete, select

from ..errors import Conflict, Invalid
from ..extensions import db
from ..identity.principal import Principal, require_admin
from ..memos.routes import MAX_STEPS, NAME_MAX, RouteRow, route_positions
from ..models import (
    Position,
    Route,
    RouteStep,
)
from ..office.records import office_record
from ..trail.chain import RequestInfo
from ..validation import one_line
from .changes import check_unchanged, fingerprint, record_change


def _route_dict(route: Route, position_ids: list[int]) -> dict[str, Any]:
    return {"name": route.name, "memo_type": route.memo_type, "is_default": route.is_default,
            "is_active": route.is_active, "positions": position_ids}


def route_fingerprint(row: RouteRow) -> str:
    """What the edit form carries back to detect a stale tab."""
    return fingerprint(_route_dict(row.route, row.position_ids))


def save_route(*, principal: Principal, route_id: int | None, name: str, memo_type: str,
               position_ids: list[int], is_default: bool, seen: str | None = None,
               request_info: RequestInfo | None = None) -> Route:
    """Create or change a route. Steps are positions of the office, each once, in order."""
    require_admin(principal)
    name = one_line(name, label="ชื่อสายการเสนอ", field="name", maximum=NAME_MAX)
    memo_type = one_line(memo_type, label="ประเภทหนังสือ", field="memo_type", maximum=NAME_MAX,
                         required=False)
    if not position_ids:
        raise Invalid("สายการเสนอต้องมีผู้พิจารณาอย่างน้อยหนึ่งลำดับ", "A route needs at least one step.",
                      code="route_empty", details={"field": "steps"})
    if len(position_ids) > MAX_STEPS:
        raise Invalid(f"สายการเสนอมีได้ไม่เกิน {MAX_STEPS} ลำดับ", "Too many steps.",
                      code="route_too_long", details={"field": "steps"})
    if len(set(position_ids)) != len(position_ids):
        raise Invalid("ตำแหน่งเดียวกันอยู่ในสายการเสนอได้ครั้งเดียว",
                      "A position may appear only once in a route.", code="route_repeats",
                      details={"field": "steps"})
    with db.write() as session:
        known = set(session.exec(select(Position.id).where(
            Position.org_id == principal.org_id, col(Position.id).in_(position_ids))).all())
        if known != set(position_ids):
            raise Invalid("มีตำแหน่งที่ไม่อยู่ในสำนักงานนี้", "Unknown position in the route.",
                          code="route_unknown_position", details={"field": "steps"})
        if route_id is None:
            route = Route(org_id=principal.org_id, name=name)
            before = None
        else:
            route = office_record(session, Route, route_id, principal.org_id)
            before = _route_dict(route, [i for i, _ in route_positions(session, route_id)])
            check_unchanged(seen, before)
        route.name, route.memo_type = name, memo_type
        others_default = session.exec(select(Route.id).where(
            Route.org_id == principal.org_id, Route.is_default == True,  # noqa: E712
            Route.id != route.id)).first()
        if is_default or others_default is None:
            # Exactly one default per office: the first route is it until another is chosen.
            for other in session.exec(select(Route).where(
                    Route.org_id == principal.org_id, Route.is_default == True)).all():  # noqa: E712
                other.is_default = False
            route.is_default = True
            route.is_active = True
        elif route.is_default and not is_default:
            raise Conflict("ต้องมีสายการเสนอหลักหนึ่งสาย กรุณาเลือกสายอื่นเป็นสายหลักแทน",
                           "Choose another default route first.", code="default_route_needed")
        session.add(route)
        session.flush()
        session.exec(delete(RouteStep).where(col(RouteStep.route_id) == route.id))  # type: ignore[call-overload]
        for number, position_id in enumerate(position_ids, start=1):
            session.add(RouteStep(org_id=route.org_id, route_id=route.id or 0, step_no=number,
                                  position_id=position_id))
        after = _route_dict(route, position_ids)
        if before != after:
            change = "route_created" if before is None else "route_updated"
            record_change(session, principal, change, before=before, after=after,
                          request_info=request_info, text=name, route_id=route.id)
        return route


def set_route_active(*, principal: Principal, route_id: int, active: bool,
                     request_info: RequestInfo | None = None) -> None:
    """Retire a route (no longer offered at drafting) or bring it back."""
    require_admin(principal)
    with db.write() as session:
        route = office_record(session, Route, route_id, principal.org_id)
        if route.is_default and not active:
            raise Conflict("ยกเลิกสายการเสนอหลักไม่ได้ กรุณาเลือกสายอื่นเป็นสายหลักก่อน",
                           "The default route cannot be retired.", code="default_route_needed")
        if route.is_active != active:
            route.is_active = active
            record_change(session, principal, "route_activated" if active else "route_retired",
                          before={"is_active": not active}, after={"is_active": active},
                          request_info=request_info, text=route.name, route_id=route.id)
