"""Small helpers the views share."""

from __future__ import annotations

from typing import cast

from flask_login import current_user

from ..identity.principal import Principal


def principal() -> Principal:
    """The signed-in user, typed (Flask-Login's proxy is untyped)."""
    return cast(Principal, current_user._get_current_object())  # noqa: SLF001
