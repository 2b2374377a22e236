"""The office's time zone, hours, calendar and reminder policy in force.

Office hours, the reminder policy and escalation left empty fall back to the server's
configuration (``OFFICE_OPENS``/``OFFICE_CLOSES``, ``REMINDER_POLICY``, ``ESCALATE_AFTER``),
so an office only overrides what it means to.
"""

from __future__ import annotations

import json
import logging
from datetime import date, time, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import event
from sqlmodel import Session, select

from .. import clock
from ..models import (
    OfficeDay,
    Organization,
    Urgency,
)
from ..officetime import OfficeCalendar

_LOGGER = logging.getLogger(__name__)

REMINDER_KEYS = ("first", "repeat")  # a reminder policy names when the first comes, and how often


def office_tz() -> ZoneInfo:
    """The office's time zone (Asia/Bangkok unless configured otherwise)."""
    return ZoneInfo(current_app.config["TIMEZONE"])


def office_today() -> date:
    """Today's date where the office is, by the app's clock."""
    return clock.now().astimezone(office_tz()).date()


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


# The office's own days by (office, calendar stamp): every memo's arrival and every reminder
# needs them, and they change a few times a year. A new stamp means a new key, so no entry is
# ever stale; the bound keeps a long-lived process from growing with offices x changes.
_DAYS: dict[tuple[int, str], tuple[frozenset[date], frozenset[date]]] = {}
_DAYS_BOUND = 4096


def calendar_for(session: Session, org_id: int) -> OfficeCalendar:
    """The office's calendar: its hours (else the server's), extra holidays and working days."""
    org = session.get(Organization, org_id)
    if org is not None:
        opens, closes = hours_of(org)
    else:
        opens, closes = (time.fromisoformat(current_app.config["OFFICE_OPENS"]),
                         time.fromisoformat(current_app.config["OFFICE_CLOSES"]))
    key = (org_id, org.calendar_stamp if org is not None else "")
    days = _DAYS.get(key)
    if days is None:
        rows = session.exec(select(OfficeDay).where(OfficeDay.org_id == org_id)).all()
        days = (frozenset(d.day for d in rows if d.is_holiday),
                frozenset(d.day for d in rows if not d.is_holiday))
        if org is not None:
            if len(_DAYS) >= _DAYS_BOUND:
                _DAYS.clear()
            # Under the stamp as it is now: the query may have flushed a change of this
            # session's, which restamped the office.
            _DAYS[(org_id, org.calendar_stamp)] = days
    return OfficeCalendar(
        tz=office_tz(),
        opens=opens,
        closes=closes,
        extra_holidays=days[0],
        extra_working_days=days[1],
    )


@event.listens_for(Session, "before_flush")
def _restamp_calendars(session: Session, _context: Any, _instances: Any) -> None:
    """Give an office a new calendar stamp in the same flush that adds, changes or removes
    one of its days, so that every process reads its calendar again."""
    touched = {row.org_id for row in (*session.new, *session.dirty, *session.deleted)
               if isinstance(row, OfficeDay)}
    for org_id in touched:
        org = session.get(Organization, org_id)
        if org is not None:
            org.calendar_stamp = uuid4().hex


def reminder_delay(calendar: OfficeCalendar, org: Organization, urgency: str, *,
                   first: bool) -> timedelta:
    """How much office time passes before the first (or the next) reminder, by the office's
    policy (else the server's REMINDER_POLICY)."""
    # A policy missing an urgency or a box must not stop the sweep for every office.
    entry = policy_of(org).get(str(urgency), {})
    text = entry.get("first" if first else "repeat") or entry.get("first") or "1d"
    return calendar.parse_duration(text)
