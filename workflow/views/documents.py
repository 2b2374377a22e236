"""The printed memo (HTML and PDF) and the public verification page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from ..errors import NotFound, WorkflowError
from ..extensions import verify_limit
from ..memos import documents
from ..seal import keys, sealing
from ..seal import verify as seal_verify
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


@bp.route("/verify", methods=["GET", "POST"])
@verify_limit
def verify_upload() -> Any:
    """Public: upload a PDF and learn whether it is an office's sealed copy, unchanged."""
    if request.method == "GET":
        return render_template("verify_upload.html", result=None, error="")
    # Stop reading the body once it passes the limit, rather than after spooling it all.
    request.max_content_length = seal_verify.request_cap()
    try:
        result = seal_verify.verify_pdf(seal_verify.read_upload(request.files.get("file")))
    except WorkflowError as exc:
        return render_template("verify_upload.html", result=None,
                               error=exc.message), exc.status
    return render_template("verify_upload.html", result=result, error="")


@bp.route("/verify/root/<fingerprint>.pem")
def seal_root(fingerprint: str) -> Response:
    """Public: an office seal's root certificate, for a reader's PDF program to trust."""
    pem = keys.root_by_fingerprint(fingerprint.lower())
    if not pem:
        raise NotFound("ไม่พบใบรับรองรากนี้", "No office seal has this root.", code="no_root")
    return Response(pem, mimetype="application/x-pem-file", headers={
        "Content-Disposition": f'attachment; filename="seal-root-{fingerprint[:16]}.pem"'})


@bp.route("/verify/<document_hash>")
def verify(document_hash: str) -> Any:
    """Public: is this the approved version of a memo? Says so without showing its content."""
    result = documents.verify(document_hash.strip().lower())
    return render_template("verify.html", result=result, document_hash=document_hash), (
        200 if result.genuine else 404)
