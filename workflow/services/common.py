"""Small pieces every service uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from flask import current_app

from .. import clock


@dataclass(frozen=True)
class RequestInfo:
    """Where an action came from, for the record."""

    ip: str = ""
    user_agent: str = ""


def office_tz() -> ZoneInfo:
    """The office's time zone (Asia/Bangkok unless configured otherwise)."""
    return ZoneInfo(current_app.config["TIMEZONE"])


def office_today() -> date:
    """Today's date where the office is, by the app's clock."""
    return clock.now().astimezone(office_tz()).date()
