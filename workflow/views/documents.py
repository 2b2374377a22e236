"""The printed memo (HTML and PDF) and the public verification page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from ..memos import documents
from ..seal import sealing
from ..web import send_pdf
from .util import principal

bp = Blueprint("documents", __name__)


@bp.route("/memos/<int:memo_id>/print")
@login_required
def print_view(memo_id: int) -> str:
    """The memo laid out as the official form, for the browser's print."""
    return documents.render_html(documents.document(principal(), memo_id),
                                 url_for("static", filename="print.css"))


@bp.route("/memos/<int:memo_id>.pdf")
@login_required
def memo_pdf(memo_id: int) -> Response:
    """The memo as PDF."""
    return send_pdf(sealing.pdf_for(principal(), memo_id), memo_id)


@bp.route("/verify/<document_hash>")
def verify(document_hash: str) -> Any:
    """Public: is this the approved version of a memo? Says so without showing its content."""
    result = documents.verify(document_hash.strip().lower())
    return render_template("verify.html", result=result, document_hash=document_hash), (
        200 if result.genuine else 404)
