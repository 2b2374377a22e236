"""The official document: what the print view and the PDF show, and public verification.

The completion certificate names the approved version's SHA-256 (its content hash,
which every decision also records) and links to ``/verify/<hash>``, a public page
that confirms the document is genuine and approved without showing its content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import segno
from flask import current_app, render_template
from sqlmodel import col, select

from .. import pdf, routing
from ..extensions import db
from ..identity.principal import Principal
from ..identity.signature_image import images_of
from ..models import AUDIT_ACTION_LABELS, AuditEvent, Memo, MemoVersion, Organization
from ..office.garuda import garuda_data_uri
from ..trail.chain import CHAIN_ACTIONS
from .loaded import load_memo
from .queries import MemoView, get_memo, memo_view
from .versions import latest


@dataclass(frozen=True)
class CertificateLine:
    when: datetime
    actor_name: str
    position: str
    action: str
    ip: str


@dataclass(frozen=True)
class Certificate:
    document_hash: str
    verify_url: str
    lines: list[CertificateLine]


@dataclass(frozen=True)
class SealBlock:
    """The visible part of the office seal on the completion certificate."""

    office: str
    sealed_at: datetime
    fingerprint: str


@dataclass(frozen=True)
class Document:
    view: MemoView
    certificate: Certificate | None
    # Set only on the final copy the seal signs; any other print of an approved memo says it
    # is not the final copy.
    seal: SealBlock | None = None


def document(principal: Principal, memo_id: int) -> Document:
    """The memo as it is printed, with its completion certificate once approved."""
    return _document(get_memo(principal, memo_id))  # checks access


def _document(view: MemoView, seal: SealBlock | None = None) -> Document:
    memo_id = view.memo.id or 0
    certificate = None
    version = None
    if view.memo.state == routing.APPROVED:
        version = latest(db.session, memo_id)
    if version is not None:
        chain = set(CHAIN_ACTIONS.values())
        events = db.session.exec(
            select(AuditEvent).where(AuditEvent.memo_id == memo_id)
            .order_by(col(AuditEvent.seq))
        ).all()
        base = current_app.config["BASE_URL"].rstrip("/")
        certificate = Certificate(
            document_hash=version.content_hash,
            verify_url=f"{base}/verify/{version.content_hash}",
            lines=[CertificateLine(e.created_at, e.actor_name, e.position_title, e.action, e.ip)
                   for e in events if e.action in chain],
        )
    return Document(view, certificate, seal)


@dataclass(frozen=True)
class Verification:
    """What anyone may learn from a hash: genuine and approved, by whom and when, no content."""

    genuine: bool
    office: str = ""
    number: str = ""
    approved_at: datetime | None = None
    revision: int = 0


def verify(document_hash: str) -> Verification:
    """Is ``document_hash`` the approved version of a memo?"""
    if len(document_hash) != 64 or any(c not in "0123456789abcdef" for c in document_hash):
        return Verification(False)
    # Two memos may carry identical content (a copy, another office): any one of them
    # approved at exactly this version makes the document genuine.
    rows = db.session.exec(
        select(MemoVersion, Memo, Organization)
        .join(Memo, Memo.id == MemoVersion.memo_id)  # type: ignore[arg-type]
        .join(Organization, Organization.id == Memo.org_id)  # type: ignore[arg-type]
        .where(MemoVersion.content_hash == document_hash, Memo.state == routing.APPROVED,
               col(Memo.revision) == col(MemoVersion.revision))
        .order_by(col(Memo.updated_at).desc())
    ).all()
    if not rows:
        return Verification(False)
    version, memo, org = rows[0]
    return Verification(True, org.name, memo.number or "", memo.updated_at, version.revision)


def render_html(doc: Document, css_url: str) -> str:
    """The print view's HTML: the official form with the office's Garuda, and the certificate
    with its QR code."""

    qr = ""
    if doc.certificate:
        qr = segno.make(doc.certificate.verify_url, error="m").svg_data_uri(scale=4)
    # Who signed a block: the drafter, and each signer of this round's decisions.
    memo = doc.view.memo
    signers = {memo.drafter_id} | {d.actor_id for d in doc.view.decisions
                                   if d.round == memo.round and d.actor_id is not None}
    return render_template("print/memo.html", doc=doc, css_url=css_url, qr=qr,
                           signature_images=images_of(signers),
                           garuda=garuda_data_uri(doc.view.org),
                           AUDIT_ACTION_LABELS=AUDIT_ACTION_LABELS)


def render_pdf(principal: Principal, memo_id: int) -> bytes:
    """The memo as an A4 PDF, for anyone who may read it."""
    return _pdf(render_html(document(principal, memo_id), "print.css"))


def render_final_pdf(memo_id: int, seal: SealBlock) -> bytes:
    """The approved memo as the seal signs it, with the seal's block on its certificate. For
    the sealing task, which acts for the office and no reader (nothing here checks access)."""
    loaded = load_memo(db.session, memo_id)
    office = Principal(user_id=0, org_id=loaded.memo.org_id, username="", full_name="",
                       email="", roles=frozenset())
    view = memo_view(office, loaded, for_page=False)
    return _pdf(render_html(_document(view, seal), "print.css"))


def _pdf(html: str) -> bytes:
    static = Path(current_app.static_folder or "static")
    config = current_app.config
    limits = pdf.Limits(memory_mb=config["PDF_MEMORY_MB"], seconds=config["PDF_TIMEOUT_SECONDS"],
                        concurrent=config["PDF_CONCURRENT"])
    return pdf.render(html, base_url=str(static) + "/", limits=limits)
