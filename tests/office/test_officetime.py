"""Office-time arithmetic as a table: no app, no database, just OfficeCalendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from workflow.officetime import OfficeCalendar

BKK = ZoneInfo("Asia/Bangkok")
H = timedelta(hours=1)
M = timedelta(minutes=1)
DAY = 8 * H  # one office day of 08:30-16:30

CAL = OfficeCalendar()
# 2026-03-13 is an ordinary Friday: the Monday after it (16 March) is no holiday.
EXTRA_HOLIDAY_MONDAY = OfficeCalendar(extra_holidays=frozenset({date(2026, 3, 16)}))
SATURDAY_OPEN = OfficeCalendar(extra_working_days=frozenset({date(2026, 3, 14)}))
OPEN_ON_KING_BHUMIBOL_IN_LIEU = OfficeCalendar(extra_working_days=frozenset({date(2026, 12, 7)}))
MORNINGS_ONLY = OfficeCalendar(opens=time(9, 0), closes=time(12, 0))


def bkk(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock moment in Bangkok."""
    return datetime(year, month, day, hour, minute, tzinfo=BKK)


# The dates the tables below rely on, checked against the `holidays` package itself.
THAI_HOLIDAYS = [
    pytest.param(date(2026, 12, 7), id="2026-12-07-mon-king-bhumibol-in-lieu"),
    pytest.param(date(2026, 3, 3), id="2026-03-03-tue-makha-bucha"),
    pytest.param(date(2026, 4, 6), id="2026-04-06-mon-chakri"),
    pytest.param(date(2026, 4, 13), id="2026-04-13-mon-songkran"),
    pytest.param(date(2026, 4, 14), id="2026-04-14-tue-songkran"),
    pytest.param(date(2026, 4, 15), id="2026-04-15-wed-songkran"),
    pytest.param(date(2026, 12, 31), id="2026-12-31-thu-new-years-eve"),
    pytest.param(date(2027, 1, 1), id="2027-01-01-fri-new-year"),
]
ORDINARY_DAYS = [
    pytest.param(date(2026, 3, 2), id="2026-03-02-mon"),
    pytest.param(date(2026, 3, 13), id="2026-03-13-fri"),
    pytest.param(date(2026, 3, 16), id="2026-03-16-mon"),
    pytest.param(date(2026, 4, 16), id="2026-04-16-thu-after-songkran"),
    pytest.param(date(2026, 12, 8), id="2026-12-08-tue"),
]


@pytest.mark.parametrize("day", THAI_HOLIDAYS)
def test_chosen_holidays_really_are_thai_holidays(day: date) -> None:
    """Every holiday the tables rely on is a Thai public or government holiday in `holidays`."""
    calendar = holidays.country_holidays("TH", years=day.year,
                                         categories=("public", "government"))
    assert day in calendar


@pytest.mark.parametrize("day", ORDINARY_DAYS)
def test_chosen_ordinary_days_are_not_holidays(day: date) -> None:
    """Every ordinary weekday the tables rely on is no Thai holiday in `holidays`."""
    calendar = holidays.country_holidays("TH", years=day.year,
                                         categories=("public", "government"))
    assert day.weekday() < 5 and day not in calendar


ADD = [
    # calendar, start, office time to add, expected (Bangkok wall clock)
    pytest.param(CAL, bkk(2026, 3, 10, 9), 2 * H, bkk(2026, 3, 10, 11),
                 id="inside-hours"),
    pytest.param(CAL, bkk(2026, 3, 10, 14, 30), 2 * H, bkk(2026, 3, 10, 16, 30),
                 id="ends-exactly-at-closing"),
    pytest.param(CAL, bkk(2026, 3, 10, 15), 3 * H, bkk(2026, 3, 11, 10),
                 id="crosses-closing-time"),
    pytest.param(CAL, bkk(2026, 3, 10, 7), H, bkk(2026, 3, 10, 9, 30),
                 id="starts-before-opening"),
    pytest.param(CAL, bkk(2026, 3, 10, 18), H, bkk(2026, 3, 11, 9, 30),
                 id="starts-after-closing"),
    pytest.param(CAL, bkk(2026, 3, 10, 16, 30), 30 * M, bkk(2026, 3, 11, 9),
                 id="starts-at-closing"),
    pytest.param(CAL, bkk(2026, 3, 14, 10), H, bkk(2026, 3, 16, 9, 30),
                 id="starts-on-saturday"),
    pytest.param(CAL, bkk(2026, 3, 15, 23, 59), 4 * H, bkk(2026, 3, 16, 12, 30),
                 id="starts-on-sunday-night"),
    pytest.param(CAL, bkk(2026, 3, 10, 10), timedelta(0), bkk(2026, 3, 10, 10),
                 id="zero-inside-hours"),
    pytest.param(CAL, bkk(2026, 3, 14, 10), timedelta(0), bkk(2026, 3, 16, 8, 30),
                 id="zero-on-weekend-waits-for-opening"),
    pytest.param(CAL, bkk(2026, 3, 13, 16), DAY, bkk(2026, 3, 16, 16),
                 id="friday-1600-plus-1-day-is-monday-1600"),
    pytest.param(CAL, bkk(2026, 3, 13, 16), 30 * M, bkk(2026, 3, 13, 16, 30),
                 id="friday-1600-plus-30m-is-friday-closing"),
    pytest.param(CAL, bkk(2026, 3, 13, 16, 15), 30 * M, bkk(2026, 3, 16, 8, 45),
                 id="friday-1615-plus-30m-spills-to-monday"),
    pytest.param(CAL, bkk(2026, 3, 12, 10), 2 * DAY, bkk(2026, 3, 16, 10),
                 id="thursday-plus-2-days-skips-weekend"),
    pytest.param(CAL, bkk(2026, 3, 2, 8, 30), 10 * DAY, bkk(2026, 3, 16, 16, 30),
                 id="ten-days-skip-two-weekends-and-makha-bucha"),
    pytest.param(CAL, bkk(2026, 12, 4, 16), DAY, bkk(2026, 12, 8, 16),
                 id="friday-before-holiday-monday-is-tuesday"),
    pytest.param(CAL, bkk(2026, 4, 3, 10), DAY, bkk(2026, 4, 7, 10),
                 id="chakri-day-monday-skipped"),
    pytest.param(CAL, bkk(2026, 4, 10, 16), DAY, bkk(2026, 4, 16, 16),
                 id="songkran-13-to-15-april-skipped"),
    pytest.param(CAL, bkk(2026, 4, 14, 11), 2 * H, bkk(2026, 4, 16, 10, 30),
                 id="starts-during-songkran"),
    pytest.param(CAL, bkk(2026, 12, 30, 16), DAY, bkk(2027, 1, 4, 16),
                 id="new-years-eve-and-day-across-the-year"),
    pytest.param(EXTRA_HOLIDAY_MONDAY, bkk(2026, 3, 13, 16), DAY, bkk(2026, 3, 17, 16),
                 id="office-extra-holiday-monday"),
    pytest.param(SATURDAY_OPEN, bkk(2026, 3, 13, 16), DAY, bkk(2026, 3, 14, 16),
                 id="office-extra-working-saturday"),
    pytest.param(SATURDAY_OPEN, bkk(2026, 3, 14, 7), H, bkk(2026, 3, 14, 9, 30),
                 id="extra-working-saturday-keeps-office-hours"),
    pytest.param(OPEN_ON_KING_BHUMIBOL_IN_LIEU, bkk(2026, 12, 4, 16), DAY, bkk(2026, 12, 7, 16),
                 id="extra-working-day-overrides-public-holiday"),
    pytest.param(MORNINGS_ONLY, bkk(2026, 3, 10, 11), 2 * H, bkk(2026, 3, 11, 10),
                 id="custom-hours-09-to-12"),
    pytest.param(CAL, datetime(2026, 3, 13, 9, tzinfo=UTC), DAY, bkk(2026, 3, 16, 16),
                 id="utc-input-friday-0900z-is-1600-bangkok"),
    pytest.param(CAL, datetime(2026, 3, 13, 20, tzinfo=UTC), H, bkk(2026, 3, 16, 9, 30),
                 id="utc-evening-is-already-saturday-in-bangkok"),
]


@pytest.mark.parametrize(("calendar", "start", "duration", "expected"), ADD)
def test_add(calendar: OfficeCalendar, start: datetime, duration: timedelta,
             expected: datetime) -> None:
    """Adding office time lands on the expected moment, as an aware UTC datetime."""
    result = calendar.add(start, duration)
    assert result == expected
    assert result.tzinfo is UTC


WORKING_DAYS = [
    pytest.param(CAL, date(2026, 3, 13), True, id="ordinary-friday"),
    pytest.param(CAL, date(2026, 3, 14), False, id="saturday"),
    pytest.param(CAL, date(2026, 3, 15), False, id="sunday"),
    pytest.param(CAL, date(2026, 12, 7), False, id="king-bhumibol-in-lieu-monday"),
    pytest.param(CAL, date(2026, 4, 13), False, id="songkran-13-april"),
    pytest.param(CAL, date(2026, 4, 14), False, id="songkran-14-april"),
    pytest.param(CAL, date(2026, 4, 15), False, id="songkran-15-april"),
    pytest.param(CAL, date(2026, 4, 16), True, id="day-after-songkran"),
    pytest.param(CAL, date(2027, 1, 1), False, id="new-year-2027"),
    pytest.param(EXTRA_HOLIDAY_MONDAY, date(2026, 3, 16), False, id="office-extra-holiday"),
    pytest.param(EXTRA_HOLIDAY_MONDAY, date(2026, 3, 17), True, id="day-after-extra-holiday"),
    pytest.param(SATURDAY_OPEN, date(2026, 3, 14), True, id="extra-working-saturday"),
    pytest.param(SATURDAY_OPEN, date(2026, 3, 15), False, id="sunday-after-extra-saturday"),
    pytest.param(OPEN_ON_KING_BHUMIBOL_IN_LIEU, date(2026, 12, 7), True,
                 id="extra-working-day-on-public-holiday"),
]


@pytest.mark.parametrize(("calendar", "day", "expected"), WORKING_DAYS)
def test_is_working_day(calendar: OfficeCalendar, day: date, expected: bool) -> None:
    """Weekends, Thai holidays and the office's own exceptions decide whether it is open."""
    assert calendar.is_working_day(day) is expected


DURATIONS = [
    pytest.param(CAL, "2h", 2 * H, id="hours"),
    pytest.param(CAL, "30m", 30 * M, id="minutes"),
    pytest.param(CAL, "1d", DAY, id="one-office-day-is-8h"),
    pytest.param(CAL, "2d", 2 * DAY, id="two-office-days"),
    pytest.param(CAL, "0.5d", 4 * H, id="half-office-day"),
    pytest.param(CAL, "1.5h", 90 * M, id="fractional-hours"),
    pytest.param(CAL, " 4 h ", 4 * H, id="spaces-allowed"),
    pytest.param(CAL, "0h", timedelta(0), id="zero"),
    pytest.param(MORNINGS_ONLY, "1d", 3 * H, id="office-day-follows-custom-hours"),
]


@pytest.mark.parametrize(("calendar", "text", "expected"), DURATIONS)
def test_parse_duration(calendar: OfficeCalendar, text: str, expected: timedelta) -> None:
    """Durations are hours, minutes or office days."""
    assert calendar.parse_duration(text) == expected


BAD_DURATIONS = [
    pytest.param("", id="empty"),
    pytest.param("2", id="no-unit"),
    pytest.param("h", id="no-amount"),
    pytest.param("2x", id="unknown-unit"),
    pytest.param("2 hours", id="unit-spelled-out"),
    pytest.param("-1h", id="negative"),
    pytest.param("1h30m", id="compound"),
    pytest.param("1dd", id="unit-twice"),
    pytest.param("1e3h", id="exponent"),
    pytest.param(".5h", id="no-leading-digit"),
]


@pytest.mark.parametrize("text", BAD_DURATIONS)
def test_parse_duration_rejects(text: str) -> None:
    """Anything but <number><m|h|d> is refused with a message naming the text."""
    with pytest.raises(ValueError, match="not a duration"):
        CAL.parse_duration(text)


def test_add_rejects_naive_datetime() -> None:
    """A naive start is refused: office time needs to know where the clock is."""
    with pytest.raises(ValueError, match="aware"):
        CAL.add(datetime(2026, 3, 13, 16), DAY)


def test_day_length() -> None:
    """One office day is the span between opening and closing."""
    assert CAL.day_length == DAY
    assert MORNINGS_ONLY.day_length == 3 * H
