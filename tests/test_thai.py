"""Thai digits and Buddhist-era dates (``workflow/thai.py``), against what a reader expects."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from workflow import thai


def test_a_moment_reads_in_the_office_time_zone_in_the_buddhist_era() -> None:
    moment = datetime(2022, 4, 19, 7, 30, tzinfo=UTC)
    assert thai.format_datetime(moment) == "๑๙ เม.ย. ๒๕๖๕ ๑๔:๓๐ น."
    assert thai.format_datetime(moment, thai=False) == "19 เม.ย. 2565 14:30 น."
    naive = datetime(2022, 12, 31, 17, 5)  # stored without a zone: UTC
    assert thai.format_datetime(naive) == "๑ ม.ค. ๒๕๖๖ ๐๐:๐๕ น."
    assert thai.format_datetime(None) == ""


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1),
                    timezones=st.just(UTC)),
       st.sampled_from(["Asia/Bangkok", "UTC", "America/St_Johns", "Asia/Kathmandu"]),
       st.booleans())
def test_a_moment_reads_as_its_date_and_its_hour_and_minute(
        moment: datetime, tz: str, thai_digits: bool) -> None:
    # The date as format_date writes it, the time as strftime does: what format_datetime
    # wrote before it was made faster (it is on every line of a list).
    local = thai.to_local(moment, tz)
    expected = f"{thai.format_date(local.date(), thai=False, short=True)} {local:%H:%M} น."
    if thai_digits:
        expected = thai.thai_digits(expected)
    assert thai.format_datetime(moment, tz=tz, thai=thai_digits) == expected
