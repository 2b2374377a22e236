"""Routes (สายการเสนอ) as drafters see them: which they may pick, and the one a draft goes on.

A memo copies its route into its own steps when it is submitted, so editing or retiring a
route never changes a memo already on its way; a memo sent back and resubmitted takes the
route as it stands then. Administrators change routes in ``workflow.admin.routes``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from ..errors import Invalid
from ..extensions import db
from ..identity.principal import Principal, require_admin
from ..models import (
    Memo,
    Position,
    Route,
    RouteStep,
)
from ..office.records import office_record

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


def route_positions(session: Session, route_id: int) -> list[tuple[int, str]]:
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
        steps = route_positions(session, route.id or 0)
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
    steps = route_positions(db.session, route_id)
    return RouteRow(route, [t for _, t in steps], [i for i, _ in steps])


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


def positions_for(session: Session, memo: Memo) -> list[Position]:
    """The positions of the memo's route it goes up, in order. Positions the drafter holds
    are left out: a head of office who drafts signs as the drafter, and must not be asked
    to approve their own memo."""
    rows = session.exec(
        select(RouteStep, Position)
        .join(Position, Position.id == RouteStep.position_id)  # type: ignore[arg-type]
        .where(RouteStep.route_id == memo.route_id)
        .order_by(col(RouteStep.step_no))
    ).all()
    return [p for _, p in rows if p.holder_id != memo.drafter_id]
