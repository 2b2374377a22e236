"""The office's own calendar exceptions: extra holidays and extra working days."""

from __future__ import annotations

from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ..errors import Conflict, Forbidden, NotFound
from ..extensions import db
from ..models import AuditAction, OfficeDay
from . import audit
from .accounts import Principal


def _require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("เฉพาะผู้ดูแลระบบเท่านั้น", "Administrators only.", code="admin_only")


def _as_dict(row: OfficeDay) -> dict[str, object]:
    return {"day": row.day.isoformat(), "is_holiday": row.is_holiday, "note": row.note}


def _audit(session: Session, principal: Principal, change: str, **details: object) -> None:
    audit.record(session, audit.Entry(
        AuditAction.ADMIN_CHANGE, org_id=principal.org_id, actor_id=principal.user_id,
        actor_name=principal.full_name, details={"change": change, **details}))


def list_days(principal: Principal) -> list[OfficeDay]:
    """The office's exceptions, latest first."""
    _require_admin(principal)
    return list(db.session.exec(
        select(OfficeDay).where(OfficeDay.org_id == principal.org_id)
        .order_by(col(OfficeDay.day).desc())
    ).all())


def add_day(*, principal: Principal, day: date, is_holiday: bool, note: str) -> OfficeDay:
    """Declare ``day`` a holiday (or a working day) for the office's reminders."""
    _require_admin(principal)
    try:
        with db.write() as session:
            row = OfficeDay(org_id=principal.org_id, day=day, is_holiday=is_holiday,
                            note=note.strip()[:200])
            session.add(row)
            session.flush()
            _audit(session, principal, "office_day_added", before=None, after=_as_dict(row))
            return row
    except IntegrityError:
        raise Conflict("วันนี้มีอยู่ในรายการแล้ว", "That day is already listed.",
                       code="duplicate_day") from None


def remove_day(*, principal: Principal, day_id: int) -> None:
    """Take a day off the list."""
    _require_admin(principal)
    with db.write() as session:
        row = session.get(OfficeDay, day_id)
        if row is None or row.org_id != principal.org_id:
            raise NotFound("ไม่พบรายการนี้", "Day not found.")
        _audit(session, principal, "office_day_removed", before=_as_dict(row), after=None)
        session.delete(row)
