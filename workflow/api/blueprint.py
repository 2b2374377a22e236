"""The API's blueprint and its bearer-token check, shared by every API module."""

from __future__ import annotations

from flask import Blueprint, g, request

from ..errors import Unauthorized
from ..identity.principal import API, load_principal

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PUBLIC_ENDPOINTS = {"api.issue_token", "api.openapi", "api.docs", "api.docs_asset",
                    "api.verify_upload"}


@bp.before_request
def _authenticate() -> None:
    """Every call but token issue and the OpenAPI document needs ``Authorization: Bearer``."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    principal = None
    if scheme.lower() == "bearer" and token.strip():
        principal = load_principal(token.strip(), API)
    if principal is None:
        raise Unauthorized(
            "กรุณาเข้าสู่ระบบ: โทเค็นไม่ถูกต้องหรือหมดอายุ",
            "Missing, invalid or expired bearer token.",
            code="invalid_token",
        )
    g.principal = principal

