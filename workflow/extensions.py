"""Flask extensions, created once here and bound to an app in ``create_app``.

Nothing here does I/O at import: each is configured by ``init_app``.
"""

from __future__ import annotations

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from .db import Database

db = Database()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def username_key() -> str:
    """Rate-limit key for login attempts against one account, whoever sends them."""
    name, office = "", ""
    if request.is_json:
        payload = request.get_json(silent=True)
        if isinstance(payload, dict):
            name, office = str(payload.get("username", "")), str(payload.get("office", ""))
    else:
        name, office = request.form.get("username", ""), request.form.get("office", "")
    # One account is a username within an office: every office's "clerk" has its own limit.
    return f"user:{office.strip().lower()[:32]}:{name.strip().lower()[:64]}"


def _username_limits() -> str:
    return str(current_app.config["LOGIN_LIMIT_PER_USERNAME"])


# One budget of guesses per username for every way of signing in (the /login form and
# POST /api/v1/auth/token): with a limit per route each had its own, doubling the guesses.
# A shared limit's storage key is its scope, not the endpoint, so both routes count together.
login_username_limit = limiter.shared_limit(
    _username_limits, scope="login-username", key_func=username_key, methods=["POST"])


def _verify_limits() -> str:
    return str(current_app.config["VERIFY_LIMIT"])


# Verify by upload parses whatever anyone sends: one budget per address for the page and the
# API together (POST /verify and POST /api/v1/verify).
verify_limit = limiter.shared_limit(_verify_limits, scope="verify-upload", methods=["POST"])
