"""Reading what a request carries: ids, whole numbers, Buddhist-era dates and the audit filter.

One rule for ids in forms, query strings and JSON, used by every view and the API: an id is
a run of ASCII digits from 1 to 2**31 - 1 (what an INTEGER column holds). "²", Thai digits
and "1e3" are not ids, and each is refused with a Thai 422 rather than read as something
else or raising a 500. (Path segments follow the same rule through the ``int`` converter in
``workflow.web``.) Dates and counts typed by people may use Thai digits.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from . import thai
from .audit.search import AuditFilter
from .errors import Invalid

ID_MAX = 2**31 - 1
_ID = re.compile(r"[0-9]{1,10}", re.ASCII)


def parse_id(raw: object, *, field: str = "id", label: str = "รหัสที่ระบุ") -> int | None:
    """An id from a form or query string; None when empty; else a Thai 422."""
    text = raw.strip() if isinstance(raw, str) else "" if raw is None else str(raw)
    if not text:
        return None
    if not _ID.fullmatch(text) or not 1 <= int(text) <= ID_MAX:
        raise Invalid(f"{label}ไม่ถูกต้อง", f"{field} must be a whole number from 1 "
                      f"to {ID_MAX}.", code="bad_id", details={"field": field})
    return int(text)


def parse_count(raw: str | None, *, field: str, default: int | None, low: int = 0,
                high: int = ID_MAX) -> int | None:
    """A whole number a person typed (Thai or Arabic digits) within ``[low, high]``."""
    text = (raw or "").strip()
    if not text:
        return default
    try:
        value = int(thai.arabic_digits(text)) if text.isascii() or text.isdecimal() else -1
    except ValueError:
        value = -1
    if not low <= value <= high:
        raise Invalid(f"{field} ต้องเป็นจำนวนเต็มตั้งแต่ {thai.thai_digits(low)} ถึง "
                      f"{thai.thai_digits(high)}", f"{field} must be an integer from {low} to "
                      f"{high}.", code="bad_number", details={"field": field})
    return value


def parse_day(raw: str | None) -> date | None:
    """A date typed in the Buddhist era (๑/๔/๒๕๖๕) or as an ISO date; None when empty."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        parsed = thai.parse_date(text)
        if not 1900 <= parsed.year <= 2500:
            raise ValueError(text)
        return parsed
    except ValueError:
        raise Invalid(f"วันที่ \"{text}\" ไม่ถูกต้อง ตัวอย่าง ๑/๔/๒๕๖๕",
                      f"Bad date {text!r}; use d/m/yyyy (Buddhist era) or yyyy-mm-dd.",
                      code="bad_date") from None


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
