"""Office settings: name and document header, digits, numbering, hours, reminder policy, the
Garuda, and the office's own holidays and working days.

Office hours, the reminder policy and escalation left empty fall back to the server's
configuration; ``workflow.office.calendar`` gives the values in force.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from .. import clock, thai
from ..errors import Invalid, NotFound
from ..extensions import db
from ..identity.principal import Principal, require_admin
from ..memos.attachments import stored_bytes
from ..models import (
    UNIT_LINE_MAX,
    URGENCY_LABELS,
    Memo,
    MemoStep,
    NumberingPoint,
    Organization,
    StepStatus,
    Urgency,
)
from ..office.calendar import REMINDER_KEYS, policy_overrides
from ..office.garuda import garuda_data_uri
from ..officetime import OfficeCalendar
from ..trail.chain import RequestInfo
from ..validation import text_problem
from .changes import check_unchanged, fingerprint, record_change

_LOGGER = logging.getLogger(__name__)


NAME_MAX = 200


PHONE_MAX = 100


DOC_PREFIX_MAX = 50


ESCALATE_MIN, ESCALATE_MAX = 1, 20


# A reminder more often than this would flood the signer; less often than this is no reminder.
REMINDER_MIN = timedelta(minutes=15)


REMINDER_MAX_DAYS = 30




LABELS = {
    "name": "ชื่อหน่วยงาน",
    "unit_line": "ส่วนราชการ",
    "phone": "โทรศัพท์",
    "doc_prefix": "รหัสเลขที่หนังสือ",
    "require_endorsement": "บังคับเขียนเกษียน",
    "thai_digits": "ตัวเลขไทย",
    "numbering_point": "การออกเลขที่หนังสือ",
    "office_opens": "เวลาเปิดทำการ",
    "office_closes": "เวลาปิดทำการ",
    "reminder_policy": "การเตือนเรื่องค้าง",
    "escalate_after": "แจ้งผู้ร่างเมื่อเตือนครบ",
    "holders_may_appoint": "ผู้ดำรงตำแหน่งแต่งตั้งผู้รักษาราชการแทนเองได้",
    "drafters_may_circulate": "ผู้ร่างแจ้งเวียนบันทึกที่อนุมัติแล้วเองได้",
    "attachments_per_memo": "จำนวนไฟล์แนบต่อบันทึก",
    "storage_quota_mb": "พื้นที่เก็บไฟล์ของหน่วยงาน (MB)",
}

ATTACHMENTS_PER_MEMO_MAX = 200
STORAGE_MIN_MB, STORAGE_MAX_MB = 10, 10_000_000


_BOOLEANS = ("require_endorsement", "thai_digits", "holders_may_appoint",
             "drafters_may_circulate")


# ASCII digits only (Thai digits are turned into them first): "٠٨:٣٠" is not an hour.
_HHMM = re.compile(r"^(\d{1,2})\s*[:.]\s*(\d{2})(?:\s*น\.?)?$", re.ASCII)


@dataclass(frozen=True)
class OfficeSettings:
    """The office's settings as stored ("" meaning the server's) and the server's defaults."""

    org: Organization
    reminder_policy: dict[str, dict[str, str]]
    default_opens: str
    default_closes: str
    default_policy: dict[str, dict[str, str]]
    default_escalate_after: int
    garuda_uri: str
    default_attachments_per_memo: int = 0
    default_storage_quota_mb: int = 0
    storage_used_mb: float = 0.0


def _org(principal: Principal) -> Organization:
    org = db.session.get(Organization, principal.org_id)
    if org is None:
        raise NotFound("ไม่พบหน่วยงาน", "Office not found.", code="org_not_found")
    return org


def settings(principal: Principal) -> OfficeSettings:
    """The office's settings, for its administrators."""
    require_admin(principal)
    org = _org(principal)
    config = current_app.config
    return OfficeSettings(
        org=org,
        reminder_policy=policy_overrides(org),
        default_opens=config["OFFICE_OPENS"],
        default_closes=config["OFFICE_CLOSES"],
        default_policy={str(u): dict(v) for u, v in config["REMINDER_POLICY"].items()},
        default_escalate_after=int(config["ESCALATE_AFTER"]),
        garuda_uri=garuda_data_uri(org),
        default_attachments_per_memo=int(config["ATTACHMENTS_PER_MEMO"]),
        default_storage_quota_mb=int(config["OFFICE_STORAGE_MB"]),
        storage_used_mb=stored_bytes(db.session, org.id or 0) / (1024 * 1024),
    )


class _FieldError(Exception):
    def __init__(self, field: str, message: str, message_en: str, code: str) -> None:
        super().__init__(message_en)
        self.field, self.message, self.message_en, self.code = field, message, message_en, code


def _text(field: str, value: object, *, maximum: int, required: bool) -> str:
    label = LABELS[field]
    if not isinstance(value, str):
        raise _FieldError(field, f"{label}: ต้องเป็นข้อความ", f"{field}: must be text",
                          "bad_setting")
    value = value.strip()
    problem = text_problem(value, maximum=maximum, required=required)
    if problem == "control_characters":
        raise _FieldError(field, f"{label}: ต้องเป็นข้อความบรรทัดเดียว ไม่มีอักขระควบคุม",
                          f"{field}: one line, no control characters", "bad_setting")
    if problem == "required":
        raise _FieldError(field, f"{label}: ต้องกรอก", f"{field}: required", "required")
    if problem == "too_long":
        raise _FieldError(field, f"{label}: ยาวเกิน {thai.thai_digits(maximum)} ตัวอักษร",
                          f"{field}: longer than {maximum} characters", "too_long")
    return value


def _hour(field: str, value: object) -> str:
    text = thai.arabic_digits(value.strip()) if isinstance(value, str) else None
    if text == "":
        return ""
    match = _HHMM.match(text or "")
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise _FieldError(field, f"{LABELS[field]}: ใช้รูปแบบ ชช:นน เช่น 08:30",
                          f"{field}: use HH:MM, e.g. 08:30", "bad_office_hours")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def _escalate_after(value: object) -> int | None:
    return _count("escalate_after", value, ESCALATE_MIN, ESCALATE_MAX, "bad_escalation",
                  unit="จำนวนครั้ง")


def _count(field: str, value: object, least: int, most: int, code: str, *,
           unit: str = "จำนวนเต็ม") -> int | None:
    """A whole number from ``least`` to ``most`` (Thai digits too), or None for "the
    server's"."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        text = thai.arabic_digits(value.strip())
        number = int(text) if text.isascii() and text.isdigit() and len(text) < 9 else None
    if number is None or not least <= number <= most:
        raise _FieldError(
            field, f"{LABELS[field]}: ต้องเป็น{unit} {thai.thai_digits(f'{least:,}')}–"
                   f"{thai.thai_digits(f'{most:,}')}",
            f"{field}: a whole number from {least} to {most}", code)
    return number


def _policy_shape(value: object) -> dict[str, dict[str, str]]:
    """The submitted durations, trimmed, by urgency; blanks dropped (they mean the server's)."""
    if not isinstance(value, Mapping):
        raise _FieldError("reminder_policy", f"{LABELS['reminder_policy']}: ค่าไม่ถูกต้อง",
                          "reminder_policy: expected {urgency: {first, repeat}}", "bad_setting")
    shaped: dict[str, dict[str, str]] = {}
    for urgency, entry in value.items():
        if urgency not in set(Urgency) or not isinstance(entry, Mapping) or any(
                key not in REMINDER_KEYS or not isinstance(text, str)
                for key, text in entry.items()):
            raise _FieldError("reminder_policy", f"{LABELS['reminder_policy']}: ค่าไม่ถูกต้อง",
                              f"reminder_policy: bad entry {urgency!r}", "bad_setting")
        for key, text in entry.items():
            text = thai.arabic_digits(text).strip().lower().replace(" ", "")
            if text:
                shaped.setdefault(str(urgency), {})[key] = text
    return shaped


def _check_durations(policy: dict[str, dict[str, str]], calendar: OfficeCalendar,
                     errors: dict[str, _FieldError]) -> None:
    for urgency, entry in policy.items():
        for key, text in entry.items():
            field = f"reminder_policy.{urgency}.{key}"
            label = (f"เตือน{'ครั้งแรก' if key == 'first' else 'ซ้ำทุก'} "
                     f"({URGENCY_LABELS[Urgency(urgency)]})")
            try:
                duration = calendar.parse_duration(text)
            except (ValueError, OverflowError):
                errors[field] = _FieldError(
                    field, f"{label}: ใช้ตัวเลขตามด้วย m (นาที) h (ชั่วโมงทำการ) หรือ d (วันทำการ) "
                           "เช่น 30m, 2h, 1d",
                    f"{field}: not a duration {text!r} (use e.g. 30m, 2h, 1d)", "bad_duration")
                continue
            if not REMINDER_MIN <= duration <= calendar.day_length * REMINDER_MAX_DAYS:
                errors[field] = _FieldError(
                    field, f"{label}: ต้องไม่น้อยกว่า ๑๕ นาที และไม่เกิน "
                           f"{thai.thai_digits(REMINDER_MAX_DAYS)} วันทำการ",
                    f"{field}: from 15 minutes to {REMINDER_MAX_DAYS} office days",
                    "bad_duration")


def _validate(session: Session, org: Organization,
              changes: Mapping[str, object]) -> dict[str, object]:
    """Every change checked and normalised, or one Invalid naming each bad field in Thai."""
    errors: dict[str, _FieldError] = {}
    clean: dict[str, object] = {}
    checks: dict[str, Any] = {
        "name": lambda v: _text("name", v, maximum=NAME_MAX, required=True),
        "unit_line": lambda v: _text("unit_line", v, maximum=UNIT_LINE_MAX, required=True),
        "phone": lambda v: _text("phone", v, maximum=PHONE_MAX, required=False),
        "doc_prefix": _doc_prefix,
        "numbering_point": _numbering_point,
        "office_opens": lambda v: _hour("office_opens", v),
        "office_closes": lambda v: _hour("office_closes", v),
        "reminder_policy": _policy_shape,
        "escalate_after": _escalate_after,
        "attachments_per_memo": lambda v: _count("attachments_per_memo", v, 1,
                                                 ATTACHMENTS_PER_MEMO_MAX, "bad_attachment_count"),
        "storage_quota_mb": lambda v: _count("storage_quota_mb", v, STORAGE_MIN_MB,
                                             STORAGE_MAX_MB, "bad_storage_quota"),
        **{name: _boolean(name) for name in _BOOLEANS},
    }
    for field, value in changes.items():
        check = checks.get(field)
        if check is None:
            raise Invalid(f"ไม่รู้จักการตั้งค่า {field}", f"Unknown setting {field!r}.",
                          code="unknown_setting", details={"field": field})
        try:
            clean[field] = check(value)
        except _FieldError as exc:
            errors[exc.field] = exc

    if "name" in clean and clean["name"] != org.name and session.exec(
            select(Organization.id).where(Organization.name == clean["name"],
                                          col(Organization.id) != org.id)).first() is not None:
        errors["name"] = _FieldError("name", "ชื่อหน่วยงาน: มีหน่วยงานอื่นใช้ชื่อนี้แล้ว",
                                     "name: another office has this name", "duplicate_name")

    calendar = OfficeCalendar()
    if not {"office_opens", "office_closes"} & errors.keys():
        config = current_app.config
        opens = str(clean.get("office_opens", org.office_opens)) or config["OFFICE_OPENS"]
        closes = str(clean.get("office_closes", org.office_closes)) or config["OFFICE_CLOSES"]
        if time.fromisoformat(opens) >= time.fromisoformat(closes):
            errors["office_closes"] = _FieldError(
                "office_closes", "เวลาปิดทำการต้องหลังเวลาเปิดทำการ",
                f"office_closes: {closes} is not after opening time {opens}", "bad_office_hours")
        else:
            calendar = OfficeCalendar(opens=time.fromisoformat(opens),
                                      closes=time.fromisoformat(closes))
    if isinstance(clean.get("reminder_policy"), dict):
        _check_durations(clean["reminder_policy"], calendar, errors)  # type: ignore[arg-type]

    if errors:
        messages = [e.message for e in errors.values()]
        codes = {e.code for e in errors.values()}
        raise Invalid(
            "ข้อมูลไม่ถูกต้อง: " + " ".join(messages),
            "Invalid settings: " + "; ".join(e.message_en for e in errors.values()),
            code=codes.pop() if len(codes) == 1 else "invalid_settings",
            details={"field": next(iter(errors)),
                     "fields": {name: e.message for name, e in errors.items()}},
        )
    return clean


def _doc_prefix(value: object) -> str:
    text = _text("doc_prefix", value, maximum=DOC_PREFIX_MAX, required=False)
    if "/" in text:
        raise _FieldError("doc_prefix",
                          "รหัสเลขที่หนังสือ: ไม่ต้องใส่ / ระบบเติม /เลขลำดับ ให้เอง",
                          "doc_prefix: no '/'; the running number is appended", "bad_doc_prefix")
    return text


def _numbering_point(value: object) -> str:
    if value not in set(NumberingPoint):
        raise _FieldError("numbering_point", "การออกเลขที่หนังสือ: ค่าไม่ถูกต้อง",
                          "numbering_point: approval or submission", "bad_setting")
    return str(value)


def _boolean(field: str) -> Any:
    def check(value: object) -> bool:
        if not isinstance(value, bool):
            raise _FieldError(field, f"{LABELS[field]}: ค่าไม่ถูกต้อง", f"{field}: true or false",
                              "bad_setting")
        return value

    return check


def _stored(org: Organization, field: str) -> object:
    """A setting as the audit shows it: the policy as a mapping, not its JSON text."""
    if field == "reminder_policy":
        return policy_overrides(org)
    return getattr(org, field)


def _reschedule_reminders(session: Session, org_id: int) -> None:
    """Make every scheduled reminder of the office due for the next sweep, which judges it
    again by the new hours and policy: a shorter policy then reminds memos already waiting
    without delay, a longer one pushes their reminders back."""
    session.exec(  # type: ignore[call-overload]
        update(MemoStep)
        .where(col(MemoStep.status) == StepStatus.PENDING,
               col(MemoStep.next_reminder_at).is_not(None),
               col(MemoStep.memo_id).in_(select(Memo.id).where(Memo.org_id == org_id)))
        .values(next_reminder_at=clock.now())
    )


def settings_fingerprint(org: Organization) -> str:
    """What the settings form carries back, so a stale tab cannot undo another admin's save."""
    return fingerprint({field: _stored(org, field) for field in LABELS})


def update_settings(*, principal: Principal, changes: Mapping[str, object],
                    request_info: RequestInfo | None = None, seen: str | None = None) -> list[str]:
    """Change some of the office's settings (all validated first); return the fields changed.

    ``changes`` maps a field to its new value; for hours, reminder durations and escalation
    "" (or None) means the server's default. Nothing is saved unless every value is good.
    """
    require_admin(principal)
    try:
        with db.write() as session:
            org = session.get(Organization, principal.org_id, with_for_update=True)
            if org is None:
                raise NotFound("ไม่พบหน่วยงาน", "Office not found.", code="org_not_found")
            check_unchanged(seen, {field: _stored(org, field) for field in LABELS})
            clean = _validate(session, org, changes)
            before: dict[str, object] = {}
            after: dict[str, object] = {}
            for field, value in clean.items():
                old = _stored(org, field)
                if old == value:
                    continue
                before[field], after[field] = old, value
                if field == "reminder_policy":
                    value = json.dumps(value, sort_keys=True, ensure_ascii=False,
                                       separators=(",", ":")) if value else ""
                setattr(org, field, value)
            if after.keys() & {"office_opens", "office_closes", "reminder_policy"}:
                _reschedule_reminders(session, org.id or 0)
            if after:
                record_change(session, principal, "office_settings", before=before, after=after,
                              request_info=request_info)
                _LOGGER.info("office %s settings changed: %s", org.id, ", ".join(after))
            return list(after)
    except IntegrityError:
        # Another office took the name between our check and the commit.
        raise Invalid("ชื่อหน่วยงาน: มีหน่วยงานอื่นใช้ชื่อนี้แล้ว",
                      "name: another office has this name", code="duplicate_name",
                      details={"field": "name",
                               "fields": {"name": "ชื่อหน่วยงาน: มีหน่วยงานอื่นใช้ชื่อนี้แล้ว"}},
                      ) from None


