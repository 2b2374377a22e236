"""The sealed final PDF: rendered once when a memo is approved, signed PAdES with the office
seal, stored, and served byte for byte ever after.

A Celery task (``workflow.tasks.seal_memo``) runs ``seal_memo`` after the final approval
commits; the beat's ``seal_pending`` sweep picks up any approval whose task was lost or
failed (Redis down, the TSA unreachable). With ``SEAL_TSA_URL`` the signature carries an
RFC 3161 timestamp (PAdES B-T); without one it is B-B. A configured TSA that does not
answer fails the attempt rather than sealing without a timestamp: the file is stored once,
so it waits for the sweep instead of being stored weaker. The signature itself is made by
``signing.sign``, which ``seal_memo`` imports when it seals (pyHanko loads slowly).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from .. import clock, routing, storage
from ..db import per_thread
from ..errors import Unavailable
from ..extensions import db
from ..identity.access import require_view
from ..identity.principal import Principal
from ..memos import documents
from ..memos.loaded import load_memo
from ..models import AuditAction, Memo, Organization, SealedDocument
from ..trail.chain import Entry, record
from . import keys

_LOGGER = logging.getLogger(__name__)

SEAL_TASK = "workflow.tasks.seal_memo"
# Approvals the sweep re-queues at most per run.
_SWEEP_BATCH = 50


class _AlreadySealed(Exception):
    pass


def folder() -> Path:
    """Where sealed PDFs are kept: ``sealed/`` under ATTACHMENT_DIR, outside the web root."""
    return storage.folder() / "sealed"


def sealed_for(memo_id: int) -> SealedDocument | None:
    """The memo's sealed final PDF, if it has been made (asked by every approved memo's
    page, so its statement is built once per thread)."""
    return db.session.exec(_sealed_statement(), params={"memo_id": memo_id}).first()


@per_thread
def _sealed_statement() -> Any:
    return select(SealedDocument).where(SealedDocument.memo_id == bindparam("memo_id"))


@per_thread
def sealed_at_statement() -> Any:
    """When the memo's (``memo_id``) final copy was sealed, if it has been: what its page
    shows, for a page that reads it with other facts in one statement."""
    return select(SealedDocument.sealed_at).where(SealedDocument.memo_id == bindparam("memo_id"))


def read(document: SealedDocument) -> bytes:
    """The stored bytes, checked against the SHA-256 recorded when they were sealed."""
    data = (folder() / document.stored_name).read_bytes()
    if hashlib.sha256(data).hexdigest() != document.sha256:
        _LOGGER.error("sealed PDF of memo %s does not match its recorded SHA-256",
                      document.memo_id)
        raise Unavailable("ไฟล์ฉบับสมบูรณ์ของบันทึกนี้ไม่ตรงกับที่บันทึกไว้ กรุณาแจ้งผู้ดูแลระบบ",
                          "The stored sealed PDF does not match its recorded hash.",
                          code="sealed_file_damaged")
    return data


def final_pdf(principal: Principal, memo_id: int) -> bytes | None:
    """The sealed PDF for a reader of the memo (404/403 otherwise); None until it is made."""
    loaded = load_memo(db.session, memo_id)
    require_view(db.session, principal, loaded.memo, loaded.steps)
    document = sealed_for(memo_id)
    return read(document) if document else None


def pdf_for(principal: Principal, memo_id: int) -> bytes:
    """What a reader downloads: the sealed final PDF once it exists (the same bytes every
    time), else a fresh render, which an approved memo marks as not the final copy."""
    final = final_pdf(principal, memo_id)
    return final if final is not None else documents.render_pdf(principal, memo_id)


def seal_memo(memo_id: int) -> str:
    """Render the approved memo once, sign it with its office's seal and store it, with an
    audit event carrying the file's SHA-256. Does nothing for a memo that is not approved
    (rejected and withdrawn memos are never sealed) or is sealed already."""
    memo = db.session.get(Memo, memo_id)
    if memo is None:
        return "missing"
    if memo.state != routing.APPROVED:
        return "not approved"
    if sealed_for(memo_id) is not None:
        return "already sealed"
    with db.write() as session:
        org = session.get(Organization, memo.org_id)
        assert org is not None
        seal = keys.ensure(session, org)
    pdf = documents.render_final_pdf(memo_id, documents.SealBlock(
        office=org.name, sealed_at=clock.now(), fingerprint=keys.short_fingerprint(
            seal.fingerprint)))
    number = memo.number or ""
    from . import signing  # pyHanko's signer, imported by the one process that signs

    signed, level = signing.sign(pdf, seal, reason=f"ฉบับสมบูรณ์ บันทึกข้อความ ที่ {number}".strip(),
                         location=org.name)
    digest = hashlib.sha256(signed).hexdigest()
    name = f"{secrets.token_hex(16)}.pdf"
    path = storage.write_whole(folder(), name, signed)
    try:
        with db.write() as session:
            locked = session.get(Memo, memo_id, with_for_update=True)
            if (locked is None or locked.state != routing.APPROVED
                    or session.exec(select(SealedDocument.id)
                                    .where(SealedDocument.memo_id == memo_id)).first()):
                raise _AlreadySealed
            session.add(SealedDocument(
                org_id=locked.org_id, memo_id=memo_id, seal_id=seal.id or 0,
                revision=locked.revision, stored_name=name, sha256=digest, size=len(signed),
                level=level, sealed_at=clock.now()))
            session.flush()
            record(session, Entry(
                AuditAction.MEMO_SEALED, org_id=locked.org_id, memo_id=memo_id,
                actor_name="ระบบ (ตราประทับอิเล็กทรอนิกส์)", state_before=locked.state,
                state_after=locked.state,
                details={"sha256": digest, "size": len(signed), "level": level,
                         "seal": seal.fingerprint, "revision": locked.revision}))
    except (_AlreadySealed, IntegrityError):
        path.unlink(missing_ok=True)  # another run sealed it first; theirs stands
        return "already sealed"
    _LOGGER.info("memo %s sealed (%s, %s)", memo_id, level, digest[:16])
    return digest


def unsealed_approvals() -> list[int]:
    """Approved memos still without a sealed PDF (oldest first, a batch): for the sweep."""
    sealed = select(SealedDocument.memo_id)
    return list(db.session.exec(
        select(Memo.id).where(Memo.state == routing.APPROVED, col(Memo.id).not_in(sealed))
        .order_by(col(Memo.updated_at)).limit(_SWEEP_BATCH)))  # type: ignore[arg-type]
