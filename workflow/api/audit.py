"""The audit trail through the API: the same filters as the auditors' page."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request

from .. import queryargs
from ..audit import search as audit_search
from .blueprint import bp


@bp.route("/audit", methods=["GET"])
def search_audit() -> Any:
    """Events matching memo, actor, action, state and date filters, newest first, keyset-paged."""
    audit_filter, before, limit = queryargs.audit_filter_from_args(request.args)
    page = audit_search.search(g.principal, audit_filter, before=before, limit=limit)
    return jsonify({"filter": audit_filter.as_query(),
                    "items": [audit_search.event_dict(e) for e in page.events],
                    "next_before": page.next_before})


@bp.route("/memos/<int:memo_id>/audit", methods=["GET"])
def memo_audit(memo_id: int) -> Any:
    """One memo's events, oldest first, with the result of verifying them."""
    _, events, verdict = audit_search.memo_trail(g.principal, memo_id)
    return jsonify({"memo_id": memo_id,
                    "verified": verdict.ok, "broken_at": verdict.seq,
                    "reason": verdict.reason, "reason_en": verdict.reason_en,
                    "events": [audit_search.event_dict(e) for e in events]})
