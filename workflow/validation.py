"""Checks on typed input shared by every domain, and pydantic's errors as one Thai refusal.

One rule for ids in forms, query strings and JSON: an id is a run of ASCII digits from 1 to
2**31 - 1 (what an INTEGER column holds). "²", Thai digits and "1e3" are not ids, and each
is refused with a Thai 422 rather than read as something else or raising a 500 (path
segments follow the same rule through the ``int`` converter in ``workflow.web``). Counts
and dates that people type may use Thai digits.
"""

from __future__ import annotations

import re
from datetime import date

from pydantic import ValidationError

from . import thai
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
    "memo_type": "ประเภทหนังสือ",
    "amount": "จำนวนเงิน",
    "target_step": "ลำดับที่ส่งกลับ",
    "office": "รหัสหน่วยงาน",
    # query-string parameters of the API's lists
    "box": "กล่องบันทึก",
    "limit": "จำนวนต่อหน้า",
    "before": "ตำแหน่งหน้าถัดไป",
    "q": "คำค้น",
    "number": "เลขที่",
    "from": "วันที่เริ่ม",
    "to": "วันที่สิ้นสุด",
    "state": "สถานะ",
    "drafter": "ผู้ร่าง",
    "memo": "บันทึก",
    "memo_id": "บันทึก",
    "actor": "ผู้ดำเนินการ",
    # circulation (แจ้งเวียน)
    "position_ids": "ตำแหน่ง",
    "divisions": "กอง/สำนัก",
    "all_staff": "บุคลากรทั้งหมด",
    "note": "หมายเหตุ",
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
        elif error["type"] == "string_pattern_mismatch" and name in ("from", "to"):
            text = f"{label}: รูปแบบวันที่ไม่ถูกต้อง ตัวอย่าง ๑/๔/๒๕๖๕"
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


# What counts as blank when a field must be filled in: spaces of every kind (Thai text is
# often pasted with no-break or zero-width spaces), and control characters. Written as a
# regular-expression class that means the same in Python and in JavaScript, so the OpenAPI
# document's patterns (``text_pattern``) promise exactly what the server accepts.
_BLANK = "\\x00-\\x20\\x7f-\\xa0\\u1680\\u2000-\\u200b\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
_CONTROL = "\\x00-\\x1f\\x7f"
_VISIBLE = re.compile(f"[^{_BLANK}]")


def text_pattern(*, required: bool, single_line: bool) -> str:
    """The rule of ``text_problem`` (less the length) as a JSON-schema pattern."""
    if single_line:
        line = f"[^{_CONTROL}]"
        return f"^{line}*[^{_BLANK}]{line}*$" if required else f"^{line}*$"
    return f"[^{_BLANK}]" if required else "^[^\\x00]*$"


def typed_text_problem(raw: str, *, maximum: int, required: bool, single_line: bool) -> str:
    """``text_problem`` judged on text as it was sent, before trimming, so that a control
    character or an overlong run of spaces is refused, as the published pattern says."""
    if required and not _VISIBLE.search(raw):
        return "required"
    if single_line and has_control_characters(raw):
        return "control_characters"
    if len(raw) > maximum:
        return "too_long"
    return ""


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


# -- ids, counts and dates as people and programs type them --------------------------------

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


_COUNT = re.compile("[0-9๐-๙]{1,30}")


def parse_count(raw: str | None, *, field: str, default: int | None, low: int = 0,
                high: int = ID_MAX) -> int | None:
    """A whole number a person typed (Thai or Arabic digits) within ``[low, high]``."""
    text = (raw or "").strip()
    if not text:
        return default
    # Thai and ASCII digits only: int() would also read "١" or "５", which nobody here types.
    value = int(thai.arabic_digits(text)) if _COUNT.fullmatch(text) else -1
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
