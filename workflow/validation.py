"""Turn pydantic's validation errors into one Thai (and English) refusal."""

from __future__ import annotations

from pydantic import ValidationError

from .errors import Invalid

FIELD_LABELS = {
    "subject": "เรื่อง",
    "addressee": "เรียน",
    "urgency": "ชั้นความเร็ว",
    "body": "เนื้อหา",
    "version": "รุ่นของบันทึก",
    "username": "ชื่อผู้ใช้",
    "password": "รหัสผ่าน",
    "action": "การดำเนินการ",
    "comment": "เกษียน",
}


def field_errors(exc: ValidationError) -> dict[str, str]:
    """One Thai message per field that failed."""
    messages: dict[str, str] = {}
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "body"
        label = FIELD_LABELS.get(name, name)
        if error["type"] == "value_error":
            # Our own validators already speak Thai ("เรื่อง: ต้องกรอก").
            text = str(error["ctx"]["error"]) if "ctx" in error else error["msg"]
        elif error["type"] == "missing":
            text = f"{label}: ต้องกรอก"
        elif error["type"] == "string_too_long":
            text = f"{label}: ยาวเกิน {error['ctx']['max_length']:,} ตัวอักษร"
        else:
            text = f"{label}: ค่าไม่ถูกต้อง"
        messages.setdefault(name, text)
    return messages


def invalid_from(exc: ValidationError) -> Invalid:
    """A 422 refusal listing every field that failed."""
    fields = field_errors(exc)
    english = "; ".join(f"{e['loc'][0] if e['loc'] else 'body'}: {e['msg']}" for e in exc.errors())
    return Invalid(
        "ข้อมูลไม่ถูกต้อง: " + " ".join(fields.values()),
        f"Invalid input: {english}",
        code="validation_failed",
        details={"fields": fields},
    )
