"""The audit trail for auditors and admins: search, per-memo timeline, CSV and JSON export."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_login import login_required

from .. import queryargs, routing
from ..audit import search as audit_search
from ..models import AUDIT_ACTION_LABELS
from .util import principal

bp = Blueprint("audit", __name__)

STATES = ["draft", "pending_1", "pending_2", "pending_3", "pending_4", routing.RETURNED,
          routing.APPROVED, routing.REJECTED, routing.WITHDRAWN]
CSV_COLUMNS = ["seq", "time_local", "action", "actor_name", "position", "memo_id",
               "state_before", "state_after", "text", "ip", "user_agent", "details", "hash"]


@bp.route("/audit")
@login_required
def search() -> str:
    """Search the trail; every filter is in the URL, so a search can be shared."""
    audit_filter, before, limit = queryargs.audit_filter_from_args(request.args)
    page = audit_search.search(principal(), audit_filter, before=before,
                               limit=limit)
    return render_template("audit/search.html", page=page, audit_filter=audit_filter,
                           query=audit_filter.as_query(), args=request.args,
                           labels=AUDIT_ACTION_LABELS, states=STATES)


@bp.route("/memos/<int:memo_id>/audit")
@login_required
def memo_trail(memo_id: int) -> str:
    """One memo's events in order, with the verification badge."""
    memo, events, verdict = audit_search.memo_trail(principal(), memo_id)
    return render_template("audit/memo.html", memo=memo, events=events, verdict=verdict,
                           labels=AUDIT_ACTION_LABELS)


def _cell(value: object) -> object:
    """Defuse spreadsheet formulas: a cell that starts with = + - @ is shown, not run."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _export_name(extension: str) -> str:
    return f"audit-trail.{extension}"


@bp.route("/audit.csv")
@login_required
def export_csv() -> Response:
    """The current filter as CSV, UTF-8 with a BOM so that Excel shows Thai."""
    audit_filter, _, _ = queryargs.audit_filter_from_args(request.args)
    rows = audit_search.export_rows(principal(), audit_filter)
    first = next(rows, None)  # run the access check before the response starts

    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        yield "\ufeff"
        writer.writerow(CSV_COLUMNS)
        for row in ([first] if first else []) + list(rows):
            writer.writerow([_cell(json.dumps(row[c], ensure_ascii=False) if c == "details"
                                   else row[c]) for c in CSV_COLUMNS])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()

    return Response(stream_with_context(generate()), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition":
                             f'attachment; filename="{_export_name("csv")}"'})


@bp.route("/audit.json")
@login_required
def export_json() -> Any:
    """The current filter as JSON."""
    audit_filter, _, _ = queryargs.audit_filter_from_args(request.args)
    rows = list(audit_search.export_rows(principal(), audit_filter))
    body = json.dumps({"filter": audit_filter.as_query(), "events": rows}, ensure_ascii=False,
                      indent=1)
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition":
                             f'attachment; filename="{_export_name("json")}"'})
