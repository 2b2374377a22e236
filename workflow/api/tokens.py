"""Bearer tokens: issue on username and password, revoke on logout."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, g, jsonify, request
from pydantic import BaseModel, Field, ValidationError

from .. import clock
from ..extensions import limiter, login_username_limit
from ..identity import sessions
from ..identity.principal import API
from ..models import CODE_MAX
from ..validation import invalid_from
from ..web import request_info
from .blueprint import bp
from .util import json_body


class TokenRequest(BaseModel):
    # The office's code; may be left out while the installation serves one office.
    office: str = Field(default="", max_length=CODE_MAX)
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


@bp.route("/auth/token", methods=["POST"])
@limiter.limit(lambda: str(current_app.config["LOGIN_LIMIT_PER_IP"]))
@login_username_limit  # shared with the /login form
def issue_token() -> Any:
    """Exchange a username and password for a bearer token."""
    try:
        credentials = TokenRequest.model_validate(json_body())
    except ValidationError as exc:
        raise invalid_from(exc) from None
    hours = int(current_app.config["API_TOKEN_HOURS"])
    principal = sessions.authenticate(
        office=credentials.office,
        username=credentials.username,
        password=credentials.password,
        kind=API,
        lifetime=timedelta(hours=hours),
        ip=request.remote_addr or "",
        user_agent=request.user_agent.string,
    )
    expires = clock.now() + timedelta(hours=hours)
    return jsonify({
        "token": principal.token,
        "token_type": "bearer",
        "expires_at": expires.isoformat(),
        "user": {"id": principal.user_id, "username": principal.username,
                 "full_name": principal.full_name, "roles": sorted(principal.roles)},
    }), 201


@bp.route("/auth/token", methods=["DELETE"])
def revoke_token() -> Any:
    """Revoke the token this request carries."""
    sessions.revoke(g.principal.token, request_info())
    return "", 204
