"""The routes a memo may go up: what ``route_id`` in a new memo names."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify

from ..memos.routes import RouteRow, list_routes
from ..steps import baht_text, rule_of
from .blueprint import bp
from .contract import Link, operation
from .schemas import ConditionPublic, PositionRef, RouteList, RoutePublic, RouteStepPublic


def route_public(row: RouteRow) -> RoutePublic:
    """A route as the API shows it (amounts in baht, as an editor types them)."""
    steps = []
    for step in row.steps:
        c = step.condition
        condition = None if c is None else ConditionPublic(
            field=c.field, op=c.op,  # type: ignore[arg-type]
            value=baht_text(int(c.value)).replace(",", "") if c.field == "amount" else c.value,
            description=c.describe())
        members = len(step.members)
        steps.append(RouteStepPublic(
            step_no=step.step_no, positions=[PositionRef(id=i, title=t) for i, t in step.members],
            rule=rule_of(step.need, members),  # type: ignore[arg-type]
            need=step.need or members, condition=condition))
    return RoutePublic(id=row.route.id or 0, name=row.route.name,
                       memo_type=row.route.memo_type, is_default=row.route.is_default,
                       is_active=row.route.is_active, asks_amount=row.asks_amount, steps=steps)


@bp.route("/routes", methods=["GET"])
@operation("The routes (สายการเสนอ) a memo of the caller's office may go up, the default "
           "first", RouteList, links={"draft": Link("create_memo", {})})
def list_office_routes() -> Any:
    rows = list_routes(g.principal, active_only=True)
    return jsonify(RouteList(items=[route_public(row) for row in rows]).model_dump(mode="json"))
