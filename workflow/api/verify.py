"""Verify by upload through the API: ``POST /api/v1/verify`` with a multipart field ``file``.
Public, like the page, and rate-limited the same way."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from ..extensions import verify_limit
from ..seal import verify as seal_verify
from .blueprint import bp


@bp.route("/verify", methods=["POST"])
@verify_limit
def verify_upload() -> Any:
    """Is the uploaded PDF an office's sealed final copy, unchanged? The answer in Thai
    (``message``) and English (``message_en``); a file that is no readable PDF is a 4xx."""
    request.max_content_length = seal_verify.request_cap()
    result = seal_verify.verify_pdf(seal_verify.read_upload(request.files.get("file")))
    return jsonify(result.public())
