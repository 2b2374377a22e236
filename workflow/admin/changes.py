"""What every administrative change shares: its audit record with before and after, and the
fingerprint that catches a stale tab."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlmodel import Session

from ..errors import Conflict
from ..identity.principal import Principal
from ..models import (
    AuditAction,
)
from ..trail.chain import Entry, RequestInfo, record


def record_change(session: Session, principal: Principal, change: str, *, before: Any,
                  after: Any, request_info: RequestInfo | None = None, text: str = "",
                  **details: Any) -> None:
    """Audit one administrative change: who, what, before and after."""
    record(session, Entry(
        AuditAction.ADMIN_CHANGE, org_id=principal.org_id, actor_id=principal.user_id,
        actor_name=principal.full_name, text=text,
        details={"change": change, "before": before, "after": after, **details},
        request_info=request_info))


def fingerprint(record: Any) -> str:
    """A short digest of a record as an edit form showed it. Sent back with the form, it
    tells whether someone else changed the record meanwhile (a stale tab)."""
    canonical = json.dumps(record, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def check_unchanged(seen: str | None, record: Any) -> None:
    """Refuse (409) an edit made from a form that showed an older state of the record."""
    if seen and seen != fingerprint(record):
        raise Conflict("ข้อมูลนี้ถูกแก้ไขโดยผู้อื่นหลังจากที่ท่านเปิดหน้านี้ "
                       "กรุณาโหลดหน้าใหม่ ตรวจสอบ แล้วแก้ไขอีกครั้ง",
                       "Someone else changed this record since you opened it; reload.",
                       code="stale_edit")
