"""Circulation through the API: circulate an approved memo, read who has acknowledged it,
and acknowledge it (ทราบ). The เวียนทราบ tab is ``GET /memos?box=circulated``."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify
from pydantic import BaseModel

from ..circulation import operations, queries
from ..circulation.recipients import Targets
from ..errors import BadRequest, Invalid
from ..memos.queries import require_visible
from ..web import request_info
from .blueprint import bp
from .contract import Link, operation, parse_body
from .schemas import (
    AcknowledgeRequest,
    AcknowledgeResult,
    CirculationPublic,
    CirculationRequest,
    CirculationStatus,
    RecipientPublic,
)

_STATUS = {"status": Link("memo_circulation", {"memo_id": "$request.path.memo_id"})}


def _body(model: type[BaseModel], memo_id: int) -> Any:
    """The JSON body as ``model``; about a memo the caller may not see, 404 (or 403) first,
    whatever was sent, so a refusal never tells whether it exists."""
    try:
        return parse_body(model)
    except (BadRequest, Invalid):
        require_visible(g.principal, memo_id)
        raise


def _recipient(view: queries.RecipientView) -> RecipientPublic:
    return RecipientPublic(**vars(view))


@bp.route("/memos/<int:memo_id>/circulation", methods=["POST"])
@operation("Circulate an approved memo (แจ้งเวียน) to positions, divisions or all staff: the "
           "final signer, or the drafter where the office allows it. Each new recipient gets "
           "one email; people who had it already are left out (409 if that is everyone)",
           CirculationPublic, status=201, body=CirculationRequest, errors=(409,),
           links=_STATUS)
def circulate_memo(memo_id: int) -> Any:
    """Circulate an approved memo."""
    body = _body(CirculationRequest, memo_id)
    done = operations.circulate(
        memo_id=memo_id, actor_id=g.principal.user_id, request_info=request_info(),
        targets=Targets(tuple(body.position_ids), tuple(body.divisions), body.all_staff))
    added = {r.user_id for r in done.recipients}
    circulation = done.circulation
    return jsonify(CirculationPublic(
        id=circulation.id or 0, memo_id=memo_id, circulated_by=circulation.circulated_by_name,
        circulated_at=circulation.created_at,
        targets=queries.targets_of(circulation.targets),
        recipients=[_recipient(r) for r in queries.recipients_of(memo_id)
                    if r.user_id in added],
        already=done.already,
    ).model_dump(mode="json")), 201


@bp.route("/memos/<int:memo_id>/circulation", methods=["GET"])
@operation("Who the memo was circulated to, when each first opened it, and who has "
           "acknowledged it", CirculationStatus)
def memo_circulation(memo_id: int) -> Any:
    """The memo's recipients and their acknowledgements."""
    recipients = queries.status(g.principal, memo_id)
    return jsonify(CirculationStatus(
        memo_id=memo_id, total=len(recipients),
        acknowledged=sum(1 for r in recipients if r.acknowledged_at is not None),
        recipients=[_recipient(r) for r in recipients]).model_dump(mode="json"))


@bp.route("/memos/<int:memo_id>/acknowledge", methods=["POST"])
@operation("Acknowledge a memo circulated to the caller (ทราบ), with an optional note; "
           "acknowledging again changes nothing", AcknowledgeResult, body=AcknowledgeRequest,
           links=_STATUS)
def acknowledge_memo(memo_id: int) -> Any:
    """ทราบ: acknowledge a circulated memo (idempotent)."""
    body = _body(AcknowledgeRequest, memo_id)
    done = operations.acknowledge(memo_id=memo_id, principal=g.principal, note=body.note,
                                  request_info=request_info())
    mine = next(r for r in queries.recipients_of(memo_id) if r.user_id == g.principal.user_id)
    return jsonify(AcknowledgeResult(**vars(mine), acknowledged_now=done.now)
                   .model_dump(mode="json"))
