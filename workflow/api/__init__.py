"""The JSON API under /api/v1, on the same services as the web pages.

Other tools are built on these paths: keep them stable.
"""

from __future__ import annotations

from flask import Blueprint, g, request

from ..errors import Unauthorized
from ..services import accounts

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PUBLIC_ENDPOINTS = {"api.issue_token", "api.openapi"}


@bp.before_request
def _authenticate() -> None:
    """Every call but token issue and the OpenAPI document needs ``Authorization: Bearer``."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    principal = None
    if scheme.lower() == "bearer" and token.strip():
        principal = accounts.load_principal(token.strip(), accounts.API)
    if principal is None:
        raise Unauthorized(
            "กรุณาเข้าสู่ระบบ: โทเค็นไม่ถูกต้องหรือหมดอายุ",
            "Missing, invalid or expired bearer token.",
            code="invalid_token",
        )
    g.principal = principal


from . import audit, memos, openapi, tokens  # noqa: E402,F401  (routes register on bp)
