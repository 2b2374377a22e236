"""The sealed final PDF: rendered once when a memo is approved, signed PAdES with the office
seal, stored, and served byte for byte ever after.

A Celery task (``workflow.tasks.seal_memo``) runs ``seal_memo`` after the final approval
commits; the beat's ``seal_pending`` sweep picks up any approval whose task was lost or
failed (Redis down, the TSA unreachable). With ``SEAL_TSA_URL`` the signature carries an
RFC 3161 timestamp (PAdES B-T); without one it is B-B. A configured TSA that does not
answer fails the attempt rather than sealing without a timestamp: the file is stored once,
so it waits for the sweep instead of being stored weaker.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import io
import logging
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pikepdf
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from flask import current_app
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers, timestamps
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
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
from ..models import AuditAction, Memo, OfficeSeal, Organization, SealedDocument
from ..trail.chain import Entry, record
from . import keys

_LOGGER = logging.getLogger(__name__)

T = TypeVar("T")

SEAL_TASK = "workflow.tasks.seal_memo"
FIELD_NAME = "OfficeSeal"
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


def off_loop(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call one of pyHanko's synchronous functions, which run their own event loop with
    ``asyncio.run``: directly, or in a helper thread when this thread already runs a loop
    (an async server, or a test driving a browser), where ``asyncio.run`` refuses."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args, **kwargs)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(function, *args, **kwargs).result()


def pdf_for(principal: Principal, memo_id: int) -> bytes:
    """What a reader downloads: the sealed final PDF once it exists (the same bytes every
    time), else a fresh render, which an approved memo marks as not the final copy."""
    final = final_pdf(principal, memo_id)
    return final if final is not None else documents.render_pdf(principal, memo_id)


def sign(pdf: bytes, seal: OfficeSeal, *, reason: str, location: str) -> tuple[bytes, str]:
    """Sign ``pdf`` as a certifying PAdES signature of ``seal`` (no later change permitted);
    returns the signed bytes and the baseline level reached."""
    key = keys.decrypt_key(seal)
    key_info = asn1_keys.PrivateKeyInfo.load(key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    der = serialization.Encoding.DER
    cert = asn1_x509.Certificate.load(keys.load_pem_list(seal.certificate)[0].public_bytes(der))
    chain = [asn1_x509.Certificate.load(c.public_bytes(der))
             for c in keys.load_pem_list(seal.chain)]
    signer = signers.SimpleSigner(signing_cert=cert, signing_key=key_info,
                                  cert_registry=SimpleCertificateStore.from_certs(chain))
    config = current_app.config
    tsa_url = config.get("SEAL_TSA_URL") or ""
    timestamper = (timestamps.HTTPTimeStamper(tsa_url, timeout=int(config["SEAL_TSA_TIMEOUT"]))
                   if tsa_url else None)
    base = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason, location=location, name=location, certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES)
    if timestamper is not None and _revocable(cert):
        # B-LT: the certificates and the CRLs/OCSP answers that prove the chain good today go
        # into the file's DSS, so it verifies without the CA's servers years from now. Any
        # failure to fetch them seals B-T instead: a timestamp still proves the signing time.
        roots = [c for c in chain if c.self_signed != "no"] or chain[-1:] or [cert]
        context = ValidationContext(trust_roots=roots, allow_fetching=True,
                                    revocation_mode="hard-fail")
        try:
            return _sign(pdf, dataclasses.replace(base, embed_validation_info=True,
                                                  validation_context=context),
                         signer, timestamper), "B-LT"
        except Exception:  # noqa: BLE001 - revocation data unreachable: fall back to B-T
            _LOGGER.warning("revocation data could not be embedded; sealing B-T",
                            exc_info=True)
    out = _sign(pdf, base, signer, timestamper)
    return out, ("B-T" if timestamper else "B-B")


# The seal block on the completion certificate (templates/print/memo.html, static/print.css):
# 16 cm wide (the A4 text width) and at least 2.6 cm tall, in points.
_BLOCK_WIDTH, _BLOCK_HEIGHT = 16 / 2.54 * 72, 2.6 / 2.54 * 72


def _block(pdf: bytes) -> tuple[int, tuple[int, int, int, int]] | None:
    """Where the rendered seal block is: its page and rectangle, from the named destination
    WeasyPrint writes for its ``id`` (None if the document has none)."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        names = document.Root.get("/Names")
        dests = names.get("/Dests") if names is not None else None
        pairs = dests.get("/Names") if dests is not None else None
        if pairs is None:
            return None
        for i in range(0, len(pairs) - 1, 2):
            if str(pairs[i]) == "seal-block":
                target = pairs[i + 1]
                page = next((n for n, p in enumerate(document.pages)
                             if p.obj.objgen == target[0].objgen), None)
                if page is None:
                    return None
                x, top = float(target[2]), float(target[3])
                return page, (round(x), round(top - _BLOCK_HEIGHT), round(x + _BLOCK_WIDTH),
                              round(top))
    return None


def _sign(pdf: bytes, metadata: signers.PdfSignatureMetadata, signer: signers.Signer,
          timestamper: timestamps.TimeStamper | None) -> bytes:
    """Sign, with the signature's field laid over the seal block, so a PDF reader's click on
    the block opens the signature. The field draws nothing itself: the block is the page's."""
    block = _block(pdf)
    spec = fields.SigFieldSpec(FIELD_NAME, on_page=block[0], box=block[1]) if block else None
    pdf_signer = signers.PdfSigner(metadata, signer, timestamper=timestamper,
                                   stamp_style=TextStampStyle(stamp_text="", border_width=0),
                                   new_field_spec=spec)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    return off_loop(pdf_signer.sign_pdf, writer).getvalue()


def _revocable(cert: asn1_x509.Certificate) -> bool:
    """Whether the seal's certificate names where its revocation status is published (a CA's
    does; the office's own generated one has nothing to publish)."""
    return bool(cert.crl_distribution_points or cert.ocsp_urls)


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
    signed, level = sign(pdf, seal, reason=f"ฉบับสมบูรณ์ บันทึกข้อความ ที่ {number}".strip(),
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
