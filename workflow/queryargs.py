"""Reading filters from a request's query string: the audit search and the memo search.

The parsers of ids, counts and dates are ``workflow.validation``'s, shared with the domain.
"""

from __future__ import annotations

from typing import Any

from .audit.search import AuditFilter
from .memos.search import MemoSearch
from .validation import ID_MAX, parse_count, parse_day


def audit_filter_from_args(args: Any) -> tuple[AuditFilter, int | None, int]:
    """Read an audit filter, the keyset cursor and the page size from URL parameters."""
    audit_filter = AuditFilter(
        memo=(args.get("memo") or "").strip()[:200],
        memo_id=parse_count(args.get("memo_id"), field="memo_id", default=None, high=ID_MAX),
        actor=(args.get("actor") or "").strip()[:200],
        action=(args.get("action") or "").strip(),
        state=(args.get("state") or "").strip()[:30],
        date_from=parse_day(args.get("from")),
        date_to=parse_day(args.get("to")),
    )
    limit = parse_count(args.get("limit"), field="limit", default=50, high=ID_MAX) or 50
    before = parse_count(args.get("before"), field="before", default=None, high=ID_MAX)
    return audit_filter, before, min(max(limit, 1), 500)


def memo_search_from_args(args: Any) -> MemoSearch:
    """The memo search of the inbox's search box and ``GET /api/v1/memos``."""
    return MemoSearch(
        q=(args.get("q") or "").strip(),
        number=(args.get("number") or "").strip(),
        date_from=parse_day(args.get("from")),
        date_to=parse_day(args.get("to")),
        state=(args.get("state") or "").strip(),
        drafter=(args.get("drafter") or "").strip(),
        urgency=(args.get("urgency") or "").strip(),
    ).checked()
