"""The one place the current time comes from, so that tests can set it."""

from __future__ import annotations

from datetime import UTC, datetime

_frozen: datetime | None = None


def now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def set_now(moment: datetime | None) -> None:
    """Freeze the clock at ``moment`` (aware), or let it run again with None."""
    global _frozen
    if moment is not None and moment.tzinfo is None:
        raise ValueError("set_now needs a timezone-aware datetime")
    _frozen = moment.astimezone(UTC) if moment is not None else None
