"""The audit trail through the API: the same filters as the auditors' page."""

from __future__ import annotations

from typing import Any

from flask import g

from .. import queryargs
from ..audit import search as audit_search
from ..office.calendar import office_tz
from .blueprint import bp
from .contract import operation, parse_query
from .schemas import AuditPage, AuditQuery, MemoTrail
from .util import json_response


@bp.route("/audit", methods=["GET"])
@operation("Search the audit trail, newest first, keyset-paged (auditors and administrators; "
           "others only with memo_id of a memo they may open)", AuditPage, query=AuditQuery)
def search_audit() -> Any:
    """Events matching memo, actor, action, state and date filters, newest first, keyset-paged."""
    query = parse_query(AuditQuery)
    audit_filter, before, _ = queryargs.audit_filter_from_args(query.as_args())
    page = audit_search.search(g.principal, audit_filter, before=before, limit=query.limit)
    tz = office_tz()
    return json_response(AuditPage.model_validate({
        "filter": audit_filter.as_query(),
        "items": [audit_search.event_dict(e, tz) for e in page.events],
        "next_before": page.next_before}))


@bp.route("/memos/<int:memo_id>/audit", methods=["GET"])
@operation("One memo's events, oldest first, and whether its hash chain verifies", MemoTrail)
def memo_audit(memo_id: int) -> Any:
    """One memo's events, oldest first, with the result of verifying them."""
    _, events, verdict = audit_search.memo_trail(g.principal, memo_id)
    tz = office_tz()
    return json_response(MemoTrail.model_validate({
        "memo_id": memo_id, "verified": verdict.ok, "broken_at": verdict.seq,
        "reason": verdict.reason, "reason_en": verdict.reason_en,
        "events": [audit_search.event_dict(e, tz) for e in events]}))
