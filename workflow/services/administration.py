"""What every administrative service shares: the admin check, the audit record of a
change (with what it was before and after), and the checks on typed text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from ..errors import Forbidden, Invalid
from ..models import AuditAction
from . import audit
from .common import RequestInfo

if TYPE_CHECKING:
    from .accounts import Principal


def require_admin(principal: Principal) -> None:
    """Refuse (403) anyone but an administrator of their own office."""
    if not principal.is_admin:
        raise Forbidden("เฉพาะผู้ดูแลระบบเท่านั้น", "Administrators only.", code="admin_only")


def record_change(session: Session, principal: Principal, change: str, *, before: Any,
                  after: Any, request_info: RequestInfo | None = None, text: str = "",
                  **details: Any) -> None:
    """Audit one administrative change: who, what, before and after."""
    audit.record(session, audit.Entry(
        AuditAction.ADMIN_CHANGE, org_id=principal.org_id, actor_id=principal.user_id,
        actor_name=principal.full_name, text=text,
        details={"change": change, "before": before, "after": after, **details},
        request_info=request_info))


def one_line(value: str, *, label: str, field: str, maximum: int, required: bool = True) -> str:
    """Typed text for a name or title: spaces collapsed, no control characters (a NUL
    cannot even be stored by PostgreSQL), present if required, not too long."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise Invalid(f"{label}: มีอักขระที่ใช้ไม่ได้", f"{field} contains control characters.",
                      code="control_characters", details={"field": field})
    value = " ".join(value.split())
    if required and not value:
        raise Invalid(f"กรุณากรอก{label}", f"{field} is required.", code=f"{field}_required",
                      details={"field": field})
    if len(value) > maximum:
        raise Invalid(f"{label}ยาวเกินไป (ไม่เกิน {maximum} ตัวอักษร)", f"{field} is too long.",
                      code=f"{field}_too_long", details={"field": field})
    return value
