"""Office-time arithmetic: how far "two office hours" or "one office day" reaches.

Office time runs Monday to Friday, 08:30–16:30 in the office's time zone,
and stops on Thai public and government holidays (the ``holidays`` package)
and on the office's own extra holidays; extra working days count even when
they fall on a weekend. Pure: no database, no Flask.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

_MAX_DAYS = 3660  # never walk more than ten years looking for office time

# ASCII digits, and few of them: a reminder is minutes to weeks away, never 10^400 hours.
_DURATION = re.compile(r"^\s*(\d{1,6}(?:\.\d{1,3})?)\s*([mhd])\s*$", re.ASCII)


@lru_cache(maxsize=32)
def thai_holidays(year: int) -> frozenset[date]:
    """Thailand's public and government holidays of ``year``."""
    calendar = holidays.country_holidays("TH", years=year, categories=("public", "government"))
    return frozenset(calendar.keys())


@dataclass(frozen=True)
class OfficeCalendar:
    """When an office is open."""

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Bangkok"))
    opens: time = time(8, 30)
    closes: time = time(16, 30)
    extra_holidays: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()

    @property
    def day_length(self) -> timedelta:
        """One office day, as office time (8 hours for 08:30–16:30)."""
        return datetime.combine(date.min, self.closes) - datetime.combine(date.min, self.opens)

    def is_working_day(self, day: date) -> bool:
        """Open on ``day``?"""
        if day in self.extra_working_days:
            return True
        if day in self.extra_holidays or day.weekday() >= 5:
            return False
        return day not in thai_holidays(day.year)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of office time after ``start`` (aware in, aware UTC out)."""
        if start.tzinfo is None:
            raise ValueError("OfficeCalendar.add needs an aware datetime")
        remaining = duration
        cursor = start.astimezone(self.tz)
        for _ in range(_MAX_DAYS):
            day = cursor.date()
            if self.is_working_day(day):
                opening = datetime.combine(day, self.opens, self.tz)
                closing = datetime.combine(day, self.closes, self.tz)
                cursor = max(cursor, opening)
                if cursor < closing:
                    available = closing - cursor
                    if remaining <= available:
                        return (cursor + remaining).astimezone(UTC)
                    remaining -= available
            cursor = datetime.combine(day + timedelta(days=1), self.opens, self.tz)
        raise ValueError("no office time within ten years")

    def parse_duration(self, text: str) -> timedelta:
        """``"2h"``, ``"30m"`` or ``"1d"`` (one office day) as office time."""
        match = _DURATION.match(text)
        if not match:
            raise ValueError(f"not a duration: {text!r} (use e.g. 2h, 30m, 1d)")
        amount, unit = float(match.group(1)), match.group(2)
        if unit == "d":
            return self.day_length * amount
        return timedelta(hours=amount) if unit == "h" else timedelta(minutes=amount)
