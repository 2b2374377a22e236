"""Positions and routes through the API, for an office's administrators: the same services
as the admin pages (``workflow.admin``), so the same rules, Thai refusals and audit events
(each change an ``admin_change`` with its before and after).

Why the administrators' list of routes is ``GET /admin/routes`` rather than
``GET /routes?include_retired=true``: ``GET /routes`` is the drafters' operation, "the
routes a memo may go up", and its link leads on to creating a memo. A parameter that turns
it into "every route, retired ones too" would give one operation two meanings, a reply that
depends on who asks, and a parameter most callers are refused (403) for; its link would
then offer routes no memo may use. A separate operation keeps each one's reply to a single
meaning in the document. Changes stay on ``/routes`` and ``/routes/{route_id}``, where the
issue asked for them.

The request models read a list one item past its limit and leave the limit to the service
(``schemas._at_most``), so that "too many steps" is refused in the service's words, as on
the admin page; everything else about a step (an empty group, n of m, a repeated or unknown
position, a condition) is the service's to judge too, and nothing is saved when it refuses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, jsonify
from pydantic import BaseModel, ValidationError

from ..admin import positions as position_admin
from ..admin import routes as route_admin
from ..errors import Conflict
from ..extensions import db
from ..identity.principal import require_admin
from ..memos.routes import get_route, list_routes
from ..models import Position
from ..office.records import office_record
from ..validation import invalid_from
from ..web import request_info
from .admin_schemas import (
    PositionCreate,
    PositionList,
    PositionPublic,
    PositionUpdate,
    RouteCreate,
    RouteStepWrite,
    RouteUpdate,
)
from .blueprint import bp
from .contract import Link, operation
from .routes import route_public
from .schemas import RouteList, RoutePublic
from .util import json_body

Q = TypeVar("Q", bound=BaseModel)

_ON_ROUTE = {"change": Link("update_route", {"route_id": "$response.body#/id"})}
_ON_POSITION = {"change": Link("update_position", {"position_id": "$response.body#/id"})}


def _admin_body(model: type[Q], *, missing: Callable[[], object] | None = None) -> Q:
    """The caller must be an administrator (403 whatever was sent); then the request's JSON
    as ``model``, or 400/422. ``missing`` checks that the record the path names is in the
    office, so that a bad body about a record that is not there is a 404, as in memos.py."""
    require_admin(g.principal)
    try:
        return model.model_validate(json_body())
    except ValidationError as exc:
        if missing is not None:
            missing()
        raise invalid_from(exc) from None


def _saved() -> None:
    """Forget the rows this request read before it wrote. ``office_record`` (``session.get``)
    answers from the read session's identity map without asking the database, and
    ``db.write`` leaves that map as it was: it commits the reader before writing (which,
    with expire_on_commit off, expires nothing), so its rollback afterwards has no
    transaction to end. A route is read to be checked before it is changed, and the
    caller's own positions are read at sign-in."""
    db.session.expire_all()


# -- positions --------------------------------------------------------------------------------


def _position_public(row: position_admin.PositionRow) -> PositionPublic:
    return PositionPublic(id=row.position.id or 0, title=row.position.title,
                          holder_id=row.position.holder_id, holder_name=row.holder_name,
                          holder_active=row.holder_active, division=row.position.division,
                          is_active=row.position.is_active,
                          in_routes=row.in_routes)


def _position_reply(position_id: int) -> dict[str, Any]:
    _saved()
    row = next(r for r in position_admin.list_positions(g.principal)
               if r.position.id == position_id)
    return _position_public(row).model_dump(mode="json")


@bp.route("/positions", methods=["GET"])
@operation("The office's positions (ตำแหน่ง), each with its holder and how many routes have "
           "it (administrators)", PositionList)
def list_positions() -> Any:
    rows = position_admin.list_positions(g.principal)
    return jsonify(PositionList(items=[_position_public(r) for r in rows])
                   .model_dump(mode="json"))


@bp.route("/positions", methods=["POST"])
@operation("Create a position, vacant or held by a user of the office (administrators; a "
           "title already in the office is 409, a holder not in it 404)", PositionPublic,
           status=201, body=PositionCreate, errors=(404, 409), links=_ON_POSITION)
def create_position() -> Any:
    body = _admin_body(PositionCreate)
    position = position_admin.save_position(
        principal=g.principal, position_id=None, title=body.title, holder_id=body.holder_id,
        division=body.division, request_info=request_info())
    return jsonify(_position_reply(position.id or 0)), 201


@bp.route("/positions/<int:position_id>", methods=["PUT"])
@operation("Rename a position, change its holder (null for vacant) or division, or retire "
           "or restore it (is_active; administrators). Retiring is refused (409) while a "
           "route in use names the position or a memo waits at it", PositionPublic,
           body=PositionUpdate, errors=(409,))
def update_position(position_id: int) -> Any:
    """Memos already on their way keep the title they were laid with; the new holder answers
    at once for the memos waiting at the post. A retired position stays for the records that
    name it, and is no longer offered for routes, appointments or circulation."""
    body = _admin_body(PositionUpdate, missing=lambda: office_record(
        db.session, Position, position_id, g.principal.org_id))
    division = body.division
    if division is None:  # left out: as it is (the record is the office's, checked below)
        division = position_admin.division_of(g.principal, position_id)
    position_admin.save_position(principal=g.principal, position_id=position_id,
                                 title=body.title, holder_id=body.holder_id,
                                 division=division, request_info=request_info())
    if body.is_active is not None:
        position_admin.set_position_active(principal=g.principal, position_id=position_id,
                                           active=body.is_active, request_info=request_info())
    return jsonify(_position_reply(position_id))


# -- routes -----------------------------------------------------------------------------------


def _specs(steps: list[RouteStepWrite]) -> list[route_admin.StepSpec]:
    return [route_admin.StepSpec(
        list(step.positions), step.rule, step.need,
        ("", "", "") if step.condition is None
        else (step.condition.field, step.condition.op, step.condition.value))
        for step in steps]


def _route_reply(route_id: int) -> dict[str, Any]:
    _saved()
    return route_public(get_route(g.principal, route_id)).model_dump(mode="json")


@bp.route("/admin/routes", methods=["GET"])
@operation("Every route of the office, retired ones too, the default first "
           "(administrators; drafters list the routes they may use at GET /routes)", RouteList,
           links={"change": Link("update_route", {"route_id": "$response.body#/items/0/id"})})
def list_all_routes() -> Any:
    require_admin(g.principal)
    rows = list_routes(g.principal)
    return jsonify(RouteList(items=[route_public(r) for r in rows]).model_dump(mode="json"))


@bp.route("/routes", methods=["POST"])
@operation("Create a route (สายการเสนอ): its steps in order, each one position or a group "
           "with a rule (all, any, n of m), each under an optional condition on the memo "
           "(administrators)", RoutePublic, status=201, body=RouteCreate, links=_ON_ROUTE)
def create_route() -> Any:
    body = _admin_body(RouteCreate)
    route = route_admin.save_route(
        principal=g.principal, route_id=None, name=body.name, memo_type=body.memo_type,
        steps=_specs(body.steps), is_default=body.is_default, request_info=request_info())
    return jsonify(_route_reply(route.id or 0)), 201


@bp.route("/routes/<int:route_id>", methods=["PUT"])
@operation("Replace a route: name, type, default, steps, and whether it is in use "
           "(is_active false retires it, true restores it); memos already on their way keep "
           "their own copy (administrators)", RoutePublic, body=RouteUpdate,
           errors=(409,), links=_ON_ROUTE)
def update_route(route_id: int) -> Any:
    """The route as sent, or nothing changed. The services save the route and its being in
    use in two units of work, so the one request that would pass the first and fail the
    second, retiring the route that is (or is being made) the default, is refused before
    either. (``save_route`` itself refuses to untick the default: another route must be made
    it.)"""
    body = _admin_body(RouteUpdate, missing=lambda: get_route(g.principal, route_id))
    current = get_route(g.principal, route_id)  # a route of another office is a 404
    if not body.is_active and (body.is_default or current.route.is_default):
        raise Conflict("ยกเลิกสายการเสนอหลักไม่ได้ กรุณาเลือกสายอื่นเป็นสายหลักก่อน",
                       "The default route cannot be retired.", code="default_route_needed",
                       details={"field": "is_active"})
    route_admin.save_route(
        principal=g.principal, route_id=route_id, name=body.name, memo_type=body.memo_type,
        steps=_specs(body.steps), is_default=body.is_default, request_info=request_info())
    route_admin.set_route_active(principal=g.principal, route_id=route_id,
                                 active=body.is_active, request_info=request_info())
    return jsonify(_route_reply(route_id))
