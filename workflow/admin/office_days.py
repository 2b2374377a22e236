"""The office's own holidays and working days, on top of the Thai public and government
holidays the calendar knows."""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from ..errors import Conflict, NotFound
from ..extensions import db
from ..identity.principal import Principal, require_admin
from ..models import (
    OfficeDay,
)
from ..trail.chain import RequestInfo
from ..validation import one_line
from .changes import record_change

_LOGGER = logging.getLogger(__name__)


def _as_dict(row: OfficeDay) -> dict[str, object]:
    return {"day": row.day.isoformat(), "is_holiday": row.is_holiday, "note": row.note}


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
            record_change(session, principal, "office_day_added", before=None, after=_as_dict(row),
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
        record_change(session, principal, "office_day_removed", before=_as_dict(row), after=None,
                      request_info=request_info)
        session.delete(row)
