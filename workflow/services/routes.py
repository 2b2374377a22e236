"""Routes (สายการเสนอ): the ordered positions a memo goes up, one per kind of memo.

A memo copies its route into its own steps when it is submitted, so editing or
retiring a route never changes a memo already on its way; a memo sent back and
resubmitted takes the route as it stands then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, delete, select

from ..errors import Conflict, Invalid
from ..extensions import db
from ..models import Memo, Position, Route, RouteStep
from .accounts import Principal
from .administration import (
    check_unchanged,
    fingerprint,
    office_record,
    one_line,
    record_change,
    require_admin,
)
from .common import RequestInfo

NAME_MAX = 200
MAX_STEPS = 12


@dataclass(frozen=True)
class RouteRow:
    route: Route
    steps: list[str]  # position titles in order
    position_ids: list[int]

    @property
    def label(self) -> str:
        kind = f" ({self.route.memo_type})" if self.route.memo_type else ""
        retired = "" if self.route.is_active else " — ยกเลิกการใช้แล้ว"
        return f"{self.route.name}{kind}{retired}"


def _steps(session: Session, route_id: int) -> list[tuple[int, str]]:
    return [(p.id or 0, p.title) for _, p in session.exec(
        select(RouteStep, Position).join(Position, Position.id == RouteStep.position_id)  # type: ignore[arg-type]
        .where(RouteStep.route_id == route_id).order_by(col(RouteStep.step_no))).all()]


def list_routes(principal: Principal, *, active_only: bool = False) -> list[RouteRow]:
    """The office's routes, the default first, each with its positions in order."""
    session = db.session
    query = select(Route).where(Route.org_id == principal.org_id)
    if active_only:
        query = query.where(Route.is_active == True)  # noqa: E712
    rows = []
    for route in session.exec(query.order_by(col(Route.is_default).desc(), col(Route.name))).all():
        steps = _steps(session, route.id or 0)
        rows.append(RouteRow(route, [t for _, t in steps], [i for i, _ in steps]))
    return rows


def offered_for(principal: Principal, memo: Memo | None = None) -> list[RouteRow]:
    """The routes a drafter may pick: the active ones, and the one the draft is already on
    even if it was retired since (keeping it is not a new choice)."""
    return [r for r in list_routes(principal)
            if r.route.is_active or (memo is not None and r.route.id == memo.route_id)]


def get_route(principal: Principal, route_id: int) -> RouteRow:
    """One route of the office, for its editor."""
    require_admin(principal)
    route = office_record(db.session, Route, route_id, principal.org_id)
    steps = _steps(db.session, route_id)
    return RouteRow(route, [t for _, t in steps], [i for i, _ in steps])


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
            before = _route_dict(route, [i for i, _ in _steps(session, route_id)])
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
            session.add(RouteStep(route_id=route.id or 0, step_no=number,
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


def route_for_drafting(session: Session, org_id: int, route_id: int | None,
                       current: int | None = None) -> Route:
    """The route a new or edited draft goes up: the one chosen, or the office's default.
    ``current`` is the draft's route, which stays acceptable after it is retired."""
    if route_id is not None:
        route = session.get(Route, route_id)
        if route is None or route.org_id != org_id or not (
                route.is_active or route_id == current):
            raise Invalid("ไม่พบสายการเสนอที่เลือก", "Unknown route.", code="unknown_route",
                          details={"field": "route_id"})
        return route
    route = session.exec(
        select(Route).where(Route.org_id == org_id, Route.is_active == True)  # noqa: E712
        .order_by(col(Route.is_default).desc(), col(Route.id))
    ).first()
    if route is None:
        raise Invalid("สำนักงานนี้ยังไม่ได้กำหนดสายการเสนอ กรุณาติดต่อผู้ดูแลระบบ",
                      "This office has no route yet.", code="no_route")
    return route
