"""Changing routes: their steps in order (a position, or a group of positions with a rule,
each step under an optional condition), the default, retiring and restoring."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import col, delete, select

from ..errors import Conflict, Invalid
from ..extensions import db
from ..identity.principal import Principal, require_admin
from ..memos.routes import MAX_STEPS, NAME_MAX, RouteRow, StepDef, route_steps
from ..models import (
    Position,
    Route,
    RouteMember,
    RouteStep,
)
from ..office.records import office_record
from ..steps import ALL, ANY, COUNT, GROUP_MAX, Condition
from ..trail.chain import RequestInfo
from ..validation import one_line
from .changes import check_unchanged, fingerprint, record_change


@dataclass(frozen=True)
class StepSpec:
    """One step as an editor or the API sends it: its positions, the rule when there are
    several (all, any, or ``count`` with ``need``), and an optional condition."""

    position_ids: list[int]
    rule: str = ALL
    need: int | None = None
    when: tuple[str, str, str] = ("", "", "")  # (field, op, value), as typed


def _step_dict(need: int | None, position_ids: list[int],
               condition: Condition | None) -> dict[str, Any]:
    return {"positions": position_ids, "need": need,
            "when": [condition.field, condition.op, condition.value] if condition else None}


def _route_dict(route: Route, steps: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": route.name, "memo_type": route.memo_type, "is_default": route.is_default,
            "is_active": route.is_active, "steps": steps}


def _defs_dicts(steps: list[StepDef]) -> list[dict[str, Any]]:
    return [_step_dict(s.need, s.position_ids, s.condition) for s in steps]


def route_fingerprint(row: RouteRow) -> str:
    """What the edit form carries back to detect a stale tab."""
    return fingerprint(_route_dict(row.route, _defs_dicts(row.steps)))


def checked_steps(steps: list[StepSpec]) -> list[tuple[int | None, list[int], Condition | None]]:
    """Each step as stored: (need, positions, condition); or Invalid naming the step and
    what is wrong with it (nothing is saved)."""
    if not steps:
        raise Invalid("สายการเสนอต้องมีผู้พิจารณาอย่างน้อยหนึ่งลำดับ", "A route needs at least one step.",
                      code="route_empty", details={"field": "steps"})
    if len(steps) > MAX_STEPS:
        raise Invalid(f"สายการเสนอมีได้ไม่เกิน {MAX_STEPS} ลำดับ", "Too many steps.",
                      code="route_too_long", details={"field": "steps"})
    every = [p for step in steps for p in step.position_ids]
    if len(set(every)) != len(every):
        raise Invalid("ตำแหน่งเดียวกันอยู่ในสายการเสนอได้ครั้งเดียว",
                      "A position may appear only once in a route.", code="route_repeats",
                      details={"field": "steps"})
    checked = []
    for number, step in enumerate(steps, start=1):
        where = {"field": "steps", "step": number}
        members = len(step.position_ids)
        if not members:
            raise Invalid(f"ลำดับที่ {number} ยังไม่มีตำแหน่ง กรุณาเลือกอย่างน้อยหนึ่งตำแหน่ง",
                          f"Step {number} has no position.", code="group_empty", details=where)
        if members > GROUP_MAX:
            raise Invalid(f"ลำดับที่ {number} มีตำแหน่งได้ไม่เกิน {GROUP_MAX} ตำแหน่ง",
                          f"Step {number} has too many positions.", code="group_too_large",
                          details=where)
        if step.rule not in (ALL, ANY, COUNT):
            raise Invalid(f"ลำดับที่ {number}: ไม่รู้จักเงื่อนไขการเห็นชอบของกลุ่ม",
                          f"Step {number}: unknown rule.", code="invalid_rule", details=where)
        need: int | None = None
        if step.rule == ANY and members > 1:
            need = 1
        elif step.rule == COUNT:
            if step.need is None or not 1 <= step.need <= members:
                raise Invalid(
                    f"ลำดับที่ {number}: จำนวนผู้ที่ต้องเห็นชอบ (n) ต้องอยู่ระหว่าง 1 ถึง "
                    f"{members} ซึ่งเป็นจำนวนตำแหน่งในกลุ่ม",
                    f"Step {number}: n of m needs 1 <= n <= {members}.",
                    code="need_out_of_range", details=where)
            need = None if step.need == members else step.need
        try:
            condition = Condition.build(*step.when)
        except Invalid as problem:
            raise Invalid(f"ลำดับที่ {number}: {problem.message}", problem.message_en,
                          code=problem.code, details=where) from None
        checked.append((need, step.position_ids, condition))
    return checked


def save_route(*, principal: Principal, route_id: int | None, name: str, memo_type: str,
               steps: list[StepSpec], is_default: bool, seen: str | None = None,
               request_info: RequestInfo | None = None) -> Route:
    """Create or change a route. Each step is positions of the office (each once in the
    route) with a rule, under an optional condition."""
    require_admin(principal)
    name = one_line(name, label="ชื่อสายการเสนอ", field="name", maximum=NAME_MAX)
    memo_type = one_line(memo_type, label="ประเภทหนังสือ", field="memo_type", maximum=NAME_MAX,
                         required=False)
    checked = checked_steps(steps)
    position_ids = [p for _, members, _ in checked for p in members]
    with db.write() as session:
        known = dict(session.exec(select(Position.id, Position.is_active).where(
            Position.org_id == principal.org_id, col(Position.id).in_(position_ids))).all())
        if set(known) != set(position_ids):
            raise Invalid("มีตำแหน่งที่ไม่อยู่ในสำนักงานนี้", "Unknown position in the route.",
                          code="route_unknown_position", details={"field": "steps"})
        _refuse_retired(session, [i or 0 for i, active in known.items() if not active])
        if route_id is None:
            route = Route(org_id=principal.org_id, name=name)
            before = None
        else:
            route = office_record(session, Route, route_id, principal.org_id)
            before = _route_dict(route, _defs_dicts(route_steps(session, [route_id])[route_id]))
            check_unchanged(seen, before)
        if route.is_default and not is_default:
            # Said, not ignored: the office keeps one default, so the admin learns that
            # another route has to be made it (which ends this one's turn).
            raise Conflict("ต้องมีสายการเสนอหลักหนึ่งสาย กรุณาเลือกสายอื่นเป็นสายหลักแทน",
                           "Choose another default route first.", code="default_route_needed")
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
        session.add(route)
        session.flush()
        _replace_steps(session, route, checked)
        after = _route_dict(route, [_step_dict(*c) for c in checked])
        if before != after:
            change = "route_created" if before is None else "route_updated"
            record_change(session, principal, change, before=before, after=after,
                          request_info=request_info, text=name, route_id=route.id)
        return route


def _replace_steps(session: Any, route: Route,
                   checked: list[tuple[int | None, list[int], Condition | None]]) -> None:
    """The route's steps and members as given (memos in flight keep their own copy)."""
    old = select(RouteStep.id).where(col(RouteStep.route_id) == route.id)
    session.exec(delete(RouteMember).where(col(RouteMember.route_step_id).in_(old)))
    session.exec(delete(RouteStep).where(col(RouteStep.route_id) == route.id))
    for number, (need, members, condition) in enumerate(checked, start=1):
        step = RouteStep(org_id=route.org_id, route_id=route.id or 0, step_no=number, need=need,
                         when_field=condition.field if condition else "",
                         when_op=condition.op if condition else "",
                         when_value=condition.value if condition else "")
        session.add(step)
        session.flush()
        session.add_all(RouteMember(org_id=route.org_id, route_step_id=step.id or 0,
                                    position_id=p) for p in members)


def _refuse_retired(session: Any, position_ids: list[int]) -> None:
    """A route in use names only posts in use."""
    if position_ids:
        titles = session.exec(select(Position.title).where(
            col(Position.id).in_(position_ids))).all()
        raise Invalid(f"ตำแหน่งที่ยกเลิกแล้วอยู่ในสายการเสนอที่ใช้งานไม่ได้: {', '.join(titles)}",
                      "A retired position cannot be in a route in use.",
                      code="route_retired_position", details={"field": "steps"})


def set_route_active(*, principal: Principal, route_id: int, active: bool,
                     request_info: RequestInfo | None = None) -> None:
    """Retire a route (no longer offered at drafting) or bring it back."""
    require_admin(principal)
    with db.write() as session:
        route = office_record(session, Route, route_id, principal.org_id)
        if route.is_default and not active:
            raise Conflict("ยกเลิกสายการเสนอหลักไม่ได้ กรุณาเลือกสายอื่นเป็นสายหลักก่อน",
                           "The default route cannot be retired.", code="default_route_needed")
        if active and not route.is_active:
            _refuse_retired(session, list(session.exec(
                select(RouteMember.position_id)
                .join(RouteStep, col(RouteStep.id) == col(RouteMember.route_step_id))
                .where(RouteStep.route_id == route_id, Position.id == RouteMember.position_id,
                       Position.is_active == False)).all()))  # noqa: E712
        if route.is_active != active:
            route.is_active = active
            record_change(session, principal, "route_activated" if active else "route_retired",
                          before={"is_active": not active}, after={"is_active": active},
                          request_info=request_info, text=route.name, route_id=route.id)
