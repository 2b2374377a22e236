"""The office's own settings and calendar: its name and document header, office hours,
reminder policy, the Garuda on its memos, and its extra holidays and working days.

Office hours, the reminder policy and escalation left empty fall back to the server's
configuration (``OFFICE_OPENS``/``OFFICE_CLOSES``, ``REMINDER_POLICY``, ``ESCALATE_AFTER``),
so an office only overrides what it means to; ``hours_of``, ``policy_of`` and
``escalation_of`` give the values in force, for the reminders.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import os
import re
import secrets
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta
from pathlib import Path
from typing import IO, Any

from flask import current_app
from PIL import Image
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from .. import clock, thai
from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..models import (
    UNIT_LINE_MAX,
    URGENCY_LABELS,
    AuditAction,
    Memo,
    MemoStep,
    NumberingPoint,
    OfficeDay,
    Organization,
    StepStatus,
    Urgency,
)
from ..officetime import OfficeCalendar
from . import audit
from .accounts import Principal
from .administration import (
    FIELD_LABELS,
    check_unchanged,
    fingerprint,
    one_line,
    require_admin,
)
from .common import RequestInfo

_LOGGER = logging.getLogger(__name__)

NAME_MAX = 200
PHONE_MAX = 100
DOC_PREFIX_MAX = 50
ESCALATE_MIN, ESCALATE_MAX = 1, 20
# A reminder more often than this would flood the signer; less often than this is no reminder.
REMINDER_MIN = timedelta(minutes=15)
REMINDER_MAX_DAYS = 30
REMINDER_KEYS = ("first", "repeat")
GARUDA_MAX_BYTES = 2 * 1024 * 1024
GARUDA_MAX_PIXELS = 25_000_000  # 5000 x 5000; a Garuda 1.5 cm tall needs far less
# extension -> (Pillow's format name, magic number, MIME type)
GARUDA_TYPES = {
    "png": ("PNG", b"\x89PNG\r\n\x1a\n", "image/png"),
    "jpg": ("JPEG", b"\xff\xd8\xff", "image/jpeg"),
}

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
}
_BOOLEANS = ("require_endorsement", "thai_digits", "holders_may_appoint")
FIELD_LABELS.update(LABELS)  # so the audit page names the office's settings in Thai too
# ASCII digits only (Thai digits are turned into them first): "٠٨:٣٠" is not an hour.
_HHMM = re.compile(r"^(\d{1,2})\s*[:.]\s*(\d{2})(?:\s*น\.?)?$", re.ASCII)


def _as_dict(row: OfficeDay) -> dict[str, object]:
    return {"day": row.day.isoformat(), "is_holiday": row.is_holiday, "note": row.note}


def _audit(session: Session, principal: Principal, change: str, *,
           request_info: RequestInfo | None = None, **details: object) -> None:
    audit.record(session, audit.Entry(
        AuditAction.ADMIN_CHANGE, org_id=principal.org_id, actor_id=principal.user_id,
        actor_name=principal.full_name, details={"change": change, **details},
        request_info=request_info))


# -- the values in force (used by the reminders) -------------------------------------------


def _stored_time(text: str) -> time | None:
    try:
        return time.fromisoformat(text) if text else None
    except ValueError:
        _LOGGER.warning("ignoring the office's unreadable hour %r", text)
        return None


def hours_of(org: Organization) -> tuple[time, time]:
    """When the office opens and closes: its own hours, else the server's."""
    config = current_app.config
    default_opens = time.fromisoformat(config["OFFICE_OPENS"])
    default_closes = time.fromisoformat(config["OFFICE_CLOSES"])
    opens = _stored_time(org.office_opens) or default_opens
    closes = _stored_time(org.office_closes) or default_closes
    if opens >= closes:
        # One side set, and the server's other side moved past it since: never a day of
        # no (or negative) office time, which would stall every reminder.
        _LOGGER.warning("office %s hours %s-%s are empty; using the server's", org.id, opens,
                        closes)
        return default_opens, default_closes
    return opens, closes


def policy_overrides(org: Organization) -> dict[str, dict[str, str]]:
    """The office's own reminder durations by urgency ("first"/"repeat"); absent: the server's."""
    if not org.reminder_policy:
        return {}
    try:
        stored = json.loads(org.reminder_policy)
    except ValueError:
        _LOGGER.warning("ignoring the unreadable reminder policy of office %s", org.id)
        return {}
    overrides: dict[str, dict[str, str]] = {}
    probe = OfficeCalendar()
    for urgency, entry in (stored.items() if isinstance(stored, dict) else ()):
        if urgency not in set(Urgency) or not isinstance(entry, dict):
            continue
        for key, value in entry.items():
            if key not in REMINDER_KEYS or not isinstance(value, str) or not value:
                continue
            try:
                probe.parse_duration(value)
            except ValueError:
                continue
            overrides.setdefault(urgency, {})[key] = value
    return overrides


def policy_of(org: Organization) -> dict[str, dict[str, str]]:
    """The reminder policy in force: the server's REMINDER_POLICY under the office's own values."""
    merged = {str(u): dict(v) for u, v in current_app.config["REMINDER_POLICY"].items()}
    for urgency, entry in policy_overrides(org).items():
        merged.setdefault(urgency, {}).update(entry)
    return merged


def escalation_of(org: Organization) -> int:
    """After how many reminders of one step the drafter is told the memo has stalled."""
    if org.escalate_after is not None:
        return org.escalate_after
    return int(current_app.config["ESCALATE_AFTER"])


# -- the settings page -------------------------------------------------------------------


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
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise _FieldError(field, f"{label}: ต้องเป็นข้อความบรรทัดเดียว ไม่มีอักขระควบคุม",
                          f"{field}: one line, no control characters", "bad_setting")
    if required and not value:
        raise _FieldError(field, f"{label}: ต้องกรอก", f"{field}: required", "required")
    if len(value) > maximum:
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
    field = "escalate_after"
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        text = thai.arabic_digits(value.strip())
        number = int(text) if text.isascii() and text.isdigit() and len(text) < 4 else None
    if number is None or not ESCALATE_MIN <= number <= ESCALATE_MAX:
        raise _FieldError(
            field, f"{LABELS[field]}: ต้องเป็นจำนวนครั้ง {thai.thai_digits(ESCALATE_MIN)}–"
                   f"{thai.thai_digits(ESCALATE_MAX)}",
            f"{field}: a whole number from {ESCALATE_MIN} to {ESCALATE_MAX}", "bad_escalation")
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
                _audit(session, principal, "office_settings", before=before, after=after,
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


# -- the Garuda (ครุฑ) on the office's memos -----------------------------------------------


def _garuda_folder() -> Path:
    from .attachments import folder  # attachments imports memos, which imports this module

    return folder()


def _garuda_type(data: bytes) -> str:
    """The image's extension judged from its bytes, after Pillow has decoded all of it."""
    refused = Invalid("ภาพครุฑต้องเป็นไฟล์ PNG หรือ JPEG เท่านั้น (ตรวจจากเนื้อไฟล์ ไม่ใช่ชื่อไฟล์; "
                      "ไม่รับ SVG)", "The Garuda must be a PNG or JPEG image (judged from its "
                      "content; SVG is not accepted).", code="bad_garuda_type",
                      details={"field": "garuda"})
    extension = next((ext for ext, (_, magic, _) in GARUDA_TYPES.items()
                      if data.startswith(magic)), None)
    if extension is None:
        raise refused
    broken = Invalid("อ่านไฟล์ภาพครุฑไม่ได้ ไฟล์อาจเสียหาย", "The Garuda image cannot be decoded.",
                     code="bad_garuda_image", details={"field": "garuda"})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format != GARUDA_TYPES[extension][0]:
                    raise refused
                if image.width * image.height > GARUDA_MAX_PIXELS:
                    raise Invalid("ภาพครุฑมีขนาดพิกเซลใหญ่เกินไป (ไม่เกิน ๕,๐๐๐ × ๕,๐๐๐)",
                                  "The Garuda image has too many pixels.",
                                  code="garuda_too_large", details={"field": "garuda"})
                # verify() reads every chunk to its end: WeasyPrint sets Pillow's
                # LOAD_TRUNCATED_IMAGES for the whole process, so load() alone would pad
                # a cut-off file instead of refusing it.
                image.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning,
            Image.DecompressionBombError):
        raise broken from None
    return extension


def set_garuda(principal: Principal, file_storage: Any,
               request_info: RequestInfo | None = None) -> str:
    """Store an uploaded PNG or JPEG (at most 2 MB) as the office's Garuda; return its name."""
    require_admin(principal)
    stream: IO[bytes] | None = getattr(file_storage, "stream", None)
    data = stream.read(GARUDA_MAX_BYTES + 1) if stream is not None else b""
    if not data:
        raise Invalid("กรุณาเลือกไฟล์ภาพครุฑ", "Choose an image file.", code="empty_file",
                      details={"field": "garuda"})
    if len(data) > GARUDA_MAX_BYTES:
        raise Invalid("ไฟล์ภาพครุฑใหญ่เกิน ๒ MB", "The Garuda image is larger than 2 MB.",
                      code="file_too_large", details={"field": "garuda"})
    extension = _garuda_type(data)
    digest = hashlib.sha256(data).hexdigest()
    name = f"garuda-{digest[:16]}.{extension}"
    folder = _garuda_folder()
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / name).is_file():
        # Named by content: the same image uploaded twice is one file, and a file once
        # written never changes, so a memo printed earlier is printed the same way again.
        partial = folder / f"{name}.{secrets.token_hex(4)}.part"
        try:
            partial.write_bytes(data)
            os.replace(partial, folder / name)
        finally:
            partial.unlink(missing_ok=True)
    with db.write() as session:
        org = session.get(Organization, principal.org_id, with_for_update=True)
        if org is None:
            raise NotFound("ไม่พบหน่วยงาน", "Office not found.", code="org_not_found")
        before = org.garuda_file
        org.garuda_file = name
        if before != name:
            _audit(session, principal, "office_settings", before={"garuda_file": before},
                   after={"garuda_file": name}, sha256=digest, size=len(data),
                   request_info=request_info)
    return name


def remove_garuda(principal: Principal, request_info: RequestInfo | None = None) -> None:
    """Print the office's memos without a Garuda; the file stays, as the audit names it."""
    require_admin(principal)
    with db.write() as session:
        org = session.get(Organization, principal.org_id, with_for_update=True)
        if org is None:
            raise NotFound("ไม่พบหน่วยงาน", "Office not found.", code="org_not_found")
        if not org.garuda_file:
            return
        _audit(session, principal, "office_settings", before={"garuda_file": org.garuda_file},
               after={"garuda_file": ""}, request_info=request_info)
        org.garuda_file = ""


def garuda_data_uri(org: Organization) -> str:
    """The office's Garuda as a ``data:`` URI for the print view and the PDF ("" if none)."""
    name = org.garuda_file
    extension = name.rsplit(".", 1)[-1]
    if not name or extension not in GARUDA_TYPES or "/" in name or name.startswith("."):
        return ""
    try:
        data = (_garuda_folder() / name).read_bytes()
    except OSError:
        _LOGGER.warning("office %s: Garuda file %s is missing", org.id, name)
        return ""
    return f"data:{GARUDA_TYPES[extension][2]};base64,{base64.b64encode(data).decode('ascii')}"


# -- extra holidays and working days ---------------------------------------------------------


def list_days(principal: Principal) -> list[OfficeDay]:
    """The office's exceptions, latest first."""
    require_admin(principal)
    return list(db.session.exec(
        select(OfficeDay).where(OfficeDay.org_id == principal.org_id)
        .order_by(col(OfficeDay.day).desc())
    ).all())


def add_day(*, principal: Principal, day: date, is_holiday: bool, note: str,
            request_info: RequestInfo | None = None) -> OfficeDay:
    """Declare ``day`` a holiday (or a working day) for the office's reminders."""
    require_admin(principal)
    note = one_line(note, label="หมายเหตุ", field="note", maximum=200, required=False)
    try:
        with db.write() as session:
            row = OfficeDay(org_id=principal.org_id, day=day, is_holiday=is_holiday, note=note)
            session.add(row)
            session.flush()
            _audit(session, principal, "office_day_added", before=None, after=_as_dict(row),
                   request_info=request_info)
            return row
    except IntegrityError:
        raise Conflict("วันนี้มีอยู่ในรายการแล้ว", "That day is already listed.",
                       code="duplicate_day") from None


def remove_day(*, principal: Principal, day_id: int,
               request_info: RequestInfo | None = None) -> None:
    """Take a day off the list."""
    require_admin(principal)
    with db.write() as session:
        row = session.get(OfficeDay, day_id)
        if row is None or row.org_id != principal.org_id:
            raise NotFound("ไม่พบรายการนี้", "Day not found.")
        _audit(session, principal, "office_day_removed", before=_as_dict(row), after=None,
               request_info=request_info)
        session.delete(row)
