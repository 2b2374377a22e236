"""What every administrative service shares: the admin check, the audit record of a
change (with what it was before and after), and the checks on typed text."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlmodel import Session

from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..models import AuditAction
from . import audit
from .common import RequestInfo

if TYPE_CHECKING:
    from .accounts import Principal

_Row = TypeVar("_Row")


def require_admin(principal: Principal) -> None:
    """Refuse (403) anyone but an administrator of their own office."""
    if not principal.is_admin:
        raise Forbidden("เฉพาะผู้ดูแลระบบเท่านั้น", "Administrators only.", code="admin_only")


_NOT_FOUND = {  # table name -> (Thai, English, code) of "no such record in your office"
    "user": ("ไม่พบผู้ใช้นี้", "User not found.", "user_not_found"),
    "position": ("ไม่พบตำแหน่งนี้", "Position not found.", "position_not_found"),
    "route": ("ไม่พบสายการเสนอนี้", "Route not found.", "route_not_found"),
    "appointment": ("ไม่พบคำสั่งแต่งตั้งนี้", "Appointment not found.", "appointment_not_found"),
}


def office_record(session: Session, model: type[_Row], record_id: int | None,
                  org_id: int) -> _Row:
    """The user, position, route or appointment ``record_id`` of office ``org_id``, or 404:
    another office's record is answered exactly as a missing one."""
    row = session.get(model, record_id) if record_id is not None else None
    if row is None or getattr(row, "org_id", None) != org_id:
        message, message_en, code = _NOT_FOUND[model.__tablename__]  # type: ignore[attr-defined]
        raise NotFound(message, message_en, code=code)
    return row


def record_change(session: Session, principal: Principal, change: str, *, before: Any,
                  after: Any, request_info: RequestInfo | None = None, text: str = "",
                  **details: Any) -> None:
    """Audit one administrative change: who, what, before and after."""
    audit.record(session, audit.Entry(
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


CHANGE_LABELS = {
    "user_created": "เพิ่มผู้ใช้", "user_updated": "แก้ไขผู้ใช้", "user_deactivated": "ระงับบัญชี",
    "user_activated": "เปิดใช้บัญชี", "staff_imported": "นำเข้ารายชื่อจาก CSV",
    "position_created": "เพิ่มตำแหน่ง", "position_updated": "แก้ไขตำแหน่ง/ผู้ดำรงตำแหน่ง",
    "route_created": "สร้างสายการเสนอ", "route_updated": "แก้ไขสายการเสนอ",
    "route_retired": "ยกเลิกการใช้สายการเสนอ", "route_activated": "นำสายการเสนอกลับมาใช้",
    "appointment_created": "แต่งตั้งผู้รักษาราชการแทน",
    "appointment_ended": "สิ้นสุดการรักษาราชการแทน", "office_settings": "ตั้งค่าหน่วยงาน",
    "office_day_added": "เพิ่มวันหยุด/วันทำงาน", "office_day_removed": "ลบวันหยุด/วันทำงาน",
}


FIELD_LABELS = {
    "username": "ชื่อผู้ใช้", "full_name": "ชื่อ-สกุล", "email": "อีเมล", "roles": "บทบาท",
    "is_active": "ใช้งานได้", "title": "ชื่อตำแหน่ง", "holder_id": "ผู้ดำรงตำแหน่ง (รหัส)",
    "name": "ชื่อ", "memo_type": "ประเภทหนังสือ", "is_default": "สายหลัก",
    "positions": "ลำดับตำแหน่ง (รหัส)", "position_id": "ตำแหน่ง (รหัส)",
    "acting_user_id": "ผู้ได้รับแต่งตั้ง (รหัส)", "capacity": "ฐานะ", "starts_on": "ตั้งแต่",
    "ends_on": "ถึง", "order_no": "คำสั่งที่", "holder_absent": "ผู้ดำรงตำแหน่งไม่อยู่",
    "note": "หมายเหตุ", "ended_at": "สิ้นสุดเมื่อ", "day": "วันที่", "is_holiday": "วันหยุด",
    "garuda_file": "ภาพครุฑ",
}


@dataclass(frozen=True)
class ChangeView:
    """An administrative change as the audit page shows it: what, and each field's before and
    after."""

    label: str
    rows: list[tuple[str, str, str]]  # (field, before, after)


def describe_change(details_json: str) -> ChangeView | None:
    """Read an ADMIN_CHANGE event's details for people: None if it records no change."""
    try:
        details = json.loads(details_json or "{}")
    except ValueError:
        return None
    if not isinstance(details, dict) or "change" not in details:
        return None
    before, after = details.get("before"), details.get("after")

    def show(value: Any) -> str:
        if value is None:
            return "—"
        if isinstance(value, str):
            return value
        return json.dumps(value, ensure_ascii=False, sort_keys=True)

    if isinstance(before, dict) or isinstance(after, dict):
        before_map = before if isinstance(before, dict) else {}
        after_map = after if isinstance(after, dict) else {}
        keys = list(dict.fromkeys([*before_map, *after_map]))
        rows = [(FIELD_LABELS.get(k, k), show(before_map.get(k)), show(after_map.get(k)))
                for k in keys]
    else:
        rows = [("", show(before), show(after))]
    change = str(details["change"])
    return ChangeView(CHANGE_LABELS.get(change, change), rows)
