"""Checks on typed input shared by every domain, and pydantic's errors as one Thai refusal."""

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
    "route_id": "สายการเสนอ",
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
        elif error["type"] in ("int_parsing", "greater_than_equal", "less_than_equal"):
            text = f"{label}: ไม่ใช่รายการที่มีอยู่"
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


def has_control_characters(value: str) -> bool:
    """True if ``value`` holds a control character (a line break, a tab, a NUL …)."""
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in value)


def text_problem(value: str, *, maximum: int, required: bool, single_line: bool = True) -> str:
    """What is wrong with typed text, as ``control_characters``, ``required`` or
    ``too_long``; empty if nothing. The one rule every form and the API apply: a line break
    in a subject or name would also break the email header it goes into, and PostgreSQL
    cannot even store a NUL."""
    if single_line and has_control_characters(value):
        return "control_characters"
    if required and not value:
        return "required"
    if len(value) > maximum:
        return "too_long"
    return ""


def one_line(value: str, *, label: str, field: str, maximum: int, required: bool = True) -> str:
    """Typed text for a name or title: spaces collapsed, no control characters, present if
    required, not too long; else a Thai 422 naming the field."""
    problem = text_problem(value, maximum=maximum, required=False)
    if problem == "control_characters":
        raise Invalid(f"{label}: มีอักขระที่ใช้ไม่ได้", f"{field} contains control characters.",
                      code="control_characters", details={"field": field})
    value = " ".join(value.split())
    problem = text_problem(value, maximum=maximum, required=required)
    if problem == "required":
        raise Invalid(f"กรุณากรอก{label}", f"{field} is required.", code=f"{field}_required",
                      details={"field": field})
    if problem == "too_long":
        raise Invalid(f"{label}ยาวเกินไป (ไม่เกิน {maximum} ตัวอักษร)", f"{field} is too long.",
                      code=f"{field}_too_long", details={"field": field})
    return value
