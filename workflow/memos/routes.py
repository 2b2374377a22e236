"""Routes (สายการเสนอ) as drafters see them: which they may pick, and the one a draft goes on.

A memo copies its route into its own steps when it is submitted (each step's members, its
rule, and whether its condition holds for the memo), so editing or retiring a
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
    RouteMember,
    RouteStep,
)
from ..office.records import office_record
from ..steps import Condition, Facts, rule_label

NAME_MAX = 200
MAX_STEPS = 12


@dataclass(frozen=True)
class StepDef:
    """One step of a route as the editor and the drafter see it."""

    step_no: int
    members: list[tuple[int, str]]  # (position id, title), in the order they were added
    need: int | None = None  # None: all of them; 1: any one; n: n of them
    condition: Condition | None = None

    @property
    def titles(self) -> str:
        return " และ ".join(t for _, t in self.members) if self.need is None else \
            " / ".join(t for _, t in self.members)

    @property
    def rule(self) -> str:
        return rule_label(self.need, len(self.members))

    @property
    def position_ids(self) -> list[int]:
        return [i for i, _ in self.members]


@dataclass(frozen=True)
class RouteRow:
    route: Route
    steps: list[StepDef]

    @property
    def label(self) -> str:
        kind = f" ({self.route.memo_type})" if self.route.memo_type else ""
        retired = "" if self.route.is_active else " — ยกเลิกการใช้แล้ว"
        return f"{self.route.name}{kind}{retired}"

    @property
    def asks_amount(self) -> bool:
        """Whether a step depends on an amount, which the drafter must then give."""
        return any(s.condition is not None and s.condition.field == "amount"
                   for s in self.steps)


def condition_of(step: RouteStep) -> Condition | None:
    """The condition a route step row holds (the editor checked it when saving)."""
    if not step.when_field:
        return None
    return Condition(step.when_field, step.when_op, step.when_value)


def route_steps(session: Session, route_ids: list[int]) -> dict[int, list[StepDef]]:
    """The steps of each route, in order, each with its members; one query for them all."""
    rows = session.exec(
        select(RouteStep, RouteMember.position_id, Position.title)
        .join(RouteMember, col(RouteMember.route_step_id) == col(RouteStep.id))
        .join(Position, col(Position.id) == col(RouteMember.position_id))
        .where(col(RouteStep.route_id).in_(route_ids))
        .order_by(col(RouteStep.route_id), col(RouteStep.step_no), col(RouteMember.id))
    ).all()
    found: dict[int, dict[int, StepDef]] = {i: {} for i in route_ids}
    for step, position_id, title in rows:
        steps = found[step.route_id]
        if step.step_no not in steps:
            steps[step.step_no] = StepDef(step.step_no, [], step.need, condition_of(step))
        steps[step.step_no].members.append((position_id, title))
    return {route_id: list(steps.values()) for route_id, steps in found.items()}


def list_routes(principal: Principal, *, active_only: bool = False) -> list[RouteRow]:
    """The office's routes, the default first, each with its steps in order."""
    session = db.session
    query = select(Route).where(Route.org_id == principal.org_id)
    if active_only:
        query = query.where(Route.is_active == True)  # noqa: E712
    routes = session.exec(query.order_by(col(Route.is_default).desc(), col(Route.name))).all()
    steps = route_steps(session, [r.id or 0 for r in routes])
    return [RouteRow(route, steps[route.id or 0]) for route in routes]


def offered_for(principal: Principal, memo: Memo | None = None) -> list[RouteRow]:
    """The routes a drafter may pick: the active ones, and the one the draft is already on
    even if it was retired since (keeping it is not a new choice)."""
    return [r for r in list_routes(principal)
            if r.route.is_active or (memo is not None and r.route.id == memo.route_id)]


def get_route(principal: Principal, route_id: int) -> RouteRow:
    """One route of the office, for its editor."""
    require_admin(principal)
    route = office_record(db.session, Route, route_id, principal.org_id)
    return RouteRow(route, route_steps(db.session, [route_id])[route_id])


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


def facts_of(memo: Memo) -> Facts:
    return Facts(memo_type=memo.memo_type, urgency=str(memo.urgency),
                 amount_satang=memo.amount_satang)


@dataclass(frozen=True)
class PlannedStep:
    """A step as it will be laid for one memo: its members, the approvals it needs, whether
    it applies, and why (the condition in Thai, "" when it always applies)."""

    members: list[tuple[int, str]]
    need: int
    applies: bool
    why: str


def plan_for(session: Session, memo: Memo, *, strict: bool = True) -> list[PlannedStep]:
    """The steps the memo's route gives this memo, in order. Positions the drafter holds
    are left out: a head of office who drafts signs as the drafter, and must not be asked to
    approve their own memo; a step left with nobody is dropped, and a group's count shrinks
    to the members left. ``strict`` refuses a memo that lacks the amount a condition needs
    (Invalid); otherwise such a step is shown as undecided."""
    facts = facts_of(memo)
    held = set(session.exec(select(Position.id).where(Position.holder_id == memo.drafter_id)))
    planned = []
    for step in route_steps(session, [memo.route_id])[memo.route_id]:
        members = [(i, t) for i, t in step.members if i not in held]
        if not members:
            continue
        need = len(members) if step.need is None else min(step.need, len(members))
        applies, why = True, ""
        if step.condition is not None:
            why = step.condition.describe()
            try:
                applies = step.condition.holds(facts)
            except Invalid:
                if strict:
                    raise
                why += " (ยังไม่ได้ระบุจำนวนเงิน)"
        planned.append(PlannedStep(members, need, applies, why))
    return planned
