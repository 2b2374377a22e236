"""The printed memo (HTML and PDF) and the public verification page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import segno
from flask import Blueprint, Response, current_app, render_template, url_for
from flask_login import login_required

from .. import pdf
from ..models import AUDIT_ACTION_LABELS
from ..services import documents
from ..services.accounts import Principal
from .util import principal

bp = Blueprint("documents", __name__)


def _html(doc: documents.Document, css_url: str) -> str:
    qr = ""
    if doc.certificate:
        qr = segno.make(doc.certificate.verify_url, error="m").svg_data_uri(scale=4)
    return render_template("print/memo.html", doc=doc, css_url=css_url, qr=qr,
                           AUDIT_ACTION_LABELS=AUDIT_ACTION_LABELS)


def pdf_response(reader: Principal, memo_id: int) -> Response:
    """The memo as an A4 PDF, for anyone who may read it."""
    doc = documents.document(reader, memo_id)
    static = Path(current_app.static_folder or "static")
    body = pdf.render(_html(doc, "print.css"), base_url=str(static) + "/")
    name = f"memo-{memo_id}.pdf"
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}"'})


@bp.route("/memos/<int:memo_id>/print")
@login_required
def print_view(memo_id: int) -> str:
    """The memo laid out as the official form, for the browser's print."""
    return _html(documents.document(principal(), memo_id),
                 url_for("static", filename="print.css"))


@bp.route("/memos/<int:memo_id>.pdf")
@login_required
def memo_pdf(memo_id: int) -> Response:
    """The memo as PDF."""
    return pdf_response(principal(), memo_id)


@bp.route("/verify/<document_hash>")
def verify(document_hash: str) -> Any:
    """Public: is this the approved version of a memo? Says so without showing its content."""
    result = documents.verify(document_hash.strip().lower())
    return render_template("verify.html", result=result, document_hash=document_hash), (
        200 if result.genuine else 404)
