"""Loading a record of this office, or 404: another office's record is answered exactly as a
missing one."""

from __future__ import annotations

from typing import TypeVar

from sqlmodel import Session

from ..errors import NotFound

_Row = TypeVar("_Row")


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
