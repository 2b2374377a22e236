"""Memos through the API: list, create, read, edit, act."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request
from pydantic import ValidationError

from .. import routing
from ..errors import BadRequest, Invalid
from ..memos import actions, attachments, bulk, commands, lists, queries
from ..models import (
    ActionRequest,
    AttachmentPublic,
    DecisionPublic,
    MemoCreate,
    MemoPublic,
    MemoSummary,
    MemoUpdate,
    StepPublic,
)
from ..queryargs import memo_search_from_args
from ..seal import sealing
from ..steps import baht_text
from ..validation import invalid_from
from ..web import request_info, send_attachment, send_pdf
from .blueprint import bp
from .contract import Link, operation, parse_body, parse_query
from .schemas import BulkActionRequest, BulkRefusal, BulkResult, MemoListQuery, MemoPage
from .util import json_body, json_response

# After a memo is created or read, schemathesis (and a client) can follow these.
_MEMO_ID = {"memo_id": "$response.body#/id"}
_ON_MEMO = {
    "read": Link("get_memo", _MEMO_ID),
    "edit": Link("update_memo", _MEMO_ID),
    "act": Link("act", _MEMO_ID),
    "attach": Link("upload_attachment", _MEMO_ID),
    "trail": Link("memo_audit", _MEMO_ID),
    "pdf": Link("memo_pdf", _MEMO_ID),
}


# The columns of a list row that MemoSummary shows as they are.
_SUMMARY_COLUMNS = tuple(c.key for c in lists.LISTED if c.key in MemoSummary.model_fields)


def _summary(item: lists.MemoListItem) -> dict[str, Any]:
    row = item.memo._mapping
    return {**{key: row[key] for key in _SUMMARY_COLUMNS},
            "state_label": routing.state_label(row["state"]),
            "current_step": routing.step_of(row["state"]),
            "drafter_name": item.drafter_name}


def _public(view: queries.MemoView) -> dict[str, Any]:
    memo = view.memo
    fields = set(MemoPublic.model_fields) - {
        "state_label", "current_step", "drafter_name", "steps", "decisions", "allowed_actions",
        "attachments", "amount"}
    return MemoPublic(
        **memo.model_dump(include=fields),
        amount=None if memo.amount_satang is None
        else baht_text(memo.amount_satang).replace(",", ""),
        state_label=routing.state_label(memo.state),
        current_step=view.current_step,
        drafter_name=view.drafter_name,
        steps=[StepPublic(**vars(s)) for s in view.steps],
        decisions=[DecisionPublic.model_validate(d, from_attributes=True) for d in view.decisions],
        attachments=[AttachmentPublic.model_validate(a, from_attributes=True)
                     for a in view.attachments],
        allowed_actions=view.allowed,
    ).model_dump(mode="json")


def _parse(model: Any, *, memo_id: int | None = None) -> Any:
    """The request's JSON as ``model``, or 400/422; about a memo (``memo_id``) that the caller
    may not see, 404 (or 403) first, whatever was sent."""
    try:
        return model.model_validate(json_body())
    except (ValidationError, BadRequest) as exc:
        if memo_id is not None:
            queries.require_visible(g.principal, memo_id)
        if isinstance(exc, BadRequest):
            raise
        raise invalid_from(exc) from None


@bp.route("/memos", methods=["GET"])
@operation("The memos of one box, newest first, keyset-paged; with q, number, from, to, "
           "state, drafter or urgency, a search of every memo the caller may open",
           MemoPage, query=MemoListQuery)
def list_memos() -> Any:
    """The memos of one box: inbox (waiting for me), mine, decided, all."""
    query = parse_query(MemoListQuery)
    page = lists.page_memos(g.principal, query.box, limit=query.limit,
                            before=query.before.strip() or None,
                            search=memo_search_from_args(query.as_args()))
    return json_response(MemoPage.model_validate({
        "box": query.box, "items": [_summary(i) for i in page.items],
        "next_before": page.next_before}))


@bp.route("/memos", methods=["POST"])
@operation("Create a draft memo", MemoPublic, status=201, body=MemoCreate, links=_ON_MEMO)
def create_memo() -> Any:
    """Create a draft."""
    memo_create = _parse(MemoCreate)
    memo = commands.create_memo(actor_id=g.principal.user_id, memo_create=memo_create,
                                request_info=request_info())
    assert memo.id is not None
    return jsonify(_public(queries.get_memo(g.principal, memo.id, for_page=False))), 201


@bp.route("/memos/<int:memo_id>", methods=["GET"])
@operation("One memo with its route, decisions, attachments and the actions the caller may "
           "take (opening it is recorded as read)", MemoPublic)
def get_memo(memo_id: int) -> Any:
    """One memo with its route, decisions and the actions the caller may take."""
    view = queries.get_memo(g.principal, memo_id)
    body = _public(view)
    if view.unopened_by_reader:
        commands.mark_opened(memo_id=memo_id, principal=g.principal,
                             request_info=request_info())
    return jsonify(body)


@bp.route("/memos/<int:memo_id>", methods=["PATCH"])
@operation("Edit a draft or returned memo (its drafter only)", MemoPublic, body=MemoUpdate,
           errors=(409,))
def update_memo(memo_id: int) -> Any:
    """Edit a draft or a returned memo (drafter only)."""
    memo_update = _parse(MemoUpdate, memo_id=memo_id)
    commands.update_memo(memo_id=memo_id, actor_id=g.principal.user_id, memo_update=memo_update,
                         request_info=request_info())
    return jsonify(_public(queries.get_memo(g.principal, memo_id, for_page=False)))


@bp.route("/memos/<int:memo_id>/actions", methods=["POST"])
@operation("Take an action on the memo's route: submit, approve, send back, resubmit, reject "
           "or withdraw", MemoPublic, body=ActionRequest, errors=(409,), links=_ON_MEMO)
def act(memo_id: int) -> Any:
    """Submit, approve, send back, resubmit, reject or withdraw."""
    action = _parse(ActionRequest, memo_id=memo_id)
    done = actions.perform(
        action.action,
        memo_id=memo_id,
        actor_id=g.principal.user_id,
        principal=g.principal,
        comment=action.comment,
        expected_version=action.version,
        request_info=request_info(),
        target_step=action.target_step,
    )
    # The actor was cleared to see the memo under its lock, and whoever decided on a memo
    # keeps reading it: the reply is built from what the action loaded, not read back.
    return jsonify(_public(queries.memo_view(g.principal, done.loaded, answering=done.answering,
                                             for_page=False)))


@bp.route("/memos/actions", methods=["POST"])
@operation("Approve many memos at once with one endorsement: each its own decision, audit "
           "event and emails. The list is refused whole (422, nothing approved) if a memo is "
           "twice in it or not waiting for the caller; a memo that moved meanwhile is listed "
           "in refused and left as it is", BulkResult, body=BulkActionRequest)
def act_on_many() -> Any:
    request_body = parse_body(BulkActionRequest)
    if request_body.action != "approve":
        raise Invalid("ดำเนินการพร้อมกันหลายเรื่องได้เฉพาะการลงนามอนุมัติ",
                      "Only approve may be taken on many memos at once.",
                      code="bulk_action_unsupported", details={"field": "action"})
    outcome = bulk.approve_many(
        g.principal, [bulk.Pick(p.memo_id, p.version) for p in request_body.memos],
        comment=request_body.comment, request_info=request_info())
    return jsonify(BulkResult(
        approved=outcome.approved,
        refused=[BulkRefusal(memo_id=r.memo_id, error=r.error.code, message=r.error.message,
                             message_en=r.error.message_en) for r in outcome.refused],
    ).model_dump(mode="json"))


@bp.route("/memos/<int:memo_id>/attachments", methods=["POST"])
@operation("Attach a file to a draft or returned memo", AttachmentPublic, status=201,
           upload="file", errors=(409,), links={"download": Link("download_attachment", {
               "memo_id": "$request.path.memo_id", "attachment_id": "$response.body#/id"})})
def upload_attachment(memo_id: int) -> Any:
    """Attach a file (multipart/form-data, field ``file``) to a draft or returned memo."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        queries.require_visible(g.principal, memo_id)
        raise BadRequest("กรุณาส่งไฟล์ในช่อง file (multipart/form-data)",
                         "Send the file as multipart/form-data in the field 'file'.",
                         code="file_missing")
    try:
        row = attachments.add(memo_id=memo_id, actor_id=g.principal.user_id,
                              filename=upload.filename, stream=upload.stream,
                              request_info=request_info())
    finally:
        upload.close()  # the spooled temporary file, now rather than at garbage collection
    return jsonify(AttachmentPublic.model_validate(row, from_attributes=True)
                   .model_dump(mode="json")), 201


@bp.route("/memos/<int:memo_id>/attachments/<int:attachment_id>", methods=["GET"])
@operation("Download an attachment, as uploaded", "*/*")
def download_attachment(memo_id: int, attachment_id: int) -> Any:
    """Download an attachment."""
    return send_attachment(attachments.for_download(g.principal, memo_id, attachment_id))


@bp.route("/memos/<int:memo_id>/pdf", methods=["GET"])
@operation("The memo as an A4 PDF in the official form", "application/pdf", errors=(422,))
def memo_pdf(memo_id: int) -> Any:
    """The memo as an A4 PDF in the official form."""
    return send_pdf(sealing.pdf_for(g.principal, memo_id), memo_id)
