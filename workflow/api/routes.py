"""The routes a memo may go up: what ``route_id`` in a new memo names."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify

from ..memos.routes import list_routes
from .blueprint import bp
from .contract import Link, operation
from .schemas import RouteList, RoutePublic


@bp.route("/routes", methods=["GET"])
@operation("The routes (สายการเสนอ) a memo of the caller's office may go up, the default "
           "first", RouteList, links={"draft": Link("create_memo", {})})
def list_office_routes() -> Any:
    rows = list_routes(g.principal, active_only=True)
    return jsonify(RouteList(items=[
        RoutePublic(id=row.route.id or 0, name=row.route.name, memo_type=row.route.memo_type,
                    is_default=row.route.is_default, steps=row.steps) for row in rows
    ]).model_dump(mode="json"))
