"""Verify by upload through the API: ``POST /api/v1/verify`` with a multipart field ``file``.
Public, like the page, and rate-limited the same way."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from flask import jsonify, request
from pydantic import BaseModel, Field

from ..extensions import verify_limit
from ..seal import verify as seal_verify
from .blueprint import bp
from .contract import operation


class SignerLine(BaseModel):
    """One signer of the memo, as its completion certificate prints them."""

    name: str
    position: str
    when: datetime


class VerifyResult(BaseModel):
    """What an uploaded PDF turned out to be."""

    verdict: Literal["valid", "altered", "appended", "not_ours", "unsigned"]
    genuine: bool = Field(description="an office's seal, intact, covering the whole file")
    message: str = Field(description="Thai, for the user")
    message_en: str
    sha256: str = Field(description="SHA-256 of the uploaded file")
    signed_by: str = Field(description="the signing certificate's subject, as the file has it")
    office: str = Field(description="the office whose seal made the signature, if any")
    root_fingerprint: str = Field(description="SHA-256 of that office's root, when valid; "
                                  "GET /verify/root/{root_fingerprint}.pem downloads it")
    sealed_at: datetime | None
    timestamped: bool = Field(description="sealed_at is from a trusted timestamp authority")
    untrusted_timestamp: bool = Field(description="sealed_at is from a timestamp whose "
                                      "authority this server is not set to trust")
    number: str = Field(description="the memo's ที่, when the file is a stored sealed copy")
    approved_at: datetime | None
    signers: list[SignerLine]


@bp.route("/verify", methods=["POST"])
@operation("Check an uploaded PDF: is it an office's sealed final copy, unchanged? (public)",
           VerifyResult, upload="file", public=True, errors=(413, 422, 429, 503))
@verify_limit
def verify_upload() -> Any:
    """Is the uploaded PDF an office's sealed final copy, unchanged? The answer in Thai
    (``message``) and English (``message_en``); a file that is no readable PDF is a 4xx."""
    request.max_content_length = seal_verify.request_cap()
    result = seal_verify.verify_pdf(seal_verify.read_upload(request.files.get("file")))
    return jsonify(VerifyResult.model_validate(result.public()).model_dump(mode="json"))
