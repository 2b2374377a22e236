"""How the audit page describes an administrative change: what changed, and each field's
before and after, in Thai."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from . import office_settings

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
    "steps": "ลำดับการเสนอ (รหัสตำแหน่ง, จำนวนที่ต้องเห็นชอบ, เงื่อนไข)",
    "acting_user_id": "ผู้ได้รับแต่งตั้ง (รหัส)", "capacity": "ฐานะ", "starts_on": "ตั้งแต่",
    "ends_on": "ถึง", "order_no": "คำสั่งที่", "holder_absent": "ผู้ดำรงตำแหน่งไม่อยู่",
    "note": "หมายเหตุ", "ended_at": "สิ้นสุดเมื่อ", "day": "วันที่", "is_holiday": "วันหยุด",
    "garuda_file": "ภาพครุฑ", "division": "กอง/สำนัก",
}


# Every field an admin change may name, in Thai: the people, position, route and appointment
# fields above, and the office settings named where their form is checked.
_LABELS = {**FIELD_LABELS, **office_settings.LABELS}


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
        rows = [(_LABELS.get(k, k), show(before_map.get(k)), show(after_map.get(k)))
                for k in keys]
    else:
        rows = [("", show(before), show(after))]
    change = str(details["change"])
    return ChangeView(CHANGE_LABELS.get(change, change), rows)
