"""Bearer tokens: issue on username and password, revoke on logout."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, g, jsonify, request

from .. import clock
from ..extensions import limiter, login_username_limit
from ..identity import sessions
from ..identity.principal import API
from ..web import request_info
from .blueprint import bp
from .contract import operation, parse_body
from .schemas import TokenIssued, TokenRequest, TokenUser


@bp.route("/auth/token", methods=["POST"])
@operation("Exchange an office code, username and password for a bearer token", TokenIssued,
           status=201, body=TokenRequest, public=True, errors=(401, 403, 429))
@limiter.limit(lambda: str(current_app.config["LOGIN_LIMIT_PER_IP"]))
@login_username_limit  # shared with the /login form
def issue_token() -> Any:
    """Exchange a username and password for a bearer token."""
    credentials = parse_body(TokenRequest)
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
    return jsonify(TokenIssued(
        token=principal.token,
        expires_at=expires,
        user=TokenUser(id=principal.user_id, username=principal.username,
                       full_name=principal.full_name, roles=sorted(principal.roles)),
    ).model_dump(mode="json")), 201


@bp.route("/auth/token", methods=["DELETE"])
@operation("Revoke the token this request carries", None, status=204)
def revoke_token() -> Any:
    """Revoke the token this request carries."""
    sessions.revoke(g.principal.token, request_info())
    return "", 204
